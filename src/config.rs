//! `conform.toml`: where the pack and the evidence are, and the organisation's parameter
//! overrides. Paths are relative to the file. Documented in `docs/configuration.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::CliError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    assessment: AssessmentSection,
    #[serde(default)]
    parameters: BTreeMap<String, toml::Value>,
    #[serde(default)]
    soa: SoaSection,
    /// `[sources.<name>]`: read by the connectors (`conform collect`), not here.
    #[serde(default)]
    sources: toml::Table,
}

/// `[soa]`: the organisation's Annex A applicability decisions.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SoaSection {
    /// control → justification of its exclusion
    #[serde(default)]
    excluded: BTreeMap<String, String>,
    /// control → justification of its inclusion
    #[serde(default)]
    included: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AssessmentSection {
    pack: Option<PathBuf>,
    evidence: Option<PathBuf>,
}

/// The configuration in effect.
#[derive(Debug, Default)]
pub struct Config {
    pub pack: Option<PathBuf>,
    pub evidence: Option<PathBuf>,
    pub parameters: BTreeMap<String, toml::Value>,
    pub applicability: conform_engine::soa::Applicability,
    /// The raw `[sources]` table, for the connectors to validate.
    pub sources: toml::Table,
    /// The directory the configuration file is in (paths in it are relative to it).
    pub base_dir: PathBuf,
}

pub const DEFAULT_FILE: &str = "conform.toml";
pub const DEFAULT_PACK: &str = "policies/iso-ims";

impl Config {
    /// Reads `path`, or `./conform.toml` when it exists; no file means defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, CliError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None if Path::new(DEFAULT_FILE).is_file() => PathBuf::from(DEFAULT_FILE),
            None => return Ok(Self::default()),
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::Input(format!("cannot read `{}`: {e}", path.display())))?;
        let file: ConfigFile = toml::from_str(&text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = conform_engine::pack::line_col(&text, s.start);
                    format!(":{l}:{c}")
                })
                .unwrap_or_default();
            CliError::Input(format!("{}{at}: {}", path.display(), e.message().trim()))
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        Ok(Self {
            pack: file.assessment.pack.map(rel),
            evidence: file.assessment.evidence.map(rel),
            parameters: file.parameters,
            applicability: conform_engine::soa::Applicability {
                excluded: file.soa.excluded,
                included: file.soa.included,
            },
            sources: file.sources,
            base_dir: base.to_path_buf(),
        })
    }
}
