//! `conform explain FINDING_ID`: why a finding was raised, down to the source record.

use std::io::Write;

use conform_engine::explain::explain;
use conform_engine::printer::explain::{explanation_text, RawRecord};
use conform_engine::snapshot::records_path;

use crate::cli::ExplainArgs;
use crate::config::Config;
use crate::error::{chain, CliError};
use crate::exit::Exit;

pub fn run(args: &ExplainArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let inputs = super::load_inputs(&args.inputs, config)?;
    let explanation = explain(
        &inputs.pack,
        &inputs.snapshot,
        inputs.at,
        &inputs.params,
        &args.finding,
        inputs.evaluator,
    )
        .map_err(CliError::input)?
        .map_err(|n| {
            CliError::Input(format!(
                "no single finding matches `{}` in this assessment ({n} findings; ids are listed by `conform assess`)",
                args.finding
            ))
        })?;
    let ev = &explanation.finding.evidence;
    let record =
        conform_engine::fs::find_record(&inputs.snapshot_dir, &ev.source, &ev.record_sha256)
            .map_err(|e| CliError::Input(chain(&e)))?
            .map(|(line, text)| RawRecord {
                file: records_path(&ev.source),
                line,
                text,
            });
    explanation_text(&explanation, record.as_ref(), out).map_err(CliError::output)?;
    Ok(Exit::Success)
}
