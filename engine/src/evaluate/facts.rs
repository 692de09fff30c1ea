//! The facts pass: population aggregates computed before the rules, handed to them in the
//! context.

use cedar_policy::{Context, Policy, RestrictedExpression};
use rayon::prelude::*;
use serde::Serialize;

use super::coverage::Coverage;
use super::entities::EntityStore;
use super::evaluator::{Backend, Verdicts};
use crate::model::value::AttrRef;
use crate::model::EvidenceEntity;
use crate::pack::{FactDef, FactKind};
use crate::time::format_rfc3339;

/// A fact's computed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactValue {
    Count(i64),
    Exists(bool),
    /// Absent when no entity of the population has the attribute.
    Latest(Option<i64>),
    /// Basis points; absent when the population is empty.
    Ratio(Option<i64>),
}

impl FactValue {
    pub fn to_cedar(self) -> Option<RestrictedExpression> {
        match self {
            FactValue::Count(n) => Some(RestrictedExpression::new_long(n)),
            FactValue::Exists(b) => Some(RestrictedExpression::new_bool(b)),
            FactValue::Latest(v) | FactValue::Ratio(v) => v.map(RestrictedExpression::new_long),
        }
    }

    pub fn to_json(self) -> serde_json::Value {
        match self {
            FactValue::Count(n) => n.into(),
            FactValue::Exists(b) => b.into(),
            FactValue::Latest(v) => v.map_or(serde_json::Value::Null, |t| format_rfc3339(t).into()),
            FactValue::Ratio(v) => v.map_or(serde_json::Value::Null, |bp| {
                crate::pack::params::format_percent(bp).into()
            }),
        }
    }
}

/// Whether a fact could be computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum FactState {
    Computed,
    /// Its entity type has no complete evidence: rules reading it are not assessed.
    NoEvidence(String),
    /// Its condition errored on some entity: rules reading it are indeterminate.
    Indeterminate(String),
}

/// The result of one fact.
#[derive(Debug, Clone)]
pub struct FactResult {
    pub name: String,
    pub kind: FactKind,
    pub value: Option<FactValue>,
    pub state: FactState,
    /// Entities in the population (satisfying `where`).
    pub population: usize,
}

#[derive(Default, Clone)]
struct Tally {
    population: usize,
    meets: usize,
    latest: Option<i64>,
    first_error: Option<(String, String)>,
    errors: usize,
}

fn merge(mut a: Vec<Tally>, b: Vec<Tally>) -> Vec<Tally> {
    for (x, y) in a.iter_mut().zip(b) {
        x.population += y.population;
        x.meets += y.meets;
        x.latest = x.latest.max(y.latest);
        x.errors += y.errors;
        x.first_error = match (x.first_error.take(), y.first_error) {
            (Some(p), Some(q)) => Some(p.min(q)),
            (p, q) => p.or(q),
        };
    }
    a
}

/// Computes every fact of the pack with Cedar's authorizer over `store`.
pub fn compute(
    facts: &[FactDef],
    store: &EntityStore,
    entities: &[EvidenceEntity],
    coverage: &[Coverage],
    context: &Context,
) -> Vec<FactResult> {
    let backend = Backend::Cedar {
        entities: &store.entities,
        uids: &store.uids,
    };
    compute_with(facts, &backend, store, entities, coverage, context)
}

/// Computes every fact of the pack with the evaluators of `backend`.
pub fn compute_with<'a>(
    facts: &[FactDef],
    backend: &Backend<'a>,
    store: &EntityStore,
    entities: &[EvidenceEntity],
    coverage: &[Coverage],
    context: &'a Context,
) -> Vec<FactResult> {
    let mut results = Vec::new();
    let mut type_indices: Vec<usize> = facts.iter().map(|f| f.type_index).collect();
    type_indices.sort_unstable();
    type_indices.dedup();
    for ti in type_indices {
        let of_type: Vec<&FactDef> = facts.iter().filter(|f| f.type_index == ti).collect();
        let no_evidence = match &coverage[ti] {
            Coverage::Complete => None,
            Coverage::Incomplete(r) | Coverage::Missing(r) => Some(r.clone()),
        };
        // policies: per fact, its population then (ratio) its meets condition
        let mut policies: Vec<Policy> = Vec::new();
        let mut slots: Vec<(usize, Option<usize>)> = Vec::new();
        for f in &of_type {
            let p = policies.len();
            policies.push(f.population.clone());
            let m = f.meets.as_ref().map(|m| {
                policies.push(m.clone());
                policies.len() - 1
            });
            slots.push((p, m));
        }
        let paths: Vec<String> = policies
            .iter()
            .flat_map(crate::pack::reads::paths)
            .collect();
        store.prepare_lookups(entities, ti, &paths);
        let tallies = match backend.evaluator(&policies, ti, context) {
            // the tallies are sums, minimums and maximums: the order changes nothing
            Ok(evaluator) => store
                .in_memory_order(entities, ti)
                .par_iter()
                .fold(
                    || (vec![Tally::default(); of_type.len()], Verdicts::default()),
                    |(mut acc, mut v), &ei| {
                        evaluator.evaluate_entity_into(ei, &mut v);
                        for (fi, (p, m)) in slots.iter().enumerate() {
                            let t = &mut acc[fi];
                            let err = v.errors.iter().find(|(i, _)| i == p || Some(*i) == *m);
                            if let Some((_, msg)) = err {
                                t.errors += 1;
                                let candidate = (entities[ei].id().to_string(), msg.clone());
                                t.first_error = Some(match t.first_error.take() {
                                    Some(prev) => prev.min(candidate),
                                    None => candidate,
                                });
                                continue;
                            }
                            if v.satisfied.binary_search(p).is_ok() {
                                t.population += 1;
                                if m.is_some_and(|m| v.satisfied.binary_search(&m).is_ok()) {
                                    t.meets += 1;
                                }
                                if let Some(ai) = of_type[fi].value_attr {
                                    if let Some(AttrRef::Time(x) | AttrRef::Long(x)) =
                                        entities[ei].value(ai)
                                    {
                                        t.latest = t.latest.max(Some(x));
                                    }
                                }
                            }
                        }
                        (acc, v)
                    },
                )
                .map(|(acc, _)| acc)
                .reduce(|| vec![Tally::default(); of_type.len()], merge),
            Err(e) => vec![
                Tally {
                    first_error: Some((String::new(), e)),
                    errors: 1,
                    ..Tally::default()
                };
                of_type.len()
            ],
        };
        for (f, t) in of_type.iter().zip(tallies) {
            let (value, state) = if let Some(reason) = &no_evidence {
                (None, FactState::NoEvidence(reason.clone()))
            } else if let Some((entity, msg)) = t.first_error {
                let reason = format!(
                    "its condition errored on {} entit{} (first: `{entity}`: {msg})",
                    t.errors,
                    if t.errors == 1 { "y" } else { "ies" }
                );
                (None, FactState::Indeterminate(reason))
            } else if f.evidence && t.population == 0 {
                let reason = format!(
                    "no `{}` satisfies the evidence condition of fact `{}`{}",
                    crate::model::ENTITY_TYPES[f.type_index].name,
                    f.name,
                    if f.description.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", f.description)
                    }
                );
                (None, FactState::NoEvidence(reason))
            } else {
                let value = match f.kind {
                    FactKind::Count => FactValue::Count(t.population as i64),
                    FactKind::Exists => FactValue::Exists(t.population > 0),
                    FactKind::Latest => FactValue::Latest(t.latest),
                    FactKind::Ratio => FactValue::Ratio(
                        (t.population > 0).then(|| (t.meets as i64 * 10_000) / t.population as i64),
                    ),
                };
                (Some(value), FactState::Computed)
            };
            results.push(FactResult {
                name: f.name.clone(),
                kind: f.kind,
                value,
                state,
                population: t.population,
            });
        }
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    results
}
