//! Files: a generic import of a CSV, JSON or JSON Lines export with a mapping, for every
//! system without a connector (a CMDB export, a supplier register, an HR feed).
//!
//! - CSV: one record per row, written as a JSON object of the header's columns (all values
//!   strings, column order kept).
//! - JSON: the records are the document itself when it is an array, else what the
//!   `records` JSONPath selects (`records = "$.data.items[*]"`).
//! - JSON Lines: one record per line.
//!
//! `path` is one file, a directory (its `.csv`, `.json`, `.jsonl` and `.ndjson` files in
//! natural order: `users-2.json` before `users-10.json`) or a list of those; every file is read
//! in its own format (by extension unless `format` is set) into the one stream. Paths in
//! messages are shown as configured (relative to conform.toml), so a snapshot does not depend on
//! where the repository is checked out.
//!
//! Every record is written compactly to the snapshot; a row or line that cannot be read is
//! reported with its line number and the rest is imported.

use std::path::{Path, PathBuf};
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

/// One configured `path` entry: where it is, and how messages show it.
struct Input {
    full: PathBuf,
    shown: String,
}

struct Files {
    inputs: Vec<Input>,
    /// `format`: every file in this format; else each by its extension.
    format: Option<Format>,
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
    let format = get("format");
    let records = get("records");
    let stream = get("stream").unwrap_or_else(|| "records".into());
    let delimiter = get("delimiter");
    let paths = match t.get("path") {
        None => None,
        Some(toml::Value::String(p)) => Some(vec![p.clone()]),
        Some(_) => crate::config::get_list(name, t, "path")
            .map_err(|e| errors.push(e))
            .ok()
            .flatten(),
    };
    let Some(paths) = paths.filter(|p| !p.is_empty()) else {
        if !errors.is_empty() {
            return Err(errors);
        }
        errors.push(ConfigError::new(
            name,
            "`path` is missing (the file, directory or list of them to import)",
        ));
        return Err(errors);
    };
    let inputs: Vec<Input> = paths
        .into_iter()
        .map(|p| {
            let full = PathBuf::from(&p);
            let full = if full.is_absolute() {
                full
            } else {
                input.base_dir.join(full)
            };
            Input { full, shown: p }
        })
        .collect();
    let format = match format.as_deref() {
        None => None,
        Some(f) => match format_named(f) {
            Some(f) => Some(f),
            None => {
                errors.push(ConfigError::new(
                    name,
                    format!("`format` `{f}` is not `csv`, `json` or `jsonl`"),
                ));
                None
            }
        },
    };
    if format.is_none() {
        for i in &inputs {
            if !i.full.is_dir() && format_of(&i.full).is_none() {
                errors.push(ConfigError::new(
                    name,
                    format!(
                        "`{}`: cannot tell the format from the extension: it is not `csv`, `json` or `jsonl` (set `format`)",
                        i.shown
                    ),
                ));
            }
        }
    }
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
    if errors.is_empty() {
        Ok(Arc::new(Files {
            inputs,
            format,
            records,
            stream,
            delimiter,
        }))
    } else {
        Err(errors)
    }
}

fn format_named(name: &str) -> Option<Format> {
    match name {
        "csv" => Some(Format::Csv),
        "json" => Some(Format::Json),
        "jsonl" | "ndjson" => Some(Format::JsonLines),
        _ => None,
    }
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
    format_named(&ext)
}

impl Files {
    /// Every configured file, directories expanded, in order.
    fn files(&self) -> Result<Vec<(PathBuf, String)>, String> {
        let mut out = Vec::new();
        for i in &self.inputs {
            if !i.full.is_dir() {
                out.push((i.full.clone(), i.shown.clone()));
                continue;
            }
            let entries = std::fs::read_dir(&i.full)
                .map_err(|e| format!("cannot read directory `{}`: {e}", i.shown))?;
            let mut found: Vec<(String, PathBuf)> = entries
                .flatten()
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .filter(|(_, p)| p.is_file() && format_of(p).is_some())
                .collect();
            // an empty export directory is a failed export, never a register with no entries
            if found.is_empty() {
                return Err(format!(
                    "directory `{}` holds no `csv`, `json` or `jsonl` file",
                    i.shown
                ));
            }
            found.sort_by_key(|(n, _)| crate::offline::natural_key(n));
            let base = i.shown.trim_end_matches('/');
            out.extend(found.into_iter().map(|(n, p)| (p, format!("{base}/{n}"))));
        }
        Ok(out)
    }

    fn read(&self) -> Collected {
        let mut c = Collected::default();
        let files = match self.files() {
            Ok(f) => f,
            Err(e) => {
                c.fatal = Some(e);
                return c;
            }
        };
        for (path, shown) in files {
            let format = self.format.or_else(|| format_of(&path));
            let read = match std::fs::read(&path) {
                Ok(bytes) => self.read_file(&bytes, &shown, format.unwrap_or(Format::Json)),
                Err(e) => Err(format!("cannot read `{shown}`: {e}")),
            };
            match read {
                Ok((records, errors)) => {
                    c.records.extend(records.into_iter().map(|bytes| RawRecord {
                        stream: self.stream.clone(),
                        bytes,
                    }));
                    c.errors.extend(errors);
                }
                Err(e) if c.fatal.is_none() => c.fatal = Some(e),
                Err(e) => c.errors.push(e),
            }
        }
        c
    }

    /// The records of one file and the lines that could not be read, or why nothing could.
    fn read_file(
        &self,
        bytes: &[u8],
        shown: &str,
        format: Format,
    ) -> Result<(Vec<Vec<u8>>, Vec<String>), String> {
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut push = |bytes: Vec<u8>| lines.push(bytes);
        let mut errors = Vec::new();
        match format {
            Format::Csv => {
                let mut rdr = csv::ReaderBuilder::new()
                    .delimiter(self.delimiter)
                    .flexible(false)
                    .from_reader(bytes);
                let headers = match rdr.headers() {
                    Ok(h) => h.clone(),
                    Err(e) => return Err(format!("`{shown}`: cannot read the header row: {e}")),
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
                for (i, line) in String::from_utf8_lossy(bytes).lines().enumerate() {
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
            Format::Json => match serde_json::from_slice::<Value>(bytes) {
                Err(e) => return Err(format!("`{shown}`: invalid JSON: {e}")),
                Ok(doc) => {
                    let items: Vec<Value> = match (&self.records, doc) {
                        (Some(q), doc) => q.run(&doc).into_iter().cloned().collect(),
                        (None, Value::Array(items)) => items,
                        (None, _) => {
                            return Err(format!(
                                "`{shown}` is a JSON object: set `records` to the JSONPath of its records (e.g. \"$.items[*]\")"
                            ))
                        }
                    };
                    for v in items {
                        push(serde_json::to_vec(&v).unwrap_or_default());
                    }
                }
            },
        }
        Ok((lines, errors))
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
