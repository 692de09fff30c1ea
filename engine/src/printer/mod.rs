//! Printers: one type per output format, all behind [`Printer`]. Printers write data only;
//! logs and progress go to stderr elsewhere.

pub mod coverage;
pub mod explain;
mod json;
pub mod pack_diff;
pub mod soa;
mod text;

pub use json::JsonPrinter;
pub use text::TextPrinter;

use crate::assessment::Assessment;

/// Renders an assessment in one format.
pub trait Printer {
    fn print(&self, assessment: &Assessment, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}
