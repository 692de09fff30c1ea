//! Entities of the model as read from (and written to) a snapshot's `entities/*.jsonl`.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{entity_type_index, AttrOrigin, AttrType, EntityTypeDef, ENTITY_TYPES};
use crate::time::parse_rfc3339;

mod fast;
mod packed;

pub use packed::{AttrMap, AttrRef, EntityNames, Head, StrItems, Unpackable};

/// The items of a set value (strings, or the ids of referenced entities): sorted, without
/// duplicates, held in exactly their size.
pub type StrSet = Box<[Box<str>]>;

/// A typed attribute value, owned: what the full reader parses values into and tests build.
/// Entities hold their values packed ([`AttrMap`]) and hand them out as [`AttrRef`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    Bool(bool),
    Long(i64),
    /// A string. A value of an enumerated attribute borrows the model's own spelling of it
    /// (`"active"`, `"change"`): the millions of them in a large snapshot allocate nothing.
    String(Cow<'static, str>),
    /// Seconds since the Unix epoch.
    Time(i64),
    /// The id of the referenced entity (its type is fixed by the model).
    Ref(Box<str>),
    /// Sorted, without duplicates.
    StringSet(StrSet),
    /// Ids of the referenced entities; sorted, without duplicates.
    RefSet(StrSet),
}

impl AttrValue {
    /// A set value of `items`: sorted, duplicates removed, held in exactly its size.
    pub fn set_of(mut items: Vec<Box<str>>) -> StrSet {
        items.sort_unstable();
        items.dedup();
        items.into_boxed_slice()
    }
}

const _: () = assert!(
    std::mem::size_of::<EvidenceEntity>() <= 120,
    "an entity is meant to take at most 120 bytes: a million of them are read at once"
);

/// Attribute indices an [`AttrMap`] can hold are below this. No entity type of the model has
/// more attributes (checked when the engine is compiled, below).
pub const MAX_ATTRS: usize = 128;

const _: () = {
    let mut t = 0;
    while t < ENTITY_TYPES.len() {
        assert!(
            ENTITY_TYPES[t].attrs.len() <= MAX_ATTRS,
            "an entity type has more attributes than an `AttrMap` holds"
        );
        t += 1;
    }
};

/// The name of the source an entity was read from, shared by the entities read from it (one
/// allocation per source and reading task instead of one per entity). Reads as a `str`.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceName(arcstr::ArcStr);

impl SourceName {
    /// The name, shared (findings hold it without a copy).
    pub fn shared(&self) -> arcstr::ArcStr {
        self.0.clone()
    }
}

impl std::ops::Deref for SourceName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SourceName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SourceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&*self.0, f)
    }
}

impl std::fmt::Display for SourceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for SourceName {
    fn from(s: &str) -> Self {
        Self(arcstr::ArcStr::from(s))
    }
}

impl From<String> for SourceName {
    fn from(s: String) -> Self {
        Self(arcstr::ArcStr::from(s))
    }
}

impl From<&SourceName> for String {
    fn from(s: &SourceName) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for SourceName {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for SourceName {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for SourceName {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// A SHA-256 digest, held as its 32 bytes and written as 64 lowercase hex digits.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// The digest of 64 lowercase hex digits; `None` for anything else.
    pub fn from_hex(h: &str) -> Option<Self> {
        let b = h.as_bytes();
        if b.len() != 64 {
            return None;
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 32];
        for (o, pair) in out.iter_mut().zip(b.chunks_exact(2)) {
            *o = (digit(pair[0])? << 4) | digit(pair[1])?;
        }
        Some(Self(out))
    }

    /// The 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl std::fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Where an entity came from: enough to find the raw record and prove it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub source: SourceName,
    pub record_sha256: Sha256Digest,
    /// Seconds since the Unix epoch: when the source was collected.
    pub collected_at: i64,
}

/// One normalized entity.
#[derive(Debug, Clone)]
pub struct EvidenceEntity {
    /// Index into [`ENTITY_TYPES`].
    pub type_index: usize,
    pub provenance: Provenance,
    /// The id, name and record id ([`Self::id`], [`Self::name`], [`Self::record_id`]), and
    /// the attribute values by attribute index in the type's definition. Absent optional
    /// attributes are not stored; inverse attributes are reserved unfilled (they read as
    /// absent) until the model is built (which fills them).
    pub attrs: AttrMap,
    pub member_of: Vec<String>,
}

impl EvidenceEntity {
    pub fn def(&self) -> &'static EntityTypeDef {
        &ENTITY_TYPES[self.type_index]
    }

    pub fn type_name(&self) -> &'static str {
        self.def().name
    }

    /// An entity of type `type_index` with `names` and `values` (distinct indices, each of its
    /// attribute's type), which it leaves empty. The values are not checked against the model
    /// beyond their types: the full reader ([`entity_from_line`]) checks them first.
    pub fn new(
        type_index: usize,
        names: EntityNames<'_>,
        provenance: Provenance,
        values: &mut Vec<(usize, AttrValue)>,
        member_of: Vec<String>,
    ) -> Result<Self, Unpackable> {
        let defs = ENTITY_TYPES.get(type_index).ok_or(Unpackable)?.attrs;
        Ok(Self {
            type_index,
            provenance,
            attrs: AttrMap::from_values(names, defs, values)?,
            member_of,
        })
    }

    /// Gives the entity another name (tests tell entities apart by it).
    #[cfg(test)]
    pub(crate) fn rename(&mut self, name: &str) {
        self.attrs
            .set_head(Head::Name, name)
            .expect("a test's name is far below 4 GiB");
    }

    /// The entity's id, unique within its type.
    pub fn id(&self) -> &str {
        self.attrs.head(Head::Id)
    }

    /// The entity's name, as its source shows it.
    pub fn name(&self) -> &str {
        self.attrs.head(Head::Name)
    }

    /// The id of the raw record the entity was normalized from, in its source.
    pub fn record_id(&self) -> &str {
        self.attrs.head(Head::RecordId)
    }

    /// The value of the attribute of index `idx` in the type's definition.
    pub fn value(&self, idx: usize) -> Option<AttrRef<'_>> {
        self.attrs.get(self.def().attrs, idx)
    }

    /// The value of the enumerated attribute `idx` as its position among the enumeration's
    /// values: see [`AttrMap::enum_word`].
    pub fn enum_word(&self, idx: usize) -> Option<u64> {
        self.attrs.enum_word(self.def().attrs, idx)
    }

    /// (attribute index, value) pairs in index order.
    pub fn values(&self) -> impl Iterator<Item = (usize, AttrRef<'_>)> {
        self.attrs.iter(self.def().attrs)
    }

    pub fn attr(&self, name: &str) -> Option<AttrRef<'_>> {
        let idx = self.def().attrs.iter().position(|a| a.name == name)?;
        self.value(idx)
    }
}

/// Equal entities have equal fields and equal values (however their maps are packed).
impl PartialEq for EvidenceEntity {
    fn eq(&self, other: &Self) -> bool {
        self.type_index == other.type_index
            && self.id() == other.id()
            && self.name() == other.name()
            && self.record_id() == other.record_id()
            && self.provenance == other.provenance
            && self.member_of == other.member_of
            && self.values().eq(other.values())
    }
}

impl Eq for EvidenceEntity {}

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
    #[error("the entity's attribute values exceed 4 GiB")]
    TooLarge,
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
    let strings = |v: &Value| -> Result<StrSet, EntityLineError> {
        let arr = v.as_array().ok_or_else(wrong)?;
        let out = arr
            .iter()
            .map(|x| x.as_str().map(Box::from).ok_or_else(wrong))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AttrValue::set_of(out))
    };
    Ok(match ty {
        AttrType::Bool => AttrValue::Bool(v.as_bool().ok_or_else(wrong)?),
        AttrType::Long => AttrValue::Long(v.as_i64().ok_or_else(wrong)?),
        AttrType::String => {
            AttrValue::String(Cow::Owned(v.as_str().ok_or_else(wrong)?.to_string()))
        }
        AttrType::Enum(values) => {
            let s = v.as_str().ok_or_else(wrong)?;
            AttrValue::String(Cow::Borrowed(enum_value(values, s).ok_or_else(wrong)?))
        }
        AttrType::Time => {
            let s = v.as_str().ok_or_else(wrong)?;
            AttrValue::Time(parse_rfc3339(s).ok_or_else(wrong)?)
        }
        AttrType::Ref(_) => AttrValue::Ref(Box::from(v.as_str().ok_or_else(wrong)?)),
        AttrType::StringSet => AttrValue::StringSet(strings(v)?),
        AttrType::RefSet(_) => AttrValue::RefSet(strings(v)?),
    })
}

/// The model's own spelling of `s`, if it is one of `values`.
pub(crate) fn enum_value(values: &'static [&'static str], s: &str) -> Option<&'static str> {
    enum_position(values, s)
        .and_then(|i| values.get(i))
        .copied()
}

/// The position of `s` in `values`: what a packed map holds for an enumerated value.
pub(crate) fn enum_position(values: &[&str], s: &str) -> Option<usize> {
    values.iter().position(|v| *v == s)
}

/// Reads one entity line into a typed entity, checking it against the model.
///
/// A well-formed line is read in one pass straight into the typed entity ([`fast`]); any
/// irregularity — an error, but also a duplicate key, fields out of the usual order or an
/// escaped key — sends it through [`EntityLine`] and [`entity_from_line`], which give the
/// entity or the error. Both paths give the same result for every line (tested below).
pub fn parse_entity_line(
    line: &str,
    source: &SourceName,
    collected_at: i64,
) -> Result<EvidenceEntity, EntityLineError> {
    if let Some(e) = fast::parse(line, source, collected_at) {
        return Ok(e);
    }
    let raw: EntityLine =
        serde_json::from_str(line).map_err(|e| EntityLineError::Json(e.to_string()))?;
    let mut e = entity_from_line(raw, source, collected_at)?;
    e.provenance.source = source.clone();
    Ok(e)
}

pub fn entity_from_line(
    raw: EntityLine,
    source: &str,
    collected_at: i64,
) -> Result<EvidenceEntity, EntityLineError> {
    let type_index = entity_type_index(&raw.entity_type)
        .ok_or_else(|| EntityLineError::UnknownType(raw.entity_type.clone()))?;
    let def = &ENTITY_TYPES[type_index];
    let Some(record_sha256) = Sha256Digest::from_hex(&raw.record.sha256) else {
        return Err(EntityLineError::BadHash(raw.record.sha256));
    };
    let mut values: Vec<(usize, AttrValue)> = Vec::with_capacity(raw.attrs.len());
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
        values.push((idx, parse_value(name, attr.ty, value)?));
    }
    // inverse attributes are reserved unfilled (absent) until the model is built
    let names = EntityNames {
        id: &raw.id,
        name: &raw.name,
        record_id: &raw.record.id,
    };
    let provenance = Provenance {
        source: source.into(),
        record_sha256,
        collected_at,
    };
    let mut member_of = raw.member_of;
    member_of.sort();
    member_of.dedup();
    // the values were checked above and the keys of a JSON object read by serde_json are
    // distinct, so only size can fail here
    let e = EvidenceEntity::new(type_index, names, provenance, &mut values, member_of)
        .map_err(|_| EntityLineError::TooLarge)?;
    for (idx, attr) in def.attrs.iter().enumerate() {
        if !attr.optional && attr.origin == AttrOrigin::Stored && !e.attrs.contains_key(idx) {
            return Err(EntityLineError::MissingAttribute {
                attr: attr.name.to_string(),
            });
        }
    }
    if def.member_of.is_none() && !e.member_of.is_empty() {
        return Err(EntityLineError::NoMembership {
            entity_type: def.name.to_string(),
        });
    }
    Ok(e)
}

impl EvidenceEntity {
    /// The line this entity is written as in a snapshot.
    pub fn to_line(&self) -> EntityLine {
        let def = self.def();
        EntityLine {
            entity_type: def.name.to_string(),
            id: self.id().to_string(),
            name: self.name().to_string(),
            record: RecordRef {
                id: self.record_id().to_string(),
                sha256: self.provenance.record_sha256.to_hex(),
            },
            attrs: self
                .values()
                .filter(|(idx, _)| def.attrs[*idx].origin == AttrOrigin::Stored)
                .map(|(idx, v)| (def.attrs[idx].name.to_string(), v.to_json()))
                .collect(),
            member_of: self.member_of.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::format_rfc3339;

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
        let e = parse_entity_line(&l, &"aws".into(), 0).unwrap();
        assert_eq!(e.attr("last_used_at"), Some(AttrRef::Time(1767323045)));
        let again = entity_from_line(e.to_line(), "aws", 0).unwrap();
        assert_eq!(again, e);
    }

    /// The full reader, for comparison with [`parse_entity_line`].
    fn slow(line: &str) -> Result<EvidenceEntity, EntityLineError> {
        let raw: EntityLine =
            serde_json::from_str(line).map_err(|e| EntityLineError::Json(e.to_string()))?;
        entity_from_line(raw, "src", 7)
    }

    #[test]
    fn the_fast_reader_agrees_with_the_full_one() {
        let ok = line(
            r#"{"kind":"access_key","identity":"u1","active":true,"last_used_at":"2026-01-02T03:04:05Z","created_at":null}"#,
        );
        assert!(fast::parse(&ok, &"src".into(), 7).is_some());
        let group = format!(
            r#"{{"type":"Identity","id":"u1","name":"n","record":{{"id":"r","sha256":"{HASH}"}},"attrs":{{"kind":"human","status":"active","login":"u1","privileged":false,"break_glass":false,"mfa_enrolled":true,"mfa_methods":["sms","app","sms"]}},"member_of":["g2","g1","g2"]}}"#
        );
        assert!(fast::parse(&group, &"src".into(), 7).is_some());
        let mut lines = vec![ok.clone(), group.clone()];
        // every irregularity: each must give what the full reader gives
        for (from, to) in [
            (r#""active":true"#, r#""active":true,"active":false"#),
            (r#""active":true"#, r#""active":null"#),
            (r#""active":true"#, r#""active":1"#),
            (r#""identity":"u1""#, r#""identity":"u\u0031""#),
            (r#""identity":"u1""#, r#""ident\u0069ty":"u1""#),
            (r#""kind":"access_key""#, r#""kind":"password""#),
            (r#""2026-01-02T03:04:05Z""#, r#""2026-02-30T03:04:05Z""#),
            (
                r#""2026-01-02T03:04:05Z""#,
                r#""2026-01-02T03:04:05+01:00""#,
            ),
            (r#""2026-01-02T03:04:05Z""#, r#""2026-01-02T03:04:05.5Z""#),
            (r#""2026-01-02T03:04:05Z""#, r#""2026-01-02T23:59:60Z""#),
            (
                r#""created_at":null"#,
                r#""created_at":null,"colour":"red""#,
            ),
            (r#""type":"Credential""#, r#""type":"Nope""#),
            (r#""record""#, r#""extra":1,"record""#),
            (r#"{"id":"r1""#, r#"{"id":"r1","x":1"#),
            (HASH, "ABC"),
            ("}}", "}} x"),
        ] {
            let bad = ok.replacen(from, to, 1);
            assert_ne!(bad, ok, "{from}");
            lines.push(bad);
        }
        lines.push(group.replace(
            r#""mfa_methods":["sms","app","sms"]"#,
            r#""mfa_methods":["sms",1]"#,
        ));
        lines.push(
            group
                .replace(
                    r#""type":"Identity","id":"u1","name":"n","#,
                    r#""id":"u1","name":"n","#,
                )
                .replace(r#""member_of""#, r#""type":"Identity","member_of""#),
        );
        lines.push(ok.replace(r#""attrs""#, r#""member_of":["x"],"attrs""#));
        for l in &lines {
            assert_eq!(parse_entity_line(l, &"src".into(), 7), slow(l), "{l}");
        }
    }

    #[test]
    fn fast_times_equal_the_time_crates() {
        let mut t: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
        while t < 253_402_300_799 {
            let s = format_rfc3339(t);
            assert_eq!(fast::time(&s), Some(t), "{s}");
            assert_eq!(parse_rfc3339(&s), Some(t), "{s}");
            t += 86_400 * 97 + 3_607;
        }
        for s in [
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2100-02-29T00:00:00Z",
            "2000-02-29T12:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "0000-01-01T00:00:00Z",
            "2026-01-01t00:00:00z",
        ] {
            assert_eq!(fast::time(s), parse_rfc3339(s), "{s}");
        }
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
            let err = parse_entity_line(&line(attrs), &"aws".into(), 0).unwrap_err();
            assert_eq!(err.to_string(), msg);
        }
    }
}
