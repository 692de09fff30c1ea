//! The demo organisation as raw vendor exports: every file `fixtures/demo/conform.toml` reads in
//! offline mode, in its vendor's format.
//!
//! The records are the ones the wire writers (`iam_wire`, `cmdb_wire`, `tickets_wire`,
//! `backup`, `org`) produce for the demo snapshot: [`write_demo_exports`] writes that snapshot
//! into a scratch directory and lays its records out, byte for byte, into the files the vendors'
//! APIs and tools answer with. A record is never re-serialized, so a record collected from the
//! exports has the SHA-256 of the same record in the synth's own snapshot.
//!
//! | source | files |
//! |---|---|
//! | `okta-prod` | `okta/groups.json`, `okta/users.json` (`/api/v1/groups`, `/api/v1/users` answers) |
//! | `aws-iam` | `aws/credential-report.csv` (the IAM credential report) |
//! | `servicenow-cmdb` | `servicenow/<table>.json` (Table API answers, `{"result": [...]}`) |
//! | `jira-itsm` | `jira/issues-<n>.json` (`/rest/api/3/search/jql` pages of 100) |
//! | `restic-backups` | `restic/snapshots/<host>.json` (`restic snapshots --json`), `restic/repositories.jsonl` |
//! | `borg-backups` | `borg/archives.jsonl` (`borg info --json` per archive), `borg/repositories.jsonl` |
//! | `org-register` | `registers/org-register.jsonl` |
//! | `vendor-portal` | none: the export is missing on purpose, so the source fails |

mod aws_csv;
mod backup_files;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{write_demo, Summary, SynthError};

/// The top-level directories of an exports directory; `--force` replaces only these.
pub const EXPORT_DIRS: &[&str] = &[
    "aws",
    "borg",
    "jira",
    "okta",
    "registers",
    "restic",
    "servicenow",
    "vendor-portal",
];

/// Issues per Jira search page (`maxResults`).
const JIRA_PAGE: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ExportsError {
    #[error(transparent)]
    Synth(#[from] SynthError),
    #[error("`{0}` exists and is not an empty directory or a set of exports (use --force to replace exports)")]
    OutputExists(String),
    #[error("record {line} of source `{source_name}` is not {expected}")]
    UnexpectedRecord {
        source_name: &'static str,
        line: usize,
        expected: &'static str,
    },
}

fn fs_error(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ExportsError {
    let path = path.display().to_string();
    move |source| {
        ExportsError::Synth(SynthError::Fs {
            action,
            path,
            source,
        })
    }
}

/// What [`write_demo_exports`] wrote.
#[derive(Debug, Clone)]
pub struct ExportsSummary {
    /// The demo snapshot the records come from.
    pub snapshot: Summary,
    /// The files written, relative to the exports directory, in writing order.
    pub files: Vec<PathBuf>,
}

/// One raw record of a source: its bytes as the snapshot holds them, and its parsed value.
pub(crate) struct Record {
    pub line: usize,
    pub text: String,
    pub value: Value,
}

/// The files of one exports directory, by path relative to it, kept in memory until written.
#[derive(Default)]
pub(crate) struct Files(BTreeMap<PathBuf, String>);

impl Files {
    pub fn put(&mut self, path: impl Into<PathBuf>, content: String) {
        self.0.insert(path.into(), content);
    }
}

/// A JSON array with one element per line: how the exports keep a long answer diffable.
pub(crate) fn json_array<'a>(records: impl IntoIterator<Item = &'a Record>) -> String {
    let lines: Vec<&str> = records.into_iter().map(|r| r.text.as_str()).collect();
    if lines.is_empty() {
        return "[\n]\n".to_string();
    }
    format!("[\n{}\n]\n", lines.join(",\n"))
}

/// JSON Lines: one record per line.
pub(crate) fn json_lines<'a>(records: impl IntoIterator<Item = &'a Record>) -> String {
    records
        .into_iter()
        .map(|r| format!("{}\n", r.text))
        .collect()
}

/// Makes sure `dir` can receive exports: absent, empty, or (with `force`) holding only export
/// directories, which are removed first.
fn prepare(dir: &Path, force: bool) -> Result<(), ExportsError> {
    if !dir.exists() {
        return Ok(());
    }
    let entries: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(fs_error("read directory", dir))?
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    let exports_only = entries
        .iter()
        .all(|n| n.to_str().is_some_and(|n| EXPORT_DIRS.contains(&n)));
    if !(force && exports_only) {
        return Err(ExportsError::OutputExists(dir.display().to_string()));
    }
    for name in entries {
        let path = dir.join(name);
        std::fs::remove_dir_all(&path).map_err(fs_error("remove", &path))?;
    }
    Ok(())
}

/// The records of one source of a snapshot directory, in order.
fn records(snapshot: &Path, source: &'static str) -> Result<Vec<Record>, ExportsError> {
    let path = snapshot.join("records").join(format!("{source}.jsonl"));
    let text = std::fs::read_to_string(&path).map_err(fs_error("read", &path))?;
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let value = serde_json::from_str(line).map_err(|_| ExportsError::UnexpectedRecord {
                source_name: source,
                line: n + 1,
                expected: "JSON",
            })?;
            Ok(Record {
                line: n + 1,
                text: line.to_string(),
                value,
            })
        })
        .collect()
}

/// Okta's `/api/v1/groups` and `/api/v1/users` answers: groups carry an `objectClass`.
fn okta(files: &mut Files, records: &[Record]) {
    let (groups, users): (Vec<&Record>, Vec<&Record>) = records
        .iter()
        .partition(|r| r.value.get("objectClass").is_some());
    files.put("okta/groups.json", json_array(groups));
    files.put("okta/users.json", json_array(users));
}

/// ServiceNow Table API answers, one file per table (`sys_class_name`).
fn servicenow(files: &mut Files, records: &[Record]) -> Result<(), ExportsError> {
    let mut tables: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in records {
        let table = r
            .value
            .get("sys_class_name")
            .and_then(Value::as_str)
            .filter(|t| is_file_name(t))
            .ok_or(ExportsError::UnexpectedRecord {
                source_name: "servicenow-cmdb",
                line: r.line,
                expected: "a CMDB record with a `sys_class_name`",
            })?;
        tables.entry(table).or_default().push(r);
    }
    for (table, rows) in tables {
        let body = json_array(rows);
        let body = body.strip_suffix("]\n").unwrap_or(&body);
        files.put(
            format!("servicenow/{table}.json"),
            format!("{{\"result\":{body}]}}\n"),
        );
    }
    Ok(())
}

/// Jira Cloud `/rest/api/3/search/jql` pages of [`JIRA_PAGE`] issues, chained by
/// `nextPageToken` until `isLast`.
fn jira(files: &mut Files, records: &[Record]) {
    let pages: Vec<&[Record]> = records.chunks(JIRA_PAGE).collect();
    let last = pages.len().max(1);
    for n in 1..=last {
        let issues = pages.get(n - 1).copied().unwrap_or_default();
        let body = json_array(issues);
        let body = body.strip_suffix("]\n").unwrap_or(&body);
        let tail = if n == last {
            r#""isLast":true"#.to_string()
        } else {
            format!(r#""nextPageToken":"CAEaAggD{n:03}","isLast":false"#)
        };
        files.put(
            format!("jira/issues-{n}.json"),
            format!("{{\"issues\":{body}],{tail}}}\n"),
        );
    }
}

/// A name safe to use as one file name: no separator, not hidden, not empty.
pub(crate) fn is_file_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Writes every export file of the demo organisation into `dir` (created if absent). With
/// `force`, the export directories of an earlier run are replaced.
pub fn write_demo_exports(dir: &Path, force: bool) -> Result<ExportsSummary, ExportsError> {
    prepare(dir, force)?;
    std::fs::create_dir_all(dir).map_err(fs_error("create", dir))?;
    let scratch = tempfile::Builder::new()
        .prefix(".conform-synth-")
        .tempdir_in(dir)
        .map_err(fs_error("create a scratch directory in", dir))?;
    let snapshot_dir = scratch.path().join("snapshot");
    let snapshot = write_demo(&snapshot_dir, false)?;
    let mut files = Files::default();
    okta(&mut files, &records(&snapshot_dir, "okta-prod")?);
    aws_csv::credential_report(&mut files, &records(&snapshot_dir, "aws-iam")?)?;
    servicenow(&mut files, &records(&snapshot_dir, "servicenow-cmdb")?)?;
    jira(&mut files, &records(&snapshot_dir, "jira-itsm")?);
    backup_files::restic(&mut files, &records(&snapshot_dir, "restic-backups")?)?;
    backup_files::borg(&mut files, &records(&snapshot_dir, "borg-backups")?)?;
    files.put(
        "registers/org-register.jsonl",
        json_lines(&records(&snapshot_dir, "org-register")?),
    );
    drop(scratch);
    let mut written = Vec::new();
    for (rel, content) in files.0 {
        let path = dir.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fs_error("create", parent))?;
        }
        std::fs::write(&path, content).map_err(fs_error("write", &path))?;
        written.push(rel);
    }
    Ok(ExportsSummary {
        snapshot,
        files: written,
    })
}
