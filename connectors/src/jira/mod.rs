//! Jira Cloud: `GET /rest/api/3/search/jql` paged by `nextPageToken` until `isLast`, with
//! `fields` (all navigable fields by default, so that custom fields come back) and
//! `expand=changelog` (approvals are status transitions in the changelog).
//!
//! A search embeds only the first page of each issue's changelog (`changelog.total` says how
//! many histories there are). For every issue whose embedded changelog is short of its
//! total, the whole changelog is fetched with `POST /rest/api/3/changelog/bulkfetch`
//! (`{issueIdsOrKeys, maxResults, nextPageToken}` → `{issueChangeLogs:
//! [{issueId, changeHistories}], nextPageToken}`) into the stream `changelogs`, which the
//! mapping joins to the issue by id. No `fieldIds` filter: the histories fetched are counted
//! against the issue's total of all its histories, and a site may map approval from any
//! field's history. An issue whose changelog stays incomplete is reported
//! and the source is partial: an approval that fell off the first page is never read as
//! "no approval needed".

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use crate::config::{get_list, get_str, KindInput, KindSpec};
use crate::connector::{Collected, Connector, SourceContext};
use crate::error::ConfigError;
use crate::http::endpoint;
use crate::http::paging::{Paging, StreamSpec};

pub const SPEC: KindSpec = KindSpec {
    kind: "jira",
    http: true,
    keys: &["jql", "fields", "expand"],
    mappings: &[("jira.toml", include_str!("../../mappings/jira.toml"))],
    default_auth: "basic",
    api_key_header: None,
    build,
};

/// The stream of a Jira source (and its offline file name).
pub const STREAM: &str = "issues";

/// The stream of complete changelogs (and its offline file name).
pub const CHANGELOGS: &str = "changelogs";

/// The largest page Jira returns with fields.
const MAX_PAGE: u64 = 5000;

/// The most issues one bulk changelog request may name.
const BULK_ISSUES: usize = 1000;

struct Jira {
    search: StreamSpec,
    /// `POST /rest/api/3/changelog/bulkfetch`.
    bulkfetch: reqwest::Url,
}

fn build(input: &KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>> {
    let name = input.source;
    let t = input.table;
    let mut errors = Vec::new();
    let jql = get_str(name, t, "jql")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if jql.is_none() && !input.offline {
        errors.push(ConfigError::new(
            name,
            "`jql` is missing: Jira answers only bounded searches, e.g. `jql = \"project in (INC, CHG) ORDER BY key\"`",
        ));
    }
    let fields = get_list(name, t, "fields")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let expand = get_list(name, t, "expand")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let page_size = input.page_size.unwrap_or(100);
    if page_size > MAX_PAGE {
        errors.push(ConfigError::new(
            name,
            format!("`page_size` is at most {MAX_PAGE} for Jira"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut url = endpoint(&input.url, "rest/api/3/search/jql");
    url.query_pairs_mut()
        .append_pair("jql", jql.as_deref().unwrap_or_default())
        .append_pair(
            "fields",
            &fields
                .unwrap_or_else(|| vec!["*navigable".into()])
                .join(","),
        )
        .append_pair(
            "expand",
            &expand.unwrap_or_else(|| vec!["changelog".into()]).join(","),
        )
        .append_pair("maxResults", &page_size.to_string());
    let bulkfetch = endpoint(&input.url, "rest/api/3/changelog/bulkfetch");
    Ok(Arc::new(Jira {
        bulkfetch,
        search: StreamSpec {
            name: STREAM.into(),
            url,
            records_field: "issues",
            id_field: Some("id"),
            body: None,
            paging: Paging::Cursor {
                param: "nextPageToken",
                token_field: "nextPageToken",
                last_field: "isLast",
            },
        },
    }))
}

#[async_trait]
impl Connector for Jira {
    fn kind(&self) -> &'static str {
        SPEC.kind
    }

    fn streams(&self) -> Vec<String> {
        vec![STREAM.into(), CHANGELOGS.into()]
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        let mut collected = ctx.streams(std::slice::from_ref(&self.search)).await;
        let short = short_changelogs(&collected);
        if short.is_empty() {
            return collected;
        }
        // Offline, the saved `changelogs` responses are read once; online, one request names
        // at most BULK_ISSUES issues.
        let chunks: Vec<&[(String, u64)]> = if ctx.offline_dir.is_some() {
            vec![&short[..]]
        } else {
            short.chunks(BULK_ISSUES).collect()
        };
        for chunk in chunks {
            let spec = StreamSpec {
                name: CHANGELOGS.into(),
                url: self.bulkfetch.clone(),
                records_field: "issueChangeLogs",
                // One issue's histories may span pages: nothing to deduplicate.
                id_field: None,
                paging: Paging::Cursor {
                    param: "nextPageToken",
                    token_field: "nextPageToken",
                    last_field: "isLast",
                },
                body: Some(json!({
                    "issueIdsOrKeys": chunk.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                    "maxResults": 1000,
                })),
            };
            let mut out = ctx.stream(&spec).await;
            // The issues stand without their full changelogs: a fault here leaves the
            // source partial (`still_short` names each issue), not failed.
            out.errors.extend(out.fatal.take());
            collected.add(CHANGELOGS, out);
        }
        for message in still_short(&collected, &short) {
            collected.errors.push(message);
        }
        collected
    }
}

fn histories(v: &Value, field: &str) -> usize {
    v.get(field).and_then(Value::as_array).map_or(0, Vec::len)
}

/// The issues (id, total histories) whose embedded changelog is short of its total.
fn short_changelogs(collected: &Collected) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for r in collected.records.iter().filter(|r| r.stream == STREAM) {
        let Ok(issue) = serde_json::from_slice::<Value>(&r.bytes) else {
            continue;
        };
        let Some(changelog) = issue.get("changelog") else {
            continue;
        };
        let total = changelog.get("total").and_then(Value::as_u64).unwrap_or(0);
        let id = issue.get("id").and_then(Value::as_str);
        if let Some(id) = id.filter(|_| (histories(changelog, "histories") as u64) < total) {
            out.push((id.to_string(), total));
        }
    }
    out
}

/// An error for each issue whose fetched changelog still holds fewer histories than the
/// search announced.
fn still_short(collected: &Collected, short: &[(String, u64)]) -> Vec<String> {
    let mut got: BTreeMap<String, u64> = BTreeMap::new();
    for r in collected.records.iter().filter(|r| r.stream == CHANGELOGS) {
        let Ok(v) = serde_json::from_slice::<Value>(&r.bytes) else {
            continue;
        };
        if let Some(id) = v.get("issueId").and_then(Value::as_str) {
            *got.entry(id.to_string()).or_default() += histories(&v, "changeHistories") as u64;
        }
    }
    short
        .iter()
        .filter_map(|(id, total)| {
            let n = got.get(id).copied().unwrap_or(0);
            (n < *total).then(|| {
                format!(
                    "issue `{id}`: its changelog holds {total} histories and only {n} were collected; its approval history is incomplete"
                )
            })
        })
        .collect()
}
