//! `conform export …`: reports for certification bodies.

use std::io::Write;

use conform_engine::assessment::assess;
use conform_engine::printer::soa::{soa_csv, soa_html};
use conform_engine::soa::statement;

use crate::cli::{ExportCommand, SoaFormat};
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(cmd: &ExportCommand, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    match cmd {
        ExportCommand::Soa { inputs, format } => {
            let i = super::load_inputs(inputs, config)?;
            let assessment =
                assess(&i.pack, &i.snapshot, i.at, &i.params).map_err(CliError::input)?;
            let soa = statement(&i.pack, &assessment, &config.applicability).map_err(|errs| {
                CliError::Input(format!(
                    "invalid `[soa]` in the configuration: {}",
                    errs.join("; ")
                ))
            })?;
            match format {
                SoaFormat::Csv => soa_csv(&soa, out),
                SoaFormat::Html => soa_html(&soa, out),
                SoaFormat::Json => serde_json::to_writer_pretty(&mut *out, &soa)
                    .map_err(std::io::Error::other)
                    .and_then(|_| writeln!(out)),
            }
            .map_err(CliError::input)?;
        }
    }
    Ok(Exit::Success)
}
