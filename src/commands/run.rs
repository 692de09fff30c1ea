//! `conform run`: collect evidence from the configured sources, then assess the new
//! snapshot — the whole job of a scheduled pipeline in one command. The collection summary
//! goes to stderr, the report to stdout; the exit code is the assessment's.

use std::io::Write;

use crate::cli::{AssessArgs, InputArgs, PackArgs, ReportArgs};
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
    // is collected (without a directory to collect into, collecting reports that itself).
    if let Some(dir) = args.collect.out.clone().or_else(|| config.evidence.clone()) {
        super::check_inputs(
            &InputArgs {
                evidence: Some(dir),
                pack: args.pack.clone(),
            },
            config,
        )?;
    }
    let report = super::collect::collect(&args.collect, config)?;
    super::collect::print_summary(&report, &mut std::io::stderr())?;
    let assess = AssessArgs {
        inputs: InputArgs {
            evidence: Some(report.dir.clone()),
            pack: args.pack.clone(),
        },
        report: args.report,
    };
    super::assess::run(&assess, config, out)
}
