//! Reading a policy pack's files.

use std::path::Path;

use super::{io_error, IoError};
use crate::pack::{catalog_dir, PackFiles, FACTS_FILE, MANIFEST_FILE};

fn read(path: &Path) -> Result<String, IoError> {
    std::fs::read_to_string(path).map_err(|e| io_error("read", path, e))
}

/// Reads `pack.toml`, `facts.toml`, `rules/**/*.cedar` and the catalogs the pack points at.
pub fn load_pack(dir: &Path) -> Result<PackFiles, IoError> {
    let manifest = read(&dir.join(MANIFEST_FILE))?;
    let facts_path = dir.join(FACTS_FILE);
    let facts = if facts_path.exists() {
        Some(read(&facts_path)?)
    } else {
        None
    };
    let mut rules = Vec::new();
    collect_cedar(dir, &dir.join("rules"), &mut rules)?;
    rules.sort();
    let cat_rel = catalog_dir(&manifest);
    let cat_dir = dir.join(&cat_rel);
    let index_rel = format!("{cat_rel}/catalogs.toml");
    let index = read(&cat_dir.join("catalogs.toml"))?;
    let catalog_files = read_dir_files(&cat_dir, "tsv", &cat_rel)?;
    let tests_dir = dir.join("tests");
    let tests = if tests_dir.is_dir() {
        read_dir_files(&tests_dir, "toml", "tests")?
    } else {
        Vec::new()
    };
    Ok(PackFiles {
        dir: dir.display().to_string(),
        manifest,
        facts,
        rules,
        catalogs_index: (index_rel, index),
        catalog_files,
        tests,
    })
}

/// The files of `dir` (not recursive) ending in `.ext`, as (`prefix/name`, text), sorted.
fn read_dir_files(dir: &Path, ext: &str, prefix: &str) -> Result<Vec<(String, String)>, IoError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("read directory", dir, e))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_file() && path.extension().is_some_and(|e| e == ext) {
            let name = entry.file_name().to_string_lossy().to_string();
            out.push((format!("{prefix}/{name}"), read(&path)?));
        }
    }
    out.sort();
    Ok(out)
}

fn collect_cedar(root: &Path, dir: &Path, out: &mut Vec<(String, String)>) -> Result<(), IoError> {
    let entries = std::fs::read_dir(dir).map_err(|e| io_error("read directory", dir, e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_cedar(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "cedar") {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, read(&path)?));
        }
    }
    Ok(())
}

/// Reads only the catalogs (for commands that need no pack).
pub fn load_catalogs(dir: &Path) -> Result<crate::catalog::Catalogs, IoError> {
    let index = read(&dir.join("catalogs.toml"))?;
    crate::catalog::Catalogs::parse(&index, |f| {
        std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string())
    })
    .map_err(|e| {
        io_error(
            "parse",
            &dir.join("catalogs.toml"),
            std::io::Error::other(e.to_string()),
        )
    })
}
