//! `conform`: the command line. Subcommands only; the domain lives in `conform-engine`.

mod cli;
mod commands;
mod config;
mod error;
mod exit;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// mimalloc rather than the system allocator: the engine builds and drops millions of small
/// values per assessment, and mimalloc's thread-local free lists make that about twice as fast
/// with two threads (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONFORM_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_ansi(std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal())
        .init();
    // Standard output is line-buffered: a JSON or SARIF document of a large assessment (a
    // million lines at 1M entities) would be a write system call per line. Commands write
    // their whole output at the end anyway, so it is buffered here and flushed once.
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = config::Config::load(cli.config.as_deref())
        .and_then(|config| match &cli.command {
            Command::Assess(args) => commands::assess::run(args, &config, &mut out),
            Command::Collect(args) => commands::collect::run(args, &config, &mut out),
            Command::Run(args) => commands::run::run(args, &config, &mut out),
            Command::Explain(args) => commands::explain::run(args, &config, &mut out),
            Command::Export(cmd) => commands::export::run(cmd, &config, &mut out),
            Command::Policy(cmd) => commands::policy::run(cmd, &config, &mut out),
            Command::Gate(args) => commands::gate::run(args, &config, &mut out),
            Command::Keygen(args) => commands::keygen::run(args, &mut out),
            Command::Verify(args) => commands::verify::run(args, &mut out),
        })
        .and_then(|code| out.flush().map(|()| code).map_err(error::CliError::output));
    match result {
        Ok(code) => code.into(),
        Err(e) => {
            let code = e.exit();
            eprintln!("error: {e}");
            ExitCode::from(code as u8)
        }
    }
}
