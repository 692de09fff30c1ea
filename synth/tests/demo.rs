//! The demo organisation, read back through the engine: sizes, the one unreadable line,
//! reference integrity, determinism, and — with a plain-Rust oracle of the pack's rules — that
//! exactly the planted nonconformities fire and the near misses do not.

// Test helpers outside `#[test]` functions may unwrap too.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use conform_engine::fs::load_snapshot;
use conform_engine::model::value::AttrRef;
use conform_engine::model::{AttrOrigin, AttrType, EvidenceEntity};
use conform_engine::snapshot::EvidenceSnapshot;
use conform_synth::{write_demo, write_org, Expect, Plant};

const NOW: i64 = conform_synth::clock::NOW;
const H: i64 = 3_600;
const D: i64 = 86_400;

fn demo() -> (tempfile::TempDir, PathBuf, Vec<Plant>, EvidenceSnapshot) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snapshot");
    let summary = write_demo(&dir, false).unwrap();
    let snap = load_snapshot(&dir).unwrap();
    (tmp, dir, summary.plants, snap)
}

struct Index<'a> {
    by_key: HashMap<(&'static str, &'a str), &'a EvidenceEntity>,
}

impl<'a> Index<'a> {
    fn new(snap: &'a EvidenceSnapshot) -> Self {
        let by_key = snap
            .entities
            .iter()
            .map(|e| ((e.type_name(), e.id()), e))
            .collect();
        Self { by_key }
    }

    fn get(&self, ty: &'static str, id: &str) -> Option<&'a EvidenceEntity> {
        self.by_key.get(&(ty, id)).copied()
    }
}

fn b(e: &EvidenceEntity, a: &str) -> bool {
    matches!(e.attr(a), Some(AttrRef::Bool(true)))
}

fn s<'a>(e: &'a EvidenceEntity, a: &str) -> Option<&'a str> {
    e.attr(a).and_then(|v| v.as_str())
}

fn t(e: &EvidenceEntity, a: &str) -> Option<i64> {
    match e.attr(a) {
        Some(AttrRef::Time(v)) => Some(v),
        _ => None,
    }
}

fn set_len(e: &EvidenceEntity, a: &str) -> usize {
    e.attr(a).and_then(|v| v.as_set()).map_or(0, |v| v.len())
}

fn of<'a>(snap: &'a EvidenceSnapshot, ty: &str) -> impl Iterator<Item = &'a EvidenceEntity> {
    let ty = ty.to_string();
    snap.entities.iter().filter(move |e| e.type_name() == ty)
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    findings: BTreeSet<String>,
    indeterminate: BTreeSet<String>,
}

/// A plain-Rust reading of every rule of the pack, with the brief's parameters.
fn oracle(snap: &EvidenceSnapshot, strict: bool) -> BTreeMap<&'static str, Outcome> {
    let ix = Index::new(snap);
    let mut out: BTreeMap<&'static str, Outcome> = BTreeMap::new();
    let mut unknown: BTreeSet<String> = BTreeSet::new();
    let mut fire = |rule: &'static str, id: &str| {
        out.entry(rule).or_default().findings.insert(id.to_string());
    };
    let active = |e: &EvidenceEntity| s(e, "status") == Some("active");
    for e in of(snap, "Identity") {
        let id = e.id();
        if active(e) && b(e, "privileged") && !b(e, "mfa_enrolled") {
            fire("iam.privileged-without-mfa", id);
        }
        if active(e) && t(e, "terminated_at").is_some_and(|x| NOW - x > D) {
            fire("iam.leaver-not-deprovisioned", id);
        }
        if active(e) && t(e, "last_login_at").is_some_and(|x| NOW - x > 90 * D) {
            fire("iam.dormant-account", id);
        }
        if strict && active(e) && s(e, "kind") == Some("human") && t(e, "last_login_at").is_none() {
            fire("iam.dormant-account", id);
        }
        if active(e) && s(e, "kind") == Some("guest") {
            let expired = strict && t(e, "expires_at").is_some_and(|x| x < NOW);
            if s(e, "sponsor").is_none() || t(e, "expires_at").is_none() || expired {
                fire("iam.guest-without-sponsor-or-expiry", id);
            }
        }
    }
    for e in of(snap, "Credential") {
        if b(e, "active") && t(e, "last_rotated_at").is_some_and(|x| NOW - x > 90 * D) {
            fire("iam.access-key-not-rotated", e.id());
        }
        let owner = s(e, "identity").and_then(|i| ix.get("Identity", i));
        if b(e, "active") && owner.is_some_and(|o| b(o, "break_glass")) {
            fire("iam.break-glass-access-key", e.id());
        }
    }
    for e in of(snap, "Asset") {
        let live = s(e, "lifecycle") == Some("active");
        if (strict || (live && b(e, "in_scope"))) && s(e, "owner").is_none() {
            fire("cmdb.asset-without-owner", e.id());
        }
        if let Some(owner) = s(e, "owner") {
            match ix.get("Identity", owner) {
                None => {
                    unknown.insert(e.id().to_string());
                }
                Some(o) if !active(o) => fire("cmdb.owner-not-active", e.id()),
                Some(_) => {}
            }
        }
        let prod = s(e, "environment") == Some("production") || strict;
        if prod && live && t(e, "end_of_life_at").is_some_and(|x| x < NOW) {
            fire("cmdb.end-of-life-in-production", e.id());
        }
        if (live || strict) && b(e, "backup_required") && set_len(e, "backup_jobs") == 0 {
            fire("backup.missing-for-required-asset", e.id());
        }
    }
    let mut critical = (0u64, 0u64);
    for e in of(snap, "BackupJob") {
        let asset = s(e, "asset").and_then(|a| ix.get("Asset", a));
        let is_critical = asset.is_some_and(|a| s(a, "criticality") == Some("critical"));
        let rpo = if is_critical { 24 * H } else { 26 * H };
        let age = t(e, "last_success_at").map(|x| NOW - x);
        if age.is_none_or(|a| a > rpo) {
            fire("backup.rpo-exceeded", e.id());
        }
        if !b(e, "encrypted") {
            fire("backup.unencrypted", e.id());
        }
        if is_critical {
            critical.0 += 1;
            critical.1 += u64::from(age.is_some_and(|a| a <= 24 * H));
        }
    }
    let mut latest: HashMap<&str, i64> = HashMap::new();
    for e in of(snap, "Ticket") {
        let id = e.id();
        let kind = s(e, "kind").unwrap_or_default();
        let ct = s(e, "change_type");
        let assessed = if strict {
            ct != Some("standard")
        } else {
            ct == Some("normal")
        };
        if kind == "change" && assessed {
            if let Some(done) = t(e, "implemented_at") {
                let approved = s(e, "approval") == Some("approved")
                    && t(e, "approved_at").is_some_and(|a| a <= done);
                if !approved {
                    fire("change.not-approved-before-implementation", id);
                }
            }
            if !b(e, "backout_plan") {
                fire("change.backout-plan-missing", id);
            }
        }
        if kind == "change" {
            let (r, a, i) = (s(e, "requester"), s(e, "approver"), s(e, "implementer"));
            if a.is_some() && (r == a || (strict && i == a)) {
                fire("change.requester-approves-own-change", id);
            }
            if ct == Some("emergency") {
                if let Some(done) = t(e, "implemented_at") {
                    let late = t(e, "reviewed_at").is_none_or(|r| r - done > 5 * D);
                    if NOW - done > 5 * D && late {
                        fire("change.emergency-not-reviewed", id);
                    }
                }
            }
        }
        if kind == "incident" && b(e, "major") {
            if let Some(res) = t(e, "resolved_at") {
                let late = match t(e, "reviewed_at") {
                    None => NOW - res > 10 * D,
                    Some(r) => strict && r - res > 10 * D,
                };
                if late {
                    fire("incident.major-without-review", id);
                }
            }
        }
        if kind == "security_incident"
            && (strict || matches!(s(e, "severity"), Some("high" | "critical")))
        {
            let created = t(e, "created_at").unwrap_or(NOW);
            let triage = t(e, "triaged_at").unwrap_or(NOW);
            if triage - created > 4 * H {
                fire("security-incident.triage-late", id);
            }
        }
        if kind == "corrective_action" {
            let open = !matches!(s(e, "status"), Some("resolved" | "closed" | "cancelled"));
            let due = t(e, "due_at");
            let late_close = strict && due.zip(t(e, "closed_at")).is_some_and(|(d, c)| c > d);
            if (open && due.is_some_and(|d| d < NOW)) || late_close {
                fire("capa.overdue", id);
            }
        }
        if s(e, "status") == Some("closed") {
            if let Some(c) = t(e, "closed_at") {
                let l = latest.entry(kind).or_insert(c);
                *l = (*l).max(c);
            }
        }
    }
    for e in of(snap, "Supplier") {
        let crit = s(e, "criticality") == Some("critical") || strict;
        if s(e, "status") == Some("active")
            && crit
            && t(e, "last_review_at").is_none_or(|x| NOW - x > 365 * D)
        {
            fire("supplier.review-overdue", e.id());
        }
    }
    for e in of(snap, "Organization") {
        if latest
            .get("management_review")
            .is_none_or(|c| NOW - c > 365 * D)
        {
            fire("ms.management-review-overdue", e.id());
        }
        if latest
            .get("internal_audit")
            .is_none_or(|c| NOW - c > 365 * D)
        {
            fire("ms.internal-audit-overdue", e.id());
        }
        if critical.0 == 0 || critical.1 * 10_000 / critical.0 < 9_500 {
            fire("backup.critical-coverage-below-target", e.id());
        }
    }
    if !unknown.is_empty() {
        out.entry("cmdb.owner-not-active")
            .or_default()
            .indeterminate = unknown;
    }
    out
}

fn expected(plants: &[Plant]) -> BTreeMap<&'static str, Outcome> {
    let mut out: BTreeMap<&'static str, Outcome> = BTreeMap::new();
    for p in plants {
        match p.expect {
            Expect::Finding => out.entry(p.rule).or_default().findings.insert(p.id.clone()),
            Expect::Indeterminate => out
                .entry(p.rule)
                .or_default()
                .indeterminate
                .insert(p.id.clone()),
            Expect::NearMiss => continue,
        };
    }
    out
}

fn check_references(snap: &EvidenceSnapshot) -> Vec<(String, String, String)> {
    let ix = Index::new(snap);
    let mut dangling = Vec::new();
    for e in &snap.entities {
        for (ai, def) in e.def().attrs.iter().enumerate() {
            if def.origin != AttrOrigin::Stored {
                continue;
            }
            let target = match def.ty {
                AttrType::Ref(t) | AttrType::RefSet(t) => t,
                _ => continue,
            };
            let ids: Vec<String> = match e.value(ai) {
                Some(AttrRef::Ref(id)) => vec![id.to_string()],
                Some(AttrRef::RefSet(ids)) => ids.iter().map(|id| id.to_string()).collect(),
                _ => continue,
            };
            for id in ids {
                if ix.get(target, &id).is_none() {
                    dangling.push((e.id().to_string(), def.name.to_string(), id));
                }
            }
        }
        for g in &e.member_of {
            if ix.get("Group", g).is_none() {
                dangling.push((e.id().to_string(), "member_of".into(), g.clone()));
            }
        }
    }
    dangling
}

#[test]
fn the_demo_meets_the_minimum_sizes_and_has_one_unreadable_line() {
    let (_tmp, _dir, _plants, snap) = demo();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &snap.entities {
        *counts.entry(e.type_name()).or_default() += 1;
    }
    let minimum = [
        ("Organization", 1),
        ("Identity", 100),
        ("Group", 8),
        ("Credential", 15),
        ("Asset", 50),
        ("Service", 10),
        ("Ticket", 300),
        ("BackupJob", 40),
        ("BackupRun", 200),
        ("RestoreTest", 5),
        ("Supplier", 12),
        ("Document", 10),
        ("Risk", 15),
    ];
    for (ty, n) in minimum {
        assert!(
            counts.get(ty).copied().unwrap_or(0) >= n,
            "{ty}: {counts:?}"
        );
    }
    let okta = of(&snap, "Identity")
        .filter(|e| e.provenance.source == "okta-prod")
        .count();
    let aws = of(&snap, "Identity")
        .filter(|e| e.provenance.source == "aws-iam")
        .count();
    assert!(
        (90..=100).contains(&okta) && (18..=22).contains(&aws),
        "{okta} {aws}"
    );
    let kinds: BTreeSet<&str> = of(&snap, "Ticket").filter_map(|e| s(e, "kind")).collect();
    assert_eq!(kinds.len(), 14, "{kinds:?}");

    assert_eq!(snap.unreadable.len(), 1, "{:#?}", snap.unreadable);
    let u = &snap.unreadable[0];
    assert_eq!(u.file, "entities/org-register.jsonl");
    assert_eq!(u.source, "org-register");
    assert!(u.line.is_some());
    assert!(
        u.error.contains("`level`") && u.error.contains("severe"),
        "{}",
        u.error
    );

    let vendor = snap
        .manifest
        .sources
        .iter()
        .find(|s| s.name == "vendor-portal")
        .unwrap();
    assert_eq!(
        vendor.status,
        conform_engine::snapshot::SourceStatus::Failed
    );
    assert_eq!(vendor.records, 0);
    assert_eq!(snap.manifest.created_at, "2026-11-20T06:00:00Z");
}

#[test]
fn every_reference_resolves_except_the_planted_dangling_owner() {
    let (_tmp, _dir, _plants, snap) = demo();
    let dangling = check_references(&snap);
    assert_eq!(
        dangling,
        vec![(
            "servicenow-cmdb:vpn-gw-01".to_string(),
            "owner".to_string(),
            "okta-prod:r.kowalski@northwind.example".to_string()
        )]
    );
}

#[test]
fn exactly_the_planted_nonconformities_fire_and_near_misses_do_not() {
    let (_tmp, _dir, plants, snap) = demo();
    let want = expected(&plants);
    assert_eq!(oracle(&snap, false), want);
    // Broader readings of the same rules find nothing more: the rest is clean.
    assert_eq!(oracle(&snap, true), want);
    for p in plants.iter().filter(|p| p.expect == Expect::NearMiss) {
        let fired = oracle(&snap, false)
            .get(p.rule)
            .is_some_and(|o| o.findings.contains(&p.id));
        assert!(!fired, "near miss fired: {p:?}");
    }
    let rules: BTreeSet<&str> = plants.iter().map(|p| p.rule).collect();
    assert_eq!(rules.len(), 23, "{rules:?}");
}

#[test]
fn generation_is_byte_for_byte_reproducible() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_demo(&tmp.path().join("a"), false).unwrap().manifest;
    let b = write_demo(&tmp.path().join("b"), false).unwrap().manifest;
    assert_eq!(a.snapshot_id, b.snapshot_id);
    assert_eq!(a, b);
}

#[test]
fn the_readme_lists_every_planted_item() {
    let (_tmp, _dir, plants, _snap) = demo();
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/demo/README.md");
    let Ok(text) = std::fs::read_to_string(readme) else {
        return;
    };
    for p in &plants {
        assert!(
            text.contains(&format!("`{}`", p.id)),
            "README misses {}",
            p.id
        );
        assert!(text.contains(p.rule), "README misses {}", p.rule);
    }
}

#[test]
fn a_scaled_organisation_is_reproducible_and_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_org(&tmp.path().join("a"), 3_000, 7, false).unwrap();
    let b = write_org(&tmp.path().join("b"), 3_000, 7, false).unwrap();
    assert_eq!(a.manifest.snapshot_id, b.manifest.snapshot_id);
    assert_eq!(a.units, 3);
    let c = write_org(&tmp.path().join("c"), 3_000, 8, false).unwrap();
    assert_ne!(a.manifest.snapshot_id, c.manifest.snapshot_id);
    let snap = load_snapshot(&tmp.path().join("a")).unwrap();
    assert_eq!(snap.unreadable.len(), 1);
    assert_eq!(snap.entities.len() as u64, a.counts.total());
    assert_eq!(check_references(&snap).len(), a.units);
    assert_eq!(oracle(&snap, false), expected(&a.plants));
}

#[test]
fn an_existing_directory_is_not_overwritten_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("notes.txt"), "keep me").unwrap();
    assert!(write_demo(tmp.path(), true).is_err());
    let dir = tmp.path().join("snap");
    write_demo(&dir, false).unwrap();
    assert!(write_demo(&dir, false).is_err());
    write_demo(&dir, true).unwrap();
}
