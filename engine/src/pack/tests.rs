//! Pack loading: every kind of authoring mistake is reported at its position, all at once.

use super::*;

const CATALOGS: &str = "[[catalog]]\nid = \"ISO27001:2022\"\ntitle = \"t\"\nfile = \"a.tsv\"\n";
const TSV: &str = "id\ttitle\tassessability\nA.8.5\tSecure authentication\tautomated\n";
const MANIFEST: &str = r#"[pack]
name = "p"
version = "1.0.0"
catalogs = ["ISO27001:2022"]

[parameters.max_age]
type = "duration"
default = "90d"
"#;

const GOOD: &str = r#"@id("t.ok")
@title("t")
@requirements("ISO27001:2022/A.8.5")
@severity("minor")
@rationale("r")
@remediation("m")
forbid (principal, action == Action::"assess", resource is Identity)
when { resource.privileged && !resource.mfa_enrolled };
"#;

fn files(rules: &str, facts: Option<&str>) -> PackFiles {
    PackFiles {
        dir: "p".into(),
        manifest: MANIFEST.into(),
        facts: facts.map(str::to_string),
        rules: vec![("rules/a.cedar".into(), rules.into())],
        catalogs_index: ("../catalogs/catalogs.toml".into(), CATALOGS.into()),
        catalog_files: vec![("../catalogs/a.tsv".into(), TSV.into())],
        tests: vec![],
    }
}

fn errors(rules: &str, facts: Option<&str>) -> Vec<String> {
    match PolicyPack::build(&files(rules, facts)) {
        Ok(_) => vec![],
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn a_good_pack_loads_with_its_reads_and_digest() {
    let p = PolicyPack::build(&files(GOOD, None)).unwrap();
    assert_eq!(
        p.rules[0].reads,
        vec!["resource.mfa_enrolled", "resource.privileged"]
    );
    assert!(p.digest.starts_with("sha256:"));
    let mut changed = files(GOOD, None);
    changed.rules[0].1.push(' ');
    assert_ne!(
        digest(&changed),
        p.digest,
        "any byte of the pack changes its digest"
    );
}

#[test]
fn authoring_mistakes_are_located() {
    let cases: &[(&str, &str)] = &[
        (
            "forbid (principal, action == Action::\"assess\", resource is Identity) when { resource.privileged && };",
            "rules/a.cedar:1:",
        ),
        (&GOOD.replace("!resource.mfa_enrolled", "resource.mfa_enrolled == 3"), "rules/a.cedar:8:"),
        (&GOOD.replace("A.8.5\")", "A.99\")"), "unknown requirement `ISO27001:2022/A.99`"),
        (&GOOD.replace("@severity(\"minor\")", "@severity(\"blocker\")"), "unknown severity `blocker`"),
        (&GOOD.replace("@rationale(\"r\")\n", ""), "lacks the annotation `@rationale`"),
        (&GOOD.replace("forbid", "permit"), "is a `permit` policy"),
        (&GOOD.replace("resource is Identity", "resource"), "must name its entity type"),
        (&GOOD.replace("resource is Identity", "resource is Laptop"), "rules/a.cedar:7:"),
        (&GOOD.replace("t.ok", "T_OK"), "must be lowercase"),
        (&GOOD.replace("resource.privileged &&", "context.params.min_age > 0 &&"), "unknown parameter `min_age`"),
        (&format!("{GOOD}\n{GOOD}"), "duplicate rule id `t.ok` (first defined at rules/a.cedar:1)"),
    ];
    for (text, expected) in cases {
        let errs = errors(text, None);
        assert!(
            errs.iter().any(|e| e.contains(expected)),
            "expected `{expected}` in {errs:#?}"
        );
    }
}

#[test]
fn a_schema_type_error_points_into_the_rule() {
    let errs = errors(
        &GOOD.replace("!resource.mfa_enrolled", "resource.mfa_enrolled == 3"),
        None,
    );
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("rules/a.cedar:8:31: rule `t.ok`:"),
        "{}",
        errs[0]
    );
}

#[test]
fn fact_mistakes_point_into_facts_toml() {
    let facts =
        "[facts.n]\nkind = \"count\"\nof = \"Identity\"\nwhere = 'resource.privileged == 1'\n";
    let errs = errors(GOOD, Some(facts));
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert!(
        errs[0].starts_with("facts.toml:4:10: fact `n`:"),
        "{}",
        errs[0]
    );

    let facts = "[facts.n]\nkind = \"latest\"\nof = \"Identity\"\nwhere = 'true'\n";
    assert!(errors(GOOD, Some(facts))[0].contains("`latest` needs `value`"));
    let facts = "[facts.n]\nkind = \"count\"\nof = \"Robot\"\nwhere = 'true'\n";
    assert!(errors(GOOD, Some(facts))[0].contains("unknown entity type `Robot`"));
}

#[test]
fn all_errors_are_reported_at_once() {
    let bad = GOOD
        .replace("@severity(\"minor\")", "@severity(\"blocker\")")
        .replace("A.8.5\")", "A.99\")");
    assert_eq!(errors(&bad, None).len(), 2);
}
