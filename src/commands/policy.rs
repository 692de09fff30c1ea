//! `conform policy …`: the pack author's workflow.

use std::io::Write;

use conform_engine::printer::coverage::{coverage_csv, coverage_text};

use crate::cli::{Format, PolicyCommand, TableFormat};
use crate::config::Config;
use conform_engine::pack::format::format_rules;
use conform_engine::policy_test;

use crate::error::{chain, CliError};
use crate::exit::Exit;

pub fn run(cmd: &PolicyCommand, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    match cmd {
        PolicyCommand::Validate { pack } => {
            let dir = super::pack_dir(pack.as_deref(), config);
            let p = super::load_pack(&dir)?;
            writeln!(
                out,
                "pack {} {} is valid: {} rules, {} facts, {} parameters, catalogs {} ({})",
                p.name,
                p.version,
                p.rules.len(),
                p.facts.len(),
                p.parameters.len(),
                p.catalogs
                    .catalogs
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.digest
            )
            .map_err(CliError::output)?;
        }
        PolicyCommand::Fmt { pack, check } => {
            return fmt(&super::pack_dir(pack.as_deref(), config), *check, out)
        }
        PolicyCommand::Test { pack, filter } => {
            let dir = super::pack_dir(pack.as_deref(), config);
            let p = super::load_pack(&dir)?;
            let files =
                conform_engine::fs::load_pack(&dir).map_err(|e| CliError::Input(chain(&e)))?;
            let outcomes = policy_test::run(&p, &files.tests, filter.as_deref());
            let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(CliError::output);
            let mut failed = 0;
            for o in &outcomes {
                match &o.failure {
                    None => w(out, format!("ok      {} ({}:{})", o.name, o.file, o.line))?,
                    Some(why) => {
                        failed += 1;
                        w(out, format!("FAILED  {} ({}:{})", o.name, o.file, o.line))?;
                        for line in why.lines() {
                            w(out, format!("        {line}"))?;
                        }
                    }
                }
            }
            w(
                out,
                format!("{} passed, {failed} failed", outcomes.len() - failed),
            )?;
            return Ok(if failed > 0 {
                Exit::Findings
            } else {
                Exit::Success
            });
        }
        PolicyCommand::Coverage { pack, format } => {
            let p = super::load_pack(&super::pack_dir(pack.as_deref(), config))?;
            let report = conform_engine::requirement_coverage::coverage(&p);
            let written = match format {
                TableFormat::Text => coverage_text(&report, out),
                TableFormat::Csv => coverage_csv(&report, out),
                TableFormat::Json => serde_json::to_writer_pretty(&mut *out, &report)
                    .map_err(std::io::Error::other)
                    .and_then(|_| writeln!(out)),
            };
            written.map_err(CliError::output)?;
        }
        PolicyCommand::Diff {
            old,
            new,
            evidence,
            format,
        } => return diff(old, new, evidence.as_deref(), *format, config, out),
        PolicyCommand::Schema { pack } => {
            let dir = super::pack_dir(pack.as_deref(), config);
            let p = super::load_pack(&dir)?;
            out.write_all(p.schema_text.as_bytes())
                .map_err(CliError::output)?;
        }
    }
    Ok(Exit::Success)
}

/// Formats every rule file in place, or with `check` lists those that are not formatted.
fn fmt(dir: &std::path::Path, check: bool, out: &mut dyn Write) -> Result<Exit, CliError> {
    let files = conform_engine::fs::load_pack(dir).map_err(|e| CliError::Input(chain(&e)))?;
    let mut unformatted = Vec::new();
    for (rel, text) in &files.rules {
        let formatted = format_rules(text)
            .map_err(|e| CliError::InvalidPack(format!("cannot format `{rel}`: {e}")))?;
        if formatted != *text {
            if check {
                unformatted.push(rel.clone());
            } else {
                let path = dir.join(rel);
                std::fs::write(&path, formatted).map_err(|e| {
                    CliError::Input(format!("cannot write `{}`: {e}", path.display()))
                })?;
                writeln!(out, "formatted {rel}").map_err(CliError::output)?;
            }
        }
    }
    for f in &unformatted {
        writeln!(out, "not formatted: {f}").map_err(CliError::output)?;
    }
    Ok(if unformatted.is_empty() {
        Exit::Success
    } else {
        Exit::Findings
    })
}

/// Compares two packs; with evidence, shows entities whose verdict of a changed rule flips.
fn diff(
    old: &std::path::Path,
    new: &std::path::Path,
    evidence: Option<&std::path::Path>,
    format: Format,
    config: &Config,
    out: &mut dyn Write,
) -> Result<Exit, CliError> {
    use conform_engine::pack_diff::{diff, verdict_flips};
    let (old_pack, new_pack) = (super::load_pack(old)?, super::load_pack(new)?);
    let evidence = evidence
        .map(std::path::Path::to_path_buf)
        .or_else(|| config.evidence.clone());
    let assessments = match evidence {
        Some(dir) => {
            let snapshot =
                conform_engine::fs::load_snapshot(&dir).map_err(|e| CliError::Input(chain(&e)))?;
            let at =
                conform_engine::time::parse_rfc3339(&snapshot.manifest.created_at).unwrap_or(0);
            let run = |p: &conform_engine::pack::PolicyPack| {
                let values =
                    conform_engine::pack::params::resolve(&p.parameters, &config.parameters)
                        .map_err(|e| CliError::Input(e.join("; ")))?;
                conform_engine::assessment::assess(p, &snapshot, at, &values)
                    .map_err(CliError::input)
            };
            Some((run(&old_pack)?, run(&new_pack)?))
        }
        None => None,
    };
    let d = diff(&old_pack, &new_pack, |rule| match &assessments {
        Some((a, b)) => verdict_flips(a, b, rule, 3),
        None => Vec::new(),
    });
    match format {
        Format::Text => conform_engine::printer::pack_diff::diff_text(&d, out),
        Format::Json => serde_json::to_writer_pretty(&mut *out, &d)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
    }
    .map_err(CliError::output)?;
    Ok(Exit::Success)
}
