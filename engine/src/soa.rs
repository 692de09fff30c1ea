//! The Statement of Applicability: every Annex A control of ISO/IEC 27001:2022, whether it is
//! applicable and why (the organisation's decision, from its configuration), its
//! implementation status from an assessment, and the rules that test it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::assessment::Assessment;
use crate::finding::FindingKind;
use crate::pack::PolicyPack;

pub const ANNEX_A_PREFIX: &str = "ISO27001:2022/A.";

/// The organisation's applicability decisions: excluded controls with their justification,
/// and optional justifications of inclusion.
#[derive(Debug, Clone, Default)]
pub struct Applicability {
    /// control node (`A.7.4`) → justification of the exclusion
    pub excluded: BTreeMap<String, String>,
    /// control node → justification of the inclusion
    pub included: BTreeMap<String, String>,
}

/// One row of the SoA.
#[derive(Debug, Clone, Serialize)]
pub struct SoaRow {
    pub control: String,
    pub title: String,
    pub applicable: bool,
    pub justification: String,
    /// `conforming`, `nonconforming`, `not_assessed`, `indeterminate`, `manual`, or
    /// `not_applicable`.
    pub status: String,
    pub rules: Vec<String>,
    pub open_findings: usize,
}

/// The whole statement.
#[derive(Debug, Clone, Serialize)]
pub struct Soa {
    pub organization: String,
    pub assessed_at: String,
    pub pack: String,
    pub snapshot: String,
    pub controls: Vec<SoaRow>,
}

const DEFAULT_INCLUSION: &str = "Applicable: no exclusion recorded";

/// Builds the SoA from an assessment and the organisation's decisions. Unknown control ids in
/// the decisions are returned as errors.
pub fn statement(
    pack: &PolicyPack,
    assessment: &Assessment,
    decisions: &Applicability,
) -> Result<Soa, Vec<String>> {
    let mut errors = Vec::new();
    for node in decisions.excluded.keys().chain(decisions.included.keys()) {
        let id = format!("ISO27001:2022/{node}");
        if !id.starts_with(ANNEX_A_PREFIX) || pack.catalogs.requirement(&id).is_none_or(|r| r.group)
        {
            errors.push(format!(
                "`{node}` is not an Annex A control of ISO/IEC 27001:2022"
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let controls = assessment
        .requirements
        .iter()
        .filter(|r| r.id.starts_with(ANNEX_A_PREFIX) && !r.group)
        .map(|r| {
            let node = r.id.trim_start_matches("ISO27001:2022/").to_string();
            let excluded = decisions.excluded.get(&node);
            let open_findings = assessment
                .findings
                .iter()
                .filter(|f| f.kind == FindingKind::Nonconformity && f.tests_requirement(&r.id))
                .count();
            SoaRow {
                title: r.title.clone(),
                applicable: excluded.is_none(),
                justification: excluded
                    .or_else(|| decisions.included.get(&node))
                    .cloned()
                    .unwrap_or_else(|| DEFAULT_INCLUSION.to_string()),
                status: if excluded.is_some() {
                    "not_applicable".into()
                } else {
                    r.status.key().into()
                },
                rules: r.rules.clone(),
                open_findings,
                control: node,
            }
        })
        .collect();
    Ok(Soa {
        organization: assessment.organization.clone(),
        assessed_at: assessment.assessed_at.clone(),
        pack: format!(
            "{} {} ({})",
            assessment.pack.name, assessment.pack.version, assessment.pack.digest
        ),
        snapshot: assessment.snapshot.id.clone(),
        controls,
    })
}
