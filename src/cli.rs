//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "conform",
    version,
    about = "Continuous conformity assessment against ISO/IEC 27001:2022 and ISO/IEC 20000-1:2018",
    long_about = None
)]
pub struct Cli {
    /// Configuration file (default: ./conform.toml when it exists)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Assess an evidence snapshot against a policy pack and report findings
    Assess(AssessArgs),
    /// Collect evidence from the configured sources into a new snapshot
    Collect(crate::commands::collect::CollectArgs),
    /// Explain one finding: rule text, which parts of its condition held, values, source record
    Explain(ExplainArgs),
    /// Export reports for auditors
    #[command(subcommand)]
    Export(ExportCommand),
    /// Work with policy packs
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TableFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Observation,
    Minor,
    Major,
}

#[derive(Debug, clap::Args)]
pub struct AssessArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 1 when an open finding (nonconformity or indeterminate) is at or above this severity
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Statement of Applicability for ISO/IEC 27001:2022 Annex A
    Soa {
        #[command(flatten)]
        inputs: InputArgs,
        /// Output format
        #[arg(long, value_enum, default_value_t = SoaFormat::Csv)]
        format: SoaFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SoaFormat {
    Csv,
    Html,
    Json,
}

/// Where an assessment's inputs come from.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// A snapshot directory, or a directory of snapshots (the newest is used)
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// The policy pack directory
    #[arg(long, value_name = "DIR")]
    pub pack: Option<PathBuf>,
    /// The assessment instant, RFC 3339 (default: when the snapshot was collected)
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The finding id (`CF-…`), or a unique prefix of it
    pub finding: String,
    #[command(flatten)]
    pub inputs: InputArgs,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate a pack strictly: syntax, schema types, annotations, catalogs
    Validate {
        /// The pack directory (default: the configured pack)
        pack: Option<PathBuf>,
    },
    /// Format the pack's rule files as `cedar format` does
    Fmt {
        /// The pack directory (default: the configured pack)
        pack: Option<PathBuf>,
        /// Change nothing; list unformatted files and exit 1 if there are any
        #[arg(long)]
        check: bool,
    },
    /// Run the pack's policy tests (`tests/*.toml` beside the rules)
    Test {
        /// The pack directory (default: the configured pack)
        pack: Option<PathBuf>,
        /// Run only the cases whose name or rule ids contain this text
        #[arg(long)]
        filter: Option<String>,
    },
    /// For every requirement of both standards: the rules that test it, and the share covered
    Coverage {
        /// The pack directory (default: the configured pack)
        pack: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = TableFormat::Text)]
        format: TableFormat,
    },
    /// Compare two versions of a pack: rules, mappings, severities, parameters, facts
    Diff {
        /// The old pack directory
        old: PathBuf,
        /// The new pack directory
        new: PathBuf,
        /// Evidence to find entities whose verdict flips (default: the configured evidence)
        #[arg(long, value_name = "DIR")]
        evidence: Option<PathBuf>,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Print the Cedar schema generated from the model and the pack
    Schema {
        /// The pack directory (default: the configured pack)
        #[arg(long, value_name = "DIR")]
        pack: Option<PathBuf>,
    },
}
