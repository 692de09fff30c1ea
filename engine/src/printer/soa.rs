//! The Statement of Applicability as CSV and as one self-contained HTML page.

use std::io::Write;

use super::markup::{html_escape, table_end, table_head, table_row, Cell};
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
    table_head(
        out,
        &[
            "Control",
            "Title",
            "Applicable",
            "Justification",
            "Status",
            "Rules",
            "Open findings",
        ],
    )?;
    for c in &s.controls {
        table_row(
            out,
            Some(&c.status),
            &[
                Cell::Text(&c.control),
                Cell::Text(&c.title),
                Cell::Text(if c.applicable { "yes" } else { "no" }),
                Cell::Text(&c.justification),
                Cell::Text(&c.status.replace('_', " ")),
                Cell::Text(&c.rules.join(", ")),
                Cell::Html(c.open_findings.to_string()),
            ],
        )?;
    }
    table_end(out)?;
    writeln!(out, "</body>\n</html>")
}
