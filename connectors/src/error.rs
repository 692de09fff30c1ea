//! Error types of the connectors. Messages are lowercase, user values in backticks, and never
//! contain a secret: URLs are printed through [`crate::http::RedactedUrl`] and quoted server
//! text goes through the source's [`crate::secret::Redactor`].

/// A problem in a `[sources.<name>]` section of the configuration, or in a mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    /// The source the problem is in; empty for the `[sources]` table as a whole.
    pub source_name: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(source_name: &str, message: impl Into<String>) -> Self {
        Self {
            source_name: source_name.to_string(),
            message: message.into(),
        }
    }

    fn render(&self) -> String {
        if self.source_name.is_empty() {
            self.message.clone()
        } else {
            format!("source `{}`: {}", self.source_name, self.message)
        }
    }

    pub(crate) fn secret(source_name: &str, message: String) -> Self {
        Self::new(source_name, message)
    }
}

/// Every configuration problem found, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

fn render(errors: &[ConfigError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let mut s = format!("{} problems in the sources configuration:", many.len());
            for e in many {
                s.push_str("\n  - ");
                s.push_str(&e.to_string());
            }
            s
        }
    }
}

/// Why fetching a stream (or one page of it) failed. URLs are already redacted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("HTTP {status} from {url}{detail}")]
    Status {
        status: u16,
        url: String,
        detail: String,
    },
    #[error("gave up on {url} after {attempts} attempts: {last}")]
    Exhausted {
        url: String,
        attempts: u32,
        last: String,
    },
    #[error("request to {url} failed: {message}")]
    Transport { url: String, message: String },
    #[error("malformed page from {url} ({position}): {detail}")]
    MalformedPage {
        url: String,
        position: String,
        detail: String,
    },
    #[error("paging of {url} did not advance ({position}): the next page is the page just read")]
    Stuck { url: String, position: String },
    #[error("cannot read `{path}`: {message}")]
    Offline { path: String, message: String },
}

impl FetchError {
    /// Authentication and authorisation failures fail the whole source.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            FetchError::Status {
                status: 401 | 403,
                ..
            }
        )
    }
}

/// Why `conform collect` could not write its snapshot at all.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Config(#[from] ConfigErrors),
    #[error(transparent)]
    Io(#[from] conform_engine::fs::IoError),
    #[error("cannot {action} `{path}`: {source}")]
    Fs {
        action: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{0}` is a snapshot, not a directory of snapshots: pass `--out DIR` or point `assessment.evidence` at the folder that holds snapshots")]
    OutIsSnapshot(String),
    #[error("snapshot directory `{0}` already exists")]
    Exists(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(String),
}
