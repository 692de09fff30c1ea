//! Missing evidence is never conformity, attribute by attribute: a rule or a fact reading an
//! attribute no source supplies is not assessed; entities from a source that does not supply
//! it are not assessed for the rules reading it.

use super::*;
use crate::evaluate::attributes::AttributeCoverage;
use crate::model::entity_type_index;

const EXTRA_RULES: &str = r#"
@id("t.expired-account-active")
@title("Expired accounts are disabled")
@requirements("ISO27001:2022/A.5.18")
@severity("minor")
@rationale("r")
@remediation("Disable it.")
forbid (principal, action == Action::"assess", resource is Identity)
when { resource.status == "active" && resource has expires_at && resource.expires_at < context.now };

@id("t.owner-left")
@title("Asset owners are still employed")
@requirements("ISO27001:2022/A.5.9")
@severity("minor")
@rationale("r")
@remediation("Reassign.")
forbid (principal, action == Action::"assess", resource is Asset)
when { resource has owner && resource.owner has terminated_at && resource.owner.terminated_at < context.now };

@id("t.expiring-accounts")
@title("No account is past its expiry")
@requirements("ISO27001:2022/A.5.16")
@severity("minor")
@rationale("r")
@remediation("Review them.")
forbid (principal, action == Action::"assess", resource is Organization)
when { context.facts.expired_accounts > 0 };
"#;

const EXTRA_FACTS: &str = r#"
[facts.expired_accounts]
kind = "count"
of = "Identity"
where = 'resource has expires_at && resource.expires_at < context.now'
description = "Accounts past their expiry."
"#;

fn pack() -> PolicyPack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/packs/mini");
    let mut files = crate::fs::load_pack(&dir).unwrap();
    files
        .rules
        .push(("rules/attributes.cedar".into(), EXTRA_RULES.into()));
    let facts = files.facts.take().unwrap_or_default();
    files.facts = Some(format!("{facts}\n{EXTRA_FACTS}"));
    PolicyPack::build(&files).unwrap()
}

fn declared(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    entries
        .iter()
        .map(|(t, names)| (t.to_string(), names.iter().map(|n| n.to_string()).collect()))
        .collect()
}

fn with_expiry(id: &str, expires_at: &str) -> String {
    entity(
        "Identity",
        id,
        json!({"kind": "guest", "status": "active", "login": id, "privileged": false,
               "break_glass": false, "mfa_enrolled": true, "mfa_methods": [],
               "expires_at": expires_at}),
    )
}

#[test]
fn a_rule_reading_an_attribute_no_source_provides_is_not_assessed_never_conforming() {
    // the identity source declares what it supplies, and expiry dates are not among them
    let mut fx = Fixture::new();
    fx.attributes.insert(
        "idp",
        declared(&[("Identity", &["email"]), ("Organization", &[])]),
    );
    let a = fx.assess_with(&pack());
    let r = rule(&a, "t.expired-account-active");
    assert_eq!(r.status, Status::NotAssessed);
    assert_eq!(
        r.reason.as_deref(),
        Some("no evidence: no source provides `Identity.expires_at`")
    );
    assert_eq!(r.evaluated, 0);
    assert_eq!(
        requirement(&a, "ISO27001:2022/A.5.18").status,
        Status::NotAssessed
    );
    // the rules reading only required attributes are still assessed
    assert_eq!(
        rule(&a, "t.privileged-without-mfa").status,
        Status::Nonconforming
    );

    // once the source supplies it, the same evidence is assessed and conforms
    fx.attributes.insert(
        "idp",
        declared(&[("Identity", &["expires_at"]), ("Organization", &[])]),
    );
    let a = fx.assess_with(&pack());
    assert_eq!(
        rule(&a, "t.expired-account-active").status,
        Status::Conforming
    );
}

#[test]
fn a_referenced_attribute_no_source_provides_makes_the_rule_not_assessed() {
    let a = Fixture::new().assess_with(&pack());
    let r = rule(&a, "t.owner-left");
    assert_eq!(r.status, Status::NotAssessed);
    assert_eq!(
        r.reason.as_deref(),
        Some("no evidence: no source provides `Identity.terminated_at`")
    );
    assert!(!a.findings.iter().any(|f| f.rule.id == "t.owner-left"));
}

#[test]
fn a_fact_reading_an_unprovided_attribute_has_no_evidence_and_its_rules_are_not_assessed() {
    let a = Fixture::new().assess_with(&pack());
    let fact = a
        .facts
        .iter()
        .find(|f| f.name == "expired_accounts")
        .unwrap();
    assert_eq!(
        fact.state,
        FactState::NoEvidence("no source provides `Identity.expires_at`".into())
    );
    assert_eq!(fact.value, serde_json::Value::Null);
    let r = rule(&a, "t.expiring-accounts");
    assert_eq!(r.status, Status::NotAssessed);
    assert_eq!(
        r.reason.as_deref(),
        Some("fact `expired_accounts` has no evidence: no source provides `Identity.expires_at`")
    );
}

#[test]
fn without_declared_attributes_what_a_source_supplies_is_derived_from_its_entities() {
    // no `attributes` in the manifest: one identity of `idp` carries an expiry date, so `idp`
    // supplies `Identity.expires_at`
    let mut fx = Fixture::new();
    let mut idp = fx.lines["idp"].clone();
    idp.push(with_expiry("gus", "2027-01-01T00:00:00Z"));
    fx.lines.insert("idp", idp);
    let snapshot = fx.snapshot();
    assert!(snapshot
        .manifest
        .sources
        .iter()
        .all(|s| s.attributes.is_none()));
    let cov = AttributeCoverage::new(&snapshot.manifest, &snapshot.entities, &[]);
    let identity = entity_type_index("Identity").unwrap();
    let attr = |name: &str| {
        crate::model::ENTITY_TYPES[identity]
            .attrs
            .iter()
            .position(|a| a.name == name)
            .unwrap()
    };
    assert!(cov.supplies("idp", identity, attr("expires_at")));
    assert!(!cov.supplies("idp", identity, attr("terminated_at")));
    assert!(
        cov.supplies("idp", identity, attr("mfa_enrolled")),
        "a required attribute is always supplied"
    );
    assert!(
        !cov.supplies("idp", identity, attr("credentials")),
        "an inverse attribute is supplied only when its reference is: no source provides \
         `Credential` here"
    );
    let a = fx.assess_with(&pack());
    assert_eq!(
        rule(&a, "t.expired-account-active").status,
        Status::Conforming
    );
}

#[test]
fn entities_of_a_source_that_does_not_supply_an_attribute_are_not_assessed_for_its_rules() {
    // `idp` supplies expiry dates, `aws` (also providing Identity) does not
    let mut fx = Fixture::new();
    fx.sources.push(("aws", SourceStatus::Ok, vec!["Identity"]));
    fx.lines
        .insert("aws", vec![identity("aws:root", "active", false, true)]);
    let mut idp = fx.lines["idp"].clone();
    idp.push(with_expiry("gus", "2027-01-01T00:00:00Z"));
    fx.lines.insert("idp", idp);
    fx.attributes.insert(
        "idp",
        declared(&[("Identity", &["expires_at"]), ("Organization", &[])]),
    );
    fx.attributes.insert("aws", declared(&[("Identity", &[])]));
    let a = fx.assess_with(&pack());
    let r = rule(&a, "t.expired-account-active");
    assert_eq!(r.status, Status::NotAssessed, "never conforming");
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "evidence incomplete: source `aws` does not provide `Identity.expires_at`: \
             1 `Identity` entity not assessed"
        )
    );
    assert_eq!((r.evaluated, r.not_assessed), (4, 1));

    // a nonconformity on an entity whose source supplies the attribute is still found
    let mut idp = fx.lines["idp"].clone();
    idp.push(with_expiry("hal", "2026-01-01T00:00:00Z"));
    fx.lines.insert("idp", idp);
    let a = fx.assess_with(&pack());
    let r = rule(&a, "t.expired-account-active");
    assert_eq!(r.status, Status::Nonconforming);
    assert_eq!(r.not_assessed, 1);
    let fired: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule.id == "t.expired-account-active")
        .map(|f| f.entity.id.as_str())
        .collect();
    assert_eq!(fired, vec!["hal"]);
}

#[test]
fn a_referenced_entity_from_a_source_without_the_attribute_is_not_assessed() {
    // db-1's owner bob comes from `idp`, which supplies termination dates; db-3's owner comes
    // from `aws`, which does not
    let mut fx = Fixture::new();
    fx.sources.push(("aws", SourceStatus::Ok, vec!["Identity"]));
    fx.lines
        .insert("aws", vec![identity("aws:ops", "active", false, true)]);
    fx.lines
        .insert("cmdb", vec![asset("db-1", "bob"), asset("db-3", "aws:ops")]);
    fx.attributes.insert(
        "idp",
        declared(&[("Identity", &["terminated_at"]), ("Organization", &[])]),
    );
    fx.attributes.insert("aws", declared(&[("Identity", &[])]));
    let a = fx.assess_with(&pack());
    let r = rule(&a, "t.owner-left");
    assert_eq!(r.status, Status::NotAssessed);
    assert_eq!((r.evaluated, r.not_assessed), (1, 1));
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "evidence incomplete: source `aws` does not provide `Identity.terminated_at`: \
             1 `Asset` entity not assessed"
        )
    );
}

#[test]
fn a_reference_into_a_type_no_source_provides_is_not_assessed_never_conforming() {
    // the identity source failed: the assets' owners are dangling references, and
    // `resource.owner has terminated_at` would be false on every one of them
    let mut fx = Fixture::new();
    fx.sources[0] = ("idp", SourceStatus::Ok, vec!["Organization"]);
    fx.sources
        .push(("okta", SourceStatus::Failed, vec!["Identity"]));
    fx.lines.insert("idp", vec![org()]);
    let a = fx.assess_with(&pack());
    let r = rule(&a, "t.owner-left");
    assert_eq!(r.status, Status::NotAssessed, "never conforming");
    assert_eq!((r.evaluated, r.not_assessed), (0, 2));
    assert_eq!(
        r.reason.as_deref(),
        Some(
            "evidence incomplete: no source provides the `Identity` entities referred to: \
             2 `Asset` entities not assessed"
        )
    );
    assert!(!a.findings.iter().any(|f| f.rule.id == "t.owner-left"));
}
