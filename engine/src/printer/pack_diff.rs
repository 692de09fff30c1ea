//! `conform policy diff` as text.

use std::io::Write;

use crate::pack_diff::PackDiff;

pub fn diff_text(d: &PackDiff, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} → {}", d.old, d.new)?;
    if d.is_empty() {
        return writeln!(out, "no differences in rules, parameters or facts");
    }
    for id in &d.rules_added {
        writeln!(out, "  + rule {id}")?;
    }
    for id in &d.rules_removed {
        writeln!(out, "  - rule {id}")?;
    }
    for c in &d.rules_changed {
        writeln!(out, "  ~ rule {} ({})", c.id, c.changed.join(", "))?;
        if let Some((a, b)) = &c.severity {
            writeln!(out, "      severity {a} → {b}")?;
        }
        for r in &c.requirements_added {
            writeln!(out, "      + {r}")?;
        }
        for r in &c.requirements_removed {
            writeln!(out, "      - {r}")?;
        }
        for f in &c.flips {
            writeln!(out, "      verdict flips on {f}")?;
        }
    }
    for p in &d.parameters {
        let show = |v: &Option<serde_json::Value>| {
            v.as_ref().map_or("(none)".to_string(), |v| v.to_string())
        };
        writeln!(
            out,
            "  ~ parameter {}: {} → {}",
            p.name,
            show(&p.old),
            show(&p.new)
        )?;
    }
    for f in &d.facts_added {
        writeln!(out, "  + fact {f}")?;
    }
    for f in &d.facts_removed {
        writeln!(out, "  - fact {f}")?;
    }
    for f in &d.facts_changed {
        writeln!(out, "  ~ fact {f}")?;
    }
    if d.version_not_bumped {
        writeln!(out, "warning: what the pack finds changed but its version did not: bump `version` in pack.toml")?;
    }
    Ok(())
}
