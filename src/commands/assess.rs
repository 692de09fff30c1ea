//! `conform assess`: one pack over one snapshot at one instant.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use conform_engine::assessment::{Assessment, RuleResult, Status};
use conform_engine::finding::Severity;
use conform_engine::pack::PolicyPack;
use conform_engine::printer::{
    CsvPrinter, HtmlPrinter, JsonPrinter, JunitPrinter, OscalPrinter, Printer, RuleInfo,
    SarifPrinter, TextPrinter,
};

use crate::cli::{AssessArgs, FailOn, ReportArgs, ReportFormat};
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(args: &AssessArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let inputs = super::load_inputs(&args.inputs, config)?;
    let pack_dir = super::pack_dir(args.inputs.pack.pack.as_deref(), config);
    report(inputs, &args.report, &pack_dir, out)
}

/// Assesses loaded inputs and prints the report: the part of `assess` that `run` shares.
pub fn report(
    inputs: super::Inputs,
    args: &ReportArgs,
    pack_dir: &Path,
    out: &mut dyn Write,
) -> Result<Exit, CliError> {
    let assessment = inputs.assess()?;
    let printer = printer(args.format, &inputs.pack, pack_dir);
    print(printer.as_ref(), &assessment, out)?;
    let threshold = args.fail_on.map(severity);
    let exit = exit_for(&assessment, threshold);
    if let (Exit::EvidenceMissing, Some(t)) = (exit, threshold) {
        eprintln!(
            "assess: evidence missing — {}",
            missing_evidence_reason(&assessment, t)
        );
    }
    // The process ends right after this command: freeing a large snapshot and assessment
    // (a dozen allocations per entity, ~1 s for a million entities) would only delay the exit,
    // and the OS reclaims the memory at once. `forget` is safe: no destructor has an effect
    // outside the process (the output was written through `out`, which is not forgotten).
    std::mem::forget(assessment);
    std::mem::forget(inputs);
    Ok(exit)
}

/// The severity a `--fail-on` value names.
pub fn severity(f: FailOn) -> Severity {
    match f {
        FailOn::Observation => Severity::Observation,
        FailOn::Minor => Severity::Minor,
        FailOn::Major => Severity::Major,
    }
}

/// With a `threshold` (`--fail-on`): exit 1 when an open finding is at or above it; else exit
/// 4 when a rule at or above it came to no conclusion (not assessed: its evidence is missing or
/// incomplete; or indeterminate: a fact it reads is), because neither is a pass; else 0.
/// Without one: 0.
pub fn exit_for(assessment: &Assessment, threshold: Option<Severity>) -> Exit {
    let Some(t) = threshold else {
        return Exit::Success;
    };
    if assessment.worst_severity().is_some_and(|w| w >= t) {
        Exit::Findings
    } else if unassessed(assessment, t).next().is_some() {
        Exit::EvidenceMissing
    } else {
        Exit::Success
    }
}

/// The rules at or above `threshold` that came to no conclusion. (An indeterminate rule with
/// findings has already made the exit 1; one without is indeterminate through a fact, on no
/// entity of its type.)
fn unassessed(assessment: &Assessment, threshold: Severity) -> impl Iterator<Item = &RuleResult> {
    assessment.rules.iter().filter(move |r| {
        r.severity >= threshold && matches!(r.status, Status::NotAssessed | Status::Indeterminate)
    })
}

/// Why [`exit_for`] gave exit 4: how many rules, and the first few with their reasons.
pub fn missing_evidence_reason(assessment: &Assessment, t: Severity) -> String {
    let rules: Vec<&RuleResult> = unassessed(assessment, t).collect();
    let shown: Vec<String> = rules
        .iter()
        .take(3)
        .map(|r| {
            format!(
                "`{}` ({})",
                r.id,
                r.reason.as_deref().unwrap_or("no evidence")
            )
        })
        .collect();
    format!(
        "{} rule{} at or above {t} could not be assessed: {}{}",
        rules.len(),
        if rules.len() == 1 { "" } else { "s" },
        shown.join("; "),
        if rules.len() > shown.len() {
            format!(
                "; and {} more (the report lists them)",
                rules.len() - shown.len()
            )
        } else {
            String::new()
        }
    )
}

/// The printer of `format`. `pack_dir` locates rule files for SARIF.
pub fn printer(format: ReportFormat, pack: &PolicyPack, pack_dir: &Path) -> Box<dyn Printer> {
    match format {
        ReportFormat::Text => Box::new(TextPrinter {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }),
        ReportFormat::Json => Box::new(JsonPrinter),
        ReportFormat::Sarif => Box::new(SarifPrinter::new(
            &repo_relative(pack_dir),
            RuleInfo::of_pack(pack),
        )),
        ReportFormat::Junit => Box::new(JunitPrinter),
        ReportFormat::Csv => Box::new(CsvPrinter),
        ReportFormat::Oscal => Box::new(OscalPrinter),
        ReportFormat::Html => Box::new(HtmlPrinter),
    }
}

pub fn print(
    printer: &dyn Printer,
    assessment: &Assessment,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    printer.print(assessment, out).map_err(CliError::output)
}

/// `path` as SARIF consumers resolve it: relative to the working directory (the repository
/// root in CI) when it is inside it, with `/` separators.
pub fn repo_relative(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let rel = if path.is_absolute() {
        path.strip_prefix(&cwd).unwrap_or(path)
    } else {
        path
    };
    let s = rel.to_string_lossy().replace('\\', "/");
    let s = s.trim_start_matches("./").trim_end_matches('/');
    if s.is_empty() {
        ".".to_string()
    } else {
        s.to_string()
    }
}
