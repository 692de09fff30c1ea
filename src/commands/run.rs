//! `conform run`: collect evidence from the configured sources, then assess the new
//! snapshot — the whole job of a scheduled pipeline in one command. The collection summary
//! goes to stderr, the report to stdout; the exit code is the assessment's.

use std::io::Write;

use crate::cli::{InputArgs, PackArgs, ReportArgs};
use crate::commands::collect::CollectArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    #[command(flatten)]
    pub pack: PackArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: &RunArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    // The cheap checks first: a bad `--at`, pack or parameter is reported before any source
    // is collected, and the pack is loaded once.
    let mut checked = super::check_inputs(
        &InputArgs {
            evidence: Some(super::collect::out_dir(&args.collect, config)?),
            pack: args.pack.clone(),
        },
        config,
    )?;
    let report = super::collect::collect(&args.collect, config)?;
    super::collect::print_summary(&report, &mut std::io::stderr())?;
    checked.evidence = report.dir;
    let pack_dir = super::pack_dir(args.pack.pack.as_deref(), config);
    super::assess::report(super::load_evidence(checked)?, &args.report, &pack_dir, out)
}
