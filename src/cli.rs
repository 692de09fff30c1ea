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
    /// Collect evidence, then assess the new snapshot (the whole job of a pipeline)
    Run(crate::commands::run::RunArgs),
    /// Explain one finding: rule text, which parts of its condition held, values, source record
    Explain(ExplainArgs),
    /// Export reports for auditors
    #[command(subcommand)]
    Export(ExportCommand),
    /// Work with policy packs
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// CI: may this deployment go ahead? Assesses only what the deployment touches
    Gate(GateArgs),
    /// Generate an ed25519 key pair for signing audit bundles
    Keygen(KeygenArgs),
    /// Verify an audit bundle: signature, hashes, and a re-run to identical findings
    Verify(VerifyArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The formats an assessment is printed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning tools
    Sarif,
    /// JUnit XML, for CI test reports
    Junit,
    /// One row per finding
    Csv,
    /// OSCAL assessment-results (JSON)
    Oscal,
    /// One self-contained HTML page
    Html,
}

/// The formats `conform gate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GateFormat {
    Text,
    Json,
    Sarif,
    Junit,
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
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How an assessment is reported (`assess`, `run`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct ReportArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
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
        #[command(flatten)]
        out: OutArgs,
    },
    /// OSCAL assessment-results (JSON)
    Oscal(ExportArgs),
    /// SARIF 2.1.0
    Sarif(ExportArgs),
    /// JUnit XML
    Junit(ExportArgs),
    /// Findings as CSV
    Csv(ExportArgs),
    /// One self-contained HTML report
    Html(ExportArgs),
    /// A signed audit bundle: findings, SoA, pack, evidence, and a manifest of hashes
    Bundle(BundleArgs),
}

/// Where an export is written.
#[derive(Debug, clap::Args)]
pub struct OutArgs {
    /// Write to FILE instead of stdout
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    #[command(flatten)]
    pub out: OutArgs,
}

#[derive(Debug, clap::Args)]
pub struct BundleArgs {
    #[command(flatten)]
    pub inputs: InputArgs,
    /// The archive to write (a tar file)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// The ed25519 secret key to sign the bundle with (from `conform keygen`)
    #[arg(long, value_name = "KEY")]
    pub key: Option<PathBuf>,
    /// Include only the evidence records the findings cite (plus the manifest and entities)
    #[arg(long)]
    pub minimal: bool,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the secret key (mode 0600); the public key goes to FILE.pub
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace existing key files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The audit bundle (from `conform export bundle`)
    pub bundle: PathBuf,
    /// The public key the bundle must be signed with (FILE.pub from `conform keygen`)
    #[arg(long, value_name = "KEY")]
    pub pubkey: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The Service being deployed (entity id, or its name)
    #[arg(long, value_name = "ID")]
    pub service: String,
    /// The change record authorising the deployment (Ticket id or key)
    #[arg(long, value_name = "ID")]
    pub change: Option<String>,
    /// Exit 1 when a finding of the deployment is at or above this severity
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Major)]
    pub fail_on: FailOn,
    /// Output format
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
    #[command(flatten)]
    pub inputs: InputArgs,
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
    #[command(flatten)]
    pub pack: PackArgs,
}

/// The pack, the instant and the evaluator of an assessment (every command that assesses).
#[derive(Debug, Clone, clap::Args)]
pub struct PackArgs {
    /// The policy pack directory
    #[arg(long, value_name = "DIR")]
    pub pack: Option<PathBuf>,
    /// The assessment instant, RFC 3339 (default: when the snapshot was collected)
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// The policy evaluator: `compiled` (the policies compiled from their text; the default)
    /// or `cedar` (cedar_policy's authorizer). Both give the same findings
    #[arg(long, value_enum, default_value_t = Evaluator::Compiled)]
    pub evaluator: Evaluator,
}

/// `--evaluator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Evaluator {
    Compiled,
    Cedar,
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
