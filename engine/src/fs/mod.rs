//! The engine's one edge with the file system: reading policy packs and snapshots from disk,
//! and writing snapshots. Everything else in the engine is pure and works on what these
//! functions return.

mod gate_evidence;
mod pack;
mod snapshot;
mod snapshot_index;

pub use pack::{load_catalogs, load_pack};
pub use snapshot::{
    find_record, load_snapshot, resolve_snapshot_dir, LoadSnapshotError, SnapshotWriter,
    SourceMeta, SourceWriter,
};
pub use snapshot_index::{open_indexed, IndexReads, IndexedSnapshot, OpenedSnapshot};

/// An I/O failure, with the path it concerns.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} `{path}`: {source}")]
pub struct IoError {
    pub action: &'static str,
    pub path: String,
    #[source]
    pub source: std::io::Error,
}

pub(crate) fn io_error(
    action: &'static str,
    path: &std::path::Path,
    source: std::io::Error,
) -> IoError {
    IoError {
        action,
        path: path.display().to_string(),
        source,
    }
}
