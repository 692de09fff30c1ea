//! Policy tests: cases kept beside the rules (`<pack>/tests/*.toml`), each a handful of
//! entities, an instant and optional parameter overrides, and the exact findings expected of
//! the rules under test. The format is documented in `docs/policy-pack.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::assessment::assess;
use crate::finding::FindingKind;
use crate::model::value::{entity_from_line, EntityLine, RecordRef};
use crate::model::{entity_type, AttrOrigin, AttrType, ENTITY_TYPES};
use crate::pack::{line_col, params, PolicyPack};
use crate::snapshot::{compute_snapshot_id, EvidenceSnapshot, Manifest, SourceEntry, SourceStatus};
use crate::time::{format_rfc3339, parse_duration, parse_rfc3339};

/// The instant a case is assessed at unless it says otherwise.
pub const DEFAULT_AT: &str = "2026-01-01T00:00:00Z";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default, rename = "case")]
    cases: Vec<toml::Spanned<CaseToml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseToml {
    name: String,
    rules: Vec<String>,
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, toml::Value>,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    indeterminate: Vec<String>,
    #[serde(default)]
    entities: Vec<EntityToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntityToml {
    #[serde(rename = "type")]
    entity_type: String,
    id: String,
    #[serde(default)]
    attrs: toml::Table,
    #[serde(default)]
    member_of: Vec<String>,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseOutcome {
    pub file: String,
    pub line: usize,
    pub name: String,
    /// `None` when the case passed; otherwise what differed.
    pub failure: Option<String>,
}

/// Converts a TOML value to the JSON an entity line carries. A Time attribute may be written
/// relative to the case's instant: `"-23h"`, `"+5d"`.
fn attr_json(ty: Option<AttrType>, v: &toml::Value, at: i64) -> Result<serde_json::Value, String> {
    if let (Some(AttrType::Time), toml::Value::String(s)) = (ty, v) {
        if let Some(rel) = s.strip_prefix('-').or_else(|| s.strip_prefix('+')) {
            let d = parse_duration(rel).ok_or_else(|| format!("`{s}` is not a relative time"))?;
            let t = if s.starts_with('-') { at - d } else { at + d };
            return Ok(serde_json::Value::String(format_rfc3339(t)));
        }
    }
    serde_json::to_value(v).map_err(|e| e.to_string())
}

/// Fills required attributes a case leaves out with neutral defaults, so that a case states
/// only what matters to it: `false`, empty sets, `0`, the entity's id for strings, the first
/// value of an enumeration, the case's instant for times. References must be given.
fn default_for(ty: AttrType, id: &str, at: i64) -> Option<serde_json::Value> {
    use serde_json::Value;
    Some(match ty {
        AttrType::Bool => Value::Bool(false),
        AttrType::Long => Value::from(0),
        AttrType::String => Value::String(id.to_string()),
        AttrType::Enum(values) => Value::String(values.first()?.to_string()),
        AttrType::Time => Value::String(format_rfc3339(at)),
        AttrType::StringSet | AttrType::RefSet(_) => Value::Array(vec![]),
        AttrType::Ref(_) => return None,
    })
}

fn case_snapshot(case: &CaseToml, at: i64) -> Result<EvidenceSnapshot, String> {
    let at_text = format_rfc3339(at);
    let mut entities = Vec::new();
    for e in &case.entities {
        let def = entity_type(&e.entity_type)
            .ok_or_else(|| format!("unknown entity type `{}`", e.entity_type))?;
        let mut attrs = serde_json::Map::new();
        for (k, v) in &e.attrs {
            attrs.insert(k.clone(), attr_json(def.attr(k).map(|a| a.ty), v, at)?);
        }
        for a in def
            .attrs
            .iter()
            .filter(|a| !a.optional && a.origin == AttrOrigin::Stored)
        {
            if !attrs.contains_key(a.name) {
                let d = default_for(a.ty, &e.id, at).ok_or_else(|| {
                    format!(
                        "{} `{}`: the reference `{}` must be given",
                        def.name, e.id, a.name
                    )
                })?;
                attrs.insert(a.name.to_string(), d);
            }
        }
        let line = EntityLine {
            entity_type: def.name.to_string(),
            id: e.id.clone(),
            name: e.id.clone(),
            record: RecordRef {
                id: e.id.clone(),
                sha256: "0".repeat(64),
            },
            attrs,
            member_of: e.member_of.clone(),
        };
        let entity = entity_from_line(line, "test", at)
            .map_err(|err| format!("{} `{}`: {err}", def.name, e.id))?;
        entities.push(entity);
    }
    entities.sort_by(|a, b| (a.type_index, a.id()).cmp(&(b.type_index, b.id())));
    let mut manifest = Manifest {
        format: crate::snapshot::FORMAT.to_string(),
        snapshot_id: String::new(),
        organization: "policy test".into(),
        created_at: at_text.clone(),
        sources: vec![SourceEntry {
            name: "test".into(),
            kind: "test".into(),
            connector_version: "0".into(),
            status: SourceStatus::Ok,
            error: None,
            started_at: at_text.clone(),
            finished_at: at_text,
            provides: ENTITY_TYPES.iter().map(|t| t.name.to_string()).collect(),
            // a case's records stand for complete evidence: every attribute is supplied, so
            // that an attribute a case leaves out reads as absent, not as unprovided
            attributes: Some(crate::evaluate::attributes::all_attributes()),
            records: 0,
            entities: BTreeMap::new(),
            attributes_from_data: None,
            lost_types: None,
        }],
        files: Vec::new(),
        index: None,
    };
    manifest.snapshot_id = compute_snapshot_id(&manifest);
    let mut snapshot = EvidenceSnapshot {
        manifest,
        entities,
        unreadable: Vec::new(),
    };
    // a test case's few entities come nowhere near 4 GiB of referrer ids; were one to, its
    // inverse attribute is absent and the rules reading it indeterminate
    let _too_large = crate::snapshot::fill_inverse_attributes(&mut snapshot.entities);
    Ok(snapshot)
}

fn run_case(pack: &PolicyPack, case: &CaseToml) -> Result<(), String> {
    for r in &case.rules {
        if pack.rule(r).is_none() {
            return Err(format!("unknown rule `{r}`"));
        }
    }
    let at_text = case.at.as_deref().unwrap_or(DEFAULT_AT);
    let at = parse_rfc3339(at_text).ok_or_else(|| format!("`at = {at_text}` is not RFC 3339"))?;
    let values = params::resolve(&pack.parameters, &case.params).map_err(|e| e.join("; "))?;
    let snapshot = case_snapshot(case, at)?;
    let assessment = assess(pack, &snapshot, at, &values).map_err(|e| e.to_string())?;
    let actual = |kind: FindingKind| -> Vec<String> {
        let mut v: Vec<String> = assessment
            .findings
            .iter()
            .filter(|f| f.kind == kind && case.rules.iter().any(|r| *r == f.rule.id))
            .map(|f| format!("{}:{}", f.entity.entity_type, f.entity.id))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v
    };
    let mut diffs = Vec::new();
    for (label, kind, expected) in [
        (
            "nonconformities",
            FindingKind::Nonconformity,
            sorted(&case.expect),
        ),
        (
            "indeterminate",
            FindingKind::Indeterminate,
            sorted(&case.indeterminate),
        ),
    ] {
        let got = actual(kind);
        if got != expected {
            diffs.push(format!("{label}: expected {expected:?}, got {got:?}"));
        }
    }
    if diffs.is_empty() {
        Ok(())
    } else {
        let errors: Vec<String> = assessment
            .findings
            .iter()
            .filter(|f| case.rules.iter().any(|r| *r == f.rule.id))
            .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.entity.id)))
            .collect();
        if !errors.is_empty() {
            diffs.push(format!("errors: {}", errors.join("; ")));
        }
        Err(diffs.join("\n"))
    }
}

/// Runs every case of `files` ((path, text) of `tests/*.toml`) whose name or rules contain
/// `filter`, in file order.
pub fn run(
    pack: &PolicyPack,
    files: &[(String, String)],
    filter: Option<&str>,
) -> Vec<CaseOutcome> {
    let mut out = Vec::new();
    for (path, text) in files {
        let parsed: CaseFile = match toml::from_str(text) {
            Ok(f) => f,
            Err(e) => {
                let line = e.span().map_or(1, |s| line_col(text, s.start).0);
                out.push(CaseOutcome {
                    file: path.clone(),
                    line,
                    name: "(file)".into(),
                    failure: Some(e.message().trim().to_string()),
                });
                continue;
            }
        };
        for spanned in &parsed.cases {
            let line = line_col(text, spanned.span().start).0;
            let case = spanned.get_ref();
            if let Some(f) = filter {
                if !case.name.contains(f) && !case.rules.iter().any(|r| r.contains(f)) {
                    continue;
                }
            }
            out.push(CaseOutcome {
                file: path.clone(),
                line,
                name: case.name.clone(),
                failure: run_case(pack, case).err(),
            });
        }
    }
    out
}

/// The rules of `pack` and how many cases of each kind test them: (rule, cases expecting a
/// finding from it, cases expecting none from it).
pub fn rule_case_counts(
    pack: &PolicyPack,
    files: &[(String, String)],
) -> Vec<(String, usize, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> =
        pack.rules.iter().map(|r| (r.id.clone(), (0, 0))).collect();
    for (_, text) in files {
        let Ok(parsed) = toml::from_str::<CaseFile>(text) else {
            continue;
        };
        for c in parsed.cases.iter().map(|s| s.get_ref()) {
            for r in &c.rules {
                if let Some(e) = counts.get_mut(r) {
                    if c.expect.is_empty() {
                        e.1 += 1;
                    } else {
                        e.0 += 1;
                    }
                }
            }
        }
    }
    counts.into_iter().map(|(k, (a, b))| (k, a, b)).collect()
}
