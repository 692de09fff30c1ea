//! Redmine REST API: `GET /issues.json?status_id=*&sort=id&offset=&limit=` (limit at most
//! 100), paged by offset until `total_count`, authenticated with `X-Redmine-API-Key`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{get_str, KindInput, KindSpec};
use crate::connector::{Collected, Connector, SourceContext};
use crate::error::ConfigError;
use crate::http::endpoint;
use crate::http::paging::{Paging, StreamSpec, Total};

pub const SPEC: KindSpec = KindSpec {
    kind: "redmine",
    http: true,
    keys: &["project", "status"],
    mappings: &[("redmine.toml", include_str!("../../mappings/redmine.toml"))],
    default_auth: "api-key",
    api_key_header: Some("X-Redmine-API-Key"),
    build,
};

pub const STREAM: &str = "issues";

/// Redmine caps `limit` at 100.
const MAX_PAGE: u64 = 100;

struct Redmine {
    issues: StreamSpec,
}

fn build(input: &KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>> {
    let name = input.source;
    let mut errors = Vec::new();
    let project = get_str(name, input.table, "project")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let status = get_str(name, input.table, "status")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let page_size = input.page_size.unwrap_or(MAX_PAGE);
    if page_size > MAX_PAGE {
        errors.push(ConfigError::new(
            name,
            format!("`page_size` is at most {MAX_PAGE} for Redmine"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut url = endpoint(&input.url, "issues.json");
    {
        let mut q = url.query_pairs_mut();
        if let Some(p) = &project {
            q.append_pair("project_id", p);
        }
        q.append_pair("status_id", status.as_deref().unwrap_or("*"))
            .append_pair("sort", "id")
            .append_pair("limit", &page_size.to_string())
            .append_pair("offset", "0");
    }
    Ok(Arc::new(Redmine {
        issues: StreamSpec {
            name: STREAM.into(),
            url,
            records_field: "issues",
            id_field: Some("id"),
            body: None,
            paging: Paging::Offset {
                offset_param: "offset",
                page_size,
                total: Total::Body("total_count"),
            },
        },
    }))
}

#[async_trait]
impl Connector for Redmine {
    fn kind(&self) -> &'static str {
        SPEC.kind
    }

    fn streams(&self) -> Vec<String> {
        vec![STREAM.into()]
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        ctx.streams(std::slice::from_ref(&self.issues)).await
    }
}
