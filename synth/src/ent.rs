//! Building entity lines and writing them with the raw record they were normalized from.

use conform_engine::fs::SourceWriter;
use conform_engine::model::value::{EntityLine, RecordRef};
use serde_json::{Map, Value};

use crate::clock::rfc3339;
use crate::SynthError;

/// One normalized entity, before its record hash is known.
pub struct Ent {
    ty: &'static str,
    id: String,
    name: String,
    attrs: Map<String, Value>,
    /// The attributes this kind of entity carries when it has them: every typed setter
    /// declares its attribute, an optional one even when absent (the manifest's `attributes`).
    declared: Vec<String>,
    member_of: Vec<String>,
}

impl Ent {
    pub fn new(ty: &'static str, id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            ty,
            id: id.into(),
            name: name.into(),
            attrs: Map::new(),
            declared: Vec::new(),
            member_of: Vec::new(),
        }
    }

    /// Any JSON value (used for the one deliberately malformed line); not declared.
    pub fn raw(mut self, k: &str, v: Value) -> Self {
        self.attrs.insert(k.to_string(), v);
        self
    }

    fn declare(mut self, k: &str) -> Self {
        if !self.declared.iter().any(|d| d == k) {
            self.declared.push(k.to_string());
        }
        self
    }

    fn put(self, k: &str, v: Value) -> Self {
        self.declare(k).raw(k, v)
    }

    pub fn b(self, k: &str, v: bool) -> Self {
        self.put(k, Value::Bool(v))
    }

    pub fn n(self, k: &str, v: i64) -> Self {
        self.put(k, Value::from(v))
    }

    pub fn s(self, k: &str, v: impl Into<String>) -> Self {
        self.put(k, Value::String(v.into()))
    }

    pub fn os<S: Into<String>>(self, k: &str, v: Option<S>) -> Self {
        match v {
            Some(v) => self.s(k, v),
            None => self.declare(k),
        }
    }

    pub fn t(self, k: &str, t: i64) -> Self {
        self.s(k, rfc3339(t))
    }

    pub fn ot(self, k: &str, t: Option<i64>) -> Self {
        match t {
            Some(t) => self.t(k, t),
            None => self.declare(k),
        }
    }

    pub fn ob(self, k: &str, v: Option<bool>) -> Self {
        match v {
            Some(v) => self.b(k, v),
            None => self.declare(k),
        }
    }

    pub fn set(self, k: &str, v: Vec<String>) -> Self {
        self.put(k, Value::Array(v.into_iter().map(Value::String).collect()))
    }

    pub fn member_of(mut self, groups: Vec<String>) -> Self {
        self.member_of = groups;
        self
    }

    pub fn ty(&self) -> &'static str {
        self.ty
    }

    /// Declares this entity's attributes on `src` (see [`SourceWriter::declare_attributes`]).
    pub fn declare_on(&self, src: &mut SourceWriter<'_>) {
        src.declare_attributes(self.ty, self.declared.iter().map(String::as_str));
    }

    pub fn into_line(self, record_id: &str, sha256: &str) -> EntityLine {
        EntityLine {
            entity_type: self.ty.to_string(),
            id: self.id,
            name: self.name,
            record: RecordRef {
                id: record_id.to_string(),
                sha256: sha256.to_string(),
            },
            attrs: self.attrs,
            member_of: self.member_of,
        }
    }
}

/// Entity counts by type, in the order types were first written.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts(pub std::collections::BTreeMap<&'static str, u64>);

impl Counts {
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    pub fn add(&mut self, other: &Counts) {
        for (k, v) in &other.0 {
            *self.0.entry(k).or_default() += v;
        }
    }
}

/// Writes one raw record (compact JSON, one line) and the entities normalized from it;
/// returns the record's SHA-256.
pub fn emit(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    raw: &Value,
    record_id: &str,
    ents: impl IntoIterator<Item = Ent>,
) -> Result<String, SynthError> {
    let bytes = serde_json::to_vec(raw)?;
    let sha = src.record(&bytes)?;
    entities(src, counts, record_id, &sha, ents)?;
    Ok(sha)
}

/// Writes entities normalized from a record written earlier.
pub fn entities(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    record_id: &str,
    sha: &str,
    ents: impl IntoIterator<Item = Ent>,
) -> Result<(), SynthError> {
    for e in ents {
        *counts.0.entry(e.ty()).or_default() += 1;
        e.declare_on(src);
        src.entity(&e.into_line(record_id, sha))?;
    }
    Ok(())
}
