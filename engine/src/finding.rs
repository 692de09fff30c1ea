//! Findings: one (rule, entity) nonconformity or indeterminate result, traceable to the rule
//! text and to the raw source record.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;

use arcstr::ArcStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How a certification audit grades a nonconformity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Observation,
    Minor,
    Major,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Observation => "observation",
            Severity::Minor => "minor",
            Severity::Major => "major",
        }
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "observation" => Ok(Severity::Observation),
            "minor" => Ok(Severity::Minor),
            "major" => Ok(Severity::Major),
            other => Err(format!(
                "unknown severity `{other}` (expected major, minor or observation)"
            )),
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a finding says about its entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    /// The rule's nonconformity condition held.
    Nonconformity,
    /// The rule could not be evaluated on the entity (a Cedar error): never a pass.
    Indeterminate,
}

/// Whether a finding is open or covered by a waiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Open,
    Waived,
}

/// The rule a finding comes from. Its texts are shared by every finding of the rule
/// ([`ArcStr`]: one reference count, no copy), as are the other texts below that are the same
/// for many findings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleRef {
    pub id: ArcStr,
    pub title: ArcStr,
    pub pack: ArcStr,
    pub version: ArcStr,
    pub digest: ArcStr,
    pub file: ArcStr,
    pub line: usize,
}

/// The entity a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub entity_type: ArcStr,
    pub id: String,
    pub name: String,
}

/// Where the entity's evidence came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    pub source: ArcStr,
    pub record_id: String,
    pub record_sha256: String,
    pub snapshot: ArcStr,
    pub collected_at: String,
}

/// One finding. The JSON form is documented in `docs/findings.md`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub id: String,
    pub kind: FindingKind,
    pub severity: Severity,
    pub status: FindingStatus,
    pub rule: RuleRef,
    pub requirements: Arc<[ArcStr]>,
    pub entity: EntityRef,
    pub evidence: EvidenceRef,
    /// The values at the attribute paths the rule's condition reads, as evaluated.
    pub values: ReadValues,
    /// Cedar's error, for an indeterminate finding.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub message: String,
    pub remediation: ArcStr,
    pub assessed_at: ArcStr,
}

/// The values a finding's rule read, by attribute path, in path order: a map in JSON, held
/// as one exact-size slice (a finding reads a handful; a `BTreeMap` node takes ~900 bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadValues(Box<[(ArcStr, serde_json::Value)]>);

impl ReadValues {
    /// The values of `pairs`; of pairs with the same path, the last one.
    pub fn new(mut pairs: Vec<(ArcStr, serde_json::Value)>) -> Self {
        pairs.reverse();
        // stable: of equal paths the last given comes first and is kept
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.dedup_by(|later, first| later.0 == first.0);
        Self(pairs.into_boxed_slice())
    }

    pub fn get(&self, path: &str) -> Option<&serde_json::Value> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(path))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// (path, value) pairs in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&ArcStr, &serde_json::Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl Serialize for ReadValues {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for ReadValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map = BTreeMap::<ArcStr, serde_json::Value>::deserialize(d)?;
        Ok(Self(map.into_iter().collect()))
    }
}

impl Finding {
    /// Whether the finding's rule tests the requirement `id`.
    pub fn tests_requirement(&self, id: &str) -> bool {
        self.requirements.iter().any(|r| r == id)
    }
}

/// The stable id of the finding of `rule_id` on an entity: the same across assessments, so
/// that a finding can be tracked, waived and de-duplicated.
pub fn finding_id(rule_id: &str, entity_type: &str, entity_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(entity_type.as_bytes());
    h.update([0]);
    h.update(entity_id.as_bytes());
    let hex = hex::encode(h.finalize());
    format!("CF-{}", &hex[..16])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    #[test]
    fn read_values_are_a_json_map_in_path_order_the_last_value_of_a_path_kept() {
        let v = ReadValues::new(vec![
            ("resource.status".into(), json!("active")),
            ("context.now".into(), json!("2026-11-25T00:00:00Z")),
            ("resource.status".into(), json!("disabled")),
        ]);
        assert_eq!(v.len(), 2);
        assert_eq!(v.get("resource.status"), Some(&json!("disabled")));
        assert_eq!(v.get("resource.owner"), None);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(
            text,
            r#"{"context.now":"2026-11-25T00:00:00Z","resource.status":"disabled"}"#
        );
        let back: ReadValues = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(ReadValues::default().is_empty());
        assert_eq!(serde_json::to_string(&ReadValues::default()).unwrap(), "{}");
    }

    #[test]
    fn finding_ids_are_stable_and_distinct() {
        let a = finding_id("iam.x", "Identity", "u1");
        assert_eq!(a, finding_id("iam.x", "Identity", "u1"));
        assert_ne!(a, finding_id("iam.x", "Identity", "u2"));
        assert_ne!(finding_id("a", "b", "c"), finding_id("a", "bc", ""));
        assert_eq!(a.len(), 19);
    }

    #[test]
    fn severities_order_for_fail_on() {
        assert!(Severity::Major > Severity::Minor && Severity::Minor > Severity::Observation);
        assert_eq!("minor".parse::<Severity>(), Ok(Severity::Minor));
        assert!("blocker".parse::<Severity>().is_err());
    }
}
