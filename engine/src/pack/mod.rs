//! Policy packs: a versioned directory of Cedar rules, facts and parameters.
//!
//! [`PolicyPack::build`] turns the pack's files (read by [`crate::fs::load_pack`]) into
//! validated rules, reporting every problem at once with `file:line:column`. The format is
//! documented for users in `docs/policy-pack.md`.

mod errors;
pub(crate) mod facts;
pub mod format;
pub mod params;
pub(crate) mod reads;
mod rules;

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::{Digest, Sha256};

pub use errors::{line_col, PackError, PackErrors};
pub use facts::{FactDef, FactKind};
pub use params::{ParamType, ParamValue, Parameter};
pub use rules::Rule;

use crate::catalog::Catalogs;
use crate::schema;

/// The files of a pack, as read from disk.
#[derive(Debug, Clone, Default)]
pub struct PackFiles {
    /// Where the pack was read from, for messages.
    pub dir: String,
    pub manifest: String,
    pub facts: Option<String>,
    /// `rules/*.cedar`, as (path relative to the pack, text), in path order.
    pub rules: Vec<(String, String)>,
    /// `catalogs.toml` and the catalog files, as (path relative to the pack, text).
    pub catalogs_index: (String, String),
    pub catalog_files: Vec<(String, String)>,
    /// `tests/*.toml`: policy test cases, as (path relative to the pack, text). Not part of the
    /// digest: they do not change what the pack finds.
    pub tests: Vec<(String, String)>,
}

/// A loaded, validated policy pack.
#[derive(Debug, Clone)]
pub struct PolicyPack {
    pub name: String,
    pub version: semver::Version,
    pub description: String,
    /// `sha256:` + hex over every file of the pack (see `docs/policy-pack.md`).
    pub digest: String,
    pub catalogs: Catalogs,
    pub parameters: Vec<Parameter>,
    pub facts: Vec<FactDef>,
    /// Sorted by id.
    pub rules: Vec<Rule>,
    pub schema: cedar_policy::Schema,
    /// The schema in Cedar's human-readable syntax.
    pub schema_text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackToml {
    pack: PackSection,
    #[serde(default)]
    parameters: BTreeMap<String, toml::Spanned<ParamDecl>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackSection {
    name: String,
    version: toml::Spanned<String>,
    #[serde(default)]
    description: String,
    catalogs: toml::Spanned<Vec<String>>,
    #[serde(default)]
    catalog_dir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamDecl {
    #[serde(rename = "type")]
    ty: ParamType,
    default: toml::Value,
    #[serde(default)]
    description: String,
}

pub const MANIFEST_FILE: &str = "pack.toml";
pub const FACTS_FILE: &str = "facts.toml";

/// Where a pack's catalogs live, relative to the pack, as its manifest says.
pub fn catalog_dir(manifest: &str) -> String {
    toml::from_str::<PackToml>(manifest)
        .ok()
        .and_then(|m| m.pack.catalog_dir)
        .unwrap_or_else(|| "../catalogs".to_string())
}

impl PolicyPack {
    /// Parses and validates a pack. Every error found is reported, not only the first.
    pub fn build(files: &PackFiles) -> Result<PolicyPack, PackErrors> {
        let mut errors = PackErrors::default();
        let manifest: PackToml = match toml::from_str(&files.manifest) {
            Ok(m) => m,
            Err(e) => {
                errors.push(errors::toml_error(MANIFEST_FILE, &files.manifest, &e));
                return Err(errors);
            }
        };
        let at = |span: std::ops::Range<usize>| line_col(&files.manifest, span.start);
        let version = match semver::Version::parse(manifest.pack.version.get_ref()) {
            Ok(v) => Some(v),
            Err(e) => {
                let (line, col) = at(manifest.pack.version.span());
                errors.push(PackError::new(
                    MANIFEST_FILE,
                    line,
                    col,
                    format!(
                        "version `{}` is not semver: {e}",
                        manifest.pack.version.get_ref()
                    ),
                ));
                None
            }
        };

        let catalogs = {
            let (index_path, index_text) = &files.catalogs_index;
            let read = |f: &str| {
                files
                    .catalog_files
                    .iter()
                    .find(|(p, _)| p.rsplit('/').next() == Some(f))
                    .map(|(_, t)| t.clone())
                    .ok_or_else(|| "not found".to_string())
            };
            match Catalogs::parse(index_text, read) {
                Ok(all) => match all.select(manifest.pack.catalogs.get_ref()) {
                    Ok(c) => c,
                    Err(unknown) => {
                        let (line, col) = at(manifest.pack.catalogs.span());
                        errors.push(PackError::new(
                            MANIFEST_FILE,
                            line,
                            col,
                            format!("unknown catalog `{unknown}` (not in `{index_path}`)"),
                        ));
                        Catalogs::default()
                    }
                },
                Err(e) => {
                    errors.push(PackError::new(index_path, 1, 1, e.to_string()));
                    Catalogs::default()
                }
            }
        };

        let mut parameters = Vec::new();
        for (name, decl) in &manifest.parameters {
            let (line, col) = at(decl.span());
            let decl = decl.get_ref();
            match ParamValue::parse(decl.ty, &decl.default) {
                Ok(default) => parameters.push(Parameter {
                    name: name.clone(),
                    ty: decl.ty,
                    default,
                    description: decl.description.clone(),
                }),
                Err(e) => errors.push(PackError::new(
                    MANIFEST_FILE,
                    line,
                    col,
                    format!("default of parameter `{name}`: {e}"),
                )),
            }
        }

        let fact_decls = match &files.facts {
            Some(text) => facts::parse(text, &mut errors),
            None => Vec::new(),
        };
        let schema_text = schema::cedar_schema(&parameters, &fact_decls);
        let schema = match cedar_policy::Schema::from_cedarschema_str(&schema_text) {
            Ok((s, _warnings)) => Some(s),
            Err(e) => {
                errors.push(PackError::new(
                    MANIFEST_FILE,
                    1,
                    1,
                    format!("the generated schema is invalid (a bug in conform): {e}"),
                ));
                None
            }
        };
        let Some(schema) = schema else {
            return Err(errors);
        };

        let facts = facts::compile(
            fact_decls,
            files.facts.as_deref().unwrap_or(""),
            &mut errors,
        );
        let rules = rules::parse_all(&files.rules, &catalogs, &parameters, &facts, &mut errors);
        rules::validate(
            &rules,
            &facts,
            &files.rules,
            files.facts.as_deref(),
            &schema,
            &mut errors,
        );

        let Some(version) = version else {
            return Err(errors);
        };
        if !errors.is_empty() {
            errors.sort();
            return Err(errors);
        }
        Ok(PolicyPack {
            name: manifest.pack.name,
            version,
            description: manifest.pack.description,
            digest: digest(files),
            catalogs,
            parameters,
            facts,
            rules,
            schema,
            schema_text,
        })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

/// The content digest of a pack: SHA-256 over `path NUL text NUL` of every file, in path order.
pub fn digest(files: &PackFiles) -> String {
    let mut all: Vec<(&str, &str)> = vec![(MANIFEST_FILE, files.manifest.as_str())];
    if let Some(f) = &files.facts {
        all.push((FACTS_FILE, f));
    }
    all.extend(files.rules.iter().map(|(p, t)| (p.as_str(), t.as_str())));
    all.push((
        files.catalogs_index.0.as_str(),
        files.catalogs_index.1.as_str(),
    ));
    all.extend(
        files
            .catalog_files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str())),
    );
    all.sort();
    let mut h = Sha256::new();
    for (path, text) in all {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests;
