//! `conform export …`: reports for certification bodies and CI tools.

use std::io::Write;
use std::path::Path;

use conform_engine::printer::soa::{soa_csv, soa_html};
use conform_engine::soa::statement;

use crate::cli::{ExportArgs, ExportCommand, OutArgs, ReportFormat, SoaFormat};
use crate::config::Config;
use crate::error::CliError;
use crate::exit::Exit;

pub fn run(cmd: &ExportCommand, config: &Config, out: &mut dyn Write) -> Result<Exit, CliError> {
    match cmd {
        ExportCommand::Soa {
            inputs,
            format,
            out: to,
        } => {
            let i = super::load_inputs(inputs, config)?;
            let assessment = i.assess()?;
            let soa = statement(&i.pack, &assessment, &config.applicability).map_err(|errs| {
                CliError::Input(format!(
                    "invalid `[soa]` in the configuration: {}",
                    errs.join("; ")
                ))
            })?;
            emit(to, out, |w| match format {
                SoaFormat::Csv => soa_csv(&soa, w),
                SoaFormat::Html => soa_html(&soa, w),
                SoaFormat::Json => serde_json::to_writer_pretty(&mut *w, &soa)
                    .map_err(std::io::Error::other)
                    .and_then(|_| writeln!(w)),
            })?;
        }
        ExportCommand::Oscal(a) => report(a, ReportFormat::Oscal, config, out)?,
        ExportCommand::Sarif(a) => report(a, ReportFormat::Sarif, config, out)?,
        ExportCommand::Junit(a) => report(a, ReportFormat::Junit, config, out)?,
        ExportCommand::Csv(a) => report(a, ReportFormat::Csv, config, out)?,
        ExportCommand::Html(a) => report(a, ReportFormat::Html, config, out)?,
        ExportCommand::Bundle(a) => return super::bundle::run(a, config, out),
    }
    Ok(Exit::Success)
}

fn report(
    args: &ExportArgs,
    format: ReportFormat,
    config: &Config,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let i = super::load_inputs(&args.inputs, config)?;
    let assessment = i.assess()?;
    let pack_dir = super::pack_dir(args.inputs.pack.pack.as_deref(), config);
    let printer = super::assess::printer(format, &i.pack, &pack_dir);
    emit(&args.out, out, |w| printer.print(&assessment, w))
}

/// Writes to `--out FILE` when given, else to `out`.
pub fn emit(
    to: &OutArgs,
    out: &mut dyn Write,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    match &to.out {
        Some(path) => {
            let mut buf = Vec::new();
            write(&mut buf).map_err(|e| CliError::Input(format!("cannot render: {e}")))?;
            write_file(path, &buf)
        }
        None => write(out).map_err(CliError::output),
    }
}

pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    std::fs::write(path, bytes)
        .map_err(|e| CliError::Input(format!("cannot write `{}`: {e}", path.display())))
}
