//! The bundle's container: an uncompressed tar archive written deterministically (sorted
//! paths, mtime 0, uid/gid 0, mode 0644) and read back into memory with every path checked.
//! Nothing is ever unpacked to disk.

use std::collections::BTreeMap;
use std::io::Read;

use super::BundleError;

/// Checks that `path` is a plain relative path inside the archive: UTF-8, `/`-separated, no
/// empty, `.` or `..` component, not absolute, no backslash or drive letter.
pub fn check_path(path: &str) -> Result<(), BundleError> {
    let unsafe_path = |why: &str| BundleError::UnsafePath {
        path: path.to_string(),
        why: why.to_string(),
    };
    if path.is_empty() {
        return Err(unsafe_path("empty path"));
    }
    if path.starts_with('/') {
        return Err(unsafe_path("absolute path"));
    }
    if path.contains('\\') || path.contains('\0') {
        return Err(unsafe_path("backslash or NUL in the path"));
    }
    if path.split('/').next().is_some_and(|c| c.contains(':')) {
        return Err(unsafe_path("drive letter or URL scheme"));
    }
    for c in path.split('/') {
        match c {
            ".." => return Err(unsafe_path("`..` component")),
            "" | "." => return Err(unsafe_path("empty or `.` component")),
            _ => {}
        }
    }
    Ok(())
}

/// A tar archive of `files` (path → bytes), in path order, with fixed metadata.
pub fn write(files: &BTreeMap<String, Vec<u8>>) -> Result<Vec<u8>, BundleError> {
    let mut b = tar::Builder::new(Vec::new());
    b.mode(tar::HeaderMode::Deterministic);
    for (path, data) in files {
        check_path(path)?;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_uid(0);
        h.set_gid(0);
        b.append_data(&mut h, path, data.as_slice())
            .map_err(|e| BundleError::Archive(format!("cannot add `{path}`: {e}")))?;
    }
    b.into_inner()
        .map_err(|e| BundleError::Archive(e.to_string()))
}

/// Reads every regular file of a tar archive into memory. Symbolic and hard links, devices
/// and unsafe paths are refused; directory entries are skipped; a path seen twice is refused.
pub fn read(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let mut archive = tar::Archive::new(bytes);
    let entries = archive
        .entries()
        .map_err(|e| BundleError::Archive(e.to_string()))?;
    let mut out = BTreeMap::new();
    for entry in entries {
        let mut entry = entry.map_err(|e| BundleError::Archive(e.to_string()))?;
        let raw = entry.path_bytes().into_owned();
        let path = String::from_utf8(raw).map_err(|e| BundleError::UnsafePath {
            path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            why: "not UTF-8".into(),
        })?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            check_path(path.trim_end_matches('/'))?;
            continue;
        }
        if !kind.is_file() {
            return Err(BundleError::UnsafePath {
                path,
                why: if kind.is_symlink() || kind.is_hard_link() {
                    "a link".into()
                } else {
                    "not a regular file".into()
                },
            });
        }
        check_path(&path)?;
        let mut data = Vec::new();
        entry
            .read_to_end(&mut data)
            .map_err(|e| BundleError::Archive(format!("cannot read `{path}`: {e}")))?;
        if out.insert(path.clone(), data).is_some() {
            return Err(BundleError::UnsafePath {
                path,
                why: "appears twice".into(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        for p in [
            "../x",
            "a/../b",
            "/etc/passwd",
            "a//b",
            "./a",
            "C:/x",
            "a\\b",
            "",
        ] {
            assert!(check_path(p).is_err(), "{p}");
        }
        for p in [
            "a",
            "pack/rules/iam.cedar",
            "snapshot/records/okta-prod.jsonl",
        ] {
            assert!(check_path(p).is_ok(), "{p}");
        }
    }

    #[test]
    fn round_trip_is_deterministic() {
        let mut files = BTreeMap::new();
        files.insert("b.txt".to_string(), b"b".to_vec());
        files.insert(format!("{}/long.txt", "d".repeat(150)), b"long".to_vec());
        let a = write(&files).unwrap();
        assert_eq!(a, write(&files).unwrap());
        assert_eq!(read(&a).unwrap(), files);
    }

    #[test]
    fn links_are_refused() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "evil", "/etc/passwd").unwrap();
        let bytes = b.into_inner().unwrap();
        let err = read(&bytes).unwrap_err().to_string();
        assert!(err.contains("evil") && err.contains("link"), "{err}");
    }
}
