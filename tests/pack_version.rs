//! The shipped pack's version guards what it finds: a change of rule logic, severity,
//! mapping, parameters or facts without a version bump fails here.
//!
//! `policies/iso-ims/fingerprints.tsv` records, for every released version, the pack's
//! semantic fingerprint (`conform_engine::pack_diff::semantic_fingerprint`). After bumping the
//! version in `pack.toml`, record the new one with `UPDATE_FINGERPRINTS=1 cargo test --test
//! pack_version`; a recorded line is never rewritten.

use std::path::Path;

use conform_engine::pack::PolicyPack;
use conform_engine::pack_diff::semantic_fingerprint;

#[test]
fn a_change_of_what_the_pack_finds_needs_a_version_bump() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("policies/iso-ims");
    let pack = PolicyPack::build(&conform_engine::fs::load_pack(&dir).unwrap()).unwrap();
    let fingerprint = semantic_fingerprint(&pack);
    let version = pack.version.to_string();
    let path = dir.join("fingerprints.tsv");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let recorded = text
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(v, _)| *v == version)
        .map(|(_, f)| f.to_string());
    match recorded {
        Some(f) => assert_eq!(
            f, fingerprint,
            "what pack iso-ims {version} finds changed (rule logic, severity, mapping, parameters \
             or facts) but its version did not: bump `version` in policies/iso-ims/pack.toml, add \
             the change to its CHANGELOG, and record it with UPDATE_FINGERPRINTS=1"
        ),
        None if std::env::var_os("UPDATE_FINGERPRINTS").is_some() => {
            let mut text = if text.is_empty() { "version\tfingerprint\n".to_string() } else { text };
            text.push_str(&format!("{version}\t{fingerprint}\n"));
            std::fs::write(&path, text).unwrap();
        }
        None => panic!(
            "pack iso-ims {version} has no recorded fingerprint: run `UPDATE_FINGERPRINTS=1 cargo test --test pack_version`"
        ),
    }
}

#[test]
fn layout_and_wording_do_not_change_the_fingerprint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = conform_engine::fs::load_pack(&root.join("fixtures/packs/mini")).unwrap();
    let before = semantic_fingerprint(&PolicyPack::build(&files).unwrap());
    let text = &mut files.rules[0].1;
    *text = format!(
        "// a comment\n{}",
        text.replace(
            "@remediation(\"Enrol MFA.\")",
            "@remediation(\"Enrol MFA now.\")"
        )
    );
    assert_eq!(
        semantic_fingerprint(&PolicyPack::build(&files).unwrap()),
        before
    );
    let text = &mut files.rules[0].1;
    *text = text.replace("@severity(\"major\")", "@severity(\"minor\")");
    assert_ne!(
        semantic_fingerprint(&PolicyPack::build(&files).unwrap()),
        before
    );
}
