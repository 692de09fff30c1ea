//! Every CLI error a user can meet, snapshotted: message, exit code, nothing on stdout.

mod common;

use common::{conform, conform_in, seal_fixture};

fn error_snapshot(name: &str, args: &[&str], code: i32) {
    let run = conform(args);
    assert_eq!(
        run.code, code,
        "exit code of {args:?}; stderr: {}",
        run.stderr
    );
    assert_eq!(run.stdout, "", "errors go to stderr only");
    insta::assert_snapshot!(name, run.stderr);
}

#[test]
fn a_pack_with_a_syntax_error() {
    error_snapshot(
        "pack_syntax_error",
        &["policy", "validate", "fixtures/packs/bad-syntax"],
        3,
    );
}

#[test]
fn a_pack_with_a_schema_type_error() {
    error_snapshot(
        "pack_type_error",
        &["policy", "validate", "fixtures/packs/bad-type"],
        3,
    );
}

#[test]
fn a_pack_with_an_unknown_requirement() {
    error_snapshot(
        "pack_unknown_requirement",
        &["policy", "validate", "fixtures/packs/bad-requirement"],
        3,
    );
}

#[test]
fn assess_refuses_an_invalid_pack_with_exit_3() {
    error_snapshot(
        "assess_invalid_pack",
        &["assess", "--pack", "fixtures/packs/bad-type"],
        3,
    );
}

#[test]
fn a_missing_pack_directory() {
    error_snapshot(
        "pack_missing",
        &["policy", "validate", "fixtures/packs/no-such-pack"],
        2,
    );
}

#[test]
fn evidence_that_is_not_a_snapshot() {
    error_snapshot(
        "evidence_not_a_snapshot",
        &[
            "assess",
            "--pack",
            "fixtures/packs/mini",
            "--evidence",
            "fixtures/packs",
        ],
        2,
    );
}

#[test]
fn an_instant_that_is_not_rfc3339() {
    error_snapshot("bad_at", &["assess", "--at", "yesterday"], 2);
}

#[test]
fn an_unknown_parameter_override() {
    let tmp = tempfile::tempdir().unwrap();
    let root = common::root();
    let cfg = tmp.path().join("conform.toml");
    std::fs::write(
        &cfg,
        format!(
            "[assessment]\npack = \"{}\"\nevidence = \"{}\"\n\n[parameters]\nreview_intervall = \"90d\"\nreview_interval = 365\n",
            root.join("fixtures/packs/mini").display(),
            root.join("fixtures/demo/snapshot").display()
        ),
    )
    .unwrap();
    let run = conform_in(tmp.path(), &["assess"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("unknown_parameter", run.stderr);
}

#[test]
fn a_config_file_with_an_unknown_key() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("conform.toml"),
        "[assessment]\npak = \"x\"\n",
    )
    .unwrap();
    let run = conform_in(tmp.path(), &["assess"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("config_unknown_key", run.stderr);
}

#[test]
fn a_tampered_snapshot_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = seal_fixture("malformed", tmp.path());
    let path = snap.join("entities/idp.jsonl");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"mfa_enrolled\":false", "\"mfa_enrolled\":true");
    std::fs::write(&path, text).unwrap();
    let run = conform(&[
        "assess",
        "--pack",
        "fixtures/packs/mini",
        "--evidence",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 2);
    let msg = run.stderr.replace(tmp.path().to_str().unwrap(), "[TMP]");
    insta::assert_snapshot!("tampered_snapshot", msg);
}

#[test]
fn a_malformed_record_is_reported_and_the_rest_assessed() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = seal_fixture("malformed", tmp.path());
    let run = conform(&[
        "assess",
        "--pack",
        "fixtures/packs/mini",
        "--evidence",
        snap.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("Identity alice"),
        "the readable records were assessed"
    );
    insta::assert_snapshot!("malformed_record", run.stdout);
}

/// `--fail-on`: with no finding at or above it, a rule at or above it that could not be
/// assessed (only an identity source was collected) is missing evidence, exit 4, never a pass.
#[test]
fn missing_evidence_under_fail_on_exits_4() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = seal_fixture("idp-only", tmp.path());
    let evidence = snap.to_str().unwrap();
    let plain = conform(&["assess", "--evidence", evidence, "--format", "json"]);
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    let run = conform(&[
        "assess",
        "--evidence",
        evidence,
        "--format",
        "json",
        "--fail-on",
        "major",
    ]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert_eq!(run.stdout, plain.stdout, "the report is the same");
    insta::assert_snapshot!("missing_evidence_under_fail_on", run.stderr);
}

/// Standard output that cannot be written (a full disk): the output is buffered, so a short
/// report fails when it is flushed at the end and a long one while it is written; both are an
/// input/output error (exit 2) with the system's reason, never a silent success.
#[test]
fn output_that_cannot_be_written() {
    let root = common::root();
    for format in ["text", "json"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        // the committed snapshot: a clean checkout has not collected the demo yet
        let args = [
            "--config",
            "fixtures/demo/conform.toml",
            "assess",
            "--evidence",
            "fixtures/demo/snapshot",
            "--format",
            format,
        ];
        let out = common::command(&root, &args)
            .stdout(full)
            .output()
            .expect("run conform");
        assert_eq!(out.status.code(), Some(2), "--format {format}");
        insta::assert_snapshot!(
            format!("output_not_writable_{format}"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
