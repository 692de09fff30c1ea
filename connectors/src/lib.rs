//! `conform-connectors`: evidence collection.
//!
//! Each source kind lives in its own folder (`jira/`, `servicenow/`, `redmine/`, `netbox/`,
//! `files/`) and implements [`Connector`]; the HTTP plumbing they share (authentication,
//! retries with backoff, rate limits, concurrency limits, paging) is in [`http`]; offline
//! mode (saved API responses) in [`offline`]; field mappings (JSONPath, as data) in
//! [`mapping`]; and [`collect`] runs the sources and writes one immutable snapshot with
//! `conform_engine::fs::SnapshotWriter`.
//!
//! ```no_run
//! # fn demo(sources: &toml::Table) -> Result<(), Box<dyn std::error::Error>> {
//! let plan = conform_connectors::config::plan(sources, std::path::Path::new("."), &[])?;
//! let opts = conform_connectors::CollectOptions {
//!     out: "evidence".into(),
//!     progress: true,
//!     organization: None,
//! };
//! let report = conform_connectors::collect_blocking(plan, &opts)?;
//! println!("{}", report.dir.display());
//! # Ok(()) }
//! ```

pub mod collect;
pub mod config;
pub mod connector;
pub mod error;
pub mod files;
pub mod http;
pub mod jira;
pub mod mapping;
pub mod netbox;
pub mod offline;
pub mod progress;
pub mod redmine;
pub mod secret;
pub mod servicenow;

pub use collect::{collect, collect_blocking, CollectOptions, CollectReport, SourceSummary};
pub use config::{plan, Plan, SourcePlan};
pub use connector::{Collected, Connector, RawRecord, SourceContext};
pub use error::{CollectError, ConfigError, ConfigErrors, FetchError};

/// The version of every connector of this build, recorded in snapshot manifests.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
