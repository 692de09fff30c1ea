//! Comparing two versions of a pack: rules added, removed and changed (by logic, not by
//! layout), changed mappings, severities, parameters and facts; and a semantic fingerprint
//! that changes exactly when what the pack can find changes.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::pack::{ParamValue, PolicyPack, Rule};

/// The logic of a rule without its annotations and layout: Cedar's JSON form, sorted keys.
fn logic(rule: &Rule) -> String {
    let mut est = rule.policy.to_json().unwrap_or_default();
    if let Some(obj) = est.as_object_mut() {
        obj.remove("annotations");
    }
    est.to_string()
}

/// A hash over every rule's logic, severity and requirements, the parameters and their
/// defaults, and the facts: whatever changes what the pack finds or how it grades it, and
/// nothing else (comments, layout, titles, remediation text).
pub fn semantic_fingerprint(pack: &PolicyPack) -> String {
    let mut h = Sha256::new();
    for r in &pack.rules {
        h.update(format!(
            "rule\0{}\0{}\0{}\0{}\n",
            r.id,
            logic(r),
            r.severity,
            r.requirements.join(" ")
        ));
    }
    for p in &pack.parameters {
        h.update(format!(
            "param\0{}\0{:?}\0{}\n",
            p.name,
            p.ty,
            p.default.to_json()
        ));
    }
    for f in &pack.facts {
        let meets = f.meets.as_ref().map(|m| m.to_string()).unwrap_or_default();
        h.update(format!(
            "fact\0{}\0{:?}\0{}\0{}\0{:?}\n",
            f.name, f.kind, f.population, meets, f.value_attr
        ));
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// One changed rule.
#[derive(Debug, Clone, Serialize)]
pub struct RuleChange {
    pub id: String,
    /// What changed: `logic`, `severity`, `requirements`, `title`, `remediation`, `rationale`.
    pub changed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirements_added: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requirements_removed: Vec<String>,
    /// Entities (`Type:id`) whose verdict differs between the two versions on the evidence,
    /// with the new verdict; at most a few.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flips: Vec<String>,
}

/// A parameter whose presence or default changed.
#[derive(Debug, Clone, Serialize)]
pub struct ParamChange {
    pub name: String,
    pub old: Option<serde_json::Value>,
    pub new: Option<serde_json::Value>,
}

/// The difference between two packs.
#[derive(Debug, Clone, Serialize)]
pub struct PackDiff {
    pub old: String,
    pub new: String,
    pub rules_added: Vec<String>,
    pub rules_removed: Vec<String>,
    pub rules_changed: Vec<RuleChange>,
    pub parameters: Vec<ParamChange>,
    pub facts_added: Vec<String>,
    pub facts_removed: Vec<String>,
    pub facts_changed: Vec<String>,
    /// The semantic fingerprint changed but the version did not.
    pub version_not_bumped: bool,
}

impl PackDiff {
    pub fn is_empty(&self) -> bool {
        self.rules_added.is_empty()
            && self.rules_removed.is_empty()
            && self.rules_changed.is_empty()
            && self.parameters.is_empty()
            && self.facts_added.is_empty()
            && self.facts_removed.is_empty()
            && self.facts_changed.is_empty()
    }
}

fn param_map(p: &PolicyPack) -> BTreeMap<&str, &ParamValue> {
    p.parameters
        .iter()
        .map(|x| (x.name.as_str(), &x.default))
        .collect()
}

/// Compares `old` and `new`. `flips` gives, for a rule id, the entities whose verdict differs
/// (computed by the caller on evidence, if any).
pub fn diff(old: &PolicyPack, new: &PolicyPack, flips: impl Fn(&str) -> Vec<String>) -> PackDiff {
    let ids = |p: &PolicyPack| p.rules.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let (old_ids, new_ids) = (ids(old), ids(new));
    let mut rules_changed = Vec::new();
    for r in &new.rules {
        let Some(o) = old.rule(&r.id) else { continue };
        let mut changed = Vec::new();
        if logic(o) != logic(r) || o.type_index != r.type_index {
            changed.push("logic".to_string());
        }
        if o.severity != r.severity {
            changed.push("severity".to_string());
        }
        if o.requirements != r.requirements {
            changed.push("requirements".to_string());
        }
        for (label, a, b) in [
            ("title", &o.title, &r.title),
            ("remediation", &o.remediation, &r.remediation),
            ("rationale", &o.rationale, &r.rationale),
        ] {
            if a != b {
                changed.push(label.to_string());
            }
        }
        if changed.is_empty() {
            continue;
        }
        let flips = if changed.iter().any(|c| c == "logic") {
            flips(&r.id)
        } else {
            Vec::new()
        };
        rules_changed.push(RuleChange {
            id: r.id.clone(),
            severity: (o.severity != r.severity)
                .then(|| (o.severity.to_string(), r.severity.to_string())),
            requirements_added: r
                .requirements
                .iter()
                .filter(|x| !o.requirements.contains(x))
                .cloned()
                .collect(),
            requirements_removed: o
                .requirements
                .iter()
                .filter(|x| !r.requirements.contains(x))
                .cloned()
                .collect(),
            changed,
            flips,
        });
    }
    let (op, np) = (param_map(old), param_map(new));
    let mut parameters = Vec::new();
    for name in op
        .keys()
        .chain(np.keys())
        .copied()
        .collect::<std::collections::BTreeSet<_>>()
    {
        let (a, b) = (op.get(name), np.get(name));
        if a != b {
            parameters.push(ParamChange {
                name: name.to_string(),
                old: a.map(|v| v.to_json()),
                new: b.map(|v| v.to_json()),
            });
        }
    }
    let fact_sig = |p: &PolicyPack| -> BTreeMap<String, String> {
        p.facts
            .iter()
            .map(|f| {
                let meets = f.meets.as_ref().map(|m| m.to_string()).unwrap_or_default();
                (
                    f.name.clone(),
                    format!("{:?}{}{}{:?}", f.kind, f.population, meets, f.value_attr),
                )
            })
            .collect()
    };
    let (of, nf) = (fact_sig(old), fact_sig(new));
    PackDiff {
        old: format!("{} {}", old.name, old.version),
        new: format!("{} {}", new.name, new.version),
        rules_added: new_ids
            .iter()
            .filter(|i| !old_ids.contains(i))
            .cloned()
            .collect(),
        rules_removed: old_ids
            .iter()
            .filter(|i| !new_ids.contains(i))
            .cloned()
            .collect(),
        rules_changed,
        parameters,
        facts_added: nf
            .keys()
            .filter(|k| !of.contains_key(*k))
            .cloned()
            .collect(),
        facts_removed: of
            .keys()
            .filter(|k| !nf.contains_key(*k))
            .cloned()
            .collect(),
        facts_changed: nf
            .iter()
            .filter(|(k, v)| of.get(*k).is_some_and(|o| o != *v))
            .map(|(k, _)| k.clone())
            .collect(),
        version_not_bumped: old.version == new.version
            && semantic_fingerprint(old) != semantic_fingerprint(new),
    }
}

/// Entities whose verdict of `rule_id` differs between two assessments of the same evidence,
/// as `Type:id: old → new`, at most `limit`.
pub fn verdict_flips(
    old: &crate::assessment::Assessment,
    new: &crate::assessment::Assessment,
    rule_id: &str,
    limit: usize,
) -> Vec<String> {
    use crate::finding::FindingKind;
    let verdicts = |a: &crate::assessment::Assessment| -> BTreeMap<String, &'static str> {
        a.findings
            .iter()
            .filter(|f| f.rule.id == rule_id)
            .map(|f| {
                let v = match f.kind {
                    FindingKind::Nonconformity => "fires",
                    FindingKind::Indeterminate => "indeterminate",
                };
                (format!("{}:{}", f.entity.entity_type, f.entity.id), v)
            })
            .collect()
    };
    let (o, n) = (verdicts(old), verdicts(new));
    let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (a, b) = (
                o.get(k).copied().unwrap_or("passes"),
                n.get(k).copied().unwrap_or("passes"),
            );
            (a != b).then(|| format!("{k}: {a} → {b}"))
        })
        .take(limit)
        .collect()
}
