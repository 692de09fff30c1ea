//! The `Connector` trait: one implementation per source kind, each in its own folder.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::error::FetchError;
use crate::http::paging::{fetch_stream, StreamOutput, StreamSpec};
use crate::http::HttpClient;
use crate::progress::Progress;

/// One raw record as received, and the stream it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawRecord {
    pub stream: String,
    /// One line: compact JSON.
    pub bytes: Vec<u8>,
}

/// What a connector collected: its records in order, the problems that lost some of them,
/// and the fault that stopped it, if one did.
#[derive(Debug, Default)]
pub struct Collected {
    pub records: Vec<RawRecord>,
    pub errors: Vec<String>,
    pub fatal: Option<String>,
    /// The source refused the credentials (HTTP 401 / 403): the source failed as a whole.
    pub auth_failed: bool,
}

impl Collected {
    /// Adds a stream's output, its messages prefixed with nothing: they already name the
    /// URL (or file) and the position.
    pub fn add(&mut self, stream: &str, out: StreamOutput) {
        self.records
            .extend(out.records.into_iter().map(|bytes| RawRecord {
                stream: stream.to_string(),
                bytes,
            }));
        self.errors
            .extend(out.errors.iter().map(FetchError::to_string));
        if let Some(f) = out.fatal {
            self.auth_failed |= f.is_auth();
            let msg = f.to_string();
            match &self.fatal {
                None => self.fatal = Some(msg),
                Some(_) => self.errors.push(msg),
            }
        }
    }
}

/// What a connector gets to work with.
pub struct SourceContext {
    /// The source's name (`jira-itsm`).
    pub name: String,
    /// The source's HTTP client, when it is collected online.
    pub http: Option<HttpClient>,
    /// Saved API responses to read instead of the network (`offline_dir`).
    pub offline_dir: Option<PathBuf>,
    pub progress: Progress,
}

impl SourceContext {
    /// Reads one stream: from the API, or from saved responses in offline mode.
    pub async fn stream(&self, spec: &StreamSpec) -> StreamOutput {
        if let Some(dir) = &self.offline_dir {
            return crate::offline::read_stream(dir, spec, &self.progress);
        }
        match &self.http {
            Some(http) => fetch_stream(http, spec, &self.progress).await,
            None => StreamOutput {
                fatal: Some(FetchError::Transport {
                    url: spec.url.to_string(),
                    message: "no HTTP client for this source".into(),
                }),
                ..StreamOutput::default()
            },
        }
    }

    /// Reads several streams concurrently (the client's concurrency limit applies), keeping
    /// their records in the order the streams are listed.
    pub async fn streams(&self, specs: &[StreamSpec]) -> Collected {
        let outputs = futures_util::future::join_all(specs.iter().map(|s| self.stream(s))).await;
        let mut collected = Collected::default();
        for (spec, out) in specs.iter().zip(outputs) {
            collected.add(&spec.name, out);
        }
        collected
    }
}

/// A kind of source: Jira, ServiceNow, Redmine, NetBox, files.
#[async_trait]
pub trait Connector: Send + Sync {
    /// The kind, as `kind = "…"` names it in the configuration.
    fn kind(&self) -> &'static str;

    /// The connector's version, recorded in the snapshot manifest.
    fn version(&self) -> &'static str {
        crate::VERSION
    }

    /// The streams it collects, in order (also the file names of offline mode).
    fn streams(&self) -> Vec<String>;

    /// Collects every record. Never fails as a whole: problems are in [`Collected`].
    async fn collect(&self, ctx: &SourceContext) -> Collected;
}
