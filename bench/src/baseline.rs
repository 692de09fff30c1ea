//! The hand-written reference: five of the pack's rules written directly in Rust over the
//! same snapshot files, serde parsing of the entity lines into plain borrowed structs
//! included. It is the physical-limit yardstick the engine is measured against, and lives
//! only here: rule logic in Rust anywhere else in the workspace is forbidden.
//!
//! It does what the engine must do for these rules and nothing more: read each entity file,
//! check its SHA-256 against the manifest, parse every line, keep the first entity of each
//! (type, id), evaluate the rules and write one JSON line per finding to a sink. Cedar's
//! semantics are followed where they matter for the verdict: `&&` short-circuits, and reading
//! an attribute of a referenced entity that is not in the evidence is an error, which the
//! engine reports as an indeterminate finding.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use conform_engine::pack::ParamValue;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine_run::FindingKey;

/// The rules the reference implements, by id.
pub const RULES: [&str; 5] = [
    "backup.rpo-exceeded",
    "change.not-approved-before-implementation",
    "cmdb.asset-without-owner",
    "iam.dormant-account",
    "iam.privileged-without-mfa",
];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaselineRun {
    /// Reading the files and checking their hashes.
    pub read_verify_secs: f64,
    /// Parsing every line into plain structs, keeping the first of each (type, id).
    pub parse_secs: f64,
    /// The five rules, sorting the findings and writing them as JSON lines to a sink.
    pub rules_secs: f64,
    /// Freeing what it read.
    pub free_secs: f64,
    pub entities: usize,
    pub findings: usize,
    #[serde(skip)]
    pub keys: Vec<FindingKey>,
}

impl BaselineRun {
    pub fn total_secs(&self) -> f64 {
        self.read_verify_secs + self.parse_secs + self.rules_secs + self.free_secs
    }
}

#[derive(Deserialize)]
struct Manifest {
    created_at: String,
    sources: Vec<Source>,
    files: Vec<File>,
}

#[derive(Deserialize)]
struct Source {
    name: String,
}

#[derive(Deserialize)]
struct File {
    path: String,
    sha256: String,
}

/// One entity line; only what the five rules read. Unknown fields are skipped by serde.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(rename = "type", borrow)]
    ty: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(default, borrow)]
    attrs: Attrs<'a>,
}

#[derive(Deserialize, Default)]
struct Attrs<'a> {
    // Identity and Ticket
    #[serde(default, borrow)]
    status: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    created_at: Option<Cow<'a, str>>,
    // Identity
    #[serde(default)]
    privileged: Option<bool>,
    #[serde(default)]
    mfa_enrolled: Option<bool>,
    #[serde(default)]
    break_glass: Option<bool>,
    #[serde(default, borrow)]
    last_login_at: Option<Cow<'a, str>>,
    // Asset
    #[serde(default)]
    in_scope: Option<bool>,
    #[serde(default, borrow)]
    lifecycle: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    owner: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    criticality: Option<Cow<'a, str>>,
    // BackupJob
    #[serde(default, borrow)]
    asset: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    last_success_at: Option<Cow<'a, str>>,
    // Ticket
    #[serde(default, borrow)]
    change_type: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    implemented_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    approval: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    approved_at: Option<Cow<'a, str>>,
}

/// The plain structs the rules run over.
struct Identity<'a> {
    id: Cow<'a, str>,
    active: bool,
    privileged: bool,
    mfa_enrolled: bool,
    break_glass: bool,
    last_login_at: Option<i64>,
    created_at: Option<i64>,
}

struct Asset<'a> {
    id: Cow<'a, str>,
    active: bool,
    in_scope: bool,
    has_owner: bool,
    critical: bool,
}

struct BackupJob<'a> {
    id: Cow<'a, str>,
    asset: Option<Cow<'a, str>>,
    last_success_at: Option<i64>,
}

struct Ticket<'a> {
    id: Cow<'a, str>,
    normal_change: bool,
    implemented_at: Option<i64>,
    approved: bool,
    approved_at: Option<i64>,
}

enum Entity<'a> {
    Identity(Identity<'a>),
    Asset(Asset<'a>),
    BackupJob(BackupJob<'a>),
    Ticket(Ticket<'a>),
    Other(Cow<'a, str>, Cow<'a, str>),
}

impl Entity<'_> {
    fn key(&self) -> (&str, &str) {
        match self {
            Entity::Identity(e) => ("Identity", &e.id),
            Entity::Asset(e) => ("Asset", &e.id),
            Entity::BackupJob(e) => ("BackupJob", &e.id),
            Entity::Ticket(e) => ("Ticket", &e.id),
            Entity::Other(t, id) => (t, id),
        }
    }
}

fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// RFC 3339 to epoch seconds: `YYYY-MM-DDTHH:MM:SSZ` by hand, anything else (offsets,
/// fractions) through the engine's parser.
fn time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() == 20 && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[19] == b'Z' {
        let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
        let (h, mi, sec) = (
            digits(&b[11..13])?,
            digits(&b[14..16])?,
            digits(&b[17..19])?,
        );
        if (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && sec < 61 {
            return Some(days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + sec);
        }
    }
    conform_engine::time::parse_rfc3339(s)
}

/// An optional time attribute: absent or null is `None`; malformed makes the line invalid.
fn opt_time(v: &Option<Cow<'_, str>>) -> Result<Option<i64>, ()> {
    match v {
        None => Ok(None),
        Some(s) => time(s).map(Some).ok_or(()),
    }
}

fn parse_line(line: &str) -> Option<Entity<'_>> {
    let l: Line<'_> = serde_json::from_str(line).ok()?;
    let a = l.attrs;
    Some(match l.ty.as_ref() {
        "Identity" => Entity::Identity(Identity {
            id: l.id,
            active: a.status? == "active",
            privileged: a.privileged?,
            mfa_enrolled: a.mfa_enrolled?,
            break_glass: a.break_glass?,
            last_login_at: opt_time(&a.last_login_at).ok()?,
            created_at: opt_time(&a.created_at).ok()?,
        }),
        "Asset" => Entity::Asset(Asset {
            id: l.id,
            active: a.lifecycle? == "active",
            in_scope: a.in_scope?,
            has_owner: a.owner.is_some(),
            critical: a.criticality? == "critical",
        }),
        "BackupJob" => Entity::BackupJob(BackupJob {
            id: l.id,
            asset: a.asset,
            last_success_at: opt_time(&a.last_success_at).ok()?,
        }),
        "Ticket" => Entity::Ticket(Ticket {
            id: l.id,
            normal_change: a.kind? == "change" && a.change_type.as_deref() == Some("normal"),
            implemented_at: opt_time(&a.implemented_at).ok()?,
            approved: a.approval? == "approved",
            approved_at: opt_time(&a.approved_at).ok()?,
        }),
        _ => Entity::Other(l.ty, l.id),
    })
}

fn duration(params: &BTreeMap<String, ParamValue>, name: &str) -> Result<i64, String> {
    match params.get(name) {
        Some(ParamValue::Duration(d)) => Ok(*d),
        _ => Err(format!("parameter `{name}` is not a duration")),
    }
}

/// Runs the reference over the snapshot in `dir` with the pack's resolved parameters, in the
/// current rayon pool.
pub fn run(dir: &Path, params: &BTreeMap<String, ParamValue>) -> Result<BaselineRun, String> {
    let dormant_after = duration(params, "dormant_after")?;
    let rpo_critical = duration(params, "rpo_critical")?;
    let rpo_default = duration(params, "rpo_default")?;

    let started = Instant::now();
    let manifest_bytes =
        std::fs::read(dir.join("manifest.json")).map_err(|e| format!("manifest: {e}"))?;
    let manifest: Manifest =
        serde_json::from_slice(&manifest_bytes).map_err(|e| format!("manifest: {e}"))?;
    let now = time(&manifest.created_at).ok_or("created_at is not RFC 3339")?;
    let hashes: HashMap<&str, &str> = manifest
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.sha256.as_str()))
        .collect();
    let paths: Vec<String> = manifest
        .sources
        .iter()
        .map(|s| format!("entities/{}.jsonl", s.name))
        .filter(|p| hashes.contains_key(p.as_str()))
        .collect();
    let texts: Vec<String> = paths
        .par_iter()
        .map(|p| -> Result<String, String> {
            let bytes = std::fs::read(dir.join(p)).map_err(|e| format!("{p}: {e}"))?;
            let actual = hex::encode(Sha256::digest(&bytes));
            if Some(actual.as_str()) != hashes.get(p.as_str()).copied() {
                return Err(format!("{p}: hash mismatch"));
            }
            String::from_utf8(bytes).map_err(|e| format!("{p}: {e}"))
        })
        .collect::<Result<_, _>>()?;
    let read_verify_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let lines: Vec<&str> = texts
        .iter()
        .flat_map(|t| t.lines())
        .filter(|l| !l.trim().is_empty())
        .collect();
    let parsed: Vec<Option<Entity<'_>>> = lines.par_iter().map(|l| parse_line(l)).collect();
    let mut seen: HashSet<(&str, &str)> = HashSet::with_capacity(parsed.len());
    let mut identities = Vec::new();
    let mut assets = Vec::new();
    let mut jobs = Vec::new();
    let mut tickets = Vec::new();
    let mut entities = 0;
    for e in parsed.iter().flatten() {
        if !seen.insert(e.key()) {
            continue;
        }
        entities += 1;
        match e {
            Entity::Identity(x) => identities.push(x),
            Entity::Asset(x) => assets.push(x),
            Entity::BackupJob(x) => jobs.push(x),
            Entity::Ticket(x) => tickets.push(x),
            Entity::Other(..) => {}
        }
    }
    let asset_index: HashMap<&str, &Asset<'_>> =
        assets.iter().map(|a| (a.id.as_ref(), *a)).collect();
    let parse_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    // (rule index into RULES, type, id, indeterminate)
    let mut found: Vec<(usize, &str, &str, bool)> = Vec::new();
    found.par_extend(jobs.par_iter().filter_map(|j| {
        let asset_id = j.asset.as_deref()?;
        let Some(asset) = asset_index.get(asset_id) else {
            return Some((0, "BackupJob", j.id.as_ref(), true));
        };
        if !asset.active {
            return None;
        }
        let rpo = if asset.critical {
            rpo_critical
        } else {
            rpo_default
        };
        let late = j.last_success_at.is_none_or(|t| now - t > rpo);
        late.then_some((0, "BackupJob", j.id.as_ref(), false))
    }));
    found.par_extend(tickets.par_iter().filter_map(|t| {
        let implemented = t.implemented_at?;
        let late = !t.approved || t.approved_at.is_none_or(|a| a > implemented);
        (t.normal_change && late).then_some((1, "Ticket", t.id.as_ref(), false))
    }));
    found.par_extend(
        assets
            .par_iter()
            .filter(|a| a.in_scope && a.active && !a.has_owner)
            .map(|a| (2, "Asset", a.id.as_ref(), false)),
    );
    found.par_extend(identities.par_iter().filter_map(|i| {
        let dormant = match (i.last_login_at, i.created_at) {
            (Some(l), _) => now - l > dormant_after,
            (None, Some(c)) => now - c > dormant_after,
            (None, None) => false,
        };
        (i.active && !i.break_glass && dormant).then_some((3, "Identity", i.id.as_ref(), false))
    }));
    found.par_extend(
        identities
            .par_iter()
            .filter(|i| i.active && i.privileged && !i.mfa_enrolled)
            .map(|i| (4, "Identity", i.id.as_ref(), false)),
    );
    found.par_sort_unstable();
    let mut sink = std::io::sink();
    for (r, ty, id, ind) in &found {
        serde_json::to_writer(
            &mut sink,
            &serde_json::json!({"rule": RULES[*r], "type": ty, "id": id, "indeterminate": ind}),
        )
        .map_err(|e| e.to_string())?;
        sink.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    let rules_secs = started.elapsed().as_secs_f64();

    let keys = found
        .iter()
        .map(|(r, ty, id, ind)| (RULES[*r].to_string(), ty.to_string(), id.to_string(), *ind))
        .collect();
    let findings = found.len();
    let started = Instant::now();
    drop(found);
    drop((identities, assets, jobs, tickets, asset_index, seen));
    drop(parsed);
    drop(lines);
    drop(texts);
    let free_secs = started.elapsed().as_secs_f64();
    Ok(BaselineRun {
        read_verify_secs,
        parse_secs,
        rules_secs,
        free_secs,
        entities,
        findings,
        keys,
    })
}
