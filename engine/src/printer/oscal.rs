//! OSCAL assessment-results (JSON) for certification bodies and GRC tools: one result per
//! assessment; one observation per finding, pointing at the raw evidence record by hash; one
//! OSCAL finding per requirement the pack's rules concluded on, with the certification grade
//! of its nonconformities as a namespaced property. The minimal assessment plan (the pack,
//! its parameters, the snapshot) is a back-matter resource that `import-ap` points at.
//!
//! Every UUID is derived from SHA-256 of stable inputs ([`deterministic_uuid`]): the same
//! assessment gives the same bytes.

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{node_of, Printer};
use crate::assessment::{Assessment, Status};
use crate::finding::{Finding, FindingKind, Severity};

pub struct OscalPrinter;

/// The OSCAL version the document is written against (the 1.2 line of the reference
/// metaschema, as read by compliance-trestle's 1.2 models).
pub const OSCAL_VERSION: &str = "1.2.1";
/// The namespace of conform's own properties.
pub const NS: &str = "https://conform.dev/ns/oscal";

/// A UUID (version 5 layout: version nibble 5, RFC 4122 variant) from the SHA-256 of `parts`
/// joined with NUL bytes. Same parts, same UUID; never random.
pub fn deterministic_uuid(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0]);
        }
        h.update(p.as_bytes());
    }
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let x = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &x[0..8],
        &x[8..12],
        &x[12..16],
        &x[16..20],
        &x[20..32]
    )
}

/// An OSCAL token for a requirement id: `ISO27001:2022/A.8.5` → `iso27001-2022_a.8.5`.
pub fn control_id(requirement: &str) -> String {
    let mut s: String = requirement
        .chars()
        .map(|c| match c {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' => {
                c.to_ascii_lowercase()
            }
            _ => '-',
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        s.insert(0, '_');
    }
    s
}

/// One line, trimmed: OSCAL titles and property values may not hold line breaks or start or
/// end with spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A conform property; `None` when the value is empty (OSCAL values may not be).
fn prop(name: &str, value: &str) -> Option<Value> {
    let v = one_line(value);
    (!v.is_empty()).then(|| json!({ "name": name, "ns": NS, "value": v }))
}

fn props(list: Vec<Option<Value>>) -> Vec<Value> {
    list.into_iter().flatten().collect()
}

/// `snapshot://<hex>/records/<source>.jsonl#sha256=<record hash>`.
pub fn evidence_href(snapshot_id: &str, source: &str, sha256: &str) -> String {
    let id = snapshot_id.strip_prefix("sha256:").unwrap_or(snapshot_id);
    format!(
        "snapshot://{id}/{}#sha256={sha256}",
        crate::snapshot::records_path(source)
    )
}

fn observation(a: &Assessment, f: &Finding) -> Value {
    let grade = match f.kind {
        FindingKind::Nonconformity => prop("nonconformity-grade", f.severity.as_str()),
        FindingKind::Indeterminate => prop("indeterminate", "true"),
    };
    let mut p = vec![
        prop("finding-id", &f.id),
        prop("rule-id", &f.rule.id),
        prop("finding-kind", &format!("{:?}", f.kind).to_lowercase()),
        grade,
        prop("severity", f.severity.as_str()),
        prop("entity-type", &f.entity.entity_type),
        prop("entity-id", &f.entity.id),
        prop("entity-name", &f.entity.name),
    ];
    p.extend(f.requirements.iter().map(|r| prop("requirement", r)));
    let e = &f.evidence;
    let mut obs = json!({
        "uuid": deterministic_uuid(&["observation", &a.snapshot.id, &f.id]),
        "title": one_line(&format!("{} — {} {}", f.rule.title, f.entity.entity_type, f.entity.id)),
        "description": f.message,
        "props": props(p),
        "methods": ["TEST"],
        "types": ["finding"],
        "collected": e.collected_at,
        "relevant-evidence": [{
            "href": evidence_href(&e.snapshot, &e.source, &e.record_sha256),
            "description": format!(
                "Raw record `{}` of source `{}` in evidence snapshot `{}`",
                e.record_id, e.source, e.snapshot
            ),
            "props": props(vec![
                prop("sha256", &e.record_sha256),
                prop("record-id", &e.record_id),
                prop("source", &e.source),
                prop("snapshot-id", &e.snapshot),
            ]),
        }],
    });
    let mut remarks = format!("Remediation: {}", f.remediation);
    if let Some(err) = &f.error {
        remarks = format!("Evaluation error: {err}\n\n{remarks}");
    }
    if let Some(o) = obs.as_object_mut() {
        o.insert("remarks".into(), json!(remarks));
    }
    obs
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

impl Printer for OscalPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        let params = serde_json::to_string(&a.parameters).unwrap_or_default();
        let doc_uuid = deterministic_uuid(&[
            "assessment-results",
            &a.snapshot.id,
            &a.pack.digest,
            &a.assessed_at,
            &params,
        ]);
        let plan_uuid = deterministic_uuid(&["assessment-plan", &doc_uuid]);
        let result_uuid = deterministic_uuid(&["result", &doc_uuid]);

        let observations: Vec<Value> = a.findings.iter().map(|f| observation(a, f)).collect();
        let obs_uuid: BTreeMap<&str, String> = a
            .findings
            .iter()
            .map(|f| {
                (
                    f.id.as_str(),
                    deterministic_uuid(&["observation", &a.snapshot.id, &f.id]),
                )
            })
            .collect();

        let assessed: Vec<_> = a
            .requirements
            .iter()
            .filter(|r| !r.group && !r.rules.is_empty())
            .collect();
        let mut findings = Vec::new();
        for req in &assessed {
            let mine: Vec<&Finding> = a
                .findings
                .iter()
                .filter(|f| f.tests_requirement(&req.id))
                .collect();
            let ncs: Vec<&&Finding> = mine
                .iter()
                .filter(|f| f.kind == FindingKind::Nonconformity)
                .collect();
            let worst: Option<Severity> = ncs.iter().map(|f| f.severity).max();
            let (state, reason, text) = match req.status {
                Status::Conforming => (
                    "satisfied",
                    "pass",
                    format!(
                        "Conforming: rules {} found no nonconformity on complete evidence.",
                        req.rules.join(", ")
                    ),
                ),
                Status::Nonconforming => {
                    let by = |s: Severity| ncs.iter().filter(|f| f.severity == s).count();
                    (
                        "not-satisfied",
                        "fail",
                        format!(
                            "Nonconforming: {} ({} major, {} minor, {}) raised by rules {}.",
                            plural(ncs.len(), "nonconformity", "nonconformities"),
                            by(Severity::Major),
                            by(Severity::Minor),
                            plural(by(Severity::Observation), "observation", "observations"),
                            req.rules.join(", ")
                        ),
                    )
                }
                Status::Indeterminate => (
                    "not-satisfied",
                    "other",
                    format!(
                        "Indeterminate (never a pass): {}",
                        req.reason
                            .as_deref()
                            .unwrap_or("a rule could not be evaluated")
                    ),
                ),
                Status::NotAssessed | Status::Manual => (
                    "not-satisfied",
                    "other",
                    format!(
                        "Not assessed (missing evidence is never conformity): {}",
                        req.reason.as_deref().unwrap_or("no evidence")
                    ),
                ),
            };
            let status_word = match req.status {
                Status::Conforming => "conforming",
                Status::Nonconforming => "nonconforming",
                Status::Indeterminate => "indeterminate",
                Status::NotAssessed => "not_assessed",
                Status::Manual => "manual",
            };
            let mut f = json!({
                "uuid": deterministic_uuid(&["finding", &doc_uuid, &req.id]),
                "title": one_line(&format!("{} {}", node_of(&req.id), req.title)),
                "description": text,
                "props": props(vec![
                    prop("requirement", &req.id),
                    prop("conform-status", status_word),
                    worst.and_then(|w| prop("nonconformity-grade", w.as_str())),
                    prop("rules", &req.rules.join(" ")),
                ]),
                "target": {
                    "type": "objective-id",
                    "target-id": control_id(&req.id),
                    "title": one_line(&req.title),
                    "status": { "state": state, "reason": reason },
                },
            });
            let related: Vec<Value> = mine
                .iter()
                .filter_map(|x| obs_uuid.get(x.id.as_str()))
                .map(|u| json!({ "observation-uuid": u }))
                .collect();
            if let (false, Some(o)) = (related.is_empty(), f.as_object_mut()) {
                o.insert("related-observations".into(), Value::Array(related));
            }
            findings.push(f);
        }

        let selections = if assessed.is_empty() {
            json!([{ "description": "No requirement is tested by the pack's rules.", "include-all": {} }])
        } else {
            json!([{
                "description": "The requirements the policy pack's rules test (ISO/IEC 27001:2022 and ISO/IEC 20000-1:2018).",
                "include-controls": assessed
                    .iter()
                    .map(|r| json!({ "control-id": control_id(&r.id) }))
                    .collect::<Vec<_>>(),
            }])
        };
        let c = &a.summary.findings;
        let mut result = json!({
            "uuid": result_uuid,
            "title": one_line(&format!("Automated conformity assessment at {}", a.assessed_at)),
            "description": format!(
                "Policy pack `{}` {} ({}) evaluated over evidence snapshot `{}` (collected {}) at {}: \
                 {} major, {} minor, {} observation, {} indeterminate.",
                a.pack.name, a.pack.version, a.pack.digest, a.snapshot.id, a.snapshot.created_at,
                a.assessed_at, c.major, c.minor, c.observation, c.indeterminate
            ),
            "start": a.assessed_at,
            "end": a.assessed_at,
            "props": props(vec![
                prop("findings-total", &c.total.to_string()),
                prop("findings-major", &c.major.to_string()),
                prop("findings-minor", &c.minor.to_string()),
                prop("findings-observation", &c.observation.to_string()),
                prop("findings-indeterminate", &c.indeterminate.to_string()),
            ]),
            "reviewed-controls": { "control-selections": selections },
        });
        if let Some(o) = result.as_object_mut() {
            if !observations.is_empty() {
                o.insert("observations".into(), Value::Array(observations));
            }
            if !findings.is_empty() {
                o.insert("findings".into(), Value::Array(findings));
            }
        }

        let plan = format!(
            "Evaluate the Cedar rules of policy pack `{}` {} (digest {}) over evidence snapshot `{}` \
             at {} with parameters {}. Requirements are tested automatically (method TEST); \
             requirements assessed by people are out of this plan.",
            a.pack.name, a.pack.version, a.pack.digest, a.snapshot.id, a.assessed_at, params
        );
        let doc = json!({
            "assessment-results": {
                "uuid": doc_uuid,
                "metadata": {
                    "title": one_line(&format!("Conformity assessment of {}", a.organization)),
                    "last-modified": a.assessed_at,
                    "version": one_line(&a.pack.version),
                    "oscal-version": OSCAL_VERSION,
                    "props": props(vec![
                        prop("organization", &a.organization),
                        prop("snapshot-id", &a.snapshot.id),
                        prop("pack", &format!("{} {}", a.pack.name, a.pack.version)),
                        prop("pack-digest", &a.pack.digest),
                    ]),
                },
                "import-ap": {
                    "href": format!("#{plan_uuid}"),
                    "remarks": "The minimal assessment plan is the back-matter resource this reference points at.",
                },
                "results": [result],
                "back-matter": {
                    "resources": [{
                        "uuid": plan_uuid,
                        "title": one_line(&format!("Assessment plan: policy pack {} {}", a.pack.name, a.pack.version)),
                        "description": plan,
                        "props": props(vec![
                            prop("pack-digest", &a.pack.digest),
                            prop("snapshot-id", &a.snapshot.id),
                            prop("assessed-at", &a.assessed_at),
                        ]),
                    }],
                },
            }
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_deterministic_and_v5_shaped() {
        let u = deterministic_uuid(&["a", "b"]);
        assert_eq!(u, deterministic_uuid(&["a", "b"]));
        assert_ne!(u, deterministic_uuid(&["ab"]));
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"));
    }

    #[test]
    fn control_ids_are_tokens() {
        assert_eq!(control_id("ISO27001:2022/A.8.5"), "iso27001-2022_a.8.5");
        assert_eq!(
            control_id("ISO20000-1:2018/8.5.1.3"),
            "iso20000-1-2018_8.5.1.3"
        );
    }
}
