//! One assessment: one pack over one snapshot at one instant. Deterministic: the same inputs
//! give the same [`Assessment`], byte for byte once printed.

mod status;
mod values;

use std::collections::BTreeMap;
use std::sync::Arc;

use arcstr::ArcStr;

use cedar_policy::{Context, RestrictedExpression};
use rayon::prelude::*;
use serde::Serialize;

pub use status::{RequirementResult, RuleResult, StandardSummary, Status};

use crate::evaluate::attributes::{self, AttributeCoverage, ReadEvidence};
use crate::evaluate::coverage::{coverage, Coverage};
use crate::evaluate::entities::{self, EntityStore};
use crate::evaluate::evaluator::{compile_all, Backend, EvaluatorKind, Verdicts};
use crate::evaluate::facts::{self, FactResult, FactState};
use crate::finding::{
    finding_id, EntityRef, EvidenceRef, Finding, FindingKind, FindingStatus, RuleRef, Severity,
};
use crate::model::ENTITY_TYPES;
use crate::pack::{ParamValue, PolicyPack, Rule};
use crate::snapshot::{EvidenceSnapshot, SourceStatus, Unreadable};
use crate::time::format_rfc3339;

pub const FORMAT: &str = "conform-assessment/1";

/// The result of an assessment. Its JSON form is documented in `docs/findings.md`.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    pub format: &'static str,
    pub assessed_at: String,
    pub organization: String,
    pub snapshot: SnapshotRef,
    pub pack: PackRef,
    pub parameters: BTreeMap<String, serde_json::Value>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub rules: Vec<RuleResult>,
    pub requirements: Vec<RequirementResult>,
    pub facts: Vec<FactReport>,
    pub evidence: Vec<TypeCoverage>,
    pub sources: Vec<SourceReport>,
    /// What could not be read; everything else was assessed.
    pub unreadable: Vec<Unreadable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotRef {
    pub id: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackRef {
    pub name: String,
    pub version: String,
    pub digest: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FindingCounts {
    pub major: usize,
    pub minor: usize,
    pub observation: usize,
    pub indeterminate: usize,
    pub total: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub findings: FindingCounts,
    pub standards: Vec<StandardSummary>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactReport {
    pub name: String,
    pub kind: crate::pack::FactKind,
    pub of: String,
    pub value: serde_json::Value,
    #[serde(flatten)]
    pub state: FactState,
    pub population: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeCoverage {
    pub entity_type: String,
    pub entities: usize,
    #[serde(flatten)]
    pub coverage: Coverage,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub name: String,
    pub kind: String,
    pub status: SourceStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub collected_at: String,
    pub records: u64,
}

/// Why an assessment could not run at all (never because of one rule or record).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessError {
    #[error("internal error: {0}")]
    Internal(String),
}

impl Assessment {
    /// The highest severity among open findings (nonconformities and indeterminate results).
    pub fn worst_severity(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open)
            .map(|f| f.severity)
            .max()
    }
}

fn record(
    pairs: impl IntoIterator<Item = (String, RestrictedExpression)>,
) -> Result<RestrictedExpression, AssessError> {
    RestrictedExpression::new_record(pairs).map_err(|e| AssessError::Internal(e.to_string()))
}

/// Everything the rules pass needs, computed once: Cedar entities, evidence coverage, facts
/// and the rules' context.
pub struct Prepared {
    /// Entities, coverage and the evaluator (the first stage).
    pub entities: EntityStage,
    pub fact_results: Vec<FactResult>,
    pub rules_context: Context,
}

/// The first stage of [`prepare`]: Cedar entities (or only the entity index) and evidence
/// coverage.
pub struct EntityStage {
    pub store: EntityStore,
    pub unreadable: Vec<Unreadable>,
    pub counts: Vec<usize>,
    pub coverage: Vec<Coverage>,
    /// Which attributes each source supplies.
    pub attributes: AttributeCoverage,
    /// The evaluator the passes use; with [`EvaluatorKind::Compiled`], `store` holds no Cedar
    /// entities.
    pub evaluator: EvaluatorKind,
}

/// Everything the rules pass needs, evaluated with Cedar's authorizer (so that `store` holds
/// the Cedar entities). `prepare` is [`prepare_entities`] then [`prepare_facts`]; [`assess`] is
/// [`prepare_entities_with`], [`prepare_facts`] and [`assess_prepared`] (separate so that the
/// stages can be measured).
pub fn prepare(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Prepared, AssessError> {
    prepare_facts(pack, snapshot, prepare_entities(snapshot)?, at, params)
}

/// Builds the Cedar entities of `snapshot` and the evidence coverage of each entity type.
pub fn prepare_entities(snapshot: &EvidenceSnapshot) -> Result<EntityStage, AssessError> {
    let names = entities::type_names().map_err(AssessError::Internal)?;
    let (store, problems) = entities::build(&snapshot.entities, &names);
    let mut unreadable = snapshot.unreadable.clone();
    unreadable.extend(problems);
    Ok(entity_stage(
        snapshot,
        store,
        unreadable,
        EvaluatorKind::Cedar,
    ))
}

/// [`prepare_entities`] for the evaluator `kind`: with [`EvaluatorKind::Compiled`], when every
/// rule and fact of `pack` compiles, only the entity index is built (no Cedar entities);
/// otherwise the Cedar entities are.
pub fn prepare_entities_with(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    kind: EvaluatorKind,
) -> Result<EntityStage, AssessError> {
    if kind == EvaluatorKind::Compiled {
        let policies =
            pack.rules
                .iter()
                .map(|r| (&r.policy, r.type_index))
                .chain(pack.facts.iter().flat_map(|f| {
                    std::iter::once((&f.population, f.type_index))
                        .chain(f.meets.iter().map(|m| (m, f.type_index)))
                }));
        if let Some(compiled) = compile_all(policies) {
            tracing::info!("evaluator: compiled");
            let mut store = entities::index_only(&snapshot.entities);
            store.compiled = compiled;
            let unreadable = snapshot.unreadable.clone();
            return Ok(entity_stage(snapshot, store, unreadable, kind));
        }
        tracing::info!("evaluator: cedar (a policy uses what the compiler does not implement)");
    } else {
        tracing::info!("evaluator: cedar");
    }
    prepare_entities(snapshot)
}

fn entity_stage(
    snapshot: &EvidenceSnapshot,
    store: EntityStore,
    unreadable: Vec<Unreadable>,
    evaluator: EvaluatorKind,
) -> EntityStage {
    let counts: Vec<usize> = store.by_type.iter().map(Vec::len).collect();
    let coverage = coverage(&snapshot.manifest, &counts, &unreadable);
    let attributes = AttributeCoverage::new(&snapshot.manifest, &snapshot.entities, &unreadable);
    EntityStage {
        store,
        unreadable,
        counts,
        coverage,
        attributes,
        evaluator,
    }
}

/// The evaluators' backend of a store built for `kind`.
fn backend<'a>(
    kind: EvaluatorKind,
    store: &'a EntityStore,
    snapshot: &'a EvidenceSnapshot,
) -> Backend<'a> {
    match kind {
        EvaluatorKind::Cedar => Backend::Cedar {
            entities: &store.entities,
            uids: &store.uids,
        },
        EvaluatorKind::Compiled => Backend::Compiled {
            view: store.view(&snapshot.entities),
            compiled: &store.compiled,
        },
    }
}

/// Runs the facts pass and builds the rules' context.
pub fn prepare_facts(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    stage: EntityStage,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Prepared, AssessError> {
    let EntityStage {
        store,
        coverage,
        attributes,
        evaluator,
        ..
    } = &stage;
    let params_record = record(params.iter().map(|(k, v)| (k.clone(), v.to_cedar())))?;
    let now = RestrictedExpression::new_long(at);
    let facts_context = Context::from_pairs([
        ("now".to_string(), now.clone()),
        ("params".to_string(), params_record.clone()),
    ])
    .map_err(|e| AssessError::Internal(e.to_string()))?;
    let mut fact_results = facts::compute_with(
        &pack.facts,
        &backend(*evaluator, store, snapshot),
        store,
        &snapshot.entities,
        coverage,
        &facts_context,
    );
    attributes.apply_to_facts(
        &pack.facts,
        &mut fact_results,
        &store.view(&snapshot.entities),
    );
    let facts_record = record(fact_results.iter().filter_map(|f| {
        matches!(f.state, FactState::Computed)
            .then(|| {
                f.value
                    .and_then(|v| v.to_cedar())
                    .map(|v| (f.name.clone(), v))
            })
            .flatten()
    }))?;
    let rules_context = Context::from_pairs([
        ("now".to_string(), now),
        ("params".to_string(), params_record),
        ("facts".to_string(), facts_record),
    ])
    .map_err(|e| AssessError::Internal(e.to_string()))?;

    Ok(Prepared {
        entities: stage,
        fact_results,
        rules_context,
    })
}

/// Runs the facts pass and the rules pass of `pack` over `snapshot` at `at` (epoch seconds)
/// with the resolved parameter values `params`.
pub fn assess(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Assessment, AssessError> {
    assess_with(pack, snapshot, at, params, EvaluatorKind::default())
}

/// [`assess`] with the evaluator `kind`. Every kind gives the same assessment.
pub fn assess_with(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
    kind: EvaluatorKind,
) -> Result<Assessment, AssessError> {
    let stage = prepare_entities_with(pack, snapshot, kind)?;
    let prepared = prepare_facts(pack, snapshot, stage, at, params)?;
    assess_prepared(pack, snapshot, prepared, at, params)
}

/// The rules pass and the assembly of the [`Assessment`] from what [`prepare`] computed with
/// the same arguments.
pub fn assess_prepared(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    prepared: Prepared,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
) -> Result<Assessment, AssessError> {
    let Prepared {
        entities:
            EntityStage {
                store,
                mut unreadable,
                counts,
                coverage,
                attributes,
                evaluator,
            },
        fact_results,
        rules_context,
    } = prepared;
    let ctx = RunContext {
        snapshot,
        store: &store,
        backend: backend(evaluator, &store, snapshot),
        at,
        params,
        facts: &fact_results,
        attributes: &attributes,
        texts: SharedTexts {
            pack: pack.name.as_str().into(),
            version: pack.version.to_string().into(),
            digest: pack.digest.as_str().into(),
            snapshot: snapshot.manifest.snapshot_id.as_str().into(),
            assessed_at: format_rfc3339(at).into(),
        },
    };
    let mut found: Vec<Vec<(usize, Finding)>> = Vec::new();
    let mut rule_results = Vec::new();
    for (ti, _) in ENTITY_TYPES.iter().enumerate() {
        let rules: Vec<&Rule> = pack.rules.iter().filter(|r| r.type_index == ti).collect();
        if rules.is_empty() {
            continue;
        }
        let (f, r) = ctx.run_type(ti, &rules, &rules_context, &coverage[ti]);
        found.extend(f);
        rule_results.extend(r);
    }
    // moved once, into a vector of the right size; each one's entity index kept beside it
    let total = found.iter().map(Vec::len).sum();
    let (mut findings, mut entity_of) = (Vec::with_capacity(total), Vec::with_capacity(total));
    for (ei, f) in found.into_iter().flatten() {
        entity_of.push(ei);
        findings.push(f);
    }
    sort_findings(&mut findings, &entity_of);
    rule_results.sort_by(|a, b| a.id.cmp(&b.id));
    let requirements = status::requirement_results(&pack.catalogs, &pack.rules, &rule_results);
    let standards = status::standard_summaries(&pack.catalogs, &requirements);
    let mut counts_by = FindingCounts::default();
    for f in &findings {
        match (f.kind, f.severity) {
            (FindingKind::Indeterminate, _) => counts_by.indeterminate += 1,
            (_, Severity::Major) => counts_by.major += 1,
            (_, Severity::Minor) => counts_by.minor += 1,
            (_, Severity::Observation) => counts_by.observation += 1,
        }
        counts_by.total += 1;
    }
    unreadable.sort_by(|a, b| (&a.file, a.line, &a.error).cmp(&(&b.file, b.line, &b.error)));
    Ok(Assessment {
        format: FORMAT,
        assessed_at: ctx.texts.assessed_at.to_string(),
        organization: snapshot.manifest.organization.clone(),
        snapshot: SnapshotRef {
            id: snapshot.manifest.snapshot_id.clone(),
            created_at: snapshot.manifest.created_at.clone(),
        },
        pack: PackRef {
            name: pack.name.clone(),
            version: pack.version.to_string(),
            digest: pack.digest.clone(),
        },
        parameters: params
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
        summary: Summary {
            findings: counts_by,
            standards,
        },
        findings,
        rules: rule_results,
        requirements,
        facts: fact_results
            .iter()
            .map(|f| FactReport {
                name: f.name.clone(),
                kind: f.kind,
                of: pack
                    .facts
                    .iter()
                    .find(|d| d.name == f.name)
                    .map(|d| ENTITY_TYPES[d.type_index].name.to_string())
                    .unwrap_or_default(),
                value: f.value.map_or(serde_json::Value::Null, |v| v.to_json()),
                state: f.state.clone(),
                population: f.population,
            })
            .collect(),
        evidence: ENTITY_TYPES
            .iter()
            .enumerate()
            .map(|(ti, t)| TypeCoverage {
                entity_type: t.name.to_string(),
                entities: counts[ti],
                coverage: coverage[ti].clone(),
            })
            .collect(),
        sources: snapshot
            .manifest
            .sources
            .iter()
            .map(|s| SourceReport {
                name: s.name.clone(),
                kind: s.kind.clone(),
                status: s.status,
                error: s.error.clone(),
                collected_at: s.finished_at.clone(),
                records: s.records,
            })
            .collect(),
        unreadable,
    })
}

/// Everything one type's rules pass needs.
struct RunContext<'a> {
    snapshot: &'a EvidenceSnapshot,
    store: &'a EntityStore,
    backend: Backend<'a>,
    at: i64,
    params: &'a BTreeMap<String, ParamValue>,
    facts: &'a [FactResult],
    attributes: &'a AttributeCoverage,
    texts: SharedTexts,
}

/// At most this many entities of one type are evaluated and reported as one unit of parallel
/// work.
const ENTITY_CHUNK: usize = 2048;

/// What the rules of one type found on a chunk of its entities.
struct TypeOutcome {
    /// (entity index, finding)
    findings: Vec<(usize, Finding)>,
    /// Per rule: (nonconformities, indeterminate results).
    tallies: Vec<(usize, usize)>,
    /// Per rule: entities not assessed because their source lacks an attribute it reads.
    unsupplied: Vec<usize>,
}

impl TypeOutcome {
    fn new(rules: usize) -> Self {
        Self {
            findings: Vec::new(),
            tallies: vec![(0, 0); rules],
            unsupplied: vec![0; rules],
        }
    }
}

/// Why a rule was not evaluated: an attribute it reads has no source, or a fact it reads has
/// no value to offer.
enum Skip {
    NotAssessed(String),
    Indeterminate(String),
}

impl<'a> RunContext<'a> {
    fn skip_reason(&self, rule: &Rule, reads: &ReadEvidence, coverage: &Coverage) -> Option<Skip> {
        // with no entities of its type at all, that is the reason (`rule_status`)
        if let (Some(r), false) = (
            reads.no_evidence_reason(),
            matches!(coverage, Coverage::Missing(_)),
        ) {
            return Some(Skip::NotAssessed(format!("no evidence: {r}")));
        }
        for name in &rule.facts {
            match self
                .facts
                .iter()
                .find(|f| &f.name == name)
                .map(|f| &f.state)
            {
                Some(FactState::NoEvidence(r)) => {
                    return Some(Skip::NotAssessed(format!(
                        "fact `{name}` has no evidence: {r}"
                    )))
                }
                Some(FactState::Indeterminate(r)) => {
                    return Some(Skip::Indeterminate(format!(
                        "fact `{name}` is indeterminate: {r}"
                    )))
                }
                _ => {}
            }
        }
        None
    }

    fn run_type(
        &self,
        ti: usize,
        rules: &[&Rule],
        context: &'a Context,
        coverage: &Coverage,
    ) -> (Vec<Vec<(usize, Finding)>>, Vec<RuleResult>) {
        let reads: Vec<ReadEvidence> = rules
            .iter()
            .map(|r| self.attributes.reads(ti, &r.reads))
            .collect();
        let skips: Vec<Option<Skip>> = rules
            .iter()
            .zip(&reads)
            .map(|(r, reads)| self.skip_reason(r, reads, coverage))
            .collect();
        let active: Vec<usize> = (0..rules.len()).filter(|i| skips[*i].is_none()).collect();
        let texts: Vec<RuleTexts> = rules
            .iter()
            .map(|r| RuleTexts::new(r, &self.texts))
            .collect();
        let policies: Vec<_> = active.iter().map(|i| rules[*i].policy.clone()).collect();
        let entity_indices = &self.store.by_type[ti];
        // the findings are sorted afterwards and the tallies are sums: the order changes nothing
        let in_memory_order = self.store.in_memory_order(&self.snapshot.entities, ti);
        let paths: Vec<String> = rules.iter().flat_map(|r| r.reads.iter().cloned()).collect();
        self.store
            .prepare_lookups(&self.snapshot.entities, ti, &paths);
        let evaluator = self.backend.evaluator(&policies, ti, context);
        let view = self.store.view(&self.snapshot.entities);
        // Each chunk of entities is evaluated and turned into findings on its own core; the
        // chunks' outcomes are then joined in the order visited.
        // small types split too, so that both cores share them
        let chunk =
            (entity_indices.len() / (8 * rayon::current_num_threads())).clamp(1, ENTITY_CHUNK);
        let chunks: Vec<TypeOutcome> = in_memory_order
            .par_chunks(chunk)
            .map(|chunk| {
                let mut out = TypeOutcome::new(rules.len());
                let mut lacks: Vec<bool> = Vec::with_capacity(reads.len());
                let mut v = Verdicts::default();
                for &ei in chunk {
                    match &evaluator {
                        Ok(ev) => ev.evaluate_entity_into(ei, &mut v),
                        Err(e) => {
                            v.satisfied.clear();
                            v.errors.clear();
                            v.errors.extend((0..policies.len()).map(|i| (i, e.clone())));
                        }
                    }
                    lacks.clear();
                    lacks.extend(
                        reads
                            .iter()
                            .map(|r| r.unsupplied_on(self.attributes, &view, ei)),
                    );
                    for (ri, lacking) in lacks.iter().enumerate() {
                        if *lacking && !matches!(skips[ri], Some(Skip::NotAssessed(_))) {
                            out.unsupplied[ri] += 1;
                        }
                    }
                    for (ai, &ri) in active.iter().enumerate() {
                        if lacks[ri] {
                            continue;
                        }
                        if v.satisfied.binary_search(&ai).is_ok() {
                            out.tallies[ri].0 += 1;
                            out.findings.push((ei, self.finding(&texts[ri], ei, None)));
                        } else if let Some((_, err)) = v.errors.iter().find(|(i, _)| *i == ai) {
                            out.tallies[ri].1 += 1;
                            out.findings
                                .push((ei, self.finding(&texts[ri], ei, Some(err.clone()))));
                        }
                    }
                    for (ri, skip) in skips.iter().enumerate() {
                        if let (Some(Skip::Indeterminate(reason)), false) = (skip, lacks[ri]) {
                            out.tallies[ri].1 += 1;
                            out.findings
                                .push((ei, self.finding(&texts[ri], ei, Some(reason.clone()))));
                        }
                    }
                }
                out
            })
            .collect();
        let mut findings = Vec::with_capacity(chunks.len());
        let mut tallies = vec![(0usize, 0usize); rules.len()];
        // entities not assessed per rule: their source does not supply an attribute it reads
        let mut unsupplied = vec![0usize; rules.len()];
        for chunk in chunks {
            findings.push(chunk.findings);
            for ri in 0..rules.len() {
                tallies[ri].0 += chunk.tallies[ri].0;
                tallies[ri].1 += chunk.tallies[ri].1;
                unsupplied[ri] += chunk.unsupplied[ri];
            }
        }
        let results = rules
            .iter()
            .enumerate()
            .map(|(ri, rule)| {
                let (nc, ind) = tallies[ri];
                let skip = skips[ri].as_ref().map(|s| match s {
                    Skip::NotAssessed(r) => (Status::NotAssessed, r.clone()),
                    Skip::Indeterminate(r) => (Status::Indeterminate, r.clone()),
                });
                let coverage = attributes::rule_coverage(
                    coverage,
                    reads[ri].incomplete_reason(unsupplied[ri], ti),
                );
                let (status, reason) = status::rule_status(nc, ind, &coverage, skip);
                RuleResult {
                    id: rule.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity,
                    entity_type: ENTITY_TYPES[ti].name.to_string(),
                    requirements: rule.requirements.clone(),
                    status,
                    reason,
                    evaluated: if skips[ri].is_some() {
                        0
                    } else {
                        entity_indices.len() - unsupplied[ri]
                    },
                    not_assessed: unsupplied[ri],
                    nonconformities: nc,
                    indeterminate: ind,
                }
            })
            .collect();
        (findings, results)
    }

    fn finding(&self, rule: &RuleTexts<'_>, ei: usize, error: Option<String>) -> Finding {
        let e = &self.snapshot.entities[ei];
        let values = values::read(&rule.reads, e, self);
        let kind = if error.is_some() {
            FindingKind::Indeterminate
        } else {
            FindingKind::Nonconformity
        };
        let message = match &error {
            Some(err) => format!("could not evaluate \"{}\": {err}", rule.rule.title),
            None => values::summary(&rule.rule.title, &values),
        };
        Finding {
            id: finding_id(&rule.rule.id, e.type_name(), e.id()),
            kind,
            severity: rule.severity,
            status: FindingStatus::Open,
            rule: rule.rule.clone(),
            requirements: rule.requirements.clone(),
            entity: EntityRef {
                entity_type: rule.entity_type.clone(),
                id: e.id().to_string(),
                name: e.name().to_string(),
            },
            evidence: EvidenceRef {
                source: e.provenance.source.shared(),
                record_id: e.record_id().to_string(),
                record_sha256: e.provenance.record_sha256.to_hex(),
                snapshot: self.texts.snapshot.clone(),
                collected_at: format_rfc3339(e.provenance.collected_at),
            },
            values,
            error,
            message,
            remediation: rule.remediation.clone(),
            assessed_at: self.texts.assessed_at.clone(),
        }
    }
}

/// Sorts findings by (rule, entity type, entity id, entity index): a snapshot built without
/// `build_model` (a policy test case) may hold an id twice, and its findings then keep the
/// order the entities have (`entity_of[i]` is finding `i`'s entity index), whatever order the
/// entities were evaluated in. The indices are sorted, then each finding is moved once: a
/// merge sort of the findings themselves moved tens of thousands of ~330-byte values a dozen
/// times over (70 ms at 1M entities).
fn sort_findings(findings: &mut [Finding], entity_of: &[usize]) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    {
        let findings: &[Finding] = findings;
        order.par_sort_unstable_by(|&a, &b| {
            let (x, y) = (&findings[a], &findings[b]);
            (
                &x.rule.id,
                &x.entity.entity_type,
                &x.entity.id,
                entity_of.get(a),
            )
                .cmp(&(
                    &y.rule.id,
                    &y.entity.entity_type,
                    &y.entity.id,
                    entity_of.get(b),
                ))
        });
    }
    crate::permute::apply_permutation(findings, order);
}

/// The texts every finding of an assessment shares.
struct SharedTexts {
    pack: ArcStr,
    version: ArcStr,
    digest: ArcStr,
    snapshot: ArcStr,
    assessed_at: ArcStr,
}

/// The texts every finding of one rule shares, made once per assessment: a finding holds
/// references to them, not copies.
struct RuleTexts<'a> {
    rule: RuleRef,
    severity: Severity,
    requirements: Arc<[ArcStr]>,
    entity_type: ArcStr,
    remediation: ArcStr,
    /// The attribute paths the rule reads (the keys of its findings' `values`), each with its
    /// parts.
    reads: Vec<(ArcStr, Vec<&'a str>)>,
}

impl<'a> RuleTexts<'a> {
    fn new(rule: &'a Rule, shared: &SharedTexts) -> Self {
        Self {
            rule: RuleRef {
                id: rule.id.as_str().into(),
                title: rule.title.as_str().into(),
                pack: shared.pack.clone(),
                version: shared.version.clone(),
                digest: shared.digest.clone(),
                file: rule.file.as_str().into(),
                line: rule.line,
            },
            severity: rule.severity,
            requirements: rule
                .requirements
                .iter()
                .map(|r| ArcStr::from(r.as_str()))
                .collect(),
            entity_type: ENTITY_TYPES[rule.type_index].name.into(),
            remediation: rule.remediation.as_str().into(),
            reads: rule
                .reads
                .iter()
                .map(|r| (ArcStr::from(r.as_str()), r.split('.').collect()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
