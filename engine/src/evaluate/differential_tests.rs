//! Differential tests: the compiled evaluator against `cedar_policy::Authorizer`.
//!
//! Every policy of the shipped pack (rules, and the facts' conditions) and a set of policies
//! exercising each operator the compiler implements are evaluated on generated entities of
//! every model type — optional attributes absent, references dangling, ids that need escaping,
//! times and numbers at the edges of `i64` so that arithmetic overflows — under generated
//! contexts (facts present and absent). Every verdict and every error message must be the same,
//! through both interfaces of the compiled evaluator. Finally, whole assessments of the demo
//! organisation must print identically with either evaluator.

use std::collections::BTreeMap;
use std::path::Path;

use cedar_policy::{Context, Policy, PolicyId, RestrictedExpression};

use super::compiled::compile;
use super::entities::{build, type_names};
use super::evaluator::{
    CedarEvaluator, CompiledEvaluator, EntityEvaluator, EvaluatorKind, PolicyEvaluator,
};
use crate::model::value::EntityNames;
use crate::model::{AttrOrigin, AttrType, AttrValue, EvidenceEntity, Provenance, ENTITY_TYPES};
use crate::pack::{FactKind, PolicyPack};

const NOW: i64 = 1_795_500_000;

/// xorshift64*: deterministic, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const STRINGS: &[&str] = &[
    "",
    "active",
    "critical",
    "x",
    "sms",
    "email",
    "app",
    "confidential",
];
const LONGS: &[i64] = &[0, 1, -1, 5, 20, 100, 86_400, i64::MAX, i64::MIN];

/// The id of entity `k` of type `ti`; some need escaping when displayed by Cedar.
fn id(ti: usize, k: usize) -> String {
    match k % 7 {
        5 => format!("t{ti}:quote\"{k}"),
        6 => format!("t{ti}:back\\slash:é{k}"),
        _ => format!("t{ti}:{k}"),
    }
}

fn time(rng: &mut Rng) -> i64 {
    match rng.below(20) {
        0 => i64::MIN,
        1 => i64::MAX,
        _ => NOW - 86_400 * 800 + rng.below(86_400 * 1_000) as i64,
    }
}

fn ref_id(rng: &mut Rng, ti: usize, n: usize) -> String {
    // one in six dangles: it names no entity of the evidence
    id(ti, rng.below(n + n / 5 + 1))
}

fn type_index(name: &str) -> usize {
    ENTITY_TYPES.iter().position(|t| t.name == name).unwrap()
}

fn value(rng: &mut Rng, ty: AttrType, n: usize) -> AttrValue {
    match ty {
        AttrType::Bool => AttrValue::Bool(rng.chance(50)),
        AttrType::Long => AttrValue::Long(if rng.chance(80) {
            rng.below(50) as i64
        } else {
            *rng.pick(LONGS)
        }),
        AttrType::String => AttrValue::String(rng.pick(STRINGS).to_string().into()),
        AttrType::Enum(values) => AttrValue::String((*rng.pick(values)).into()),
        AttrType::Time => AttrValue::Time(time(rng)),
        AttrType::Ref(t) => AttrValue::Ref(ref_id(rng, type_index(t), n).into()),
        AttrType::StringSet => AttrValue::StringSet(AttrValue::set_of(
            (0..rng.below(4))
                .map(|_| Box::from(*rng.pick(STRINGS)))
                .collect(),
        )),
        AttrType::RefSet(t) => AttrValue::RefSet(AttrValue::set_of(
            (0..rng.below(4))
                .map(|_| ref_id(rng, type_index(t), n).into())
                .collect(),
        )),
    }
}

/// `n` entities of every model type, sorted by (type, id) as a snapshot's are.
fn entities(rng: &mut Rng, n: usize) -> Vec<EvidenceEntity> {
    let mut out = Vec::new();
    for (ti, def) in ENTITY_TYPES.iter().enumerate() {
        for k in 0..n {
            let mut values = Vec::new();
            for (ai, a) in def.attrs.iter().enumerate() {
                let stored = a.origin == AttrOrigin::Stored;
                if stored && a.optional && rng.chance(35) {
                    continue;
                }
                values.push((ai, value(rng, a.ty, n)));
            }
            let member_of = match def.member_of {
                Some(p) => (0..rng.below(3))
                    .map(|_| ref_id(rng, type_index(p), n))
                    .collect(),
                None => Vec::new(),
            };
            let names = EntityNames {
                id: &id(ti, k),
                name: &format!("entity {k}"),
                record_id: &k.to_string(),
            };
            let provenance = Provenance {
                source: "generated".into(),
                record_sha256: Default::default(),
                collected_at: NOW,
            };
            let e = EvidenceEntity::new(ti, names, provenance, &mut values, member_of);
            out.push(e.unwrap());
        }
    }
    out.sort_by(|a, b| (a.type_index, a.id()).cmp(&(b.type_index, b.id())));
    out.dedup_by(|a, b| a.type_index == b.type_index && a.id() == b.id());
    out
}

fn shipped_pack() -> PolicyPack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/iso-ims");
    PolicyPack::build(&crate::fs::load_pack(&dir).unwrap()).unwrap()
}

/// A context like the rules pass's: the pack's parameters, and each fact present or not.
fn context(rng: &mut Rng, pack: &PolicyPack, with_facts: bool) -> Context {
    let params = crate::pack::params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
    let params =
        RestrictedExpression::new_record(params.iter().map(|(k, v)| (k.clone(), v.to_cedar())))
            .unwrap();
    let mut pairs = vec![
        ("now".to_string(), RestrictedExpression::new_long(NOW)),
        ("params".to_string(), params),
    ];
    if with_facts {
        let facts = pack.facts.iter().filter_map(|f| {
            let optional = matches!(f.kind, FactKind::Latest | FactKind::Ratio);
            if optional && rng.chance(30) {
                return None;
            }
            let v = match f.kind {
                FactKind::Exists => RestrictedExpression::new_bool(rng.chance(50)),
                FactKind::Latest => RestrictedExpression::new_long(time(rng)),
                _ => RestrictedExpression::new_long(*rng.pick(&[0, 1, 9_000, 10_000, 30])),
            };
            Some((f.name.clone(), v))
        });
        pairs.push((
            "facts".to_string(),
            RestrictedExpression::new_record(facts).unwrap(),
        ));
    }
    Context::from_pairs(pairs).unwrap()
}

/// Policies (with their resource type) that exercise every operator the compiler implements.
fn operator_policies() -> Vec<(Policy, usize)> {
    let scope = |t: &str| format!("(principal, action == Action::\"assess\", resource is {t})");
    let cases: &[(&str, &str)] = &[
        ("Identity", "resource.privileged || resource.mfa_enrolled"),
        (
            "Identity",
            "!(resource.kind == \"human\") && resource.status != \"active\"",
        ),
        (
            "Identity",
            "resource has last_login_at && context.now - resource.last_login_at > 86400",
        ),
        (
            "Identity",
            "resource has last_login_at && resource.last_login_at + 86400 >= context.now",
        ),
        (
            "Identity",
            "resource has last_login_at && resource.last_login_at * 2 < context.now",
        ),
        (
            "Identity",
            "resource has last_login_at && -resource.last_login_at <= 0",
        ),
        (
            "Identity",
            "resource.mfa_methods.containsAny([\"sms\", \"email\"])",
        ),
        ("Identity", "resource.mfa_methods.containsAll([\"sms\"])"),
        ("Identity", "resource.mfa_methods == [\"sms\", \"email\"]"),
        (
            "Identity",
            "resource.mfa_methods.isEmpty() || resource.mfa_methods.contains(\"app\")",
        ),
        (
            "Identity",
            "resource is Identity && principal == Assessor::\"conform\"",
        ),
        ("Identity", "resource == Identity::\"t1:3\""),
        (
            "Identity",
            "resource has owner && resource.owner.status == \"active\"",
        ),
        (
            "Identity",
            "resource has owner && resource.owner has last_login_at",
        ),
        (
            "Identity",
            "resource has owner && resource.owner == resource",
        ),
        (
            "Identity",
            "if resource.privileged then resource.mfa_enrolled else 1 == 1",
        ),
        (
            "BackupJob",
            "resource has asset && resource.asset.backup_jobs.contains(resource)",
        ),
        (
            "Asset",
            "resource.backup_jobs.containsAny(resource.backup_jobs)",
        ),
        (
            "Ticket",
            "context.facts has open_major_incidents && context.facts.open_major_incidents > 0",
        ),
        (
            "Ticket",
            "context.params.weak_mfa_methods.contains(\"sms\") && context.now > 0",
        ),
        // guards (see `plan`): shared reads of an optional attribute, which may be absent
        (
            "Identity",
            "resource.email == \"a@example.com\" && resource.privileged",
        ),
        ("Identity", "\"a@example.com\" != resource.email"),
        ("Identity", "resource.email && resource.privileged"),
        (
            "Identity",
            "resource.kind == \"human\" && resource.email == \"x\" && resource.privileged",
        ),
        (
            "Identity",
            "resource.privileged && (resource.mfa_enrolled && resource.break_glass)",
        ),
        // enumerations compared by position (see `plan`): a value that is none of the
        // enumeration's, either operand order, `!=`, and an optional one read without `has`
        (
            "Identity",
            "resource.status == \"no-such-status\" || \"service\" != resource.kind",
        ),
        ("Ticket", "resource.priority == \"p1\""),
        (
            "Ticket",
            "\"p5\" == resource.priority || resource.priority != \"p2\"",
        ),
        // one condition in three consecutive policies (so one `permit` and two `forbid`s),
        // evaluated once (see `plan`); the second errors where `last_login_at` is absent, and
        // the error is each policy's
        ("Identity", "resource.privileged || resource.mfa_enrolled"),
        ("Identity", "resource.privileged || resource.mfa_enrolled"),
        ("Identity", "resource.privileged || resource.mfa_enrolled"),
        (
            "Identity",
            "resource.last_login_at > 0 || resource.privileged",
        ),
        (
            "Identity",
            "resource.last_login_at > 0 || resource.privileged",
        ),
        (
            "Identity",
            "resource.last_login_at > 0 || resource.privileged",
        ),
    ];
    let mut out = Vec::new();
    for (i, (t, cond)) in cases.iter().enumerate() {
        let effect = if i % 3 == 0 { "permit" } else { "forbid" };
        let src = format!("{effect} {} when {{ {cond} }};", scope(t));
        let p = Policy::parse(Some(PolicyId::new(format!("op{i}"))), &src).unwrap();
        out.push((p, type_index(t)));
    }
    let unless = Policy::parse(
        Some(PolicyId::new("unless")),
        "forbid (principal, action, resource) when { resource.privileged } unless { resource.break_glass };",
    )
    .unwrap();
    out.push((unless, type_index("Identity")));
    out
}

/// Every policy to compare, grouped in sets by resource type as the passes build them.
fn policy_sets(pack: &PolicyPack) -> Vec<(usize, Vec<Policy>)> {
    let mut by_type: BTreeMap<usize, Vec<Policy>> = BTreeMap::new();
    for r in &pack.rules {
        by_type
            .entry(r.type_index)
            .or_default()
            .push(r.policy.clone());
    }
    for f in &pack.facts {
        let set = by_type.entry(f.type_index).or_default();
        set.push(f.population.clone());
        set.extend(f.meets.clone());
    }
    for (p, t) in operator_policies() {
        by_type.entry(t).or_default().push(p);
    }
    by_type.into_iter().collect()
}

#[test]
fn every_policy_compiles() {
    let pack = shipped_pack();
    for (ti, set) in policy_sets(&pack) {
        for p in &set {
            if let Err(e) = compile(p, super::compiled::EntTy::Model(ti)) {
                panic!("{}: {}", p.id(), e.0);
            }
        }
    }
}

#[test]
fn what_the_compiler_does_not_implement_is_refused() {
    for cond in [
        "resource.name like \"a*\"",
        "[resource.name].contains(\"a\")",
        "resource in Group::\"g\"",
        "resource.name == principal.name || resource.mfa_enrolled",
    ] {
        let src = format!("forbid (principal, action, resource is Identity) when {{ {cond} }};");
        let p = Policy::parse(None, &src).unwrap();
        let compiled = compile(&p, super::compiled::EntTy::Model(type_index("Identity")));
        if cond.contains("principal.name") {
            assert!(compiled.is_ok(), "{cond}");
        } else {
            assert!(compiled.is_err(), "{cond}");
        }
    }
}

#[test]
fn compiled_verdicts_and_errors_equal_cedars() {
    let pack = shipped_pack();
    let sets = policy_sets(&pack);
    let names = type_names().unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut compared = 0usize;
    let mut errors = 0usize;
    let mut satisfied = 0usize;
    let mut kinds = std::collections::BTreeSet::new();
    for round in 0..3 {
        let evidence = entities(&mut rng, 24);
        let (store, problems) = build(&evidence, &names);
        assert!(problems.is_empty(), "{problems:?}");
        let view = store.view(&evidence);
        let ctx = context(&mut rng, &pack, round % 2 == 0);
        let other_ctx = context(&mut rng, &pack, true);
        for (ti, set) in &sets {
            // one policy per set too, so that a forbid satisfied elsewhere hides no permit
            let mut groups = vec![set.clone()];
            groups.extend(set.iter().map(|p| vec![p.clone()]));
            for policies in groups {
                let cedar = CedarEvaluator::new(&policies, &store.entities).unwrap();
                let compiled = CompiledEvaluator::new(&policies, *ti, view, &ctx).unwrap();
                for &ei in &store.by_type[*ti] {
                    let uid = &store.uids[ei];
                    let expected = cedar.evaluate(uid, &ctx);
                    assert_eq!(
                        compiled.evaluate_entity(ei),
                        expected,
                        "{uid} with {:?}",
                        policies
                            .iter()
                            .map(|p| p.id().to_string())
                            .collect::<Vec<_>>()
                    );
                    assert_eq!(compiled.evaluate(uid, &ctx), expected, "{uid} (by uid)");
                    assert_eq!(
                        compiled.evaluate(uid, &other_ctx),
                        cedar.evaluate(uid, &other_ctx),
                        "{uid} (another context)"
                    );
                    compared += 1;
                    errors += expected.errors.len();
                    for (_, e) in &expected.errors {
                        for kind in ["does not exist", "overflow", "does not have", "\\\""] {
                            if e.contains(kind) {
                                kinds.insert(kind);
                            }
                        }
                    }
                    satisfied += expected.satisfied.len();
                }
            }
        }
    }
    // the generator must reach both outcomes and errors, or the comparison proves little
    assert!(compared > 1_000, "{compared}");
    assert!(errors > 100, "{errors} errors");
    assert!(satisfied > 1_000, "{satisfied} satisfied");
    assert_eq!(kinds.len(), 4, "error kinds reached: {kinds:?}");
    eprintln!("{compared} comparisons, {errors} errors, {satisfied} satisfied");
}

#[test]
fn resources_of_other_types_and_unknown_entities_agree() {
    let pack = shipped_pack();
    let names = type_names().unwrap();
    let mut rng = Rng(42);
    let evidence = entities(&mut rng, 10);
    let (store, _) = build(&evidence, &names);
    let view = store.view(&evidence);
    let ctx = context(&mut rng, &pack, true);
    for (ti, set) in policy_sets(&pack) {
        let cedar = CedarEvaluator::new(&set, &store.entities).unwrap();
        let compiled = CompiledEvaluator::new(&set, ti, view, &ctx).unwrap();
        let mut uids: Vec<_> = store.uids.iter().step_by(7).cloned().collect();
        uids.push(super::entities::uid(&names[ti], "not-in-the-evidence"));
        for uid in &uids {
            assert_eq!(
                compiled.evaluate(uid, &ctx),
                cedar.evaluate(uid, &ctx),
                "{uid}"
            );
        }
    }
}

#[test]
fn assessments_of_the_demo_are_identical_with_either_evaluator() {
    let pack = shipped_pack();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo/snapshot");
    let snapshot = crate::fs::load_snapshot(&dir).unwrap();
    let params = crate::pack::params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
    let at = crate::time::parse_rfc3339(&snapshot.manifest.created_at).unwrap();
    let print = |kind| {
        let a = crate::assessment::assess_with(&pack, &snapshot, at, &params, kind).unwrap();
        serde_json::to_string_pretty(&a).unwrap()
    };
    let cedar = print(EvaluatorKind::Cedar);
    assert_eq!(print(EvaluatorKind::Compiled), cedar);
}
