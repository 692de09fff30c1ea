//! Jira changelogs cut short by the search: the connector fetches the complete changelog of
//! each such issue with `POST /rest/api/3/changelog/bulkfetch` (cursor in the body, a 429
//! waited out), and the approval comes from the whole history.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod support;

use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use conform_engine::snapshot::SourceStatus;
use serde_json::{json, Value};
use support::{collect, entities_text, fixtures};

const SECRET: &str = "s3cr3t-jira-changelog-Zq7XpL0w9vY2";

#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
}

type Shared = Arc<Mutex<Seen>>;

fn page(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("jira").join(name)).unwrap()
}

fn json_body(status: StatusCode, body: String) -> Response {
    (
        status,
        [("content-type", "application/json;charset=UTF-8")],
        body,
    )
        .into_response()
}

/// CHG-1001 (issue 10010) has one more history than the fixture's: its assignee changed.
const REASSIGNED: &str = "10010";

async fn search(RawQuery(q): RawQuery) -> Response {
    let second = q.unwrap_or_default().contains("nextPageToken=");
    if second {
        return json_body(StatusCode::OK, page("issues-2.json"));
    }
    let mut v: Value = serde_json::from_str(&page("issues-1.json")).unwrap();
    for issue in v["issues"].as_array_mut().unwrap() {
        if issue["id"] == REASSIGNED {
            let total = issue["changelog"]["total"].as_u64().unwrap();
            issue["changelog"]["total"] = json!(total + 1);
        }
    }
    json_body(StatusCode::OK, v.to_string())
}

/// A page of bulk changelogs as Jira answers it: with `fieldIds`, only the histories that
/// changed one of those fields.
fn changelog_page(name: &str, field_ids: Option<&Vec<Value>>) -> String {
    let mut v: Value = serde_json::from_str(&page(name)).unwrap();
    for log in v["issueChangeLogs"].as_array_mut().unwrap() {
        let reassigned = log["issueId"] == REASSIGNED;
        let histories = log["changeHistories"].as_array_mut().unwrap();
        if reassigned && name == "changelogs-1.json" {
            histories.push(json!({
                "id": "40009",
                "created": "2026-09-20T09:00:00.000+0000",
                "items": [{"field": "assignee", "fieldtype": "jira", "fieldId": "assignee",
                           "from": null, "fromString": null,
                           "to": "712020:0c1d", "toString": "Jonas Berg"}]
            }));
        }
        if let Some(ids) = field_ids {
            histories.retain(|h| {
                h["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|i| ids.contains(&i["fieldId"]))
            });
        }
    }
    v.to_string()
}

async fn bulkfetch(State(seen): State<Shared>, headers: HeaderMap, body: String) -> Response {
    assert_eq!(
        headers.get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    let body: Value = serde_json::from_str(&body).unwrap();
    let first_try = {
        let mut s = seen.lock().unwrap();
        s.bodies.push(body.clone());
        s.bodies.len() == 1
    };
    if first_try {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1"), ("content-type", "application/json")],
            json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}).to_string(),
        )
            .into_response();
    }
    let name = match body.get("nextPageToken").and_then(Value::as_str) {
        None => "changelogs-1.json",
        Some("UxAQBFRF") => "changelogs-2.json",
        Some(other) => panic!("unexpected token {other}"),
    };
    let field_ids = body.get("fieldIds").and_then(Value::as_array);
    json_body(StatusCode::OK, changelog_page(name, field_ids))
}

#[tokio::test]
async fn a_changelog_cut_short_is_fetched_whole() {
    let seen: Shared = Arc::default();
    let router = Router::new()
        .route("/rest/api/3/search/jql", get(search))
        .route("/rest/api/3/changelog/bulkfetch", post(bulkfetch))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("token"), SECRET).unwrap();
    let config = format!(
        "[sources.jira-itsm]\nkind = \"jira\"\nurl = \"{base}\"\njql = \"project = CHG\"\n\
         username = \"svc-conform@northwind.example\"\ntoken_file = \"token\"\nbackoff = \"10ms\"\n"
    );
    let report = collect(&config, tmp.path(), &tmp.path().join("evidence")).await;
    let s = &report.sources[0];
    assert_eq!(s.status, SourceStatus::Ok, "{:?}", s.error);

    // One bulk request for the one short changelog, retried after the 429, then the second
    // page by the cursor in the body.
    let bodies = seen.lock().unwrap().bodies.clone();
    assert_eq!(bodies.len(), 3, "{bodies:#?}");
    assert_eq!(bodies[1]["issueIdsOrKeys"], json!(["10010"]));
    // every history is asked for: completeness is judged against the total of all of them
    assert_eq!(bodies[1].get("fieldIds"), None, "{:#}", bodies[1]);
    assert_eq!(bodies[2]["nextPageToken"], json!("UxAQBFRF"));

    // CHG-1001 was approved and closed after the first history the search embedded.
    let chg = entities_text(&report, "jira-itsm")
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|e| e["attrs"]["key"] == "CHG-1001")
        .unwrap();
    assert_eq!(chg["attrs"]["approval"], "approved", "{chg:#}");
    assert_eq!(
        chg["attrs"]["approved_at"], "2026-09-21T10:30:00Z",
        "{chg:#}"
    );
    assert_eq!(chg["attrs"]["closed_at"], "2026-09-27T22:10:00Z", "{chg:#}");
}
