//! Findings as CSV, one row per finding, for spreadsheets and ticket imports. Every cell goes
//! through [`spreadsheet_safe`]: a value read from evidence (a name starting with `=`) must
//! never become a formula in the auditor's spreadsheet.

use std::io::Write;

use super::soa::spreadsheet_safe;
use super::Printer;
use crate::assessment::Assessment;

pub struct CsvPrinter;

pub const COLUMNS: [&str; 14] = [
    "id",
    "kind",
    "severity",
    "status",
    "rule",
    "requirements",
    "entity_type",
    "entity_id",
    "entity_name",
    "source",
    "record_id",
    "record_sha256",
    "message",
    "remediation",
];

fn text<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

impl Printer for CsvPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(COLUMNS)?;
        for f in &a.findings {
            let row = [
                f.id.clone(),
                text(&f.kind),
                f.severity.as_str().to_string(),
                text(&f.status),
                f.rule.id.to_string(),
                f.requirements.join(" "),
                f.entity.entity_type.to_string(),
                f.entity.id.clone(),
                f.entity.name.clone(),
                f.evidence.source.to_string(),
                f.evidence.record_id.clone(),
                f.evidence.record_sha256.clone(),
                f.message.clone(),
                f.remediation.to_string(),
            ];
            w.write_record(row.iter().map(|c| spreadsheet_safe(c)))?;
        }
        w.flush()
    }
}
