//! `--evaluator`: the compiled evaluator (the default) and cedar_policy's authorizer give the
//! same bytes for every output of the demo assessment. (The engine's differential tests
//! compare them verdict by verdict; this is the user's view.)
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;

use common::conform;

#[test]
fn both_evaluators_give_the_same_report() {
    for format in ["json", "sarif", "text"] {
        let args = [
            "assess",
            "--format",
            format,
            "--fail-on",
            "major",
            "--evaluator",
        ];
        let compiled = conform(&[&args[..], &["compiled"]].concat());
        let cedar = conform(&[&args[..], &["cedar"]].concat());
        assert_eq!(compiled.code, 1, "{}", compiled.stderr);
        assert_eq!(cedar.code, compiled.code, "{}", cedar.stderr);
        assert!(
            compiled.stdout == cedar.stdout,
            "`--format {format}` differs between the evaluators"
        );
    }
}

#[test]
fn an_unknown_evaluator_is_refused() {
    let run = conform(&["assess", "--evaluator", "fast"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    insta::assert_snapshot!(run.stderr);
}

/// `conform` with `CONFORM_LOG=info`, from the repository root.
fn logged(args: &[&str]) -> common::Run {
    common::conform_logging(&common::root(), args, Some("info"))
}

/// Every command that assesses uses the evaluator `--evaluator` names (the log says which),
/// with the same result.
#[test]
fn gate_and_explain_use_the_evaluator_asked_for() {
    let report: serde_json::Value =
        serde_json::from_str(&conform(&["assess", "--format", "json"]).stdout).unwrap();
    let finding = report["findings"][0]["id"].as_str().unwrap().to_string();
    let commands: [Vec<&str>; 3] = [
        vec!["assess", "--format", "json"],
        vec![
            "gate",
            "--service",
            "servicenow-cmdb:payments-api",
            "--format",
            "json",
        ],
        vec!["explain", &finding],
    ];
    for command in commands {
        let mut outputs = Vec::new();
        for evaluator in ["compiled", "cedar"] {
            let run = logged(&[&command[..], &["--evaluator", evaluator]].concat());
            assert!(
                run.stderr.contains(&format!("evaluator: {evaluator}")),
                "{command:?} --evaluator {evaluator}: {}",
                run.stderr
            );
            outputs.push((run.code, run.stdout));
        }
        assert_eq!(outputs[0], outputs[1], "{command:?}");
    }
}
