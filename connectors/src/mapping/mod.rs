//! Field mappings: data that turns a raw record into normalized entities.
//!
//! A mapping is a list of entity rules (`[[entities]]`: which streams, which entity type,
//! how to find its id, name and attributes with JSONPath), value maps (`[maps.<name>]`: the
//! source's words to the model's) and reference templates (`[refs]`: how a referenced
//! value becomes an entity id). Every source kind ships a default mapping
//! (`connectors/mappings/*.toml`); a source may replace it (`mapping_file`) or override
//! parts of it in `conform.toml` (`[sources.<name>.mapping]`). The format is documented in
//! `docs/connectors.md`.

mod apply;
pub mod convert;
pub mod field;
mod overrides;

use std::collections::BTreeMap;
use std::path::Path;

use conform_engine::model::{entity_type, AttrDef, AttrOrigin, AttrType, EntityTypeDef};
use serde::Deserialize;
use serde_json::Value;

pub use apply::{JoinIndex, MapError};
use field::{parse_cond, parse_field, Cond, Field, FieldDef, Query};

/// A mapping file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMapping {
    #[serde(default)]
    pub entities: Vec<RawRule>,
    #[serde(default)]
    pub maps: BTreeMap<String, BTreeMap<String, toml::Value>>,
    #[serde(default)]
    pub refs: BTreeMap<String, String>,
}

/// One `[[entities]]` rule as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub rule: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    pub streams: Vec<String>,
    #[serde(default)]
    pub when: Option<toml::Value>,
    pub id: toml::Value,
    #[serde(default)]
    pub name: Option<toml::Value>,
    #[serde(default)]
    pub record_id: Option<toml::Value>,
    #[serde(default)]
    pub member_of: Option<toml::Value>,
    #[serde(default)]
    pub joins: BTreeMap<String, RawJoin>,
    #[serde(default)]
    pub attrs: toml::Table,
}

/// `[entities.joins.<name>]`: the records of another stream whose `key` equals this
/// record's `on`, offered to the rule's paths as `$._joined.<name>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJoin {
    pub stream: String,
    pub key: String,
    pub on: String,
}

impl RawMapping {
    /// Parses a mapping file's text; errors carry `file:line:column`.
    pub fn parse(text: &str, file: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!(":{line}:{col}")
                })
                .unwrap_or_default();
            format!("mapping `{file}`{at}: {}", e.message().trim())
        })
    }

    /// Appends another file's rules and merges its maps and reference templates.
    pub fn merge(&mut self, other: RawMapping) {
        self.entities.extend(other.entities);
        for (name, entries) in other.maps {
            self.maps.entry(name).or_default().extend(entries);
        }
        self.refs.extend(other.refs);
    }

    /// Applies `[sources.<name>.mapping]` overrides (see `overrides.rs`).
    pub fn override_with(&mut self, table: &toml::Table) -> Result<(), Vec<String>> {
        overrides::apply(self, table)
    }
}

/// A value map: source text → model value; `"*"` catches every other value.
#[derive(Debug, Clone, Default)]
pub struct ValueMap {
    entries: Vec<(String, Value)>,
    wildcard: Option<Value>,
}

impl ValueMap {
    /// Exact match first, then a case-insensitive one, then `"*"`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .or_else(|| {
                self.entries
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(key))
            })
            .map(|(_, v)| v)
            .or(self.wildcard.as_ref())
    }

    fn values(&self) -> impl Iterator<Item = &Value> {
        self.entries
            .iter()
            .map(|(_, v)| v)
            .chain(self.wildcard.iter())
    }
}

/// A stream pattern: `incident`, `cmdb_ci*`, or `!cmdb_ci_service` (excluded).
#[derive(Debug, Clone)]
struct StreamPattern {
    exclude: bool,
    glob: String,
}

fn glob_match(glob: &str, text: &str) -> bool {
    match glob.split_once('*') {
        None => glob == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            tail.is_empty()
                || (0..=rest.len())
                    .any(|i| rest.is_char_boundary(i) && glob_match(tail, &rest[i..]))
        }
    }
}

/// A compiled join.
#[derive(Debug, Clone)]
pub struct Join {
    pub name: String,
    pub stream: String,
    pub key: Query,
    pub on: Query,
}

/// A compiled entity rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub def: &'static EntityTypeDef,
    streams: Vec<StreamPattern>,
    pub when: Option<Cond>,
    pub id: Field,
    pub display: Option<Field>,
    pub record_id: Option<Field>,
    pub member_of: Option<Field>,
    pub attrs: Vec<(&'static AttrDef, Field)>,
    pub joins: Vec<Join>,
}

impl Rule {
    pub fn matches_stream(&self, stream: &str) -> bool {
        let mut hit = false;
        for p in &self.streams {
            if glob_match(&p.glob, stream) {
                if p.exclude {
                    return false;
                }
                hit = true;
            }
        }
        hit
    }
}

/// A compiled mapping for one source.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub source: String,
    pub rules: Vec<Rule>,
    maps: BTreeMap<String, ValueMap>,
    refs: BTreeMap<String, String>,
}

impl Mapping {
    /// The entity types the rules produce from the given streams: the source's `provides`.
    pub fn provides(&self, streams: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self
            .rules
            .iter()
            .filter(|r| streams.iter().any(|s| r.matches_stream(s)))
            .map(|r| r.def.name.to_string())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Per entity type the rules produce from the given streams, the sorted attributes they
    /// map: what the source can supply (the manifest's `attributes`), whether or not a given
    /// record has a value for them.
    pub fn attributes(&self, streams: &[String]) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in self
            .rules
            .iter()
            .filter(|r| streams.iter().any(|s| r.matches_stream(s)))
        {
            let names = out.entry(r.def.name.to_string()).or_default();
            names.extend(r.attrs.iter().map(|(a, _)| a.name.to_string()));
        }
        for names in out.values_mut() {
            names.sort();
            names.dedup();
        }
        out
    }

    /// Checks and compiles a mapping for `source`. Every problem is reported, each naming
    /// the rule and attribute.
    pub fn compile(raw: &RawMapping, source: &str) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let mut maps = BTreeMap::new();
        for (name, entries) in &raw.maps {
            let mut m = ValueMap::default();
            for (k, v) in entries {
                let v = serde_json::to_value(v).unwrap_or(Value::Null);
                if k == "*" {
                    m.wildcard = Some(v);
                } else {
                    m.entries.push((k.clone(), v));
                }
            }
            maps.insert(name.clone(), m);
        }
        let refs: BTreeMap<String, String> = raw
            .refs
            .iter()
            .map(|(k, v)| (k.clone(), v.replace("{source}", source)))
            .collect();
        for (t, tpl) in &refs {
            if t != "*" && entity_type(t).is_none() {
                errors.push(format!("`[refs]` names unknown entity type `{t}`"));
            }
            if !tpl.contains("{}") {
                errors.push(format!("`[refs]` template `{tpl}` for `{t}` has no `{{}}`"));
            }
        }
        let mut rules = Vec::new();
        let mut names = std::collections::HashSet::new();
        for r in &raw.entities {
            if !names.insert(r.rule.clone()) {
                errors.push(format!("rule `{}` is defined twice", r.rule));
            }
            match compile_rule(r, source, &maps) {
                Ok(rule) => rules.push(rule),
                Err(es) => errors.extend(es),
            }
        }
        if errors.is_empty() {
            Ok(Self {
                source: source.to_string(),
                rules,
                maps,
                refs,
            })
        } else {
            Err(errors)
        }
    }

    fn map(&self, name: &str) -> Option<&ValueMap> {
        self.maps.get(name)
    }

    /// The template a reference to `target` is written with.
    fn ref_template(&self, target: &str) -> String {
        self.refs
            .get(target)
            .or_else(|| self.refs.get("*"))
            .cloned()
            .unwrap_or_else(|| format!("{}:{{}}", self.source))
    }
}

fn field_of(v: &toml::Value, source: &str) -> Result<Option<Field>, String> {
    Ok(match parse_field(v)? {
        FieldDef::Drop => None,
        FieldDef::Field(mut f) => {
            for a in &mut f.alts {
                if let Some(t) = &mut a.template {
                    *t = t.replace("{source}", source);
                }
            }
            Some(f)
        }
    })
}

fn compile_rule(
    r: &RawRule,
    source: &str,
    maps: &BTreeMap<String, ValueMap>,
) -> Result<Rule, Vec<String>> {
    let mut errors = Vec::new();
    let at = |what: &str, e: String| format!("rule `{}` {what}: {e}", r.rule);
    let Some(def) = entity_type(&r.entity_type) else {
        return Err(vec![format!(
            "rule `{}`: unknown entity type `{}`",
            r.rule, r.entity_type
        )]);
    };
    let mut opt_field = |what: &str, v: &Option<toml::Value>| match v {
        None => None,
        Some(v) => field_of(v, source).unwrap_or_else(|e| {
            errors.push(at(what, e));
            None
        }),
    };
    let display = opt_field("`name`", &r.name);
    let record_id = opt_field("`record_id`", &r.record_id);
    let member_of = opt_field("`member_of`", &r.member_of);
    if member_of.is_some() && def.member_of.is_none() {
        errors.push(format!(
            "rule `{}`: `{}` cannot be a member of anything",
            r.rule, def.name
        ));
    }
    let id = match field_of(&r.id, source) {
        Ok(Some(f)) => f,
        Ok(None) => {
            errors.push(format!("rule `{}`: `id` cannot be removed", r.rule));
            Field::default()
        }
        Err(e) => {
            errors.push(at("`id`", e));
            Field::default()
        }
    };
    let when = r
        .when
        .as_ref()
        .and_then(|w| parse_cond(w).map_err(|e| errors.push(at("`when`", e))).ok());
    let mut attrs = Vec::new();
    for (name, v) in &r.attrs {
        let Some(a) = def.attr(name) else {
            errors.push(format!(
                "rule `{}`: `{}` has no attribute `{name}` (it has {})",
                r.rule,
                def.name,
                def.attrs
                    .iter()
                    .filter(|a| a.origin == AttrOrigin::Stored)
                    .map(|a| format!("`{}`", a.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        };
        if a.origin != AttrOrigin::Stored {
            errors.push(format!(
                "rule `{}`: attribute `{name}` is derived when a snapshot is read and cannot be mapped",
                r.rule
            ));
            continue;
        }
        match field_of(v, source) {
            Ok(Some(f)) => {
                errors.extend(
                    check_field(&f, a, maps)
                        .into_iter()
                        .map(|e| format!("rule `{}` attribute `{name}`: {e}", r.rule)),
                );
                attrs.push((a, f));
            }
            Ok(None) => {}
            Err(e) => errors.push(format!("rule `{}` attribute `{name}`: {e}", r.rule)),
        }
    }
    for a in def.attrs {
        let mapped = attrs.iter().any(|(m, _)| m.name == a.name);
        let is_set = matches!(a.ty, AttrType::StringSet | AttrType::RefSet(_));
        if !a.optional && a.origin == AttrOrigin::Stored && !mapped && !is_set {
            errors.push(format!(
                "rule `{}`: required attribute `{}` of `{}` is not mapped (map it, or give it a `default`)",
                r.rule, a.name, def.name
            ));
        }
    }
    attrs.sort_by_key(|(a, _)| def.attrs.iter().position(|x| x.name == a.name));
    let mut joins = Vec::new();
    for (name, j) in &r.joins {
        match (Query::compile(&j.key), Query::compile(&j.on)) {
            (Ok(key), Ok(on)) => joins.push(Join {
                name: name.clone(),
                stream: j.stream.clone(),
                key,
                on,
            }),
            (Err(e), _) | (_, Err(e)) => errors.push(at(&format!("join `{name}`"), e)),
        }
    }
    if r.streams.is_empty() {
        errors.push(format!("rule `{}`: `streams` is empty", r.rule));
    }
    let streams = r
        .streams
        .iter()
        .map(|s| match s.strip_prefix('!') {
            Some(g) => StreamPattern {
                exclude: true,
                glob: g.to_string(),
            },
            None => StreamPattern {
                exclude: false,
                glob: s.clone(),
            },
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Rule {
        name: r.rule.clone(),
        def,
        streams,
        when,
        id,
        display,
        record_id,
        member_of,
        attrs,
        joins,
    })
}

/// Checks what can be checked before any record is seen: value maps exist and hold values
/// of the attribute's type; constants and defaults are of its type.
fn check_field(f: &Field, a: &AttrDef, maps: &BTreeMap<String, ValueMap>) -> Vec<String> {
    let mut errors = Vec::new();
    let check = |v: &Value, what: &str, errors: &mut Vec<String>| {
        if let Err(e) = apply::check_value(a.ty, v) {
            errors.push(format!("{what} {e}"));
        }
    };
    for alt in &f.alts {
        if alt.present && a.ty != AttrType::Bool {
            errors.push("`present` is for boolean attributes".into());
        }
        if let Some(c) = &alt.constant {
            check(c, "`value`", &mut errors);
        }
        if let Some(name) = &alt.map {
            match maps.get(name) {
                None => errors.push(format!(
                    "value map `{name}` does not exist (add `[maps.{name}]`)"
                )),
                Some(m) => {
                    for v in m.values().filter(|v| v.as_str() != Some("")) {
                        check(v, &format!("value map `{name}`:"), &mut errors);
                    }
                }
            }
        }
    }
    if let Some(d) = &f.default {
        check(d, "`default`", &mut errors);
    }
    errors
}

/// Reads and merges mapping files.
pub fn load_files(paths: &[&Path]) -> Result<RawMapping, String> {
    let mut raw = RawMapping::default();
    for p in paths {
        let text = std::fs::read_to_string(p)
            .map_err(|e| format!("cannot read mapping `{}`: {e}", p.display()))?;
        raw.merge(RawMapping::parse(&text, &p.display().to_string())?);
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_patterns() {
        assert!(glob_match("cmdb_ci*", "cmdb_ci_linux_server"));
        assert!(glob_match("cmdb_ci*", "cmdb_ci"));
        assert!(!glob_match("cmdb_ci*", "cmdb_rel_ci"));
        assert!(glob_match("*_server", "cmdb_ci_linux_server"));
        assert!(glob_match("incident", "incident"));
    }
}
