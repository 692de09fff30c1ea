//! One module per subcommand. Commands parse arguments into engine calls and print; they hold
//! no domain logic.

pub mod assess;
pub mod bundle;
pub mod collect;
pub mod explain;
pub mod export;
pub mod gate;
pub mod keygen;
pub mod policy;
pub mod run;
pub mod verify;

use std::path::{Path, PathBuf};

use conform_engine::pack::PolicyPack;

use crate::config::{Config, DEFAULT_PACK};
use crate::error::{chain, CliError};

/// The pack directory: the argument, else the configuration, else the shipped pack.
pub fn pack_dir(arg: Option<&Path>, config: &Config) -> PathBuf {
    arg.map(Path::to_path_buf)
        .or_else(|| config.pack.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PACK))
}

/// Reads and validates a pack; an invalid pack is exit 3, an unreadable one exit 2.
pub fn load_pack(dir: &Path) -> Result<PolicyPack, CliError> {
    let files = conform_engine::fs::load_pack(dir).map_err(|e| CliError::Input(chain(&e)))?;
    tracing::debug!(
        rules = files.rules.len(),
        "read pack files from {}",
        dir.display()
    );
    PolicyPack::build(&files)
        .map_err(|e| CliError::InvalidPack(format!("in `{}`: {e}", dir.display())))
}

/// What assessing needs: a pack, a snapshot, an instant and parameter values.
pub struct Inputs {
    pub pack: PolicyPack,
    pub snapshot: conform_engine::snapshot::EvidenceSnapshot,
    pub snapshot_dir: PathBuf,
    pub at: i64,
    pub params: std::collections::BTreeMap<String, conform_engine::pack::ParamValue>,
    pub evaluator: conform_engine::evaluate::evaluator::EvaluatorKind,
}

impl Inputs {
    /// The assessment of these inputs, with the evaluator `--evaluator` chose.
    pub fn assess(&self) -> Result<conform_engine::assessment::Assessment, CliError> {
        conform_engine::assessment::assess_with(
            &self.pack,
            &self.snapshot,
            self.at,
            &self.params,
            self.evaluator,
        )
        .map_err(CliError::input)
    }
}

/// What an assessment needs besides the evidence, checked before any evidence is read:
/// `--at`, the pack, the parameter values, and where the evidence is.
pub struct CheckedInputs {
    pub pack: PolicyPack,
    pub params: std::collections::BTreeMap<String, conform_engine::pack::ParamValue>,
    /// `--at`, when given.
    pub at: Option<i64>,
    pub evidence: PathBuf,
    /// `--evaluator`.
    pub evaluator: conform_engine::evaluate::evaluator::EvaluatorKind,
}

/// Checks the cheap things (arguments, configuration, pack) of an assessment.
pub fn check_inputs(
    args: &crate::cli::InputArgs,
    config: &Config,
) -> Result<CheckedInputs, CliError> {
    use conform_engine::time::parse_rfc3339;
    let at = match args.pack.at.as_deref() {
        Some(s) => Some(parse_rfc3339(s).ok_or_else(|| {
            CliError::Input(format!(
                "`--at {s}` is not an RFC 3339 timestamp (e.g. 2026-11-20T06:00:00Z)"
            ))
        })?),
        None => None,
    };
    let pack = load_pack(&pack_dir(args.pack.pack.as_deref(), config))?;
    let params = conform_engine::pack::params::resolve(&pack.parameters, &config.parameters)
        .map_err(|errs| {
            CliError::Input(format!(
                "invalid `[parameters]` in the configuration: {}",
                errs.join("; ")
            ))
        })?;
    let evidence = args.evidence.clone().or_else(|| config.evidence.clone()).ok_or_else(|| {
        CliError::Input(
            "no evidence to assess: pass `--evidence DIR` or set `assessment.evidence` in conform.toml"
                .into(),
        )
    })?;
    Ok(CheckedInputs {
        pack,
        params,
        at,
        evidence,
        evaluator: match args.pack.evaluator {
            crate::cli::Evaluator::Compiled => {
                conform_engine::evaluate::evaluator::EvaluatorKind::Compiled
            }
            crate::cli::Evaluator::Cedar => {
                conform_engine::evaluate::evaluator::EvaluatorKind::Cedar
            }
        },
    })
}

/// Loads the inputs of an assessment, checking the cheap things (arguments, configuration,
/// pack) before reading the evidence.
pub fn load_inputs(args: &crate::cli::InputArgs, config: &Config) -> Result<Inputs, CliError> {
    load_evidence(check_inputs(args, config)?)
}

/// Reads the snapshot of checked inputs: the second half of [`load_inputs`].
pub fn load_evidence(checked: CheckedInputs) -> Result<Inputs, CliError> {
    use conform_engine::time::parse_rfc3339;
    let CheckedInputs {
        pack,
        params,
        at: requested_at,
        evidence,
        evaluator,
    } = checked;
    let snapshot_dir = conform_engine::fs::resolve_snapshot_dir(&evidence)
        .map_err(|e| CliError::Input(chain(&e)))?;
    let snapshot =
        conform_engine::fs::load_snapshot(&snapshot_dir).map_err(|e| CliError::Input(chain(&e)))?;
    tracing::info!(
        entities = snapshot.entities.len(),
        unreadable = snapshot.unreadable.len(),
        "loaded snapshot {} from {}",
        snapshot.manifest.snapshot_id,
        snapshot_dir.display()
    );
    let at = match requested_at {
        Some(t) => t,
        None => parse_rfc3339(&snapshot.manifest.created_at).ok_or_else(|| {
            CliError::Input(format!(
                "snapshot `created_at` `{}` is not RFC 3339",
                snapshot.manifest.created_at
            ))
        })?,
    };
    Ok(Inputs {
        pack,
        snapshot,
        snapshot_dir,
        at,
        params,
        evaluator,
    })
}
