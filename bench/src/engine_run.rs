//! The engine's stages, timed one by one over a snapshot directory, through the same public
//! functions `conform assess --format json` calls (`fs::load_snapshot` is `parse_manifest` +
//! `read_entities` + `build_model`; `assess` is `prepare_entities` + `prepare_facts` +
//! `assess_prepared`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use conform_engine::assessment::{
    assess_prepared, assess_with, prepare_entities_with, prepare_facts,
};
use conform_engine::evaluate::evaluator::EvaluatorKind;
use conform_engine::finding::FindingKind;
use conform_engine::pack::{ParamValue, PolicyPack};
use conform_engine::printer::{JsonPrinter, Printer};
use conform_engine::snapshot::{build_model, parse_manifest, read_entities};
use conform_engine::time::parse_rfc3339;
use serde::{Deserialize, Serialize};

use crate::mem;

/// The stages, in order.
pub const STAGES: [&str; 7] = [
    "read snapshot (read + verify + parse)",
    "build model (sort, dedupe, inverse refs)",
    "entity index / Cedar entities (+ coverage)",
    "facts pass",
    "rules pass (+ findings, statuses)",
    "write findings (JSON to a sink)",
    "free memory (drop assessment + snapshot; `conform assess` skips it)",
];

/// (rule id, entity type, entity id, indeterminate)
pub type FindingKey = (String, String, String, bool);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub secs: f64,
    /// Peak resident memory of the process during the stage (everything still held from the
    /// stages before included).
    pub peak_bytes: u64,
    /// Resident memory when the stage ended.
    pub rss_after: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EngineRun {
    pub entities: usize,
    pub unreadable: usize,
    pub findings: usize,
    pub json_bytes: u64,
    pub stages: Vec<Stage>,
    /// Resident memory before the first stage (binary, pack, thread pool).
    pub rss_before: u64,
    /// Whether the per-stage peaks are per stage (the high-water mark could be reset).
    pub peak_reset: bool,
    #[serde(skip)]
    pub keys: Vec<FindingKey>,
}

impl EngineRun {
    pub fn total_secs(&self) -> f64 {
        self.stages.iter().map(|s| s.secs).sum()
    }

    /// End to end without the last stage (freeing the assessment and the snapshot), which
    /// `conform assess` no longer pays: it leaves the memory to the OS at exit.
    pub fn total_secs_without_free(&self) -> f64 {
        let free = self
            .stages
            .last()
            .filter(|s| s.name == STAGES[STAGES.len() - 1])
            .map_or(0.0, |s| s.secs);
        self.total_secs() - free
    }

    pub fn peak_bytes(&self) -> u64 {
        self.stages.iter().map(|s| s.peak_bytes).max().unwrap_or(0)
    }
}

/// A writer that only counts bytes.
#[derive(Default)]
struct Sink(u64);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Timer {
    stages: Vec<Stage>,
    started: Instant,
    reset: bool,
}

impl Timer {
    fn start() -> Self {
        let reset = mem::reset_peak();
        Self {
            stages: Vec::new(),
            started: Instant::now(),
            reset,
        }
    }

    fn lap(&mut self) {
        let secs = self.started.elapsed().as_secs_f64();
        let m = mem::now();
        let name = STAGES
            .get(self.stages.len())
            .copied()
            .unwrap_or("?")
            .to_string();
        self.stages.push(Stage {
            name,
            secs,
            peak_bytes: m.peak,
            rss_after: m.rss,
        });
        self.reset = mem::reset_peak() && self.reset;
        self.started = Instant::now();
    }
}

/// Runs every stage of an assessment of `pack` over the snapshot in `dir` (at the snapshot's
/// `created_at`), in the current rayon pool.
pub fn run(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    kind: EvaluatorKind,
) -> Result<EngineRun, String> {
    let rss_before = mem::now().rss;
    let mut t = Timer::start();

    let manifest_bytes =
        std::fs::read(dir.join("manifest.json")).map_err(|e| format!("manifest: {e}"))?;
    let manifest = parse_manifest(&manifest_bytes).map_err(|e| e.to_string())?;
    let (entities, unreadable) = read_entities(&manifest, |rel| {
        std::fs::File::open(dir.join(rel)).map_err(|e| e.to_string())
    })
    .map_err(|e| e.to_string())?;
    t.lap();

    let snapshot = build_model(manifest, entities, unreadable);
    let at = parse_rfc3339(&snapshot.manifest.created_at)
        .ok_or_else(|| "snapshot created_at is not RFC 3339".to_string())?;
    t.lap();

    let stage = prepare_entities_with(pack, &snapshot, kind).map_err(|e| e.to_string())?;
    t.lap();

    let prepared = prepare_facts(pack, &snapshot, stage, at, params).map_err(|e| e.to_string())?;
    t.lap();

    let assessment =
        assess_prepared(pack, &snapshot, prepared, at, params).map_err(|e| e.to_string())?;
    t.lap();

    let mut sink = Sink::default();
    JsonPrinter
        .print(&assessment, &mut sink)
        .map_err(|e| e.to_string())?;
    t.lap();

    let entities = snapshot.entities.len();
    let unreadable = assessment.unreadable.len();
    let findings = assessment.findings.len();
    let keys = assessment
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.id.to_string(),
                f.entity.entity_type.to_string(),
                f.entity.id.clone(),
                f.kind == FindingKind::Indeterminate,
            )
        })
        .collect();
    t.started = Instant::now();
    drop(assessment);
    drop(snapshot);
    t.lap();
    Ok(EngineRun {
        entities,
        unreadable,
        findings,
        json_bytes: sink.0,
        rss_before,
        peak_reset: t.reset,
        stages: t.stages,
        keys,
    })
}

/// Assesses the snapshot in `dir` with each evaluator and checks that the JSON outputs are
/// identical.
pub fn compare(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
) -> Result<(), String> {
    let snapshot = conform_engine::fs::load_snapshot(dir).map_err(|e| e.to_string())?;
    let at = parse_rfc3339(&snapshot.manifest.created_at)
        .ok_or_else(|| "snapshot created_at is not RFC 3339".to_string())?;
    let mut outputs = Vec::new();
    for kind in [EvaluatorKind::Cedar, EvaluatorKind::Compiled] {
        let started = Instant::now();
        let a = assess_with(pack, &snapshot, at, params, kind).map_err(|e| e.to_string())?;
        let secs = started.elapsed().as_secs_f64();
        let mut out = Vec::new();
        JsonPrinter.print(&a, &mut out).map_err(|e| e.to_string())?;
        eprintln!(
            "{kind:?}: {secs:.3} s, {} findings, {} bytes",
            a.findings.len(),
            out.len()
        );
        outputs.push(out);
    }
    if outputs[0] == outputs[1] {
        println!("identical");
        Ok(())
    } else {
        let at = outputs[0]
            .iter()
            .zip(&outputs[1])
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let from = at.saturating_sub(300);
        Err(format!(
            "outputs differ at byte {at}:\n--- cedar\n{}\n--- compiled\n{}",
            String::from_utf8_lossy(&outputs[0][from..(at + 300).min(outputs[0].len())]),
            String::from_utf8_lossy(&outputs[1][from..(at + 300).min(outputs[1].len())])
        ))
    }
}
