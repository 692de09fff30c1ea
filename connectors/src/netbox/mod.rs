//! NetBox REST API: devices (`/api/dcim/devices/`) and virtual machines
//! (`/api/virtualization/virtual-machines/`), paged by `limit`/`offset` following the body's
//! `next` URL (`count` sizes the progress bar); newer NetBox versions answer cursor pages
//! (`?start=`) the same way, with `count` null. `Authorization: Token <token>` (v1 tokens)
//! by default, `auth = "bearer"` for v2 tokens.

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{get_list, KindInput, KindSpec};
use crate::connector::{Collected, Connector, SourceContext};
use crate::error::ConfigError;
use crate::http::endpoint;
use crate::http::paging::{Paging, StreamSpec, Total};

pub const SPEC: KindSpec = KindSpec {
    kind: "netbox",
    http: true,
    keys: &["streams"],
    mappings: &[("netbox.toml", include_str!("../../mappings/netbox.toml"))],
    default_auth: "token",
    api_key_header: None,
    build,
};

/// Stream name → API path.
pub const ENDPOINTS: &[(&str, &str)] = &[
    ("devices", "api/dcim/devices/"),
    ("virtual-machines", "api/virtualization/virtual-machines/"),
];

/// NetBox's `MAX_PAGE_SIZE` default.
const MAX_PAGE: u64 = 1000;

struct NetBox {
    streams: Vec<StreamSpec>,
}

fn build(input: &KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>> {
    let name = input.source;
    let mut errors = Vec::new();
    let wanted = get_list(name, input.table, "streams")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or_else(|| ENDPOINTS.iter().map(|(s, _)| s.to_string()).collect());
    for w in &wanted {
        if !ENDPOINTS.iter().any(|(s, _)| s == w) {
            errors.push(ConfigError::new(
                name,
                format!("`streams`: unknown stream `{w}` (expected `devices`, `virtual-machines`)"),
            ));
        }
    }
    let page_size = input.page_size.unwrap_or(100);
    if page_size > MAX_PAGE {
        errors.push(ConfigError::new(
            name,
            format!("`page_size` is at most {MAX_PAGE} for NetBox"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let streams = ENDPOINTS
        .iter()
        .filter(|(s, _)| wanted.iter().any(|w| w == s))
        .map(|(stream, path)| {
            let mut url = endpoint(&input.url, path);
            url.query_pairs_mut()
                .append_pair("limit", &page_size.to_string())
                .append_pair("offset", "0");
            if *stream == "devices" {
                url.query_pairs_mut()
                    .append_pair("exclude", "config_context");
            }
            StreamSpec {
                name: stream.to_string(),
                url,
                records_field: "results",
                id_field: Some("id"),
                body: None,
                paging: Paging::BodyNext {
                    field: "next",
                    total: Total::Body("count"),
                },
            }
        })
        .collect();
    Ok(Arc::new(NetBox { streams }))
}

#[async_trait]
impl Connector for NetBox {
    fn kind(&self) -> &'static str {
        SPEC.kind
    }

    fn streams(&self) -> Vec<String> {
        self.streams.iter().map(|s| s.name.clone()).collect()
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        ctx.streams(&self.streams).await
    }
}
