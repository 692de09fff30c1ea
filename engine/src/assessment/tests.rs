//! The engine's non-negotiable semantics, one test each, on the `fixtures/packs/mini` pack.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use super::*;
use crate::pack::params;
use crate::snapshot::{
    compute_snapshot_id, read_snapshot, sha256_hex, FileEntry, Manifest, SourceEntry,
};
use crate::time::parse_rfc3339;

const AT: &str = "2026-11-20T06:00:00Z";
const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn mini_pack() -> PolicyPack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packs/mini");
    PolicyPack::build(&crate::fs::load_pack(&dir).unwrap()).unwrap()
}

/// An in-memory snapshot: sources (name, status, provides) and each source's entity lines.
struct Fixture {
    sources: Vec<(&'static str, SourceStatus, Vec<&'static str>)>,
    lines: BTreeMap<&'static str, Vec<String>>,
    /// The manifest's `attributes` of a source; absent: derived from its entities.
    attributes: BTreeMap<&'static str, BTreeMap<String, Vec<String>>>,
}

fn entity(ty: &str, id: &str, attrs: serde_json::Value) -> String {
    json!({"type": ty, "id": id, "name": id, "record": {"id": id, "sha256": HASH}, "attrs": attrs})
        .to_string()
}

fn identity(id: &str, status: &str, privileged: bool, mfa: bool) -> String {
    entity(
        "Identity",
        id,
        json!({"kind": "human", "status": status, "login": id, "privileged": privileged,
               "break_glass": false, "mfa_enrolled": mfa, "mfa_methods": []}),
    )
}

fn asset(id: &str, owner: &str) -> String {
    entity(
        "Asset",
        id,
        json!({"class": "server", "lifecycle": "active", "environment": "production",
               "criticality": "high", "in_scope": true, "data_bearing": true,
               "backup_required": false, "owner": owner}),
    )
}

fn review(id: &str, closed_at: &str) -> String {
    entity(
        "Ticket",
        id,
        json!({"kind": "management_review", "status": "closed", "key": id, "major": false,
               "created_at": closed_at, "closed_at": closed_at, "approval": "not_required",
               "backout_plan": false, "test_plan": false, "lessons_learned": false,
               "root_cause": false, "effectiveness_verified": false, "known_error": false,
               "workaround": false, "pii_involved": false, "affected": []}),
    )
}

fn org() -> String {
    entity("Organization", "org", json!({"name": "Acme"}))
}

impl Fixture {
    fn new() -> Self {
        Self {
            sources: vec![
                ("idp", SourceStatus::Ok, vec!["Identity", "Organization"]),
                ("cmdb", SourceStatus::Ok, vec!["Asset"]),
                ("itsm", SourceStatus::Ok, vec!["Ticket"]),
            ],
            lines: BTreeMap::from([
                (
                    "idp",
                    vec![
                        org(),
                        identity("alice", "active", true, false),
                        identity("bob", "active", true, true),
                        identity("carol", "disabled", true, false),
                    ],
                ),
                ("cmdb", vec![asset("db-1", "bob"), asset("db-2", "carol")]),
                ("itsm", vec![review("MR-1", "2026-03-01T00:00:00Z")]),
            ]),
            attributes: BTreeMap::new(),
        }
    }

    fn snapshot(&self) -> EvidenceSnapshot {
        let mut files = BTreeMap::new();
        let mut sources = Vec::new();
        for (name, status, provides) in &self.sources {
            if let Some(lines) = self.lines.get(name) {
                let mut text = lines.join("\n");
                text.push('\n');
                files.insert(crate::snapshot::entities_path(name), text.into_bytes());
            }
            sources.push(SourceEntry {
                name: name.to_string(),
                kind: "test".into(),
                connector_version: "0".into(),
                status: *status,
                error: (*status != SourceStatus::Ok).then(|| "HTTP 503".to_string()),
                started_at: AT.into(),
                finished_at: AT.into(),
                provides: provides.iter().map(|s| s.to_string()).collect(),
                attributes: self.attributes.get(name).cloned(),
                records: 0,
                entities: BTreeMap::new(),
                attributes_from_data: None,
                lost_types: None,
            });
        }
        let mut manifest = Manifest {
            format: crate::snapshot::FORMAT.into(),
            snapshot_id: String::new(),
            organization: "Acme".into(),
            created_at: AT.into(),
            sources,
            index: None,
            files: files
                .iter()
                .map(|(p, b)| FileEntry {
                    path: p.clone(),
                    sha256: sha256_hex(b),
                    bytes: b.len() as u64,
                })
                .collect(),
        };
        manifest.snapshot_id = compute_snapshot_id(&manifest);
        read_snapshot(manifest, |p| {
            files
                .get(p)
                .map(Vec::as_slice)
                .ok_or_else(|| "missing".into())
        })
        .unwrap()
    }

    fn assess(&self) -> Assessment {
        self.assess_with(&mini_pack())
    }

    fn assess_with(&self, pack: &PolicyPack) -> Assessment {
        let values = params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
        assess(pack, &self.snapshot(), parse_rfc3339(AT).unwrap(), &values).unwrap()
    }
}

fn rule<'a>(a: &'a Assessment, id: &str) -> &'a RuleResult {
    a.rules.iter().find(|r| r.id == id).unwrap()
}

fn requirement<'a>(a: &'a Assessment, id: &str) -> &'a RequirementResult {
    a.requirements.iter().find(|r| r.id == id).unwrap()
}

#[test]
fn a_rule_fires_only_where_its_condition_holds() {
    let a = Fixture::new().assess();
    let fired: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule.id == "t.privileged-without-mfa")
        .map(|f| f.entity.id.as_str())
        .collect();
    assert_eq!(
        fired,
        vec!["alice"],
        "carol is disabled: the near miss must not fire"
    );
    let f = a.findings.iter().find(|f| f.entity.id == "alice").unwrap();
    assert_eq!(f.kind, FindingKind::Nonconformity);
    assert_eq!(f.severity, Severity::Major);
    assert_eq!(f.values.get("resource.mfa_enrolled"), Some(&json!(false)));
    assert_eq!(f.evidence.source, "idp");
    assert_eq!(f.evidence.record_sha256, HASH);
    assert_eq!(f.rule.file, "rules/rules.cedar");
    assert_eq!(f.rule.line, 1);
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.8.5").status,
        Status::Nonconforming
    );
    assert_eq!(
        requirement(&a, "ISO20000-1:2018/8.7.3.2").status,
        Status::Nonconforming
    );
}

#[test]
fn an_erroring_rule_is_indeterminate_never_a_pass() {
    let mut fx = Fixture::new();
    // db-2's owner does not exist in the evidence: reading its status is a Cedar error
    fx.lines
        .insert("cmdb", vec![asset("db-1", "bob"), asset("db-2", "nobody")]);
    let a = fx.assess();
    let f = a.findings.iter().find(|f| f.entity.id == "db-2").unwrap();
    assert_eq!(f.kind, FindingKind::Indeterminate);
    let err = f.error.as_deref().unwrap();
    assert!(err.contains("nobody"), "Cedar's error is carried: {err}");
    assert_eq!(
        f.values.get("resource.owner.status"),
        Some(&json!("(no Identity `nobody` in the evidence)"))
    );
    assert_eq!(rule(&a, "t.owner-not-active").status, Status::Indeterminate);
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.5.9").status,
        Status::Indeterminate
    );
    assert_eq!(a.summary.findings.indeterminate, 1);
}

#[test]
fn an_empty_entity_type_is_not_assessed_never_conforming() {
    let mut fx = Fixture::new();
    fx.lines.insert("cmdb", vec![]);
    let a = fx.assess();
    let r = rule(&a, "t.owner-not-active");
    assert_eq!(r.status, Status::NotAssessed);
    assert_eq!(
        r.reason.as_deref(),
        Some("no evidence: no `Asset` entities in the evidence")
    );
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.5.9").status,
        Status::NotAssessed
    );
}

#[test]
fn a_failed_or_absent_source_is_not_assessed_never_conforming() {
    let mut fx = Fixture::new();
    fx.sources[1].1 = SourceStatus::Failed;
    fx.lines.remove("cmdb");
    let a = fx.assess();
    assert_eq!(rule(&a, "t.owner-not-active").status, Status::NotAssessed);
    assert!(rule(&a, "t.owner-not-active")
        .reason
        .as_deref()
        .unwrap()
        .contains("source `cmdb` failed"));

    let mut fx = Fixture::new();
    fx.sources.remove(1);
    fx.lines.remove("cmdb");
    let a = fx.assess();
    assert_eq!(
        rule(&a, "t.owner-not-active").reason.as_deref(),
        Some("no evidence: no source provides `Asset`")
    );
}

#[test]
fn a_partial_source_can_find_nonconformities_but_never_conclude_conforming() {
    let mut fx = Fixture::new();
    fx.sources[0].1 = SourceStatus::Partial;
    let a = fx.assess();
    assert_eq!(
        rule(&a, "t.privileged-without-mfa").status,
        Status::Nonconforming
    );
    fx.lines
        .insert("idp", vec![org(), identity("bob", "active", true, true)]);
    let a = fx.assess();
    let r = rule(&a, "t.privileged-without-mfa");
    assert_eq!(r.status, Status::NotAssessed);
    assert!(r
        .reason
        .as_deref()
        .unwrap()
        .starts_with("evidence incomplete: source `idp`"));
}

#[test]
fn a_malformed_record_is_reported_with_file_and_line_and_the_rest_is_assessed() {
    let mut fx = Fixture::new();
    let mut idp = fx.lines["idp"].clone();
    idp.insert(
        2,
        r#"{"type":"Identity","id":"eve","name":"Eve""#.to_string(),
    );
    fx.lines.insert("idp", idp);
    let a = fx.assess();
    assert_eq!(a.unreadable.len(), 1);
    assert_eq!(a.unreadable[0].file, "entities/idp.jsonl");
    assert_eq!(a.unreadable[0].line, Some(3));
    assert!(a.unreadable[0].error.starts_with("invalid JSON"));
    assert!(
        a.findings.iter().any(|f| f.entity.id == "alice"),
        "the rest was assessed"
    );
    // ... but Identity evidence is incomplete, so no conformity claim rests on it
    assert!(matches!(
        a.evidence
            .iter()
            .find(|e| e.entity_type == "Identity")
            .unwrap()
            .coverage,
        Coverage::Incomplete(_)
    ));
}

#[test]
fn a_population_rule_reads_facts() {
    // the review was 8.5 months ago: within 365d
    let a = Fixture::new().assess();
    assert_eq!(rule(&a, "t.review-overdue").status, Status::Conforming);
    assert_eq!(a.facts[0].value, json!("2026-03-01T00:00:00Z"));

    let mut fx = Fixture::new();
    fx.lines
        .insert("itsm", vec![review("MR-0", "2025-01-01T00:00:00Z")]);
    let a = fx.assess();
    assert_eq!(rule(&a, "t.review-overdue").status, Status::Nonconforming);
    let f = a
        .findings
        .iter()
        .find(|f| f.rule.id == "t.review-overdue")
        .unwrap();
    assert_eq!(
        f.values.get("context.facts.last_review"),
        Some(&json!("2025-01-01T00:00:00Z"))
    );
    assert_eq!(
        f.values.get("context.params.review_interval"),
        Some(&json!("365d"))
    );
}

#[test]
fn a_population_without_evidence_is_not_assessed_not_an_absent_review() {
    let mut fx = Fixture::new();
    fx.sources[2].1 = SourceStatus::Failed;
    fx.lines.remove("itsm");
    let a = fx.assess();
    let r = rule(&a, "t.review-overdue");
    assert_eq!(
        r.status,
        Status::NotAssessed,
        "a failed ticketing source is not 'no review held'"
    );
    assert!(r
        .reason
        .as_deref()
        .unwrap()
        .starts_with("fact `last_review` has no evidence"));
    assert!(!a.findings.iter().any(|f| f.rule.id == "t.review-overdue"));
}

#[test]
fn requirements_without_rules_are_manual_or_not_assessed() {
    let a = Fixture::new().assess();
    // A.7.1 physical perimeters: manual in the catalog
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.7.1").status,
        Status::Manual
    );
    let s = &a.summary.standards[0];
    assert_eq!(
        s.total,
        s.conforming + s.nonconforming + s.not_assessed + s.indeterminate + s.manual
    );
}

#[test]
fn the_same_inputs_give_the_same_bytes() {
    let fx = Fixture::new();
    let one = serde_json::to_string(&fx.assess()).unwrap();
    let two = serde_json::to_string(&fx.assess()).unwrap();
    assert_eq!(one, two);
}

/// A snapshot not built by `build_model` (a policy test case) may hold an id twice: the two
/// findings keep the order their entities have, whatever order they were evaluated in.
#[test]
fn findings_on_one_id_held_twice_keep_the_entities_order() {
    let fx = Fixture::new();
    let pack = mini_pack();
    let values = params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
    for (first, second) in [("one", "two"), ("two", "one")] {
        let mut snapshot = fx.snapshot();
        let i = snapshot
            .entities
            .iter()
            .position(|e| e.id() == "alice")
            .unwrap();
        let mut twin = snapshot.entities[i].clone();
        snapshot.entities[i].rename(first);
        twin.rename(second);
        snapshot.entities.insert(i + 1, twin);
        let a = assess(&pack, &snapshot, parse_rfc3339(AT).unwrap(), &values).unwrap();
        let names: Vec<&str> = a
            .findings
            .iter()
            .filter(|f| f.rule.id == "t.privileged-without-mfa")
            .map(|f| f.entity.name.as_str())
            .collect();
        assert_eq!(names, [first, second]);
    }
}

#[test]
fn an_evidence_fact_with_an_empty_population_makes_its_rules_not_assessed() {
    // the identity source supplies training dates but no identity carries one: "not assessed",
    // not "conforming"
    let mut fx = Fixture::new();
    fx.attributes.insert(
        "idp",
        BTreeMap::from([(
            "Identity".to_string(),
            vec!["last_awareness_training_at".to_string()],
        )]),
    );
    let a = fx.assess();
    let r = rule(&a, "t.training-overdue");
    assert_eq!(r.status, Status::NotAssessed);
    assert!(r
        .reason
        .as_deref()
        .unwrap()
        .contains("evidence condition of fact `training_evidence`"));
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.6.3").status,
        Status::NotAssessed
    );

    // one account with a training date: the feed exists, the others are overdue
    let mut fx = Fixture::new();
    let mut idp = fx.lines["idp"].clone();
    idp.push(entity(
        "Identity",
        "dora",
        json!({"kind": "human", "status": "active", "login": "dora", "privileged": false,
               "break_glass": false, "mfa_enrolled": true, "mfa_methods": [],
               "last_awareness_training_at": "2026-10-01T00:00:00Z"}),
    ));
    fx.lines.insert("idp", idp);
    let a = fx.assess();
    assert_eq!(rule(&a, "t.training-overdue").status, Status::Nonconforming);
    assert!(!a
        .findings
        .iter()
        .any(|f| f.rule.id == "t.training-overdue" && f.entity.id == "dora"));
}

#[test]
fn an_unreadable_record_taints_only_its_own_entity_type_when_it_says_which() {
    let mut fx = Fixture::new();
    let mut idp = fx.lines["idp"].clone();
    // readable JSON, a known type, a bad attribute: only Identity evidence is incomplete
    idp.push(identity("eve", "sleeping", false, false));
    fx.lines.insert("idp", idp);
    let a = fx.assess();
    assert_eq!(a.unreadable[0].entity_type.as_deref(), Some("Identity"));
    let coverage = |t: &str| {
        a.evidence
            .iter()
            .find(|e| e.entity_type == t)
            .unwrap()
            .coverage
            .clone()
    };
    assert!(matches!(coverage("Identity"), Coverage::Incomplete(_)));
    assert_eq!(
        coverage("Organization"),
        Coverage::Complete,
        "the same source's other types are complete"
    );
}

#[path = "attribute_tests.rs"]
mod attribute_tests;
