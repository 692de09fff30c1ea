//! Offline mode and file imports: every vendor's saved responses in
//! `fixtures/connectors/<vendor>/` are collected without a network and the normalized
//! entities are snapshotted (insta), so that a mapping change shows up in review.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use conform_engine::snapshot::SourceStatus;
use serde_json::Value;
use support::{collect, entities_text, fixtures, records};

/// The entity lines as a pretty JSON array, for readable snapshots.
fn pretty(jsonl: &str) -> String {
    let lines: Vec<Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    serde_json::to_string_pretty(&lines).unwrap()
}

async fn offline(
    source: &str,
    kind: &str,
    dir: &str,
    extra: &str,
) -> (conform_connectors::CollectReport, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let config = format!(
        "[sources.{source}]\nkind = \"{kind}\"\noffline_dir = \"{}\"\n{extra}",
        fixtures().join(dir).display()
    );
    let report = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    (report, tmp)
}

fn assert_ok(report: &conform_connectors::CollectReport, source: &str) {
    let s = report.sources.iter().find(|s| s.name == source).unwrap();
    assert_eq!(s.status, SourceStatus::Ok, "{:?}", s.error);
}

#[tokio::test]
async fn jira_issues() {
    let (report, _tmp) = offline("jira-itsm", "jira", "jira", "").await;
    assert_ok(&report, "jira-itsm");
    // 8 issues, and CHG-1001's complete changelog in two bulk-fetch pages (its search
    // result embeds only the first of its 3 histories): the snapshot of its approval,
    // approver and closing time is what the whole changelog says.
    assert_eq!(records(&report, "jira-itsm").len(), 10);
    insta::assert_snapshot!(pretty(&entities_text(&report, "jira-itsm")));
}

#[tokio::test]
async fn a_changelog_cut_short_and_not_completed_leaves_the_source_partial() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["issues-1.json", "issues-2.json", "changelogs-1.json"] {
        std::fs::copy(fixtures().join("jira").join(f), tmp.path().join(f)).unwrap();
    }
    let config = format!(
        "[sources.jira-itsm]\nkind = \"jira\"\noffline_dir = \"{}\"\n",
        tmp.path().display()
    );
    let report = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    let s = &report.sources[0];
    assert_eq!(s.status, SourceStatus::Partial, "{:?}", s.error);
    let error = s.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("issue `10010`: its changelog holds 3 histories and only 2 were collected"),
        "{error}"
    );
}

#[tokio::test]
async fn servicenow_tables() {
    let (report, _tmp) = offline("servicenow-prod", "servicenow", "servicenow", "").await;
    assert_ok(&report, "servicenow-prod");
    let manifest = &report.manifest.sources[0];
    assert_eq!(
        manifest.provides,
        ["Asset", "Identity", "Service", "Ticket"]
    );
    insta::assert_snapshot!(pretty(&entities_text(&report, "servicenow-prod")));
}

#[tokio::test]
async fn redmine_issues() {
    let (report, _tmp) = offline("redmine-ops", "redmine", "redmine", "").await;
    assert_ok(&report, "redmine-ops");
    insta::assert_snapshot!(pretty(&entities_text(&report, "redmine-ops")));
}

#[tokio::test]
async fn netbox_devices_and_virtual_machines() {
    let (report, _tmp) = offline("netbox-dc", "netbox", "netbox", "").await;
    assert_ok(&report, "netbox-dc");
    insta::assert_snapshot!(pretty(&entities_text(&report, "netbox-dc")));
}

#[tokio::test]
async fn raw_records_are_kept_one_per_line_and_cited_by_hash() {
    let (report, _tmp) = offline("jira-itsm", "jira", "jira", "").await;
    let text = std::fs::read_to_string(report.dir.join("records/jira-itsm.jsonl")).unwrap();
    let hashes: Vec<String> = text
        .lines()
        .map(|l| conform_engine::snapshot::sha256_hex(l.as_bytes()))
        .collect();
    for line in entities_text(&report, "jira-itsm").lines() {
        let e: Value = serde_json::from_str(line).unwrap();
        let sha = e["record"]["sha256"].as_str().unwrap();
        assert!(hashes.iter().any(|h| h == sha), "{line}");
    }
    // The snapshot reads back: hashes verified, every entity valid.
    let snap = conform_engine::fs::load_snapshot(&report.dir).unwrap();
    assert!(snap.unreadable.is_empty(), "{:?}", snap.unreadable);
    assert_eq!(snap.entities.len(), 8);
}

#[tokio::test]
async fn an_incomplete_export_is_partial() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("redmine/issues-1.json"),
        tmp.path().join("issues-1.json"),
    )
    .unwrap();
    let config = format!(
        "[sources.redmine-ops]\nkind = \"redmine\"\noffline_dir = \"{}\"\n",
        tmp.path().display()
    );
    let report = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    let s = &report.sources[0];
    assert_eq!(s.status, SourceStatus::Partial);
    let error = s.error.clone().unwrap_or_default();
    assert!(
        error.contains("announces 5 records, the saved pages hold 3"),
        "{error}"
    );
}

const SUPPLIERS: &str = r#"
[sources.vendor-register]
kind = "files"
path = "files/suppliers.csv"

[[sources.vendor-register.mapping.entities]]
rule = "supplier"
type = "Supplier"
streams = ["records"]
id = "$.code"
name = "$.name"
record_id = "$.code"
[sources.vendor-register.mapping.entities.attrs]
status = "$.status"
criticality = "$.criticality"
owner = { path = "$.owner_email", template = "okta-prod:{}" }
cloud_service = { path = "$.cloud", default = false }
security_clauses = { path = "$.security_clauses", default = false }
exit_plan = { path = "$.exit_plan", default = false }
contract_end_at = { path = "$.contract_end", end_of_day = true }
last_review_at = "$.last_review"
"#;

const DOCUMENTS: &str = r#"
[sources.document-register]
kind = "files"
path = "files/documents.json"
records = "$.documents[*]"
stream = "documents"

[[sources.document-register.mapping.entities]]
rule = "document"
type = "Document"
streams = ["documents"]
id = "$.id"
name = "$.title"
record_id = "$.id"
[sources.document-register.mapping.entities.attrs]
kind = "$.type"
status = "$.state"
owner = { path = "$.owner", template = "okta-prod:{}" }
approved_at = "$.approved"
next_review_at = "$.next_review"
version = "$.version"
"#;

#[tokio::test]
async fn files_csv_and_json_with_a_mapping() {
    let tmp = tempfile::tempdir().unwrap();
    let config = format!("{SUPPLIERS}\n{DOCUMENTS}");
    let report = collect(&config, &fixtures(), &tmp.path().join("evidence")).await;
    assert_ok(&report, "vendor-register");
    assert_ok(&report, "document-register");
    let first = std::fs::read_to_string(report.dir.join("records/vendor-register.jsonl")).unwrap();
    assert_eq!(
        first.lines().next().unwrap(),
        r#"{"code":"SUP-001","name":"Hetzner Online GmbH","status":"Active","criticality":"Critical","owner_email":"amara.okafor@northwind.example","cloud":"yes","security_clauses":"yes","exit_plan":"yes","contract_end":"2027-12-31","last_review":"2026-06-30"}"#
    );
    insta::assert_snapshot!(
        "files",
        format!(
            "{}\n{}",
            pretty(&entities_text(&report, "vendor-register")),
            pretty(&entities_text(&report, "document-register"))
        )
    );
}

/// A register exported into a directory that holds no file it can read: the source failed,
/// it did not find an empty register (which would make every Supplier rule vacuously true).
#[tokio::test]
async fn files_from_a_directory_with_nothing_to_read_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("exports");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("README.txt"), "exported nightly\n").unwrap();
    let config = SUPPLIERS.replace(
        "path = \"files/suppliers.csv\"",
        &format!("path = \"{}\"", dir.display()),
    );
    assert_ne!(config, SUPPLIERS);
    let report = collect(&config, &fixtures(), &tmp.path().join("evidence")).await;
    let s = &report.sources[0];
    assert_eq!(s.status, SourceStatus::Failed, "{:?}", s.error);
    let error = s.error.clone().unwrap_or_default();
    assert!(
        error.contains("holds no `csv`, `json` or `jsonl` file"),
        "{error}"
    );
}

/// `fixtures/demo/conform.toml`: the demo organisation's Jira, ServiceNow CMDB and
/// register evidence (among its other sources) from raw vendor exports, with Northwind's custom fields mapped
/// in the configuration. (Its entities were checked equal, with the same record hashes, to
/// the generated demo's; the one difference is the register's deliberately invalid risk
/// level, reported here at collection.)
#[tokio::test]
async fn the_demo_organisation_from_raw_vendor_exports() {
    let dir = fixtures().join("../demo");
    let text = std::fs::read_to_string(dir.join("conform.toml")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let plan = conform_connectors::plan(&support::sources(&text), &dir, &[]).unwrap();
    let opts = conform_connectors::CollectOptions {
        out: tmp.path().join("evidence"),
        progress: false,
        organization: None,
    };
    let report = conform_connectors::collect(plan, &opts).await.unwrap();
    let by = |n: &str| report.sources.iter().find(|s| s.name == n).unwrap().clone();
    let jira = by("jira-itsm");
    assert_eq!(
        (jira.status, jira.records, jira.entities),
        (SourceStatus::Ok, 352, 362),
        "{:?}",
        jira.error
    );
    let cmdb = by("servicenow-cmdb");
    assert_eq!(
        (cmdb.status, cmdb.records, cmdb.entities),
        (SourceStatus::Ok, 98, 98),
        "{:?}",
        cmdb.error
    );
    let register = by("org-register");
    assert_eq!(
        (register.status, register.records, register.entities),
        (SourceStatus::Partial, 40, 39)
    );
    assert!(register
        .error
        .unwrap()
        .contains("`Severe` is not one of critical, high, medium, low"));
    assert_eq!(report.manifest.organization, "Northwind Services Ltd");
    let snap = conform_engine::fs::load_snapshot(&report.dir).unwrap();
    assert!(snap.unreadable.is_empty(), "{:?}", snap.unreadable);
}
