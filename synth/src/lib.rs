//! `conform-synth`: deterministic synthetic evidence for conform.
//!
//! Generates a realistic organisation — Northwind Services Ltd, a fictional managed-service
//! provider — from a seed and writes it as an ordinary evidence snapshot with
//! [`conform_engine::fs::SnapshotWriter`]: every entity is normalized from one raw record in
//! its vendor's wire shape (Okta, AWS IAM credential report, ServiceNow, Jira, restic, borg,
//! CSV registers). A fixed set of nonconformities and near misses is planted; everything else
//! is clean. [`write_demo`] writes the bundled demo organisation (one unit);
//! [`write_org`] writes a scaled organisation of many identically distributed units.
//!
//! Output is a pure function of the arguments: no wall clock, no hash-map iteration order,
//! and randomness from ChaCha8 streams with value-stable sampling ([`rng`]).

pub mod aws;
pub mod backup;
pub mod clock;
pub mod cmdb;
mod cmdb_wire;
pub mod ent;
pub mod exports;
pub mod grc;
pub mod iam;
mod iam_wire;
pub mod itsm;
pub mod names;
pub mod org;
pub mod rng;
pub mod staff;
pub mod tickets;
mod tickets_wire;
pub mod unit;

use std::path::Path;

use conform_engine::fs::{IoError, SnapshotWriter, SourceMeta};
use conform_engine::snapshot::{Manifest, SourceStatus};

pub use ent::Counts;
pub use unit::{Expect, Plant};

/// The seed of the bundled demo organisation.
pub const DEMO_SEED: u64 = 27_001;

/// The error of the failed `vendor-portal` source.
pub const VENDOR_PORTAL_ERROR: &str = "HTTP 503 from vendor portal export after 5 attempts";

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("cannot {action} `{path}`: {source}")]
    Fs {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialize a record: {0}")]
    Json(#[from] serde_json::Error),
    #[error("internal error: nothing to choose from for `{0}`")]
    EmptyPool(&'static str),
    #[error("`{0}` exists and is not an empty directory or a snapshot (use --force to replace a snapshot)")]
    OutputExists(String),
}

/// (name, kind, connector version, provides)
pub const SOURCES: &[(&str, &str, &[&str])] = &[
    ("okta-prod", "okta", &["Identity", "Group"]),
    (
        "aws-iam",
        "aws-credential-report",
        &["Identity", "Credential"],
    ),
    ("servicenow-cmdb", "servicenow", &["Asset", "Service"]),
    ("jira-itsm", "jira", &["Ticket", "RestoreTest"]),
    ("restic-backups", "restic", &["BackupJob", "BackupRun"]),
    ("borg-backups", "borg", &["BackupJob", "BackupRun"]),
    (
        "org-register",
        "csv",
        &["Organization", "Supplier", "Document", "Risk"],
    ),
];

/// What was written.
#[derive(Debug, Clone)]
pub struct Summary {
    pub manifest: Manifest,
    pub units: usize,
    /// Readable entities written, by type.
    pub counts: Counts,
    /// Entity lines written malformed on purpose.
    pub malformed: u64,
    pub plants: Vec<Plant>,
}

fn meta(name: &str, kind: &str, provides: &[&str]) -> SourceMeta {
    SourceMeta {
        name: name.to_string(),
        kind: kind.to_string(),
        connector_version: format!("conform-synth/{}", env!("CARGO_PKG_VERSION")),
        started_at: clock::rfc3339(clock::STARTED),
        provides: provides.iter().map(|s| s.to_string()).collect(),
        // declared entity by entity as the generators write them (`Ent::declare_on`)
        attributes: Some(Default::default()),
    }
}

/// Makes sure `out` can receive a new snapshot: absent, empty, or (with `force`) a snapshot
/// whose files are removed first.
fn prepare(out: &Path, force: bool) -> Result<(), SynthError> {
    let fs_err = |action, source| SynthError::Fs {
        action,
        path: out.display().to_string(),
        source,
    };
    if !out.exists() {
        return Ok(());
    }
    let entries: Vec<std::ffi::OsString> = std::fs::read_dir(out)
        .map_err(|e| fs_err("read directory", e))?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let snapshot_only = entries.iter().all(|n| {
        matches!(
            n.to_str(),
            Some("manifest.json" | "records" | "entities" | "index")
        )
    });
    if !(force && snapshot_only && out.join("manifest.json").is_file()) {
        return Err(SynthError::OutputExists(out.display().to_string()));
    }
    for dir in ["records", "entities", "index"] {
        let p = out.join(dir);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|e| fs_err("remove", e))?;
        }
    }
    std::fs::remove_file(out.join("manifest.json")).map_err(|e| fs_err("remove", e))?;
    Ok(())
}

/// Writes an organisation of `units` units generated from `seed` as a snapshot in `out`.
pub fn write_snapshot(
    out: &Path,
    seed: u64,
    units: usize,
    force: bool,
) -> Result<Summary, SynthError> {
    prepare(out, force)?;
    let units = units.max(1);
    let finished = clock::rfc3339(clock::NOW);
    let mut w = SnapshotWriter::create(out)?;
    let mut counts = Counts::default();
    let mut plants = Vec::new();
    let mut malformed = 0;
    for (n, (name, kind, provides)) in SOURCES.iter().enumerate() {
        let mut src = w.source(meta(name, kind, provides))?;
        for k in 0..units {
            let mut u = unit::generate(seed, k)?;
            if n == 0 {
                plants.append(&mut u.plants);
            }
            match *name {
                "okta-prod" => iam_wire::write_okta(&mut src, &mut counts, &u.iam)?,
                "aws-iam" => iam_wire::write_aws(&mut src, &mut counts, &u.iam)?,
                "servicenow-cmdb" => {
                    cmdb_wire::write(&mut src, &mut counts, &u.ns, &u.iam, &u.cmdb)?
                }
                "jira-itsm" => tickets_wire::write(
                    &mut src,
                    &mut counts,
                    &u.iam,
                    &u.cmdb,
                    &u.backups,
                    &u.tickets,
                )?,
                "restic-backups" => backup::write(
                    &mut src,
                    &mut counts,
                    backup::Tool::Restic,
                    &u.cmdb,
                    &u.backups,
                )?,
                "borg-backups" => backup::write(
                    &mut src,
                    &mut counts,
                    backup::Tool::Borg,
                    &u.cmdb,
                    &u.backups,
                )?,
                _ => malformed += org::write(&mut src, &mut counts, &u.ns, &u.iam, &u.register)?,
            }
        }
        src.finish(SourceStatus::Ok, None, &finished)?;
    }
    let vendor = w.source(meta("vendor-portal", "csv", &["Supplier"]))?;
    vendor.finish(
        SourceStatus::Failed,
        Some(VENDOR_PORTAL_ERROR.to_string()),
        &finished,
    )?;
    let manifest = w.finish(org::ORG_NAME, &finished)?;
    Ok(Summary {
        manifest,
        units,
        counts,
        malformed,
        plants,
    })
}

/// Writes the bundled demo organisation.
pub fn write_demo(out: &Path, force: bool) -> Result<Summary, SynthError> {
    write_snapshot(out, DEMO_SEED, 1, force)
}

/// How many units make about `entities` entities.
pub fn units_for(entities: u64, seed: u64) -> Result<usize, SynthError> {
    let per_unit = unit::generate(seed, 1)?.entity_count().max(1);
    Ok(((entities + per_unit / 2) / per_unit).max(1) as usize)
}

/// The generation of [`write_org`]'s output: raised whenever the same `entities` and seed
/// write different bytes (a generator or snapshot writer change), so that a tool keeping
/// organisations to reuse (`conform-bench`) does not measure a stale one. 2: entity files
/// written in (type, id) order.
pub const ORG_GENERATION: u32 = 2;

/// Writes a scaled organisation of about `entities` entities.
pub fn write_org(out: &Path, entities: u64, seed: u64, force: bool) -> Result<Summary, SynthError> {
    write_snapshot(out, seed, units_for(entities, seed)?, force)
}
