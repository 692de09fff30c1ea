//! Process exit codes (DESIGN.md): part of the CLI's contract with CI pipelines.

/// How `conform` exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// No finding at or above `--fail-on` (or no `--fail-on`).
    Success = 0,
    /// Findings at or above `--fail-on`.
    Findings = 1,
    /// Usage or input error: bad arguments, unreadable or tampered evidence, bad config.
    Input = 2,
    /// The policy pack is invalid.
    InvalidPack = 3,
    /// Evidence is missing for a gated requirement (`conform gate`), or, with no finding at or
    /// above `--fail-on`, for a rule at or above it (`conform assess`, `conform run`).
    EvidenceMissing = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e as u8)
    }
}
