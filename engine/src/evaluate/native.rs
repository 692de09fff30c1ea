//! Evaluation of [`compiled`](super::compiled) policies on the snapshot's entities, and the
//! [`CompiledEvaluator`] that puts it behind the evaluator interfaces.

use cedar_policy::{Context, EntityUid, Policy};

use super::compiled::{
    bind, context_record, Access, BinOp, CompiledPolicies, Const, EntTy, EvalError, Expr, Program,
    Unsupported,
};
use super::evaluator::{EntityEvaluator, PolicyEvaluator, Verdicts};
use super::id_search::IdSearch;
use super::plan::{Plan, Test, MAX_READS, MAX_SHARED};
use crate::model::value::{AttrRef, StrItems};
use crate::model::{entity_type_index, AttrType, EvidenceEntity};

/// The snapshot's entities as the compiled policies read them.
#[derive(Clone, Copy)]
pub struct SnapshotView<'a> {
    /// Sorted by (type, id), as in [`crate::snapshot::EvidenceSnapshot`].
    pub entities: &'a [EvidenceEntity],
    /// Indices into `entities` by type index, in order.
    pub by_type: &'a [Vec<usize>],
    /// How ids are found among `by_type`'s lists.
    pub ids: &'a IdSearch,
}

impl<'a> SnapshotView<'a> {
    /// The index of the entity of type `ti` with id `id`.
    pub fn find(&self, ti: usize, id: &str) -> Option<usize> {
        self.ids.find(self.entities, ti, self.by_type.get(ti)?, id)
    }
}

/// A value during evaluation; borrows from the snapshot and the compiled program.
#[derive(Debug, Clone, Copy)]
enum Val<'a> {
    Bool(bool),
    Long(i64),
    Str(&'a str),
    /// An entity: its type, and its id or (when it is known) its snapshot entity.
    Entity(EntTy, Id<'a>),
    /// A set of strings (an attribute).
    Strs(StrItems<'a>),
    /// A set of references to entities of one type (an attribute).
    Refs(usize, StrItems<'a>),
    /// A set or record constant.
    Const(&'a Const),
}

/// An entity value's identity. The resource is its snapshot entity: its id is read from it only
/// when needed (an error, an entity equality), which spares each evaluation a read of the
/// entity's text.
#[derive(Debug, Clone, Copy)]
enum Id<'a> {
    Text(&'a str),
    Of(&'a EvidenceEntity),
}

impl<'a> Id<'a> {
    fn text(self) -> &'a str {
        match self {
            Id::Text(id) => id,
            Id::Of(e) => e.id(),
        }
    }
}

type R<'a> = Result<Val<'a>, EvalError>;

fn of_const(c: &Const) -> Val<'_> {
    match c {
        Const::Bool(b) => Val::Bool(*b),
        Const::Long(n) => Val::Long(*n),
        Const::Str(s) => Val::Str(s),
        Const::Entity(t, id) => Val::Entity(*t, Id::Text(id)),
        Const::Set(_) | Const::Record(_) => Val::Const(c),
    }
}

fn type_name(v: &Val<'_>) -> &'static str {
    match v {
        Val::Bool(_) => "bool",
        Val::Long(_) => "long",
        Val::Str(_) => "string",
        Val::Entity(..) => "entity",
        Val::Strs(_) | Val::Refs(..) | Val::Const(Const::Set(_)) => "set",
        Val::Const(Const::Record(_)) => "record",
        Val::Const(_) => "value",
    }
}

fn boolean(v: Val<'_>) -> Result<bool, EvalError> {
    match v {
        Val::Bool(b) => Ok(b),
        other => Err(EvalError::Type("bool", type_name(&other))),
    }
}

fn long(v: Val<'_>) -> Result<i64, EvalError> {
    match v {
        Val::Long(n) => Ok(n),
        other => Err(EvalError::Type("long", type_name(&other))),
    }
}

fn is_set(v: &Val<'_>) -> bool {
    matches!(v, Val::Strs(_) | Val::Refs(..) | Val::Const(Const::Set(_)))
}

/// Calls `f` on each element of the set `v` until it returns true; whether it did.
fn any_elem<'a>(v: Val<'a>, mut f: impl FnMut(Val<'a>) -> bool) -> bool {
    match v {
        Val::Strs(items) => items.iter().any(|s| f(Val::Str(s))),
        Val::Refs(t, ids) => ids
            .iter()
            .any(|id| f(Val::Entity(EntTy::Model(t), Id::Text(id)))),
        Val::Const(Const::Set(items)) => items.iter().any(|c| f(of_const(c))),
        _ => false,
    }
}

fn set_len(v: &Val<'_>) -> usize {
    match v {
        Val::Strs(items) => items.len(),
        Val::Refs(_, ids) => ids.len(),
        Val::Const(Const::Set(items)) => items.len(),
        _ => 0,
    }
}

fn contains<'a>(set: Val<'a>, x: Val<'a>) -> bool {
    any_elem(set, |e| eq(e, x))
}

/// Cedar's `==`: structural, and never an error (values of different types are unequal).
fn eq(a: Val<'_>, b: Val<'_>) -> bool {
    match (a, b) {
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Long(x), Val::Long(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Entity(t, x), Val::Entity(u, y)) => t == u && x.text() == y.text(),
        (Val::Const(Const::Record(x)), Val::Const(Const::Record(y))) => x == y,
        (x, y) if is_set(&x) && is_set(&y) => {
            !any_elem(x, |e| !contains(y, e)) && !any_elem(y, |e| !contains(x, e))
        }
        _ => false,
    }
}

fn attr_val(v: AttrRef<'_>, ty: Option<AttrType>, target: Option<usize>) -> Val<'_> {
    match (v, ty, target) {
        (AttrRef::Bool(b), ..) => Val::Bool(b),
        (AttrRef::Long(n) | AttrRef::Time(n), ..) => Val::Long(n),
        (AttrRef::String(s), ..) => Val::Str(s),
        (AttrRef::Ref(id), Some(AttrType::Ref(_)), Some(t)) => {
            Val::Entity(EntTy::Model(t), Id::Text(id))
        }
        (AttrRef::RefSet(ids), Some(AttrType::RefSet(_)), Some(t)) => Val::Refs(t, ids),
        (AttrRef::StringSet(v) | AttrRef::RefSet(v), ..) => Val::Strs(v),
        (AttrRef::Ref(id), ..) => Val::Str(id),
    }
}

/// What `has` (when `has`) or reading an attribute gives for its `value`; `missing` is the
/// error of reading an absent one.
fn answer<'a>(
    has: bool,
    value: Option<AttrRef<'a>>,
    ty: Option<AttrType>,
    target: Option<usize>,
    missing: impl FnOnce() -> EvalError,
) -> R<'a> {
    match (has, value) {
        (true, v) => Ok(Val::Bool(v.is_some())),
        (false, Some(v)) => Ok(attr_val(v, ty, target)),
        (false, None) => Err(missing()),
    }
}

struct Eval<'a> {
    view: SnapshotView<'a>,
    resource: Val<'a>,
}

impl<'a> Eval<'a> {
    /// The snapshot entity an entity value denotes, or the error reading it gives.
    fn deref(&self, t: EntTy, id: Id<'a>) -> Option<&'a EvidenceEntity> {
        match (id, t) {
            (Id::Of(e), _) => Some(e),
            (Id::Text(id), EntTy::Model(ti)) => {
                self.view.find(ti, id).map(|i| &self.view.entities[i])
            }
            _ => None,
        }
    }

    /// The resource's snapshot entity, when it is one.
    fn own(&self) -> Option<&'a EvidenceEntity> {
        match self.resource {
            Val::Entity(_, Id::Of(e)) => Some(e),
            _ => None,
        }
    }

    fn attr(&self, v: Val<'a>, a: &Access, has: bool) -> R<'a> {
        let Val::Entity(t, id) = v else {
            return Err(EvalError::Type("entity or record", type_name(&v)));
        };
        let Some(e) = self.deref(t, id) else {
            return if has {
                Ok(Val::Bool(false))
            } else {
                Err(EvalError::NoEntity(t, id.text().to_string()))
            };
        };
        let def = e.def();
        // The static type is the model's reference type; a value of another type is read by name.
        let (ai, ty, target) = if Some(t) == a.ty {
            (a.ai, a.attr_ty, a.target)
        } else {
            let ai = def.attrs.iter().position(|d| d.name == a.name);
            let ty = ai.map(|i| def.attrs[i].ty);
            let target = match ty {
                Some(AttrType::Ref(n) | AttrType::RefSet(n)) => entity_type_index(n),
                _ => None,
            };
            (ai, ty, target)
        };
        let value = ai.and_then(|i| e.value(i));
        answer(has, value, ty, target, || {
            EvalError::NoAttr(t, id.text().to_string(), a.name.clone())
        })
    }

    /// `resource.<attr>` (or `resource has <attr>`) of the resource's own type, read from its
    /// entity; as [`Eval::attr`] reads it.
    fn own_attr(&self, a: &Access, has: bool) -> R<'a> {
        let Some(e) = self
            .own()
            .filter(|e| a.ty == Some(EntTy::Model(e.type_index)))
        else {
            return self.attr(self.resource, a, has);
        };
        let value = a.ai.and_then(|i| e.value(i));
        answer(has, value, a.attr_ty, a.target, || {
            EvalError::NoAttr(
                EntTy::Model(e.type_index),
                e.id().to_string(),
                a.name.clone(),
            )
        })
    }

    fn eval(&self, e: &'a Expr) -> R<'a> {
        match e {
            Expr::ResourceAttr(a) => self.own_attr(a, false),
            Expr::ResourceHas(a) => self.own_attr(a, true),
            Expr::ResourceEnumIs(a, value, position) => {
                let own = self
                    .own()
                    .filter(|e| a.ty == Some(EntTy::Model(e.type_index)));
                if let Some(w) = own.and_then(|e| e.enum_word(a.ai?)) {
                    return Ok(Val::Bool(Some(w) == *position));
                }
                Ok(Val::Bool(eq(self.own_attr(a, false)?, Val::Str(value))))
            }
            Expr::Const(c) => Ok(of_const(c)),
            Expr::Fail(err) => Err(err.clone()),
            Expr::Resource => Ok(self.resource),
            Expr::Context(_) | Expr::ContextHas(..) => {
                Err(EvalError::Type("a bound context", "an unbound one"))
            }
            Expr::Attr(x, a) => {
                let v = self.eval(x)?;
                if let Val::Const(Const::Record(m)) = v {
                    return m
                        .get(&a.name)
                        .map(of_const)
                        .ok_or_else(|| EvalError::NoRecordAttr(a.name.clone()));
                }
                self.attr(v, a, false)
            }
            Expr::Has(x, a) => {
                let v = self.eval(x)?;
                if let Val::Const(Const::Record(m)) = v {
                    return Ok(Val::Bool(m.contains_key(&a.name)));
                }
                self.attr(v, a, true)
            }
            Expr::Not(x) => Ok(Val::Bool(!boolean(self.eval(x)?)?)),
            Expr::Neg(x) => {
                let n = long(self.eval(x)?)?;
                n.checked_neg()
                    .map(Val::Long)
                    .ok_or(EvalError::NegOverflow(n))
            }
            Expr::And(l, r) => {
                if !boolean(self.eval(l)?)? {
                    return Ok(Val::Bool(false));
                }
                Ok(Val::Bool(boolean(self.eval(r)?)?))
            }
            Expr::Or(l, r) => {
                if boolean(self.eval(l)?)? {
                    return Ok(Val::Bool(true));
                }
                Ok(Val::Bool(boolean(self.eval(r)?)?))
            }
            Expr::If(c, t, f) => {
                if boolean(self.eval(c)?)? {
                    self.eval(t)
                } else {
                    self.eval(f)
                }
            }
            Expr::IsEmpty(x) => {
                let v = self.eval(x)?;
                if !is_set(&v) {
                    return Err(EvalError::Type("set", type_name(&v)));
                }
                Ok(Val::Bool(set_len(&v) == 0))
            }
            Expr::Is(x, t) => match self.eval(x)? {
                Val::Entity(u, ..) => Ok(Val::Bool(u == *t)),
                other => Err(EvalError::Type("entity", type_name(&other))),
            },
            Expr::Bin(op, l, r) => {
                let a = self.eval(l)?;
                let b = self.eval(r)?;
                self.binary(*op, a, b)
            }
        }
    }

    fn binary(&self, op: BinOp, a: Val<'a>, b: Val<'a>) -> R<'a> {
        let arith = |f: fn(i64, i64) -> Option<i64>| -> R<'a> {
            let (x, y) = (long(a)?, long(b)?);
            f(x, y).map(Val::Long).ok_or(EvalError::Overflow(op, x, y))
        };
        let set = |v: &Val<'a>| -> Result<(), EvalError> {
            if is_set(v) {
                Ok(())
            } else {
                Err(EvalError::Type("set", type_name(v)))
            }
        };
        Ok(match op {
            BinOp::Eq => Val::Bool(eq(a, b)),
            BinOp::Ne => Val::Bool(!eq(a, b)),
            BinOp::Lt => Val::Bool(long(a)? < long(b)?),
            BinOp::Le => Val::Bool(long(a)? <= long(b)?),
            BinOp::Gt => Val::Bool(long(a)? > long(b)?),
            BinOp::Ge => Val::Bool(long(a)? >= long(b)?),
            BinOp::Add => return arith(i64::checked_add),
            BinOp::Sub => return arith(i64::checked_sub),
            BinOp::Mul => return arith(i64::checked_mul),
            BinOp::Contains => {
                set(&a)?;
                Val::Bool(contains(a, b))
            }
            BinOp::ContainsAll => {
                set(&a)?;
                set(&b)?;
                Val::Bool(!any_elem(b, |e| !contains(a, e)))
            }
            BinOp::ContainsAny => {
                set(&a)?;
                set(&b)?;
                Val::Bool(any_elem(b, |e| contains(a, e)))
            }
        })
    }
}

/// The policies of one pass, compiled for resources of one type and bound to one context.
pub struct CompiledEvaluator<'a> {
    policies: Vec<Policy>,
    resource_type: usize,
    plan: Plan,
    view: SnapshotView<'a>,
    context: &'a Context,
}

fn programs(
    policies: &[Policy],
    resource_type: EntTy,
    context: &Context,
    cache: &CompiledPolicies,
) -> Result<Vec<Program>, Unsupported> {
    let record = context_record(context)?;
    policies
        .iter()
        .map(|p| {
            let prog = cache.get(p, resource_type)?;
            Ok(Program {
                forbid: prog.forbid,
                condition: bind(&prog.condition, &record),
            })
        })
        .collect()
}

/// Cedar's verdicts from each policy's outcome, into `out`: if a `forbid` is satisfied the
/// decision is Deny and only the satisfied `forbid`s are reasons; otherwise the satisfied
/// `permit`s are. The programs are evaluated as `plan` arranges them: each guard's attribute
/// read once.
fn verdicts<'a>(plan: &'a Plan, ev: &Eval<'a>, out: &mut Verdicts) {
    let mut reads: [Option<R<'a>>; MAX_READS] = [const { None }; MAX_READS];
    let mut shared: [Option<Result<bool, EvalError>>; MAX_SHARED] = [const { None }; MAX_SHARED];
    out.satisfied.clear();
    out.errors.clear();
    let mut forbidden = false;
    for (i, step) in plan.steps.iter().enumerate() {
        let mut evaluate = || -> Result<bool, EvalError> {
            if let Some(guard) = &step.guard {
                let read =
                    reads[guard.read].get_or_insert_with(|| ev.eval(&plan.reads[guard.read]));
                let value = read.clone()?;
                let holds = match &guard.test {
                    Test::Compare { negate, value: c } => eq(value, of_const(c)) != *negate,
                    Test::Truth => boolean(value)?,
                };
                if !holds {
                    return Ok(false);
                }
            }
            for conjunct in &step.rest {
                if !boolean(ev.eval(conjunct)?)? {
                    return Ok(false);
                }
            }
            Ok(true)
        };
        let outcome = match step.shared {
            Some(slot) => shared[slot].get_or_insert_with(evaluate).clone(),
            None => evaluate(),
        };
        match outcome {
            Ok(true) => {
                forbidden |= step.forbid;
                out.satisfied.push(i);
            }
            Ok(false) => {}
            Err(e) => out.errors.push((i, e.to_string())),
        }
    }
    if forbidden {
        out.satisfied.retain(|&i| plan.steps[i].forbid);
    }
}

impl<'a> CompiledEvaluator<'a> {
    /// Compiles `policies` for resources of type `resource_type`, with `context`.
    pub fn new(
        policies: &[Policy],
        resource_type: usize,
        view: SnapshotView<'a>,
        context: &'a Context,
    ) -> Result<Self, Unsupported> {
        Self::with_cache(
            policies,
            resource_type,
            view,
            context,
            &CompiledPolicies::default(),
        )
    }

    /// [`CompiledEvaluator::new`], taking the programs `cache` holds for `policies` instead
    /// of compiling them again.
    pub fn with_cache(
        policies: &[Policy],
        resource_type: usize,
        view: SnapshotView<'a>,
        context: &'a Context,
        cache: &CompiledPolicies,
    ) -> Result<Self, Unsupported> {
        Ok(Self {
            plan: Plan::new(&programs(
                policies,
                EntTy::Model(resource_type),
                context,
                cache,
            )?),
            policies: policies.to_vec(),
            resource_type,
            view,
            context,
        })
    }
}

impl EntityEvaluator for CompiledEvaluator<'_> {
    fn evaluate_entity_into(&self, index: usize, out: &mut Verdicts) {
        let e = &self.view.entities[index];
        let ev = Eval {
            view: self.view,
            resource: Val::Entity(EntTy::Model(e.type_index), Id::Of(e)),
        };
        verdicts(&self.plan, &ev, out);
    }
}

impl PolicyEvaluator for CompiledEvaluator<'_> {
    /// Any resource and context: the entity is looked up by uid, and the policies are compiled
    /// again when the resource's type or the context is not the one they were compiled for.
    fn evaluate(&self, resource: &EntityUid, context: &Context) -> Verdicts {
        let type_name = resource.type_name().to_string();
        let id = resource.id().unescaped();
        let ti = entity_type_index(&type_name);
        let t = match ti {
            Some(ti) => EntTy::Model(ti),
            None if type_name == super::compiled::EntTy::Assessor.name() => EntTy::Assessor,
            None => EntTy::Action,
        };
        let idx = ti.and_then(|ti| self.view.find(ti, id));
        let ev = Eval {
            view: self.view,
            resource: Val::Entity(
                t,
                idx.map_or(Id::Text(id), |i| Id::Of(&self.view.entities[i])),
            ),
        };
        let mut out = Verdicts::default();
        if std::ptr::eq(context, self.context) && ti == Some(self.resource_type) {
            verdicts(&self.plan, &ev, &mut out);
            return out;
        }
        match programs(&self.policies, t, context, &CompiledPolicies::default()) {
            Ok(progs) => {
                verdicts(&Plan::new(&progs), &ev, &mut out);
                out
            }
            Err(Unsupported(why)) => Verdicts {
                satisfied: Vec::new(),
                errors: (0..self.policies.len())
                    .map(|i| (i, format!("cannot compile: {why}")))
                    .collect(),
            },
        }
    }
}
