//! Several rules of a type in one evaluation: the compiled programs of one entity type, planned
//! so that the attribute their leading conjuncts test is read once per entity.
//!
//! Most rules of a type begin by selecting the entities they are about: `resource.kind ==
//! "change" && ...`, `resource.status == "active" && ...`, `resource.in_scope && ...`. Evaluated
//! one policy at a time, a ticket's `kind` is read and compared by every one of the thirty
//! ticket rules. A [`Plan`] reads each such attribute once per entity and gives every program
//! its guard's value from that one read; only the programs whose guard holds evaluate the rest.
//!
//! Two more things are done once per plan rather than once per entity. Programs whose
//! conditions are the same expression (the pack's SLA facts share one `meets`) are evaluated
//! once per entity, and each of them takes that one outcome: the evaluation is a pure function
//! of the expression, the entity and the bound context. And `resource.<attr>` of the
//! resource type's own attributes is written as a direct read of the resource entity
//! ([`Expr::ResourceAttr`], [`Expr::ResourceHas`]); an equality of an enumerated attribute
//! with a string compares the value's position among the enumeration's values
//! ([`Expr::ResourceEnumIs`]).
//!
//! The semantics are the programs' own. Cedar's `&&` evaluates left to right and stops at the
//! first `false` or error, so `a && b && c` equals `a && (b && c)` in value and in error, and a
//! guard computed from a shared read of `resource.<attr>` is the value the conjunct would have:
//! the read's error is the conjunct's error (a constant operand cannot fail), and `==` / `!=`
//! never fail. The differential tests compare every verdict and error with
//! `cedar_policy::Authorizer`'s.

use super::compiled::{Access, BinOp, Const, EntTy, Expr, Program};
use crate::model::value::enum_position;
use crate::model::AttrType;

/// Guards that read more attributes than this are not shared (a fixed array per entity).
pub(crate) const MAX_READS: usize = 16;

/// At most this many distinct conditions are shared between programs (a fixed array per
/// entity); the programs of a further repeated condition evaluate it themselves.
pub(crate) const MAX_SHARED: usize = 16;

/// How a program's leading conjunct turns the shared read into a boolean.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Test {
    /// `resource.<attr> == constant` (or `!=` when `negate`), either operand order.
    Compare { negate: bool, value: Const },
    /// `resource.<attr>` itself, a boolean attribute.
    Truth,
}

/// A program's leading conjunct, answered from the shared read `read`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Guard {
    pub read: usize,
    pub test: Test,
}

/// One program: its guard, if its leading conjunct is one, and the conjuncts evaluated after
/// it (all of them when there is no guard), in order.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub forbid: bool,
    pub guard: Option<Guard>,
    pub rest: Vec<Expr>,
    /// When another program has the same guard and conjuncts: the slot their one outcome per
    /// entity is kept in (the first of them to be evaluated fills it).
    pub shared: Option<usize>,
}

/// The programs of one type, planned: see the module documentation.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    /// The `resource.<attr>` expressions the guards read, each once per entity.
    pub reads: Vec<Expr>,
    pub steps: Vec<Step>,
}

/// The conjuncts of `e` in evaluation order: `a && b && c`, however nested, is `[a, b, c]`.
fn conjuncts(e: &Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(l, r) => {
            conjuncts(l, out);
            conjuncts(r, out);
        }
        other => out.push(other.clone()),
    }
}

/// Whether `e` is true whatever the entity, and cannot fail: `true`, or `==` between equal
/// constants (the scope's `action == Action::"assess"` once bound). A policy's scope makes
/// its condition begin with such conjuncts; `true && x` is `x`, in value and in error.
fn always_true(e: &Expr) -> bool {
    match e {
        Expr::Const(Const::Bool(true)) => true,
        Expr::Bin(BinOp::Eq, l, r) => {
            matches!((&**l, &**r), (Expr::Const(a), Expr::Const(b)) if a == b)
        }
        _ => false,
    }
}

/// The attribute of the resource that `e` reads, when `e` is `resource.<attr>`.
fn resource_attr(e: &Expr) -> Option<(&str, Option<EntTy>)> {
    match e {
        Expr::Attr(base, access) if matches!(**base, Expr::Resource) => {
            Some((access.name.as_str(), access.ty))
        }
        _ => None,
    }
}

/// The shared read and test of a leading conjunct, when it is a guard.
fn guard_of(e: &Expr) -> Option<(&Expr, Test)> {
    match e {
        Expr::Bin(op @ (BinOp::Eq | BinOp::Ne), l, r) => {
            let (read, value) = match (&**l, &**r) {
                (a, Expr::Const(c)) if resource_attr(a).is_some() => (a, c),
                (Expr::Const(c), a) if resource_attr(a).is_some() => (a, c),
                _ => return None,
            };
            let negate = *op == BinOp::Ne;
            Some((
                read,
                Test::Compare {
                    negate,
                    value: value.clone(),
                },
            ))
        }
        a if resource_attr(a).is_some() => Some((a, Test::Truth)),
        _ => None,
    }
}

impl Plan {
    pub(crate) fn new(programs: &[Program]) -> Self {
        let mut plan = Plan::default();
        let mut keys: Vec<(String, Option<EntTy>)> = Vec::new();
        for p in programs {
            let mut all = Vec::new();
            conjuncts(&p.condition, &mut all);
            let constant = all.iter().take_while(|c| always_true(c)).count();
            if constant < all.len() {
                all.drain(..constant);
            }
            let mut guard = None;
            if let Some((read, test)) = all.first().and_then(guard_of) {
                let key = resource_attr(read).map(|(n, t)| (n.to_string(), t));
                let found = keys.iter().position(|k| Some(k) == key.as_ref());
                let index = match (found, key) {
                    (Some(i), _) => Some(i),
                    (None, Some(key)) if keys.len() < MAX_READS => {
                        keys.push(key);
                        plan.reads.push(read.clone());
                        Some(keys.len() - 1)
                    }
                    _ => None,
                };
                guard = index.map(|read| Guard { read, test });
            }
            let rest = if guard.is_some() {
                all.split_off(1)
            } else {
                all
            };
            plan.steps.push(Step {
                forbid: p.forbid,
                guard,
                rest: rest.iter().map(direct).collect(),
                shared: None,
            });
        }
        plan.reads = plan.reads.iter().map(direct).collect();
        plan.share_repeated_conditions();
        plan
    }

    /// Gives each condition that more than one step has a slot (see [`Step::shared`]).
    fn share_repeated_conditions(&mut self) {
        let mut slots = 0;
        for i in 0..self.steps.len() {
            if self.steps[i].shared.is_some() || slots == MAX_SHARED {
                continue;
            }
            let (before, after) = self.steps.split_at_mut(i + 1);
            let first = &mut before[i];
            let mut repeated = false;
            for other in after.iter_mut() {
                if other.shared.is_none() && other.guard == first.guard && other.rest == first.rest
                {
                    other.shared = Some(slots);
                    repeated = true;
                }
            }
            if repeated {
                first.shared = Some(slots);
                slots += 1;
            }
        }
    }
}

/// `e` with the resource's own attributes read directly: see the module documentation.
fn direct(e: &Expr) -> Expr {
    let b = |x: &Expr| Box::new(direct(x));
    let own = |x: &Expr, a: &Access| {
        matches!(x, Expr::Resource) && a.ai.is_some() && matches!(a.ty, Some(EntTy::Model(_)))
    };
    match e {
        Expr::Attr(x, a) if own(x, a) => Expr::ResourceAttr(a.clone()),
        Expr::Has(x, a) if own(x, a) => Expr::ResourceHas(a.clone()),
        Expr::Attr(x, a) => Expr::Attr(b(x), a.clone()),
        Expr::Has(x, a) => Expr::Has(b(x), a.clone()),
        Expr::Bin(op @ (BinOp::Eq | BinOp::Ne), l, r) => {
            let (l, r) = (direct(l), direct(r));
            match enum_is(&l, &r).or_else(|| enum_is(&r, &l)) {
                Some(is) if *op == BinOp::Eq => is,
                Some(is) => Expr::Not(Box::new(is)),
                None => Expr::Bin(*op, Box::new(l), Box::new(r)),
            }
        }
        Expr::Bin(op, l, r) => Expr::Bin(*op, b(l), b(r)),
        Expr::Not(x) => Expr::Not(b(x)),
        Expr::Neg(x) => Expr::Neg(b(x)),
        Expr::And(l, r) => Expr::And(b(l), b(r)),
        Expr::Or(l, r) => Expr::Or(b(l), b(r)),
        Expr::If(c, t, f) => Expr::If(b(c), b(t), b(f)),
        Expr::IsEmpty(x) => Expr::IsEmpty(b(x)),
        Expr::Is(x, t) => Expr::Is(b(x), *t),
        Expr::Const(_)
        | Expr::Fail(_)
        | Expr::Resource
        | Expr::Context(_)
        | Expr::ContextHas(..)
        | Expr::ResourceAttr(_)
        | Expr::ResourceHas(_)
        | Expr::ResourceEnumIs(..) => e.clone(),
    }
}

/// `read == value` as [`Expr::ResourceEnumIs`], when `read` is a direct read of an
/// enumerated attribute and `value` a string. `==` never fails and a constant cannot: the
/// comparison fails exactly when the read does. The literal's position is found as the
/// stored word's was ([`enum_position`]), so equal strings have equal positions.
fn enum_is(read: &Expr, value: &Expr) -> Option<Expr> {
    let (Expr::ResourceAttr(a), Expr::Const(Const::Str(s))) = (read, value) else {
        return None;
    };
    let Some(AttrType::Enum(values)) = a.attr_ty else {
        return None;
    };
    let position = enum_position(values, s).map(|i| i as u64);
    Some(Expr::ResourceEnumIs(a.clone(), s.clone(), position))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::compiled::CompiledPolicies;
    use crate::model::entity_type_index;

    fn shipped_pack() -> crate::pack::PolicyPack {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/iso-ims");
        crate::pack::PolicyPack::build(&crate::fs::load_pack(&dir).unwrap()).unwrap()
    }

    /// The plan of `policies`, compiled for Tickets.
    fn ticket_plan(policies: &[&cedar_policy::Policy]) -> Plan {
        let ticket = entity_type_index("Ticket").unwrap();
        let compiled = CompiledPolicies::compile(policies.iter().map(|p| (*p, ticket))).unwrap();
        let programs: Vec<Program> = policies
            .iter()
            .map(|p| compiled.get(p, EntTy::Model(ticket)).unwrap())
            .collect();
        Plan::new(&programs)
    }

    #[test]
    fn the_shipped_ticket_rules_read_the_ticket_kind_once() {
        let pack = shipped_pack();
        let ticket = entity_type_index("Ticket").unwrap();
        let rules: Vec<_> = pack
            .rules
            .iter()
            .filter(|r| r.type_index == ticket)
            .map(|r| &r.policy)
            .collect();
        let plan = ticket_plan(&rules);
        let kind = plan
            .reads
            .iter()
            .position(|e| matches!(e, Expr::ResourceAttr(a) if a.name == "kind"))
            .expect("a shared read of `kind`");
        let on_kind = plan
            .steps
            .iter()
            .filter(|s| s.guard.as_ref().is_some_and(|g| g.read == kind))
            .count();
        assert!(on_kind >= 20, "{on_kind} of {} ticket rules", rules.len());
        assert_eq!(plan.steps.len(), rules.len());
        let enum_tests = plan
            .steps
            .iter()
            .flat_map(|s| &s.rest)
            .filter(|e| format!("{e:?}").contains("ResourceEnumIs"))
            .count();
        assert!(
            enum_tests > 0,
            "no ticket rule compares an enumeration by position"
        );
    }

    #[test]
    fn the_shipped_sla_facts_evaluate_their_one_meets_condition_once() {
        let pack = shipped_pack();
        let ticket = entity_type_index("Ticket").unwrap();
        let policies: Vec<_> = pack
            .facts
            .iter()
            .filter(|f| f.type_index == ticket)
            .flat_map(|f| std::iter::once(&f.population).chain(&f.meets))
            .collect();
        let plan = ticket_plan(&policies);
        let mut slots: Vec<usize> = plan.steps.iter().filter_map(|s| s.shared).collect();
        let shared = slots.len();
        slots.sort_unstable();
        slots.dedup();
        // the `incidents_within_sla_*` and `requests_within_sla` facts share their `meets`
        assert!(
            shared >= 5 && slots.len() < shared,
            "{shared} steps in {slots:?}"
        );
        for (i, a) in plan.steps.iter().enumerate() {
            for b in &plan.steps[i + 1..] {
                let same = a.guard == b.guard && a.rest == b.rest;
                assert_eq!(same, a.shared.is_some() && a.shared == b.shared);
            }
        }
    }
}
