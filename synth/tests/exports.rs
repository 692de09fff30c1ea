//! The demo's raw vendor exports are generated: `conform-synth demo --exports` writes exactly
//! the files of `fixtures/demo/exports/`, byte for byte, so the exports cannot drift from the
//! generator (and `tests/demo.rs` checks that collecting them makes `fixtures/demo/snapshot`).

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use conform_synth::exports::write_demo_exports;

/// Every file under `dir`, by path relative to it.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

#[test]
fn the_generated_exports_are_the_committed_exports_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("exports");
    let summary = write_demo_exports(&dir, false).unwrap();
    let generated = files(&dir);
    let committed = files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo/exports"));
    assert_eq!(
        generated.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "the same files (regenerate with `cargo run -p conform-synth -- demo --exports fixtures/demo/exports --force`)"
    );
    for (path, bytes) in &generated {
        assert!(
            committed.get(path) == Some(bytes),
            "fixtures/demo/exports/{} is stale (regenerate with `cargo run -p conform-synth -- demo --exports fixtures/demo/exports --force`)",
            path.display()
        );
    }
    assert_eq!(summary.files, generated.keys().cloned().collect::<Vec<_>>());
    assert!(
        !dir.join("vendor-portal").exists(),
        "the vendor portal's export is missing on purpose"
    );
}

#[test]
fn exports_are_replaced_only_with_force_and_only_over_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("exports");
    write_demo_exports(&dir, false).unwrap();
    let first = files(&dir);
    let err = write_demo_exports(&dir, false).unwrap_err().to_string();
    assert!(err.contains("use --force"), "{err}");
    write_demo_exports(&dir, true).unwrap();
    assert_eq!(files(&dir), first, "no scratch left behind, same bytes");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    assert!(write_demo_exports(&dir, true).is_err());
    assert!(dir.join("notes.txt").is_file(), "a foreign file is kept");
}
