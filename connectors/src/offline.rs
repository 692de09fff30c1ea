//! Offline mode: a vendor source read from saved API responses (`offline_dir`) instead of the
//! network, for auditors and air-gapped sites that assess exports.
//!
//! For a stream `S` (a Jira search is `issues`, a ServiceNow table is its name, NetBox
//! `devices` / `virtual-machines`, Redmine `issues`), the directory holds either
//!
//! - `S.json`, or pages `S-1.json`, `S-2.json`, … (numbers compared as numbers), or a folder
//!   `S/` of page files: each one response body exactly as the API returned it; or a JSON
//!   array of records; or
//! - `S.jsonl`: one record per line.
//!
//! Completeness is checked where the saved pages can tell: a Jira export whose last page
//! says `isLast: false`, or a Redmine / NetBox export with fewer records than the
//! `total_count` / `count` it announces, is reported as incomplete.

use std::path::{Path, PathBuf};

use crate::error::FetchError;
use crate::http::paging::{compact, parse_page, Dedup, Paging, StreamOutput, StreamSpec, Total};
use crate::progress::Progress;

/// Orders `issues-2.json` before `issues-10.json`.
pub(crate) fn natural_key(name: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut digits = String::new();
    for c in name.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            if !digits.is_empty() {
                out.push((
                    std::mem::take(&mut text),
                    digits.parse().unwrap_or(u64::MAX),
                ));
                digits.clear();
            }
            text.push(c);
        }
    }
    out.push((text, digits.parse().unwrap_or(0)));
    out
}

/// The saved files of a stream, in page order.
pub fn stream_files(dir: &Path, stream: &str) -> Result<Vec<PathBuf>, FetchError> {
    let err = |path: &Path, e: std::io::Error| FetchError::Offline {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() && name == stream {
            let inner = std::fs::read_dir(&path).map_err(|e| err(&path, e))?;
            for f in inner.flatten() {
                let n = f.file_name().to_string_lossy().into_owned();
                if n.ends_with(".json") || n.ends_with(".jsonl") {
                    files.push((format!("{name}/{n}"), f.path()));
                }
            }
            continue;
        }
        let Some(stem) = name
            .strip_suffix(".json")
            .or_else(|| name.strip_suffix(".jsonl"))
        else {
            continue;
        };
        let is_page = stem.strip_prefix(stream).is_some_and(|rest| {
            rest.is_empty()
                || (rest.len() > 1
                    && rest.starts_with(['-', '_', '.'])
                    && rest[1..].chars().all(|c| c.is_ascii_digit()))
        });
        if is_page {
            files.push((name, path));
        }
    }
    files.sort_by_key(|(name, _)| natural_key(name));
    Ok(files.into_iter().map(|(_, p)| p).collect())
}

/// Reads a stream from saved responses.
pub fn read_stream(dir: &Path, spec: &StreamSpec, progress: &Progress) -> StreamOutput {
    let mut out = StreamOutput::default();
    let files = match stream_files(dir, &spec.name) {
        Ok(f) => f,
        Err(e) => {
            out.fatal = Some(e);
            return out;
        }
    };
    if files.is_empty() {
        out.fatal = Some(FetchError::Offline {
            path: dir.display().to_string(),
            message: format!(
                "no saved responses for `{0}` (expected `{0}.json`, `{0}-1.json`…, `{0}.jsonl` or a folder `{0}/`)",
                spec.name
            ),
        });
        return out;
    }
    let mut dedup = Dedup::default();
    let mut announced: Option<u64> = None;
    let mut last_page_says_more = false;
    for path in &files {
        let shown = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                out.errors.push(FetchError::Offline {
                    path: shown,
                    message: e.to_string(),
                });
                continue;
            }
        };
        if shown.ends_with(".jsonl") {
            read_lines(&bytes, &shown, spec, &mut dedup, &mut out, progress);
            continue;
        }
        let page = match parse_page(&bytes, spec.records_field)
            .or_else(|e| parse_page(&bytes, "records").map_err(|_| e))
        {
            Ok(p) => p,
            Err(detail) => {
                out.errors.push(FetchError::MalformedPage {
                    url: shown,
                    position: format!("`{}` saved page", spec.name),
                    detail,
                });
                continue;
            }
        };
        for raw in &page.records {
            if dedup.first(raw, spec.id_field) {
                out.records.push(compact(raw));
            }
        }
        progress.records(page.records.len() as u64);
        match spec.paging {
            Paging::Cursor {
                last_field,
                token_field,
                ..
            } => {
                let last = page.field(last_field).and_then(|v| v.as_bool());
                last_page_says_more = last == Some(false) && page.field(token_field).is_some();
            }
            Paging::BodyNext { field, .. } => last_page_says_more = page.field(field).is_some(),
            _ => {}
        }
        if let Total::Body(f) = spec.paging.total() {
            if let Some(t) = page.field(f).and_then(|v| v.as_u64()) {
                announced = Some(announced.map_or(t, |a| a.max(t)));
            }
        }
    }
    if last_page_says_more {
        out.errors.push(FetchError::Offline {
            path: dir.display().to_string(),
            message: format!(
                "the export of `{}` is incomplete: its last saved page says more pages follow",
                spec.name
            ),
        });
    }
    if let Some(t) = announced {
        let got = out.records.len() as u64;
        if got < t {
            out.errors.push(FetchError::Offline {
                path: dir.display().to_string(),
                message: format!("the export of `{}` is incomplete: it announces {t} records, the saved pages hold {got}", spec.name),
            });
        }
    }
    out
}

fn read_lines(
    bytes: &[u8],
    shown: &str,
    spec: &StreamSpec,
    dedup: &mut Dedup,
    out: &mut StreamOutput,
    progress: &Progress,
) {
    let text = String::from_utf8_lossy(bytes);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Box<serde_json::value::RawValue>>(line) {
            Ok(raw) => {
                if dedup.first(&raw, spec.id_field) {
                    out.records.push(compact(&raw));
                }
                progress.records(1);
            }
            Err(e) => out.errors.push(FetchError::MalformedPage {
                url: shown.to_string(),
                position: format!("line {}", i + 1),
                detail: format!("invalid JSON: {e}"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_read_in_numeric_order() {
        let dir = tempfile::tempdir().unwrap();
        for n in [1, 2, 10] {
            std::fs::write(dir.path().join(format!("issues-{n}.json")), "{}").unwrap();
        }
        std::fs::write(dir.path().join("issues_fields.json"), "{}").unwrap();
        std::fs::write(dir.path().join("incident-1.json"), "{}").unwrap();
        let files = stream_files(dir.path(), "issues").unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["issues-1.json", "issues-2.json", "issues-10.json"]);
    }
}
