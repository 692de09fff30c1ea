//! Printers: one type per output format, all behind [`Printer`]. Printers write data only;
//! logs and progress go to stderr elsewhere.

pub mod coverage;
pub mod explain;
mod findings_csv;
mod html;
mod json;
mod junit;
pub mod markup;
mod oscal;
pub mod pack_diff;
mod sarif;
pub mod soa;
mod text;

pub use findings_csv::CsvPrinter;
pub use html::HtmlPrinter;
pub use json::JsonPrinter;
pub use junit::JunitPrinter;
pub use oscal::{deterministic_uuid, OscalPrinter};
pub use sarif::SarifPrinter;
pub use text::TextPrinter;

use crate::assessment::Assessment;
use crate::finding::Severity;
use crate::pack::PolicyPack;

/// Renders an assessment in one format.
pub trait Printer {
    fn print(&self, assessment: &Assessment, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// What printers for external tools say about a rule beyond the assessment: its rationale,
/// remediation and where it is written. Taken from the pack the assessment ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub requirements: Vec<String>,
    pub entity_type: String,
    pub rationale: String,
    pub remediation: String,
    /// Path of the rule's file relative to the pack.
    pub file: String,
    pub line: usize,
}

impl RuleInfo {
    /// Every rule of `pack`, sorted by id.
    pub fn of_pack(pack: &PolicyPack) -> Vec<RuleInfo> {
        let mut out: Vec<RuleInfo> = pack
            .rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.clone(),
                title: r.title.clone(),
                severity: r.severity,
                requirements: r.requirements.clone(),
                entity_type: crate::model::ENTITY_TYPES
                    .get(r.type_index)
                    .map(|t| t.name.to_string())
                    .unwrap_or_default(),
                rationale: r.rationale.clone(),
                remediation: r.remediation.clone(),
                file: r.file.clone(),
                line: r.line,
            })
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}

/// The part of a requirement id after the catalog (`A.8.5` of `ISO27001:2022/A.8.5`).
pub(crate) fn node_of(id: &str) -> &str {
    id.split_once('/').map_or(id, |(_, n)| n)
}
