//! Credentials: read from an environment variable or a file named in the configuration,
//! never stored in the configuration, never printed.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::ConfigError;

/// A secret value. Its `Debug` and `Display` print `***`; only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for building an authentication header. Never log the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where a secret comes from, as the configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// `token_env = "JIRA_TOKEN"`
    Env { key: &'static str, var: String },
    /// `token_file = "secrets/jira-token"` (relative to the configuration file)
    File { key: &'static str, path: PathBuf },
}

impl SecretSource {
    /// Reads the secret: the variable's value, or the file's content without its trailing
    /// newline. A missing or empty value is an error naming the variable or file (never the
    /// value).
    pub fn load(&self, source: &str) -> Result<Secret, ConfigError> {
        match self {
            SecretSource::Env { key, var } => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim_end_matches(['\r', '\n']))),
                Ok(_) => Err(ConfigError::secret(
                    source,
                    format!("environment variable `{var}` (named by `{key}`) is empty"),
                )),
                Err(_) => Err(ConfigError::secret(
                    source,
                    format!("environment variable `{var}` (named by `{key}`) is not set"),
                )),
            },
            SecretSource::File { key, path } => read_file(source, key, path),
        }
    }
}

fn read_file(source: &str, key: &str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError::secret(
            source,
            format!("cannot read `{}` (named by `{key}`): {e}", path.display()),
        )
    })?;
    let value = text.trim_end_matches(['\r', '\n']).to_string();
    if value.trim().is_empty() {
        return Err(ConfigError::secret(
            source,
            format!("`{}` (named by `{key}`) is empty", path.display()),
        ));
    }
    Ok(Secret::new(value))
}

/// Replaces every known secret value in a text with `***`: the last line of defence for
/// error messages and server responses quoted in errors.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    values: Vec<String>,
}

impl Redactor {
    pub fn add(&mut self, value: &str) {
        if !value.is_empty() && !self.values.iter().any(|v| v == value) {
            self.values.push(value.to_string());
            // Longest first, so that a secret containing another is replaced whole.
            self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), "***");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn missing_secrets_are_named_by_variable() {
        let src = SecretSource::Env {
            key: "token_env",
            var: "CONFORM_TEST_SURELY_UNSET_VARIABLE".into(),
        };
        let err = src.load("jira-itsm").unwrap_err().to_string();
        assert_eq!(
            err,
            "source `jira-itsm`: environment variable `CONFORM_TEST_SURELY_UNSET_VARIABLE` (named by `token_env`) is not set"
        );
    }

    #[test]
    fn file_secrets_lose_their_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "abc123\n").unwrap();
        let src = SecretSource::File {
            key: "token_file",
            path,
        };
        assert_eq!(src.load("x").unwrap().expose(), "abc123");
    }

    #[test]
    fn the_redactor_replaces_every_known_value() {
        let mut r = Redactor::default();
        r.add("abc");
        r.add("abcdef");
        assert_eq!(r.scrub("x abcdef y abc"), "x *** y ***");
    }
}
