//! The pack author's workflow: validate, fmt, test, coverage, schema.

mod common;

use common::conform;

#[test]
fn policy_test_passes_on_the_mini_pack() {
    let run = conform(&["policy", "test", "fixtures/packs/mini"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("policy_test_pass", run.stdout);
}

#[test]
fn policy_test_shows_expected_and_actual_and_exits_1() {
    let run = conform(&["policy", "test", "fixtures/packs/wrong-expectations"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!("policy_test_fail", run.stdout);
}

#[test]
fn policy_test_filter_selects_cases() {
    let run = conform(&[
        "policy",
        "test",
        "fixtures/packs/mini",
        "--filter",
        "review",
    ]);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout.ends_with("3 passed, 0 failed\n"),
        "{}",
        run.stdout
    );
}

#[test]
fn policy_fmt_check_lists_unformatted_files_and_exits_1() {
    let run = conform(&[
        "policy",
        "fmt",
        "--check",
        "fixtures/packs/wrong-expectations",
    ]);
    assert_eq!(run.code, 0, "a formatted copy");
    let run = conform(&["policy", "fmt", "--check", "fixtures/packs/bad-type"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.stdout, "not formatted: rules/rules.cedar\n");
}

#[test]
fn policy_coverage_in_every_format() {
    for (format, name) in [
        ("text", "coverage_text"),
        ("csv", "coverage_csv"),
        ("json", "coverage_json"),
    ] {
        let run = conform(&[
            "policy",
            "coverage",
            "fixtures/packs/mini",
            "--format",
            format,
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(name, run.stdout);
    }
}

#[test]
fn policy_schema_is_generated_from_the_model() {
    let run = conform(&["policy", "schema", "--pack", "fixtures/packs/mini"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("entity Identity in [Group] {"));
    assert!(run
        .stdout
        .contains("type Facts = {\n  last_review?: Long,\n  training_evidence: Bool,\n};"));
    insta::assert_snapshot!("schema", run.stdout);
}

#[test]
fn policy_validate_reports_what_it_validated() {
    let run = conform(&["policy", "validate", "fixtures/packs/mini"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!("validate_ok", run.stdout);
}

#[test]
fn policy_diff_of_a_pack_that_does_not_exist() {
    let run = conform(&[
        "policy",
        "diff",
        "fixtures/packs/mini",
        "fixtures/packs/nope",
    ]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!("diff_missing_pack", run.stderr);
}

#[test]
fn policy_diff_refuses_an_invalid_new_pack() {
    let run = conform(&[
        "policy",
        "diff",
        "fixtures/packs/mini",
        "fixtures/packs/bad-type",
    ]);
    assert_eq!(run.code, 3);
    insta::assert_snapshot!("diff_invalid_pack", run.stderr);
}
