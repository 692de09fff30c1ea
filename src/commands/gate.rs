//! `conform gate --service ID [--change ID]`: may this deployment go ahead? Runs the pack's
//! rules on what the deployment touches only, and exits 0 (go), 1 (findings at or above
//! `--fail-on`), 4 (a gated requirement has no evidence) or 2 (input error).

use std::io::Write;
use std::path::Path;

use conform_engine::fs::{open_indexed, OpenedSnapshot};
use conform_engine::gate::{gate, gate_on, Gate, GateError, GateRequest, Role};
use conform_engine::printer::{JunitPrinter, Printer, RuleInfo, SarifPrinter};
use conform_engine::snapshot::Manifest;
use conform_engine::time::parse_rfc3339;
use serde::Serialize;

use crate::cli::{GateArgs, GateFormat};
use crate::commands::assess::{repo_relative, severity};
use crate::config::Config;
use crate::error::{chain, CliError};
use crate::exit::Exit;

pub const FORMAT: &str = "conform-gate/1";

#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    decision: &'static str,
    exit: u8,
    reason: String,
    fail_on: &'static str,
    #[serde(flatten)]
    gate: &'a Gate,
}

fn decide(g: &Gate, fail_on: conform_engine::finding::Severity) -> (Exit, String) {
    let blocking = g
        .assessment
        .findings
        .iter()
        .filter(|f| {
            f.status == conform_engine::finding::FindingStatus::Open && f.severity >= fail_on
        })
        .count();
    if blocking > 0 {
        (
            Exit::Findings,
            format!(
                "{blocking} finding{} at or above {fail_on}",
                if blocking == 1 { "" } else { "s" }
            ),
        )
    } else if !g.missing_evidence.is_empty() {
        (
            Exit::EvidenceMissing,
            format!(
                "evidence missing for {} gated requirement{}",
                g.missing_evidence.len(),
                if g.missing_evidence.len() == 1 {
                    ""
                } else {
                    "s"
                }
            ),
        )
    } else {
        (Exit::Success, format!("no finding at or above {fail_on}"))
    }
}

fn text(
    g: &Gate,
    exit: Exit,
    reason: &str,
    fail_on: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let a = &g.assessment;
    let decision = if exit == Exit::Success { "GO" } else { "NO-GO" };
    let name = |e: &conform_engine::finding::EntityRef| {
        if e.name == e.id {
            e.id.clone()
        } else {
            format!("{} ({})", e.name, e.id)
        }
    };
    writeln!(out, "Deployment gate: {decision} — {reason}")?;
    match &g.service {
        Some(s) => writeln!(out, "  service     {}", name(s))?,
        None => writeln!(out, "  service     not found")?,
    }
    if let Some(c) = &g.change {
        writeln!(out, "  change      {}", name(c))?;
    }
    writeln!(
        out,
        "  assessed at {} · pack {} {} · snapshot {}",
        a.assessed_at, a.pack.name, a.pack.version, a.snapshot.id
    )?;
    let mut by_role: std::collections::BTreeMap<(&Role, &str), usize> = Default::default();
    for t in &g.touched {
        for r in &t.roles {
            *by_role
                .entry((r, t.entity.entity_type.as_str()))
                .or_default() += 1;
        }
    }
    let touched: Vec<String> = by_role
        .iter()
        .map(|((role, ty), n)| format!("{n} {ty} ({})", format!("{role:?}").to_lowercase()))
        .collect();
    writeln!(out, "  touched     {}", touched.join(", "))?;
    let mut sorted: Vec<_> = a.findings.iter().collect();
    sorted.sort_by(|x, y| {
        (y.severity, &x.rule.id, &x.entity.id).cmp(&(x.severity, &y.rule.id, &y.entity.id))
    });
    if !sorted.is_empty() {
        writeln!(out)?;
        writeln!(out, "Findings (--fail-on {fail_on})")?;
        for f in sorted {
            let grade = match f.kind {
                conform_engine::finding::FindingKind::Nonconformity => f.severity.as_str(),
                conform_engine::finding::FindingKind::Indeterminate => "indeterminate",
            };
            writeln!(
                out,
                "  {grade:<13} {} {} · {} · {}",
                f.entity.entity_type, f.entity.id, f.rule.id, f.id
            )?;
            writeln!(out, "                {}", f.message)?;
        }
    }
    if !g.missing_evidence.is_empty() {
        writeln!(out)?;
        writeln!(out, "Evidence missing for gated requirements")?;
        for m in &g.missing_evidence {
            writeln!(out, "  - {m}")?;
        }
    }
    if !g.not_gated.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "Not gated (organisation-wide rules: run `conform assess`)"
        )?;
        for n in &g.not_gated {
            writeln!(out, "  - {}: {}", n.rule, n.reason)?;
        }
    }
    Ok(())
}

fn instant(at: Option<i64>, manifest: &Manifest) -> Result<i64, CliError> {
    match at {
        Some(t) => Ok(t),
        None => parse_rfc3339(&manifest.created_at).ok_or_else(|| {
            CliError::Input(format!(
                "snapshot `created_at` `{}` is not RFC 3339",
                manifest.created_at
            ))
        }),
    }
}

/// Runs the gate through the snapshot index (reading only what the deployment touches), or,
/// for a snapshot written without an index, on the whole snapshot loaded.
fn run_gate(inputs: &super::CheckedInputs, request: &GateRequest) -> Result<Gate, CliError> {
    let opened = open_indexed(&inputs.evidence).map_err(|e| CliError::Input(chain(&e)))?;
    let in_snapshot = |dir: &Path, e: GateError| match e {
        GateError::Index(i) => CliError::Input(format!("in snapshot `{}`: {i}", dir.display())),
        other => CliError::input(other),
    };
    match opened {
        OpenedSnapshot::Indexed(mut ix) => {
            let at = instant(inputs.at, ix.manifest())?;
            let g = gate_on(&inputs.pack, &mut *ix, at, &inputs.params, request)
                .map_err(|e| in_snapshot(ix.dir(), e))?;
            tracing::info!(
                chunks = ix.reads().chunks,
                lines = ix.reads().lines,
                "gated through the index of snapshot {} in {}",
                ix.manifest().snapshot_id,
                ix.dir().display()
            );
            Ok(g)
        }
        OpenedSnapshot::Unindexed(dir) => {
            tracing::warn!(
                "snapshot `{}` has no index (written before `conform-snapshot/2`): loading it whole; collect a new snapshot for a gate whose cost does not grow with the organisation",
                dir.display()
            );
            let snapshot =
                conform_engine::fs::load_snapshot(&dir).map_err(|e| CliError::Input(chain(&e)))?;
            let at = instant(inputs.at, &snapshot.manifest)?;
            gate(&inputs.pack, &snapshot, at, &inputs.params, request)
                .map_err(|e| in_snapshot(&dir, e))
        }
    }
}

pub fn run(args: &GateArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let inputs = super::check_inputs(&args.inputs, config)?;
    let request = GateRequest {
        service: args.service.clone(),
        change: args.change.clone(),
        evaluator: inputs.evaluator,
    };
    let g = run_gate(&inputs, &request)?;
    let fail_on = severity(args.fail_on);
    let (exit, reason) = decide(&g, fail_on);
    let write = |out: &mut dyn Write| -> std::io::Result<()> {
        match args.format {
            GateFormat::Text => text(&g, exit, &reason, fail_on.as_str(), out),
            GateFormat::Json => {
                let report = Report {
                    format: FORMAT,
                    decision: if exit == Exit::Success { "go" } else { "no-go" },
                    exit: exit as u8,
                    reason: reason.clone(),
                    fail_on: fail_on.as_str(),
                    gate: &g,
                };
                serde_json::to_writer_pretty(&mut *out, &report)?;
                writeln!(out)
            }
            GateFormat::Sarif => {
                let pack_dir = crate::commands::pack_dir(args.inputs.pack.pack.as_deref(), config);
                SarifPrinter::new(&repo_relative(&pack_dir), RuleInfo::of_pack(&inputs.pack))
                    .print(&g.assessment, out)
            }
            GateFormat::Junit => JunitPrinter.print(&g.assessment, out),
        }
    };
    write(out).map_err(CliError::output)?;
    if exit != Exit::Success && args.format != GateFormat::Text {
        eprintln!("gate: NO-GO — {reason}");
    }
    Ok(exit)
}
