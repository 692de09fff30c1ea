//! `conform collect`: pull evidence from the configured sources into a new snapshot.
//! (Being built in this session by the connectors work; see `connectors/`.)

use std::io::Write;
use std::path::PathBuf;

use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Collect only these sources (default: all configured sources)
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Where to write the new snapshot (default: the configured evidence directory)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bars
    #[arg(long)]
    pub quiet: bool,
}

pub fn run(_args: &CollectArgs, _config: &Config, _out: &mut dyn Write) -> Result<Exit, CliError> {
    Err(CliError::Input("`conform collect` has no connectors in this build yet".into()))
}
