//! Jira Cloud: `GET /rest/api/3/search/jql` paged by `nextPageToken` until `isLast`, with
//! `fields` (all navigable fields by default, so that custom fields come back) and
//! `expand=changelog` (approvals are status transitions in the changelog).

use std::sync::Arc;

use async_trait::async_trait;

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

/// The largest page Jira returns with fields.
const MAX_PAGE: u64 = 5000;

struct Jira {
    search: StreamSpec,
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
    Ok(Arc::new(Jira {
        search: StreamSpec {
            name: STREAM.into(),
            url,
            records_field: "issues",
            id_field: "id",
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
        vec![STREAM.into()]
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        ctx.streams(std::slice::from_ref(&self.search)).await
    }
}
