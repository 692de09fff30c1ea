//! Evidence snapshots: the immutable, hashed record of one collection.
//!
//! Layout (documented for users in `docs/snapshot-format.md`):
//!
//! ```text
//! <snapshot>/manifest.json            sources, their status, every file's SHA-256, the id
//! <snapshot>/records/<source>.jsonl   raw records, one per line, byte for byte
//! <snapshot>/entities/<source>.jsonl  normalized entities, one per line
//! ```
//!
//! This module is pure: it parses bytes the disk edge ([`crate::fs`]) has read.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::value::{parse_entity_line, EntityLineError};
use crate::model::{AttrOrigin, AttrValue, EvidenceEntity, ENTITY_TYPES};
use crate::time::parse_rfc3339;

pub const FORMAT: &str = "conform-snapshot/1";

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: String,
    /// `sha256:` + the SHA-256 of this manifest serialized with `snapshot_id` empty.
    pub snapshot_id: String,
    pub organization: String,
    /// RFC 3339: when the collection finished. The default assessment instant.
    pub created_at: String,
    pub sources: Vec<SourceEntry>,
    pub files: Vec<FileEntry>,
}

/// One configured source and how its collection went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceEntry {
    pub name: String,
    pub kind: String,
    pub connector_version: String,
    pub status: SourceStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    /// The entity types this source is expected to provide, whether or not it did.
    pub provides: Vec<String>,
    pub records: u64,
    pub entities: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceStatus {
    Ok,
    Partial,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The id a manifest must carry: the hash of its own canonical form without the id.
pub fn compute_snapshot_id(manifest: &Manifest) -> String {
    let mut m = manifest.clone();
    m.snapshot_id = String::new();
    let bytes = serde_json::to_vec(&m).unwrap_or_default();
    format!("sha256:{}", sha256_hex(&bytes))
}

/// Something in a snapshot that could not be read; the rest was still assessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    pub file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub source: String,
    /// The entity type the unreadable record was meant to be, when the line still says; an
    /// unreadable record of unknown type makes every type of its source incomplete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    pub error: String,
}

/// A snapshot whose integrity was checked and whose entities were read.
#[derive(Debug, Clone)]
pub struct EvidenceSnapshot {
    pub manifest: Manifest,
    /// Sorted by (type, id).
    pub entities: Vec<EvidenceEntity>,
    pub unreadable: Vec<Unreadable>,
}

/// Why a snapshot as a whole cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("`manifest.json` is not a valid snapshot manifest: {0}")]
    Manifest(String),
    #[error("unsupported snapshot format `{0}` (this build reads `{FORMAT}`)")]
    Format(String),
    #[error("snapshot id mismatch: manifest says `{recorded}`, its content hashes to `{actual}`")]
    IdMismatch { recorded: String, actual: String },
    #[error("file `{path}` does not match its hash in the manifest (expected {expected}, found {actual})")]
    FileHash {
        path: String,
        expected: String,
        actual: String,
    },
    #[error("file `{path}` is listed in the manifest but cannot be read: {error}")]
    MissingFile { path: String, error: String },
    #[error("`created_at` / `finished_at` value `{0}` is not an RFC 3339 timestamp")]
    Time(String),
    #[error("source `{0}` appears more than once in the manifest")]
    DuplicateSource(String),
}

/// Parses and verifies a manifest.
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, SnapshotError> {
    let manifest: Manifest =
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Manifest(e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(SnapshotError::Format(manifest.format));
    }
    let actual = compute_snapshot_id(&manifest);
    if actual != manifest.snapshot_id {
        return Err(SnapshotError::IdMismatch {
            recorded: manifest.snapshot_id,
            actual,
        });
    }
    parse_rfc3339(&manifest.created_at).ok_or(SnapshotError::Time(manifest.created_at.clone()))?;
    let mut seen = std::collections::HashSet::new();
    for s in &manifest.sources {
        if !seen.insert(&s.name) {
            return Err(SnapshotError::DuplicateSource(s.name.clone()));
        }
    }
    Ok(manifest)
}

/// The path of a source's entity file inside a snapshot.
pub fn entities_path(source: &str) -> String {
    format!("entities/{source}.jsonl")
}

/// The path of a source's raw record file inside a snapshot.
pub fn records_path(source: &str) -> String {
    format!("records/{source}.jsonl")
}

/// Reads the entities of a verified manifest. `read` returns a file's bytes by snapshot path.
/// Every listed entity file is checked against its hash; a malformed line is recorded in
/// [`EvidenceSnapshot::unreadable`] and skipped, and the rest is read.
pub fn read_snapshot(
    manifest: Manifest,
    read: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<EvidenceSnapshot, SnapshotError> {
    let (entities, unreadable) = read_entities(&manifest, read)?;
    Ok(build_model(manifest, entities, unreadable))
}

/// The first stage of [`read_snapshot`]: reads and verifies every entity file the manifest
/// lists and parses its lines into typed entities, in file order (not yet sorted, deduplicated
/// or joined). Exposed so that the stages can be measured separately.
pub fn read_entities(
    manifest: &Manifest,
    read: impl Fn(&str) -> Result<Vec<u8>, String>,
) -> Result<(Vec<EvidenceEntity>, Vec<Unreadable>), SnapshotError> {
    let mut entities = Vec::new();
    let mut unreadable = Vec::new();
    let hashes: HashMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    for source in &manifest.sources {
        let path = entities_path(&source.name);
        let Some(entry) = hashes.get(path.as_str()) else {
            if source.status != SourceStatus::Failed {
                unreadable.push(Unreadable {
                    file: path,
                    line: None,
                    source: source.name.clone(),
                    entity_type: None,
                    error: "the manifest lists no entity file for this source".into(),
                });
            }
            continue;
        };
        let bytes = read(&path).map_err(|error| SnapshotError::MissingFile {
            path: path.clone(),
            error,
        })?;
        let actual = sha256_hex(&bytes);
        if actual != entry.sha256 {
            return Err(SnapshotError::FileHash {
                path,
                expected: entry.sha256.clone(),
                actual,
            });
        }
        let collected_at = parse_rfc3339(&source.finished_at)
            .ok_or_else(|| SnapshotError::Time(source.finished_at.clone()))?;
        let text = String::from_utf8_lossy(&bytes);
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_entity_line(line, &source.name, collected_at) {
                Ok(e) => entities.push(e),
                Err(err) => {
                    unreadable.push(unreadable_line(&path, n + 1, line, &source.name, &err))
                }
            }
        }
    }
    Ok((entities, unreadable))
}

/// The second stage of [`read_snapshot`]: sorts the entities by (type, id), skips duplicate
/// ids (the first one read wins) and derives the inverse attributes.
pub fn build_model(
    manifest: Manifest,
    mut entities: Vec<EvidenceEntity>,
    mut unreadable: Vec<Unreadable>,
) -> EvidenceSnapshot {
    entities.sort_by(|a, b| (a.type_index, &a.id).cmp(&(b.type_index, &b.id)));
    let mut deduped: Vec<EvidenceEntity> = Vec::with_capacity(entities.len());
    for e in entities {
        if let Some(prev) = deduped.last() {
            if prev.type_index == e.type_index && prev.id == e.id {
                unreadable.push(Unreadable {
                    file: entities_path(&e.provenance.source),
                    line: None,
                    source: e.provenance.source.clone(),
                    entity_type: Some(e.type_name().to_string()),
                    error: format!(
                        "duplicate {} id `{}` (first read from source `{}`); this one was skipped",
                        e.type_name(),
                        e.id,
                        prev.provenance.source
                    ),
                });
                continue;
            }
        }
        deduped.push(e);
    }
    fill_inverse_attributes(&mut deduped);
    unreadable.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    EvidenceSnapshot {
        manifest,
        entities: deduped,
        unreadable,
    }
}

fn unreadable_line(
    path: &str,
    line: usize,
    text: &str,
    source: &str,
    err: &EntityLineError,
) -> Unreadable {
    let entity_type = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
        .filter(|t| crate::model::entity_type(t).is_some());
    Unreadable {
        entity_type,
        file: path.to_string(),
        line: Some(line),
        source: source.to_string(),
        error: err.to_string(),
    }
}

/// Fills the model's inverse attributes (e.g. `Asset.backup_jobs`) from the references that
/// point the other way, so that they can never disagree with them.
pub(crate) fn fill_inverse_attributes(entities: &mut [EvidenceEntity]) {
    // (target type index, inverse attr index) -> target id -> referrer ids
    let mut found: HashMap<(usize, usize), HashMap<String, Vec<String>>> = HashMap::new();
    let mut wanted: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (ti, t) in ENTITY_TYPES.iter().enumerate() {
        for (ai, a) in t.attrs.iter().enumerate() {
            if let AttrOrigin::Inverse { of_type, via } = a.origin {
                wanted.insert((of_type, via), (ti, ai));
                found.insert((ti, ai), HashMap::new());
            }
        }
    }
    for e in entities.iter() {
        let def = e.def();
        for (ai, v) in &e.attrs {
            let Some(key) = wanted.get(&(def.name, def.attrs[*ai].name)) else {
                continue;
            };
            let targets: &[String] = match v {
                AttrValue::Ref(id) => std::slice::from_ref(id),
                AttrValue::RefSet(ids) => ids,
                _ => continue,
            };
            if let Some(map) = found.get_mut(key) {
                for t in targets {
                    map.entry(t.clone()).or_default().push(e.id.clone());
                }
            }
        }
    }
    for e in entities.iter_mut() {
        for (ai, a) in e.def().attrs.iter().enumerate() {
            if matches!(a.origin, AttrOrigin::Inverse { .. }) {
                let mut ids = found
                    .get(&(e.type_index, ai))
                    .and_then(|m| m.get(&e.id))
                    .cloned()
                    .unwrap_or_default();
                ids.sort();
                ids.dedup();
                e.attrs.insert(ai, AttrValue::RefSet(ids));
            }
        }
    }
}

#[cfg(test)]
mod tests;
