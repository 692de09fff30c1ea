//! Verifying a bundle: the signature, every file's hash, the evidence against its own
//! snapshot manifest, the pack against its digest, and a re-run of the assessment from the
//! bundled pack and evidence at the recorded instant, whose outputs must be identical.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::{
    archive, keys, BundleManifest, RunRecord, SignatureCheck, Verified, VerifyFailure,
    FINDINGS_JSON, FORMAT, MANIFEST, RUN, RUN_FORMAT, SIGNATURE,
};
use crate::pack::{params, PackFiles, PolicyPack};
use crate::snapshot::{parse_manifest, read_snapshot, sha256_hex, EvidenceSnapshot};
use crate::soa::Applicability;

type Files = BTreeMap<String, Vec<u8>>;

fn fail(stage: &'static str, problems: Vec<String>) -> VerifyFailure {
    VerifyFailure { stage, problems }
}

fn one(stage: &'static str, problem: impl Into<String>) -> VerifyFailure {
    fail(stage, vec![problem.into()])
}

fn text(files: &Files, path: &str) -> Result<String, String> {
    let bytes = files
        .get(path)
        .ok_or_else(|| format!("`{path}` is missing"))?;
    String::from_utf8(bytes.clone()).map_err(|_| format!("`{path}` is not UTF-8"))
}

fn signature(
    files: &Files,
    manifest: &BundleManifest,
    manifest_bytes: &[u8],
    pinned: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<SignatureCheck, VerifyFailure> {
    let sig = files
        .get(SIGNATURE)
        .map(|b| String::from_utf8_lossy(b).trim().to_string());
    match (pinned, sig, &manifest.signer) {
        (Some(_), None, _) => Err(one(
            "signature",
            "the bundle is not signed (no bundle-manifest.sig), but a public key was given",
        )),
        (Some(k), Some(s), _) => {
            if keys::verify(k, manifest_bytes, &s) {
                Ok(SignatureCheck::Pinned(keys::key_hex(k)))
            } else {
                Err(one(
                    "signature",
                    "bundle-manifest.json is not signed by the given public key",
                ))
            }
        }
        (None, Some(s), Some(hex)) => {
            let k =
                keys::verifying_key_from_hex(hex).map_err(|e| one("signature", e.to_string()))?;
            if keys::verify(&k, manifest_bytes, &s) {
                Ok(SignatureCheck::Embedded(hex.clone()))
            } else {
                Err(one(
                    "signature",
                    "bundle-manifest.sig is not a signature of bundle-manifest.json by the signer it names",
                ))
            }
        }
        (None, Some(_), None) => Err(one(
            "signature",
            "bundle-manifest.sig is present but bundle-manifest.json names no signer",
        )),
        (None, None, Some(_)) => Err(one(
            "signature",
            "bundle-manifest.json names a signer but bundle-manifest.sig is missing",
        )),
        (None, None, None) => Ok(SignatureCheck::Unsigned),
    }
}

fn integrity(files: &Files, manifest: &BundleManifest) -> Vec<String> {
    let mut problems = Vec::new();
    let mut listed = BTreeSet::new();
    for f in &manifest.files {
        listed.insert(f.path.as_str());
        match files.get(&f.path) {
            None => problems.push(format!(
                "`{}` is listed in bundle-manifest.json but missing from the archive",
                f.path
            )),
            Some(b) => {
                let actual = sha256_hex(b);
                if actual != f.sha256 || b.len() as u64 != f.bytes {
                    problems.push(format!(
                        "`{}` does not match bundle-manifest.json (sha256 {}, expected {})",
                        f.path, actual, f.sha256
                    ));
                }
            }
        }
    }
    for p in files.keys() {
        if p != MANIFEST && p != SIGNATURE && !listed.contains(p.as_str()) {
            problems.push(format!(
                "`{p}` is in the archive but not in bundle-manifest.json"
            ));
        }
    }
    problems
}

/// The findings of a bundled assessment JSON, by id.
fn findings_by_id(doc: &Value) -> BTreeMap<String, Value> {
    doc["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| (f["id"].as_str().unwrap_or_default().to_string(), f.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn evidence(
    files: &Files,
    run: &RunRecord,
    bundled: &Value,
) -> Result<(EvidenceSnapshot, usize), VerifyFailure> {
    let stage = "evidence";
    let bytes = files
        .get("snapshot/manifest.json")
        .ok_or_else(|| one(stage, "`snapshot/manifest.json` is missing"))?;
    let m =
        parse_manifest(bytes).map_err(|e| one(stage, format!("snapshot/manifest.json: {e}")))?;
    let mut problems = Vec::new();
    if m.snapshot_id != run.snapshot.id {
        problems.push(format!(
            "the bundled snapshot is `{}`, the assessment was of `{}`",
            m.snapshot_id, run.snapshot.id
        ));
    }
    if run.evidence == "full" {
        for f in &m.files {
            let path = format!("snapshot/{}", f.path);
            match files.get(&path) {
                Some(b) if sha256_hex(b) == f.sha256 => {}
                Some(_) => problems.push(format!(
                    "`{path}` does not match the snapshot's manifest (sha256 expected {})",
                    f.sha256
                )),
                None => problems.push(format!("`{path}` is missing")),
            }
        }
    }
    let mut cited = 0;
    let mut seen = BTreeSet::new();
    for (id, f) in findings_by_id(bundled) {
        let source = f["evidence"]["source"].as_str().unwrap_or_default();
        let sha = f["evidence"]["record_sha256"].as_str().unwrap_or_default();
        let path = format!("snapshot/{}", crate::snapshot::records_path(source));
        let found = files.get(&path).is_some_and(|b| {
            b.split(|c| *c == b'\n')
                .any(|l| !l.is_empty() && sha256_hex(l) == sha)
        });
        if !found {
            problems.push(format!(
                "the record finding `{id}` cites (source `{source}`, sha256 {sha}) is not in `{path}`"
            ));
        } else if seen.insert(sha.to_string()) {
            cited += 1;
        }
    }
    let snapshot = read_snapshot(m, |rel| {
        files
            .get(&format!("snapshot/{rel}"))
            .map(Vec::as_slice)
            .ok_or_else(|| "not in the bundle".to_string())
    })
    .map_err(|e| one(stage, format!("snapshot: {e}")))?;
    if problems.is_empty() {
        Ok((snapshot, cited))
    } else {
        Err(fail(stage, problems))
    }
}

fn pack(files: &Files, run: &RunRecord) -> Result<PolicyPack, VerifyFailure> {
    let stage = "pack";
    let t = |p: &str| text(files, p).map_err(|e| one(stage, e));
    let cd = &run.catalog_dir;
    let under = |dir: &str| -> Result<Vec<(String, String)>, VerifyFailure> {
        files
            .keys()
            .filter_map(|p| p.strip_prefix("pack/").filter(|r| r.starts_with(dir)))
            .map(|rel| Ok((rel.to_string(), t(&format!("pack/{rel}"))?)))
            .collect()
    };
    let catalog_name = |rel: &str| {
        if cd.is_empty() {
            rel.to_string()
        } else {
            format!("{cd}/{rel}")
        }
    };
    let mut catalog_files = Vec::new();
    for (rel, text) in under("catalogs/")? {
        let name = rel.trim_start_matches("catalogs/");
        if name != "catalogs.toml" {
            catalog_files.push((catalog_name(name), text));
        }
    }
    let pf = PackFiles {
        dir: "bundle:pack".into(),
        manifest: t("pack/pack.toml")?,
        facts: files
            .contains_key("pack/facts.toml")
            .then(|| t("pack/facts.toml"))
            .transpose()?,
        rules: under("rules/")?,
        catalogs_index: (
            catalog_name("catalogs.toml"),
            t("pack/catalogs/catalogs.toml")?,
        ),
        catalog_files,
        tests: under("tests/")?,
    };
    let built = PolicyPack::build(&pf)
        .map_err(|e| one(stage, format!("the bundled pack is invalid: {e}")))?;
    if built.digest != run.pack.digest {
        return Err(one(
            stage,
            format!(
                "the bundled pack hashes to {}, but the assessment was made with {} {} ({})",
                built.digest, run.pack.name, run.pack.version, run.pack.digest
            ),
        ));
    }
    Ok(built)
}

fn to_toml(v: &Value) -> Option<toml::Value> {
    Some(match v {
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => toml::Value::Integer(n.as_i64()?),
        Value::Array(a) => toml::Value::Array(a.iter().map(to_toml).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn compare(bundled: &Value, rerun: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let (b, r) = (findings_by_id(bundled), findings_by_id(rerun));
    for (id, f) in &r {
        if !b.contains_key(id) {
            problems.push(format!(
                "finding `{id}` ({} on {} `{}`) is produced by the re-run but missing from the bundle",
                f["rule"]["id"].as_str().unwrap_or_default(),
                f["entity"]["type"].as_str().unwrap_or_default(),
                f["entity"]["id"].as_str().unwrap_or_default()
            ));
        }
    }
    for (id, f) in &b {
        match r.get(id) {
            None => problems.push(format!(
                "finding `{id}` ({}) is in the bundle but not produced by the re-run",
                f["rule"]["id"].as_str().unwrap_or_default()
            )),
            Some(g) if g != f => {
                let keys: Vec<&str> = g
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, v)| f.get(k.as_str()) != Some(v))
                    .map(|(k, _)| k.as_str())
                    .collect();
                problems.push(format!("finding `{id}` differs in: {}", keys.join(", ")));
            }
            Some(_) => {}
        }
    }
    if let (Some(bo), Some(ro)) = (bundled.as_object(), rerun.as_object()) {
        let keys: Vec<&str> = ro
            .iter()
            .filter(|(k, v)| k.as_str() != "findings" && bo.get(k.as_str()) != Some(v))
            .map(|(k, _)| k.as_str())
            .collect();
        if !keys.is_empty() {
            problems.push(format!(
                "`{FINDINGS_JSON}` differs from the re-run in: {}",
                keys.join(", ")
            ));
        }
    }
    problems
}

/// Verifies a bundle's bytes. With `pinned`, the signature must be by that key.
pub fn verify(
    bytes: &[u8],
    pinned: Option<&ed25519_dalek::VerifyingKey>,
) -> Result<Verified, VerifyFailure> {
    let files = archive::read(bytes).map_err(|e| one("archive", e.to_string()))?;
    let manifest_bytes = files.get(MANIFEST).ok_or_else(|| {
        one(
            "archive",
            "no `bundle-manifest.json`: not a conform audit bundle",
        )
    })?;
    let manifest: BundleManifest = serde_json::from_slice(manifest_bytes).map_err(|e| {
        one(
            "manifest",
            format!("`bundle-manifest.json` is invalid: {e}"),
        )
    })?;
    if manifest.format != FORMAT {
        return Err(one(
            "manifest",
            format!(
                "unsupported bundle format `{}` (this build reads `{FORMAT}`)",
                manifest.format
            ),
        ));
    }
    let signature = signature(&files, &manifest, manifest_bytes, pinned)?;
    let problems = integrity(&files, &manifest);
    if !problems.is_empty() {
        return Err(fail("integrity", problems));
    }
    let run: RunRecord = serde_json::from_slice(files.get(RUN).map_or(&[][..], Vec::as_slice))
        .map_err(|e| one("run", format!("`{RUN}` is invalid: {e}")))?;
    if run.format != RUN_FORMAT {
        return Err(one(
            "run",
            format!("unsupported `{RUN}` format `{}`", run.format),
        ));
    }
    let bundled: Value =
        serde_json::from_slice(files.get(FINDINGS_JSON).map_or(&[][..], Vec::as_slice))
            .map_err(|e| one("findings", format!("`{FINDINGS_JSON}` is invalid: {e}")))?;
    let (snapshot, cited_records) = evidence(&files, &run, &bundled)?;
    let pack = pack(&files, &run)?;

    let stage = "reproduction";
    let overrides: BTreeMap<String, toml::Value> = run
        .parameters
        .iter()
        .map(|(k, v)| {
            to_toml(v)
                .map(|t| (k.clone(), t))
                .ok_or_else(|| one(stage, format!("parameter `{k}` has an unreadable value")))
        })
        .collect::<Result<_, _>>()?;
    let values = params::resolve(&pack.parameters, &overrides).map_err(|errs| fail(stage, errs))?;
    let assessment = crate::assessment::assess(&pack, &snapshot, run.at, &values)
        .map_err(|e| one(stage, e.to_string()))?;
    let applicability = Applicability {
        excluded: run.applicability.excluded.clone(),
        included: run.applicability.included.clone(),
    };
    let reports = super::reports(&pack, &assessment, &applicability)
        .map_err(|e| one(stage, e.to_string()))?;
    let rerun: Value = reports
        .get(FINDINGS_JSON)
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let mut problems = compare(&bundled, &rerun);
    let mut identical = Vec::new();
    for (path, b) in &reports {
        if files.get(path) == Some(b) {
            identical.push(path.clone());
        } else if path != FINDINGS_JSON || problems.is_empty() {
            problems.push(format!("`{path}` differs from the re-run"));
        }
    }
    if !problems.is_empty() {
        return Err(fail(stage, problems));
    }
    Ok(Verified {
        findings: assessment.findings.len(),
        manifest,
        signature,
        cited_records,
        identical,
    })
}
