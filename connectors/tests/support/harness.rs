//! The conformance harness every HTTP connector passes: paging is complete with no record
//! lost or duplicated, a 429 with `Retry-After` in the middle of paging is waited out, one
//! transient 500 is retried, a permanent fault (401 / 404) fails the source, a malformed
//! page is reported with the source, the URL without secrets and the position, and the
//! configured secrets appear nowhere in the logs, the snapshot or the errors.
//!
//! Timing is never asserted (Retry-After is 1 second at most).

use std::sync::Arc;

use axum::Router;
use conform_connectors::CollectReport;
use conform_engine::snapshot::SourceStatus;
use serde_json::Value;

use super::vendors::{self, Faults, Server};
use super::{basic, collect, records, snapshot_text, Logs};

pub const RECORDS: usize = 23;
pub const PAGE: usize = 5;
pub const USER: &str = "svc-conform@northwind.example";

/// One vendor as the harness sees it.
pub trait Vendor {
    /// The source's name in the test configuration.
    const SOURCE: &'static str;
    /// A malformed page is skipped and paging goes on (offset paging), rather than ending
    /// the stream.
    const SKIPS_MALFORMED_PAGE: bool;
    /// A permanent refusal of the credentials answers this status (NetBox says 403).
    const AUTH_STATUS: u16 = 401;
    fn router(server: Arc<Server>) -> Router;
    fn record(i: usize) -> Value;
    /// The record's id field.
    fn id(record: &Value) -> String;
    /// The `[sources.<SOURCE>]` section.
    fn config(base: &str, secret_file: &str) -> String;
}

/// A secret no server, log or file would contain by accident.
pub fn secret_for(kind: &str) -> String {
    format!("s3cr3t-{kind}-Zq7XpL0w9vY2")
}

pub struct Run {
    pub server: Arc<Server>,
    pub report: CollectReport,
    pub logs: String,
    pub secret: String,
    _dir: tempfile::TempDir,
}

impl Run {
    pub fn source(&self, name: &str) -> &conform_connectors::SourceSummary {
        self.report.sources.iter().find(|s| s.name == name).unwrap()
    }

    pub fn ids(&self, source: &str) -> Vec<String> {
        records(&self.report, source)
            .iter()
            .map(|_| String::new())
            .collect()
    }

    /// Nothing the run produced holds the secret, in clear or as HTTP Basic sends it.
    pub fn assert_no_secret(&self) {
        let forms = [self.secret.clone(), basic(USER, &self.secret)];
        let errors: Vec<String> = self
            .report
            .sources
            .iter()
            .filter_map(|s| s.error.clone())
            .collect();
        let places = [
            ("logs", self.logs.clone()),
            ("snapshot", snapshot_text(&self.report)),
            ("errors", errors.join("\n")),
            ("report", format!("{:?}", self.report)),
        ];
        for (what, text) in places {
            for f in &forms {
                assert!(
                    !text.contains(f.as_str()),
                    "the secret appears in the {what}:\n{text}"
                );
            }
        }
    }
}

pub async fn run<V: Vendor>(faults: Faults) -> Run {
    run_with::<V>(faults, "10s").await
}

/// Serves the vendor's records with `faults`, collects them, and captures the logs.
pub async fn run_with<V: Vendor>(faults: Faults, timeout: &str) -> Run {
    let logs = Logs::capture();
    let secret = secret_for(V::SOURCE);
    let records: Vec<Value> = (0..RECORDS).map(V::record).collect();
    let server = Arc::new(Server::new(records, PAGE, faults, USER, &secret));
    let base = vendors::serve(V::router(server.clone()), &server).await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("token");
    std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
    let config = format!(
        "{}\nbackoff = \"10ms\"\nretries = 3\ntimeout = \"{timeout}\"\n",
        V::config(&base, &secret_file.display().to_string())
    );
    let out = dir.path().join("evidence");
    let report = collect(&config, dir.path(), &out).await;
    Run {
        server,
        report,
        logs: logs.text(),
        secret,
        _dir: dir,
    }
}

fn ids<V: Vendor>(run: &Run) -> Vec<String> {
    records(&run.report, V::SOURCE).iter().map(V::id).collect()
}

fn expected<V: Vendor>(range: impl Iterator<Item = usize>) -> Vec<String> {
    range.map(|i| V::id(&V::record(i))).collect()
}

/// Every page, through a 429 with Retry-After on page 3 and a 500 on page 4: every record
/// arrives once, in order, and is normalized.
pub async fn complete<V: Vendor>() {
    let run = run::<V>(Faults {
        throttle_at: Some(2),
        fail_once_at: Some(3),
        ..Faults::default()
    })
    .await;
    let s = run.source(V::SOURCE);
    assert_eq!(s.status, SourceStatus::Ok, "{:?}\n{}", s.error, run.logs);
    assert_eq!(
        ids::<V>(&run),
        expected::<V>(0..RECORDS),
        "every record once, in order"
    );
    assert_eq!(s.records, RECORDS as u64);
    assert_eq!(
        s.entities, RECORDS as u64,
        "every record normalized: {:?}",
        s.error
    );
    let hits = run.server.hits();
    assert_eq!(
        hits.get(&2),
        Some(&2),
        "the throttled page was asked again: {hits:?}"
    );
    assert_eq!(
        hits.get(&3),
        Some(&2),
        "the failed page was retried: {hits:?}"
    );
    assert!(
        run.logs.contains("throttled"),
        "the wait is logged:\n{}",
        run.logs
    );
    run.assert_no_secret();
}

/// A request that times out is retried like a transient fault.
pub async fn timeout<V: Vendor>() {
    let run = run_with::<V>(
        Faults {
            slow_once_at: Some(1),
            ..Faults::default()
        },
        "500ms",
    )
    .await;
    let s = run.source(V::SOURCE);
    assert_eq!(s.status, SourceStatus::Ok, "{:?}\n{}", s.error, run.logs);
    assert_eq!(ids::<V>(&run), expected::<V>(0..RECORDS));
    assert!(run.logs.contains("timed out"), "{}", run.logs);
    run.assert_no_secret();
}

/// A refusal (401 / 403) or a missing endpoint (404) fails the source at once: no retry.
pub async fn permanent<V: Vendor>(status: u16) {
    let run = run::<V>(Faults {
        status: Some(status),
        ..Faults::default()
    })
    .await;
    let s = run.source(V::SOURCE);
    assert_eq!(s.status, SourceStatus::Failed, "{:?}", s.error);
    let error = s.error.clone().unwrap_or_default();
    assert!(error.contains(&format!("HTTP {status}")), "{error}");
    assert_eq!(s.records, 0);
    assert_eq!(
        run.server.total_requests(),
        1,
        "a permanent fault is not retried"
    );
    assert!(
        run.logs.contains(V::SOURCE),
        "the logs name the source:\n{}",
        run.logs
    );
    run.assert_no_secret();
}

/// A 500 that does not go away: bounded attempts, then the source is partial (the pages
/// before were collected) with the error.
pub async fn exhausted<V: Vendor>() {
    let run = run::<V>(Faults {
        fail_always_at: Some(1),
        ..Faults::default()
    })
    .await;
    let s = run.source(V::SOURCE);
    assert_eq!(s.status, SourceStatus::Partial, "{:?}", s.error);
    let error = s.error.clone().unwrap_or_default();
    assert!(
        error.contains("after 4 attempts") && error.contains("HTTP 500"),
        "{error}"
    );
    assert_eq!(
        run.server.hits().get(&1),
        Some(&4),
        "retries = 3 means 4 attempts"
    );
    assert_eq!(ids::<V>(&run), expected::<V>(0..PAGE));
    run.assert_no_secret();
}

/// Page 3 is truncated JSON: the source is partial; the error names the URL (without the
/// secret a signed link carries) and the page; the records before it (and after it, for
/// offset paging) arrive once.
pub async fn malformed<V: Vendor>() {
    let run = run::<V>(Faults {
        malformed_at: Some(2),
        signed_links: true,
        ..Faults::default()
    })
    .await;
    let s = run.source(V::SOURCE);
    assert_eq!(s.status, SourceStatus::Partial, "{:?}", s.error);
    let error = s.error.clone().unwrap_or_default();
    let base = run.server.base.get().cloned().unwrap_or_default();
    println!("{error}");
    assert!(error.contains("malformed page from"), "{error}");
    assert!(error.contains(&base), "the error names the URL: {error}");
    assert!(
        error.contains("page 3"),
        "the error says which page: {error}"
    );
    assert!(error.contains("line 1 column"), "and where in it: {error}");
    assert!(
        run.logs.contains(&format!("source `{}`", V::SOURCE)),
        "the logs name the source:\n{}",
        run.logs
    );
    let want: Vec<String> = if V::SKIPS_MALFORMED_PAGE {
        expected::<V>((0..RECORDS).filter(|i| i / PAGE != 2))
    } else {
        expected::<V>(0..2 * PAGE)
    };
    assert_eq!(ids::<V>(&run), want);
    run.assert_no_secret();
}

// ------------------------------------------------------------------ the vendors

pub struct Jira;
impl Vendor for Jira {
    const SOURCE: &'static str = "jira-itsm";
    const SKIPS_MALFORMED_PAGE: bool = false;
    fn router(s: Arc<Server>) -> Router {
        vendors::jira(s)
    }
    fn record(i: usize) -> Value {
        vendors::jira_issue(i)
    }
    fn id(r: &Value) -> String {
        r["id"].as_str().unwrap_or_default().to_string()
    }
    fn config(base: &str, secret_file: &str) -> String {
        format!(
            "[sources.jira-itsm]\nkind = \"jira\"\nurl = \"{base}\"\njql = \"project = INC ORDER BY key\"\nusername = \"{USER}\"\ntoken_file = \"{secret_file}\"\npage_size = {PAGE}"
        )
    }
}

pub struct ServiceNow;
impl Vendor for ServiceNow {
    const SOURCE: &'static str = "servicenow-prod";
    const SKIPS_MALFORMED_PAGE: bool = false;
    fn router(s: Arc<Server>) -> Router {
        vendors::servicenow(s)
    }
    fn record(i: usize) -> Value {
        vendors::servicenow_incident(i)
    }
    fn id(r: &Value) -> String {
        r["sys_id"].as_str().unwrap_or_default().to_string()
    }
    fn config(base: &str, secret_file: &str) -> String {
        format!(
            "[sources.servicenow-prod]\nkind = \"servicenow\"\nurl = \"{base}\"\ntables = [\"incident\"]\nusername = \"{USER}\"\ntoken_file = \"{secret_file}\"\npage_size = {PAGE}"
        )
    }
}

pub struct Redmine;
impl Vendor for Redmine {
    const SOURCE: &'static str = "redmine-ops";
    const SKIPS_MALFORMED_PAGE: bool = true;
    fn router(s: Arc<Server>) -> Router {
        vendors::redmine(s)
    }
    fn record(i: usize) -> Value {
        vendors::redmine_issue(i)
    }
    fn id(r: &Value) -> String {
        r["id"].to_string()
    }
    fn config(base: &str, secret_file: &str) -> String {
        format!(
            "[sources.redmine-ops]\nkind = \"redmine\"\nurl = \"{base}\"\ntoken_file = \"{secret_file}\"\npage_size = {PAGE}"
        )
    }
}

pub struct NetBox;
impl Vendor for NetBox {
    const SOURCE: &'static str = "netbox-dc";
    const SKIPS_MALFORMED_PAGE: bool = false;
    const AUTH_STATUS: u16 = 403;
    fn router(s: Arc<Server>) -> Router {
        vendors::netbox(s)
    }
    fn record(i: usize) -> Value {
        vendors::netbox_device(i)
    }
    fn id(r: &Value) -> String {
        r["id"].to_string()
    }
    fn config(base: &str, secret_file: &str) -> String {
        format!(
            "[sources.netbox-dc]\nkind = \"netbox\"\nurl = \"{base}\"\nstreams = [\"devices\"]\ntoken_file = \"{secret_file}\"\npage_size = {PAGE}"
        )
    }
}
