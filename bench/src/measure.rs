//! One measurement: one snapshot, one thread count, in this process (so that its peak
//! resident memory is its own). The engine with the full pack, stage by stage; the engine
//! with only the rules the reference implements; the hand-written reference; and the check
//! that both give the same (rule, entity) findings.

use std::collections::BTreeMap;
use std::path::Path;

use conform_engine::evaluate::evaluator::EvaluatorKind;
use conform_engine::pack::{ParamValue, PolicyPack};
use serde::{Deserialize, Serialize};

use crate::baseline::{self, BaselineRun};
use crate::engine_run::{self, EngineRun, FindingKey};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    pub threads: usize,
    pub rules: usize,
    pub facts: usize,
    pub full: EngineRun,
    /// The engine with only the reference's rules (and no facts).
    pub subset: EngineRun,
    pub baseline: BaselineRun,
    /// Findings of the reference's rules: engine (full pack), engine (subset), reference.
    pub compared: [usize; 3],
    /// Empty when the three agree; else the first differences.
    pub mismatches: Vec<String>,
}

fn only(keys: &[FindingKey]) -> Vec<FindingKey> {
    let mut v: Vec<FindingKey> = keys
        .iter()
        .filter(|k| baseline::RULES.contains(&k.0.as_str()))
        .cloned()
        .collect();
    v.sort();
    v
}

/// What tells the engine's findings `a` from the reference's `b` (both sorted): the first keys
/// only one side has, or, when both have the same keys, that one side repeats some.
fn differences(label: &str, a: &[FindingKey], b: &[FindingKey], out: &mut Vec<String>) {
    if a == b {
        return;
    }
    let bs: std::collections::BTreeSet<&FindingKey> = b.iter().collect();
    let as_: std::collections::BTreeSet<&FindingKey> = a.iter().collect();
    let before = out.len();
    for k in a.iter().filter(|k| !bs.contains(k)).take(5) {
        out.push(format!("{label}: only the engine: {k:?}"));
    }
    for k in b.iter().filter(|k| !as_.contains(k)).take(5) {
        out.push(format!("{label}: only the reference: {k:?}"));
    }
    if out.len() == before {
        out.push(format!(
            "{label}: the same findings, repeated: {} from the engine, {} from the reference",
            a.len(),
            b.len()
        ));
    }
}

/// The pack restricted to the reference's rules, without facts.
pub fn subset_pack(pack: &PolicyPack) -> PolicyPack {
    let mut sub = pack.clone();
    sub.rules
        .retain(|r| baseline::RULES.contains(&r.id.as_str()));
    sub.facts.clear();
    sub
}

pub fn measure(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    threads: usize,
    kind: EvaluatorKind,
) -> Result<Measurement, String> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let sub = subset_pack(pack);
    if sub.rules.len() != baseline::RULES.len() {
        return Err(format!(
            "the pack has {} of the reference's {} rules",
            sub.rules.len(),
            baseline::RULES.len()
        ));
    }
    pool.install(|| {
        let full = engine_run::run(pack, params, dir, kind)?;
        let subset = engine_run::run(&sub, params, dir, kind)?;
        let baseline = baseline::run(dir, params)?;
        let (a, b, c) = (only(&full.keys), only(&subset.keys), only(&baseline.keys));
        let mut mismatches = Vec::new();
        differences("full pack", &a, &c, &mut mismatches);
        differences("subset pack", &b, &c, &mut mismatches);
        Ok(Measurement {
            threads,
            rules: pack.rules.len(),
            facts: pack.facts.len(),
            compared: [a.len(), b.len(), c.len()],
            full,
            subset,
            baseline,
            mismatches,
        })
    })
}
