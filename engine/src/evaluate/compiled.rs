//! Strictly validated Cedar policies compiled to a resolved expression tree that evaluates
//! directly on the snapshot's entities, without building Cedar entities or requests.
//!
//! The tree is derived from each policy's own text, through Cedar's JSON form of it (the EST):
//! no rule logic is written here, only the meaning of Cedar's operators. Attribute names are
//! resolved to the model's attribute indices using the static entity type of each expression
//! (`resource is T`, then the model's reference types), and the context (`now`, `params`,
//! `facts`) is folded into constants once per pass ([`bind`]). A policy using anything this
//! compiler does not implement (extension functions, `in`, `like`, tags, non-literal sets or
//! records ...) is refused with [`Unsupported`], and the caller falls back to Cedar's
//! authorizer. Every verdict and error message is checked against `cedar_policy::Authorizer`
//! by the differential tests in `differential_tests.rs`.

use std::collections::BTreeMap;

use cedar_policy::{Context, EvalResult, Policy};
use serde_json::Value as Json;

use crate::model::{
    entity_type_index, AttrType, ACTION_ID, ASSESSOR_ID, ASSESSOR_TYPE, ENTITY_TYPES,
};

/// The type of an entity value: a model type, or the assessor or action of every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EntTy {
    Model(usize),
    Assessor,
    Action,
}

impl EntTy {
    fn parse(name: &str) -> Option<EntTy> {
        match name {
            ASSESSOR_TYPE => Some(EntTy::Assessor),
            "Action" => Some(EntTy::Action),
            _ => entity_type_index(name).map(EntTy::Model),
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            EntTy::Model(ti) => ENTITY_TYPES[ti].name,
            EntTy::Assessor => ASSESSOR_TYPE,
            EntTy::Action => "Action",
        }
    }
}

/// A constant value: a literal, or a value of the context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Const {
    Bool(bool),
    Long(i64),
    Str(String),
    Entity(EntTy, String),
    Set(Vec<Const>),
    Record(BTreeMap<String, Const>),
}

/// Why an expression could not be evaluated; displayed exactly as Cedar displays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EvalError {
    NoEntity(EntTy, String),
    NoAttr(EntTy, String, String),
    NoRecordAttr(String),
    Overflow(BinOp, i64, i64),
    NegOverflow(i64),
    Type(&'static str, &'static str),
}

/// `Type::"id"` as Cedar displays an entity uid.
pub(crate) fn uid_text(ty: EntTy, id: &str) -> String {
    format!("{}::\"{}\"", ty.name(), id.escape_debug())
}

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EvalError::NoEntity(ty, id) => {
                write!(f, "entity `{}` does not exist", uid_text(*ty, id))
            }
            EvalError::NoAttr(ty, id, attr) => write!(
                f,
                "`{}` does not have the attribute `{attr}`",
                uid_text(*ty, id)
            ),
            EvalError::NoRecordAttr(attr) => {
                write!(f, "record does not have the attribute `{attr}`")
            }
            EvalError::Overflow(op, a, b) => {
                let verb = match op {
                    BinOp::Add => "add",
                    BinOp::Sub => "subtract",
                    BinOp::Mul => "multiply",
                    _ => "perform an operation on",
                };
                write!(
                    f,
                    "integer overflow while attempting to {verb} the values `{a}` and `{b}`"
                )
            }
            EvalError::NegOverflow(a) => write!(
                f,
                "integer overflow while attempting to negate the value `{a}`"
            ),
            EvalError::Type(expected, got) => {
                write!(f, "type error: expected {expected}, got {got}")
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Contains,
    ContainsAll,
    ContainsAny,
}

/// An attribute of an entity, resolved against the model where the entity's type is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    /// The entity type the compiler resolved the attribute for; `None` when the type is not
    /// known statically (the attribute is then looked up by name).
    pub ty: Option<EntTy>,
    pub name: String,
    /// Index in the model type's attributes; `None` when the type has no such attribute.
    pub ai: Option<usize>,
    /// The attribute's type in the model.
    pub attr_ty: Option<AttrType>,
    /// For reference attributes, the index of the referenced type.
    pub target: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Const(Const),
    /// Evaluates to this error (a context attribute that is not there).
    Fail(EvalError),
    Resource,
    /// A path under `context`, before [`bind`].
    Context(Vec<String>),
    /// `context.<path> has <attr>`, before [`bind`].
    ContextHas(Vec<String>, String),
    Attr(Box<Expr>, Access),
    Has(Box<Expr>, Access),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    IsEmpty(Box<Expr>),
    Is(Box<Expr>, EntTy),
    /// `resource.<attr>` where the attribute is the resource type's own: read from the
    /// resource entity directly ([`super::plan`] writes these; the compiler never does).
    ResourceAttr(Access),
    /// `resource has <attr>`, likewise.
    ResourceHas(Access),
    /// `resource.<attr> == "value"` where the attribute is one of the resource type's
    /// enumerations: the value's position among the enumeration's values (`None`: it is not
    /// one of them) compared with the stored one.
    ResourceEnumIs(Access, String, Option<u64>),
}

/// Why a policy cannot be compiled (the caller then uses Cedar's authorizer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

fn unsupported<T>(what: impl Into<String>) -> Result<T, Unsupported> {
    Err(Unsupported(what.into()))
}

/// What the compiler knows statically about an expression's value.
#[derive(Debug, Clone)]
enum Static {
    Entity(EntTy),
    Context(Vec<String>),
    Value,
}

/// One compiled policy: whether it is a `forbid`, and its whole condition (scope included).
#[derive(Debug, Clone)]
pub(crate) struct Program {
    pub forbid: bool,
    pub condition: Expr,
}

fn entity_literal(v: &Json) -> Result<Const, Unsupported> {
    let e = v.get("__entity").unwrap_or(v);
    let (Some(ty), Some(id)) = (
        e.get("type").and_then(Json::as_str),
        e.get("id").and_then(Json::as_str),
    ) else {
        return unsupported(format!("entity literal {v}"));
    };
    let Some(t) = EntTy::parse(ty) else {
        return unsupported(format!("entity type `{ty}`"));
    };
    Ok(Const::Entity(t, id.to_string()))
}

fn literal(v: &Json) -> Result<Const, Unsupported> {
    match v {
        Json::Bool(b) => Ok(Const::Bool(*b)),
        Json::Number(n) => n
            .as_i64()
            .map(Const::Long)
            .ok_or_else(|| Unsupported(format!("number {n}"))),
        Json::String(s) => Ok(Const::Str(s.clone())),
        Json::Object(o) if o.contains_key("__entity") => entity_literal(v),
        Json::Array(items) => items
            .iter()
            .map(literal)
            .collect::<Result<_, _>>()
            .map(Const::Set),
        other => unsupported(format!("literal {other}")),
    }
}

fn access(ty: Option<EntTy>, name: &str) -> Access {
    let (ai, attr_ty) = match ty {
        Some(EntTy::Model(ti)) => ENTITY_TYPES[ti]
            .attrs
            .iter()
            .position(|a| a.name == name)
            .map_or((None, None), |ai| {
                (Some(ai), Some(ENTITY_TYPES[ti].attrs[ai].ty))
            }),
        _ => (None, None),
    };
    let target = match attr_ty {
        Some(AttrType::Ref(t) | AttrType::RefSet(t)) => entity_type_index(t),
        _ => None,
    };
    Access {
        ty,
        name: name.to_string(),
        ai,
        attr_ty,
        target,
    }
}

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

struct Compiler {
    resource: EntTy,
}

impl Compiler {
    fn operand(&self, v: &Json, key: &str) -> Result<Expr, Unsupported> {
        match v.get(key) {
            Some(x) => Ok(self.expr(x)?.0),
            None => unsupported(format!("missing `{key}`")),
        }
    }

    fn expr(&self, v: &Json) -> Result<(Expr, Static), Unsupported> {
        let Some(obj) = v.as_object() else {
            return unsupported(format!("expression {v}"));
        };
        let Some((op, body)) = obj.iter().next().filter(|_| obj.len() == 1) else {
            return unsupported(format!("expression {v}"));
        };
        let value = |e: Expr| Ok((e, Static::Value));
        let bin = |o: BinOp| -> Result<(Expr, Static), Unsupported> {
            Ok((
                Expr::Bin(
                    o,
                    bx(self.operand(body, "left")?),
                    bx(self.operand(body, "right")?),
                ),
                Static::Value,
            ))
        };
        match op.as_str() {
            "Value" => {
                let c = literal(body)?;
                let s = match &c {
                    Const::Entity(t, _) => Static::Entity(*t),
                    _ => Static::Value,
                };
                Ok((Expr::Const(c), s))
            }
            "Var" => match body.as_str() {
                Some("resource") => Ok((Expr::Resource, Static::Entity(self.resource))),
                // every request has the same principal and action
                Some("principal") => Ok((
                    Expr::Const(Const::Entity(EntTy::Assessor, PRINCIPAL_ID.into())),
                    Static::Entity(EntTy::Assessor),
                )),
                Some("action") => Ok((
                    Expr::Const(Const::Entity(EntTy::Action, ACTION.into())),
                    Static::Entity(EntTy::Action),
                )),
                Some("context") => Ok((Expr::Context(Vec::new()), Static::Context(Vec::new()))),
                _ => unsupported(format!("variable {body}")),
            },
            "Set" => {
                let items = body.as_array().map(Vec::as_slice).unwrap_or_default();
                let mut consts = Vec::new();
                for item in items {
                    match self.expr(item)?.0 {
                        Expr::Const(c) => consts.push(c),
                        _ => return unsupported("a set literal with non-literal elements"),
                    }
                }
                value(Expr::Const(Const::Set(consts)))
            }
            "." | "has" => {
                let Some(attr) = body.get("attr").and_then(Json::as_str) else {
                    return unsupported(format!("`{op}` without an attribute"));
                };
                let Some(left) = body.get("left") else {
                    return unsupported(format!("`{op}` without an operand"));
                };
                let (l, s) = self.expr(left)?;
                let get = op == ".";
                match s {
                    Static::Context(mut path) => {
                        if get {
                            path.push(attr.to_string());
                            Ok((Expr::Context(path.clone()), Static::Context(path)))
                        } else {
                            value(Expr::ContextHas(path, attr.to_string()))
                        }
                    }
                    Static::Entity(ty) => {
                        let a = access(Some(ty), attr);
                        if get {
                            let next = match (a.attr_ty, a.target) {
                                (Some(AttrType::Ref(_)), Some(t)) => {
                                    Static::Entity(EntTy::Model(t))
                                }
                                _ => Static::Value,
                            };
                            Ok((Expr::Attr(bx(l), a), next))
                        } else {
                            value(Expr::Has(bx(l), a))
                        }
                    }
                    Static::Value => {
                        let a = access(None, attr);
                        if get {
                            value(Expr::Attr(bx(l), a))
                        } else {
                            value(Expr::Has(bx(l), a))
                        }
                    }
                }
            }
            "!" => value(Expr::Not(bx(self.operand(body, "arg")?))),
            "neg" => value(Expr::Neg(bx(self.operand(body, "arg")?))),
            "isEmpty" => value(Expr::IsEmpty(bx(self.operand(body, "arg")?))),
            "&&" => value(Expr::And(
                bx(self.operand(body, "left")?),
                bx(self.operand(body, "right")?),
            )),
            "||" => value(Expr::Or(
                bx(self.operand(body, "left")?),
                bx(self.operand(body, "right")?),
            )),
            "if-then-else" => value(Expr::If(
                bx(self.operand(body, "if")?),
                bx(self.operand(body, "then")?),
                bx(self.operand(body, "else")?),
            )),
            "is" => {
                if body.get("in").is_some() {
                    return unsupported("`is ... in`");
                }
                let Some(t) = body
                    .get("entity_type")
                    .and_then(Json::as_str)
                    .and_then(EntTy::parse)
                else {
                    return unsupported(format!("`is` {body}"));
                };
                value(self.is(self.operand(body, "left")?, t))
            }
            "==" => bin(BinOp::Eq),
            "!=" => bin(BinOp::Ne),
            "<" => bin(BinOp::Lt),
            "<=" => bin(BinOp::Le),
            ">" => bin(BinOp::Gt),
            ">=" => bin(BinOp::Ge),
            "+" => bin(BinOp::Add),
            "-" => bin(BinOp::Sub),
            "*" => bin(BinOp::Mul),
            "contains" => bin(BinOp::Contains),
            "containsAll" => bin(BinOp::ContainsAll),
            "containsAny" => bin(BinOp::ContainsAny),
            other => unsupported(format!("operator `{other}`")),
        }
    }

    /// `x is t`, decided now when `x` is the resource (whose type the program is compiled for)
    /// or a constant.
    fn is(&self, x: Expr, t: EntTy) -> Expr {
        match x {
            Expr::Resource => Expr::Const(Const::Bool(self.resource == t)),
            Expr::Const(Const::Entity(u, _)) => Expr::Const(Const::Bool(u == t)),
            other => Expr::Is(bx(other), t),
        }
    }

    /// The scope constraint on one variable, or `None` when it is unconstrained.
    fn scope(&self, var: Expr, c: Option<&Json>) -> Result<Option<Expr>, Unsupported> {
        let Some(c) = c else {
            return unsupported("a policy without scope");
        };
        match c.get("op").and_then(Json::as_str) {
            Some("All") => Ok(None),
            Some("==") => {
                let Some(e) = c.get("entity") else {
                    return unsupported(format!("scope {c}"));
                };
                Ok(Some(Expr::Bin(
                    BinOp::Eq,
                    bx(var),
                    bx(Expr::Const(entity_literal(e)?)),
                )))
            }
            Some("is") if c.get("in").is_none() => {
                let Some(t) = c
                    .get("entity_type")
                    .and_then(Json::as_str)
                    .and_then(EntTy::parse)
                else {
                    return unsupported(format!("scope {c}"));
                };
                Ok(Some(self.is(var, t)))
            }
            _ => unsupported(format!("scope {c}")),
        }
    }
}

/// Compiles `policy` for resources of type `resource`.
pub(crate) fn compile(policy: &Policy, resource: EntTy) -> Result<Program, Unsupported> {
    let est = policy
        .to_json()
        .map_err(|e| Unsupported(format!("no JSON form: {e}")))?;
    let c = Compiler { resource };
    let forbid = match est.get("effect").and_then(Json::as_str) {
        Some("forbid") => true,
        Some("permit") => false,
        other => return unsupported(format!("effect {other:?}")),
    };
    // Cedar's condition: principal && (action && (resource && (cond1 && (cond2 ...)))),
    // where an unconstrained scope is `true`; `unless` conditions are negated.
    let mut parts: Vec<Expr> = Vec::new();
    for (var, key) in [
        (
            Expr::Const(Const::Entity(EntTy::Assessor, PRINCIPAL_ID.into())),
            "principal",
        ),
        (
            Expr::Const(Const::Entity(EntTy::Action, ACTION.into())),
            "action",
        ),
        (Expr::Resource, "resource"),
    ] {
        parts.push(
            c.scope(var, est.get(key))?
                .unwrap_or(Expr::Const(Const::Bool(true))),
        );
    }
    let conditions = est
        .get("conditions")
        .and_then(Json::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut body: Vec<Expr> = Vec::new();
    for cond in conditions {
        let e = c.operand(cond, "body")?;
        match cond.get("kind").and_then(Json::as_str) {
            Some("when") => body.push(e),
            Some("unless") => body.push(Expr::Not(bx(e))),
            other => return unsupported(format!("condition kind {other:?}")),
        }
    }
    let mut condition = match body.pop() {
        Some(last) => body
            .into_iter()
            .rev()
            .fold(last, |acc, e| Expr::And(bx(e), bx(acc))),
        None => Expr::Const(Const::Bool(true)),
    };
    while let Some(p) = parts.pop() {
        condition = Expr::And(bx(p), bx(condition));
    }
    Ok(Program { forbid, condition })
}

/// Policies compiled once per assessment, by policy id and resource type, so that each pass
/// only binds them to its context.
#[derive(Debug, Clone, Default)]
pub struct CompiledPolicies {
    by_id: std::collections::HashMap<String, (Policy, EntTy, Program)>,
}

impl CompiledPolicies {
    /// Compiles every `(policy, resource type)`; the first policy that cannot be compiled is
    /// the error.
    pub(crate) fn compile<'p>(
        policies: impl IntoIterator<Item = (&'p Policy, usize)>,
    ) -> Result<Self, Unsupported> {
        let mut by_id = std::collections::HashMap::new();
        for (p, ti) in policies {
            let t = EntTy::Model(ti);
            by_id.insert(p.id().to_string(), (p.clone(), t, compile(p, t)?));
        }
        Ok(Self { by_id })
    }

    /// `policy` compiled for `resource`: from the cache when it holds that policy (same id
    /// and text) for that type, else compiled now.
    pub(crate) fn get(&self, policy: &Policy, resource: EntTy) -> Result<Program, Unsupported> {
        let id: &str = policy.id().as_ref();
        match self.by_id.get(id) {
            Some((p, t, prog)) if *t == resource && p == policy => Ok(prog.clone()),
            _ => compile(policy, resource),
        }
    }
}

/// Converts a value of Cedar's context into a constant.
fn from_eval(v: &EvalResult) -> Result<Const, Unsupported> {
    Ok(match v {
        EvalResult::Bool(b) => Const::Bool(*b),
        EvalResult::Long(n) => Const::Long(*n),
        EvalResult::String(s) => Const::Str(s.clone()),
        EvalResult::EntityUid(u) => {
            let ty = u.type_name().to_string();
            let Some(t) = EntTy::parse(&ty) else {
                return unsupported(format!("entity type `{ty}` in the context"));
            };
            Const::Entity(t, u.id().unescaped().to_string())
        }
        EvalResult::Set(s) => Const::Set(s.iter().map(from_eval).collect::<Result<_, _>>()?),
        EvalResult::Record(r) => Const::Record(
            r.iter()
                .map(|(k, v)| Ok((k.clone(), from_eval(v)?)))
                .collect::<Result<_, _>>()?,
        ),
        EvalResult::ExtensionValue(x) => return unsupported(format!("extension value {x}")),
    })
}

/// The context as one record constant.
pub(crate) fn context_record(context: &Context) -> Result<Const, Unsupported> {
    let mut map = BTreeMap::new();
    for key in ["now", "params", "facts"] {
        if let Some(v) = context.get(key) {
            map.insert(key.to_string(), from_eval(&v)?);
        }
    }
    Ok(Const::Record(map))
}

fn lookup<'c>(record: &'c Const, path: &[String]) -> Result<&'c Const, EvalError> {
    let mut cur = record;
    for attr in path {
        cur = match cur {
            Const::Record(m) => m
                .get(attr)
                .ok_or_else(|| EvalError::NoRecordAttr(attr.clone()))?,
            _ => return Err(EvalError::Type("record", "a non-record value")),
        };
    }
    Ok(cur)
}

/// A constant whose equality is structural equality (not a set or record).
fn scalar(e: &Expr) -> Option<&Const> {
    match e {
        Expr::Const(c @ (Const::Bool(_) | Const::Long(_) | Const::Str(_) | Const::Entity(..))) => {
            Some(c)
        }
        _ => None,
    }
}

fn as_bool(e: &Expr) -> Option<bool> {
    match e {
        Expr::Const(Const::Bool(b)) => Some(*b),
        _ => None,
    }
}

/// Replaces every context read by its value in `context` (a [`context_record`]) and folds the
/// branches that become constant.
pub(crate) fn bind(e: &Expr, context: &Const) -> Expr {
    let b = |x: &Expr| bx(bind(x, context));
    match e {
        Expr::Context(path) => match lookup(context, path) {
            Ok(c) => Expr::Const(c.clone()),
            Err(err) => Expr::Fail(err),
        },
        Expr::ContextHas(path, attr) => match lookup(context, path) {
            Ok(Const::Record(m)) => Expr::Const(Const::Bool(m.contains_key(attr))),
            Ok(_) => Expr::Fail(EvalError::Type("record", "a non-record value")),
            Err(err) => Expr::Fail(err),
        },
        Expr::Attr(x, a) => Expr::Attr(b(x), a.clone()),
        Expr::Has(x, a) => Expr::Has(b(x), a.clone()),
        Expr::Not(x) => {
            let x = bind(x, context);
            match as_bool(&x) {
                Some(v) => Expr::Const(Const::Bool(!v)),
                None => Expr::Not(bx(x)),
            }
        }
        Expr::Neg(x) => Expr::Neg(b(x)),
        Expr::IsEmpty(x) => Expr::IsEmpty(b(x)),
        Expr::Is(x, t) => Expr::Is(b(x), *t),
        // `true && x` and `x && true` are `x` for a boolean `x`; for any other `x` both are
        // the same type error, raised where the condition must be a boolean.
        Expr::And(l, r) => {
            let l = bind(l, context);
            match as_bool(&l) {
                Some(false) => Expr::Const(Const::Bool(false)),
                Some(true) => bind(r, context),
                None => {
                    let r = bind(r, context);
                    match as_bool(&r) {
                        Some(true) => l,
                        _ => Expr::And(bx(l), bx(r)),
                    }
                }
            }
        }
        Expr::Or(l, r) => {
            let l = bind(l, context);
            match as_bool(&l) {
                Some(true) => Expr::Const(Const::Bool(true)),
                Some(false) => bind(r, context),
                None => {
                    let r = bind(r, context);
                    match as_bool(&r) {
                        Some(false) => l,
                        _ => Expr::Or(bx(l), bx(r)),
                    }
                }
            }
        }
        Expr::If(c, t, f) => {
            let c = bind(c, context);
            match as_bool(&c) {
                Some(true) => bind(t, context),
                Some(false) => bind(f, context),
                None => Expr::If(bx(c), b(t), b(f)),
            }
        }
        Expr::Bin(op, l, r) => {
            let (l, r) = (bind(l, context), bind(r, context));
            match (op, scalar(&l), scalar(&r)) {
                (BinOp::Eq, Some(x), Some(y)) => Expr::Const(Const::Bool(x == y)),
                (BinOp::Ne, Some(x), Some(y)) => Expr::Const(Const::Bool(x != y)),
                _ => Expr::Bin(*op, bx(l), bx(r)),
            }
        }
        Expr::Const(_)
        | Expr::Fail(_)
        | Expr::Resource
        | Expr::ResourceAttr(_)
        | Expr::ResourceHas(_)
        | Expr::ResourceEnumIs(..) => e.clone(),
    }
}

/// The principal and action of every request.
pub(crate) const PRINCIPAL_ID: &str = ASSESSOR_ID;
pub(crate) const ACTION: &str = ACTION_ID;
