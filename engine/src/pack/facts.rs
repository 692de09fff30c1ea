//! Population facts declared in `facts.toml`: count / exists / latest / ratio over the
//! entities of one type that satisfy a Cedar condition.

use std::collections::BTreeMap;

use cedar_policy::{Policy, PolicyId};
use serde::Deserialize;

use super::errors::{diagnostic_message, diagnostic_offset, line_col, toml_error};
use super::{reads, PackError, PackErrors, FACTS_FILE};
use crate::model::{entity_type_index, AttrType, ENTITY_TYPES};

/// What a fact computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    Count,
    Exists,
    Latest,
    Ratio,
}

impl FactKind {
    /// The Cedar type of the fact in `context.facts`, and whether it may be absent.
    pub fn cedar_type(self) -> (&'static str, bool) {
        match self {
            FactKind::Count => ("Long", false),
            FactKind::Exists => ("Bool", false),
            FactKind::Latest | FactKind::Ratio => ("Long", true),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsToml {
    #[serde(default)]
    facts: BTreeMap<String, FactToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FactToml {
    kind: FactKind,
    of: toml::Spanned<String>,
    #[serde(rename = "where")]
    condition: toml::Spanned<String>,
    #[serde(default)]
    meets: Option<toml::Spanned<String>>,
    #[serde(default)]
    value: Option<toml::Spanned<String>>,
    #[serde(default)]
    description: String,
    /// An empty population means the evidence is missing, not that nothing is wrong: rules
    /// reading the fact are then not assessed.
    #[serde(default)]
    evidence: bool,
}

/// A fact as declared, before its conditions are compiled.
#[derive(Debug)]
pub struct FactDecl {
    pub name: String,
    pub kind: FactKind,
    decl: FactToml,
}

/// A compiled fact.
#[derive(Debug, Clone)]
pub struct FactDef {
    pub name: String,
    pub kind: FactKind,
    /// Index into [`ENTITY_TYPES`].
    pub type_index: usize,
    /// The population: `permit (...) when { <where> };` with id `fact:<name>:where`.
    pub population: Policy,
    /// `ratio` only: the share of the population that meets this condition.
    pub meets: Option<Policy>,
    /// `latest` only: index of the Time or Long attribute to take the maximum of.
    pub value_attr: Option<usize>,
    pub description: String,
    /// An empty population means "no evidence": rules reading the fact are not assessed.
    pub evidence: bool,
    /// `(policy id, byte offset in facts.toml where its condition text starts)`.
    pub(crate) origins: Vec<(String, usize)>,
}

/// Where a synthesized fact policy's condition starts in its text.
fn policy_prefix(type_name: &str) -> String {
    format!("permit (principal, action == Action::\"assess\", resource is {type_name}) when {{ ")
}

pub(crate) fn parse(text: &str, errors: &mut PackErrors) -> Vec<FactDecl> {
    match toml::from_str::<FactsToml>(text) {
        Ok(f) => f
            .facts
            .into_iter()
            .map(|(name, decl)| FactDecl {
                name,
                kind: decl.kind,
                decl,
            })
            .collect(),
        Err(e) => {
            errors.push(toml_error(FACTS_FILE, text, &e));
            Vec::new()
        }
    }
}

/// Offset in `text` of the first character inside the TOML string at `span`.
fn content_start(text: &str, span: std::ops::Range<usize>) -> usize {
    let s = text.get(span.clone()).unwrap_or("");
    let quote = if s.starts_with("'''") || s.starts_with("\"\"\"") {
        3
    } else {
        1
    };
    span.start + quote
}

pub(crate) fn compile(decls: Vec<FactDecl>, text: &str, errors: &mut PackErrors) -> Vec<FactDef> {
    let mut out = Vec::new();
    for FactDecl { name, kind, decl } in decls {
        let err_at = |errors: &mut PackErrors, offset: usize, msg: String| {
            let (line, col) = line_col(text, offset);
            errors.push(PackError::new(FACTS_FILE, line, col, msg));
        };
        let Some(type_index) = entity_type_index(decl.of.get_ref()) else {
            err_at(
                errors,
                decl.of.span().start,
                format!("fact `{name}`: unknown entity type `{}`", decl.of.get_ref()),
            );
            continue;
        };
        let def = &ENTITY_TYPES[type_index];
        let mut ok = true;
        let mut origins = Vec::new();
        let mut policy = |errors: &mut PackErrors, part: &str, cond: &toml::Spanned<String>| {
            let id = format!("fact:{name}:{part}");
            let prefix = policy_prefix(def.name);
            let src = format!("{prefix}{} }};", cond.get_ref());
            let start = content_start(text, cond.span());
            let map = |o: usize| (start + o).saturating_sub(prefix.len());
            match Policy::parse(Some(PolicyId::new(&id)), &src) {
                Ok(p) => {
                    if reads::paths(&p)
                        .iter()
                        .any(|r| r.starts_with("context.facts"))
                    {
                        err_at(
                            errors,
                            start,
                            format!("fact `{name}`: a fact cannot read other facts"),
                        );
                        return None;
                    }
                    origins.push((id, start));
                    Some(p)
                }
                Err(e) => {
                    for d in e.iter() {
                        let at = diagnostic_offset(d).map_or(start, map);
                        err_at(
                            errors,
                            at,
                            format!("fact `{name}`: {}", diagnostic_message(d)),
                        );
                    }
                    None
                }
            }
        };
        let population = policy(errors, "where", &decl.condition);
        let meets = match (&decl.meets, kind) {
            (Some(m), FactKind::Ratio) => policy(errors, "meets", m),
            (None, FactKind::Ratio) => {
                err_at(
                    errors,
                    decl.of.span().start,
                    format!("fact `{name}`: a ratio needs `meets`"),
                );
                ok = false;
                None
            }
            (Some(m), _) => {
                err_at(
                    errors,
                    m.span().start,
                    format!("fact `{name}`: only a ratio takes `meets`"),
                );
                ok = false;
                None
            }
            (None, _) => None,
        };
        let value_attr = match (&decl.value, kind) {
            (Some(v), FactKind::Latest) => {
                let idx = def.attrs.iter().position(|a| a.name == v.get_ref());
                match idx.map(|i| (i, def.attrs[i].ty)) {
                    Some((i, AttrType::Time | AttrType::Long)) => Some(i),
                    _ => {
                        err_at(
                            errors,
                            v.span().start,
                            format!(
                                "fact `{name}`: `{}` is not a time or integer attribute of `{}`",
                                v.get_ref(),
                                def.name
                            ),
                        );
                        ok = false;
                        None
                    }
                }
            }
            (None, FactKind::Latest) => {
                err_at(
                    errors,
                    decl.of.span().start,
                    format!("fact `{name}`: `latest` needs `value`"),
                );
                ok = false;
                None
            }
            (Some(v), _) => {
                err_at(
                    errors,
                    v.span().start,
                    format!("fact `{name}`: only `latest` takes `value`"),
                );
                ok = false;
                None
            }
            (None, _) => None,
        };
        let (Some(population), true) = (population, ok) else {
            continue;
        };
        if kind == FactKind::Ratio && meets.is_none() {
            continue;
        }
        out.push(FactDef {
            name,
            kind,
            type_index,
            population,
            meets,
            value_attr,
            description: decl.description,
            evidence: decl.evidence,
            origins,
        });
    }
    out
}

/// Maps an offset in a synthesized fact policy back to `facts.toml`.
pub(crate) fn origin_offset(fact: &FactDef, policy_id: &str, offset: usize) -> Option<usize> {
    let (_, start) = fact.origins.iter().find(|(id, _)| id == policy_id)?;
    let prefix = policy_prefix(ENTITY_TYPES[fact.type_index].name).len();
    Some((start + offset).saturating_sub(prefix))
}
