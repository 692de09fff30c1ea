//! `conform-synth`: writes the bundled demo organisation or a scaled one as an evidence
//! snapshot. The snapshot id goes to stdout; a summary goes to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use conform_synth::{write_demo, write_org, Expect, Summary};

#[derive(Parser)]
#[command(
    name = "conform-synth",
    version,
    about = "Deterministic synthetic evidence snapshots for conform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The bundled demo organisation: Northwind Services Ltd (fixed seed, fixed instant).
    Demo {
        /// Snapshot directory to create.
        #[arg(long)]
        out: PathBuf,
        /// Replace a snapshot already in `--out`.
        #[arg(long)]
        force: bool,
        /// Also list every planted nonconformity and near miss on stderr.
        #[arg(long)]
        list_planted: bool,
    },
    /// A scaled organisation of about N entities with the demo's distributions.
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
        "wrote {} unit(s), {} entities (+{} malformed on purpose)",
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
    let (result, list) = match cli.command {
        Command::Demo {
            out,
            force,
            list_planted,
        } => (write_demo(&out, force), list_planted),
        Command::Org {
            entities,
            seed,
            out,
            force,
        } => (write_org(&out, entities, seed, force), false),
    };
    match result {
        Ok(summary) => {
            report(&summary, list);
            println!("{}", summary.manifest.snapshot_id);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
