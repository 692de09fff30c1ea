//! `conform collect`: every selected source concurrently, then one new snapshot.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use conform_engine::fs::{SnapshotWriter, SourceMeta};
use conform_engine::snapshot::{Manifest, SourceStatus};
use conform_engine::time::format_rfc3339;
use serde_json::Value;

use crate::config::{Plan, SourcePlan};
use crate::connector::{Collected, SourceContext};
use crate::error::CollectError;
use crate::http::HttpClient;
use crate::progress::Bars;

/// How many problems a source's manifest `error` lists before "and N more".
const LISTED: usize = 5;

/// Where the snapshot goes and what the user sees.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// The directory of snapshots the new one is created in.
    pub out: PathBuf,
    /// Progress bars on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// The organisation's name for the manifest (else an `Organization` entity's name, else
    /// the previous snapshot's).
    pub organization: Option<String>,
}

/// One source's outcome, as written to the manifest.
#[derive(Debug, Clone)]
pub struct SourceSummary {
    pub name: String,
    pub kind: String,
    pub status: SourceStatus,
    pub records: u64,
    pub entities: u64,
    pub error: Option<String>,
}

/// The written snapshot.
#[derive(Debug, Clone)]
pub struct CollectReport {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub sources: Vec<SourceSummary>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Collects on a runtime of its own (for the command line).
pub fn collect_blocking(plan: Plan, opts: &CollectOptions) -> Result<CollectReport, CollectError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CollectError::Runtime(e.to_string()))?;
    rt.block_on(collect(plan, opts))
}

struct Run {
    started_at: i64,
    finished_at: i64,
    collected: Collected,
}

async fn run_source(source: &SourcePlan, bars: &Bars) -> Run {
    let started_at = source.exported_at.unwrap_or_else(now);
    let progress = bars.source(&source.name);
    let mut collected = Collected::default();
    let http = match &source.http {
        Some((settings, auth)) => {
            match HttpClient::new(
                &source.name,
                settings,
                auth.clone(),
                source.redactor.clone(),
            ) {
                Ok(c) => Some(c),
                Err(e) => {
                    collected.fatal = Some(e);
                    None
                }
            }
        }
        None => None,
    };
    if collected.fatal.is_none() {
        tracing::info!(source = %source.name, kind = source.kind, offline = source.offline_dir.is_some(), "collecting");
        let ctx = SourceContext {
            name: source.name.clone(),
            http,
            offline_dir: source.offline_dir.clone(),
            progress: progress.clone(),
        };
        collected = source.connector.collect(&ctx).await;
    }
    let status = match (&collected.fatal, collected.errors.is_empty()) {
        (Some(_), _) => "stopped early",
        (None, false) => "done, with problems",
        (None, true) => "done",
    };
    progress.finish(status);
    Run {
        started_at,
        finished_at: source.exported_at.unwrap_or_else(now),
        collected,
    }
}

/// Collects every source of the plan concurrently (one failing source does not stop the
/// others) and writes one new snapshot directory in `opts.out`, named after the collection
/// time and the snapshot id.
pub async fn collect(plan: Plan, opts: &CollectOptions) -> Result<CollectReport, CollectError> {
    if opts.out.join("manifest.json").is_file() {
        return Err(CollectError::OutIsSnapshot(opts.out.display().to_string()));
    }
    std::fs::create_dir_all(&opts.out).map_err(|source| CollectError::Fs {
        action: "create",
        path: opts.out.display().to_string(),
        source,
    })?;
    let bars = Bars::new(opts.progress);
    let runs =
        futures_util::future::join_all(plan.sources.iter().map(|s| run_source(s, &bars))).await;
    let staging = opts
        .out
        .join(format!(".collecting-{}-{}", now(), std::process::id()));
    let written = write_snapshot(&plan, runs, &staging, opts);
    let (manifest, sources) = match written {
        Ok(w) => w,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    let stamp: String = manifest
        .created_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let id = manifest.snapshot_id.trim_start_matches("sha256:");
    let dir = opts
        .out
        .join(format!("{stamp}-{}", &id[..id.len().min(12)]));
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&staging);
        if same_snapshot(&dir, &manifest.snapshot_id) {
            tracing::info!(
                "snapshot {} is already in {}: the exports have not changed",
                manifest.snapshot_id,
                dir.display()
            );
            return Ok(CollectReport {
                dir,
                manifest,
                sources,
            });
        }
        return Err(CollectError::Exists(dir.display().to_string()));
    }
    std::fs::rename(&staging, &dir).map_err(|source| CollectError::Fs {
        action: "rename",
        path: staging.display().to_string(),
        source,
    })?;
    tracing::info!(
        "wrote snapshot {} to {}",
        manifest.snapshot_id,
        dir.display()
    );
    Ok(CollectReport {
        dir,
        manifest,
        sources,
    })
}

/// The snapshot's creation time: the latest `exported_at` when every source is a saved
/// export with its time recorded (the same exports make the same snapshot), else the clock.
fn created_at(plan: &Plan) -> i64 {
    plan.sources
        .iter()
        .map(|s| s.exported_at)
        .collect::<Option<Vec<i64>>>()
        .and_then(|times| times.into_iter().max())
        .unwrap_or_else(now)
}

fn listed(problems: &[String]) -> String {
    let mut s = problems
        .iter()
        .take(LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > LISTED {
        s.push_str(&format!("; and {} more", problems.len() - LISTED));
    }
    s
}

/// Whether `dir` holds the snapshot `id` already (the same saved exports collected again).
fn same_snapshot(dir: &Path, id: &str) -> bool {
    std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|b| conform_engine::snapshot::parse_manifest(&b).ok())
        .is_some_and(|m| m.snapshot_id == id)
}

fn previous_organization(out: &Path) -> Option<String> {
    let dir = conform_engine::fs::resolve_snapshot_dir(out).ok()?;
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    conform_engine::snapshot::parse_manifest(&bytes)
        .ok()
        .map(|m| m.organization)
        .filter(|o| !o.is_empty())
}

fn write_snapshot(
    plan: &Plan,
    runs: Vec<Run>,
    staging: &Path,
    opts: &CollectOptions,
) -> Result<(Manifest, Vec<SourceSummary>), CollectError> {
    let mut writer = SnapshotWriter::create(staging)?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut organization = opts.organization.clone();
    let mut summaries = Vec::new();
    for (source, run) in plan.sources.iter().zip(runs) {
        let mut w = writer.source(SourceMeta {
            name: source.name.clone(),
            kind: source.kind.to_string(),
            connector_version: source.connector.version().to_string(),
            started_at: format_rfc3339(run.started_at),
            provides: source.provides.clone(),
            attributes: Some(source.mapping.attributes(&source.connector.streams())),
        })?;
        let c = run.collected;
        let parsed: Vec<Option<Value>> = c
            .records
            .iter()
            .map(|r| serde_json::from_slice(&r.bytes).ok())
            .collect();
        let pairs: Vec<(&str, &Value)> = c
            .records
            .iter()
            .zip(&parsed)
            .filter_map(|(r, v)| v.as_ref().map(|v| (r.stream.as_str(), v)))
            .collect();
        let joins = source.mapping.join_index(&pairs);
        let mut problems = Vec::new();
        // The types of which records could not be normalized; `None` once a record of unknown
        // type was lost (not JSON), or pages were (fetch errors).
        let mut lost_types: Option<std::collections::BTreeSet<String>> =
            (c.fatal.is_none() && c.errors.is_empty()).then(Default::default);
        let mut entities = 0u64;
        let mut position: std::collections::HashMap<&str, usize> = Default::default();
        for (rec, value) in c.records.iter().zip(&parsed) {
            let n = position.entry(rec.stream.as_str()).or_default();
            *n += 1;
            let sha = w.record(&rec.bytes)?;
            let Some(value) = value else {
                problems.push(format!("`{}` record {n}: not valid JSON", rec.stream));
                lost_types = None;
                continue;
            };
            for result in source.mapping.normalize(&rec.stream, value, &sha, &joins) {
                match result {
                    Ok(line) => {
                        if !seen.insert((line.entity_type.clone(), line.id.clone())) {
                            tracing::info!(source = %source.name, "`{}` record {n}: {} `{}` was already written; kept the first", rec.stream, line.entity_type, line.id);
                            continue;
                        }
                        if line.entity_type == "Organization" && organization.is_none() {
                            organization = line
                                .attrs
                                .get("name")
                                .and_then(|v| v.as_str())
                                .map(str::to_string);
                        }
                        w.entity(&line)?;
                        entities += 1;
                    }
                    Err(e) => {
                        if let Some(lost) = lost_types.as_mut() {
                            lost.insert(e.entity_type.clone());
                        }
                        let rid = value
                            .get("id")
                            .or_else(|| value.get("sys_id"))
                            .and_then(crate::mapping::convert::as_text);
                        let at = rid.map(|r| format!(" (id `{r}`)")).unwrap_or_default();
                        let msg = source
                            .redactor
                            .scrub(&format!("`{}` record {n}{at}: {e}", rec.stream));
                        tracing::warn!(source = %source.name, "cannot normalize {msg}");
                        problems.push(msg);
                    }
                }
            }
        }
        let mut all = Vec::new();
        if let Some(f) = &c.fatal {
            all.push(f.clone());
        }
        all.extend(c.errors.iter().cloned());
        if !problems.is_empty() {
            all.push(format!(
                "{} records could not be normalized: {}",
                problems.len(),
                listed(&problems)
            ));
        }
        let status = if c.fatal.is_some() && (c.records.is_empty() || c.auth_failed) {
            SourceStatus::Failed
        } else if all.is_empty() {
            SourceStatus::Ok
        } else {
            SourceStatus::Partial
        };
        let error = (!all.is_empty()).then(|| source.redactor.scrub(&listed(&all)));
        if let Some(e) = &error {
            let st = format!("{status:?}").to_lowercase();
            tracing::warn!("source `{}` is {st}: {e}", source.name);
        }
        summaries.push(SourceSummary {
            name: source.name.clone(),
            kind: source.kind.to_string(),
            status,
            records: c.records.len() as u64,
            entities,
            error: error.clone(),
        });
        if status == SourceStatus::Partial {
            if let Some(lost) = lost_types.filter(|l| !l.is_empty()) {
                w.lost_types(lost.into_iter().collect());
            }
        }
        w.finish(status, error, &format_rfc3339(run.finished_at))?;
    }
    let organization = organization
        .or_else(|| previous_organization(&opts.out))
        .unwrap_or_else(|| {
            tracing::warn!(
                "no organisation name: pass `--organization` or collect an `Organization` entity"
            );
            "unnamed organisation".to_string()
        });
    let manifest = writer.finish(&organization, &format_rfc3339(created_at(plan)))?;
    Ok((manifest, summaries))
}
