//! Backups: restic repositories (`restic snapshots --json` entries) and borg repositories
//! (`borg info --json repo::archive`), one job per (tool, host).
//!
//! A job is normalized from the record of its latest snapshot / archive (that record carries
//! the repository, encryption and latest-success state); every snapshot / archive is a run.

use conform_engine::fs::SourceWriter;
use serde_json::{json, Value};

use crate::clock::{borg, compact, midnight, restic, DAY, HOUR, MIN, NOW};
use crate::cmdb::{Class, Cmdb};
use crate::ent::{emit, Counts, Ent};
use crate::rng::Gen;
use crate::unit::{Ns, Plant};
use crate::SynthError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Restic,
    Borg,
}

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Restic => "restic",
            Tool::Borg => "borg",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Tool::Restic => "restic-backups",
            Tool::Borg => "borg-backups",
        }
    }
}

pub struct Run {
    pub id: String,
    /// restic snapshot id / borg archive id.
    pub vendor_id: String,
    pub name: String,
    pub start: i64,
    pub end: i64,
    pub frac: u32,
    pub checkpoint: bool,
    pub incident: Option<String>,
    pub tree: String,
    pub bytes: u64,
    pub files: u64,
    pub added: u64,
}

impl Run {
    pub fn status(&self) -> &'static str {
        if self.checkpoint {
            "warning"
        } else {
            "success"
        }
    }
}

pub struct Job {
    pub id: String,
    pub tool: Tool,
    pub asset: usize,
    pub host: String,
    pub repository: String,
    pub repo_id: String,
    pub encrypted: bool,
    pub paths: Vec<&'static str>,
    /// Oldest first.
    pub runs: Vec<Run>,
}

impl Job {
    pub fn last_success(&self) -> Option<&Run> {
        self.runs.iter().rev().find(|r| !r.checkpoint)
    }
}

/// An incident raised for an interrupted backup: created by the ticket generator.
pub struct BackupIncident {
    pub key: String,
    pub job: usize,
    pub created: i64,
}

pub struct Backups {
    pub jobs: Vec<Job>,
    pub incidents: Vec<BackupIncident>,
    /// (jobs of critical assets, of which within 24 h)
    pub critical_coverage: (usize, usize),
}

/// How one job's recent history is planted.
enum Pattern {
    /// Daily, latest success ended this morning.
    Nightly,
    /// Daily; the latest success ended exactly this long before the collection.
    LastSuccessAgo(i64),
}

fn paths(class: Class, os: &str) -> Vec<&'static str> {
    match (class, os) {
        (_, "Windows") => vec!["C:\\Backup\\SystemState", "C:\\Windows\\NTDS"],
        (Class::Database, "MySQL") => vec!["/var/backups/mysqldump", "/etc/mysql"],
        (Class::Database, _) => vec!["/var/backups/pgdump", "/etc/postgresql"],
        (Class::Storage, _) => vec!["/mnt/pool/data"],
        _ => vec!["/etc", "/srv", "/var/lib"],
    }
}

/// Generates the unit's backup jobs and runs and plants the backup nonconformities.
pub fn generate(
    g: &mut Gen,
    ns: &Ns,
    cmdb: &Cmdb,
    plants: &mut Vec<Plant>,
) -> Result<Backups, SynthError> {
    let storage_box = format!("u{}", 100_000 + g.below(900_000));
    let mut jobs = Vec::new();
    let mut incidents = Vec::new();
    for (ai, asset) in cmdb.assets.iter().enumerate() {
        for tool_char in asset.spec.jobs.chars() {
            let tool = if tool_char == 'b' {
                Tool::Borg
            } else {
                Tool::Restic
            };
            let host = asset.name.clone();
            let id = format!("{}:{}", tool.source(), host);
            let (pattern, plant) = match (tool, asset.spec.name) {
                (Tool::Restic, "vault-02") => (
                    Pattern::LastSuccessAgo(30 * HOUR),
                    Some(Plant::new(
                        "backup.rpo-exceeded",
                        "BackupJob",
                        id.clone(),
                        "critical asset, latest success 30h ago (RPO 24h): the 23:40 run of 19 Nov never produced a snapshot",
                    )),
                ),
                (Tool::Restic, "log-es-02" | "sftp-store-01") => (
                    Pattern::LastSuccessAgo(3 * DAY + 10 * MIN),
                    Some(Plant::new(
                        "backup.rpo-exceeded",
                        "BackupJob",
                        id.clone(),
                        format!("{} asset, latest success 3 days ago (RPO 26h)", asset.spec.crit),
                    )),
                ),
                (Tool::Restic, "ceph-osd-02") => (
                    Pattern::LastSuccessAgo(23 * HOUR),
                    Some(
                        Plant::new(
                            "backup.rpo-exceeded",
                            "BackupJob",
                            id.clone(),
                            "critical asset, latest success 23h ago: within the 24h RPO",
                        )
                        .near(),
                    ),
                ),
                _ => (Pattern::Nightly, None),
            };
            plants.extend(plant);
            let encrypted = !(tool == Tool::Borg && asset.spec.name == "gitlab-01");
            if !encrypted {
                plants.push(Plant::new(
                    "backup.unencrypted",
                    "BackupJob",
                    id.clone(),
                    "borg repository initialised with --encryption=none",
                ));
            }
            let repository = match tool {
                Tool::Restic => {
                    format!(
                        "rest:https://{}.nw.internal:8000/{host}/",
                        ns.host("bkp-store-01")
                    )
                }
                Tool::Borg => {
                    format!("ssh://{storage_box}@{storage_box}.your-storagebox.de:23/./borg/{host}")
                }
            };
            let dur = g.range(4 * MIN, 40 * MIN);
            let exact = matches!(pattern, Pattern::LastSuccessAgo(_));
            let ends: Vec<i64> = match pattern {
                Pattern::Nightly => {
                    let offset = match tool {
                        Tool::Restic => g.range(15 * MIN, 3 * HOUR + 30 * MIN),
                        Tool::Borg => g.range(2 * HOUR, 4 * HOUR),
                    };
                    let last = midnight(NOW) + offset + dur;
                    (0..7).rev().map(|d| last - d * DAY).collect()
                }
                Pattern::LastSuccessAgo(ago) => {
                    let last = NOW - ago;
                    let n = if ago > 2 * DAY { 4 } else { 7 };
                    (0..n).rev().map(|d| last - d * DAY).collect()
                }
            };
            let base_bytes = (g.range(5, 500) as u64) << 30;
            let base_files = g.range(2_000, 400_000) as u64;
            let mut runs = Vec::new();
            let checkpoint_day = (tool == Tool::Borg
                && matches!(asset.spec.name, "pay-db-02" | "dwh-db-01"))
            .then_some(ends.len().saturating_sub(4));
            for (n, end) in ends.iter().enumerate() {
                let jitter = if exact { 0 } else { g.range(-90, 90) };
                let end = end + jitter;
                let start = end - dur - jitter.abs();
                if checkpoint_day == Some(n) {
                    let c_start = start - 3 * HOUR;
                    let c_end = c_start + g.range(10 * MIN, 25 * MIN);
                    let key = ns.key("INC", 2001, incidents.len());
                    incidents.push(BackupIncident {
                        key: key.clone(),
                        job: jobs.len(),
                        created: c_end + g.range(5 * MIN, 20 * MIN),
                    });
                    runs.push(make_run(
                        g,
                        tool,
                        &host,
                        &id,
                        c_start,
                        c_end,
                        true,
                        Some(key),
                        base_bytes,
                        base_files,
                    ));
                }
                runs.push(make_run(
                    g, tool, &host, &id, start, end, false, None, base_bytes, base_files,
                ));
            }
            jobs.push(Job {
                id,
                tool,
                asset: ai,
                host,
                repository,
                repo_id: g.hex(64),
                encrypted,
                paths: paths(asset.spec.class, asset.spec.platform.0),
                runs,
            });
        }
    }
    let critical: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            cmdb.assets
                .get(j.asset)
                .is_some_and(|a| a.spec.crit == "critical")
        })
        .collect();
    let within = critical
        .iter()
        .filter(|j| j.last_success().is_some_and(|r| NOW - r.end <= 24 * HOUR))
        .count();
    let critical_coverage = (critical.len(), within);
    Ok(Backups {
        jobs,
        incidents,
        critical_coverage,
    })
}

#[allow(clippy::too_many_arguments)]
fn make_run(
    g: &mut Gen,
    tool: Tool,
    host: &str,
    job_id: &str,
    start: i64,
    end: i64,
    checkpoint: bool,
    incident: Option<String>,
    base_bytes: u64,
    base_files: u64,
) -> Run {
    let vendor_id = g.hex(64);
    let (id, name) = match tool {
        Tool::Restic => {
            let short: String = vendor_id.chars().take(8).collect();
            (format!("{job_id}/{short}"), short)
        }
        Tool::Borg => {
            let name = format!(
                "{host}-{}{}",
                compact(start),
                if checkpoint { ".checkpoint" } else { "" }
            );
            (format!("borg-backups:{name}"), name)
        }
    };
    Run {
        id,
        vendor_id,
        name,
        start,
        end,
        frac: g.nanos(),
        checkpoint,
        incident,
        tree: g.hex(64),
        bytes: base_bytes + g.below(base_bytes / 50 + 1),
        files: base_files + g.below(base_files / 100 + 1),
        added: g.below(base_bytes / 40 + 1),
    }
}

fn restic_record(job: &Job, run: &Run, parent: Option<&Run>) -> Value {
    let rest = json!({
        "tree": run.tree,
        "paths": job.paths,
        "hostname": job.host,
        "username": "root",
        "uid": 0,
        "gid": 0,
        "excludes": ["/var/cache", "*.tmp"],
        "tags": ["nightly", "ansible-managed"],
        "program_version": "restic 0.17.3",
        "summary": {
            "backup_start": restic(run.start, run.frac),
            "backup_end": restic(run.end, run.frac / 3),
            "files_new": run.files / 400,
            "files_changed": run.files / 90,
            "files_unmodified": run.files - run.files / 400 - run.files / 90,
            "dirs_new": 3,
            "dirs_changed": run.files / 2_000 + 1,
            "dirs_unmodified": run.files / 40,
            "data_blobs": run.added / 1_048_576 + 1,
            "tree_blobs": run.files / 2_000 + 2,
            "data_added": run.added,
            "data_added_packed": run.added / 3 * 2,
            "total_files_processed": run.files,
            "total_bytes_processed": run.bytes,
        },
        "id": run.vendor_id,
        "short_id": run.name,
    });
    // restic omits `parent` on a repository's first snapshot.
    let mut v = serde_json::Map::new();
    v.insert("time".into(), json!(restic(run.start, run.frac)));
    if let Some(p) = parent {
        v.insert("parent".into(), json!(p.vendor_id));
    }
    if let Value::Object(rest) = rest {
        v.extend(rest);
    }
    Value::Object(v)
}

fn borg_record(job: &Job, run: &Run) -> Value {
    let duration = (run.end - run.start) as f64 + f64::from(run.frac % 1_000_000) / 1e6;
    json!({
        "archives": [{
            "chunker_params": ["buzhash", 19, 23, 21, 4095],
            "command_line": ["/usr/bin/borg", "create", "--compression", "zstd,3", format!("::{}", run.name)],
            "comment": "",
            "duration": duration,
            "end": borg(run.end, run.frac / 1_000),
            "hostname": job.host,
            "id": run.vendor_id,
            "limits": { "max_archive_size": 0.0001 },
            "name": run.name,
            "start": borg(run.start, run.frac / 1_000),
            "stats": {
                "compressed_size": run.bytes / 3 * 2,
                "deduplicated_size": run.added,
                "nfiles": run.files,
                "original_size": run.bytes,
            },
            "username": "root",
        }],
        "cache": {
            "path": format!("/root/.cache/borg/{}", job.repo_id),
            "stats": {
                "total_chunks": run.files * 9,
                "total_csize": run.bytes * 6,
                "total_size": run.bytes * 9,
                "total_unique_chunks": run.files * 2,
                "unique_csize": run.bytes / 3 * 2,
                "unique_size": run.bytes,
            },
        },
        "encryption": { "mode": if job.encrypted { "repokey-blake2" } else { "none" } },
        "repository": {
            "id": job.repo_id,
            "last_modified": borg(run.end + 2, run.frac / 1_000),
            "location": job.repository,
        },
    })
}

/// Writes one tool's jobs and runs for one unit.
pub fn write(
    src: &mut SourceWriter<'_>,
    counts: &mut Counts,
    tool: Tool,
    cmdb: &Cmdb,
    backups: &Backups,
) -> Result<(), SynthError> {
    for (index, job) in backups.jobs.iter().filter(|j| j.tool == tool).enumerate() {
        let asset = cmdb
            .assets
            .get(job.asset)
            .ok_or(SynthError::EmptyPool("job asset"))?;
        let mut parent: Option<&Run> = None;
        for run in &job.runs {
            let raw = match tool {
                Tool::Restic => restic_record(job, run, parent),
                Tool::Borg => borg_record(job, run),
            };
            let ents = vec![Ent::new("BackupRun", run.id.clone(), run.name.clone())
                .s("job", job.id.clone())
                .t("started_at", run.start)
                .t("ended_at", run.end)
                .s("status", run.status())
                .os("incident", run.incident.clone())];
            emit(src, counts, &raw, &run.vendor_id, ents)?;
            if !run.checkpoint {
                parent = Some(run);
            }
        }
        // The job itself comes from the repository-state record the connector assembles per
        // repository: its latest snapshot or archive, its oldest restore point, and the
        // result of the latest `restic check --json` / `borg check`.
        let state = RepositoryState::of(job, index);
        let raw = state.record(job, tool);
        let last = job.runs.last();
        let ent = Ent::new(
            "BackupJob",
            job.id.clone(),
            format!("{} {}", tool.name(), job.host),
        )
        .s("tool", tool.name())
        .s("repository", job.repository.clone())
        .s("asset", asset.id.clone())
        .b("encrypted", job.encrypted)
        .ot("last_success_at", job.last_success().map(|r| r.end))
        .ot("last_run_at", last.map(|r| r.start))
        .os("last_status", last.map(|r| r.status().to_string()))
        .t("last_check_at", state.checked_at)
        .b("last_check_ok", state.check_ok)
        .t("oldest_restore_point_at", state.oldest);
        emit(src, counts, &raw, &format!("{}#state", job.repo_id), [ent])?;
    }
    Ok(())
}

/// What the connector knows of a repository beyond its runs. Planted: the fifth restic job's
/// latest check found errors; the third borg job was last checked 40 days ago; the eighth
/// restic job keeps only 12 days of history.
struct RepositoryState {
    checked_at: i64,
    check_ok: bool,
    oldest: i64,
}

impl RepositoryState {
    fn of(job: &Job, index: usize) -> Self {
        let planted_failed = job.tool == Tool::Restic && index == 4;
        let planted_stale = job.tool == Tool::Borg && index == 2;
        let planted_short = job.tool == Tool::Restic && index == 7;
        let base =
            crate::clock::NOW - 2 * crate::clock::DAY - (index as i64 % 7) * crate::clock::HOUR;
        Self {
            checked_at: if planted_stale {
                crate::clock::NOW - 40 * crate::clock::DAY
            } else {
                base
            },
            check_ok: !planted_failed,
            oldest: crate::clock::NOW
                - if planted_short {
                    12
                } else {
                    90 + (index as i64 % 5)
                } * crate::clock::DAY,
        }
    }

    fn record(&self, job: &Job, tool: Tool) -> Value {
        let check = match tool {
            Tool::Restic => json!({
                "command": "restic check --json",
                "exit_code": if self.check_ok { 0 } else { 1 },
                "output": {
                    "message_type": "summary",
                    "num_errors": if self.check_ok { 0 } else { 3 },
                    "broken_packs": if self.check_ok { Value::Null } else { json!(["5b0e1c4a"]) },
                    "suggest_repair_index": !self.check_ok,
                    "suggest_prune": false,
                },
                "finished_at": crate::clock::rfc3339(self.checked_at),
            }),
            Tool::Borg => json!({
                "command": "borg check",
                "exit_code": if self.check_ok { 0 } else { 2 },
                "finished_at": crate::clock::rfc3339(self.checked_at),
            }),
        };
        json!({
            "repository": { "id": job.repo_id, "location": job.repository, "hostname": job.host },
            "latest": job.runs.last().map(|r| r.vendor_id.clone()),
            "oldest_restore_point": crate::clock::rfc3339(self.oldest),
            "check": check,
        })
    }
}
