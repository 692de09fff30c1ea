//! restic and borg exports: what each tool prints per repository, and one line per repository
//! of what their connectors (a later release) will assemble themselves — the repository, its
//! latest snapshot or archive, its oldest restore point and its latest check.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{is_file_name, json_array, json_lines, ExportsError, Files, Record};

/// A repository-state record: `{"repository": {..., "hostname"}, "latest", "check", ...}`.
fn is_repository_state(r: &Record) -> bool {
    r.value.get("check").is_some() && r.value.get("repository").is_some()
}

/// `restic snapshots --json` per repository (`restic/snapshots/<host>.json`) and
/// `restic/repositories.jsonl`.
pub fn restic(files: &mut Files, records: &[Record]) -> Result<(), ExportsError> {
    let (states, snapshots): (Vec<&Record>, Vec<&Record>) =
        records.iter().partition(|r| is_repository_state(r));
    let mut hosts: BTreeMap<&str, Vec<&Record>> = BTreeMap::new();
    for r in snapshots {
        let host = r
            .value
            .get("hostname")
            .and_then(Value::as_str)
            .filter(|h| is_file_name(h))
            .ok_or(ExportsError::UnexpectedRecord {
                source_name: "restic-backups",
                line: r.line,
                expected: "a restic snapshot with a `hostname`",
            })?;
        hosts.entry(host).or_default().push(r);
    }
    for (host, snapshots) in hosts {
        files.put(
            format!("restic/snapshots/{host}.json"),
            json_array(snapshots),
        );
    }
    files.put("restic/repositories.jsonl", json_lines(states));
    Ok(())
}

/// `borg info --json <repo>::<archive>` of every archive, one per line (`borg/archives.jsonl`),
/// and `borg/repositories.jsonl`.
pub fn borg(files: &mut Files, records: &[Record]) -> Result<(), ExportsError> {
    let (states, archives): (Vec<&Record>, Vec<&Record>) =
        records.iter().partition(|r| is_repository_state(r));
    if let Some(r) = archives.iter().find(|r| r.value.get("archives").is_none()) {
        return Err(ExportsError::UnexpectedRecord {
            source_name: "borg-backups",
            line: r.line,
            expected: "`borg info --json` output with `archives`",
        });
    }
    files.put("borg/archives.jsonl", json_lines(archives));
    files.put("borg/repositories.jsonl", json_lines(states));
    Ok(())
}
