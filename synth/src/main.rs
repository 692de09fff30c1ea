//! `conform-synth`: writes the bundled demo organisation as raw vendor exports, or a scaled
//! organisation as an evidence snapshot. What was written goes to stdout (the export files, or
//! the snapshot id); a summary goes to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conform_synth::exports::write_demo_exports;
use conform_synth::{write_org, Expect, Summary};

#[derive(Parser)]
#[command(
    name = "conform-synth",
    version,
    about = "Deterministic synthetic evidence for conform: the demo's vendor exports, scaled snapshots"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The bundled demo organisation, Northwind Services Ltd (fixed seed, fixed instant), as the
    /// raw vendor exports `fixtures/demo/conform.toml` collects.
    Demo {
        /// Exports directory to write (`fixtures/demo/exports`).
        #[arg(long)]
        exports: PathBuf,
        /// Replace the exports already in `--exports`.
        #[arg(long)]
        force: bool,
        /// Also list every planted nonconformity and near miss on stderr.
        #[arg(long)]
        list_planted: bool,
    },
    /// A scaled organisation of about N entities with the demo's distributions, as a snapshot.
    Org {
        /// Approximate number of entities.
        #[arg(long)]
        entities: u64,
        /// Seed of the generator.
        #[arg(long)]
        seed: u64,
        /// Snapshot directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace a snapshot already in `--out`.
        #[arg(long)]
        force: bool,
    },
}

fn report(s: &Summary, list: bool) {
    eprintln!(
        "generated {} unit(s), {} entities (+{} malformed on purpose)",
        s.units,
        s.counts.total(),
        s.malformed
    );
    for (ty, n) in &s.counts.0 {
        eprintln!("  {ty:<13} {n}");
    }
    let findings = s
        .plants
        .iter()
        .filter(|p| p.expect != Expect::NearMiss)
        .count();
    eprintln!(
        "planted: {findings} nonconformities, {} near misses",
        s.plants.len() - findings
    );
    if list {
        for p in &s.plants {
            let tag = match p.expect {
                Expect::Finding => "finding",
                Expect::Indeterminate => "indeterminate",
                Expect::NearMiss => "near-miss",
            };
            eprintln!(
                "  {tag:<13} {:<44} {:<12} {}  {}",
                p.rule, p.entity_type, p.id, p.detail
            );
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo {
            exports,
            force,
            list_planted,
        } => write_demo_exports(&exports, force)
            .map(|w| {
                report(&w.snapshot, list_planted);
                eprintln!(
                    "wrote {} export files to `{}`",
                    w.files.len(),
                    exports.display()
                );
                for f in &w.files {
                    println!("{}", f.display());
                }
            })
            .map_err(|e| e.to_string()),
        Command::Org {
            entities,
            seed,
            out,
            force,
        } => write_org(&out, entities, seed, force)
            .map(|s| {
                report(&s, false);
                println!("{}", s.manifest.snapshot_id);
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
