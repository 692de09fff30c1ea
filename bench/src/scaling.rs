//! How the rules' cost grows: with the number of rules of one entity type, and (not at all)
//! with the rules of other types. The engine evaluates one policy set per entity type on the
//! entities of that type only; this measures exactly that loop, through the engine's public
//! evaluator, for growing prefixes of one type's rules and for two types apart and together.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;
use std::time::Instant;

use cedar_policy::{Context, Policy};
use conform_engine::assessment::{prepare_entities_with, prepare_facts};
use conform_engine::evaluate::evaluator::{
    CompiledEvaluator, EntityEvaluator, EvaluatorKind, SnapshotView,
};
use conform_engine::model::ENTITY_TYPES;
use conform_engine::pack::{ParamValue, PolicyPack};

/// Evaluates `policies` (of type `ti`) on every entity of that type, `repeat` times; the best
/// time in seconds.
fn time_set(
    policies: &[Policy],
    ti: usize,
    view: SnapshotView<'_>,
    context: &Context,
    repeat: usize,
) -> Result<f64, String> {
    let ev = CompiledEvaluator::new(policies, ti, view, context).map_err(|u| u.0)?;
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let mut satisfied = 0usize;
        for &ei in &view.by_type[ti] {
            satisfied += ev.evaluate_entity(ei).satisfied.len();
        }
        std::hint::black_box(satisfied);
        best = best.min(started.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn rules_of(pack: &PolicyPack, name: &str) -> (usize, Vec<Policy>) {
    let ti = ENTITY_TYPES
        .iter()
        .position(|t| t.name == name)
        .unwrap_or(0);
    let policies = pack
        .rules
        .iter()
        .filter(|r| r.type_index == ti)
        .map(|r| r.policy.clone())
        .collect();
    (ti, policies)
}

/// The experiment on the snapshot in `dir`, one thread; Markdown.
pub fn run(
    pack: &PolicyPack,
    params: &BTreeMap<String, ParamValue>,
    dir: &Path,
    per_rule: bool,
) -> Result<String, String> {
    let snapshot = conform_engine::fs::load_snapshot(dir).map_err(|e| e.to_string())?;
    let at = conform_engine::time::parse_rfc3339(&snapshot.manifest.created_at)
        .ok_or("created_at is not RFC 3339")?;
    let stage = prepare_entities_with(pack, &snapshot, EvaluatorKind::Compiled)
        .map_err(|e| e.to_string())?;
    let prepared = prepare_facts(pack, &snapshot, stage, at, params).map_err(|e| e.to_string())?;
    let view = prepared.entities.store.view(&snapshot.entities);
    let ctx = &prepared.rules_context;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| policy set | entities | rules | ms | ns per entity | ns per entity per rule |\n|---|---:|---:|---:|---:|---:|"
    );
    let mut row = |label: String, n: usize, rules: usize, secs: f64| {
        let per = secs * 1e9 / n.max(1) as f64;
        let _ = writeln!(
            out,
            "| {label} | {n} | {rules} | {:.2} | {per:.0} | {:.1} |",
            secs * 1e3,
            per / rules.max(1) as f64
        );
    };
    let (tt, tickets) = rules_of(pack, "Ticket");
    let (it, identities) = rules_of(pack, "Identity");
    let nt = view.by_type[tt].len();
    let ni = view.by_type[it].len();
    let mut k = 1;
    loop {
        let k_now = k.min(tickets.len());
        let secs = time_set(&tickets[..k_now], tt, view, ctx, 5)?;
        row(format!("Ticket, first {k_now} rules"), nt, k_now, secs);
        if k_now == tickets.len() {
            break;
        }
        k *= 2;
    }
    if per_rule {
        for (i, p) in identities.iter().enumerate() {
            let secs = time_set(std::slice::from_ref(p), it, view, ctx, 5)?;
            row(format!("Identity rule {i} {}", p.id()), ni, 1, secs);
        }
    }
    if per_rule {
        // every type's rules, on that type's entities: where the rules pass spends its time
        for t in ENTITY_TYPES {
            let (ti, set) = rules_of(pack, t.name);
            if set.is_empty() {
                continue;
            }
            let n = view.by_type[ti].len();
            let secs = time_set(&set, ti, view, ctx, 3)?;
            row(
                format!("{}, all {} rules", t.name, set.len()),
                n,
                set.len(),
                secs,
            );
        }
    }
    let ti_secs = time_set(&tickets, tt, view, ctx, 5)?;
    let id_secs = time_set(&identities, it, view, ctx, 5)?;
    row(
        format!("Identity, all {} rules", identities.len()),
        ni,
        identities.len(),
        id_secs,
    );
    // Both sets, as one pass of the engine runs them: each on its own type's entities.
    let mut best = f64::MAX;
    for _ in 0..5 {
        let a = time_set(&identities, it, view, ctx, 1)?;
        let b = time_set(&tickets, tt, view, ctx, 1)?;
        best = best.min(a + b);
    }
    row(
        format!(
            "Identity + Ticket sets together (sum of the parts: {:.2} ms)",
            (ti_secs + id_secs) * 1e3
        ),
        ni + nt,
        identities.len() + tickets.len(),
        best,
    );
    Ok(out)
}
