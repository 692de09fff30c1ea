//! A small organisation sealed into a real snapshot for the output, bundle and gate tests:
//! four sources with raw records and entities whose record hashes point at them, a finding
//! whose entity name starts with `=` (spreadsheet formula injection), an owner reference
//! that dangles (an indeterminate finding), and a service with its change record.
#![allow(clippy::expect_used, dead_code)] // test support: a failure here is a test failure

use std::path::{Path, PathBuf};

use conform_engine::fs::{SnapshotWriter, SourceMeta};
use conform_engine::snapshot::SourceStatus;
use serde_json::{json, Value};

pub const CREATED_AT: &str = "2026-11-20T06:00:00Z";

fn ticket(key: &str, kind: &str, status: &str, extra: Value) -> (String, String, Value) {
    let mut attrs = json!({
        "kind": kind, "status": status, "key": key, "major": false,
        "created_at": "2026-11-01T09:00:00Z", "approval": "not_required",
        "backout_plan": false, "test_plan": false, "lessons_learned": false, "root_cause": false,
        "effectiveness_verified": false, "known_error": false, "workaround": false,
        "pii_involved": false, "affected": []
    });
    if let (Some(a), Some(x)) = (attrs.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            a.insert(k.clone(), v.clone());
        }
    }
    (format!("itsm:{key}"), key.to_string(), attrs)
}

fn identity(
    id: &str,
    name: &str,
    status: &str,
    privileged: bool,
    mfa: bool,
) -> (String, String, Value) {
    (
        id.to_string(),
        name.to_string(),
        json!({
            "kind": "human", "status": status, "login": id, "privileged": privileged,
            "break_glass": false, "mfa_enrolled": mfa,
            "mfa_methods": if mfa { json!(["webauthn"]) } else { json!([]) },
            "last_login_at": "2026-11-19T08:00:00Z",
            "last_awareness_training_at": "2026-03-01T08:00:00Z"
        }),
    )
}

fn asset(
    id: &str,
    owner: &str,
    criticality: &str,
    backup_required: bool,
) -> (String, String, Value) {
    (
        format!("cmdb:{id}"),
        id.to_string(),
        json!({
            "class": "database", "lifecycle": "active", "environment": "production",
            "criticality": criticality, "in_scope": true, "data_bearing": true,
            "backup_required": backup_required, "owner": owner, "classification": "confidential",
            "last_discovered_at": "2026-11-19T00:00:00Z", "updated_at": "2026-11-01T00:00:00Z"
        }),
    )
}

/// The entities of each source: (source, kind, provides, [(type, [(id, name, attrs)])]).
#[allow(clippy::type_complexity)]
fn sources() -> Vec<(
    &'static str,
    &'static str,
    Vec<&'static str>,
    Vec<(&'static str, Vec<(String, String, Value)>)>,
)> {
    vec![
        (
            "idp",
            "okta",
            vec!["Organization", "Identity"],
            vec![
                (
                    "Organization",
                    vec![("org".into(), "Acme Ltd".into(), json!({"name": "Acme Ltd"}))],
                ),
                (
                    "Identity",
                    vec![
                        identity("alice", "Alice Admin", "active", true, false),
                        identity("bob", "Bob Leaver", "disabled", false, false),
                        identity("carol", "Carol Owner", "active", true, true),
                        identity("dave", "Dave Approver", "active", false, true),
                        identity(
                            "=cmd",
                            "=HYPERLINK(\"http://evil.example\",\"click\")",
                            "active",
                            true,
                            false,
                        ),
                    ],
                ),
            ],
        ),
        (
            "cmdb",
            "servicenow",
            vec!["Asset", "Service"],
            vec![
                (
                    "Asset",
                    vec![
                        asset("pay-db", "bob", "critical", true),
                        asset("pay-app", "carol", "high", false),
                        asset("ghost", "nobody", "low", false),
                        asset("hr-db", "carol", "high", true),
                    ],
                ),
                (
                    "Service",
                    vec![(
                        "svc:payments".into(),
                        "Payments".into(),
                        json!({
                            "status": "live", "criticality": "critical", "in_catalogue": true,
                            "sla_defined": true, "owner": "carol",
                            "components": ["cmdb:pay-db", "cmdb:pay-app"],
                            "last_report_at": "2026-11-01T00:00:00Z",
                            "last_continuity_test_at": "2026-06-01T00:00:00Z",
                            "last_capacity_review_at": "2026-09-01T00:00:00Z"
                        }),
                    )],
                ),
            ],
        ),
        (
            "itsm",
            "jira",
            vec!["Ticket"],
            vec![(
                "Ticket",
                vec![
                    ticket(
                        "CHG-1",
                        "change",
                        "new",
                        json!({
                            "change_type": "normal", "approval": "approved", "approved_at": "2026-11-18T10:00:00Z",
                            "requester": "carol", "approver": "dave", "risk": "medium",
                            "backout_plan": true, "test_plan": true,
                            "planned_start_at": "2026-11-21T20:00:00Z", "planned_end_at": "2026-11-21T22:00:00Z",
                            "affected": ["cmdb:pay-app"], "service": "svc:payments"
                        }),
                    ),
                    ticket(
                        "CHG-2",
                        "change",
                        "new",
                        json!({
                            "change_type": "normal", "approval": "approved", "approved_at": "2026-11-18T10:00:00Z",
                            "requester": "carol", "approver": "carol", "risk": "medium",
                            "backout_plan": false, "test_plan": true,
                            "planned_start_at": "2026-11-21T20:00:00Z", "planned_end_at": "2026-11-21T22:00:00Z",
                            "affected": ["cmdb:pay-app"], "service": "svc:payments"
                        }),
                    ),
                    ticket(
                        "INC-1",
                        "incident",
                        "in_progress",
                        json!({
                            "major": true, "priority": "p1", "affected": ["cmdb:pay-db"],
                            "triaged_at": "2026-11-01T09:05:00Z"
                        }),
                    ),
                    ticket(
                        "INC-2",
                        "incident",
                        "open",
                        json!({
                            "major": true, "priority": "p1", "affected": ["cmdb:hr-db"]
                        }),
                    ),
                    ticket(
                        "MR-1",
                        "management_review",
                        "closed",
                        json!({
                            "created_at": "2026-05-01T09:00:00Z", "closed_at": "2026-06-01T09:00:00Z"
                        }),
                    ),
                ],
            )],
        ),
        (
            "backup",
            "restic",
            vec!["BackupJob"],
            vec![(
                "BackupJob",
                vec![(
                    "restic:pay-db".into(),
                    "pay-db backups".into(),
                    json!({
                        "tool": "restic", "repository": "s3:backups/pay-db", "asset": "cmdb:pay-db",
                        "encrypted": true, "last_success_at": "2026-11-20T02:00:00Z",
                        "last_run_at": "2026-11-20T01:30:00Z", "last_status": "success",
                        "last_check_at": "2026-11-15T00:00:00Z", "last_check_ok": true,
                        "oldest_restore_point_at": "2026-08-01T00:00:00Z"
                    }),
                )],
            )],
        ),
    ]
}

/// Seals the organisation into `dir/acme` and returns the snapshot's directory. `skip` names
/// sources to leave out (their types then have no evidence).
pub fn acme_snapshot_without(dir: &Path, skip: &[&str]) -> PathBuf {
    acme_snapshot_with(dir, skip, &[])
}

/// [`acme_snapshot_without`], whose sources do not declare the attributes `undeclared`
/// (`(type, attribute)`): no source supplies them.
pub fn acme_snapshot_with(dir: &Path, skip: &[&str], undeclared: &[(&str, &str)]) -> PathBuf {
    let snap = dir.join("acme");
    let mut w = SnapshotWriter::create(&snap).expect("create");
    for (name, kind, provides, types) in sources() {
        if skip.contains(&name) {
            continue;
        }
        let mut s = w
            .source(SourceMeta {
                name: name.into(),
                kind: kind.into(),
                connector_version: "0.1.0".into(),
                started_at: "2026-11-20T05:59:00Z".into(),
                provides: provides.iter().map(|p| p.to_string()).collect(),
                // The fixture's sources stand for systems that supply every attribute of the
                // types they provide; an attribute an entity lacks is a value it does not have.
                attributes: Some(
                    conform_engine::evaluate::attributes::all_attributes()
                        .into_iter()
                        .filter(|(t, _)| provides.contains(&t.as_str()))
                        .map(|(t, attrs)| {
                            let kept = attrs
                                .into_iter()
                                .filter(|a| !undeclared.contains(&(t.as_str(), a.as_str())))
                                .collect();
                            (t, kept)
                        })
                        .collect(),
                ),
            })
            .expect("source");
        let mut lines = String::new();
        for (ty, entities) in types {
            for (id, name, attrs) in entities {
                let raw = serde_json::to_vec(&json!({"id": id, "name": name, "fields": attrs}))
                    .expect("raw");
                let sha = s.record(&raw).expect("record");
                let line = json!({
                    "type": ty, "id": id, "name": name,
                    "record": {"id": id, "sha256": sha}, "attrs": attrs
                });
                lines.push_str(&line.to_string());
                lines.push('\n');
            }
        }
        s.raw_entity_lines(&lines).expect("lines");
        s.finish(SourceStatus::Ok, None, CREATED_AT)
            .expect("finish");
    }
    w.finish("Acme Ltd", CREATED_AT).expect("manifest");
    snap
}

pub fn acme_snapshot(dir: &Path) -> PathBuf {
    acme_snapshot_without(dir, &[])
}
