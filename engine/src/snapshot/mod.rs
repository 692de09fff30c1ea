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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::value::{parse_entity_line, EntityLineError, SourceName};
use crate::model::{AttrOrigin, EvidenceEntity, ENTITY_TYPES};
use crate::time::parse_rfc3339;

pub mod index;
mod inverse;
mod order;

pub(crate) use inverse::{fill_inverse_attributes, inverse_declarations};

/// The format this build writes: `conform-snapshot/1` plus the optional `index`.
pub const FORMAT: &str = "conform-snapshot/2";
/// The formats this build reads (a `/1` snapshot has no index).
pub const READABLE_FORMATS: [&str; 2] = ["conform-snapshot/1", FORMAT];

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
    /// The snapshot index (`index/index.json`) and its hash; absent in `conform-snapshot/1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<index::IndexRef>,
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
    /// Per entity type, the sorted names of the attributes this source can supply (what its
    /// mapping produces), whether or not a record carried them. Absent in older snapshots:
    /// the engine then derives it from the entities the source wrote
    /// ([`crate::evaluate::attributes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    pub records: u64,
    pub entities: BTreeMap<String, u64>,
    /// A partial source: the entity types of which records were lost, when the connector
    /// knows (records that could not be normalized into their type). Absent: any type the
    /// source provides may have lost records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_types: Option<Vec<String>>,
    /// Without `attributes`: per entity type, the attributes at least one of the source's
    /// entities carries, derived when the snapshot is read (so that an assessment of part of
    /// the entities, such as the gate's, judges by all of them). Never written.
    #[serde(skip)]
    pub attributes_from_data: Option<BTreeMap<String, Vec<String>>>,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub source: String,
    /// The entity type the unreadable record was meant to be, when the line still says; an
    /// unreadable record of unknown type makes every type of its source incomplete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// Entities below this many are freed on the dropping thread.
const PARALLEL_DROP_MIN: usize = 50_000;

impl Drop for EvidenceSnapshot {
    /// Frees a large snapshot's entities on all cores: each holds a dozen allocations, and a
    /// million entities take more than a second to free on one core.
    fn drop(&mut self) {
        if self.entities.len() >= PARALLEL_DROP_MIN {
            std::mem::take(&mut self.entities)
                .into_par_iter()
                .for_each(drop);
        }
    }
}

/// Why a snapshot as a whole cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("`manifest.json` is not a valid snapshot manifest: {0}")]
    Manifest(String),
    #[error(
        "unsupported snapshot format `{0}` (this build reads `conform-snapshot/1` and `{FORMAT}`)"
    )]
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
    if !READABLE_FORMATS.contains(&manifest.format.as_str()) {
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
        // when a source was collected is every one of its entities' `collected_at`: checked
        // here, so that a full load and the gate's index refuse the same manifests
        parse_rfc3339(&s.finished_at).ok_or(SnapshotError::Time(s.finished_at.clone()))?;
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

/// A block of an entity file is parsed on all cores in pieces of about this many bytes (and
/// the rest of the line a piece ends in); each piece's entities share one copy of the source's
/// name.
const PARSE_PIECE: usize = 256 << 10;

/// Entity files are read, hashed and parsed this many bytes at a time (plus the rest of the
/// line a block ends in): the whole file is never held, so reading a 300 MB source touches a few
/// MiB of buffer instead of 300 MB of fresh memory.
const READ_BLOCK: usize = 8 << 20;

/// Reads the entities of a verified manifest. `open` opens a file by snapshot path.
/// Every listed entity file is checked against its hash; a malformed line is recorded in
/// [`EvidenceSnapshot::unreadable`] and skipped, and the rest is read.
pub fn read_snapshot<R: Read + Send>(
    manifest: Manifest,
    open: impl Fn(&str) -> Result<R, String>,
) -> Result<EvidenceSnapshot, SnapshotError> {
    let (entities, unreadable) = read_entities(&manifest, open)?;
    Ok(build_model(manifest, entities, unreadable))
}

/// The first stage of [`read_snapshot`]: reads and verifies every entity file the manifest
/// lists and parses its lines into typed entities, in file order (not yet sorted, deduplicated
/// or joined). Exposed so that the stages can be measured separately.
pub fn read_entities<R: Read + Send>(
    manifest: &Manifest,
    open: impl Fn(&str) -> Result<R, String>,
) -> Result<(Vec<EvidenceEntity>, Vec<Unreadable>), SnapshotError> {
    read_entities_in_blocks(manifest, open, READ_BLOCK, PARSE_PIECE)
}

/// [`read_entities`], reading `block_size` bytes at a time and parsing them in pieces of about
/// `piece_size` bytes (tests vary both; they change nothing but memory and speed).
fn read_entities_in_blocks<R: Read + Send>(
    manifest: &Manifest,
    open: impl Fn(&str) -> Result<R, String>,
    block_size: usize,
    piece_size: usize,
) -> Result<(Vec<EvidenceEntity>, Vec<Unreadable>), SnapshotError> {
    let mut unreadable = Vec::new();
    let hashes: HashMap<&str, &FileEntry> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    // The manifest's counts, bounded by what the files could hold (a line is > 16 bytes), so
    // that the entities are moved into place once instead of at every doubling.
    let declared: u64 = manifest
        .sources
        .iter()
        .map(|s| {
            let bytes = hashes
                .get(entities_path(&s.name).as_str())
                .map_or(0, |f| f.bytes);
            s.entities
                .values()
                .fold(0u64, |n, c| n.saturating_add(*c))
                .min(bytes / 16)
        })
        .fold(0u64, u64::saturating_add);
    // the counts are the manifest's word, checked by nothing yet: a reservation that cannot be
    // made is skipped, never a failure
    let mut entities = Vec::new();
    let _ = entities.try_reserve_exact(usize::try_from(declared).unwrap_or(0));
    // two blocks, and the results of two blocks' pieces: see the loop below
    let (mut block, mut next_block) = (Vec::new(), Vec::new());
    let (mut parsed, mut parsing) = (Vec::new(), Vec::new());
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
        let missing = |error: String| SnapshotError::MissingFile {
            path: path.clone(),
            error,
        };
        let Some(at) = parse_rfc3339(&source.finished_at) else {
            return Err(SnapshotError::Time(source.finished_at.clone()));
        };
        let mut file = open(&path).map_err(missing)?;
        let mut hasher = Sha256::new();
        let mut lines_before = 0;
        let mut end_of_file = false;
        block.clear();
        let mut complete = fill_block(&mut file, &mut block, block_size, &mut end_of_file)
            .map_err(|e| missing(e.to_string()))?;
        // While one block's lines are parsed (on all cores), the same block is hashed, the
        // previous block's entities are moved into `entities` and the next block is read: all
        // but the parsing would otherwise leave the other cores idle. A hash mismatch still
        // refuses the snapshot.
        loop {
            let last = end_of_file;
            let (whole, rest) = block.split_at(complete);
            next_block.clear();
            next_block.extend_from_slice(rest);
            let (read, lines_in) = rayon::join(
                || {
                    hasher.update(whole);
                    move_parsed(&mut parsed, &mut entities, &mut unreadable);
                    if last {
                        return Ok(0);
                    }
                    fill_block(&mut file, &mut next_block, block_size, &mut end_of_file)
                },
                || {
                    let at = (lines_before, at);
                    parse_lines(whole, piece_size, at, source, &path, &mut parsing)
                },
            );
            lines_before += lines_in;
            std::mem::swap(&mut parsed, &mut parsing);
            complete = read.map_err(|e| missing(e.to_string()))?;
            if last {
                move_parsed(&mut parsed, &mut entities, &mut unreadable);
                break;
            }
            std::mem::swap(&mut block, &mut next_block);
        }
        let actual = hex::encode(hasher.finalize());
        if actual != entry.sha256 {
            return Err(SnapshotError::FileHash {
                path,
                expected: entry.sha256.clone(),
                actual,
            });
        }
    }
    Ok((entities, unreadable))
}

/// Reads into `block` (which may hold the unfinished line of the previous block) about
/// `block_size` more bytes, or until the file ends, and returns how many of its bytes are whole
/// lines: up to the last newline, or all of them at the end of the file.
fn fill_block(
    file: &mut impl Read,
    block: &mut Vec<u8>,
    block_size: usize,
    end_of_file: &mut bool,
) -> std::io::Result<usize> {
    let start = block.len();
    let want = block_size.max(1);
    // `read_to_end` stops at the limit or at the end of the file, whichever comes first
    let read = file.by_ref().take(want as u64).read_to_end(block)?;
    if read < want {
        *end_of_file = true;
    }
    let filled = block.len();
    Ok(if *end_of_file {
        filled
    } else {
        block[start..]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| start + p + 1)
    })
}

/// Parses the lines of one block of an entity file on all cores into `outputs`, and returns
/// the number of newlines in the block; `at` is the number of lines of the file before the
/// block and the time the source was collected. The block is cut into pieces of about
/// `piece_size` bytes at line ends, and everything done to a line (finding it, checking its
/// UTF-8, parsing it) is done by the piece's task. Each piece's results go into one of
/// `outputs`, vectors kept from block to block (and emptied by [`move_parsed`]), so that their
/// memory is touched once: memory freed and allocated again is fresh memory again (the
/// allocator returns it to the system), and fresh memory is costly (see BENCHMARKS.md).
fn parse_lines(
    whole: &[u8],
    piece_size: usize,
    (lines_before, at): (usize, i64),
    source: &SourceEntry,
    path: &str,
    outputs: &mut Vec<Vec<Result<EvidenceEntity, Unreadable>>>,
) -> usize {
    let mut starts = vec![0];
    let mut from = 0;
    while let Some(end) = whole
        .get(from + piece_size..)
        .and_then(|rest| memchr::memchr(b'\n', rest))
    {
        from += piece_size + end + 1;
        starts.push(from);
    }
    let pieces: Vec<&[u8]> = starts
        .iter()
        .zip(starts.iter().skip(1).chain([&whole.len()]))
        .map(|(&a, &b)| &whole[a..b])
        .collect();
    let newlines: Vec<usize> = pieces
        .par_iter()
        .map(|p| memchr::memchr_iter(b'\n', p).count())
        .collect();
    let firsts: Vec<usize> = newlines
        .iter()
        .scan(lines_before, |n, k| {
            let first = *n;
            *n += k;
            Some(first)
        })
        .collect();
    if outputs.len() < pieces.len() {
        outputs.resize_with(pieces.len(), Vec::new);
    }
    let outputs = &mut outputs[..pieces.len()];
    // one shared source name per piece: the entities share it without the threads contending
    // on one reference count
    outputs
        .par_iter_mut()
        .zip(pieces.par_iter().zip(firsts.par_iter()))
        .for_each(|(out, (piece, &first))| {
            let shared = SourceName::from(source.name.as_str());
            for (n, line) in piece_lines(piece).enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                out.push(parse_entity_line(&line, &shared, at).map_err(|err| {
                    unreadable_line(path, first + n + 1, &line, &source.name, &err)
                }));
            }
        });
    newlines.iter().sum()
}

/// Moves what [`parse_lines`] put in `outputs`, in order, into `entities` and `unreadable`,
/// leaving the vectors empty (and their memory kept).
fn move_parsed(
    outputs: &mut [Vec<Result<EvidenceEntity, Unreadable>>],
    entities: &mut Vec<EvidenceEntity>,
    unreadable: &mut Vec<Unreadable>,
) {
    for out in outputs.iter_mut() {
        for p in out.drain(..) {
            match p {
                Ok(e) => entities.push(e),
                Err(u) => unreadable.push(u),
            }
        }
    }
}

/// The lines of a piece of an entity file as [`str::lines`] gives them (split at `\n`, a `\r`
/// before it removed), each checked as UTF-8 and, where it is not, with the invalid bytes
/// replaced (as `String::from_utf8_lossy` does).
fn piece_lines(piece: &[u8]) -> impl Iterator<Item = Cow<'_, str>> + '_ {
    let (body, last_terminated) = match piece.split_last() {
        Some((b'\n', body)) => (body, true),
        _ => (piece, false),
    };
    let mut from = Some(0);
    std::iter::from_fn(move || {
        let start = from?;
        let (line, terminated) = match memchr::memchr(b'\n', &body[start..]) {
            Some(end) => {
                from = Some(start + end + 1);
                (&body[start..start + end], true)
            }
            None => {
                from = None;
                (&body[start..], last_terminated)
            }
        };
        let line = match line {
            [rest @ .., b'\r'] if terminated => rest,
            _ => line,
        };
        Some(match std::str::from_utf8(line) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(line),
        })
    })
}

/// A problem with entity `e` as a whole (not with one of its lines).
fn entity_problem(e: &EvidenceEntity, error: String) -> Unreadable {
    Unreadable {
        file: entities_path(&e.provenance.source),
        line: None,
        source: e.provenance.source.to_string(),
        entity_type: Some(e.type_name().to_string()),
        error,
    }
}

/// The second stage of [`read_snapshot`]: sorts the entities by (type, id), skips duplicate
/// ids (the first one read wins) and derives the inverse attributes.
pub fn build_model(
    manifest: Manifest,
    mut entities: Vec<EvidenceEntity>,
    mut unreadable: Vec<Unreadable>,
) -> EvidenceSnapshot {
    let duplicates = order::sort_by_type_and_id(&mut entities);
    let mut deduped = entities;
    if !duplicates.is_empty() {
        // the entity kept for the current run of equal ids: the first of the run, which is
        // never a duplicate (so `k` > 0), and the one before `k` unless that one is a
        // duplicate too
        let mut kept = 0;
        for (n, &k) in duplicates.iter().enumerate() {
            if n == 0 || duplicates[n - 1] + 1 != k {
                kept = k.wrapping_sub(1);
            }
            if let (Some(first), Some(e)) = (deduped.get(kept), deduped.get(k)) {
                unreadable.push(entity_problem(
                    e,
                    format!(
                        "duplicate {} id `{}` (first read from source `{}`); this one was skipped",
                        e.type_name(),
                        e.id(),
                        first.provenance.source
                    ),
                ));
            }
        }
        let mut k = 0;
        let mut next = duplicates.iter().peekable();
        deduped.retain(|_| {
            let skip = next.next_if_eq(&&k).is_some();
            k += 1;
            !skip
        });
    }
    for (i, ai) in fill_inverse_attributes(&mut deduped) {
        let e = &deduped[i];
        unreadable.push(entity_problem(
            e,
            format!(
                "{} `{}`: its `{}` (the entities referring to it) exceed 4 GiB of ids and were left out",
                e.type_name(),
                e.id(),
                e.def().attrs.get(ai).map_or("", |a| a.name)
            ),
        ));
    }
    let mut manifest = manifest;
    let carried = attributes_carried(&manifest_source_names(&manifest), &deduped);
    for (source, derived) in manifest.sources.iter_mut().zip(carried) {
        if source.attributes.is_none() {
            source.attributes_from_data = Some(derived);
        }
    }
    unreadable.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    EvidenceSnapshot {
        manifest,
        entities: deduped,
        unreadable,
    }
}

fn manifest_source_names(manifest: &Manifest) -> Vec<String> {
    manifest.sources.iter().map(|s| s.name.clone()).collect()
}

/// For each of `sources` (by name), per entity type, the sorted stored attributes that at least
/// one of its `entities` carries.
pub fn attributes_carried(
    sources: &[String],
    entities: &[EvidenceEntity],
) -> Vec<BTreeMap<String, Vec<String>>> {
    let by_name: HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    // per source, per type index: attribute indices carried; by chunks of entities on all
    // cores, then merged
    let carried_in = |chunk: &[EvidenceEntity]| {
        let mut carried: Vec<BTreeMap<usize, Vec<bool>>> = vec![BTreeMap::new(); sources.len()];
        let mut last: Option<(&str, usize)> = None;
        for e in chunk {
            let si = match last {
                Some((name, si)) if name == &*e.provenance.source => si,
                _ => match by_name.get(&*e.provenance.source) {
                    Some(&si) => {
                        last = Some((&*e.provenance.source, si));
                        si
                    }
                    None => continue,
                },
            };
            let def = e.def();
            let flags = carried[si]
                .entry(e.type_index)
                .or_insert_with(|| vec![false; def.attrs.len()]);
            for ai in e.attrs.indices() {
                if def
                    .attrs
                    .get(ai)
                    .is_some_and(|a| a.origin == AttrOrigin::Stored)
                {
                    flags[ai] = true;
                }
            }
        }
        carried
    };
    let carried = entities
        .par_chunks(1 << 14)
        .map(carried_in)
        .reduce_with(|mut all, chunk| {
            for (types, more) in all.iter_mut().zip(chunk) {
                for (ti, flags) in more {
                    let have = types.entry(ti).or_insert_with(|| vec![false; flags.len()]);
                    for (h, f) in have.iter_mut().zip(flags) {
                        *h |= f;
                    }
                }
            }
            all
        })
        .unwrap_or_else(|| vec![BTreeMap::new(); sources.len()]);
    carried
        .into_iter()
        .map(|types| {
            types
                .into_iter()
                .map(|(ti, flags)| {
                    let def = &ENTITY_TYPES[ti];
                    let mut names: Vec<String> = flags
                        .iter()
                        .enumerate()
                        .filter(|(_, f)| **f)
                        .map(|(ai, _)| def.attrs[ai].name.to_string())
                        .collect();
                    names.sort();
                    (def.name.to_string(), names)
                })
                .collect()
        })
        .collect()
}

pub(crate) fn unreadable_line(
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod inverse_tests;
