//! ServiceNow Table API: `GET /api/now/table/{table}` for each configured table, ordered by
//! `sys_id`, paged by `sysparm_limit` / `sysparm_offset` following the `Link: rel="next"`
//! header (`X-Total-Count` sizes the progress bar). Values are raw (`sysparm_display_value=
//! false`), so reference fields come as `{"link": …, "value": sys_id}` and the mapping turns
//! the `value` into the referenced entity's id.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{get_list, KindInput, KindSpec};
use crate::connector::{Collected, Connector, SourceContext};
use crate::error::ConfigError;
use crate::http::endpoint;
use crate::http::paging::{Paging, StreamSpec, Total};

pub const SPEC: KindSpec = KindSpec {
    kind: "servicenow",
    http: true,
    keys: &["tables", "queries"],
    mappings: &[
        (
            "servicenow-tickets.toml",
            include_str!("../../mappings/servicenow-tickets.toml"),
        ),
        (
            "servicenow-cmdb.toml",
            include_str!("../../mappings/servicenow-cmdb.toml"),
        ),
        (
            "servicenow-users.toml",
            include_str!("../../mappings/servicenow-users.toml"),
        ),
    ],
    default_auth: "basic",
    api_key_header: None,
    build,
};

/// The tables read when `tables` is not given. CI classes (`cmdb_ci_linux_server`, …) may be
/// listed before `cmdb_ci`: a CI read twice is kept from the first table that has it.
pub const DEFAULT_TABLES: &[&str] = &[
    "incident",
    "change_request",
    "problem",
    "sysapproval_approver",
    "task_sla",
    "sys_user",
    "cmdb_ci_service",
    "cmdb_ci",
    "cmdb_rel_ci",
];

/// The largest page the Table API returns.
const MAX_PAGE: u64 = 10_000;

struct ServiceNow {
    tables: Vec<StreamSpec>,
}

fn valid_table(t: &str) -> bool {
    !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn build(input: &KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>> {
    let name = input.source;
    let mut errors = Vec::new();
    let tables = get_list(name, input.table, "tables")
        .map_err(|e| errors.push(e))
        .ok()
        .flatten()
        .unwrap_or_else(|| DEFAULT_TABLES.iter().map(|t| t.to_string()).collect());
    for t in &tables {
        if !valid_table(t) {
            errors.push(ConfigError::new(
                name,
                format!("`tables`: `{t}` is not a table name"),
            ));
        }
    }
    let mut queries = BTreeMap::new();
    match input.table.get("queries") {
        None => {}
        Some(toml::Value::Table(q)) => {
            for (table, v) in q {
                match v.as_str() {
                    Some(s) if tables.contains(table) => {
                        queries.insert(table.clone(), s.to_string());
                    }
                    Some(_) => errors.push(ConfigError::new(
                        name,
                        format!("`queries.{table}`: `{table}` is not in `tables`"),
                    )),
                    None => errors.push(ConfigError::new(
                        name,
                        format!("`queries.{table}` must be an encoded query string"),
                    )),
                }
            }
        }
        Some(other) => errors.push(ConfigError::new(
            name,
            format!("`queries` must be a table of table = \"encoded query\", not `{other}`"),
        )),
    }
    let page_size = input.page_size.unwrap_or(1000);
    if page_size > MAX_PAGE {
        errors.push(ConfigError::new(
            name,
            format!("`page_size` is at most {MAX_PAGE} for ServiceNow"),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let specs = tables
        .iter()
        .map(|table| {
            let mut url = endpoint(&input.url, &format!("api/now/table/{table}"));
            let query = match queries.get(table) {
                Some(q) => format!("{q}^ORDERBYsys_id"),
                None => "ORDERBYsys_id".to_string(),
            };
            url.query_pairs_mut()
                .append_pair("sysparm_query", &query)
                .append_pair("sysparm_display_value", "false")
                .append_pair("sysparm_exclude_reference_link", "false")
                .append_pair("sysparm_limit", &page_size.to_string())
                .append_pair("sysparm_offset", "0");
            StreamSpec {
                name: table.clone(),
                url,
                records_field: "result",
                id_field: Some("sys_id"),
                body: None,
                paging: Paging::Link {
                    total: Total::Header("x-total-count"),
                },
            }
        })
        .collect();
    Ok(Arc::new(ServiceNow { tables: specs }))
}

#[async_trait]
impl Connector for ServiceNow {
    fn kind(&self) -> &'static str {
        SPEC.kind
    }

    fn streams(&self) -> Vec<String> {
        self.tables.iter().map(|t| t.name.clone()).collect()
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        ctx.streams(&self.tables).await
    }
}
