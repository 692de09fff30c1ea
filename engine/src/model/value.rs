//! Entities of the model as read from (and written to) a snapshot's `entities/*.jsonl`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{entity_type_index, AttrOrigin, AttrType, EntityTypeDef, ENTITY_TYPES};
use crate::time::{format_rfc3339, parse_rfc3339};

/// A typed attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    Bool(bool),
    Long(i64),
    String(String),
    /// Seconds since the Unix epoch.
    Time(i64),
    /// The id of the referenced entity (its type is fixed by the model).
    Ref(String),
    StringSet(Vec<String>),
    RefSet(Vec<String>),
}

impl AttrValue {
    /// The value as it is written in a snapshot (times as RFC 3339).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            AttrValue::Bool(b) => Value::Bool(*b),
            AttrValue::Long(n) => Value::from(*n),
            AttrValue::String(s) | AttrValue::Ref(s) => Value::String(s.clone()),
            AttrValue::Time(t) => Value::String(format_rfc3339(*t)),
            AttrValue::StringSet(v) | AttrValue::RefSet(v) => {
                Value::Array(v.iter().cloned().map(Value::String).collect())
            }
        }
    }
}

/// Where an entity came from: enough to find the raw record and prove it unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    pub source: String,
    pub record_id: String,
    pub record_sha256: String,
    /// Seconds since the Unix epoch: when the source was collected.
    pub collected_at: i64,
}

/// One normalized entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceEntity {
    /// Index into [`ENTITY_TYPES`].
    pub type_index: usize,
    pub id: String,
    pub name: String,
    pub provenance: Provenance,
    /// Attribute values by attribute index in the type's definition; absent optional
    /// attributes and inverse attributes (filled later) are not stored here.
    pub attrs: BTreeMap<usize, AttrValue>,
    pub member_of: Vec<String>,
}

impl EvidenceEntity {
    pub fn def(&self) -> &'static EntityTypeDef {
        &ENTITY_TYPES[self.type_index]
    }

    pub fn type_name(&self) -> &'static str {
        self.def().name
    }

    pub fn attr(&self, name: &str) -> Option<&AttrValue> {
        let idx = self.def().attrs.iter().position(|a| a.name == name)?;
        self.attrs.get(&idx)
    }
}

/// The JSON shape of one line of `entities/<source>.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntityLine {
    #[serde(rename = "type")]
    pub entity_type: String,
    pub id: String,
    pub name: String,
    pub record: RecordRef,
    #[serde(default)]
    pub attrs: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub member_of: Vec<String>,
}

/// The raw record an entity was normalized from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordRef {
    pub id: String,
    pub sha256: String,
}

/// Why one entity line could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntityLineError {
    #[error("invalid JSON: {0}")]
    Json(String),
    #[error("unknown entity type `{0}`")]
    UnknownType(String),
    #[error("`{entity_type}` has no attribute `{attr}`")]
    UnknownAttribute { entity_type: String, attr: String },
    #[error("attribute `{attr}` is derived and must not be stored")]
    DerivedAttribute { attr: String },
    #[error("required attribute `{attr}` is missing")]
    MissingAttribute { attr: String },
    #[error("attribute `{attr}` expects {expected}, found `{found}`")]
    WrongType {
        attr: String,
        expected: String,
        found: String,
    },
    #[error("`{entity_type}` cannot be a member of anything")]
    NoMembership { entity_type: String },
    #[error("record sha256 `{0}` is not 64 lowercase hex digits")]
    BadHash(String),
}

fn expected(ty: AttrType) -> String {
    match ty {
        AttrType::Bool => "a boolean".into(),
        AttrType::Long => "an integer".into(),
        AttrType::String => "a string".into(),
        AttrType::Enum(values) => format!("one of {}", values.join(", ")),
        AttrType::Time => "an RFC 3339 timestamp".into(),
        AttrType::Ref(t) => format!("the id of a {t}"),
        AttrType::StringSet => "an array of strings".into(),
        AttrType::RefSet(t) => format!("an array of {t} ids"),
    }
}

fn parse_value(
    name: &str,
    ty: AttrType,
    v: &serde_json::Value,
) -> Result<AttrValue, EntityLineError> {
    use serde_json::Value;
    let wrong = || EntityLineError::WrongType {
        attr: name.to_string(),
        expected: expected(ty),
        found: v.to_string(),
    };
    let strings = |v: &Value| -> Result<Vec<String>, EntityLineError> {
        let arr = v.as_array().ok_or_else(wrong)?;
        let mut out = arr
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(wrong))
            .collect::<Result<Vec<_>, _>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    };
    Ok(match ty {
        AttrType::Bool => AttrValue::Bool(v.as_bool().ok_or_else(wrong)?),
        AttrType::Long => AttrValue::Long(v.as_i64().ok_or_else(wrong)?),
        AttrType::String => AttrValue::String(v.as_str().ok_or_else(wrong)?.to_string()),
        AttrType::Enum(values) => {
            let s = v.as_str().ok_or_else(wrong)?;
            if !values.contains(&s) {
                return Err(wrong());
            }
            AttrValue::String(s.to_string())
        }
        AttrType::Time => {
            let s = v.as_str().ok_or_else(wrong)?;
            AttrValue::Time(parse_rfc3339(s).ok_or_else(wrong)?)
        }
        AttrType::Ref(_) => AttrValue::Ref(v.as_str().ok_or_else(wrong)?.to_string()),
        AttrType::StringSet => AttrValue::StringSet(strings(v)?),
        AttrType::RefSet(_) => AttrValue::RefSet(strings(v)?),
    })
}

/// Reads one entity line into a typed entity, checking it against the model.
pub fn parse_entity_line(
    line: &str,
    source: &str,
    collected_at: i64,
) -> Result<EvidenceEntity, EntityLineError> {
    let raw: EntityLine =
        serde_json::from_str(line).map_err(|e| EntityLineError::Json(e.to_string()))?;
    entity_from_line(raw, source, collected_at)
}

pub fn entity_from_line(
    raw: EntityLine,
    source: &str,
    collected_at: i64,
) -> Result<EvidenceEntity, EntityLineError> {
    let type_index = entity_type_index(&raw.entity_type)
        .ok_or_else(|| EntityLineError::UnknownType(raw.entity_type.clone()))?;
    let def = &ENTITY_TYPES[type_index];
    if !(raw.record.sha256.len() == 64
        && raw
            .record
            .sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
    {
        return Err(EntityLineError::BadHash(raw.record.sha256));
    }
    let mut attrs = BTreeMap::new();
    for (name, value) in &raw.attrs {
        let idx = def
            .attrs
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| EntityLineError::UnknownAttribute {
                entity_type: def.name.to_string(),
                attr: name.clone(),
            })?;
        let attr = &def.attrs[idx];
        if attr.origin != AttrOrigin::Stored {
            return Err(EntityLineError::DerivedAttribute { attr: name.clone() });
        }
        if value.is_null() && attr.optional {
            continue;
        }
        attrs.insert(idx, parse_value(name, attr.ty, value)?);
    }
    for (idx, attr) in def.attrs.iter().enumerate() {
        if !attr.optional && attr.origin == AttrOrigin::Stored && !attrs.contains_key(&idx) {
            return Err(EntityLineError::MissingAttribute {
                attr: attr.name.to_string(),
            });
        }
    }
    if def.member_of.is_none() && !raw.member_of.is_empty() {
        return Err(EntityLineError::NoMembership {
            entity_type: def.name.to_string(),
        });
    }
    let mut member_of = raw.member_of;
    member_of.sort();
    member_of.dedup();
    Ok(EvidenceEntity {
        type_index,
        id: raw.id,
        name: raw.name,
        provenance: Provenance {
            source: source.to_string(),
            record_id: raw.record.id,
            record_sha256: raw.record.sha256,
            collected_at,
        },
        attrs,
        member_of,
    })
}

impl EvidenceEntity {
    /// The line this entity is written as in a snapshot.
    pub fn to_line(&self) -> EntityLine {
        let def = self.def();
        EntityLine {
            entity_type: def.name.to_string(),
            id: self.id.clone(),
            name: self.name.clone(),
            record: RecordRef {
                id: self.provenance.record_id.clone(),
                sha256: self.provenance.record_sha256.clone(),
            },
            attrs: self
                .attrs
                .iter()
                .filter(|(idx, _)| def.attrs[**idx].origin == AttrOrigin::Stored)
                .map(|(idx, v)| (def.attrs[*idx].name.to_string(), v.to_json()))
                .collect(),
            member_of: self.member_of.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

    fn line(attrs: &str) -> String {
        format!(
            r#"{{"type":"Credential","id":"k1","name":"key","record":{{"id":"r1","sha256":"{HASH}"}},"attrs":{attrs}}}"#
        )
    }

    #[test]
    fn reads_a_valid_line_and_round_trips() {
        let l = line(
            r#"{"kind":"access_key","identity":"u1","active":true,"last_used_at":"2026-01-02T03:04:05Z"}"#,
        );
        let e = parse_entity_line(&l, "aws", 0).unwrap();
        assert_eq!(e.attr("last_used_at"), Some(&AttrValue::Time(1767323045)));
        let again = entity_from_line(e.to_line(), "aws", 0).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn rejects_what_the_model_does_not_allow() {
        let cases = [
            (r#"{"kind":"access_key","identity":"u1"}"#, "required attribute `active` is missing"),
            (
                r#"{"kind":"password","identity":"u1","active":true}"#,
                "attribute `kind` expects one of access_key, api_token, certificate, ssh_key, found `\"password\"`",
            ),
            (
                r#"{"kind":"access_key","identity":"u1","active":"yes"}"#,
                "attribute `active` expects a boolean, found `\"yes\"`",
            ),
            (
                r#"{"kind":"access_key","identity":"u1","active":true,"colour":"red"}"#,
                "`Credential` has no attribute `colour`",
            ),
            (
                r#"{"kind":"access_key","identity":"u1","active":true,"created_at":"yesterday"}"#,
                "attribute `created_at` expects an RFC 3339 timestamp, found `\"yesterday\"`",
            ),
        ];
        for (attrs, msg) in cases {
            let err = parse_entity_line(&line(attrs), "aws", 0).unwrap_err();
            assert_eq!(err.to_string(), msg);
        }
    }
}
