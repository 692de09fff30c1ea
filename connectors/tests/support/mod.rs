//! Shared test support: running a collection from a configuration text, reading the
//! snapshot it wrote, local vendor servers (`vendors`) and the conformance harness every
//! HTTP connector passes (`harness`).

#![allow(dead_code)]

pub mod harness;
pub mod vendors;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use conform_connectors::{CollectOptions, CollectReport};
use serde_json::Value;

/// `fixtures/connectors/` of the repository.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/connectors")
}

/// The `[sources]` table of a configuration text.
pub fn sources(config: &str) -> toml::Table {
    let mut t: toml::Table = toml::from_str(config).expect("test configuration parses");
    match t.remove("sources") {
        Some(toml::Value::Table(s)) => s,
        _ => toml::Table::new(),
    }
}

/// Plans and collects `config` into a new snapshot under `out`.
pub async fn collect(config: &str, base: &Path, out: &Path) -> CollectReport {
    let plan = conform_connectors::plan(&sources(config), base, &[]).expect("valid configuration");
    let opts = CollectOptions {
        out: out.to_path_buf(),
        progress: false,
        organization: Some("Northwind Services Ltd".into()),
    };
    conform_connectors::collect(plan, &opts)
        .await
        .expect("snapshot written")
}

/// The configuration errors of `config`, as text.
pub fn config_error(config: &str, base: &Path, only: &[String]) -> String {
    match conform_connectors::plan(&sources(config), base, only) {
        Ok(_) => panic!("expected a configuration error"),
        Err(e) => e.to_string(),
    }
}

pub fn records(report: &CollectReport, source: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(report.dir.join(format!("records/{source}.jsonl"))).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn entities_text(report: &CollectReport, source: &str) -> String {
    std::fs::read_to_string(report.dir.join(format!("entities/{source}.jsonl"))).unwrap()
}

/// Every file of the snapshot, concatenated.
pub fn snapshot_text(report: &CollectReport) -> String {
    fn walk(dir: &Path, out: &mut String) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.path().is_dir() {
                walk(&e.path(), out);
            } else {
                out.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
            }
        }
    }
    let mut s = String::new();
    walk(&report.dir, &mut s);
    s
}

/// Captures this thread's `tracing` output (every level) while the guard lives.
pub struct Logs {
    buf: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    pub fn capture() -> Self {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let w = Writer(buf.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || w.clone())
            .finish();
        Self {
            buf,
            _guard: tracing::subscriber::set_default(subscriber),
        }
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }
}

/// Base64 of `user:password`, as HTTP Basic sends it.
pub fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}
