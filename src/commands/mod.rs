//! One module per subcommand. Commands parse arguments into engine calls and print; they hold
//! no domain logic.

pub mod assess;
pub mod policy;

use std::path::{Path, PathBuf};

use conform_engine::pack::PolicyPack;

use crate::config::{Config, DEFAULT_PACK};
use crate::error::{chain, CliError};

/// The pack directory: the argument, else the configuration, else the shipped pack.
pub fn pack_dir(arg: Option<&Path>, config: &Config) -> PathBuf {
    arg.map(Path::to_path_buf)
        .or_else(|| config.pack.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PACK))
}

/// Reads and validates a pack; an invalid pack is exit 3, an unreadable one exit 2.
pub fn load_pack(dir: &Path) -> Result<PolicyPack, CliError> {
    let files = conform_engine::fs::load_pack(dir).map_err(|e| CliError::Input(chain(&e)))?;
    tracing::debug!(
        rules = files.rules.len(),
        "read pack files from {}",
        dir.display()
    );
    PolicyPack::build(&files)
        .map_err(|e| CliError::InvalidPack(format!("in `{}`: {e}", dir.display())))
}
