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

/// One link of the crosswalk between two standards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrosswalkLink {
    /// Full requirement ids.
    pub a: String,
    pub b: String,
    /// `equal`, `subset` or `intersect`.
    pub relationship: String,
    pub note: String,
}

/// The file, beside `catalogs.toml`, that links ISO/IEC 27001 and ISO/IEC 20000-1 nodes.
pub const CROSSWALK_FILE: &str = "crosswalk.tsv";

/// The catalogs a pack maps to, indexed by requirement id, and the crosswalk between them.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    pub catalogs: Vec<Catalog>,
    pub crosswalk: Vec<CrosswalkLink>,
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
        let mut out = Self::from_catalogs(catalogs);
        if let Ok(text) = read(CROSSWALK_FILE) {
            out.crosswalk = parse_crosswalk(&text, &out)?;
        }
        Ok(out)
    }

    pub fn from_catalogs(catalogs: Vec<Catalog>) -> Self {
        let mut index = HashMap::new();
        for (ci, c) in catalogs.iter().enumerate() {
            for (ri, r) in c.requirements.iter().enumerate() {
                index.insert(r.id.clone(), (ci, ri));
            }
        }
        Self {
            catalogs,
            crosswalk: Vec::new(),
            index,
        }
    }

    pub fn requirement(&self, id: &str) -> Option<&Requirement> {
        let (c, r) = self.index.get(id)?;
        Some(&self.catalogs[*c].requirements[*r])
    }

    /// The direct sub-clauses of a heading.
    pub fn children<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a Requirement> + 'a {
        let prefix = format!("{id}.");
        self.catalogs
            .iter()
            .flat_map(|c| c.requirements.iter())
            .filter(move |r| {
                r.id.strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.contains('.'))
            })
    }

    pub fn catalog(&self, id: &str) -> Option<&Catalog> {
        self.catalogs.iter().find(|c| c.id == id)
    }

    /// Keeps only the named catalogs, in the given order, and the crosswalk links between them.
    pub fn select(&self, ids: &[String]) -> Result<Self, String> {
        let mut out = Vec::new();
        for id in ids {
            out.push(self.catalog(id).cloned().ok_or_else(|| id.clone())?);
        }
        let mut selected = Self::from_catalogs(out);
        selected.crosswalk = self
            .crosswalk
            .iter()
            .filter(|l| {
                selected.requirement(&l.a).is_some() && selected.requirement(&l.b).is_some()
            })
            .cloned()
            .collect();
        Ok(selected)
    }
}

/// Reads `crosswalk.tsv`: `iso27001_2022 <TAB> iso20000_1_2018 <TAB> relationship <TAB> note`,
/// node ids of the first two catalogs.
fn parse_crosswalk(text: &str, catalogs: &Catalogs) -> Result<Vec<CrosswalkLink>, CatalogError> {
    let mut out = Vec::new();
    let (Some(first), Some(second)) = (catalogs.catalogs.first(), catalogs.catalogs.get(1)) else {
        return Ok(out);
    };
    for (n, line) in text.lines().enumerate() {
        if n == 0 || line.trim().is_empty() {
            continue;
        }
        let err = |message: String| CatalogError::Row {
            file: CROSSWALK_FILE.to_string(),
            line: n + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() < 3 {
            return Err(err(format!(
                "expected at least 3 tab-separated columns, found {}",
                cols.len()
            )));
        }
        let a = format!("{}/{}", first.id, cols[0].trim());
        let b = format!("{}/{}", second.id, cols[1].trim());
        for id in [&a, &b] {
            if catalogs.requirement(id).is_none() {
                return Err(err(format!("unknown requirement `{id}`")));
            }
        }
        let relationship = cols[2].trim();
        if !matches!(relationship, "equal" | "subset" | "intersect") {
            return Err(err(format!(
                "unknown relationship `{relationship}` (expected equal, subset or intersect)"
            )));
        }
        out.push(CrosswalkLink {
            a,
            b,
            relationship: relationship.to_string(),
            note: cols
                .get(3)
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
        });
    }
    Ok(out)
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
