//! Rule and requirement statuses. The order of precedence is the heart of the engine's
//! honesty: a nonconformity beats everything; an error is never a pass; missing or
//! incomplete evidence is never conformity.

use serde::Serialize;

use crate::catalog::{Assessability, Catalogs};
use crate::evaluate::coverage::Coverage;
use crate::finding::Severity;
use crate::pack::Rule;

/// The status of a rule or a requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Conforming,
    /// Assessed by people (attestation, document review), not from evidence.
    Manual,
    NotAssessed,
    Indeterminate,
    Nonconforming,
}

impl Status {
    /// The status as it is written in JSON, CSV and CSS classes: `not_assessed`.
    pub fn key(self) -> &'static str {
        match self {
            Status::Conforming => "conforming",
            Status::Manual => "manual",
            Status::NotAssessed => "not_assessed",
            Status::Indeterminate => "indeterminate",
            Status::Nonconforming => "nonconforming",
        }
    }

    /// The status as people read it: `not assessed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Conforming => "conforming",
            Status::Manual => "manual",
            Status::NotAssessed => "not assessed",
            Status::Indeterminate => "indeterminate",
            Status::Nonconforming => "nonconforming",
        }
    }
}

/// What one rule concluded.
#[derive(Debug, Clone, Serialize)]
pub struct RuleResult {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub entity_type: String,
    pub requirements: Vec<String>,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Entities the rule was evaluated on.
    pub evaluated: usize,
    /// Entities not assessed because their source (or the source of an entity they refer to)
    /// does not supply an attribute the rule reads.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_assessed: usize,
    pub nonconformities: usize,
    pub indeterminate: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What the assessment concluded about one requirement.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementResult {
    pub id: String,
    pub title: String,
    pub assessability: Assessability,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub group: bool,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub rules: Vec<String>,
}

/// Per-standard counts of requirement statuses (headings excluded).
#[derive(Debug, Clone, Default, Serialize)]
pub struct StandardSummary {
    pub catalog: String,
    pub title: String,
    pub conforming: usize,
    pub nonconforming: usize,
    pub not_assessed: usize,
    pub indeterminate: usize,
    pub manual: usize,
    pub total: usize,
}

/// A rule's status from its findings, its evidence coverage and whether it was skipped.
pub fn rule_status(
    nonconformities: usize,
    indeterminate: usize,
    coverage: &Coverage,
    skipped: Option<(Status, String)>,
) -> (Status, Option<String>) {
    if nonconformities > 0 {
        return (Status::Nonconforming, None);
    }
    if let Some((status, reason)) = skipped {
        return (status, Some(reason));
    }
    if indeterminate > 0 {
        return (
            Status::Indeterminate,
            Some("the rule errored on some entities".into()),
        );
    }
    match coverage {
        Coverage::Complete => (Status::Conforming, None),
        Coverage::Missing(r) => (Status::NotAssessed, Some(format!("no evidence: {r}"))),
        Coverage::Incomplete(r) => (
            Status::NotAssessed,
            Some(format!("evidence incomplete: {r}")),
        ),
    }
}

/// The status of every requirement of the pack's catalogs.
pub fn requirement_results(
    catalogs: &Catalogs,
    rules: &[Rule],
    results: &[RuleResult],
) -> Vec<RequirementResult> {
    let mut out = Vec::new();
    for c in &catalogs.catalogs {
        for req in &c.requirements {
            let mine: Vec<&RuleResult> = results
                .iter()
                .filter(|r| r.requirements.contains(&req.id))
                .collect();
            let mut rule_ids: Vec<String> = rules
                .iter()
                .filter(|r| r.requirements.contains(&req.id))
                .map(|r| r.id.clone())
                .collect();
            rule_ids.sort();
            let (status, reason) = match mine.iter().map(|r| r.status).max() {
                None if req.assessability == Assessability::Manual => (Status::Manual, None),
                None => (
                    Status::NotAssessed,
                    Some("no rule in the pack tests it".to_string()),
                ),
                Some(worst) => {
                    let why: Vec<String> = mine
                        .iter()
                        .filter(|r| r.status == worst && worst != Status::Conforming)
                        .map(|r| match &r.reason {
                            Some(reason) => format!("{}: {reason}", r.id),
                            None => r.id.clone(),
                        })
                        .collect();
                    (
                        worst,
                        (!why.is_empty() && worst != Status::Nonconforming).then(|| why.join("; ")),
                    )
                }
            };
            out.push(RequirementResult {
                id: req.id.clone(),
                title: req.title.clone(),
                assessability: req.assessability,
                group: req.group,
                status,
                reason,
                rules: rule_ids,
            });
        }
    }
    out
}

/// Counts per standard over its requirements, headings excluded.
pub fn standard_summaries(
    catalogs: &Catalogs,
    requirements: &[RequirementResult],
) -> Vec<StandardSummary> {
    catalogs
        .catalogs
        .iter()
        .map(|c| {
            let mut s = StandardSummary {
                catalog: c.id.clone(),
                title: c.title.clone(),
                ..Default::default()
            };
            let prefix = format!("{}/", c.id);
            for r in requirements
                .iter()
                .filter(|r| !r.group && r.id.starts_with(&prefix))
            {
                s.total += 1;
                match r.status {
                    Status::Conforming => s.conforming += 1,
                    Status::Nonconforming => s.nonconforming += 1,
                    Status::NotAssessed => s.not_assessed += 1,
                    Status::Indeterminate => s.indeterminate += 1,
                    Status::Manual => s.manual += 1,
                }
            }
            s
        })
        .collect()
}
