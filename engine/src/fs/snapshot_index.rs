//! The snapshot index on disk: writing it with a snapshot, and reading a few entities through
//! it with every byte read verified (format in `crate::snapshot::index`).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::snapshot::{resolve_snapshot_dir, LoadSnapshotError};
use super::{io_error, IoError};
use crate::model::value::parse_entity_line;
use crate::model::{EvidenceEntity, ENTITY_TYPES};
use crate::snapshot::index::{
    build_index, chunks_for, line_ranges, rows_with_prefix, ChunkRef, EntityRow, IndexError,
    IndexRef, IndexedLine, Keyed, LookupRow, RefRow, SnapshotIndex, Tables, CHUNK_ROWS,
    INDEX_FORMAT, INDEX_PATH,
};
use crate::snapshot::{entities_path, inverse_declarations, sha256_hex, Manifest};
use crate::time::parse_rfc3339;

fn write_table<R: Serialize + Keyed>(
    dir: &Path,
    name: &str,
    rows: &[R],
) -> Result<Vec<ChunkRef>, IoError> {
    let mut out = Vec::new();
    for (n, chunk) in rows.chunks(CHUNK_ROWS).enumerate() {
        let mut bytes = Vec::new();
        for r in chunk {
            bytes.extend(serde_json::to_vec(r).unwrap_or_default());
            bytes.push(b'\n');
        }
        let path = format!("index/{name}-{n:06}.jsonl");
        let full = dir.join(&path);
        std::fs::write(&full, &bytes).map_err(|e| io_error("write", &full, e))?;
        out.push(ChunkRef {
            path,
            sha256: sha256_hex(&bytes),
            rows: chunk.len(),
            first: chunk.first().map(Keyed::key).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Writes `index/` for the entity lines written, and returns the manifest's entry for it.
pub(crate) fn write_index(dir: &Path, lines: Vec<IndexedLine>) -> Result<IndexRef, IoError> {
    let index_dir = dir.join("index");
    std::fs::create_dir_all(&index_dir).map_err(|e| io_error("create", &index_dir, e))?;
    let built = build_index(lines);
    let index = SnapshotIndex {
        format: INDEX_FORMAT.to_string(),
        chunk_rows: CHUNK_ROWS,
        counts: built.counts,
        unreadable: built.unreadable,
        attributes_carried: built.attributes_carried,
        tables: Tables {
            entities: write_table(dir, "entities", &built.entities)?,
            refs: write_table(dir, "refs", &built.refs)?,
            lookup: write_table(dir, "lookup", &built.lookup)?,
        },
    };
    let mut bytes = serde_json::to_vec(&index).unwrap_or_default();
    bytes.push(b'\n');
    let full = dir.join(INDEX_PATH);
    std::fs::write(&full, &bytes).map_err(|e| io_error("write", &full, e))?;
    Ok(IndexRef {
        path: INDEX_PATH.to_string(),
        sha256: sha256_hex(&bytes),
        bytes: bytes.len() as u64,
    })
}

/// A chunk's bytes, verified, and its line ranges.
type VerifiedChunk = (Vec<u8>, Vec<(usize, usize)>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Table {
    Entities,
    Refs,
    Lookup,
}

/// What an indexed read cost: how much was read and verified.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IndexReads {
    pub chunks: usize,
    pub chunk_bytes: u64,
    pub lines: usize,
    pub line_bytes: u64,
}

/// An open snapshot read through its index: the manifest and `index/index.json` are read and
/// verified once; chunks and entity lines are read on demand, each verified against its
/// hash, and kept. Entities come with their inverse attributes filled from the index.
pub struct IndexedSnapshot {
    dir: PathBuf,
    manifest: Manifest,
    index: SnapshotIndex,
    /// entity file -> (source, collection instant)
    sources: HashMap<String, (String, i64)>,
    chunks: HashMap<(Table, usize), VerifiedChunk>,
    files: HashMap<String, File>,
    found: HashMap<(usize, String), Option<usize>>,
    entities: Vec<EvidenceEntity>,
    reads: IndexReads,
}

/// A snapshot directory opened for the gate: through its index, or, for a snapshot written
/// without one, just its manifest (the caller loads it whole).
pub enum OpenedSnapshot {
    Indexed(Box<IndexedSnapshot>),
    Unindexed(PathBuf),
}

/// Opens a snapshot (see [`resolve_snapshot_dir`] for what `path` may be) through its index
/// when it has one: reads and verifies the manifest and `index/index.json` only.
pub fn open_indexed(path: &Path) -> Result<OpenedSnapshot, LoadSnapshotError> {
    let dir = resolve_snapshot_dir(path)?;
    let manifest = super::snapshot::read_manifest(&dir)?;
    let Some(entry) = manifest.index.clone() else {
        return Ok(OpenedSnapshot::Unindexed(dir));
    };
    let index_err = |source| LoadSnapshotError::Index {
        path: dir.display().to_string(),
        source: Box::new(source),
    };
    if entry.path != INDEX_PATH {
        return Err(index_err(IndexError::Malformed {
            path: "manifest.json".into(),
            error: format!("the index must be `{INDEX_PATH}`, not `{}`", entry.path),
        }));
    }
    let full = dir.join(&entry.path);
    let bytes = std::fs::read(&full).map_err(|e| {
        index_err(IndexError::Read {
            path: entry.path.clone(),
            error: e.to_string(),
        })
    })?;
    let actual = sha256_hex(&bytes);
    if actual != entry.sha256 {
        return Err(index_err(IndexError::ChunkHash {
            path: entry.path.clone(),
            expected: entry.sha256.clone(),
            actual,
        }));
    }
    let index: SnapshotIndex = serde_json::from_slice(&bytes).map_err(|e| {
        index_err(IndexError::Malformed {
            path: entry.path.clone(),
            error: e.to_string(),
        })
    })?;
    if index.format != INDEX_FORMAT {
        return Err(index_err(IndexError::Malformed {
            path: entry.path.clone(),
            error: format!("unsupported index format `{}`", index.format),
        }));
    }
    // As a full load does: a source that declares no attributes is judged by what its
    // entities carry, which the index recorded when it was written.
    let mut manifest = manifest;
    for s in manifest.sources.iter_mut() {
        if s.attributes.is_none() {
            s.attributes_from_data = Some(
                index
                    .attributes_carried
                    .get(&s.name)
                    .cloned()
                    .unwrap_or_default(),
            );
        }
    }
    let sources = manifest
        .sources
        .iter()
        .map(|s| {
            (
                entities_path(&s.name),
                (
                    s.name.clone(),
                    parse_rfc3339(&s.finished_at).unwrap_or_default(),
                ),
            )
        })
        .collect();
    Ok(OpenedSnapshot::Indexed(Box::new(IndexedSnapshot {
        dir,
        manifest,
        index,
        sources,
        chunks: HashMap::new(),
        files: HashMap::new(),
        found: HashMap::new(),
        entities: Vec::new(),
        reads: IndexReads::default(),
    })))
}

impl IndexedSnapshot {
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    pub fn index(&self) -> &SnapshotIndex {
        &self.index
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What was read and verified so far.
    pub fn reads(&self) -> IndexReads {
        self.reads
    }

    /// An entity found earlier by [`Self::find`].
    pub fn entity(&self, h: usize) -> &EvidenceEntity {
        &self.entities[h]
    }

    fn chunk_refs(&self, table: Table) -> &[ChunkRef] {
        match table {
            Table::Entities => &self.index.tables.entities,
            Table::Refs => &self.index.tables.refs,
            Table::Lookup => &self.index.tables.lookup,
        }
    }

    fn load_chunk(&mut self, table: Table, n: usize) -> Result<(), IndexError> {
        if self.chunks.contains_key(&(table, n)) {
            return Ok(());
        }
        let Some(c) = self.chunk_refs(table).get(n).cloned() else {
            return Ok(());
        };
        if !c.path.starts_with("index/") || c.path.contains("..") {
            return Err(IndexError::Malformed {
                path: INDEX_PATH.to_string(),
                error: format!("chunk path `{}` is outside `index/`", c.path),
            });
        }
        let bytes = std::fs::read(self.dir.join(&c.path)).map_err(|e| IndexError::Read {
            path: c.path.clone(),
            error: e.to_string(),
        })?;
        let actual = sha256_hex(&bytes);
        if actual != c.sha256 {
            return Err(IndexError::ChunkHash {
                path: c.path,
                expected: c.sha256,
                actual,
            });
        }
        self.reads.chunks += 1;
        self.reads.chunk_bytes += bytes.len() as u64;
        let lines = line_ranges(&bytes);
        self.chunks.insert((table, n), (bytes, lines));
        Ok(())
    }

    /// The rows of `table` whose key starts with `prefix`.
    fn rows<R: for<'de> serde::Deserialize<'de> + Keyed>(
        &mut self,
        table: Table,
        prefix: &[&str],
    ) -> Result<Vec<R>, IndexError> {
        let mut out = Vec::new();
        for n in chunks_for(self.chunk_refs(table), prefix) {
            self.load_chunk(table, n)?;
            let path = self.chunk_refs(table)[n].path.clone();
            if let Some((bytes, lines)) = self.chunks.get(&(table, n)) {
                let rows = rows_with_prefix::<R>(bytes, lines, prefix)
                    .map_err(|error| IndexError::Malformed { path, error })?;
                out.extend(rows);
            }
        }
        Ok(out)
    }

    /// Where entity (`entity_type`, `id`) is, if the snapshot holds it.
    pub fn entity_row(
        &mut self,
        entity_type: &str,
        id: &str,
    ) -> Result<Option<EntityRow>, IndexError> {
        Ok(self
            .rows::<EntityRow>(Table::Entities, &[entity_type, id])?
            .into_iter()
            .next())
    }

    /// The references to entity (`entity_type`, `id`).
    pub fn refs_to(&mut self, entity_type: &str, id: &str) -> Result<Vec<RefRow>, IndexError> {
        self.rows(Table::Refs, &[entity_type, id])
    }

    /// The ids of the entities of `entity_type` whose `field` is `value`, in id order.
    pub fn lookup(
        &mut self,
        entity_type: &str,
        field: &str,
        value: &str,
    ) -> Result<Vec<String>, IndexError> {
        Ok(self
            .rows::<LookupRow>(Table::Lookup, &[entity_type, field, value])?
            .into_iter()
            .map(|r| r.3)
            .collect())
    }

    /// Reads the line of `row`, checks its hash and parses it as a full load would.
    fn read_entity(&mut self, row: &EntityRow) -> Result<EvidenceEntity, IndexError> {
        let EntityRow(ty, id, file, offset, len, sha) = row;
        let read_err = |error: String| IndexError::Read {
            path: file.clone(),
            error,
        };
        let stale = |error: String| IndexError::Stale {
            entity_type: ty.clone(),
            id: id.clone(),
            file: file.clone(),
            error,
        };
        // only the entity files of the manifest's sources are ever opened
        let (source, at) = self
            .sources
            .get(file)
            .cloned()
            .ok_or_else(|| stale("no source of the manifest writes this file".into()))?;
        if !self.files.contains_key(file) {
            let f = File::open(self.dir.join(file)).map_err(|e| read_err(e.to_string()))?;
            self.files.insert(file.clone(), f);
        }
        // a row is checked against the file before its bytes are allocated: a damaged index
        // cannot make the gate allocate what the file does not hold
        let size = match self.files.get(file) {
            Some(f) => f.metadata().map_err(|e| read_err(e.to_string()))?.len(),
            None => 0,
        };
        let end = offset.checked_add(*len).filter(|end| *end <= size);
        let (Some(_), Ok(len_bytes)) = (end, usize::try_from(*len)) else {
            return Err(stale(format!(
                "its row points at {len} bytes from offset {offset}, past the end of the \
                 {size}-byte file"
            )));
        };
        let mut buf = vec![0u8; len_bytes];
        if let Some(f) = self.files.get_mut(file) {
            f.seek(SeekFrom::Start(*offset))
                .and_then(|_| f.read_exact(&mut buf))
                .map_err(|e| read_err(e.to_string()))?;
        }
        let actual = sha256_hex(&buf);
        if actual != *sha {
            return Err(IndexError::LineHash {
                entity: format!("{ty} `{id}`"),
                file: file.clone(),
                bytes: format!("{offset}..{}", offset.saturating_add(*len)),
                expected: sha.clone(),
                actual,
            });
        }
        self.reads.lines += 1;
        self.reads.line_bytes += *len;
        let text = String::from_utf8_lossy(&buf);
        let e = parse_entity_line(
            &text,
            &crate::model::value::SourceName::from(source.as_str()),
            at,
        )
        .map_err(|err| stale(err.to_string()))?;
        if e.type_name() != ty || e.id() != *id {
            return Err(stale(format!(
                "the line holds {} `{}`",
                e.type_name(),
                e.id()
            )));
        }
        Ok(e)
    }

    /// Finds entity (`type_index`, `id`): reads and verifies its line and fills its inverse
    /// attributes from the references to it, as a full load derives them.
    pub fn find(&mut self, type_index: usize, id: &str) -> Result<Option<usize>, IndexError> {
        let key = (type_index, id.to_string());
        if let Some(h) = self.found.get(&key) {
            return Ok(*h);
        }
        let Some(def) = ENTITY_TYPES.get(type_index) else {
            return Ok(None);
        };
        let found = match self.entity_row(def.name, id)? {
            None => None,
            Some(row) => {
                let mut e = self.read_entity(&row)?;
                let inverse: Vec<(usize, usize, usize)> = inverse_declarations()
                    .into_iter()
                    .filter(|(_, (t, _))| *t == type_index)
                    .map(|((of, via), (_, inv))| (of, via, inv))
                    .collect();
                if !inverse.is_empty() {
                    let refs = self.refs_to(def.name, id)?;
                    for (of, via, inv) in inverse {
                        let (of_name, via_name) =
                            (ENTITY_TYPES[of].name, ENTITY_TYPES[of].attrs[via].name);
                        let mut ids: Vec<&str> = refs
                            .iter()
                            .filter(|r| r.2 == of_name && r.4 == via_name)
                            .map(|r| r.3.as_str())
                            .collect();
                        ids.sort_unstable();
                        ids.dedup();
                        e.attrs.insert_set(inv, &ids).map_err(|_| {
                            IndexError::TooManyReferrers {
                                entity_type: def.name.to_string(),
                                id: id.to_string(),
                            }
                        })?;
                    }
                }
                self.entities.push(e);
                Some(self.entities.len() - 1)
            }
        };
        self.found.insert(key, found);
        Ok(found)
    }
}
