//! `[sources.*]` validation: every problem reported at once, clearly, before anything is
//! collected; and one failing source does not stop the others.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::Arc;

use conform_engine::snapshot::SourceStatus;
use support::harness::{secret_for, USER};
use support::vendors::{self, Faults, Server};
use support::{collect, config_error, fixtures, Logs};

fn base() -> std::path::PathBuf {
    fixtures()
}

#[test]
fn unknown_keys_and_kinds_are_named() {
    let err = config_error(
        r#"
[sources.jira-itsm]
kind = "jira"
url = "https://northwind.atlassian.net"
jql = "project = INC"
username = "svc@northwind.example"
token_env = "CONFORM_TEST_JIRA_TOKEN_SET"
colour = "blue"
api_token = "do-not-put-me-here"

[sources.okta]
kind = "octa"
"#,
        &base(),
        &[],
    );
    assert!(
        err.contains("source `jira-itsm`: unknown key `colour` for kind `jira`"),
        "{err}"
    );
    assert!(
        err.contains("unknown key `api_token`")
            && err.contains("never written in the configuration"),
        "{err}"
    );
    assert!(!err.contains("do-not-put-me-here"), "{err}");
    assert!(err.contains("source `okta`: unknown kind `octa` (expected one of `jira`, `servicenow`, `redmine`, `netbox`, `files`)"), "{err}");
}

#[test]
fn missing_secrets_are_named_by_variable() {
    let err = config_error(
        r#"
[sources.jira-itsm]
kind = "jira"
url = "https://northwind.atlassian.net"
jql = "project = INC"
username = "svc@northwind.example"
token_env = "CONFORM_TEST_SURELY_UNSET_JIRA_TOKEN"

[sources.netbox-dc]
kind = "netbox"
url = "https://netbox.northwind.example"
"#,
        &base(),
        &[],
    );
    assert!(
        err.starts_with("2 problems in the sources configuration:"),
        "{err}"
    );
    assert!(err.contains("source `jira-itsm`: environment variable `CONFORM_TEST_SURELY_UNSET_JIRA_TOKEN` (named by `token_env`) is not set"), "{err}");
    assert!(err.contains("source `netbox-dc`: `auth = \"token\"` needs a secret: set `token_env` (an environment variable) or `token_file`"), "{err}");
}

#[test]
fn bad_jsonpath_is_reported_with_its_position() {
    let err = config_error(
        r#"
[sources.jira-itsm]
kind = "jira"
offline_dir = "jira"
[sources.jira-itsm.mapping]
approver = "$.fields.customfield_10010[?@.state = 'x'].accountId"
colour = "$.fields.colour"
"#,
        &base(),
        &[],
    );
    assert!(err.contains("source `jira-itsm`: mapping: rule `issue` attribute `approver`: invalid JSONPath `$.fields.customfield_10010[?@.state = 'x'].accountId` at column "), "{err}");
    assert!(err.contains("source `jira-itsm`: mapping override: no entity of this mapping has attribute `colour` (types: `Ticket`)"), "{err}");
}

#[test]
fn mapping_values_are_checked_against_the_model() {
    let err = config_error(
        r#"
[sources.jira-itsm]
kind = "jira"
offline_dir = "jira"
[sources.jira-itsm.mapping]
backout_plan = false
[sources.jira-itsm.mapping.maps.statuses]
"Blocked" = "stuck"
"#,
        &base(),
        &[],
    );
    assert!(err.contains("rule `issue` attribute `status`: value map `statuses`: `stuck` is not one of new, open, in_progress, pending, resolved, closed, cancelled"), "{err}");
    assert!(
        err.contains("rule `issue`: required attribute `backout_plan` of `Ticket` is not mapped"),
        "{err}"
    );
}

#[test]
fn credentials_in_urls_are_refused_without_being_printed() {
    let err = config_error(
        r#"
[sources.servicenow-prod]
kind = "servicenow"
url = "https://admin:hunter2@northwind.service-now.com"
username = "admin"
token_file = "/dev/null"
"#,
        &base(),
        &[],
    );
    assert!(
        err.contains("`url` `https://***@northwind.service-now.com/` holds credentials"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
fn selecting_an_unknown_source_lists_the_configured_ones() {
    let err = config_error(
        "[sources.jira-itsm]\nkind = \"jira\"\noffline_dir = \"jira\"\n",
        &base(),
        &["jira".to_string()],
    );
    assert_eq!(
        err,
        "source `jira`: no such source in `[sources]` (configured: `jira-itsm`)"
    );
}

#[test]
fn files_need_a_mapping() {
    let err = config_error(
        "[sources.vendors]\nkind = \"files\"\npath = \"files/suppliers.csv\"\n",
        &base(),
        &[],
    );
    assert!(err.contains("kind `files` has no default mapping, so give `mapping_file` or `[[sources.vendors.mapping.entities]]`"), "{err}");
}

#[tokio::test]
async fn secrets_come_from_the_environment_and_a_failing_source_does_not_stop_the_others() {
    let logs = Logs::capture();
    let secret = secret_for("env");
    std::env::set_var("CONFORM_TEST_JIRA_TOKEN_ENV", &secret);
    let records = (0..7).map(vendors::jira_issue).collect();
    let good = Arc::new(Server::new(records, 5, Faults::default(), USER, &secret));
    let good_url = vendors::serve(vendors::jira(good.clone()), &good).await;
    let refused = Arc::new(Server::new(
        Vec::new(),
        5,
        Faults::default(),
        USER,
        "another-secret",
    ));
    let refused_url = vendors::serve(vendors::jira(refused.clone()), &refused).await;
    let config = format!(
        r#"
[sources.jira-good]
kind = "jira"
url = "{good_url}"
jql = "project = INC"
username = "{USER}"
token_env = "CONFORM_TEST_JIRA_TOKEN_ENV"

[sources.jira-refused]
kind = "jira"
url = "{refused_url}"
jql = "project = INC"
username = "{USER}"
token_env = "CONFORM_TEST_JIRA_TOKEN_ENV"

[sources.redmine-offline]
kind = "redmine"
offline_dir = "{}"
"#,
        fixtures().join("redmine").display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let report = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    let by = |n: &str| report.sources.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(by("jira-good").status, SourceStatus::Ok);
    assert_eq!(by("jira-good").entities, 7);
    assert_eq!(by("jira-refused").status, SourceStatus::Failed);
    assert!(by("jira-refused").error.unwrap().contains("HTTP 401"));
    assert_eq!(by("redmine-offline").status, SourceStatus::Ok);
    let m = &report.manifest;
    assert_eq!(m.sources.len(), 3);
    assert_eq!(
        m.sources[1].provides,
        ["Ticket"],
        "a failed source still says what it should provide"
    );
    let snap = conform_engine::fs::load_snapshot(&report.dir).unwrap();
    assert_eq!(snap.entities.len(), 12);
    let all = format!(
        "{}{:?}{}",
        logs.text(),
        report,
        support::snapshot_text(&report)
    );
    assert!(!all.contains(&secret), "the secret leaked");
    assert!(
        !all.contains(&support::basic(USER, &secret)),
        "the secret leaked"
    );
}

#[tokio::test]
async fn a_snapshot_is_never_written_into_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let config = format!(
        "[sources.redmine-ops]\nkind = \"redmine\"\noffline_dir = \"{}\"\n",
        fixtures().join("redmine").display()
    );
    let first = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    let name = first
        .dir
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.len() > 16 && name.contains('-'),
        "named by time and id: {name}"
    );
    let plan = conform_connectors::plan(&support::sources(&config), tmp.path(), &[]).unwrap();
    let opts = conform_connectors::CollectOptions {
        out: first.dir.clone(),
        progress: false,
        organization: None,
    };
    let err = conform_connectors::collect(plan, &opts)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is a snapshot, not a directory of snapshots"),
        "{err}"
    );
    // The next collection into the directory is a new snapshot beside the first, and the
    // organisation carries over.
    let plan = conform_connectors::plan(&support::sources(&config), tmp.path(), &[]).unwrap();
    let opts = conform_connectors::CollectOptions {
        out: tmp.path().join("evidence"),
        progress: false,
        organization: None,
    };
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = conform_connectors::collect(plan, &opts).await.unwrap();
    assert_ne!(second.dir, first.dir);
    assert_eq!(second.manifest.organization, "Northwind Services Ltd");
}
