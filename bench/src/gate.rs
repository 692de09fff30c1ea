//! `conform-bench gate`: the deployment gate through the snapshot index against the gate on
//! the whole loaded snapshot, in the same process and run, on organisations of growing size.
//! Both must give the same result (checked on every size); only their cost differs.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use conform_engine::fs::{load_snapshot, open_indexed, IndexReads, OpenedSnapshot};
use conform_engine::gate::{gate, gate_on, Gate, GateRequest};
use conform_engine::model::value::AttrRef;
use conform_engine::pack::{ParamValue, PolicyPack};
use conform_engine::time::parse_rfc3339;

/// One organisation's figures.
pub struct GateResult {
    pub label: String,
    pub entities: usize,
    pub service: String,
    pub change: Option<String>,
    pub touched: usize,
    pub findings: usize,
    /// Seconds per run, sorted.
    pub indexed: Vec<f64>,
    pub full: Vec<f64>,
    pub reads: IndexReads,
    pub index_json_bytes: u64,
    pub identical: bool,
}

fn median(v: &[f64]) -> f64 {
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn min(v: &[f64]) -> f64 {
    v.first().copied().unwrap_or(f64::NAN)
}

/// The Service with the most components (first by id on a tie) and its first change record.
fn pick_request(snapshot: &conform_engine::snapshot::EvidenceSnapshot) -> Option<GateRequest> {
    let text = |e: &conform_engine::model::EvidenceEntity, a: &str| match e.attr(a) {
        Some(AttrRef::String(s)) => Some(s.to_string()),
        _ => None,
    };
    let mut best: Option<(usize, &str)> = None;
    for e in snapshot
        .entities
        .iter()
        .filter(|e| e.type_name() == "Service")
    {
        let n = match e.attr("components") {
            Some(AttrRef::RefSet(c)) => c.len(),
            _ => 0,
        };
        if best.is_none_or(|(m, _)| n > m) {
            best = Some((n, e.id()));
        }
    }
    let (_, service) = best?;
    let change = snapshot
        .entities
        .iter()
        .filter(|e| e.type_name() == "Ticket" && text(e, "kind").as_deref() == Some("change"))
        .find(|e| matches!(e.attr("service"), Some(AttrRef::Ref(s)) if s == service))
        .map(|e| e.id().to_string());
    Some(GateRequest {
        service: service.to_string(),
        change,
        evaluator: Default::default(),
    })
}

fn indexed_once(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    request: &GateRequest,
) -> Result<(Gate, IndexReads), String> {
    let OpenedSnapshot::Indexed(mut ix) = open_indexed(dir).map_err(|e| e.to_string())? else {
        return Err(format!("{} has no index", dir.display()));
    };
    let at = parse_rfc3339(&ix.manifest().created_at).unwrap_or_default();
    let g = gate_on(pack, &mut *ix, at, params, request).map_err(|e| e.to_string())?;
    Ok((g, ix.reads()))
}

fn full_once(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    request: &GateRequest,
) -> Result<Gate, String> {
    let snapshot = load_snapshot(dir).map_err(|e| e.to_string())?;
    let at = parse_rfc3339(&snapshot.manifest.created_at).unwrap_or_default();
    gate(pack, &snapshot, at, params, request).map_err(|e| e.to_string())
}

/// Times both gates `repeat` times each, alternating, on the organisation in `dir`.
pub fn measure(
    label: &str,
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    repeat: usize,
) -> Result<GateResult, String> {
    let snapshot = load_snapshot(dir).map_err(|e| e.to_string())?;
    let entities = snapshot.entities.len();
    let request = pick_request(&snapshot).ok_or("the organisation has no Service")?;
    drop(snapshot);
    let (mut indexed, mut full) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let (a, reads) = indexed_once(pack, params, dir, &request)?;
        indexed.push(started.elapsed().as_secs_f64());
        let started = Instant::now();
        let b = full_once(pack, params, dir, &request)?;
        full.push(started.elapsed().as_secs_f64());
        last = Some((a, b, reads));
    }
    let (a, b, reads) = last.ok_or("no run")?;
    let json = |g: &Gate| serde_json::to_string(g).unwrap_or_default();
    indexed.sort_by(f64::total_cmp);
    full.sort_by(f64::total_cmp);
    let index_json_bytes = std::fs::metadata(dir.join("index/index.json")).map_or(0, |m| m.len());
    Ok(GateResult {
        label: label.to_string(),
        entities,
        service: request.service,
        change: request.change,
        touched: a.touched.len(),
        findings: a.assessment.findings.len(),
        identical: json(&a) == json(&b),
        indexed,
        full,
        reads,
        index_json_bytes,
    })
}

/// The results as Markdown.
pub fn render(results: &[GateResult], repeat: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Gate through the index vs gate on the whole loaded snapshot, same process, alternating, {} run(s) each (min / median); the pack is loaded once beforehand and not timed.\n\n",
        repeat.max(1)
    ));
    s.push_str("| org | entities | touched | findings | indexed gate | full-load gate | full / indexed (median) | index read (chunks, KiB; lines) | `index.json` | same result |\n");
    s.push_str("|---|---:|---:|---:|---|---|---:|---|---:|---|\n");
    for r in results {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.1} / {:.1} ms | {:.1} / {:.1} ms | {:.0}× | {} chunks, {} KiB; {} lines | {} KiB | {} |\n",
            r.label,
            r.entities,
            r.touched,
            r.findings,
            min(&r.indexed) * 1e3,
            median(&r.indexed) * 1e3,
            min(&r.full) * 1e3,
            median(&r.full) * 1e3,
            median(&r.full) / median(&r.indexed),
            r.reads.chunks,
            r.reads.chunk_bytes / 1024,
            r.reads.lines,
            r.index_json_bytes / 1024,
            if r.identical { "yes" } else { "**NO**" }
        ));
    }
    s.push('\n');
    for r in results {
        s.push_str(&format!(
            "- {}: `--service {}`{}\n",
            r.label,
            r.service,
            r.change
                .as_ref()
                .map(|c| format!(" `--change {c}`"))
                .unwrap_or_default()
        ));
    }
    s
}
