//! Explaining one finding: which parts of the rule's condition held on the entity.
//!
//! The rule's `when` condition is split into its top-level `&&` conjuncts (from Cedar's JSON
//! form of the policy); each becomes a policy of its own, evaluated on the same entity with the
//! same context through the same [`PolicyEvaluator`] as the assessment.

use cedar_policy::{Context, Policy, PolicyId};
use serde_json::Value;

use crate::evaluate::entities::EntityStore;
use crate::evaluate::evaluator::{CedarEvaluator, PolicyEvaluator};
use crate::pack::Rule;

/// What one conjunct evaluated to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConjunctOutcome {
    True,
    False,
    Error(String),
}

/// One top-level part of a rule's condition.
#[derive(Debug, Clone)]
pub struct Conjunct {
    pub text: String,
    pub outcome: ConjunctOutcome,
    /// The attribute paths it reads (`resource.owner.status`, `context.now`).
    pub reads: Vec<String>,
}

fn flatten_and(expr: &Value, out: &mut Vec<Value>) {
    if let Some(and) = expr.get("&&") {
        if let (Some(l), Some(r)) = (and.get("left"), and.get("right")) {
            flatten_and(l, out);
            flatten_and(r, out);
            return;
        }
    }
    out.push(expr.clone());
}

/// The condition text of a single-condition policy printed by Cedar.
fn condition_text(p: &Policy) -> String {
    let s = p.to_string();
    let start = s.find("when {").map(|i| i + "when {".len());
    let end = s.rfind('}');
    match (start, end) {
        (Some(a), Some(b)) if b > a => s[a..b].split_whitespace().collect::<Vec<_>>().join(" "),
        _ => s,
    }
}

/// Evaluates each top-level conjunct of `rule`'s condition on the entity `resource`.
pub fn conjuncts(
    rule: &Rule,
    store: &EntityStore,
    resource: usize,
    context: &Context,
) -> Result<Vec<Conjunct>, String> {
    let est = rule.policy.to_json().map_err(|e| e.to_string())?;
    let mut parts = Vec::new();
    for cond in est
        .get("conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if cond.get("kind").and_then(Value::as_str) == Some("when") {
            if let Some(body) = cond.get("body") {
                flatten_and(body, &mut parts);
            }
        }
    }
    let mut policies = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let mut p = est.clone();
        if let Some(obj) = p.as_object_mut() {
            obj.insert("effect".into(), Value::String("permit".into()));
            obj.insert("annotations".into(), Value::Object(Default::default()));
            obj.insert(
                "conditions".into(),
                serde_json::json!([{ "kind": "when", "body": part }]),
            );
        }
        let policy = Policy::from_json(Some(PolicyId::new(format!("conjunct{i}"))), p)
            .map_err(|e| e.to_string())?;
        policies.push(policy);
    }
    let evaluator = CedarEvaluator::new(&policies, &store.entities)?;
    let verdicts = evaluator.evaluate(&store.uids[resource], context);
    Ok(policies
        .iter()
        .enumerate()
        .map(|(i, p)| Conjunct {
            text: condition_text(p),
            reads: crate::pack::reads::paths(p),
            outcome: if let Some((_, e)) = verdicts.errors.iter().find(|(j, _)| *j == i) {
                ConjunctOutcome::Error(e.clone())
            } else if verdicts.satisfied.contains(&i) {
                ConjunctOutcome::True
            } else {
                ConjunctOutcome::False
            },
        })
        .collect())
}

/// Everything `conform explain` shows about one finding.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub finding: crate::finding::Finding,
    pub rule_text: String,
    pub rationale: String,
    /// (requirement id, title)
    pub requirements: Vec<(String, String)>,
    /// The condition's parts, or why they could not be evaluated.
    pub conjuncts: Result<Vec<Conjunct>, String>,
}

/// Assesses `snapshot` and explains the finding whose id is, or starts with, `finding_id`.
/// `Ok(Err(n))` when no finding matches (`n` findings exist).
pub fn explain(
    pack: &crate::pack::PolicyPack,
    snapshot: &crate::snapshot::EvidenceSnapshot,
    at: i64,
    params: &std::collections::BTreeMap<String, crate::pack::ParamValue>,
    finding_id: &str,
    evaluator: crate::evaluate::evaluator::EvaluatorKind,
) -> Result<Result<Explanation, usize>, crate::assessment::AssessError> {
    let assessment = crate::assessment::assess_with(pack, snapshot, at, params, evaluator)?;
    let matches: Vec<_> = assessment
        .findings
        .iter()
        .filter(|f| f.id.starts_with(finding_id))
        .collect();
    let [finding] = matches.as_slice() else {
        return Ok(Err(assessment.findings.len()));
    };
    let Some(rule) = pack.rule(&finding.rule.id) else {
        return Ok(Err(assessment.findings.len()));
    };
    let prepared = crate::assessment::prepare(pack, snapshot, at, params)?;
    let ti = rule.type_index;
    let entity = prepared
        .entities
        .store
        .find(&snapshot.entities, ti, &finding.entity.id);
    let conjuncts = match entity {
        Some(ei) => conjuncts(rule, &prepared.entities.store, ei, &prepared.rules_context),
        None => Err("the entity is not in the evidence".to_string()),
    };
    Ok(Ok(Explanation {
        finding: (*finding).clone(),
        rule_text: rule.text.clone(),
        rationale: rule.rationale.clone(),
        requirements: rule
            .requirements
            .iter()
            .map(|r| {
                let title = pack
                    .catalogs
                    .requirement(r)
                    .map(|q| q.title.clone())
                    .unwrap_or_default();
                (r.clone(), title)
            })
            .collect(),
        conjuncts,
    }))
}
