//! `conform gate`: only what the deployment touches is assessed, and the exit code says go (0),
//! findings (1), input error (2) or missing evidence (4).
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "readers/fixture.rs"]
mod fixture;

/// Snapshots with SHA-256 values redacted: the messages must name what failed, and the hashes
/// change whenever a fixture or the pack does.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![(r"[0-9a-f]{64}", "[sha256]")]}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

use std::path::Path;
use std::process::Command;

use common::{conform, root};
use serde_json::Value;

fn gate(snap: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "gate",
        "--evidence",
        snap.to_str().unwrap(),
        "--service",
        "payments",
    ];
    args.extend_from_slice(extra);
    conform(&args)
}

fn json(run: &common::Run) -> Value {
    serde_json::from_str(&run.stdout).expect("gate JSON")
}

#[test]
fn a_clean_deployment_goes() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot(tmp.path());
    let run = gate(&snap, &["--change", "CHG-1"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    snap!("gate_go", run.stdout);
    // The same deployment with a stricter threshold stops on the minor findings.
    assert_eq!(
        gate(&snap, &["--change", "CHG-1", "--fail-on", "minor"]).code,
        1
    );
}

#[test]
fn a_self_approved_change_without_backout_plan_stops_the_deployment() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot(tmp.path());
    let run = gate(&snap, &["--change", "CHG-2"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    snap!("gate_no_go", run.stdout);
    let j = json(&gate(&snap, &["--change", "CHG-2", "--format", "json"]));
    assert_eq!(j["format"], "conform-gate/1");
    assert_eq!(j["decision"], "no-go");
    assert_eq!(j["exit"], 1);
    let rules: Vec<&str> = j["assessment"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["entity"]["id"] == "itsm:CHG-2")
        .map(|f| f["rule"]["id"].as_str().unwrap())
        .collect();
    assert!(
        rules.contains(&"change.requester-approves-own-change"),
        "{rules:?}"
    );
    assert!(rules.contains(&"change.backout-plan-missing"), "{rules:?}");
}

#[test]
fn only_what_the_deployment_touches_is_assessed() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot(tmp.path());
    let j = json(&gate(&snap, &["--change", "CHG-1", "--format", "json"]));
    let touched: Vec<(String, Vec<String>)> = j["touched"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["roles"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let ids: Vec<&str> = touched.iter().map(|(i, _)| i.as_str()).collect();
    for must in [
        "svc:payments",
        "cmdb:pay-db",
        "cmdb:pay-app",
        "bob",
        "carol",
        "restic:pay-db",
        "itsm:INC-1",
        "itsm:CHG-1",
    ] {
        assert!(ids.contains(&must), "{must} is touched: {ids:?}");
    }
    for never in [
        "alice",
        "=cmd",
        "cmdb:hr-db",
        "itsm:INC-2",
        "itsm:CHG-2",
        "cmdb:ghost",
        "org",
    ] {
        assert!(!ids.contains(&never), "{never} is not touched: {ids:?}");
    }
    let role = |id: &str| touched.iter().find(|(i, _)| i == id).unwrap().1.clone();
    assert_eq!(role("itsm:INC-1"), ["incident"]);
    assert_eq!(role("restic:pay-db"), ["backup"]);
    assert_eq!(role("itsm:CHG-1"), ["change"]);
    // Every finding is about a touched entity; alice's missing MFA is not this deployment's.
    for f in j["assessment"]["findings"].as_array().unwrap() {
        assert!(ids.contains(&f["entity"]["id"].as_str().unwrap()), "{f}");
    }
    let full = conform(&[
        "assess",
        "--evidence",
        snap.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let full: Value = serde_json::from_str(&full.stdout).unwrap();
    assert!(full["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["entity"]["id"] == "alice"));
    // Population rules are not gated, and say so.
    assert!(j["not_gated"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["reason"].as_str().unwrap().contains("population fact")));
}

#[test]
fn missing_evidence_for_a_gated_requirement_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot_without(tmp.path(), &["itsm"]);
    let run = gate(&snap, &["--change", "CHG-1"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    snap!("gate_missing_evidence", run.stdout);
    let unknown = gate(&snap, &[]);
    assert_eq!(unknown.code, 4);
    let tmp2 = tempfile::tempdir().unwrap();
    let full = fixture::acme_snapshot(tmp2.path());
    let run = conform(&[
        "gate",
        "--evidence",
        full.to_str().unwrap(),
        "--service",
        "billing",
    ]);
    assert_eq!(run.code, 4);
    assert!(run
        .stdout
        .contains("service `billing` is not in the snapshot"));
}

/// A gated rule that reads an attribute no source supplies is evidence missing (exit 4) when it
/// could apply to what the deployment touches; a rule that cannot apply to it whatever the
/// attribute holds (a security-incident rule on a change record) is not.
#[test]
fn a_gated_rule_reading_an_unsupplied_attribute_is_missing_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot_with(tmp.path(), &[], &[("Identity", "access_request")]);
    let run = gate(&snap, &["--change", "CHG-1", "--format", "json"]);
    assert_eq!(run.code, 4, "{}\n{}", run.stdout, run.stderr);
    let missing = json(&run)["missing_evidence"].to_string();
    assert!(
        missing.contains("iam.privileged-without-approved-request")
            && missing.contains("`Identity.access_request`"),
        "{missing}"
    );
    // The demo supplies no forensic fields: security-incident rules cannot be assessed, but
    // they cannot apply to a change record either.
    let demo = conform(&[
        "gate",
        "--service",
        "payments-api",
        "--change",
        "CHG-1060",
        "--format",
        "json",
    ]);
    let missing = json(&demo)["missing_evidence"].to_string();
    assert!(!missing.contains("security-incident"), "{missing}");
}

#[test]
fn input_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot(tmp.path());
    let run = gate(&snap, &["--change", "INC-1"]);
    assert_eq!(run.code, 2);
    snap!("gate_not_a_change", run.stderr);
    assert_eq!(gate(&snap, &["--fail-on", "blocker"]).code, 2);
}

#[test]
fn sarif_and_junit_gate_reports_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = fixture::acme_snapshot(tmp.path());
    for (format, reader) in [("sarif", "read_sarif"), ("junit", "read_junit")] {
        let run = gate(&snap, &["--change", "CHG-2", "--format", format]);
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains("NO-GO"), "{}", run.stderr);
        let file = tmp.path().join(format!("gate.{format}"));
        std::fs::write(&file, &run.stdout).unwrap();
        let out = Command::new("python3")
            .arg(root().join("tests/readers").join(format!("{reader}.py")))
            .arg(&file)
            .output()
            .expect("python3 must be installed");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        if format == "sarif" {
            assert!(v["fingerprints"].as_array().unwrap().len() >= 2);
        } else {
            assert!(v["suites"][0]["failures"].as_u64().unwrap() >= 1);
        }
    }
}

#[test]
fn the_demo_service_gate_is_deterministic() {
    let a = conform(&["gate", "--service", "payments-api", "--format", "json"]);
    assert!(matches!(a.code, 0 | 1), "{}", a.stderr);
    let b = conform(&[
        "gate",
        "--service",
        "servicenow-cmdb:payments-api",
        "--format",
        "json",
    ]);
    assert_eq!(
        a.stdout, b.stdout,
        "the id suffix and the full id name the same service"
    );
    let j = json(&a);
    assert!(
        j["touched"].as_array().unwrap().len() < 40,
        "a subset, not the organisation"
    );
    snap!(
        "gate_demo_payments",
        conform(&["gate", "--service", "Payments API"]).stdout
    );
}

mod indexed {
    //! The gate through the snapshot index gives exactly what the gate on the whole loaded
    //! snapshot gives, and a tampered index or touched record is refused.
    use std::collections::BTreeMap;
    use std::path::Path;

    use conform_engine::fs::{
        load_snapshot, open_indexed, OpenedSnapshot, SnapshotWriter, SourceMeta,
    };
    use conform_engine::gate::{gate, gate_on, GateRequest};
    use conform_engine::pack::{ParamValue, PolicyPack};
    use conform_engine::snapshot::SourceStatus;

    use super::common::{conform, root};
    use super::fixture;

    fn pack() -> (PolicyPack, BTreeMap<String, ParamValue>) {
        let files = conform_engine::fs::load_pack(&root().join("policies/iso-ims")).unwrap();
        let pack = PolicyPack::build(&files).unwrap();
        let params =
            conform_engine::pack::params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
        (pack, params)
    }

    /// Every Service of the snapshot (by id, name and id suffix) and an unknown one, with no
    /// change, each change ticket (by id and key), an incident and an unknown change: the two
    /// gates agree on the result or on the error.
    fn assert_same_gates(snap: &Path) {
        let (pack, params) = pack();
        let full = load_snapshot(snap).unwrap();
        let at = conform_engine::time::parse_rfc3339(&full.manifest.created_at).unwrap();
        let OpenedSnapshot::Indexed(mut ix) = open_indexed(snap).unwrap() else {
            panic!("{} has no index", snap.display());
        };
        let mut services = vec!["no-such-service".to_string()];
        let mut changes = vec![None, Some("NO-SUCH-CHANGE".to_string())];
        let text = |e: &conform_engine::model::EvidenceEntity, a: &str| match e.attr(a) {
            Some(conform_engine::model::value::AttrRef::String(k)) => Some(k.to_string()),
            _ => None,
        };
        let mut kinds_seen = Vec::new();
        for e in &full.entities {
            match e.type_name() {
                "Service" => {
                    services.push(e.id().to_string());
                    if services.len() < 8 {
                        services.push(e.name().to_string());
                        services.push(e.id().rsplit(':').next().unwrap().to_string());
                    }
                }
                "Ticket" => {
                    // the first change and the first incident, by id and by key
                    let kind = text(e, "kind");
                    if !kinds_seen.contains(&kind) {
                        kinds_seen.push(kind);
                        changes.push(Some(e.id().to_string()));
                        changes.extend(text(e, "key").map(Some));
                    }
                }
                _ => {}
            }
        }
        let mut compared = 0;
        for service in &services {
            for change in &changes {
                let request = GateRequest {
                    service: service.clone(),
                    change: change.clone(),
                    evaluator: Default::default(),
                };
                let a = gate(&pack, &full, at, &params, &request);
                let b = gate_on(&pack, &mut *ix, at, &params, &request);
                match (a, b) {
                    (Ok(a), Ok(b)) => assert_eq!(
                        serde_json::to_value(&a).unwrap(),
                        serde_json::to_value(&b).unwrap(),
                        "{service} {change:?} in {}",
                        snap.display()
                    ),
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{service} {change:?}: {a:?} vs {b:?}"),
                }
                compared += 1;
            }
        }
        assert!(compared >= 8, "{compared}");
    }

    #[test]
    fn the_indexed_gate_equals_the_full_load_gate_on_the_demo() {
        assert_same_gates(&root().join("fixtures/demo/snapshot"));
    }

    #[test]
    fn the_indexed_gate_equals_the_full_load_gate_on_the_acme_fixtures() {
        let tmp = tempfile::tempdir().unwrap();
        assert_same_gates(&fixture::acme_snapshot(&tmp.path().join("a")));
        assert_same_gates(&fixture::acme_snapshot_without(
            &tmp.path().join("b"),
            &["itsm"],
        ));
    }

    /// Duplicates, unreadable lines and a partial source are in the index as a full load
    /// reports them, so coverage and the findings agree.
    #[test]
    fn the_indexed_gate_equals_the_full_load_gate_with_duplicates_and_bad_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let snap = tmp.path().join("dup");
        let mut w = SnapshotWriter::create(&snap).unwrap();
        let meta = |name: &str, provides: &[&str]| SourceMeta {
            name: name.into(),
            kind: "files".into(),
            connector_version: "0".into(),
            started_at: fixture::CREATED_AT.into(),
            provides: provides.iter().map(|s| s.to_string()).collect(),
            ..SourceMeta::default()
        };
        let h = "0".repeat(64);
        let rec = format!(r#""record":{{"id":"r","sha256":"{h}"}}"#);
        let mut s = w.source(meta("cmdb", &["Asset", "Service"])).unwrap();
        s.raw_entity_lines(&format!(
            r#"{{"type":"Service","id":"svc:a","name":"A",{rec},"attrs":{{"status":"live","criticality":"critical","in_catalogue":true,"sla_defined":false,"owner":"u1","components":["a1","a2"]}}}}
{{"type":"Asset","id":"a1","name":"a1",{rec},"attrs":{{"class":"database","lifecycle":"active","environment":"production","criticality":"critical","in_scope":true,"data_bearing":true,"backup_required":true,"owner":"u1"}}}}
{{"type":"Asset","id":"a1","name":"a1 again",{rec},"attrs":{{"class":"database","lifecycle":"active","environment":"production","criticality":"low","in_scope":true,"data_bearing":false,"backup_required":false}}}}
{{"type":"Asset","id":"a2","name":"broken",{rec},"attrs":{{"class":"spaceship"}}}}
not json at all"#
        ))
        .unwrap();
        s.finish(SourceStatus::Ok, None, fixture::CREATED_AT)
            .unwrap();
        let mut s = w.source(meta("idp", &["Identity"])).unwrap();
        s.raw_entity_lines(&format!(
            r#"{{"type":"Identity","id":"u1","name":"U",{rec},"attrs":{{"kind":"human","status":"active","login":"u1","privileged":true,"break_glass":false,"mfa_enrolled":false,"mfa_methods":[]}}}}"#
        ))
        .unwrap();
        s.finish(
            SourceStatus::Partial,
            Some("page 3 timed out".into()),
            fixture::CREATED_AT,
        )
        .unwrap();
        w.finish("Dup Ltd", fixture::CREATED_AT).unwrap();
        assert!(!load_snapshot(&snap).unwrap().unreadable.is_empty());
        assert_same_gates(&snap);
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_dir() {
                copy_dir(&e.path(), &to.join(e.file_name()));
            } else {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    }

    /// Replaces the first `from` in `file` by `to` (same length: offsets stay valid).
    fn tamper(file: &Path, from: &str, to: &str) {
        assert_eq!(from.len(), to.len());
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.contains(from), "{from} in {}", file.display());
        std::fs::write(file, text.replacen(from, to, 1)).unwrap();
    }

    /// The gate of the acme fixture's payments service with change CHG-1 on `snap`.
    fn gate_run(snap: &Path) -> crate::common::Run {
        conform(&[
            "gate",
            "--evidence",
            snap.to_str().unwrap(),
            "--service",
            "payments",
            "--change",
            "CHG-1",
        ])
    }

    fn gate_error(snap: &Path) -> (i32, String) {
        let run = gate_run(snap);
        let dir = snap.display().to_string();
        (run.code, run.stderr.replace(&dir, "[snapshot]"))
    }

    #[test]
    fn a_tampered_touched_record_or_index_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let good = fixture::acme_snapshot(&tmp.path().join("good"));

        // (what is changed, in which file, from, to, the error snapshot's name)
        let cases = [
            // A touched entity's line: a change of the deployed service (read to see whether
            // it is an open incident), made to look as if it had a backout plan.
            (
                "record",
                "entities/itsm.jsonl",
                "\"backout_plan\":false",
                "\"backout_plan\":true ",
                "gate_tampered_record",
            ),
            // A chunk of the index.
            (
                "chunk",
                "index/entities-000000.jsonl",
                "svc:payments",
                "svc:paymentz",
                "gate_tampered_index_chunk",
            ),
            // The top-level index file.
            (
                "top",
                "index/index.json",
                "\"rows\":",
                "\"rowz\":",
                "gate_tampered_index",
            ),
        ];
        for (name, file, from, to, snapshot) in cases {
            let snap = tmp.path().join(name);
            copy_dir(&good, &snap);
            tamper(&snap.join(file), from, to);
            let (code, stderr) = gate_error(&snap);
            assert_eq!(code, 2, "{stderr}");
            snap!(snapshot, stderr);
        }
    }

    /// An index whose row for the deployed service claims more bytes than its entity file
    /// holds, re-hashed up to the snapshot id so that no hash gives it away: the gate refuses
    /// the row before allocating for it.
    #[test]
    fn an_index_row_past_the_end_of_its_file_is_refused() {
        use conform_engine::snapshot::{compute_snapshot_id, sha256_hex, Manifest};
        use serde_json::Value;
        let tmp = tempfile::tempdir().unwrap();
        let good = fixture::acme_snapshot(&tmp.path().join("good"));
        let snap = tmp.path().join("long-row");
        copy_dir(&good, &snap);
        let chunk_path = snap.join("index/entities-000000.jsonl");
        let mut chunk = String::new();
        for line in std::fs::read_to_string(&chunk_path).unwrap().lines() {
            let mut row: Value = serde_json::from_str(line).unwrap();
            if row[1] == "svc:payments" {
                row[4] = Value::from(1u64 << 50);
            }
            chunk.push_str(&row.to_string());
            chunk.push('\n');
        }
        assert!(chunk.contains(&(1u64 << 50).to_string()));
        std::fs::write(&chunk_path, &chunk).unwrap();
        let index_path = snap.join("index/index.json");
        let mut index: Value =
            serde_json::from_slice(&std::fs::read(&index_path).unwrap()).unwrap();
        index["tables"]["entities"][0]["sha256"] = Value::from(sha256_hex(chunk.as_bytes()));
        let index_bytes = serde_json::to_vec(&index).unwrap();
        std::fs::write(&index_path, &index_bytes).unwrap();
        let manifest_path = snap.join("manifest.json");
        let mut m: Manifest =
            serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
        let index_ref = m.index.as_mut().unwrap();
        index_ref.sha256 = sha256_hex(&index_bytes);
        index_ref.bytes = index_bytes.len() as u64;
        m.snapshot_id = compute_snapshot_id(&m);
        std::fs::write(&manifest_path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        let (code, stderr) = gate_error(&snap);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("past the end of the"), "{stderr}");
        snap!("gate_index_row_past_the_end", stderr);
    }

    #[test]
    fn a_snapshot_without_an_index_is_gated_by_a_full_load_and_says_so() {
        let tmp = tempfile::tempdir().unwrap();
        let good = fixture::acme_snapshot(&tmp.path().join("good"));
        let run = gate_run(&good);
        // the same snapshot as `conform-snapshot/1`: no index, its id recomputed
        let snap = tmp.path().join("v1");
        copy_dir(&good, &snap);
        std::fs::remove_dir_all(snap.join("index")).unwrap();
        let path = snap.join("manifest.json");
        let mut m: conform_engine::snapshot::Manifest =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        m.format = "conform-snapshot/1".into();
        m.index = None;
        m.snapshot_id = conform_engine::snapshot::compute_snapshot_id(&m);
        std::fs::write(&path, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        let old = gate_run(&snap);
        assert_eq!(old.code, run.code);
        assert!(old.stderr.contains("has no index"), "{}", old.stderr);
        assert!(!run.stderr.contains("has no index"), "{}", run.stderr);
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.contains("snapshot sha256:"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(strip(&old.stdout), strip(&run.stdout));
    }
}
