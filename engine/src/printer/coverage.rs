//! The requirement coverage report (`conform policy coverage`) as text and CSV.

use std::io::Write;

use crate::pack::params::format_percent;
use crate::requirement_coverage::CoverageReport;

/// Text: per standard and clause the share of requirements some rule tests, then the
/// automatable requirements no rule tests yet.
pub fn coverage_text(r: &CoverageReport, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Requirement coverage of pack {} {}", r.pack, r.version)?;
    for s in &r.standards {
        writeln!(out)?;
        writeln!(
            out,
            "{}: {} of {} requirements tested by rules ({}); {} automated, {} partial, {} manual",
            s.title,
            s.covered,
            s.requirements,
            format_percent(s.covered_bp),
            s.automated,
            s.partial,
            s.manual
        )?;
        for c in &s.clauses {
            writeln!(
                out,
                "  {:<5} {:<52} {:>3}/{:<3} {:>7}",
                c.clause,
                c.title.chars().take(52).collect::<String>(),
                c.covered,
                c.requirements,
                format_percent(c.covered_bp)
            )?;
        }
        if !s.uncovered_automatable.is_empty() {
            writeln!(out, "  automatable but not tested by any rule:")?;
            for id in &s.uncovered_automatable {
                let title = r
                    .requirements
                    .iter()
                    .find(|x| &x.id == id)
                    .map_or("", |x| x.title.as_str());
                writeln!(out, "    {id}  {title}")?;
            }
        }
    }
    Ok(())
}

/// CSV: one row per requirement.
pub fn coverage_csv(r: &CoverageReport, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "requirement",
        "title",
        "assessability",
        "heading",
        "rules",
        "crosswalk",
    ])?;
    for q in &r.requirements {
        let assess = serde_json::to_value(q.assessability)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        w.write_record([
            q.id.as_str(),
            q.title.as_str(),
            assess.as_str(),
            if q.group { "yes" } else { "no" },
            q.rules.join(" ").as_str(),
            q.crosswalk.join("; ").as_str(),
        ])?;
    }
    w.flush()
}
