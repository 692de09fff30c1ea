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
                    // A partial source that says which types lost records taints those only.
                    SourceStatus::Partial
                        if s.lost_types
                            .as_ref()
                            .is_some_and(|lost| !lost.iter().any(|l| l == t.name)) => {}
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::entity_type_index;

    fn manifest(lost_types: &str) -> Manifest {
        let text = format!(
            r#"{{"format":"conform-snapshot/2","snapshot_id":"","organization":"o",
            "created_at":"2026-11-20T06:00:00Z","files":[],"sources":[{{"name":"register",
            "kind":"files","connector_version":"0","status":"partial","error":"record 40",
            "started_at":"2026-11-20T06:00:00Z","finished_at":"2026-11-20T06:00:00Z",
            "provides":["Document","Risk"],"records":40,"entities":{{}}{lost_types}}}]}}"#
        );
        serde_json::from_str(&text).unwrap()
    }

    fn state(m: &Manifest, ty: &str) -> Coverage {
        let counts = vec![1; ENTITY_TYPES.len()];
        coverage(m, &counts, &[])[entity_type_index(ty).unwrap()].clone()
    }

    #[test]
    fn a_partial_source_that_names_its_lost_types_taints_those_only() {
        let m = manifest(r#","lost_types":["Risk"]"#);
        assert!(matches!(state(&m, "Risk"), Coverage::Incomplete(r) if r.contains("record 40")));
        assert_eq!(state(&m, "Document"), Coverage::Complete);
    }

    #[test]
    fn a_partial_source_that_does_not_say_what_it_lost_taints_every_type_it_provides() {
        let m = manifest("");
        assert!(matches!(state(&m, "Risk"), Coverage::Incomplete(_)));
        assert!(matches!(state(&m, "Document"), Coverage::Incomplete(_)));
    }
}
