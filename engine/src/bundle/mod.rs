//! Audit bundles: one archive a certification body can verify and reproduce.
//!
//! ```text
//! bundle-manifest.json              every other file's SHA-256 and size; signed
//! bundle-manifest.sig               ed25519 signature of bundle-manifest.json (hex)
//! run.json                          the instant, the parameters, the pack and snapshot ids,
//!                                   the SoA decisions: everything needed to re-run
//! findings/assessment.json          the assessment (docs/findings.md)
//! findings/oscal-assessment-results.json, findings/findings.csv, findings/report.html
//! findings/soa.csv                  the Statement of Applicability
//! pack/…                            the policy pack's files and its catalogs
//! snapshot/…                        the evidence snapshot (or, minimal, the cited records)
//! ```
//!
//! Building and verifying are pure: they take and return bytes. The CLI reads and writes the
//! files. See `docs/bundle.md`.

pub mod archive;
pub mod keys;
mod reproduce;

use std::collections::{BTreeMap, BTreeSet};

pub use ed25519_dalek::{SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::assessment::Assessment;
use crate::pack::{PackFiles, PolicyPack};
use crate::printer::soa::soa_csv;
use crate::printer::{CsvPrinter, HtmlPrinter, JsonPrinter, OscalPrinter, Printer};
use crate::snapshot::sha256_hex;
use crate::soa::Applicability;

pub use reproduce::verify;

pub const FORMAT: &str = "conform-bundle/1";
pub const MANIFEST: &str = "bundle-manifest.json";
pub const SIGNATURE: &str = "bundle-manifest.sig";
pub const RUN: &str = "run.json";
pub const FINDINGS_JSON: &str = "findings/assessment.json";

/// Why a bundle could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    #[error("unsafe path `{path}` in the archive: {why}")]
    UnsafePath { path: String, why: String },
    #[error("not a readable tar archive: {0}")]
    Archive(String),
    #[error("{0}")]
    Key(String),
    #[error("cannot render `{file}`: {error}")]
    Render { file: String, error: String },
    #[error("invalid `[soa]` decisions: {0}")]
    Soa(String),
    #[error("pack file `{0}` is outside the pack and is not a catalog")]
    PackFile(String),
}

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleFile {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

/// `bundle-manifest.json`: what the bundle holds, signed as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    pub format: String,
    pub organization: String,
    pub assessed_at: String,
    pub pack: PackRecord,
    pub snapshot: String,
    /// `full`, or `minimal` (only the records the findings cite).
    pub evidence: String,
    /// The hex public key whose signature is in `bundle-manifest.sig`, if signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<String>,
    pub files: Vec<BundleFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackRecord {
    pub name: String,
    pub version: String,
    pub digest: String,
}

/// `run.json`: how the assessment was run, so that it can be run again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    pub format: String,
    pub conform_version: String,
    pub assessed_at: String,
    /// The instant, seconds since the Unix epoch.
    pub at: i64,
    /// The resolved parameter values, as a user writes them.
    pub parameters: BTreeMap<String, serde_json::Value>,
    pub pack: PackRecord,
    /// Where the pack's catalogs were, relative to the pack (part of the pack digest).
    pub catalog_dir: String,
    pub snapshot: SnapshotRecord,
    pub applicability: ApplicabilityRecord,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotRecord {
    pub id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicabilityRecord {
    pub excluded: BTreeMap<String, String>,
    pub included: BTreeMap<String, String>,
}

pub const RUN_FORMAT: &str = "conform-bundle-run/1";

/// What goes into a bundle.
pub struct Contents<'a> {
    pub pack: &'a PolicyPack,
    pub pack_files: &'a PackFiles,
    pub assessment: &'a Assessment,
    pub at: i64,
    pub applicability: &'a Applicability,
    /// The snapshot's files by path inside the snapshot (`manifest.json`, `entities/…`,
    /// `records/…`).
    pub snapshot_files: BTreeMap<String, Vec<u8>>,
    /// Only the records the findings cite (plus the manifest and the entity files).
    pub minimal: bool,
}

fn render(p: &dyn Printer, a: &Assessment, file: &str) -> Result<Vec<u8>, BundleError> {
    let mut out = Vec::new();
    p.print(a, &mut out).map_err(|e| BundleError::Render {
        file: file.into(),
        error: e.to_string(),
    })?;
    Ok(out)
}

/// The report files of an assessment, as the bundle holds them.
pub fn reports(
    pack: &PolicyPack,
    a: &Assessment,
    applicability: &Applicability,
) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut out = BTreeMap::new();
    for (file, printer) in [
        (FINDINGS_JSON, &JsonPrinter as &dyn Printer),
        ("findings/oscal-assessment-results.json", &OscalPrinter),
        ("findings/findings.csv", &CsvPrinter),
        ("findings/report.html", &HtmlPrinter),
    ] {
        out.insert(file.to_string(), render(printer, a, file)?);
    }
    let soa = crate::soa::statement(pack, a, applicability)
        .map_err(|errs| BundleError::Soa(errs.join("; ")))?;
    let mut csv = Vec::new();
    soa_csv(&soa, &mut csv).map_err(|e| BundleError::Render {
        file: "findings/soa.csv".into(),
        error: e.to_string(),
    })?;
    out.insert("findings/soa.csv".into(), csv);
    Ok(out)
}

/// The catalog directory recorded for a pack: the directory part of its catalog index path.
fn catalog_dir(files: &PackFiles) -> String {
    let (index, _) = &files.catalogs_index;
    index
        .rsplit_once('/')
        .map_or_else(String::new, |(d, _)| d.to_string())
}

/// The pack's files under `pack/`, catalogs under `pack/catalogs/`.
fn pack_entries(files: &PackFiles) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut out = BTreeMap::new();
    out.insert(
        format!("pack/{}", crate::pack::MANIFEST_FILE),
        files.manifest.as_bytes().to_vec(),
    );
    if let Some(f) = &files.facts {
        out.insert(
            format!("pack/{}", crate::pack::FACTS_FILE),
            f.as_bytes().to_vec(),
        );
    }
    for (p, t) in files.rules.iter().chain(&files.tests) {
        if p.starts_with("catalogs/") || archive::check_path(p).is_err() {
            return Err(BundleError::PackFile(p.clone()));
        }
        out.insert(format!("pack/{p}"), t.as_bytes().to_vec());
    }
    let (index, text) = &files.catalogs_index;
    for (p, t) in
        std::iter::once((index, text)).chain(files.catalog_files.iter().map(|(p, t)| (p, t)))
    {
        let name = p.rsplit('/').next().unwrap_or(p);
        out.insert(format!("pack/catalogs/{name}"), t.as_bytes().to_vec());
    }
    Ok(out)
}

/// The lines of a records file whose SHA-256 is in `cited`, each with its newline.
pub fn cited_lines(records: &[u8], cited: &BTreeSet<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in records.split(|b| *b == b'\n') {
        if !line.is_empty() && cited.contains(sha256_hex(line).as_str()) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// Every file of the bundle except the manifest and the signature.
pub fn assemble(c: &Contents) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let a = c.assessment;
    let mut files = reports(c.pack, a, c.applicability)?;
    files.extend(pack_entries(c.pack_files)?);
    let cited: BTreeSet<&str> = a
        .findings
        .iter()
        .map(|f| f.evidence.record_sha256.as_str())
        .collect();
    for (path, bytes) in &c.snapshot_files {
        archive::check_path(path)?;
        let keep = if c.minimal && path.starts_with("records/") {
            cited_lines(bytes, &cited)
        } else {
            bytes.clone()
        };
        files.insert(format!("snapshot/{path}"), keep);
    }
    let evidence = if c.minimal { "minimal" } else { "full" };
    let run = RunRecord {
        format: RUN_FORMAT.into(),
        conform_version: env!("CARGO_PKG_VERSION").into(),
        assessed_at: a.assessed_at.clone(),
        at: c.at,
        parameters: a.parameters.clone(),
        pack: PackRecord {
            name: a.pack.name.clone(),
            version: a.pack.version.clone(),
            digest: a.pack.digest.clone(),
        },
        catalog_dir: catalog_dir(c.pack_files),
        snapshot: SnapshotRecord {
            id: a.snapshot.id.clone(),
            created_at: a.snapshot.created_at.clone(),
        },
        applicability: ApplicabilityRecord {
            excluded: c.applicability.excluded.clone(),
            included: c.applicability.included.clone(),
        },
        evidence: evidence.into(),
    };
    files.insert(RUN.into(), pretty(&run));
    Ok(files)
}

fn pretty<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The manifest of `files` and its bytes, signed with `key` when given.
pub fn manifest_for(
    files: &BTreeMap<String, Vec<u8>>,
    a: &Assessment,
    evidence: &str,
    key: Option<&SigningKey>,
) -> BundleManifest {
    BundleManifest {
        format: FORMAT.into(),
        organization: a.organization.clone(),
        assessed_at: a.assessed_at.clone(),
        pack: PackRecord {
            name: a.pack.name.clone(),
            version: a.pack.version.clone(),
            digest: a.pack.digest.clone(),
        },
        snapshot: a.snapshot.id.clone(),
        evidence: evidence.into(),
        signer: key.map(|k| keys::key_hex(&k.verifying_key())),
        files: files
            .iter()
            .map(|(path, b)| BundleFile {
                path: path.clone(),
                sha256: sha256_hex(b),
                bytes: b.len() as u64,
            })
            .collect(),
    }
}

/// Adds the manifest of `files` (and its signature, with a key) and archives everything.
pub fn seal(
    mut files: BTreeMap<String, Vec<u8>>,
    manifest: &BundleManifest,
    key: Option<&SigningKey>,
) -> Result<Vec<u8>, BundleError> {
    let bytes = pretty(manifest);
    if let Some(k) = key {
        let mut sig = keys::sign(k, &bytes);
        sig.push('\n');
        files.insert(SIGNATURE.into(), sig.into_bytes());
    }
    files.insert(MANIFEST.into(), bytes);
    archive::write(&files)
}

/// Builds the whole bundle: reports, pack, evidence, run record, manifest, signature.
pub fn build(c: &Contents, key: Option<&SigningKey>) -> Result<Vec<u8>, BundleError> {
    let files = assemble(c)?;
    let manifest = manifest_for(
        &files,
        c.assessment,
        if c.minimal { "minimal" } else { "full" },
        key,
    );
    seal(files, &manifest, key)
}

/// How the signature was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureCheck {
    /// Verified with the public key the verifier gave.
    Pinned(String),
    /// Verified with the key recorded in the manifest only: integrity, not authorship.
    Embedded(String),
    /// The bundle is not signed.
    Unsigned,
}

/// A bundle that verified.
#[derive(Debug, Clone)]
pub struct Verified {
    pub manifest: BundleManifest,
    pub signature: SignatureCheck,
    pub findings: usize,
    pub cited_records: usize,
    /// The report files the re-run reproduced byte for byte.
    pub identical: Vec<String>,
}

/// Why a bundle did not verify: the stage that failed and every problem found in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{stage}: {}", problems.join("; "))]
pub struct VerifyFailure {
    pub stage: &'static str,
    pub problems: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cited_lines_keep_only_cited_records() {
        let a = b"{\"id\":1}";
        let b = b"{\"id\":2}";
        let text = [a.as_slice(), b"\n", b.as_slice(), b"\n"].concat();
        let sha = sha256_hex(b);
        let cited: BTreeSet<&str> = [sha.as_str()].into_iter().collect();
        assert_eq!(cited_lines(&text, &cited), [b.as_slice(), b"\n"].concat());
    }
}
