//! Applying a compiled mapping to a raw record.

use std::collections::HashMap;

use conform_engine::model::value::{entity_from_line, EntityLine, RecordRef};
use conform_engine::model::{AttrOrigin, AttrType};
use conform_engine::time::format_rfc3339;
use serde_json::{Map, Value};

use super::convert::{as_text, enum_value, parse_bool, parse_long, parse_time};
use super::field::{is_something, Alt, Field, Pick, Unmapped};
use super::{Mapping, Rule};

/// Why one record could not be normalized by one rule; the entity is not written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rule `{rule}`: {message}")]
pub struct MapError {
    pub rule: String,
    /// The entity type the rule makes: the type of which a record was lost.
    pub entity_type: String,
    pub message: String,
}

/// The records of joined streams, by join and key.
#[derive(Debug, Default)]
pub struct JoinIndex {
    by: HashMap<(String, String), HashMap<String, Vec<Value>>>,
}

fn apply_template(tpl: &str, value: &str) -> String {
    tpl.replace("{}", value)
}

/// Checks that a constant, default or value-map entry is a valid value of `ty`.
pub fn check_value(ty: AttrType, v: &Value) -> Result<(), String> {
    convert(ty, v, &Alt::default(), None).map(|_| ())
}

/// `Payments API` → `payments-api` (with `-`).
fn slug(text: &str, sep: char) -> String {
    let mut out = String::new();
    for c in text.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with(sep) {
            out.push(sep);
        }
    }
    out.trim_end_matches(sep).to_string()
}

fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One selected value as a value of `ty`. References and ids get `template` (`{}` is the
/// value).
fn convert(ty: AttrType, v: &Value, alt: &Alt, template: Option<&str>) -> Result<Value, String> {
    let text = || {
        let t = as_text(v).ok_or_else(|| format!("`{}` is not a text value", describe(v)))?;
        Ok::<_, String>(if let Some(sep) = alt.slug {
            slug(&t, sep)
        } else if alt.lowercase {
            t.to_lowercase()
        } else {
            t
        })
    };
    let templated = |s: String| match alt.template.as_deref().or(template) {
        Some(t) => apply_template(t, &s),
        None => s,
    };
    Ok(match ty {
        AttrType::Bool => {
            Value::Bool(parse_bool(v).ok_or_else(|| format!("`{}` is not a boolean", describe(v)))?)
        }
        AttrType::Long => Value::from(
            parse_long(v, alt.scale)
                .ok_or_else(|| format!("`{}` is not an integer", describe(v)))?,
        ),
        AttrType::String | AttrType::StringSet => Value::String(templated(text()?)),
        AttrType::Enum(allowed) => {
            let t = text()?;
            Value::String(
                enum_value(&t, allowed)
                    .ok_or_else(|| format!("`{t}` is not one of {}", allowed.join(", ")))?
                    .to_string(),
            )
        }
        AttrType::Time => {
            let t = parse_time(v, alt.epoch, alt.end_of_day)
                .ok_or_else(|| format!("`{}` is not a time", describe(v)))?;
            Value::String(format_rfc3339(t))
        }
        AttrType::Ref(_) | AttrType::RefSet(_) => Value::String(templated(text()?)),
    })
}

impl Mapping {
    /// Indexes the records of every joined stream by their join key.
    pub fn join_index(&self, records: &[(&str, &Value)]) -> JoinIndex {
        let mut index = JoinIndex::default();
        for rule in &self.rules {
            for j in &rule.joins {
                let slot = (j.stream.clone(), j.key.text.clone());
                if index.by.contains_key(&slot) {
                    continue;
                }
                let mut by_key: HashMap<String, Vec<Value>> = HashMap::new();
                for (stream, rec) in records {
                    if *stream != j.stream {
                        continue;
                    }
                    for k in j.key.run(rec).into_iter().filter_map(as_text) {
                        by_key.entry(k).or_default().push((*rec).clone());
                    }
                }
                index.by.insert(slot, by_key);
            }
        }
        index
    }

    /// The entities every matching rule makes of one record (or why it could not).
    pub fn normalize(
        &self,
        stream: &str,
        record: &Value,
        sha256: &str,
        joins: &JoinIndex,
    ) -> Vec<Result<EntityLine, MapError>> {
        let mut out = Vec::new();
        for rule in self.rules.iter().filter(|r| r.matches_stream(stream)) {
            let joined;
            let rec = if rule.joins.is_empty() {
                record
            } else {
                joined = with_joins(rule, record, joins);
                &joined
            };
            if rule.when.as_ref().is_some_and(|w| !w.holds(rec)) {
                continue;
            }
            out.push(self.entity(rule, rec, sha256).map_err(|message| MapError {
                rule: rule.name.clone(),
                entity_type: rule.def.name.to_string(),
                message,
            }));
        }
        out
    }

    fn entity(&self, rule: &Rule, rec: &Value, sha256: &str) -> Result<EntityLine, String> {
        let def = rule.def;
        let own_id = format!("{}:{{}}", self.source);
        let id = self
            .eval(&rule.id, AttrType::String, rec, Some(&own_id))
            .map_err(|e| format!("`id`: {e}"))?
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| format!("`id`: nothing at {}", paths(&rule.id)))?;
        let name = match &rule.display {
            Some(f) => self
                .eval(f, AttrType::String, rec, None)
                .map_err(|e| format!("`name`: {e}"))?
                .and_then(|v| v.as_str().map(str::to_string)),
            None => None,
        }
        .unwrap_or_else(|| id.clone());
        let record_id = match &rule.record_id {
            Some(f) => self
                .eval(f, AttrType::String, rec, None)
                .map_err(|e| format!("`record_id`: {e}"))?
                .and_then(|v| v.as_str().map(str::to_string)),
            None => None,
        }
        .unwrap_or_else(|| id.clone());
        let mut attrs = Map::new();
        for (a, f) in &rule.attrs {
            let tpl = match a.ty {
                AttrType::Ref(t) | AttrType::RefSet(t) => Some(self.ref_template(t)),
                _ => None,
            };
            let value = self
                .eval(f, a.ty, rec, tpl.as_deref())
                .map_err(|e| format!("attribute `{}`: {e}", a.name))?;
            let value = match value {
                Some(v) => Some(v),
                None => match &f.default {
                    Some(d) => Some(
                        convert(a.ty, d, &Alt::default(), None)
                            .map_err(|e| format!("attribute `{}`: default {e}", a.name))?,
                    ),
                    None => None,
                },
            };
            match value {
                Some(v) => {
                    attrs.insert(a.name.to_string(), v);
                }
                None if matches!(a.ty, AttrType::StringSet | AttrType::RefSet(_)) => {
                    attrs.insert(a.name.to_string(), Value::Array(Vec::new()));
                }
                None if !a.optional => {
                    return Err(format!(
                        "required attribute `{}`: nothing at {}",
                        a.name,
                        paths(f)
                    ))
                }
                None => {}
            }
        }
        for a in def.attrs {
            let is_set = matches!(a.ty, AttrType::StringSet | AttrType::RefSet(_));
            if is_set && a.origin == AttrOrigin::Stored && !attrs.contains_key(a.name) {
                attrs.insert(a.name.to_string(), Value::Array(Vec::new()));
            }
        }
        // The model's attribute order, whatever the mapping's.
        let attrs: Map<String, Value> = def
            .attrs
            .iter()
            .filter_map(|a| attrs.get(a.name).map(|v| (a.name.to_string(), v.clone())))
            .collect();
        let member_of = match (&rule.member_of, def.member_of) {
            (Some(f), Some(target)) => {
                let tpl = self.ref_template(target);
                match self
                    .eval(f, AttrType::RefSet(target), rec, Some(&tpl))
                    .map_err(|e| format!("`member_of`: {e}"))?
                {
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        };
        let line = EntityLine {
            entity_type: def.name.to_string(),
            id,
            name,
            record: RecordRef {
                id: record_id,
                sha256: sha256.to_string(),
            },
            attrs,
            member_of,
        };
        // The engine's own check: what is written here is what a snapshot reader accepts.
        entity_from_line(line.clone(), &self.source, 0).map_err(|e| e.to_string())?;
        Ok(line)
    }

    /// A field's value for an attribute of type `ty`: the first alternative that yields
    /// something, or nothing.
    fn eval(
        &self,
        field: &Field,
        ty: AttrType,
        rec: &Value,
        template: Option<&str>,
    ) -> Result<Option<Value>, String> {
        let is_set = matches!(ty, AttrType::StringSet | AttrType::RefSet(_));
        for alt in &field.alts {
            if alt.when.as_ref().is_some_and(|w| !w.holds(rec)) {
                continue;
            }
            let selected: Vec<Value> = match (&alt.constant, &alt.query) {
                (Some(c), _) => vec![c.clone()],
                (None, Some(q)) => q.run(rec).into_iter().cloned().collect(),
                (None, None) => Vec::new(),
            };
            if alt.present {
                return Ok(Some(Value::Bool(selected.iter().any(is_something))));
            }
            let mut values = Vec::new();
            for v in selected {
                match v {
                    Value::Array(items) => values.extend(items),
                    other => values.push(other),
                }
            }
            if let Some(sep) = &alt.split {
                values = values
                    .into_iter()
                    .flat_map(|v| match v {
                        Value::String(s) => s
                            .split(sep.as_str())
                            .map(|p| Value::String(p.trim().to_string()))
                            .collect(),
                        other => vec![other],
                    })
                    .collect();
            }
            values
                .retain(|v| !v.is_null() && !matches!(v, Value::String(s) if s.trim().is_empty()));
            let values = self.mapped(alt, values)?;
            let mut converted = Vec::new();
            for v in &values {
                let c = convert(ty, v, alt, template).map_err(|e| match &alt.query {
                    Some(q) => format!("{e} (from `{}`)", q.text),
                    None => e,
                })?;
                if !converted.contains(&c) {
                    converted.push(c);
                }
            }
            if converted.is_empty() {
                continue;
            }
            return Ok(Some(if is_set {
                Value::Array(converted)
            } else {
                pick(alt.pick, ty, converted)
            }));
        }
        Ok(None)
    }

    fn mapped(&self, alt: &Alt, values: Vec<Value>) -> Result<Vec<Value>, String> {
        let Some(name) = &alt.map else {
            return Ok(values);
        };
        let Some(map) = self.map(name) else {
            return Err(format!("value map `{name}` does not exist"));
        };
        let mut out = Vec::new();
        for v in values {
            let key = as_text(&v).unwrap_or_else(|| v.to_string());
            match map.get(&key) {
                // `"N/A" = ""`: a vendor's placeholder for nothing is no value.
                Some(Value::String(m)) if m.is_empty() => {}
                Some(m) => out.push(m.clone()),
                None => match alt.unmapped {
                    Unmapped::Error => {
                        let from = alt
                            .query
                            .as_ref()
                            .map(|q| format!(" (from `{}`)", q.text))
                            .unwrap_or_default();
                        return Err(format!(
                            "value `{key}`{from} is not in value map `{name}` (add it to `[maps.{name}]`)"
                        ));
                    }
                    Unmapped::Skip => {}
                    Unmapped::Keep => out.push(v),
                },
            }
        }
        Ok(out)
    }
}

fn pick(how: Pick, ty: AttrType, mut values: Vec<Value>) -> Value {
    let key = |v: &Value| -> (i64, String) {
        match ty {
            AttrType::Long => (v.as_i64().unwrap_or(0), String::new()),
            _ => (0, v.as_str().unwrap_or_default().to_string()),
        }
    };
    match how {
        Pick::First => values.swap_remove(0),
        Pick::Last => values.pop().unwrap_or(Value::Null),
        Pick::Any => Value::Bool(values.iter().any(|v| v.as_bool() == Some(true))),
        Pick::All => Value::Bool(values.iter().all(|v| v.as_bool() == Some(true))),
        Pick::Max => values.into_iter().max_by_key(key).unwrap_or(Value::Null),
        Pick::Min => values.into_iter().min_by_key(key).unwrap_or(Value::Null),
    }
}

fn paths(f: &Field) -> String {
    let p: Vec<String> = f
        .alts
        .iter()
        .filter_map(|a| a.query.as_ref().map(|q| format!("`{}`", q.text)))
        .collect();
    if p.is_empty() {
        "any path".into()
    } else {
        p.join(" or ")
    }
}

fn with_joins(rule: &Rule, record: &Value, joins: &JoinIndex) -> Value {
    let mut rec = record.clone();
    let mut joined = Map::new();
    for j in &rule.joins {
        let matches: Vec<Value> = joins
            .by
            .get(&(j.stream.clone(), j.key.text.clone()))
            .map(|by_key| {
                j.on.run(record)
                    .into_iter()
                    .filter_map(as_text)
                    .flat_map(|k| by_key.get(&k).cloned().unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default();
        joined.insert(j.name.clone(), Value::Array(matches));
    }
    if let Value::Object(obj) = &mut rec {
        obj.insert("_joined".into(), Value::Object(joined));
    }
    rec
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Payments API", '-'), "payments-api");
        assert_eq!(
            super::slug("  Northwind (EU) — Ltd. ", '-'),
            "northwind-eu-ltd"
        );
        assert_eq!(super::slug("Audit programme", '_'), "audit_programme");
    }
}
