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
