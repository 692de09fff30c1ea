//! Local servers that answer exactly as the vendors do: page shapes, paging headers and
//! fields, error bodies, throttling headers. Each serves a list of records in pages and
//! injects the faults it is told to.
//!
//! Redmine is served by this local server in Redmine's exact REST format (`/issues.json`
//! with `offset`/`limit`/`total_count`, `X-Redmine-API-Key`), not by a real Redmine from
//! Debian: that needs Rails and a database, too heavy for CI.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::basic;

/// Faults to inject, by page index (from 0).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// The first request for this page is answered 429.
    pub throttle_at: Option<usize>,
    /// The first request for this page is answered 500.
    pub fail_once_at: Option<usize>,
    /// This page is always answered 500.
    pub fail_always_at: Option<usize>,
    /// This page's body is always truncated JSON.
    pub malformed_at: Option<usize>,
    /// Every request is answered with this status (401, 404, …).
    pub status: Option<u16>,
    /// Next links carry `access_token=<secret>` (as some APIs sign their links).
    pub signed_links: bool,
    /// The first request for this page is answered only after 2 seconds.
    pub slow_once_at: Option<usize>,
}

/// What the server serves and what it saw.
pub struct Server {
    pub records: Vec<Value>,
    pub page_size: usize,
    pub faults: Faults,
    pub user: String,
    pub secret: String,
    pub base: OnceLock<String>,
    hits: Mutex<BTreeMap<usize, usize>>,
    pub requests: Mutex<Vec<String>>,
}

pub enum Answer {
    Status(u16),
    Throttle,
    ServerError,
    Malformed,
    Page(Vec<Value>),
}

impl Server {
    pub fn new(
        records: Vec<Value>,
        page_size: usize,
        faults: Faults,
        user: &str,
        secret: &str,
    ) -> Self {
        Self {
            records,
            page_size,
            faults,
            user: user.into(),
            secret: secret.into(),
            base: OnceLock::new(),
            hits: Mutex::new(BTreeMap::new()),
            requests: Mutex::new(Vec::new()),
        }
    }

    pub fn pages(&self) -> usize {
        self.records.len().div_ceil(self.page_size).max(1)
    }

    /// Requests answered per page.
    pub fn hits(&self) -> BTreeMap<usize, usize> {
        self.hits.lock().unwrap().clone()
    }

    pub fn total_requests(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    async fn answer(&self, page: usize, path: &str) -> Answer {
        let (answer, slow) = self.decide(page, path);
        if slow {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        answer
    }

    fn decide(&self, page: usize, path: &str) -> (Answer, bool) {
        let n = self.hits.lock().unwrap().get(&page).copied().unwrap_or(0) + 1;
        let slow = self.faults.slow_once_at == Some(page) && n == 1;
        (self.answer_now(page, path), slow)
    }

    fn answer_now(&self, page: usize, path: &str) -> Answer {
        self.requests.lock().unwrap().push(path.to_string());
        let n = {
            let mut h = self.hits.lock().unwrap();
            let n = h.entry(page).or_default();
            *n += 1;
            *n
        };
        let f = &self.faults;
        if let Some(s) = f.status {
            return Answer::Status(s);
        }
        if f.throttle_at == Some(page) && n == 1 {
            return Answer::Throttle;
        }
        if f.fail_once_at == Some(page) && n == 1 {
            return Answer::ServerError;
        }
        if f.fail_always_at == Some(page) {
            return Answer::ServerError;
        }
        if f.malformed_at == Some(page) {
            return Answer::Malformed;
        }
        let start = page * self.page_size;
        Answer::Page(
            self.records
                .iter()
                .skip(start)
                .take(self.page_size)
                .cloned()
                .collect(),
        )
    }

    fn base(&self) -> String {
        self.base.get().cloned().unwrap_or_default()
    }

    fn sign(&self, url: String) -> String {
        if self.faults.signed_links {
            format!("{url}&access_token={}", self.secret)
        } else {
            url
        }
    }
}

type Shared = std::sync::Arc<Server>;

fn query(raw: &Option<String>) -> BTreeMap<String, String> {
    raw.as_deref()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn json_response(status: StatusCode, headers: HeaderMap, body: String) -> Response {
    let mut h = headers;
    h.insert(
        "content-type",
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    (status, h, body).into_response()
}

fn header(h: &mut HeaderMap, k: &'static str, v: &str) {
    h.insert(k, HeaderValue::from_str(v).unwrap());
}

fn epoch_in(secs: u64) -> u64 {
    (SystemTime::now() + Duration::from_secs(secs))
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn truncated(body: &str) -> String {
    body.chars().take(body.len() / 2).collect()
}

/// Starts a router on 127.0.0.1 with an ephemeral port; returns its base URL.
pub async fn serve(router: Router, server: &Shared) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    server.base.set(base.clone()).unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    base
}

// ---------------------------------------------------------------- Jira Cloud

/// `GET /rest/api/3/search/jql`: `{issues, nextPageToken, isLast}`; Basic auth; 429 with
/// `Retry-After`, `X-RateLimit-*` and `RateLimit-Reason`.
pub fn jira(server: Shared) -> Router {
    async fn search(
        State(s): State<Shared>,
        headers: HeaderMap,
        RawQuery(raw): RawQuery,
    ) -> Response {
        let q = query(&raw);
        let expected = format!("Basic {}", basic(&s.user, &s.secret));
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return (
                StatusCode::UNAUTHORIZED,
                "Client must be authenticated to access this resource.",
            )
                .into_response();
        }
        let page = q
            .get("nextPageToken")
            .and_then(|t| t.strip_prefix("CAEaAgg"))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0usize);
        let mut h = HeaderMap::new();
        match s.answer(page, "/rest/api/3/search/jql").await {
            Answer::Status(404) => json_response(StatusCode::NOT_FOUND, h, json!({"errorMessages": ["The requested resource could not be found."], "errors": {}}).to_string()),
            Answer::Status(code) => (StatusCode::from_u16(code).unwrap(), "Client must be authenticated to access this resource.").into_response(),
            Answer::Throttle => {
                header(&mut h, "retry-after", "1");
                header(&mut h, "x-ratelimit-limit", "100");
                header(&mut h, "x-ratelimit-remaining", "0");
                header(&mut h, "x-ratelimit-reset", &conform_engine::time::format_rfc3339(epoch_in(1) as i64));
                header(&mut h, "ratelimit-reason", "jira-burst-based");
                json_response(StatusCode::TOO_MANY_REQUESTS, h, json!({"errorMessages": ["Rate limit exceeded."], "errors": {}}).to_string())
            }
            Answer::ServerError => json_response(StatusCode::INTERNAL_SERVER_ERROR, h, json!({"errorMessages": ["Internal server error"], "errors": {}}).to_string()),
            Answer::Malformed => json_response(StatusCode::OK, h, truncated(&json!({"issues": s.records}).to_string())),
            Answer::Page(issues) => {
                header(&mut h, "x-ratelimit-limit", "100");
                header(&mut h, "x-ratelimit-remaining", "99");
                let last = page + 1 >= s.pages();
                let body = if last {
                    json!({"issues": issues, "isLast": true})
                } else {
                    json!({"issues": issues, "nextPageToken": format!("CAEaAgg{}", page + 1), "isLast": false})
                };
                json_response(StatusCode::OK, h, body.to_string())
            }
        }
    }
    Router::new()
        .route("/rest/api/3/search/jql", get(search))
        .with_state(server)
}

pub fn jira_issue(i: usize) -> Value {
    json!({
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": (10000 + i).to_string(),
        "self": format!("https://northwind.atlassian.net/rest/api/3/issue/{}", 10000 + i),
        "key": format!("INC-{}", 100 + i),
        "changelog": {"startAt": 0, "maxResults": 0, "total": 0, "histories": []},
        "fields": {
            "summary": format!("Incident number {i}"),
            "issuetype": {"id": "10101", "name": "Incident", "subtask": false},
            "status": {"name": "Open", "statusCategory": {"id": 2, "key": "new", "name": "To Do"}},
            "priority": {"name": "Medium", "id": "3"},
            "created": "2026-10-01T08:00:00.000+0000",
            "updated": "2026-10-02T08:00:00.000+0000",
            "resolutiondate": null,
            "duedate": null,
            "reporter": {"accountId": "712020:reporter", "displayName": "Amara Okafor"},
            "assignee": null,
            "labels": [],
            "components": [],
            "issuelinks": []
        }
    })
}

// ---------------------------------------------------------------- ServiceNow

/// `GET /api/now/table/{table}`: `{"result": [...]}`, `X-Total-Count` and a `Link` header
/// with first/prev/next/last; Basic auth; 429 with `Retry-After` and `X-RateLimit-*`
/// (reset in epoch seconds); unknown tables 404 with ServiceNow's error body.
pub fn servicenow(server: Shared) -> Router {
    async fn table(
        State(s): State<Shared>,
        Path(table): Path<String>,
        headers: HeaderMap,
        RawQuery(raw): RawQuery,
    ) -> Response {
        let q = query(&raw);
        let expected = format!("Basic {}", basic(&s.user, &s.secret));
        let mut h = HeaderMap::new();
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return json_response(StatusCode::UNAUTHORIZED, h, json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"}).to_string());
        }
        if table != "incident" {
            return json_response(StatusCode::NOT_FOUND, h, json!({"error": {"message": format!("Invalid table {table}"), "detail": null}, "status": "failure"}).to_string());
        }
        let limit: usize = q
            .get("sysparm_limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(10000);
        let offset: usize = q
            .get("sysparm_offset")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        assert_eq!(
            limit, s.page_size,
            "the connector asks for the configured page size"
        );
        let page = offset / limit;
        match s.answer(page, &format!("/api/now/table/{table}")).await {
            Answer::Status(404) => json_response(StatusCode::NOT_FOUND, h, json!({"error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"}, "status": "failure"}).to_string()),
            Answer::Status(code) => json_response(StatusCode::from_u16(code).unwrap(), h, json!({"error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"}, "status": "failure"}).to_string()),
            Answer::Throttle => {
                header(&mut h, "retry-after", "1");
                header(&mut h, "x-ratelimit-limit", "1000");
                header(&mut h, "x-ratelimit-reset", &epoch_in(1).to_string());
                header(&mut h, "x-ratelimit-rule", "a1b2c3d4e5f60718293a4b5c6d7e8f90");
                json_response(StatusCode::TOO_MANY_REQUESTS, h, json!({"error": {"message": "Rate limit exceeded", "detail": null}, "status": "failure"}).to_string())
            }
            Answer::ServerError => json_response(StatusCode::INTERNAL_SERVER_ERROR, h, json!({"error": {"message": "Transaction cancelled: maximum execution time exceeded", "detail": null}, "status": "failure"}).to_string()),
            Answer::Malformed => json_response(StatusCode::OK, h, truncated(&json!({"result": s.records}).to_string())),
            Answer::Page(result) => {
                let total = s.records.len();
                let url = |o: usize| s.sign(format!("{}/api/now/table/{table}?sysparm_limit={limit}&sysparm_offset={o}", s.base()));
                let mut links = vec![format!("<{}>;rel=\"first\"", url(0))];
                if offset > 0 {
                    links.push(format!("<{}>;rel=\"prev\"", url(offset.saturating_sub(limit))));
                }
                if offset + limit < total {
                    links.push(format!("<{}>;rel=\"next\"", url(offset + limit)));
                }
                links.push(format!("<{}>;rel=\"last\"", url((s.pages() - 1) * limit)));
                header(&mut h, "link", &links.join(","));
                header(&mut h, "x-total-count", &total.to_string());
                json_response(StatusCode::OK, h, json!({"result": result}).to_string())
            }
        }
    }
    Router::new()
        .route("/api/now/table/{table}", get(table))
        .with_state(server)
}

pub fn servicenow_incident(i: usize) -> Value {
    let sys_id = format!(
        "{:032x}",
        0x9d38_5017_c611_2287_01d2_2104_cc95_0000u128 + i as u128
    );
    json!({
        "sys_id": sys_id,
        "number": format!("INC{:07}", 10000 + i),
        "short_description": format!("Incident number {i}"),
        "state": "2",
        "priority": "3",
        "severity": "3",
        "category": "software",
        "caller_id": {"link": "https://northwind.service-now.com/api/now/table/sys_user/6816f79cc0a8016401c5a33be04be441", "value": "6816f79cc0a8016401c5a33be04be441"},
        "assigned_to": "",
        "cmdb_ci": "",
        "business_service": "",
        "major_incident_state": "",
        "opened_at": "2026-10-01 08:00:00",
        "resolved_at": "",
        "closed_at": "",
        "sys_updated_on": "2026-10-02 08:00:00"
    })
}

// ---------------------------------------------------------------- Redmine

/// `GET /issues.json`: `{issues, total_count, offset, limit}` (limit at most 100);
/// `X-Redmine-API-Key`; an unknown key is 401 with an empty body; a throttling proxy in
/// front answers 429 with `Retry-After` as an HTTP date.
pub fn redmine(server: Shared) -> Router {
    async fn issues(
        State(s): State<Shared>,
        headers: HeaderMap,
        RawQuery(raw): RawQuery,
    ) -> Response {
        let q = query(&raw);
        let mut h = HeaderMap::new();
        if headers
            .get("x-redmine-api-key")
            .and_then(|v| v.to_str().ok())
            != Some(s.secret.as_str())
        {
            header(&mut h, "www-authenticate", "Basic realm=\"Redmine API\"");
            return (StatusCode::UNAUTHORIZED, h, "").into_response();
        }
        let limit: usize = q
            .get("limit")
            .and_then(|v| v.parse().ok())
            .unwrap_or(25)
            .min(100);
        let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert_eq!(
            q.get("status_id").map(String::as_str),
            Some("*"),
            "closed issues are asked for too"
        );
        let page = offset / limit;
        match s.answer(page, "/issues.json").await {
            Answer::Status(code) => (StatusCode::from_u16(code).unwrap(), h, "").into_response(),
            Answer::Throttle => {
                header(
                    &mut h,
                    "retry-after",
                    &httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(1)),
                );
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    h,
                    "<html><body><h1>429 Too Many Requests</h1></body></html>",
                )
                    .into_response()
            }
            Answer::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                h,
                "<html><body><h1>Internal error</h1></body></html>",
            )
                .into_response(),
            Answer::Malformed => json_response(
                StatusCode::OK,
                h,
                truncated(&json!({"issues": s.records}).to_string()),
            ),
            Answer::Page(_) => {
                let issues: Vec<Value> =
                    s.records.iter().skip(offset).take(limit).cloned().collect();
                json_response(StatusCode::OK, h, json!({"issues": issues, "total_count": s.records.len(), "offset": offset, "limit": limit}).to_string())
            }
        }
    }
    Router::new()
        .route("/issues.json", get(issues))
        .with_state(server)
}

pub fn redmine_issue(i: usize) -> Value {
    json!({
        "id": 1000 + i,
        "project": {"id": 1, "name": "IT Operations"},
        "tracker": {"id": 1, "name": "Bug"},
        "status": {"id": 1, "name": "New", "is_closed": false},
        "priority": {"id": 2, "name": "Normal"},
        "author": {"id": 5, "name": "Amara Okafor"},
        "subject": format!("Issue number {i}"),
        "description": "",
        "start_date": "2026-09-01",
        "due_date": null,
        "done_ratio": 0,
        "is_private": false,
        "estimated_hours": null,
        "custom_fields": [{"id": 1, "name": "Severity", "value": ""}],
        "created_on": "2026-09-01T08:00:00Z",
        "updated_on": "2026-09-02T08:00:00Z",
        "closed_on": null
    })
}

// ---------------------------------------------------------------- NetBox

/// `GET /api/dcim/devices/` and `/api/virtualization/virtual-machines/`:
/// `{count, next, previous, results}` with absolute next/previous URLs;
/// `Authorization: Token <token>`; a bad token is 403 `{"detail": "Invalid token"}`.
pub fn netbox(server: Shared) -> Router {
    async fn list(
        s: Shared,
        headers: HeaderMap,
        raw: Option<String>,
        path: &'static str,
        serve_records: bool,
    ) -> Response {
        let q = query(&raw);
        let mut h = HeaderMap::new();
        header(&mut h, "api-version", "4.1");
        let expected = format!("Token {}", s.secret);
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return json_response(
                StatusCode::FORBIDDEN,
                h,
                json!({"detail": "Invalid token"}).to_string(),
            );
        }
        let limit: usize = q.get("limit").and_then(|v| v.parse().ok()).unwrap_or(50);
        let offset: usize = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
        if !serve_records {
            return json_response(
                StatusCode::OK,
                h,
                json!({"count": 0, "next": null, "previous": null, "results": []}).to_string(),
            );
        }
        let page = offset / limit;
        match s.answer(page, path).await {
            Answer::Status(404) => json_response(
                StatusCode::NOT_FOUND,
                h,
                json!({"detail": "Not found."}).to_string(),
            ),
            Answer::Status(code) => json_response(
                StatusCode::from_u16(code).unwrap(),
                h,
                json!({"detail": "Invalid token"}).to_string(),
            ),
            Answer::Throttle => {
                header(&mut h, "retry-after", "1");
                json_response(
                    StatusCode::TOO_MANY_REQUESTS,
                    h,
                    json!({"detail": "Request was throttled. Expected available in 1 second."})
                        .to_string(),
                )
            }
            Answer::ServerError => (
                StatusCode::INTERNAL_SERVER_ERROR,
                h,
                "<h1>Server Error (500)</h1>",
            )
                .into_response(),
            Answer::Malformed => json_response(
                StatusCode::OK,
                h,
                truncated(&json!({"count": s.records.len(), "results": s.records}).to_string()),
            ),
            Answer::Page(results) => {
                let total = s.records.len();
                let url = |o: usize| s.sign(format!("{}{path}?limit={limit}&offset={o}", s.base()));
                let next = (offset + limit < total).then(|| url(offset + limit));
                let previous = (offset > 0).then(|| url(offset.saturating_sub(limit)));
                json_response(
                    StatusCode::OK,
                    h,
                    json!({"count": total, "next": next, "previous": previous, "results": results})
                        .to_string(),
                )
            }
        }
    }
    async fn devices(
        State(s): State<Shared>,
        headers: HeaderMap,
        RawQuery(raw): RawQuery,
    ) -> Response {
        list(s, headers, raw, "/api/dcim/devices/", true).await
    }
    async fn vms(State(s): State<Shared>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
        list(
            s,
            headers,
            raw,
            "/api/virtualization/virtual-machines/",
            false,
        )
        .await
    }
    Router::new()
        .route("/api/dcim/devices/", get(devices))
        .route("/api/virtualization/virtual-machines/", get(vms))
        .with_state(server)
}

pub fn netbox_device(i: usize) -> Value {
    json!({
        "id": i + 1,
        "url": format!("https://netbox.northwind.example/api/dcim/devices/{}/", i + 1),
        "display": format!("srv-{i:03}"),
        "name": format!("srv-{i:03}"),
        "role": {"id": 1, "name": "Server", "slug": "server"},
        "platform": {"id": 2, "name": "Ubuntu", "slug": "ubuntu"},
        "status": {"value": "active", "label": "Active"},
        "custom_fields": {"environment": "prod", "criticality": "high", "isms_scope": true, "owner": null},
        "created": "2024-05-02T10:00:00.123456Z",
        "last_updated": "2026-10-01T08:30:00.654321Z"
    })
}
