//! `conform policy …`: the pack author's workflow.

use std::io::Write;

use crate::cli::PolicyCommand;
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(cmd: &PolicyCommand, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    match cmd {
        PolicyCommand::Validate { pack } => {
            let dir = super::pack_dir(pack.as_deref(), config);
            let p = super::load_pack(&dir)?;
            writeln!(
                out,
                "pack {} {} is valid: {} rules, {} facts, {} parameters, catalogs {} ({})",
                p.name,
                p.version,
                p.rules.len(),
                p.facts.len(),
                p.parameters.len(),
                p.catalogs
                    .catalogs
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                p.digest
            )
            .map_err(CliError::input)?;
        }
        PolicyCommand::Schema { pack } => {
            let dir = super::pack_dir(pack.as_deref(), config);
            let p = super::load_pack(&dir)?;
            out.write_all(p.schema_text.as_bytes())
                .map_err(CliError::input)?;
        }
    }
    Ok(Exit::Success)
}
