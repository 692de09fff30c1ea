//! JUnit XML for CI test reports: one `<testsuite>` per standard, one `<testcase>` per
//! (rule, requirement) pair with `classname` the requirement and `name` the rule. A
//! nonconforming rule is a `<failure>` listing the entities, an indeterminate one an `<error>`,
//! one that could not be assessed `<skipped>`. `time` is always `0` so that the same
//! assessment gives the same bytes.

use std::io::Write;

use super::markup::xml_escape;
use super::Printer;
use crate::assessment::{Assessment, RuleResult, Status};
use crate::finding::{Finding, FindingKind};

pub struct JunitPrinter;

/// One testcase: what the rule concluded about one requirement.
struct Case<'a> {
    requirement: &'a str,
    rule: &'a RuleResult,
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, status: Status) {
        self.tests += 1;
        match status {
            Status::Nonconforming => self.failures += 1,
            Status::Indeterminate => self.errors += 1,
            Status::NotAssessed | Status::Manual => self.skipped += 1,
            Status::Conforming => {}
        }
    }

    fn attrs(&self) -> String {
        format!(
            "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"0\"",
            self.tests, self.failures, self.errors, self.skipped
        )
    }
}

fn finding_line(f: &Finding) -> String {
    let grade = match f.kind {
        FindingKind::Nonconformity => f.severity.as_str(),
        FindingKind::Indeterminate => "indeterminate",
    };
    let name = if f.entity.name == f.entity.id {
        String::new()
    } else {
        format!(" ({})", f.entity.name)
    };
    format!(
        "- {grade} {} {}{name}: {} [{}; {} record {} sha256 {}]",
        f.entity.entity_type,
        f.entity.id,
        f.message,
        f.id,
        f.evidence.source,
        f.evidence.record_id,
        f.evidence.record_sha256
    )
}

fn testcase(a: &Assessment, case: &Case, out: &mut dyn Write) -> std::io::Result<()> {
    let r = case.rule;
    write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
        xml_escape(case.requirement),
        xml_escape(&r.id)
    )?;
    let mine: Vec<&Finding> = a.findings.iter().filter(|f| f.rule.id == r.id).collect();
    let body = |kind: Option<FindingKind>| {
        let mut lines = vec![format!("{} ({})", r.title, r.severity)];
        if let Some(reason) = &r.reason {
            lines.push(reason.clone());
        }
        lines.extend(
            mine.iter()
                .filter(|f| kind.is_none_or(|k| f.kind == k))
                .map(|f| finding_line(f)),
        );
        xml_escape(&lines.join("\n")).replace("&#10;", "\n")
    };
    match r.status {
        Status::Nonconforming => {
            writeln!(out, ">")?;
            writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml_escape(&format!(
                    "{} nonconformit{} ({}): {}",
                    r.nonconformities,
                    if r.nonconformities == 1 { "y" } else { "ies" },
                    r.severity,
                    r.title
                )),
                r.severity,
                body(None)
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::Indeterminate => {
            writeln!(out, ">")?;
            writeln!(
                out,
                "      <error message=\"{}\" type=\"indeterminate\">{}</error>",
                xml_escape(&format!(
                    "indeterminate: {}",
                    r.reason.as_deref().unwrap_or(&r.title)
                )),
                body(Some(FindingKind::Indeterminate))
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::NotAssessed | Status::Manual => {
            writeln!(out, ">")?;
            writeln!(
                out,
                "      <skipped message=\"{}\"/>",
                xml_escape(&format!(
                    "not assessed: {}",
                    r.reason.as_deref().unwrap_or("no evidence")
                ))
            )?;
            writeln!(out, "    </testcase>")
        }
        Status::Conforming => writeln!(out, "/>"),
    }
}

impl Printer for JunitPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        let mut suites = Vec::new();
        let mut total = Counts::default();
        for s in &a.summary.standards {
            let prefix = format!("{}/", s.catalog);
            let mut cases = Vec::new();
            for (pos, req) in a.requirements.iter().enumerate() {
                if !req.id.starts_with(&prefix) {
                    continue;
                }
                for rule in a.rules.iter().filter(|r| r.requirements.contains(&req.id)) {
                    cases.push((
                        pos,
                        Case {
                            requirement: &req.id,
                            rule,
                        },
                    ));
                }
            }
            cases.sort_by(|x, y| (x.0, &x.1.rule.id).cmp(&(y.0, &y.1.rule.id)));
            let mut counts = Counts::default();
            for (_, c) in &cases {
                counts.add(c.rule.status);
                total.add(c.rule.status);
            }
            suites.push((s, cases, counts));
        }
        writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
        writeln!(
            out,
            "<testsuites name=\"{}\" {}>",
            xml_escape(&format!("conform: {}", a.organization)),
            total.attrs()
        )?;
        for (s, cases, counts) in suites {
            writeln!(
                out,
                "  <testsuite name=\"{}\" {}>",
                xml_escape(&s.title),
                counts.attrs()
            )?;
            writeln!(out, "    <properties>")?;
            for (k, v) in [
                ("catalog", s.catalog.clone()),
                ("organization", a.organization.clone()),
                ("assessed_at", a.assessed_at.clone()),
                ("pack", format!("{} {}", a.pack.name, a.pack.version)),
                ("pack_digest", a.pack.digest.clone()),
                ("snapshot", a.snapshot.id.clone()),
            ] {
                writeln!(
                    out,
                    "      <property name=\"{k}\" value=\"{}\"/>",
                    xml_escape(&v)
                )?;
            }
            writeln!(out, "    </properties>")?;
            for (_, case) in &cases {
                testcase(a, case, out)?;
            }
            writeln!(out, "  </testsuite>")?;
        }
        writeln!(out, "</testsuites>")
    }
}
