//! Evidence coverage: for each entity type, whether the snapshot holds complete evidence of
//! it. Missing evidence is never conformity: a rule on a type without complete evidence can
//! find nonconformities but can never conclude "conforms".

use serde::Serialize;

use crate::model::ENTITY_TYPES;
use crate::snapshot::{Manifest, SourceStatus, Unreadable};

/// How much evidence of one entity type the snapshot holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Coverage {
    Complete,
    /// Some evidence, but a source providing the type failed or had unreadable records.
    Incomplete(String),
    /// No evidence at all.
    Missing(String),
}

/// Coverage of each entity type, by type index.
pub fn coverage(manifest: &Manifest, counts: &[usize], unreadable: &[Unreadable]) -> Vec<Coverage> {
    ENTITY_TYPES
        .iter()
        .enumerate()
        .map(|(ti, t)| {
            let providers: Vec<_> = manifest
                .sources
                .iter()
                .filter(|s| s.provides.iter().any(|p| p == t.name))
                .collect();
            if providers.is_empty() {
                return Coverage::Missing(format!("no source provides `{}`", t.name));
            }
            let mut problems = Vec::new();
            for s in &providers {
                match s.status {
                    SourceStatus::Failed => problems.push(format!(
                        "source `{}` failed: {}",
                        s.name,
                        s.error.as_deref().unwrap_or("no error recorded")
                    )),
                    SourceStatus::Partial => problems.push(format!(
                        "source `{}` was collected partially: {}",
                        s.name,
                        s.error.as_deref().unwrap_or("no error recorded")
                    )),
                    SourceStatus::Ok => {}
                }
                let bad = unreadable
                    .iter()
                    .filter(|u| u.source == s.name)
                    .filter(|u| u.entity_type.as_deref().is_none_or(|ty| ty == t.name))
                    .count();
                if bad > 0 {
                    problems.push(format!(
                        "source `{}` has {bad} unreadable `{}` record{}",
                        s.name,
                        t.name,
                        if bad == 1 { "" } else { "s" }
                    ));
                }
            }
            if counts.get(ti).copied().unwrap_or(0) == 0 {
                let why = if problems.is_empty() {
                    format!("no `{}` entities in the evidence", t.name)
                } else {
                    problems.join("; ")
                };
                return Coverage::Missing(why);
            }
            if problems.is_empty() {
                Coverage::Complete
            } else {
                Coverage::Incomplete(problems.join("; "))
            }
        })
        .collect()
}
