//! The CLI's error type: what went wrong and which exit code it means.

use crate::exit::Exit;

/// A failure of a command, with the exit code it maps to.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CliError {
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    InvalidPack(String),
}

impl CliError {
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Input(_) => Exit::Input,
            CliError::InvalidPack(_) => Exit::InvalidPack,
        }
    }

    pub fn input(e: impl std::fmt::Display) -> Self {
        CliError::Input(e.to_string())
    }

    /// Standard output (or the writer standing for it) could not be written: an input/output
    /// error, with the system's reason.
    pub fn output(e: std::io::Error) -> Self {
        CliError::Input(format!("cannot write output: {e}"))
    }
}

/// The full chain of an error's sources, as ": "-joined text.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = c.source();
    }
    s
}
