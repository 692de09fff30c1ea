//! The assessment as JSON (`docs/findings.md`), pretty-printed, with a final newline.

use super::Printer;
use crate::assessment::Assessment;

pub struct JsonPrinter;

impl Printer for JsonPrinter {
    fn print(&self, assessment: &Assessment, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, assessment)?;
        writeln!(out)
    }
}
