//! The snapshot index (`index/`): where each entity line is, who refers to whom, and which
//! Services and Tickets carry a name or key, as sorted tables cut into fixed-size chunks, so
//! that a reader needing a few entities (the deployment gate) reads and verifies a few chunks
//! and a few lines instead of the whole snapshot. Documented in `docs/snapshot-format.md`.
//!
//! Trust chain: the manifest (verified by the snapshot id) records the SHA-256 of
//! `index/index.json`; that file records each chunk's SHA-256 and first key; each entity row
//! records the SHA-256 of its line. This module is pure: building the tables from the lines
//! written, and searching chunk bytes the disk edge has read and verified.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{entities_path, sha256_hex, Unreadable};
use crate::model::value::AttrRef;
use crate::model::value::{parse_entity_line, SourceName};
use crate::model::{AttrOrigin, AttrType, ENTITY_TYPES};

/// `index/index.json`'s `format`.
pub const INDEX_FORMAT: &str = "conform-snapshot-index/1";
/// The path of the top-level index file inside a snapshot.
pub const INDEX_PATH: &str = "index/index.json";
/// Rows per chunk (the last chunk of a table may hold fewer).
pub const CHUNK_ROWS: usize = 1024;

/// The manifest's `index` entry: the top-level index file and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexRef {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// One chunk of a table: its file, hash, row count and first row's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkRef {
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    pub first: Vec<String>,
}

/// The three tables, each a list of chunks in key order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    /// [`EntityRow`]s by (type, id).
    pub entities: Vec<ChunkRef>,
    /// [`RefRow`]s by (target type, target id, referrer type, referrer id, attribute).
    pub refs: Vec<ChunkRef>,
    /// [`LookupRow`]s by (type, field, value, id).
    pub lookup: Vec<ChunkRef>,
}

/// `index/index.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotIndex {
    pub format: String,
    pub chunk_rows: usize,
    /// Readable entities per type after duplicates are skipped: what a full load holds.
    pub counts: BTreeMap<String, usize>,
    /// What a full load reports as unreadable, in the same order.
    pub unreadable: Vec<Unreadable>,
    /// Per source, per entity type, the stored attributes its entities carry: what a full load
    /// derives for a source whose manifest entry declares no `attributes`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes_carried: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub tables: Tables,
}

/// Where one entity's line is: `[type, id, file, offset, length, sha256 of the line]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityRow(
    pub String,
    pub String,
    pub String,
    pub u64,
    pub u64,
    pub String,
);

/// A reference: `[target type, target id, referrer type, referrer id, attribute]`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RefRow(pub String, pub String, pub String, pub String, pub String);

/// A name or key: `[type, field, value, id]`; fields `name` and `id_suffix` (the part of the
/// id after its last `:`) for Services, `key` for Tickets.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LookupRow(pub String, pub String, pub String, pub String);

/// What the writer learnt from one entity line.
#[derive(Debug, Clone)]
pub struct IndexedLine {
    /// Position of the source in the manifest.
    pub source_pos: usize,
    pub source: String,
    pub line: usize,
    pub offset: u64,
    pub len: u64,
    pub sha256: String,
    pub parsed: Result<LineFacts, Unreadable>,
}

/// The indexable facts of a readable entity line.
#[derive(Debug, Clone)]
pub struct LineFacts {
    pub type_index: usize,
    pub id: String,
    pub name: String,
    pub key: Option<String>,
    /// (attribute, target type, target id) of every stored reference.
    pub refs: Vec<(String, String, String)>,
    /// The stored attributes the line carries (indices into the type's attributes).
    pub stored: Vec<usize>,
}

/// Reads one entity line as a full load would, and keeps what the index needs.
pub fn index_line(
    text: &str,
    source_pos: usize,
    source: &SourceName,
    line: usize,
    offset: u64,
) -> IndexedLine {
    let parsed = parse_entity_line(text, source, 0)
        .map(|e| {
            let def = e.def();
            let mut refs = Vec::new();
            let mut key = None;
            let mut stored = Vec::new();
            for (ai, v) in e.values() {
                let Some(a) = def.attrs.get(ai) else {
                    continue;
                };
                if !matches!(a.origin, AttrOrigin::Stored) {
                    continue;
                }
                stored.push(ai);
                match (a.ty, v) {
                    (AttrType::Ref(t) | AttrType::RefSet(t), v) => {
                        for id in v.ref_ids() {
                            refs.push((a.name.to_string(), t.to_string(), id.to_string()));
                        }
                    }
                    (_, AttrRef::String(s)) if a.name == "key" => key = Some(s.to_string()),
                    _ => {}
                }
            }
            LineFacts {
                type_index: e.type_index,
                id: e.id().to_string(),
                name: e.name().to_string(),
                key,
                refs,
                stored,
            }
        })
        .map_err(|err| super::unreadable_line(&entities_path(source), line, text, source, &err));
    IndexedLine {
        source_pos,
        source: source.to_string(),
        line,
        offset,
        len: text.len() as u64,
        sha256: sha256_hex(text.as_bytes()),
        parsed,
    }
}

/// The index's tables as rows (sorted), its counts and its unreadable list, from every line
/// written, in the order a full load reads them (sources in manifest order, lines in order).
pub struct BuiltIndex {
    pub counts: BTreeMap<String, usize>,
    pub attributes_carried: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    pub unreadable: Vec<Unreadable>,
    pub entities: Vec<EntityRow>,
    pub refs: Vec<RefRow>,
    pub lookup: Vec<LookupRow>,
}

/// Builds the index: the first line of each (type, id) wins, as in a full load, and later
/// ones are reported as duplicates with the full load's message.
pub fn build_index(mut lines: Vec<IndexedLine>) -> BuiltIndex {
    let mut unreadable = Vec::new();
    let mut readable = Vec::new();
    lines.sort_by_key(|l| (l.source_pos, l.line));
    for l in lines {
        match l.parsed {
            Err(u) => unreadable.push(u),
            Ok(f) => readable.push((f, l.source, l.offset, l.len, l.sha256)),
        }
    }
    // stable: of lines with the same (type, id), the first read stays first
    readable.sort_by(|a, b| (a.0.type_index, &a.0.id).cmp(&(b.0.type_index, &b.0.id)));
    let mut counts = BTreeMap::new();
    let mut attributes_carried: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> =
        BTreeMap::new();
    let mut entities = Vec::new();
    let mut refs = Vec::new();
    let mut lookup = Vec::new();
    let mut prev: Option<(usize, String, String)> = None;
    for (f, source, offset, len, sha) in readable {
        let ty = ENTITY_TYPES[f.type_index].name;
        if let Some((pt, pid, psource)) = &prev {
            if *pt == f.type_index && *pid == f.id {
                unreadable.push(Unreadable {
                    file: entities_path(&source),
                    line: None,
                    source: source.clone(),
                    entity_type: Some(ty.to_string()),
                    error: format!(
                        "duplicate {ty} id `{}` (first read from source `{psource}`); this one was skipped",
                        f.id
                    ),
                });
                continue;
            }
        }
        *counts.entry(ty.to_string()).or_default() += 1;
        let carried = attributes_carried
            .entry(source.clone())
            .or_default()
            .entry(ty.to_string())
            .or_default();
        for ai in &f.stored {
            carried.insert(ENTITY_TYPES[f.type_index].attrs[*ai].name.to_string());
        }
        for (attr, target_type, target_id) in &f.refs {
            refs.push(RefRow(
                target_type.clone(),
                target_id.clone(),
                ty.to_string(),
                f.id.clone(),
                attr.clone(),
            ));
        }
        let mut look = |field: &str, value: &str| {
            lookup.push(LookupRow(
                ty.to_string(),
                field.to_string(),
                value.to_string(),
                f.id.clone(),
            ))
        };
        match ty {
            "Service" => {
                look("name", &f.name);
                look("id_suffix", f.id.rsplit(':').next().unwrap_or(&f.id));
            }
            "Ticket" => {
                if let Some(k) = &f.key {
                    look("key", k);
                }
            }
            _ => {}
        }
        entities.push(EntityRow(
            ty.to_string(),
            f.id.clone(),
            entities_path(&source),
            offset,
            len,
            sha,
        ));
        prev = Some((f.type_index, f.id, source));
    }
    unreadable.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    // rows are compared as arrays of strings, as the reader compares keys
    entities.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    refs.sort();
    refs.dedup();
    lookup.sort();
    lookup.dedup();
    let attributes_carried = attributes_carried
        .into_iter()
        .map(|(source, types)| {
            let types = types
                .into_iter()
                .map(|(t, attrs)| (t, attrs.into_iter().collect()))
                .collect();
            (source, types)
        })
        .collect();
    BuiltIndex {
        counts,
        attributes_carried,
        unreadable,
        entities,
        refs,
        lookup,
    }
}

/// A row's key as strings, for the chunk boundaries.
pub trait Keyed {
    fn key(&self) -> Vec<String>;
}

impl Keyed for EntityRow {
    fn key(&self) -> Vec<String> {
        vec![self.0.clone(), self.1.clone()]
    }
}

impl Keyed for RefRow {
    fn key(&self) -> Vec<String> {
        vec![
            self.0.clone(),
            self.1.clone(),
            self.2.clone(),
            self.3.clone(),
            self.4.clone(),
        ]
    }
}

impl Keyed for LookupRow {
    fn key(&self) -> Vec<String> {
        vec![
            self.0.clone(),
            self.1.clone(),
            self.2.clone(),
            self.3.clone(),
        ]
    }
}

/// Compares a key with a prefix: `Equal` when the key starts with it.
pub fn cmp_prefix<S: AsRef<str>>(key: &[S], prefix: &[&str]) -> Ordering {
    for (i, p) in prefix.iter().enumerate() {
        match key.get(i) {
            None => return Ordering::Less,
            Some(k) => match k.as_ref().cmp(p) {
                Ordering::Equal => {}
                other => return other,
            },
        }
    }
    Ordering::Equal
}

/// The chunks of a table that may hold rows starting with `prefix`, in order.
pub fn chunks_for(chunks: &[ChunkRef], prefix: &[&str]) -> std::ops::Range<usize> {
    // the first chunk whose first key is >= prefix; rows with the prefix may start in the
    // chunk before it
    let first_ge = chunks.partition_point(|c| cmp_prefix(&c.first, prefix) == Ordering::Less);
    let start = first_ge.saturating_sub(1);
    let end = chunks.partition_point(|c| cmp_prefix(&c.first, prefix) != Ordering::Greater);
    start..end.max(start)
}

/// The rows of one verified chunk (JSON arrays, one per line) that start with `prefix`,
/// found by binary search over the lines: only the probed lines and the matches are parsed.
pub fn rows_with_prefix<R: for<'de> Deserialize<'de> + Keyed>(
    chunk: &[u8],
    lines: &[(usize, usize)],
    prefix: &[&str],
) -> Result<Vec<R>, String> {
    let row = |i: usize| -> Result<R, String> {
        let (s, e) = lines[i];
        serde_json::from_slice(&chunk[s..e]).map_err(|e| format!("row {}: {e}", i + 1))
    };
    let (mut lo, mut hi) = (0, lines.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if cmp_prefix(&row(mid)?.key(), prefix) == Ordering::Less {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut out = Vec::new();
    for i in lo..lines.len() {
        let r = row(i)?;
        if cmp_prefix(&r.key(), prefix) != Ordering::Equal {
            break;
        }
        out.push(r);
    }
    Ok(out)
}

/// The (start, end) byte ranges of a chunk's non-empty lines.
pub fn line_ranges(chunk: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in chunk.iter().enumerate() {
        if *b == b'\n' {
            if i > start {
                out.push((start, i));
            }
            start = i + 1;
        }
    }
    if chunk.len() > start {
        out.push((start, chunk.len()));
    }
    out
}

/// Why the index, or a line it points at, cannot be used: the snapshot is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    #[error("index file `{path}` does not match its hash (expected {expected}, found {actual}): the snapshot was modified after it was written")]
    ChunkHash {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("entity {entity} in `{file}` (bytes {bytes}) does not match its hash in the index (expected {expected}, found {actual}): the snapshot was modified after it was written")]
    LineHash {
        /// `Type `id``
        entity: String,
        file: String,
        /// `start..end`
        bytes: String,
        expected: String,
        actual: String,
    },
    #[error("cannot read `{path}`: {error}")]
    Read { path: String, error: String },
    #[error("index file `{path}` is malformed: {error}")]
    Malformed { path: String, error: String },
    #[error("entity {entity_type} `{id}` in `{file}` no longer reads as the index says: {error}")]
    Stale {
        entity_type: String,
        id: String,
        file: String,
        error: String,
    },
    #[error("entity {entity_type} `{id}` is referred to by more entities than it can hold (4 GiB of ids)")]
    TooManyReferrers { entity_type: String, id: String },
}
