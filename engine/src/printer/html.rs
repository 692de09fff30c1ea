//! One self-contained HTML report: inline CSS, no script, no external resource, so that it
//! opens the same offline, in a mail attachment or an audit archive. A summary per standard,
//! each standard's clause tree coloured by status, every finding with its evidence and
//! remediation, and what was covered. `#findings-count` holds the total number of findings.

use std::io::Write;

use super::markup::{html_escape as e, table_end, table_head, table_row, Cell};
use super::{node_of, Printer};
use crate::assessment::Assessment;
use crate::finding::{Finding, FindingKind};

pub struct HtmlPrinter;

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d232a;background:#fafbfc;line-height:1.4}\
header,section,footer{max-width:1180px;margin:0 auto;padding:.5em 1.5em}\
header{border-bottom:3px solid #24476b}h1{font-size:1.6em;margin:.6em 0 .3em}h2{border-bottom:1px solid #ccd;padding-bottom:.2em;margin-top:1.6em}\
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}dl.meta dt{font-weight:600}dl.meta dd{margin:0}\
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em;word-break:break-all}\
table{border-collapse:collapse;margin:.5em 0;width:100%}td,th{border:1px solid #d5d9de;padding:.25em .5em;text-align:left;vertical-align:top}th{background:#eef1f4}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
.badge{display:inline-block;min-width:6.5em;text-align:center;border-radius:3px;padding:0 .4em;font-size:.8em;font-weight:600;color:#fff}\
.nonconforming .badge,.badge.major{background:#b3261e}.badge.minor{background:#c8660a}.badge.observation{background:#1f6f8b}\
.indeterminate .badge,.badge.indeterminate{background:#6b3fa0}.not_assessed .badge{background:#a07800}.conforming .badge{background:#2e7d32}.manual .badge{background:#8a9199}\
ul.tree{list-style:none;padding-left:0;margin:.3em 0}ul.tree li{padding:.1em .3em;border-left:4px solid transparent}\
ul.tree li.nonconforming{border-color:#b3261e;background:#fdecea}ul.tree li.indeterminate{border-color:#6b3fa0;background:#f3ecfa}\
ul.tree li.not_assessed{border-color:#a07800;background:#fff8e1}ul.tree li.conforming{border-color:#2e7d32;background:#edf7ed}\
ul.tree li.group{font-weight:600;background:none}ul.tree .rules{color:#59636e;font-size:.85em}\
article.finding{background:#fff;border:1px solid #d5d9de;border-left:6px solid #8a9199;margin:.8em 0;padding:.3em 1em}\
article.finding.major{border-left-color:#b3261e}article.finding.minor{border-left-color:#c8660a}article.finding.observation{border-left-color:#1f6f8b}article.finding.indeterminate{border-left-color:#6b3fa0}\
article.finding h3{font-size:1.05em;margin:.4em 0}article.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:.15em 1em}article.finding dt{font-weight:600}article.finding dd{margin:0}\
.remediation{background:#eef6ee;padding:.3em .6em;border-radius:3px}footer{color:#59636e;font-size:.85em;border-top:1px solid #ccd;margin-top:2em}\
@media print{article.finding{break-inside:avoid}}";

fn anchor(requirement: &str) -> String {
    format!("req-{}", super::oscal::control_id(requirement))
}

fn grade(f: &Finding) -> &'static str {
    match f.kind {
        FindingKind::Nonconformity => f.severity.as_str(),
        FindingKind::Indeterminate => "indeterminate",
    }
}

fn header(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
    )?;
    writeln!(
        out,
        "<title>Conformity assessment — {}</title>",
        e(&a.organization)
    )?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>\n<header>")?;
    writeln!(
        out,
        "<h1>Conformity assessment: {}</h1>",
        e(&a.organization)
    )?;
    writeln!(out, "<dl class=\"meta\">")?;
    writeln!(out, "<dt>Assessed at</dt><dd>{}</dd>", e(&a.assessed_at))?;
    writeln!(
        out,
        "<dt>Policy pack</dt><dd>{} {} <code>{}</code></dd>",
        e(&a.pack.name),
        e(&a.pack.version),
        e(&a.pack.digest)
    )?;
    writeln!(
        out,
        "<dt>Evidence</dt><dd>snapshot <code>{}</code>, collected {}</dd>",
        e(&a.snapshot.id),
        e(&a.snapshot.created_at)
    )?;
    let params: Vec<String> = a
        .parameters
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            format!("<code>{}</code> = {}", e(k), e(&v))
        })
        .collect();
    writeln!(
        out,
        "<dt>Parameters</dt><dd>{}</dd>",
        if params.is_empty() {
            "none".to_string()
        } else {
            params.join(", ")
        }
    )?;
    writeln!(out, "</dl>\n<p><a href=\"#summary\">Summary</a> · <a href=\"#requirements\">Requirements</a> · <a href=\"#findings\">Findings</a> · <a href=\"#coverage\">Coverage</a></p>\n</header>")
}

fn summary(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    let c = &a.summary.findings;
    writeln!(out, "<section id=\"summary\">\n<h2>Summary</h2>")?;
    writeln!(
        out,
        "<p>Findings: <strong id=\"findings-count\">{}</strong> — <span class=\"badge major\">{} major</span> <span class=\"badge minor\">{} minor</span> <span class=\"badge observation\">{} observation</span> <span class=\"badge indeterminate\">{} indeterminate</span></p>",
        c.total, c.major, c.minor, c.observation, c.indeterminate
    )?;
    table_head(
        out,
        &[
            "Standard (requirements, headings excluded)",
            "Conforming",
            "Nonconforming",
            "Not assessed",
            "Indeterminate",
            "Manual",
            "Total",
        ],
    )?;
    for s in &a.summary.standards {
        table_row(
            out,
            None,
            &[
                Cell::Text(&s.title),
                Cell::Num(s.conforming as u64),
                Cell::Num(s.nonconforming as u64),
                Cell::Num(s.not_assessed as u64),
                Cell::Num(s.indeterminate as u64),
                Cell::Num(s.manual as u64),
                Cell::Num(s.total as u64),
            ],
        )?;
    }
    table_end(out)?;
    writeln!(out, "<p>Missing evidence is never reported as conformity: a requirement whose rules had no complete evidence is <em>not assessed</em>, and a rule that could not be evaluated is <em>indeterminate</em>.</p>\n</section>")
}

fn requirements(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "<section id=\"requirements\">\n<h2>Requirements</h2>")?;
    for s in &a.summary.standards {
        writeln!(out, "<h3>{}</h3>\n<ul class=\"tree\">", e(&s.title))?;
        let prefix = format!("{}/", s.catalog);
        for r in a.requirements.iter().filter(|r| r.id.starts_with(&prefix)) {
            let node = node_of(&r.id);
            let depth = node.matches('.').count();
            let n = a
                .findings
                .iter()
                .filter(|f| f.tests_requirement(&r.id))
                .count();
            let class = if r.group {
                "group".to_string()
            } else {
                r.status.key().to_string()
            };
            write!(
                out,
                "<li id=\"{}\" class=\"{class}\" style=\"margin-left:{:.1}em\">",
                anchor(&r.id),
                depth as f64 * 1.4
            )?;
            if !r.group {
                write!(
                    out,
                    "<span class=\"badge\">{}</span> ",
                    e(r.status.as_str())
                )?;
            }
            write!(out, "<b>{}</b> {}", e(node), e(&r.title))?;
            if !r.rules.is_empty() {
                write!(
                    out,
                    " <span class=\"rules\">{}</span>",
                    e(&r.rules.join(", "))
                )?;
            }
            if n > 0 {
                write!(
                    out,
                    " — <a href=\"#findings\">{n} finding{}</a>",
                    if n == 1 { "" } else { "s" }
                )?;
            }
            if let (Some(reason), false) = (&r.reason, r.group) {
                write!(out, " <span class=\"rules\">({})</span>", e(reason))?;
            }
            writeln!(out, "</li>")?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

fn finding(f: &Finding, out: &mut dyn Write) -> std::io::Result<()> {
    let g = grade(f);
    writeln!(out, "<article class=\"finding {g}\" id=\"{}\">", e(&f.id))?;
    let name = if f.entity.name == f.entity.id {
        String::new()
    } else {
        format!(" ({})", e(&f.entity.name))
    };
    writeln!(
        out,
        "<h3><span class=\"badge {g}\">{g}</span> {} — {} <code>{}</code>{name}</h3>",
        e(&f.rule.title),
        e(&f.entity.entity_type),
        e(&f.entity.id)
    )?;
    writeln!(out, "<p>{}</p>\n<dl>", e(&f.message))?;
    writeln!(
        out,
        "<dt>Finding</dt><dd><code>{}</code> ({}, {})</dd>",
        e(&f.id),
        e(&format!("{:?}", f.kind).to_lowercase()),
        e(&format!("{:?}", f.status).to_lowercase())
    )?;
    writeln!(
        out,
        "<dt>Rule</dt><dd><code>{}</code> in <code>{}:{}</code> of pack {} {}</dd>",
        e(&f.rule.id),
        e(&f.rule.file),
        f.rule.line,
        e(&f.rule.pack),
        e(&f.rule.version)
    )?;
    let reqs: Vec<String> = f
        .requirements
        .iter()
        .map(|r| format!("<a href=\"#{}\">{}</a>", anchor(r), e(r)))
        .collect();
    writeln!(out, "<dt>Requirements</dt><dd>{}</dd>", reqs.join(", "))?;
    let ev = &f.evidence;
    writeln!(
        out,
        "<dt>Evidence</dt><dd>source <code>{}</code>, record <code>{}</code>, collected {}<br>SHA-256 <code>{}</code><br>snapshot <code>{}</code></dd>",
        e(&ev.source),
        e(&ev.record_id),
        e(&ev.collected_at),
        e(&ev.record_sha256),
        e(&ev.snapshot)
    )?;
    if !f.values.is_empty() {
        let vals: Vec<String> = f
            .values
            .iter()
            .map(|(k, v)| format!("<code>{}</code> = <code>{}</code>", e(k), e(&v.to_string())))
            .collect();
        writeln!(out, "<dt>Values read</dt><dd>{}</dd>", vals.join("<br>"))?;
    }
    if let Some(err) = &f.error {
        writeln!(out, "<dt>Error</dt><dd>{}</dd>", e(err))?;
    }
    writeln!(
        out,
        "<dt>Remediation</dt><dd class=\"remediation\">{}</dd>\n</dl>\n</article>",
        e(&f.remediation)
    )
}

fn coverage(a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "<section id=\"coverage\">\n<h2>Coverage</h2>\n<h3>Rules</h3>"
    )?;
    table_head(
        out,
        &[
            "Rule",
            "Entity type",
            "Severity",
            "Status",
            "Evaluated",
            "Nonconformities",
            "Indeterminate",
            "Reason",
        ],
    )?;
    for r in &a.rules {
        table_row(
            out,
            Some(r.status.key()),
            &[
                Cell::Html(format!("<code>{}</code> {}", e(&r.id), e(&r.title))),
                Cell::Text(&r.entity_type),
                Cell::Text(&r.severity.to_string()),
                Cell::Html(format!(
                    "<span class=\"badge\">{}</span>",
                    e(r.status.as_str())
                )),
                Cell::Num(r.evaluated as u64),
                Cell::Num(r.nonconformities as u64),
                Cell::Num(r.indeterminate as u64),
                Cell::Text(r.reason.as_deref().unwrap_or("")),
            ],
        )?;
    }
    table_end(out)?;
    writeln!(out, "<h3>Evidence</h3>")?;
    table_head(out, &["Entity type", "Entities", "State", "Reason"])?;
    for t in &a.evidence {
        let (state, reason) = match &t.coverage {
            crate::evaluate::coverage::Coverage::Complete => ("complete", ""),
            crate::evaluate::coverage::Coverage::Incomplete(r) => ("incomplete", r.as_str()),
            crate::evaluate::coverage::Coverage::Missing(r) => ("missing", r.as_str()),
        };
        table_row(
            out,
            None,
            &[
                Cell::Text(&t.entity_type),
                Cell::Num(t.entities as u64),
                Cell::Text(state),
                Cell::Text(reason),
            ],
        )?;
    }
    table_end(out)?;
    writeln!(out, "<h3>Sources</h3>")?;
    table_head(
        out,
        &["Source", "Kind", "Status", "Records", "Collected", "Error"],
    )?;
    for s in &a.sources {
        table_row(
            out,
            None,
            &[
                Cell::Text(&s.name),
                Cell::Text(&s.kind),
                Cell::Text(&format!("{:?}", s.status).to_lowercase()),
                Cell::Num(s.records),
                Cell::Text(&s.collected_at),
                Cell::Text(s.error.as_deref().unwrap_or("")),
            ],
        )?;
    }
    table_end(out)?;
    if !a.unreadable.is_empty() {
        writeln!(out, "<h3>Evidence that could not be read</h3>\n<ul>")?;
        for u in &a.unreadable {
            let at = u.line.map(|l| format!(":{l}")).unwrap_or_default();
            writeln!(
                out,
                "<li><code>{}{at}</code> (source {}): {}</li>",
                e(&u.file),
                e(&u.source),
                e(&u.error)
            )?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(out, "</section>")
}

impl Printer for HtmlPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        header(a, out)?;
        summary(a, out)?;
        requirements(a, out)?;
        writeln!(out, "<section id=\"findings\">\n<h2>Findings</h2>")?;
        if a.findings.is_empty() {
            writeln!(out, "<p>No findings.</p>")?;
        }
        for f in &a.findings {
            finding(f, out)?;
        }
        writeln!(out, "</section>")?;
        coverage(a, out)?;
        writeln!(
            out,
            "<footer>Generated by conform {} from pack {} {} and snapshot <code>{}</code>. This page loads nothing from the network.</footer>\n</body>\n</html>",
            env!("CARGO_PKG_VERSION"),
            e(&a.pack.name),
            e(&a.pack.version),
            e(&a.snapshot.id)
        )
    }
}
