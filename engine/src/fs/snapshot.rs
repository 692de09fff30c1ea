//! Reading and writing snapshot directories.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::snapshot_index::write_index;
use super::{io_error, IoError};
use crate::model::value::EntityLine;
use crate::snapshot::index::{index_line, IndexedLine};
use crate::snapshot::{
    compute_snapshot_id, entities_path, parse_manifest, read_snapshot, records_path,
    EvidenceSnapshot, FileEntry, Manifest, SnapshotError, SourceEntry, SourceStatus, FORMAT,
};

/// Why a snapshot could not be loaded from disk.
#[derive(Debug, thiserror::Error)]
pub enum LoadSnapshotError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("in snapshot `{path}`: {source}")]
    Invalid {
        path: String,
        #[source]
        source: SnapshotError,
    },
    #[error("in snapshot `{path}`: {source}")]
    Index {
        path: String,
        #[source]
        source: Box<crate::snapshot::index::IndexError>,
    },
    #[error(
        "`{0}` holds no snapshot (no `manifest.json` in it or in any folder directly below it)"
    )]
    NoSnapshot(String),
}

/// A snapshot directory, or the newest snapshot (by `created_at`) in a directory of them.
pub fn resolve_snapshot_dir(path: &Path) -> Result<PathBuf, LoadSnapshotError> {
    if path.join("manifest.json").is_file() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path).map_err(|e| io_error("read directory", path, e))?;
    let mut newest: Option<(String, PathBuf)> = None;
    for entry in entries.flatten() {
        let manifest = entry.path().join("manifest.json");
        let Ok(bytes) = std::fs::read(&manifest) else {
            continue;
        };
        let Ok(m) = parse_manifest(&bytes) else {
            continue;
        };
        let key = (m.created_at.clone(), entry.path());
        if newest.as_ref().is_none_or(|n| key > *n) {
            newest = Some(key);
        }
    }
    newest
        .map(|(_, p)| p)
        .ok_or_else(|| LoadSnapshotError::NoSnapshot(path.display().to_string()))
}

/// Reads and checks the manifest of the snapshot in `dir` (its id is verified).
pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest, LoadSnapshotError> {
    let manifest_path = dir.join("manifest.json");
    let bytes = std::fs::read(&manifest_path).map_err(|e| io_error("read", &manifest_path, e))?;
    parse_manifest(&bytes).map_err(|source| invalid(dir, source))
}

fn invalid(dir: &Path, source: crate::snapshot::SnapshotError) -> LoadSnapshotError {
    LoadSnapshotError::Invalid {
        path: dir.display().to_string(),
        source,
    }
}

/// Loads and verifies a snapshot (see [`resolve_snapshot_dir`] for what `path` may be).
pub fn load_snapshot(path: &Path) -> Result<EvidenceSnapshot, LoadSnapshotError> {
    let dir = resolve_snapshot_dir(path)?;
    let manifest = read_manifest(&dir)?;
    let invalid = |source| invalid(&dir, source);
    read_snapshot(manifest, |rel| {
        std::fs::File::open(dir.join(rel)).map_err(|e| e.to_string())
    })
    .map_err(invalid)
}

/// Writes a new snapshot directory: one [`SourceWriter`] per source, then
/// [`SnapshotWriter::finish`] writes the manifest with every file's hash and the id.
pub struct SnapshotWriter {
    dir: PathBuf,
    sources: Vec<SourceEntry>,
    files: Vec<FileEntry>,
    /// What the index needs of every entity line written so far.
    lines: Vec<IndexedLine>,
}

/// Metadata of one source's collection.
#[derive(Debug, Clone, Default)]
pub struct SourceMeta {
    pub name: String,
    pub kind: String,
    pub connector_version: String,
    pub started_at: String,
    pub provides: Vec<String>,
    /// Per entity type, the attributes the source can supply (the manifest's `attributes`);
    /// `None` leaves it to the engine to derive from the entities written. Extended by
    /// [`SourceWriter::declare_attributes`].
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
}

struct HashingFile {
    path: String,
    out: BufWriter<File>,
    hasher: Sha256,
    bytes: u64,
}

impl HashingFile {
    fn create(dir: &Path, rel: String) -> Result<Self, IoError> {
        let full = dir.join(&rel);
        let file = File::create(&full).map_err(|e| io_error("create", &full, e))?;
        Ok(Self {
            path: rel,
            out: BufWriter::new(file),
            hasher: Sha256::new(),
            bytes: 0,
        })
    }

    fn line(&mut self, dir: &Path, bytes: &[u8]) -> Result<(), IoError> {
        let full = || dir.join(&self.path);
        self.out
            .write_all(bytes)
            .map_err(|e| io_error("write", &full(), e))?;
        self.out
            .write_all(b"\n")
            .map_err(|e| io_error("write", &full(), e))?;
        self.hasher.update(bytes);
        self.hasher.update(b"\n");
        self.bytes += bytes.len() as u64 + 1;
        Ok(())
    }

    fn finish(mut self, dir: &Path) -> Result<FileEntry, IoError> {
        self.out
            .flush()
            .map_err(|e| io_error("write", &dir.join(&self.path), e))?;
        Ok(FileEntry {
            path: self.path,
            sha256: hex::encode(self.hasher.finalize()),
            bytes: self.bytes,
        })
    }
}

/// Writes one source's raw records and entities.
pub struct SourceWriter<'a> {
    snapshot: &'a mut SnapshotWriter,
    meta: SourceMeta,
    records: HashingFile,
    entities: HashingFile,
    record_count: u64,
    entity_counts: BTreeMap<String, u64>,
    lines: Vec<IndexedLine>,
    /// The entities given to [`SourceWriter::entity`], written in (type, id) order by
    /// [`SourceWriter::finish`]: (type index, id, line).
    pending: Vec<(usize, String, Vec<u8>)>,
    lost_types: Option<Vec<String>>,
    /// The source's name as entities share it, made once for every line indexed.
    source_name: crate::model::value::SourceName,
}

impl SnapshotWriter {
    /// Creates `dir` (which must not exist yet) with its `records/` and `entities/` folders.
    pub fn create(dir: &Path) -> Result<Self, IoError> {
        std::fs::create_dir_all(dir.join("records")).map_err(|e| io_error("create", dir, e))?;
        std::fs::create_dir_all(dir.join("entities")).map_err(|e| io_error("create", dir, e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            sources: Vec::new(),
            files: Vec::new(),
            lines: Vec::new(),
        })
    }

    pub fn source(&mut self, meta: SourceMeta) -> Result<SourceWriter<'_>, IoError> {
        let records = HashingFile::create(&self.dir, records_path(&meta.name))?;
        let entities = HashingFile::create(&self.dir, entities_path(&meta.name))?;
        Ok(SourceWriter {
            snapshot: self,
            source_name: meta.name.as_str().into(),
            meta,
            records,
            entities,
            record_count: 0,
            entity_counts: BTreeMap::new(),
            lines: Vec::new(),
            pending: Vec::new(),
            lost_types: None,
        })
    }

    /// Writes the index (`index/`) and `manifest.json`, and returns the manifest.
    pub fn finish(mut self, organization: &str, created_at: &str) -> Result<Manifest, IoError> {
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        let index = write_index(&self.dir, std::mem::take(&mut self.lines))?;
        let mut manifest = Manifest {
            format: FORMAT.to_string(),
            snapshot_id: String::new(),
            organization: organization.to_string(),
            created_at: created_at.to_string(),
            sources: self.sources,
            files: self.files,
            index: Some(index),
        };
        manifest.snapshot_id = compute_snapshot_id(&manifest);
        let path = self.dir.join("manifest.json");
        let mut text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| io_error("write", &path, e))?;
        Ok(manifest)
    }
}

impl SourceWriter<'_> {
    /// Appends one raw record (a single line: no newline inside) and returns its SHA-256.
    pub fn record(&mut self, raw: &[u8]) -> Result<String, IoError> {
        let dir = self.snapshot.dir.clone();
        self.records.line(&dir, raw)?;
        self.record_count += 1;
        Ok(crate::snapshot::sha256_hex(raw))
    }

    /// Adds one normalized entity. The source's entities are written when it finishes (or
    /// when lines are appended as they are, [`SourceWriter::raw_entity_lines`]), in the
    /// order the model sorts them in (by type, then id; of equal ones, the first given first),
    /// whatever order they came in: a collection writes the same file for the same entities,
    /// and reading it needs no reordering (see [`crate::snapshot::build_model`]).
    pub fn entity(&mut self, line: &EntityLine) -> Result<(), IoError> {
        let bytes = serde_json::to_vec(line).unwrap_or_default();
        // a type outside the model sorts last (its lines are reported when read)
        let ty = crate::model::entity_type_index(&line.entity_type).unwrap_or(usize::MAX);
        self.pending.push((ty, line.id.clone(), bytes));
        *self
            .entity_counts
            .entry(line.entity_type.clone())
            .or_default() += 1;
        Ok(())
    }

    /// Writes the entities [`SourceWriter::entity`] was given, in (type, id) order.
    fn write_pending(&mut self) -> Result<(), IoError> {
        let dir = self.snapshot.dir.clone();
        let mut pending = std::mem::take(&mut self.pending);
        // stable: of entities with the same (type, id), the first given stays first, and is
        // the one the model keeps
        pending.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        for (_, _, bytes) in pending {
            self.index_line(&String::from_utf8_lossy(&bytes));
            self.entities.line(&dir, &bytes)?;
        }
        Ok(())
    }

    /// Declares that this source supplies the attributes `names` of `entity_type`, written or
    /// not on a given entity (recorded sorted and once in the manifest's `attributes`).
    pub fn declare_attributes<'n>(
        &mut self,
        entity_type: &str,
        names: impl IntoIterator<Item = &'n str>,
    ) {
        let declared = self
            .meta
            .attributes
            .get_or_insert_with(BTreeMap::new)
            .entry(entity_type.to_string())
            .or_default();
        for name in names {
            if let Err(at) = declared.binary_search_by(|d| d.as_str().cmp(name)) {
                declared.insert(at, name.to_string());
            }
        }
    }

    /// Appends entity lines written by hand or by another tool, as they are (one per line;
    /// blank lines skipped), after the entities given to [`SourceWriter::entity`] before them
    /// (so that of equal ids the first given is still first). They are validated when the
    /// snapshot is read, not here, so a malformed line is kept and reported with its line
    /// number.
    pub fn raw_entity_lines(&mut self, text: &str) -> Result<(), IoError> {
        self.write_pending()?;
        let dir = self.snapshot.dir.clone();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            self.index_line(line);
            self.entities.line(&dir, line.as_bytes())?;
            let ty = serde_json::from_str::<serde_json::Value>(line)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_string))
                .unwrap_or_else(|| "unreadable".to_string());
            *self.entity_counts.entry(ty).or_default() += 1;
        }
        Ok(())
    }

    /// Notes where the next entity line goes and what it holds, for the index.
    fn index_line(&mut self, text: &str) {
        let pos = self.snapshot.sources.len();
        let line = self.lines.len() + 1;
        self.lines.push(index_line(
            text,
            pos,
            &self.source_name,
            line,
            self.entities.bytes,
        ));
    }

    /// Records that the source (partial) lost records of these entity types only; see
    /// [`SourceEntry::lost_types`].
    pub fn lost_types(&mut self, types: Vec<String>) {
        self.lost_types = Some(types);
    }

    /// Closes the source's files and records its status.
    pub fn finish(
        mut self,
        status: SourceStatus,
        error: Option<String>,
        finished_at: &str,
    ) -> Result<(), IoError> {
        self.write_pending()?;
        let dir = self.snapshot.dir.clone();
        let records = self.records.finish(&dir)?;
        let entities = self.entities.finish(&dir)?;
        self.snapshot.files.push(records);
        self.snapshot.files.push(entities);
        self.snapshot.lines.extend(self.lines);
        self.snapshot.sources.push(SourceEntry {
            name: self.meta.name,
            kind: self.meta.kind,
            connector_version: self.meta.connector_version,
            status,
            error,
            started_at: self.meta.started_at,
            finished_at: finished_at.to_string(),
            provides: self.meta.provides,
            attributes: self.meta.attributes,
            records: self.record_count,
            entities: self.entity_counts,
            attributes_from_data: None,
            lost_types: self.lost_types,
        });
        Ok(())
    }
}

/// The raw record of `source` whose line hashes to `sha256`, with its 1-based line number.
pub fn find_record(
    snapshot_dir: &Path,
    source: &str,
    sha256: &str,
) -> Result<Option<(usize, String)>, IoError> {
    let path = snapshot_dir.join(records_path(source));
    let text = std::fs::read_to_string(&path).map_err(|e| io_error("read", &path, e))?;
    Ok(text
        .lines()
        .enumerate()
        .find(|(_, l)| crate::snapshot::sha256_hex(l.as_bytes()) == sha256)
        .map(|(n, l)| (n + 1, l.to_string())))
}
