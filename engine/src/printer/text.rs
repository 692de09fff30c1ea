//! The human report: findings grouped by requirement within each standard, what could not be
//! assessed and why, what could not be read, and a per-standard summary.

use std::collections::BTreeMap;
use std::io::Write;

use super::Printer;
use crate::assessment::{Assessment, Status};
use crate::finding::{Finding, FindingKind};

/// Plain text, with ANSI colours only when asked for (a terminal without `NO_COLOR`).
pub struct TextPrinter {
    pub color: bool,
}

impl TextPrinter {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn status(&self, s: Status) -> String {
        let code = match s {
            Status::Nonconforming => "31",
            Status::Indeterminate => "35",
            Status::NotAssessed => "33",
            Status::Conforming => "32",
            Status::Manual => "2",
        };
        self.paint(code, s.as_str())
    }

    fn finding(&self, f: &Finding, out: &mut dyn Write) -> std::io::Result<()> {
        let grade = match f.kind {
            FindingKind::Indeterminate => self.paint("35", "indeterminate"),
            FindingKind::Nonconformity => {
                let code = match f.severity {
                    crate::finding::Severity::Major => "1;31",
                    crate::finding::Severity::Minor => "33",
                    crate::finding::Severity::Observation => "36",
                };
                self.paint(code, f.severity.as_str())
            }
        };
        let pad = " ".repeat(13usize.saturating_sub(match f.kind {
            FindingKind::Indeterminate => 13,
            FindingKind::Nonconformity => f.severity.as_str().len(),
        }));
        let name = if f.entity.name == f.entity.id {
            String::new()
        } else {
            format!(" ({})", f.entity.name)
        };
        writeln!(
            out,
            "    {grade}{pad} {} {}{name}",
            f.entity.entity_type, f.entity.id
        )?;
        writeln!(out, "                  {}", f.message)?;
        let hash = f
            .evidence
            .record_sha256
            .get(..12)
            .unwrap_or(&f.evidence.record_sha256);
        writeln!(
            out,
            "                  {} · {} record {} (sha256 {hash}…) · {}",
            f.rule.id, f.evidence.source, f.evidence.record_id, f.id
        )
    }
}

impl Printer for TextPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        let digest = a.pack.digest.get(..19).unwrap_or(&a.pack.digest);
        let snap = a.snapshot.id.get(..19).unwrap_or(&a.snapshot.id);
        writeln!(
            out,
            "{}",
            self.paint("1", &format!("Conformity assessment: {}", a.organization))
        )?;
        writeln!(out, "  assessed at {}", a.assessed_at)?;
        writeln!(
            out,
            "  pack        {} {} ({digest}…)",
            a.pack.name, a.pack.version
        )?;
        writeln!(
            out,
            "  evidence    snapshot {snap}… collected {}",
            a.snapshot.created_at
        )?;

        let mut by_req: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in &a.findings {
            for r in f.requirements.iter() {
                by_req.entry(r.as_str()).or_default().push(f);
            }
        }
        for s in &a.summary.standards {
            writeln!(out)?;
            writeln!(out, "{}", self.paint("1", &s.title))?;
            let prefix = format!("{}/", s.catalog);
            let mut any = false;
            for req in a.requirements.iter().filter(|r| r.id.starts_with(&prefix)) {
                let Some(findings) = by_req.get(req.id.as_str()) else {
                    continue;
                };
                any = true;
                let node = req.id.strip_prefix(&prefix).unwrap_or(&req.id);
                writeln!(out, "  {node} {} — {}", req.title, self.status(req.status))?;
                let mut sorted = findings.clone();
                sorted.sort_by(|x, y| {
                    (
                        y.kind == FindingKind::Nonconformity,
                        y.severity,
                        &x.rule.id,
                        &x.entity.id,
                    )
                        .cmp(&(
                            x.kind == FindingKind::Nonconformity,
                            x.severity,
                            &y.rule.id,
                            &y.entity.id,
                        ))
                });
                for f in sorted {
                    self.finding(f, out)?;
                }
            }
            if !any {
                writeln!(out, "  no findings")?;
            }
        }

        let not_assessed: Vec<_> = a
            .rules
            .iter()
            .filter(|r| {
                r.status == Status::NotAssessed
                    || (r.status == Status::Indeterminate && r.nonconformities == 0)
            })
            .collect();
        if !not_assessed.is_empty() {
            writeln!(out)?;
            writeln!(out, "{}", self.paint("1", "Rules that could not conclude"))?;
            for r in not_assessed {
                writeln!(
                    out,
                    "  {} — {}: {}",
                    r.id,
                    self.status(r.status),
                    r.reason.as_deref().unwrap_or("")
                )?;
            }
        }
        if !a.unreadable.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "{}",
                self.paint("1", "Evidence that could not be read")
            )?;
            for u in &a.unreadable {
                let at = u.line.map(|l| format!(":{l}")).unwrap_or_default();
                writeln!(out, "  {}{at} (source {}): {}", u.file, u.source, u.error)?;
            }
        }

        writeln!(out)?;
        writeln!(
            out,
            "{}",
            self.paint("1", "Summary (requirements, headings excluded)")
        )?;
        writeln!(
            out,
            "  {:<22} {:>10} {:>13} {:>12} {:>13} {:>7} {:>6}",
            "", "conforming", "nonconforming", "not assessed", "indeterminate", "manual", "total"
        )?;
        for s in &a.summary.standards {
            writeln!(
                out,
                "  {:<22} {:>10} {:>13} {:>12} {:>13} {:>7} {:>6}",
                s.title,
                s.conforming,
                s.nonconforming,
                s.not_assessed,
                s.indeterminate,
                s.manual,
                s.total
            )?;
        }
        let c = &a.summary.findings;
        writeln!(
            out,
            "  findings: {} major, {} minor, {} observation{}, {} indeterminate",
            c.major,
            c.minor,
            c.observation,
            if c.observation == 1 { "" } else { "s" },
            c.indeterminate
        )
    }
}
