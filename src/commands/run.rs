//! `conform run`: collect evidence from the configured sources, then assess the new
//! snapshot — the whole job of a scheduled pipeline in one command. The collection summary
//! goes to stderr, the report to stdout; the exit code is the assessment's.

use std::io::Write;
use std::path::PathBuf;

use crate::cli::{AssessArgs, Evaluator, FailOn, InputArgs, ReportFormat};
use crate::commands::collect::CollectArgs;
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub collect: CollectArgs,
    /// The policy pack directory
    #[arg(long, value_name = "DIR")]
    pub pack: Option<PathBuf>,
    /// The assessment instant, RFC 3339 (default: when the snapshot was collected)
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// The policy evaluator (see `conform assess --help`)
    #[arg(long, value_enum, default_value_t = Evaluator::Compiled)]
    pub evaluator: Evaluator,
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Exit 1 when an open finding (nonconformity or indeterminate) is at or above this severity
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

pub fn run(args: &RunArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let report = super::collect::collect(&args.collect, config)?;
    super::collect::print_summary(&report, &mut std::io::stderr())?;
    let assess = AssessArgs {
        inputs: InputArgs {
            evidence: Some(report.dir.clone()),
            pack: args.pack.clone(),
            at: args.at.clone(),
            evaluator: args.evaluator,
        },
        format: args.format,
        fail_on: args.fail_on,
    };
    super::assess::run(&assess, config, out)
}
