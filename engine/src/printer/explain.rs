//! `conform explain` as text.

use std::io::Write;

use crate::explain::{ConjunctOutcome, Explanation};

/// The raw record behind a finding, as found in the snapshot.
pub struct RawRecord {
    pub file: String,
    pub line: usize,
    pub text: String,
}

pub fn explanation_text(
    e: &Explanation,
    record: Option<&RawRecord>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let f = &e.finding;
    writeln!(
        out,
        "{}  {} {}",
        f.id,
        f.severity,
        serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    )?;
    writeln!(out, "  {}", f.message)?;
    writeln!(out)?;
    writeln!(out, "Rule      {} — {}", f.rule.id, f.rule.title)?;
    writeln!(
        out,
        "          {}:{} in pack {} {} ({})",
        f.rule.file, f.rule.line, f.rule.pack, f.rule.version, f.rule.digest
    )?;
    writeln!(
        out,
        "Entity    {} {} ({})",
        f.entity.entity_type, f.entity.id, f.entity.name
    )?;
    writeln!(
        out,
        "Evidence  source {} record {} collected {}",
        f.evidence.source, f.evidence.record_id, f.evidence.collected_at
    )?;
    writeln!(
        out,
        "          sha256 {} in snapshot {}",
        f.evidence.record_sha256, f.evidence.snapshot
    )?;
    writeln!(out, "Assessed  {}", f.assessed_at)?;
    writeln!(out)?;
    writeln!(out, "Requirements")?;
    for (id, title) in &e.requirements {
        writeln!(out, "  {id}  {title}")?;
    }
    writeln!(out)?;
    writeln!(out, "Rule text")?;
    for line in e.rule_text.lines() {
        writeln!(out, "  {line}")?;
    }
    writeln!(out)?;
    writeln!(out, "Condition, part by part")?;
    match &e.conjuncts {
        Ok(parts) => {
            for c in parts {
                let mark = match &c.outcome {
                    ConjunctOutcome::True => "held        ".to_string(),
                    ConjunctOutcome::False => "did not hold".to_string(),
                    ConjunctOutcome::Error(_) => "error       ".to_string(),
                };
                writeln!(out, "  {mark}  {}", c.text)?;
                if let ConjunctOutcome::Error(err) = &c.outcome {
                    writeln!(out, "                {err}")?;
                }
            }
        }
        Err(why) => writeln!(out, "  (not available: {why})")?,
    }
    writeln!(out)?;
    writeln!(out, "Values read")?;
    for (k, v) in f.values.iter() {
        writeln!(out, "  {k} = {v}")?;
    }
    if let Some(err) = &f.error {
        writeln!(out)?;
        writeln!(out, "Error")?;
        writeln!(out, "  {err}")?;
    }
    writeln!(out)?;
    writeln!(out, "Source record")?;
    match record {
        Some(r) => {
            writeln!(out, "  {}:{} (SHA-256 verified)", r.file, r.line)?;
            let pretty = serde_json::from_str::<serde_json::Value>(&r.text)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| r.text.clone());
            for line in pretty.lines() {
                writeln!(out, "  {line}")?;
            }
        }
        None => writeln!(out, "  no record with this SHA-256 in the snapshot")?,
    }
    writeln!(out)?;
    writeln!(out, "Why it matters")?;
    writeln!(out, "  {}", e.rationale)?;
    writeln!(out, "Remediation")?;
    writeln!(out, "  {}", f.remediation)
}
