//! `conform run`: collect, then assess the new snapshot, in one command — the README's
//! quickstart on the demo's raw exports.

mod common;

use common::conform;

#[test]
fn run_collects_the_demo_exports_then_assesses_them() {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().display().to_string();
    let run = conform(&[
        "--config",
        "fixtures/demo/conform.toml",
        "run",
        "--out",
        &out_dir,
        "--quiet",
        "--format",
        "json",
        "--fail-on",
        "major",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // The collection summary is on stderr, the report alone on stdout.
    assert!(
        run.stderr.contains("org-register     files       partial"),
        "{}",
        run.stderr
    );
    let committed = conform(&["assess", "--format", "json"]);
    assert!(
        run.stdout == committed.stdout,
        "the report of the collected exports differs from the committed snapshot's"
    );
}

#[test]
fn run_stops_at_a_configuration_error_before_collecting() {
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("conform.toml");
    std::fs::write(
        &config,
        "[assessment]\nevidence = \"evidence\"\n\n[sources.x]\nkind = \"jira\"\nurl = \"https://x.example\"\n",
    )
    .unwrap();
    let run = conform(&["--config", &config.display().to_string(), "run", "--quiet"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    // Nothing was collected: only the configuration is in the directory.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    insta::assert_snapshot!(run.stderr);
}

#[test]
fn run_stops_at_a_bad_timestamp_before_collecting() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("evidence");
    let run = conform(&[
        "--config",
        "fixtures/demo/conform.toml",
        "run",
        "--out",
        &dir.display().to_string(),
        "--quiet",
        "--at",
        "yesterday",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "{}", run.stdout);
    assert!(!dir.exists(), "a snapshot was collected");
    insta::assert_snapshot!(run.stderr);
}
