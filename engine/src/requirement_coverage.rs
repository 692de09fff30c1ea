//! Requirement coverage of a pack: for every requirement of both standards, the rules that
//! test it, its assessability, and the share covered by rules per standard and per clause.

use serde::Serialize;

use crate::catalog::{Assessability, Catalogs, CrosswalkLink};
use crate::pack::PolicyPack;

/// One requirement's coverage.
#[derive(Debug, Clone, Serialize)]
pub struct RequirementCoverage {
    pub id: String,
    pub title: String,
    pub assessability: Assessability,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub group: bool,
    pub rules: Vec<String>,
    /// Requirements of the other standard linked by the crosswalk, as `id (relationship)`.
    pub crosswalk: Vec<String>,
}

/// Coverage of one clause (top-level node: `4` … `10`, `A.5` … `A.8`).
#[derive(Debug, Clone, Serialize)]
pub struct ClauseCoverage {
    pub clause: String,
    pub title: String,
    pub requirements: usize,
    pub covered: usize,
    /// Share of requirements with at least one rule, in basis points.
    pub covered_bp: i64,
}

/// Coverage of one standard.
#[derive(Debug, Clone, Serialize)]
pub struct StandardCoverage {
    pub catalog: String,
    pub title: String,
    pub requirements: usize,
    pub covered: usize,
    pub covered_bp: i64,
    pub automated: usize,
    pub partial: usize,
    pub manual: usize,
    pub clauses: Vec<ClauseCoverage>,
    /// Automatable (automated or partial) requirements no rule tests yet.
    pub uncovered_automatable: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageReport {
    pub pack: String,
    pub version: String,
    pub standards: Vec<StandardCoverage>,
    pub requirements: Vec<RequirementCoverage>,
}

fn bp(part: usize, whole: usize) -> i64 {
    if whole == 0 {
        0
    } else {
        (part as i64 * 10_000) / whole as i64
    }
}

fn links_of(id: &str, crosswalk: &[CrosswalkLink]) -> Vec<String> {
    let mut out: Vec<String> = crosswalk
        .iter()
        .filter_map(|l| {
            if l.a == id {
                Some(format!("{} ({})", l.b, l.relationship))
            } else if l.b == id {
                Some(format!("{} ({})", l.a, l.relationship))
            } else {
                None
            }
        })
        .collect();
    out.sort();
    out
}

/// Computes the coverage of `pack` over its catalogs. Headings are listed but not counted.
pub fn coverage(pack: &PolicyPack) -> CoverageReport {
    let catalogs: &Catalogs = &pack.catalogs;
    let mut requirements = Vec::new();
    let mut standards = Vec::new();
    for c in &catalogs.catalogs {
        let mut s = StandardCoverage {
            catalog: c.id.clone(),
            title: c.title.clone(),
            requirements: 0,
            covered: 0,
            covered_bp: 0,
            automated: 0,
            partial: 0,
            manual: 0,
            clauses: Vec::new(),
            uncovered_automatable: Vec::new(),
        };
        for r in &c.requirements {
            let mut rules: Vec<String> = pack
                .rules
                .iter()
                .filter(|rule| rule.requirements.contains(&r.id))
                .map(|rule| rule.id.clone())
                .collect();
            rules.sort();
            if !r.group {
                s.requirements += 1;
                match r.assessability {
                    Assessability::Automated => s.automated += 1,
                    Assessability::Partial => s.partial += 1,
                    Assessability::Manual => s.manual += 1,
                }
                if !rules.is_empty() {
                    s.covered += 1;
                } else if r.assessability != Assessability::Manual {
                    s.uncovered_automatable.push(r.id.clone());
                }
                let clause = top_clause(&r.node);
                let title = c
                    .requirements
                    .iter()
                    .find(|x| x.node == clause)
                    .map(|x| x.title.clone())
                    .unwrap_or_default();
                let entry = match s.clauses.iter_mut().find(|x| x.clause == clause) {
                    Some(e) => e,
                    None => {
                        s.clauses.push(ClauseCoverage {
                            clause: clause.clone(),
                            title,
                            requirements: 0,
                            covered: 0,
                            covered_bp: 0,
                        });
                        let last = s.clauses.len() - 1;
                        &mut s.clauses[last]
                    }
                };
                entry.requirements += 1;
                if !rules.is_empty() {
                    entry.covered += 1;
                }
            }
            requirements.push(RequirementCoverage {
                id: r.id.clone(),
                title: r.title.clone(),
                assessability: r.assessability,
                group: r.group,
                rules,
                crosswalk: links_of(&r.id, &catalogs.crosswalk),
            });
        }
        s.covered_bp = bp(s.covered, s.requirements);
        for cl in &mut s.clauses {
            cl.covered_bp = bp(cl.covered, cl.requirements);
        }
        standards.push(s);
    }
    CoverageReport {
        pack: pack.name.clone(),
        version: pack.version.to_string(),
        standards,
        requirements,
    }
}

/// `A.8.13` → `A.8`; `8.7.3.2` → `8`.
fn top_clause(node: &str) -> String {
    let mut parts = node.split('.');
    match parts.next() {
        Some("A") => format!("A.{}", parts.next().unwrap_or("")),
        Some(first) => first.to_string(),
        None => node.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clauses_are_top_level_nodes() {
        assert_eq!(super::top_clause("A.8.13"), "A.8");
        assert_eq!(super::top_clause("8.7.3.2"), "8");
        assert_eq!(super::top_clause("10"), "10");
    }
}
