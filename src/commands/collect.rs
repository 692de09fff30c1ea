//! `conform collect`: pull evidence from the configured sources (`[sources.*]` in
//! conform.toml, documented in `docs/connectors.md`) into a new snapshot.

use std::io::Write;
use std::path::PathBuf;

use conform_connectors::{collect_blocking, CollectOptions, CollectReport};

use crate::config::Config;
use crate::error::{chain, CliError};
use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Collect only these sources (default: all configured sources)
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Where to write the new snapshot (default: the configured evidence directory)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bars
    #[arg(long)]
    pub quiet: bool,
    /// The organisation's name in the snapshot manifest (default: an `Organization`
    /// entity's name, else the previous snapshot's)
    #[arg(long, value_name = "NAME")]
    pub organization: Option<String>,
}

/// Validates the sources configuration, collects every selected source (a failing source
/// does not stop the others; its status and error are in the manifest) and prints where the
/// snapshot went and how each source fared. Exit 0 once the snapshot is written; exit 2 for
/// a configuration error (nothing is collected then).
pub fn run(args: &CollectArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let report = collect(args, config)?;
    print_summary(&report, out)?;
    Ok(Exit::Success)
}

/// The directory of snapshots to collect into: `--out`, else the configured evidence.
pub fn out_dir(args: &CollectArgs, config: &Config) -> Result<PathBuf, CliError> {
    args.out
        .clone()
        .or_else(|| config.evidence.clone())
        .ok_or_else(|| {
            CliError::Input(
                "no evidence directory: pass `--out DIR` or set `assessment.evidence` in conform.toml"
                    .into(),
            )
        })
}

/// Collects the selected sources into a new snapshot (see [`run`]).
pub fn collect(args: &CollectArgs, config: &Config) -> Result<CollectReport, CliError> {
    let dir = out_dir(args, config)?;
    let plan = conform_connectors::plan(&config.sources, &config.base_dir, &args.sources)
        .map_err(|e| CliError::Input(e.to_string()))?;
    let opts = CollectOptions {
        out: dir,
        progress: !args.quiet,
        organization: args.organization.clone(),
    };
    collect_blocking(plan, &opts).map_err(|e| CliError::Input(chain(&e)))
}

/// Where the snapshot went and how each source fared.
pub fn print_summary(report: &CollectReport, out: &mut dyn Write) -> Result<(), CliError> {
    writeln!(out, "snapshot {}", report.dir.display()).map_err(CliError::output)?;
    writeln!(out, "id       {}", report.manifest.snapshot_id).map_err(CliError::output)?;
    let width = report
        .sources
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "\n{:width$}  {:10}  {:7}  {:>8}  {:>8}",
        "source", "kind", "status", "records", "entities"
    )
    .map_err(CliError::output)?;
    for s in &report.sources {
        let status = format!("{:?}", s.status).to_lowercase();
        writeln!(
            out,
            "{:width$}  {:10}  {:7}  {:>8}  {:>8}",
            s.name, s.kind, status, s.records, s.entities
        )
        .map_err(CliError::output)?;
        if let Some(e) = &s.error {
            writeln!(out, "{:width$}  {e}", "").map_err(CliError::output)?;
        }
    }
    Ok(())
}
