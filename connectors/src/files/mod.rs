//! Files: a generic import of a CSV, JSON or JSON Lines export with a mapping, for every
//! system without a connector (a CMDB export, a supplier register, an HR feed).
//!
//! - CSV: one record per row, written as a JSON object of the header's columns (all values
//!   strings, column order kept).
//! - JSON: the records are the document itself when it is an array, else what the
//!   `records` JSONPath selects (`records = "$.data.items[*]"`).
//! - JSON Lines: one record per line.
//!
//! Every record is written compactly to the snapshot; a row or line that cannot be read is
//! reported with its line number and the rest is imported.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::config::{get_str, KindInput, KindSpec};
use crate::connector::{Collected, Connector, RawRecord, SourceContext};
use crate::error::ConfigError;
use crate::mapping::field::Query;

pub const SPEC: KindSpec = KindSpec {
    kind: "files",
    http: false,
    keys: &["path", "format", "records", "stream", "delimiter"],
    mappings: &[],
    default_auth: "none",
    api_key_header: None,
    build,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
    JsonLines,
}

struct Files {
    path: PathBuf,
    format: Format,
    records: Option<Query>,
    stream: String,
    delimiter: u8,
}

fn build(input: &KindInput<'_>) -> Result<Arc<dyn Connector>, Vec<ConfigError>> {
    let name = input.source;
    let t = input.table;
    let mut errors = Vec::new();
    let mut get = |k: &str| {
        get_str(name, t, k)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten()
    };
    let path = get("path");
    let format = get("format");
    let records = get("records");
    let stream = get("stream").unwrap_or_else(|| "records".into());
    let delimiter = get("delimiter");
    let Some(path) = path else {
        errors.push(ConfigError::new(
            name,
            "`path` is missing (the file to import)",
        ));
        return Err(errors);
    };
    let full = {
        let p = PathBuf::from(&path);
        if p.is_absolute() {
            p
        } else {
            input.base_dir.join(p)
        }
    };
    let ext = full
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let format = match format.as_deref().unwrap_or(ext.as_str()) {
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        "jsonl" | "ndjson" => Some(Format::JsonLines),
        other => {
            errors.push(ConfigError::new(
                name,
                format!("`format` `{other}` is not `csv`, `json` or `jsonl` (set `format`)"),
            ));
            None
        }
    };
    let records = records.and_then(|r| {
        Query::compile(&r)
            .map_err(|e| errors.push(ConfigError::new(name, format!("`records`: {e}"))))
            .ok()
    });
    let delimiter = match delimiter.as_deref() {
        None => b',',
        Some(d) if d.len() == 1 => d.as_bytes()[0],
        Some("\\t") | Some("tab") => b'\t',
        Some(d) => {
            errors.push(ConfigError::new(
                name,
                format!("`delimiter` `{d}` is not one character"),
            ));
            b','
        }
    };
    match (format, errors.is_empty()) {
        (Some(format), true) => Ok(Arc::new(Files {
            path: full,
            format,
            records,
            stream,
            delimiter,
        })),
        _ => Err(errors),
    }
}

impl Files {
    fn read(&self) -> Collected {
        let mut c = Collected::default();
        let shown = self.path.display().to_string();
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) => {
                c.fatal = Some(format!("cannot read `{shown}`: {e}"));
                return c;
            }
        };
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut push = |bytes: Vec<u8>| lines.push(bytes);
        let mut errors = Vec::new();
        match self.format {
            Format::Csv => {
                let mut rdr = csv::ReaderBuilder::new()
                    .delimiter(self.delimiter)
                    .flexible(false)
                    .from_reader(bytes.as_slice());
                let headers = match rdr.headers() {
                    Ok(h) => h.clone(),
                    Err(e) => {
                        c.fatal = Some(format!("`{shown}`: cannot read the header row: {e}"));
                        return c;
                    }
                };
                for row in rdr.records() {
                    match row {
                        Ok(r) => {
                            let obj: Map<String, Value> = headers
                                .iter()
                                .zip(r.iter())
                                .map(|(h, v)| (h.to_string(), Value::String(v.to_string())))
                                .collect();
                            push(serde_json::to_vec(&obj).unwrap_or_default());
                        }
                        Err(e) => {
                            let line = e.position().map(|p| p.line()).unwrap_or(0);
                            errors.push(format!("`{shown}` line {line}: {e}"));
                        }
                    }
                }
            }
            Format::JsonLines => {
                for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
                    if line.trim().is_empty() {
                        continue;
                    }
                    match serde_json::from_str::<Value>(line) {
                        Ok(v) => push(serde_json::to_vec(&v).unwrap_or_default()),
                        Err(e) => {
                            errors.push(format!("`{shown}` line {}: invalid JSON: {e}", i + 1))
                        }
                    }
                }
            }
            Format::Json => match serde_json::from_slice::<Value>(&bytes) {
                Err(e) => {
                    c.fatal = Some(format!("`{shown}`: invalid JSON: {e}"));
                    return c;
                }
                Ok(doc) => {
                    let items: Vec<Value> = match (&self.records, doc) {
                        (Some(q), doc) => q.run(&doc).into_iter().cloned().collect(),
                        (None, Value::Array(items)) => items,
                        (None, _) => {
                            c.fatal = Some(format!(
                                "`{shown}` is a JSON object: set `records` to the JSONPath of its records (e.g. \"$.items[*]\")"
                            ));
                            return c;
                        }
                    };
                    for v in items {
                        push(serde_json::to_vec(&v).unwrap_or_default());
                    }
                }
            },
        }
        c.errors = errors;
        c.records = lines
            .into_iter()
            .map(|bytes| RawRecord {
                stream: self.stream.clone(),
                bytes,
            })
            .collect();
        c
    }
}

#[async_trait]
impl Connector for Files {
    fn kind(&self) -> &'static str {
        SPEC.kind
    }

    fn streams(&self) -> Vec<String> {
        vec![self.stream.clone()]
    }

    async fn collect(&self, ctx: &SourceContext) -> Collected {
        let c = self.read();
        ctx.progress.records(c.records.len() as u64);
        c
    }
}
