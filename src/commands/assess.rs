//! `conform assess`: one pack over one snapshot at one instant.

use std::io::{IsTerminal, Write};

use conform_engine::assessment::assess;
use conform_engine::finding::Severity;
use conform_engine::printer::{JsonPrinter, Printer, TextPrinter};

use crate::cli::{AssessArgs, FailOn, Format};
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(args: &AssessArgs, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    let inputs = super::load_inputs(&args.inputs, config)?;
    let assessment = assess(&inputs.pack, &inputs.snapshot, inputs.at, &inputs.params)
        .map_err(CliError::input)?;
    let printer: Box<dyn Printer> = match args.format {
        Format::Text => Box::new(TextPrinter {
            color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }),
        Format::Json => Box::new(JsonPrinter),
    };
    printer
        .print(&assessment, out)
        .map_err(|e| CliError::Input(format!("cannot write output: {e}")))?;
    let threshold = args.fail_on.map(|f| match f {
        FailOn::Observation => Severity::Observation,
        FailOn::Minor => Severity::Minor,
        FailOn::Major => Severity::Major,
    });
    Ok(match (threshold, assessment.worst_severity()) {
        (Some(t), Some(w)) if w >= t => Exit::Findings,
        _ => Exit::Success,
    })
}
