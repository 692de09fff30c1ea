//! SARIF 2.1.0 for code-scanning tools (GitHub, GitLab, Azure DevOps): one run, the pack's
//! rules as `reportingDescriptor`s, one result per finding located at the Cedar policy that
//! raised it, with the finding id as a partial fingerprint so that tools de-duplicate
//! findings across runs.

use std::io::Write;

use serde_json::{json, Map, Value};

use super::{Printer, RuleInfo};
use crate::assessment::Assessment;
use crate::finding::{Finding, FindingKind, Severity};

pub const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
pub const INFORMATION_URI: &str = "https://conform.dev";
/// The key of the stable finding id in `partialFingerprints`.
pub const FINGERPRINT: &str = "conformFindingId/v1";

/// SARIF output. `pack_path` is the pack's directory relative to the repository root (e.g.
/// `policies/iso-ims`): findings carry pack-relative rule files, and SARIF consumers resolve
/// locations against the repository.
pub struct SarifPrinter {
    pub pack_path: String,
    pub rules: Vec<RuleInfo>,
}

impl SarifPrinter {
    pub fn new(pack_path: &str, rules: Vec<RuleInfo>) -> Self {
        let p = pack_path.replace('\\', "/");
        let p = p.trim_start_matches("./").trim_end_matches('/').to_string();
        SarifPrinter {
            pack_path: if p == "." { String::new() } else { p },
            rules,
        }
    }

    fn uri(&self, file: &str) -> String {
        if self.pack_path.is_empty() {
            file.to_string()
        } else {
            format!("{}/{file}", self.pack_path)
        }
    }
}

/// SARIF level of a severity (for results of kind `fail`).
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Major => "error",
        Severity::Minor => "warning",
        Severity::Observation => "note",
    }
}

/// GitHub code scanning's `security-severity` (0.0–10.0) of a severity.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Major => "8.0",
        Severity::Minor => "5.0",
        Severity::Observation => "2.0",
    }
}

/// `iam.privileged-without-mfa` → `IamPrivilegedWithoutMfa`.
fn pascal(id: &str) -> String {
    id.split(['.', '-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn tags(rule: &RuleInfo) -> Vec<String> {
    let mut tags = vec!["compliance".to_string()];
    if let Some((area, _)) = rule.id.split_once('.') {
        tags.push(area.to_string());
    }
    tags.push(rule.entity_type.clone());
    for r in &rule.requirements {
        if let Some((cat, _)) = r.split_once('/') {
            if !tags.iter().any(|t| t == cat) {
                tags.push(cat.to_string());
            }
        }
    }
    tags
}

fn descriptor(rule: &RuleInfo, uri: String) -> Value {
    json!({
        "id": rule.id,
        "name": pascal(&rule.id),
        "shortDescription": { "text": rule.title },
        "fullDescription": { "text": if rule.rationale.is_empty() { &rule.title } else { &rule.rationale } },
        "help": { "text": rule.remediation },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "requirements": rule.requirements,
            "severity": rule.severity.as_str(),
            "security-severity": security_severity(rule.severity),
            "entityType": rule.entity_type,
            "policy": { "uri": uri, "line": rule.line },
            "tags": tags(rule),
        }
    })
}

impl SarifPrinter {
    fn result(&self, f: &Finding, rule_index: Option<usize>) -> Value {
        let mut r = Map::new();
        r.insert("ruleId".into(), json!(f.rule.id));
        if let Some(i) = rule_index {
            r.insert("ruleIndex".into(), json!(i));
        }
        // SARIF §3.27.10: a result whose kind is not `fail` has level `none`; its severity
        // stays in the properties.
        let (kind, lvl) = match f.kind {
            FindingKind::Nonconformity => ("fail", level(f.severity)),
            FindingKind::Indeterminate => ("review", "none"),
        };
        r.insert("kind".into(), json!(kind));
        r.insert("level".into(), json!(lvl));
        r.insert(
            "message".into(),
            json!({ "text": format!("{} — {} {}", f.message, f.entity.entity_type, f.entity.id) }),
        );
        r.insert(
            "locations".into(),
            json!([{
                "physicalLocation": {
                    "artifactLocation": { "uri": self.uri(&f.rule.file) },
                    "region": { "startLine": f.rule.line.max(1) }
                },
                "logicalLocations": [{
                    "name": f.entity.id,
                    "fullyQualifiedName": format!("{}::{:?}", f.entity.entity_type, f.entity.id),
                    "kind": "resource"
                }]
            }]),
        );
        r.insert("partialFingerprints".into(), json!({ FINGERPRINT: f.id }));
        let mut props = Map::new();
        props.insert("findingId".into(), json!(f.id));
        props.insert("kind".into(), json!(f.kind));
        props.insert("severity".into(), json!(f.severity));
        props.insert("status".into(), json!(f.status));
        props.insert("requirements".into(), json!(f.requirements));
        props.insert("entity".into(), json!(f.entity));
        props.insert("evidence".into(), json!(f.evidence));
        props.insert("values".into(), json!(f.values));
        if let Some(e) = &f.error {
            props.insert("error".into(), json!(e));
        }
        props.insert("remediation".into(), json!(f.remediation));
        props.insert("packVersion".into(), json!(f.rule.version));
        r.insert("properties".into(), Value::Object(props));
        Value::Object(r)
    }
}

impl Printer for SarifPrinter {
    fn print(&self, a: &Assessment, out: &mut dyn Write) -> std::io::Result<()> {
        // The pack's rules when the printer has them, else the rules the assessment ran.
        let rules: Vec<RuleInfo> = if self.rules.is_empty() {
            a.rules
                .iter()
                .map(|r| RuleInfo {
                    id: r.id.clone(),
                    title: r.title.clone(),
                    severity: r.severity,
                    requirements: r.requirements.clone(),
                    entity_type: r.entity_type.clone(),
                    rationale: String::new(),
                    remediation: String::new(),
                    file: String::new(),
                    line: 1,
                })
                .collect()
        } else {
            self.rules.clone()
        };
        let descriptors: Vec<Value> = rules
            .iter()
            .map(|r| descriptor(r, self.uri(&r.file)))
            .collect();
        let results: Vec<Value> = a
            .findings
            .iter()
            .map(|f| self.result(f, rules.iter().position(|r| r.id == f.rule.id)))
            .collect();
        let doc = json!({
            "$schema": SARIF_SCHEMA,
            "version": "2.1.0",
            "runs": [{
                "tool": {
                    "driver": {
                        "name": "conform",
                        "version": env!("CARGO_PKG_VERSION"),
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "automationDetails": { "id": format!("conform/{}/", a.pack.name) },
                "results": results,
                "properties": {
                    "organization": a.organization,
                    "assessedAt": a.assessed_at,
                    "snapshot": a.snapshot,
                    "pack": a.pack,
                    "parameters": a.parameters,
                    "summary": a.summary.findings,
                }
            }]
        });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(
            pascal("iam.privileged-without-mfa"),
            "IamPrivilegedWithoutMfa"
        );
        let p = SarifPrinter::new("./policies/iso-ims/", Vec::new());
        assert_eq!(p.uri("rules/iam.cedar"), "policies/iso-ims/rules/iam.cedar");
        assert_eq!(SarifPrinter::new(".", Vec::new()).uri("r.cedar"), "r.cedar");
    }
}
