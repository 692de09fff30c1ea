//! `conform assess`: one pack over one snapshot at one instant.

use std::io::{IsTerminal, Write};

use conform_engine::assessment::assess;
use conform_engine::finding::Severity;
use conform_engine::pack::params;
use conform_engine::printer::{JsonPrinter, Printer, TextPrinter};
use conform_engine::time::parse_rfc3339;

use crate::cli::{AssessArgs, FailOn, Format};
use crate::config::Config;
use crate::error::{chain, CliError};
use crate::exit::Exit;

pub fn run(args: &AssessArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let requested_at = match &args.at {
        Some(s) => Some(parse_rfc3339(s).ok_or_else(|| {
            CliError::Input(format!(
                "`--at {s}` is not an RFC 3339 timestamp (e.g. 2026-11-20T06:00:00Z)"
            ))
        })?),
        None => None,
    };
    let pack = super::load_pack(&super::pack_dir(args.pack.as_deref(), config))?;
    let values = params::resolve(&pack.parameters, &config.parameters).map_err(|errs| {
        CliError::Input(format!(
            "invalid `[parameters]` in the configuration: {}",
            errs.join("; ")
        ))
    })?;
    let evidence = args.evidence.clone().or_else(|| config.evidence.clone()).ok_or_else(|| {
        CliError::Input(
            "no evidence to assess: pass `--evidence DIR` or set `assessment.evidence` in conform.toml"
                .into(),
        )
    })?;
    let snapshot =
        conform_engine::fs::load_snapshot(&evidence).map_err(|e| CliError::Input(chain(&e)))?;
    tracing::info!(
        entities = snapshot.entities.len(),
        unreadable = snapshot.unreadable.len(),
        "loaded snapshot {}",
        snapshot.manifest.snapshot_id
    );
    let at = match requested_at {
        Some(t) => t,
        None => parse_rfc3339(&snapshot.manifest.created_at).ok_or_else(|| {
            CliError::Input(format!(
                "snapshot `created_at` `{}` is not RFC 3339",
                snapshot.manifest.created_at
            ))
        })?,
    };
    let assessment = assess(&pack, &snapshot, at, &values).map_err(CliError::input)?;
    let printer: Box<dyn Printer> = match args.format {
        Format::Text => Box::new(TextPrinter {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }),
        Format::Json => Box::new(JsonPrinter),
    };
    printer
        .print(&assessment, out)
        .map_err(|e| CliError::Input(format!("cannot write output: {e}")))?;
    let threshold = args.fail_on.map(|f| match f {
        FailOn::Observation => Severity::Observation,
        FailOn::Minor => Severity::Minor,
        FailOn::Major => Severity::Major,
    });
    Ok(match (threshold, assessment.worst_severity()) {
        (Some(t), Some(w)) if w >= t => Exit::Findings,
        _ => Exit::Success,
    })
}
