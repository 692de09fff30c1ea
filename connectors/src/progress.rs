//! Progress bars on stderr, one per source (`indicatif`); hidden with `--quiet` or when
//! stderr is not a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress bars of one collection.
#[derive(Clone)]
pub struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    /// Visible only when asked for and stderr is a terminal.
    pub fn new(show: bool) -> Self {
        let multi = (show && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self { multi }
    }

    pub fn hidden() -> Self {
        Self { multi: None }
    }

    /// A bar for one source.
    pub fn source(&self, name: &str) -> Progress {
        let Some(multi) = &self.multi else {
            return Progress { bar: None };
        };
        let bar = multi.add(ProgressBar::new_spinner());
        let style = ProgressStyle::with_template("{spinner} {prefix:.bold} {pos} records {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }
}

/// One source's bar (or nothing).
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn none() -> Self {
        Self { bar: None }
    }

    pub fn records(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// A stream announced how many records it holds: the bar gets a length.
    pub fn expect(&self, n: u64) {
        if let Some(b) = &self.bar {
            let len = b.length().unwrap_or(0) + n;
            if b.length().is_none() {
                let style = ProgressStyle::with_template(
                    "{spinner} {prefix:.bold} [{bar:30}] {pos}/{len} records {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                b.set_style(style);
            }
            b.set_length(len);
        }
    }

    pub fn message(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.set_message(msg.into());
        }
    }

    pub fn finish(&self, msg: impl Into<String>) {
        if let Some(b) = &self.bar {
            b.finish_with_message(msg.into());
        }
    }
}
