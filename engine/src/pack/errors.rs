//! Pack loading errors: every one located at `file:line:column`.

use std::fmt;

/// One problem in a pack, at a position in one of its files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PackError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl PackError {
    pub fn new(file: &str, line: usize, col: usize, message: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line,
            col,
            message: message.into(),
        }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.col, self.message
        )
    }
}

/// Every problem found in a pack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackErrors(pub Vec<PackError>);

impl PackErrors {
    pub fn push(&mut self, e: PackError) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn sort(&mut self) {
        self.0.sort();
        self.0.dedup();
    }
}

impl fmt::Display for PackErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the policy pack has {n} error{}",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            write!(f, "\n  {e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PackErrors {}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

pub(crate) fn toml_error(file: &str, text: &str, e: &toml::de::Error) -> PackError {
    let (line, col) = e.span().map_or((1, 1), |s| line_col(text, s.start));
    PackError::new(file, line, col, e.message().trim().to_string())
}

/// Renders a Cedar diagnostic on one line: its message, then its help if any.
pub(crate) fn diagnostic_message(d: &dyn miette::Diagnostic) -> String {
    let mut msg = d.to_string();
    if let Some(help) = d.help() {
        msg.push_str(&format!(" (help: {help})"));
    }
    msg
}

/// The first label's offset of a Cedar diagnostic.
pub(crate) fn diagnostic_offset(d: &dyn miette::Diagnostic) -> Option<usize> {
    d.labels().and_then(|mut l| l.next()).map(|l| l.offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 7), (2, 4));
        assert_eq!(line_col(t, 8), (3, 1));
    }
}
