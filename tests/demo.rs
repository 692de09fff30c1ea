//! The bundled demo organisation end to end: the quickstart's report in every format,
//! determinism, exit codes, explain, SoA and diff.

mod common;

use common::conform;

#[allow(clippy::expect_used)] // test support: invalid JSON fails the calling test
fn json(args: &[&str]) -> serde_json::Value {
    let run = conform(args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("valid JSON")
}

#[test]
fn the_quickstart_text_report() {
    let run = conform(&["assess"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "", "nothing on stderr by default");
    insta::assert_snapshot!("demo_text", run.stdout);
}

#[test]
fn the_quickstart_json_report() {
    let run = conform(&["assess", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("demo_json", run.stdout);
}

#[test]
fn the_same_inputs_give_the_same_bytes_whatever_the_threads() {
    let a = conform(&["assess", "--format", "json"]);
    let b = std::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["assess", "--format", "json"])
        .current_dir(common::root())
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .expect("run");
    assert_eq!(a.stdout.as_bytes(), b.stdout.as_slice());
    let c = conform(&["assess", "--format", "json", "--at", "2026-11-20T06:00:00Z"]);
    assert_eq!(
        a.stdout, c.stdout,
        "--at defaults to the snapshot's created_at"
    );
}

#[test]
fn every_planted_nonconformity_is_found_and_traceable() {
    let a = json(&["assess", "--format", "json"]);
    let findings = a["findings"].as_array().expect("findings");
    assert!(findings.len() >= 30, "{} findings", findings.len());
    for f in findings {
        let sha = f["evidence"]["record_sha256"].as_str().expect("sha");
        assert_eq!(sha.len(), 64);
        assert!(f["rule"]["line"].as_u64().expect("line") > 0);
        assert!(!f["requirements"].as_array().expect("reqs").is_empty());
    }
    let kinds = |k: &str| findings.iter().filter(|f| f["kind"] == k).count();
    assert_eq!(
        kinds("indeterminate"),
        a["summary"]["findings"]["indeterminate"].as_u64().unwrap() as usize
    );
    assert!(
        kinds("indeterminate") >= 1,
        "the dangling owner is indeterminate"
    );
    let register = a["sources"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "org-register"))
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        register.contains("partial") && register.contains("record 40"),
        "the malformed risk is reported: {register}"
    );
}

/// The committed snapshot is what collecting the demo's raw exports makes, byte for byte:
/// the exports are the source of truth and the two cannot drift.
#[test]
fn collecting_the_exports_reproduces_the_committed_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("evidence");
    let collect = || {
        let args = [
            "--config",
            "fixtures/demo/conform.toml",
            "collect",
            "--quiet",
        ];
        conform(&[&args[..], &["--out", out.to_str().unwrap()]].concat())
    };
    let run = collect();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let summary = run.stdout.replace(out.to_str().unwrap(), "<out>");
    insta::assert_snapshot!("demo_collect", summary);
    let dirs: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
    assert_eq!(dirs.len(), 1);
    let collected = dirs[0].path();
    let committed = common::root().join("fixtures/demo/snapshot");
    let mut files = vec!["manifest.json".to_string()];
    for sub in ["records", "entities"] {
        for f in std::fs::read_dir(committed.join(sub)).unwrap().flatten() {
            files.push(format!("{sub}/{}", f.file_name().to_string_lossy()));
        }
    }
    for f in &files {
        let a = std::fs::read(committed.join(f)).unwrap();
        let b = std::fs::read(collected.join(f)).unwrap();
        assert!(
            a == b,
            "fixtures/demo/snapshot/{f} is stale: collect the exports again"
        );
    }
    // The same exports again: the same snapshot, found in place.
    let again = collect();
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert_eq!(again.stdout, run.stdout);
}

#[test]
fn fail_on_sets_the_exit_code() {
    assert_eq!(conform(&["assess", "--fail-on", "major"]).code, 1);
    assert_eq!(conform(&["assess", "--fail-on", "observation"]).code, 1);
    assert_eq!(conform(&["assess"]).code, 0);
}

#[test]
fn explain_shows_the_condition_and_the_source_record() {
    let a = json(&["assess", "--format", "json"]);
    let f = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"]["id"] == "iam.privileged-without-mfa")
        .expect("a privileged-without-mfa finding");
    let id = f["id"].as_str().unwrap();
    let run = conform(&["explain", &id[..10]]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(SHA-256 verified)"));
    insta::assert_snapshot!("demo_explain", run.stdout);
    let missing = conform(&["explain", "CF-0000000000000000"]);
    assert_eq!(missing.code, 2);
    insta::assert_snapshot!("explain_unknown", missing.stderr);
}

#[test]
fn the_statement_of_applicability() {
    let run = conform(&["export", "soa"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().count(),
        94,
        "a header and the 93 Annex A controls"
    );
    insta::assert_snapshot!("demo_soa_csv", run.stdout);
    let html = conform(&["export", "soa", "--format", "html"]);
    assert!(html.stdout.starts_with("<!DOCTYPE html>") && html.stdout.contains("A.8.13"));
}

#[test]
fn policy_diff_finds_verdict_flips_on_the_evidence() {
    let run = conform(&[
        "policy",
        "diff",
        "fixtures/packs/mini",
        "fixtures/packs/mini-v2",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("diff_text", run.stdout);
}

#[test]
fn the_soa_refuses_decisions_on_controls_that_do_not_exist() {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::root();
    std::fs::write(
        tmp.path().join("conform.toml"),
        format!(
            "[assessment]\npack = \"{}\"\nevidence = \"{}\"\n\n[soa.excluded]\n\"A.7.4\" = \"No premises of our own.\"\n\"A.9.1\" = \"?\"\n",
            root.join("policies/iso-ims").display(),
            root.join("fixtures/demo/snapshot").display()
        ),
    )
    .unwrap();
    let run = common::conform_in(tmp.path(), &["export", "soa"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("soa_unknown_control", run.stderr);
}

#[test]
fn the_soa_records_exclusions_with_their_justification() {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::root();
    std::fs::write(
        tmp.path().join("conform.toml"),
        format!(
            "[assessment]\npack = \"{}\"\nevidence = \"{}\"\n\n[soa.excluded]\n\"A.7.4\" = \"No premises of our own: colocation provider monitors.\"\n",
            root.join("policies/iso-ims").display(),
            root.join("fixtures/demo/snapshot").display()
        ),
    )
    .unwrap();
    let run = common::conform_in(tmp.path(), &["export", "soa", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let soa: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let row = soa["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["control"] == "A.7.4")
        .unwrap();
    assert_eq!(row["applicable"], false);
    assert_eq!(row["status"], "not_applicable");
    assert_eq!(
        row["justification"],
        "No premises of our own: colocation provider monitors."
    );
}
