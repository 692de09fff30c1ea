//! Requirement catalogs: the ids and short titles of ISO/IEC 27001:2022 and ISO/IEC
//! 20000-1:2018 (never the standards' text), and how each node can be assessed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// How a requirement can be assessed from evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Assessability {
    /// Fully decidable from records.
    Automated,
    /// Presence and timeliness of records are checked; a person judges their content.
    Partial,
    /// Attestation or document review only.
    Manual,
}

/// One clause or control, by its full id (`ISO27001:2022/A.8.5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub id: String,
    pub catalog: String,
    /// The id inside its catalog (`A.8.5`).
    pub node: String,
    pub title: String,
    pub assessability: Assessability,
    /// A heading with sub-clauses (`A.8`, `9`): not counted in per-standard summaries.
    pub group: bool,
}

/// One standard's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub id: String,
    pub title: String,
    pub file: String,
    pub requirements: Vec<Requirement>,
}

/// The catalogs a pack maps to, indexed by requirement id.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    pub catalogs: Vec<Catalog>,
    index: HashMap<String, (usize, usize)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogsFile {
    catalog: Vec<CatalogEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogEntry {
    id: String,
    title: String,
    file: String,
}

/// Why the catalogs could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("`catalogs.toml` is invalid: {0}")]
    Index(String),
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: usize,
        message: String,
    },
    #[error("cannot read catalog file `{file}`: {error}")]
    Read { file: String, error: String },
}

impl Catalogs {
    /// Parses `catalogs.toml` and the catalog files it names (`read` returns a file's text).
    pub fn parse(
        index_toml: &str,
        read: impl Fn(&str) -> Result<String, String>,
    ) -> Result<Self, CatalogError> {
        let file: CatalogsFile =
            toml::from_str(index_toml).map_err(|e| CatalogError::Index(e.message().to_string()))?;
        let mut catalogs = Vec::new();
        for entry in file.catalog {
            let text = read(&entry.file).map_err(|error| CatalogError::Read {
                file: entry.file.clone(),
                error,
            })?;
            let requirements = parse_rows(&entry.id, &entry.file, &text)?;
            catalogs.push(Catalog {
                id: entry.id,
                title: entry.title,
                file: entry.file,
                requirements,
            });
        }
        Ok(Self::from_catalogs(catalogs))
    }

    pub fn from_catalogs(catalogs: Vec<Catalog>) -> Self {
        let mut index = HashMap::new();
        for (ci, c) in catalogs.iter().enumerate() {
            for (ri, r) in c.requirements.iter().enumerate() {
                index.insert(r.id.clone(), (ci, ri));
            }
        }
        Self { catalogs, index }
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        let (c, r) = self.index.get(id)?;
        Some(&self.catalogs[*c].requirements[*r])
    }

    pub fn catalog(&self, id: &str) -> Option<&Catalog> {
        self.catalogs.iter().find(|c| c.id == id)
    }

    /// Keeps only the named catalogs, in the given order.
    pub fn select(&self, ids: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        for id in ids {
            out.push(self.catalog(id).cloned().ok_or_else(|| id.clone())?);
        }
        Ok(Self::from_catalogs(out))
    }
}

fn parse_rows(catalog: &str, file: &str, text: &str) -> Result<Vec<Requirement>, CatalogError> {
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if n == 0 || line.trim().is_empty() {
            continue; // header
        }
        let err = |message: String| CatalogError::Row {
            file: file.to_string(),
            line: n + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [node, title, assess] = cols.as_slice() else {
            return Err(err(format!(
                "expected 3 tab-separated columns, found {}",
                cols.len()
            )));
        };
        let assessability = match *assess {
            "automated" => Assessability::Automated,
            "partial" => Assessability::Partial,
            "manual" => Assessability::Manual,
            other => {
                return Err(err(format!(
                    "unknown assessability `{other}` (expected automated, partial or manual)"
                )))
            }
        };
        rows.push(Requirement {
            id: format!("{catalog}/{node}"),
            catalog: catalog.to_string(),
            node: node.to_string(),
            title: title.to_string(),
            assessability,
            group: false,
        });
    }
    let nodes: Vec<String> = rows.iter().map(|r| r.node.clone()).collect();
    for r in &mut rows {
        let prefix = format!("{}.", r.node);
        r.group = nodes.iter().any(|n| n.starts_with(&prefix));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_catalogs_and_marks_groups() {
        let index = "[[catalog]]\nid = \"X:1\"\ntitle = \"X\"\nfile = \"x.tsv\"\n";
        let tsv = "id\ttitle\tassessability\nA\tGroup\tmanual\nA.1\tLeaf\tautomated\n";
        let c = Catalogs::parse(index, |_| Ok(tsv.to_string())).unwrap();
        let a = c.requirement("X:1/A").unwrap();
        assert!(a.group);
        let leaf = c.requirement("X:1/A.1").unwrap();
        assert!(!leaf.group);
        assert_eq!(leaf.assessability, Assessability::Automated);
    }

    #[test]
    fn reports_bad_rows_with_file_and_line() {
        let index = "[[catalog]]\nid = \"X:1\"\ntitle = \"X\"\nfile = \"x.tsv\"\n";
        let tsv = "id\ttitle\tassessability\nA\tGroup\tsometimes\n";
        let err = Catalogs::parse(index, |_| Ok(tsv.to_string())).unwrap_err();
        assert_eq!(
            err.to_string(),
            "x.tsv:2: unknown assessability `sometimes` (expected automated, partial or manual)"
        );
    }
}
