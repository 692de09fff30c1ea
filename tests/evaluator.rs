//! `--evaluator`: the compiled evaluator (the default) and cedar_policy's authorizer give the
//! same bytes for every output of the demo assessment. (The engine's differential tests
//! compare them verdict by verdict; this is the user's view.)

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
