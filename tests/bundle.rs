//! Audit bundles: `conform keygen`, `conform export bundle`, `conform verify`. A bundle
//! verifies; a changed byte of evidence, a deleted finding, an edited pack and a wrong key
//! each fail with a message naming what failed.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "readers/fixture.rs"]
mod fixture;

/// Snapshots with SHA-256 values redacted: the messages must name what failed, and the hashes
/// change whenever a fixture or the pack does.
macro_rules! snap {
    ($name:expr, $value:expr) => {
        insta::with_settings!({filters => vec![(r"[0-9a-f]{64}", "[sha256]")]}, {
            insta::assert_snapshot!($name, $value);
        })
    };
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::conform;
use conform_engine::bundle::{self, archive, keys, BundleManifest};
use conform_engine::snapshot::sha256_hex;

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let run = conform(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    key
}

fn pubkey(key: &Path) -> String {
    format!("{}.pub", key.display())
}

/// A signed bundle of the acme fixture assessed with the mini pack.
fn acme_bundle(dir: &Path, key: &Path, extra: &[&str]) -> PathBuf {
    let snap = fixture::acme_snapshot(dir);
    let out = dir.join("acme.tar");
    let mut args = vec![
        "export",
        "bundle",
        "--evidence",
        snap.to_str().unwrap(),
        "--pack",
        "fixtures/packs/mini",
        "--out",
        out.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let run = conform(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    out
}

fn verify(bundle: &Path, key: Option<&Path>) -> common::Run {
    let mut args = vec!["verify".to_string(), bundle.display().to_string()];
    if let Some(k) = key {
        args.push("--pubkey".into());
        args.push(pubkey(k));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    conform(&args)
}

fn files(bundle: &Path) -> BTreeMap<String, Vec<u8>> {
    archive::read(&std::fs::read(bundle).unwrap()).unwrap()
}

/// Rewrites the archive with `edit` applied, keeping the manifest and signature as they are.
fn tamper(bundle: &Path, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> PathBuf {
    let mut f = files(bundle);
    edit(&mut f);
    let out = bundle.with_extension("tampered.tar");
    std::fs::write(&out, archive::write(&f).unwrap()).unwrap();
    out
}

/// Rewrites the archive with `edit` applied, then updates the manifest's hashes and signs it
/// again with `key`: what someone holding the signing key could do.
fn reseal(bundle: &Path, key: &Path, edit: impl FnOnce(&mut BTreeMap<String, Vec<u8>>)) -> PathBuf {
    let mut f = files(bundle);
    let mut manifest: BundleManifest =
        serde_json::from_slice(&f.remove(bundle::MANIFEST).unwrap()).unwrap();
    f.remove(bundle::SIGNATURE);
    edit(&mut f);
    for entry in &mut manifest.files {
        let b = &f[&entry.path];
        entry.sha256 = sha256_hex(b);
        entry.bytes = b.len() as u64;
    }
    let k = keys::parse_secret_key(&std::fs::read_to_string(key).unwrap()).unwrap();
    let out = bundle.with_extension("resealed.tar");
    std::fs::write(&out, bundle::seal(f, &manifest, Some(&k)).unwrap()).unwrap();
    out
}

#[test]
fn keygen_writes_a_private_key_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "signing");
    let text = std::fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN CONFORM ED25519 SECRET KEY-----"));
    assert!(keys::parse_public_key(&std::fs::read_to_string(pubkey(&key)).unwrap()).is_ok());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let again = conform(&["keygen", "--out", key.to_str().unwrap()]);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"));
    assert_eq!(std::fs::read_to_string(&key).unwrap(), text, "untouched");
}

#[test]
fn the_demo_bundle_verifies_and_is_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let a = tmp.path().join("a.tar");
    let b = tmp.path().join("b.tar");
    for out in [&a, &b] {
        let run = conform(&[
            "export",
            "bundle",
            "--out",
            out.to_str().unwrap(),
            "--key",
            key.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let run = verify(&a, Some(&key));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .starts_with("bundle verified: Northwind Services Ltd"));
    assert!(run.stdout.contains("valid, by the given key"));

    let f = files(&a);
    for must in [
        "bundle-manifest.json",
        "bundle-manifest.sig",
        "run.json",
        "findings/assessment.json",
        "findings/oscal-assessment-results.json",
        "findings/findings.csv",
        "findings/report.html",
        "findings/soa.csv",
        "pack/pack.toml",
        "pack/catalogs/catalogs.toml",
        "snapshot/manifest.json",
    ] {
        assert!(f.contains_key(must), "{must}");
    }
    let demo = common::root().join("fixtures/demo/snapshot");
    for (path, bytes) in &f {
        if let Some(rel) = path.strip_prefix("snapshot/") {
            assert_eq!(
                &std::fs::read(demo.join(rel)).unwrap(),
                bytes,
                "{rel} whole"
            );
        }
    }
    let run: serde_json::Value = serde_json::from_slice(&f["run.json"]).unwrap();
    assert_eq!(run["assessed_at"], "2026-11-20T06:00:00Z");
    assert_eq!(run["evidence"], "full");
}

#[test]
fn a_minimal_bundle_holds_only_the_cited_records() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let out = tmp.path().join("min.tar");
    let run = conform(&[
        "export",
        "bundle",
        "--minimal",
        "--out",
        out.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let f = files(&out);
    let a: serde_json::Value = serde_json::from_slice(&f["findings/assessment.json"]).unwrap();
    let cited: std::collections::BTreeSet<&str> = a["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["evidence"]["record_sha256"].as_str().unwrap())
        .collect();
    let mut kept = 0;
    for (path, bytes) in &f {
        if path.starts_with("snapshot/records/") {
            for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                assert!(cited.contains(sha256_hex(line).as_str()), "{path}");
                kept += 1;
            }
        }
    }
    assert_eq!(kept, cited.len());
    let run = verify(&out, Some(&key));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("(minimal evidence)"));
}

#[test]
fn one_changed_byte_of_evidence_fails_integrity() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let b = acme_bundle(tmp.path(), &key, &[]);
    assert_eq!(verify(&b, Some(&key)).code, 0);
    let t = tamper(&b, |f| {
        let e = f.get_mut("snapshot/entities/idp.jsonl").unwrap();
        let i = e.iter().position(|c| *c == b'A').unwrap();
        e[i] = b'B';
    });
    let run = verify(&t, Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_evidence_byte_changed", run.stderr);
    // Re-sealing with the key does not help: the evidence no longer matches its snapshot.
    let r = reseal(&b, &key, |f| {
        let e = f.get_mut("snapshot/records/idp.jsonl").unwrap();
        let i = e.iter().position(|c| *c == b'A').unwrap();
        e[i] = b'B';
    });
    let run = verify(&r, Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_evidence_resealed", run.stderr);
}

fn delete_first_finding(f: &mut BTreeMap<String, Vec<u8>>) {
    let mut a: serde_json::Value = serde_json::from_slice(&f[bundle::FINDINGS_JSON]).unwrap();
    a["findings"].as_array_mut().unwrap().remove(0);
    let mut text = serde_json::to_vec_pretty(&a).unwrap();
    text.push(b'\n');
    f.insert(bundle::FINDINGS_JSON.into(), text);
}

#[test]
fn a_deleted_finding_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let b = acme_bundle(tmp.path(), &key, &[]);
    let run = verify(&tamper(&b, delete_first_finding), Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_finding_deleted", run.stderr);
    // Even re-signed by the key holder, the re-run shows the finding is missing.
    let run = verify(&reseal(&b, &key, delete_first_finding), Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_finding_deleted_resealed", run.stderr);
}

fn soften_a_rule(f: &mut BTreeMap<String, Vec<u8>>) {
    let r = f.get_mut("pack/rules/rules.cedar").unwrap();
    let text = String::from_utf8(r.clone()).unwrap();
    *r = text
        .replacen("@severity(\"major\")", "@severity(\"minor\")", 1)
        .into_bytes();
}

#[test]
fn an_edited_pack_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let b = acme_bundle(tmp.path(), &key, &[]);
    let run = verify(&tamper(&b, soften_a_rule), Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_pack_edited", run.stderr);
    let run = verify(&reseal(&b, &key, soften_a_rule), Some(&key));
    assert_eq!(run.code, 2);
    snap!("bundle_pack_edited_resealed", run.stderr);
}

#[test]
fn a_wrong_key_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k");
    let other = keygen(tmp.path(), "other");
    let b = acme_bundle(tmp.path(), &key, &[]);
    let run = verify(&b, Some(&other));
    assert_eq!(run.code, 2);
    snap!("bundle_wrong_key", run.stderr);
    // Without --pubkey the embedded signer is checked, and the output says it is not pinned.
    let run = verify(&b, None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("pass --pubkey"));
    // A signature moved onto another manifest does not verify either.
    let t = tamper(&b, |f| {
        let m = f.get_mut(bundle::MANIFEST).unwrap();
        let text = String::from_utf8(m.clone())
            .unwrap()
            .replace("Acme Ltd", "Acme Plc");
        *m = text.into_bytes();
    });
    let run = verify(&t, None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("signature"), "{}", run.stderr);
}

#[test]
fn unsafe_archive_paths_and_links_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // `../evil`, written with a raw header since tar builders refuse such names.
    let mut builder = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_old();
    h.as_old_mut().name[..7].copy_from_slice(b"../evil");
    h.set_size(4);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    builder.append(&h, &b"evil"[..]).unwrap();
    let evil = tmp.path().join("evil.tar");
    std::fs::write(&evil, builder.into_inner().unwrap()).unwrap();
    let run = verify(&evil, None);
    assert_eq!(run.code, 2);
    snap!("bundle_unsafe_path", run.stderr);

    let mut builder = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    builder
        .append_link(&mut h, "bundle-manifest.json", "/etc/passwd")
        .unwrap();
    let link = tmp.path().join("link.tar");
    std::fs::write(&link, builder.into_inner().unwrap()).unwrap();
    let run = verify(&link, None);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("a link"), "{}", run.stderr);
}
