//! The Statement of Applicability as CSV and as one self-contained HTML page.

use std::io::Write;

use crate::soa::Soa;

/// Neutralises spreadsheet formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return is prefixed with `'`.
pub fn spreadsheet_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

pub fn soa_csv(s: &Soa, out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "control",
        "title",
        "applicable",
        "justification",
        "status",
        "rules",
        "open_findings",
    ])?;
    for c in &s.controls {
        w.write_record([
            spreadsheet_safe(&c.control),
            spreadsheet_safe(&c.title),
            if c.applicable {
                "yes".into()
            } else {
                "no".into()
            },
            spreadsheet_safe(&c.justification),
            c.status.clone(),
            spreadsheet_safe(&c.rules.join(" ")),
            c.open_findings.to_string(),
        ])?;
    }
    w.flush()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn soa_html(s: &Soa, out: &mut dyn Write) -> std::io::Result<()> {
    let e = html_escape;
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<title>Statement of Applicability — {}</title>",
        e(&s.organization)
    )?;
    writeln!(
        out,
        "<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse}}\
         td,th{{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}}\
         .nonconforming{{background:#fdd}}.conforming{{background:#dfd}}.not_assessed,.indeterminate{{background:#ffd}}\
         .not_applicable,.manual{{color:#555}}</style>\n</head>\n<body>"
    )?;
    writeln!(out, "<h1>Statement of Applicability</h1>")?;
    writeln!(
        out,
        "<p>{} — ISO/IEC 27001:2022 Annex A — assessed {} — pack {} — snapshot <code>{}</code></p>",
        e(&s.organization),
        e(&s.assessed_at),
        e(&s.pack),
        e(&s.snapshot)
    )?;
    writeln!(out, "<table>\n<thead><tr><th>Control</th><th>Title</th><th>Applicable</th><th>Justification</th><th>Status</th><th>Rules</th><th>Open findings</th></tr></thead>\n<tbody>")?;
    for c in &s.controls {
        writeln!(
            out,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            e(&c.status),
            e(&c.control),
            e(&c.title),
            if c.applicable { "yes" } else { "no" },
            e(&c.justification),
            e(&c.status.replace('_', " ")),
            e(&c.rules.join(", ")),
            c.open_findings
        )?;
    }
    writeln!(out, "</tbody>\n</table>\n</body>\n</html>")
}
