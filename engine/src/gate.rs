//! The deployment gate: may this deployment go ahead? Assesses only what the deployment
//! touches — the Service, its component Assets, their owners, the components' BackupJobs,
//! the open major incidents affecting them, and the change record — by running the pack's
//! rules on that subset of the snapshot ([`assess`] over a sub-snapshot). Which entities a
//! deployment touches is scoping; whether they conform is for the pack's Cedar rules alone.
//!
//! Cost: after the snapshot is loaded, the service (by id), its components, owners and backup
//! jobs are found by binary search (entities are sorted by type and id); a service named by
//! name is found by a scan of the Services, and the incidents affecting the components (and a
//! change named by key) by one scan of the Tickets; the rules then run on the subset only. Rules that read population facts are organisation-wide judgements and are not gated
//! (a fact over a subset would be wrong); they are listed in [`Gate::not_gated`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::assessment::{assess_with, prepare, AssessError, Assessment, Prepared, Status};
use crate::evaluate::coverage::{coverage, Coverage};
use crate::evaluate::evaluator::EvaluatorKind;
use crate::finding::EntityRef;
use crate::model::value::AttrRef;
use crate::model::{entity_type_index, AttrType, EvidenceEntity, ENTITY_TYPES};
use crate::pack::{ParamType, ParamValue, PolicyPack, Rule};
use crate::snapshot::index::IndexError;
use crate::snapshot::{EvidenceSnapshot, Manifest, Unreadable};

/// The entity types the gate assesses.
pub const GATED_TYPES: [&str; 5] = ["Service", "Asset", "Identity", "BackupJob", "Ticket"];

/// Ticket kinds that are incidents.
const INCIDENT_KINDS: [&str; 2] = ["incident", "security_incident"];
/// Ticket states that are no longer open.
const CLOSED_STATES: [&str; 3] = ["resolved", "closed", "cancelled"];

/// What is deployed.
#[derive(Debug, Clone)]
pub struct GateRequest {
    /// The Service: its entity id, its name, or the part of its id after the last `:`.
    pub service: String,
    /// The change record: a Ticket id or key.
    pub change: Option<String>,
    /// The evaluator the gate's assessment uses.
    pub evaluator: EvaluatorKind,
}

/// Why the gate could not run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    #[error("`{0}` names more than one Service ({1}); pass its entity id")]
    AmbiguousService(String, String),
    #[error("`{0}` is the key of more than one Ticket ({1}); pass its entity id")]
    AmbiguousChange(String, String),
    #[error("ticket `{id}` is of kind `{kind}`, not a change record")]
    NotAChange { id: String, kind: String },
    #[error(transparent)]
    Assess(#[from] AssessError),
    /// The snapshot index, or an entity line it points at, failed verification.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Why an entity is part of the gate.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Service,
    Component,
    Owner,
    Backup,
    Incident,
    Change,
    /// Read by a gated rule through a reference of a touched entity (e.g. an owner's owner).
    Referenced,
}

#[derive(Debug, Clone, Serialize)]
pub struct Touched {
    #[serde(flatten)]
    pub entity: EntityRef,
    pub roles: Vec<Role>,
}

/// A rule of the pack the gate does not run, and why.
#[derive(Debug, Clone, Serialize)]
pub struct NotGated {
    pub rule: String,
    pub reason: String,
}

/// Evidence of one gated entity type in the whole snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct GatedEvidence {
    pub entity_type: String,
    pub entities: usize,
    #[serde(flatten)]
    pub coverage: Coverage,
}

/// The gate's result.
#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub service: Option<EntityRef>,
    pub change: Option<EntityRef>,
    /// Sorted by type and id.
    pub touched: Vec<Touched>,
    /// Gated requirements without evidence: the service or change is not in the snapshot, a
    /// component is missing, or a gated type's evidence is missing or incomplete.
    pub missing_evidence: Vec<String>,
    pub evidence: Vec<GatedEvidence>,
    pub not_gated: Vec<NotGated>,
    /// The pack's gated rules over the touched entities.
    pub assessment: Assessment,
}

/// A handle on an entity an evidence source has found.
pub type Handle = usize;

/// Which Service attribute a name given to `--service` is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceField {
    Name,
    /// The part of the id after its last `:`.
    IdSuffix,
}

/// Where the gate finds the entities a deployment touches: a fully loaded snapshot
/// ([`LoadedEvidence`]) or the snapshot index, which reads only what is asked
/// (`fs::IndexedSnapshot`). Both must answer the same questions identically.
pub trait GateEvidence {
    fn manifest(&self) -> &Manifest;
    /// What the whole snapshot could not read.
    fn unreadable(&self) -> &[Unreadable];
    /// Readable entities of each type (by type index) in the whole snapshot.
    fn counts(&self) -> Vec<usize>;
    /// An entity found earlier, with its inverse attributes filled.
    fn get(&self, h: Handle) -> &EvidenceEntity;
    fn find(&mut self, type_index: usize, id: &str) -> Result<Option<Handle>, IndexError>;
    /// The Services whose `field` is `value`, in id order.
    fn services_by(&mut self, field: ServiceField, value: &str) -> Result<Vec<Handle>, IndexError>;
    /// The Tickets whose `key` is `key`, in id order.
    fn tickets_by_key(&mut self, key: &str) -> Result<Vec<Handle>, IndexError>;
    /// The Tickets whose reference attribute `.2` names entity (`.0` type index, `.1` id).
    fn tickets_referring(
        &mut self,
        targets: &[(usize, String, &'static str)],
    ) -> Result<BTreeSet<Handle>, IndexError>;
}

/// A loaded snapshot as gate evidence: entities are sorted by (type index, id), so they are
/// found by binary search; names, keys and references by scans.
pub struct LoadedEvidence<'a>(pub &'a EvidenceSnapshot);

impl LoadedEvidence<'_> {
    fn of_type(&self, type_index: usize) -> std::ops::Range<usize> {
        let es = &self.0.entities;
        let start = es.partition_point(|e| e.type_index < type_index);
        let end = es.partition_point(|e| e.type_index <= type_index);
        start..end
    }
}

impl GateEvidence for LoadedEvidence<'_> {
    fn manifest(&self) -> &Manifest {
        &self.0.manifest
    }

    fn unreadable(&self) -> &[Unreadable] {
        &self.0.unreadable
    }

    fn counts(&self) -> Vec<usize> {
        (0..ENTITY_TYPES.len())
            .map(|t| self.of_type(t).len())
            .collect()
    }

    fn get(&self, h: Handle) -> &EvidenceEntity {
        &self.0.entities[h]
    }

    fn find(&mut self, type_index: usize, id: &str) -> Result<Option<Handle>, IndexError> {
        Ok(self
            .0
            .entities
            .binary_search_by(|e| (e.type_index, e.id()).cmp(&(type_index, id)))
            .ok())
    }

    fn services_by(&mut self, field: ServiceField, value: &str) -> Result<Vec<Handle>, IndexError> {
        let es = &self.0.entities;
        Ok(self
            .of_type(ti("Service"))
            .filter(|i| match field {
                ServiceField::Name => es[*i].name() == value,
                ServiceField::IdSuffix => es[*i].id().rsplit(':').next() == Some(value),
            })
            .collect())
    }

    fn tickets_by_key(&mut self, key: &str) -> Result<Vec<Handle>, IndexError> {
        let es = &self.0.entities;
        Ok(self
            .of_type(ti("Ticket"))
            .filter(|i| text(&es[*i], "key") == Some(key))
            .collect())
    }

    fn tickets_referring(
        &mut self,
        targets: &[(usize, String, &'static str)],
    ) -> Result<BTreeSet<Handle>, IndexError> {
        let es = &self.0.entities;
        Ok(self
            .of_type(ti("Ticket"))
            .filter(|i| {
                let e = &es[*i];
                targets.iter().any(|(t, id, attr)| {
                    matches!(e.def().attr(attr).map(|a| a.ty),
                        Some(AttrType::Ref(target) | AttrType::RefSet(target)) if ti(target) == *t)
                        && e.attr(attr).is_some_and(|v| v.ref_ids().any(|r| r == id))
                })
            })
            .collect())
    }
}

fn text<'a>(e: &'a EvidenceEntity, attr: &str) -> Option<&'a str> {
    match e.attr(attr) {
        Some(AttrRef::String(s)) => Some(s),
        _ => None,
    }
}

fn entity_ref(e: &EvidenceEntity) -> EntityRef {
    EntityRef {
        entity_type: e.type_name().into(),
        id: e.id().to_string(),
        name: e.name().to_string(),
    }
}

fn ti(name: &str) -> usize {
    entity_type_index(name).unwrap_or(usize::MAX)
}

fn find_service(ev: &mut dyn GateEvidence, wanted: &str) -> Result<Option<Handle>, GateError> {
    if let Some(i) = ev.find(ti("Service"), wanted)? {
        return Ok(Some(i));
    }
    for field in [ServiceField::Name, ServiceField::IdSuffix] {
        let found = ev.services_by(field, wanted)?;
        match found.as_slice() {
            [] => {}
            [one] => return Ok(Some(*one)),
            many => {
                let ids: Vec<&str> = many.iter().map(|i| ev.get(*i).id()).collect();
                return Err(GateError::AmbiguousService(wanted.into(), ids.join(", ")));
            }
        }
    }
    Ok(None)
}

fn find_change(ev: &mut dyn GateEvidence, wanted: &str) -> Result<Option<Handle>, GateError> {
    let found = match ev.find(ti("Ticket"), wanted)? {
        Some(i) => Some(i),
        None => {
            let by_key = ev.tickets_by_key(wanted)?;
            if by_key.len() > 1 {
                let ids: Vec<&str> = by_key.iter().map(|i| ev.get(*i).id()).collect();
                return Err(GateError::AmbiguousChange(wanted.into(), ids.join(", ")));
            }
            by_key.first().copied()
        }
    };
    if let Some(i) = found {
        let e = ev.get(i);
        let kind = text(e, "kind").unwrap_or_default();
        if kind != "change" {
            return Err(GateError::NotAChange {
                id: e.id().to_string(),
                kind: kind.to_string(),
            });
        }
    }
    Ok(found)
}

/// The attribute chains the gated rules dereference, per entity type: `resource.owner.status`
/// dereferences `owner` of the rule's type.
fn deref_chains(pack: &PolicyPack) -> BTreeMap<usize, BTreeSet<Vec<String>>> {
    let mut out: BTreeMap<usize, BTreeSet<Vec<String>>> = BTreeMap::new();
    for r in &pack.rules {
        for p in &r.reads {
            let Some(rest) = p.strip_prefix("resource.") else {
                continue;
            };
            let segs: Vec<String> = rest.split('.').map(str::to_string).collect();
            if segs.len() >= 2 {
                out.entry(r.type_index)
                    .or_default()
                    .insert(segs[..segs.len() - 1].to_vec());
            }
        }
    }
    out
}

/// The entities `chain` reaches from entity `i`.
fn follow(
    ev: &mut dyn GateEvidence,
    i: Handle,
    chain: &[String],
    reached: &mut Vec<Handle>,
) -> Result<(), IndexError> {
    let Some((attr, rest)) = chain.split_first() else {
        return Ok(());
    };
    let e = ev.get(i);
    let Some(AttrType::Ref(target)) = e.def().attr(attr).map(|a| a.ty) else {
        return Ok(());
    };
    for id in refs_of(ev, i, attr) {
        if let Some(j) = ev.find(ti(target), &id)? {
            reached.push(j);
            follow(ev, j, rest, reached)?;
        }
    }
    Ok(())
}

/// The references of entity `h`'s attribute `attr`, owned.
fn refs_of(ev: &dyn GateEvidence, h: Handle, attr: &str) -> Vec<String> {
    ev.get(h)
        .attr(attr)
        .map(|v| v.ref_ids().map(str::to_string).collect())
        .unwrap_or_default()
}

fn add(picked: &mut BTreeMap<Handle, BTreeSet<Role>>, i: Handle, role: Role) {
    picked.entry(i).or_default().insert(role);
}

/// The boolean pack parameter `conform gate` sets to `true`: rules that only make sense for a
/// deployment about to happen (an unapproved change, a window that has ended) read it.
pub const DEPLOYMENT_GATE_PARAM: &str = "deployment_gate";

/// Runs the gate on a loaded snapshot. `pack` is the whole pack; only its gated rules run.
pub fn gate(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
    request: &GateRequest,
) -> Result<Gate, GateError> {
    gate_on(pack, &mut LoadedEvidence(snapshot), at, params, request)
}

/// Runs the gate on any [`GateEvidence`]: the same scoping and the same `assess`, whether the
/// entities come from a loaded snapshot or from the index.
pub fn gate_on(
    pack: &PolicyPack,
    ev: &mut dyn GateEvidence,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
    request: &GateRequest,
) -> Result<Gate, GateError> {
    let mut missing = Vec::new();
    let mut picked: BTreeMap<Handle, BTreeSet<Role>> = BTreeMap::new();

    let service = find_service(ev, &request.service)?;
    let mut components: Vec<String> = Vec::new();
    match service {
        None => missing.push(format!(
            "service `{}` is not in the snapshot",
            request.service
        )),
        Some(s) => {
            add(&mut picked, s, Role::Service);
            for owner in refs_of(ev, s, "owner") {
                if let Some(o) = ev.find(ti("Identity"), &owner)? {
                    add(&mut picked, o, Role::Owner);
                }
            }
            for c in refs_of(ev, s, "components") {
                match ev.find(ti("Asset"), &c)? {
                    Some(a) => {
                        if !components.contains(&c) {
                            components.push(c.clone());
                        }
                        add(&mut picked, a, Role::Component);
                        for owner in refs_of(ev, a, "owner") {
                            if let Some(o) = ev.find(ti("Identity"), &owner)? {
                                add(&mut picked, o, Role::Owner);
                            }
                        }
                        for job in refs_of(ev, a, "backup_jobs") {
                            if let Some(j) = ev.find(ti("BackupJob"), &job)? {
                                add(&mut picked, j, Role::Backup);
                            }
                        }
                    }
                    None => missing.push(format!(
                        "component `{c}` of service `{}` is not in the snapshot",
                        ev.get(s).id()
                    )),
                }
            }
        }
    }
    // Tickets that refer to a component (`affected`) or to the service (`service`); of those,
    // the open major incidents.
    let mut targets: Vec<(usize, String, &'static str)> = components
        .iter()
        .map(|c| (ti("Asset"), c.clone(), "affected"))
        .collect();
    if let Some(s) = service {
        targets.push((ti("Service"), ev.get(s).id().to_string(), "service"));
    }
    let candidates = if targets.is_empty() {
        BTreeSet::new()
    } else {
        ev.tickets_referring(&targets)?
    };
    for t in candidates {
        let e = ev.get(t);
        let incident = text(e, "kind").is_some_and(|k| INCIDENT_KINDS.contains(&k))
            && matches!(e.attr("major"), Some(AttrRef::Bool(true)))
            && !text(e, "status").is_some_and(|s| CLOSED_STATES.contains(&s));
        if incident {
            add(&mut picked, t, Role::Incident);
        }
    }
    let change = match &request.change {
        None => None,
        Some(c) => {
            let found = find_change(ev, c)?;
            match found {
                Some(i) => add(&mut picked, i, Role::Change),
                None => missing.push(format!("change `{c}` is not in the snapshot")),
            }
            found
        }
    };

    // The pack's rules on the gated types that read no population fact.
    let gated: BTreeSet<usize> = GATED_TYPES.iter().map(|t| ti(t)).collect();
    let mut gate_pack = pack.clone();
    let mut not_gated = Vec::new();
    gate_pack.rules.retain(|r| {
        if !gated.contains(&r.type_index) {
            return false;
        }
        if !r.facts.is_empty() {
            not_gated.push(NotGated {
                rule: r.id.clone(),
                reason: format!(
                    "reads population fact(s) {}: an organisation-wide judgement, run `conform assess`",
                    r.facts.join(", ")
                ),
            });
            return false;
        }
        true
    });
    gate_pack.facts.clear();

    // The entities the gated rules read through references, so that no rule errors on an
    // entity left out of the subset.
    let chains = deref_chains(&gate_pack);
    let mut queue: Vec<Handle> = picked.keys().copied().collect();
    let mut done = BTreeSet::new();
    while let Some(i) = queue.pop() {
        if !done.insert(i) {
            continue;
        }
        let mut reached = Vec::new();
        let type_index = ev.get(i).type_index;
        for c in chains.get(&type_index).into_iter().flatten() {
            follow(ev, i, c, &mut reached)?;
        }
        for j in reached {
            picked
                .entry(j)
                .or_insert_with(|| BTreeSet::from([Role::Referenced]));
            queue.push(j);
        }
    }

    // Evidence of the gated types in the whole snapshot.
    let counts = ev.counts();
    let cov = coverage(ev.manifest(), &counts, ev.unreadable());
    let mut evidence = Vec::new();
    for t in &gated {
        let (Some(c), Some(def)) = (cov.get(*t), ENTITY_TYPES.get(*t)) else {
            continue;
        };
        match c {
            Coverage::Complete => {}
            Coverage::Missing(r) => missing.push(format!("no `{}` evidence: {r}", def.name)),
            Coverage::Incomplete(r) => {
                missing.push(format!("`{}` evidence is incomplete: {r}", def.name))
            }
        }
        evidence.push(GatedEvidence {
            entity_type: def.name.to_string(),
            entities: counts.get(*t).copied().unwrap_or(0),
            coverage: c.clone(),
        });
    }

    // The touched entities in (type, id) order, as a snapshot holds them.
    let mut picked: Vec<(Handle, BTreeSet<Role>)> = picked.into_iter().collect();
    picked.sort_by(|a, b| {
        let (x, y) = (ev.get(a.0), ev.get(b.0));
        (x.type_index, x.id()).cmp(&(y.type_index, y.id()))
    });
    let sub = EvidenceSnapshot {
        manifest: ev.manifest().clone(),
        entities: picked.iter().map(|(i, _)| ev.get(*i).clone()).collect(),
        unreadable: ev.unreadable().to_vec(),
    };
    // The pack's parameter `deployment_gate`, when it declares one, tells its pre-deployment
    // rules that this assessment is of a deployment about to happen.
    let mut params = params.clone();
    if pack
        .parameters
        .iter()
        .any(|p| p.name == DEPLOYMENT_GATE_PARAM && p.ty == ParamType::Bool)
    {
        params.insert(DEPLOYMENT_GATE_PARAM.to_string(), ParamValue::Bool(true));
    }
    let assessment = assess_with(&gate_pack, &sub, at, &params, request.evaluator)?;
    // A gated rule that could not be assessed on the entities the deployment touches (an
    // attribute it reads that no source supplies, or supplies for only some of them) is
    // evidence missing for the decision, never a pass — unless it cannot apply to them
    // whatever the missing attributes hold ([`could_apply`]). Entities only read through a
    // reference (role `Referenced`) are not what is deployed. (A gated rule cannot be
    // indeterminate without findings: that needs a fact, and gated rules read none.)
    let judged: Vec<usize> = picked
        .iter()
        .enumerate()
        .filter(|(_, (_, roles))| roles.iter().any(|r| *r != Role::Referenced))
        .map(|(pos, _)| pos)
        .collect();
    let unassessed: Vec<&crate::assessment::RuleResult> = assessment
        .rules
        .iter()
        .filter(|r| r.status == Status::NotAssessed)
        .filter(|r| {
            judged
                .iter()
                .any(|&p| sub.entities[p].type_name() == r.entity_type)
        })
        .collect();
    if !unassessed.is_empty() {
        let prepared = prepare(&gate_pack, &sub, at, &params)?;
        for r in unassessed {
            let applies = gate_pack
                .rule(&r.id)
                .is_none_or(|rule| could_apply(rule, &sub, &judged, &prepared));
            if applies {
                missing.push(format!(
                    "rule `{}` could not be assessed: {}",
                    r.id,
                    r.reason.as_deref().unwrap_or("no evidence")
                ));
            }
        }
    }
    let touched = picked
        .iter()
        .map(|(i, roles)| Touched {
            entity: entity_ref(ev.get(*i)),
            roles: roles.iter().cloned().collect(),
        })
        .collect();
    Ok(Gate {
        service: service.map(|s| entity_ref(ev.get(s))),
        change: change.map(|c| entity_ref(ev.get(c))),
        touched,
        missing_evidence: missing,
        evidence,
        not_gated,
        assessment,
    })
}

/// Whether `rule` could fire on one of the `judged` entities of `sub` (positions): it cannot on
/// an entity where one of its condition's top-level conjuncts that reads only supplied
/// attributes evaluates to false (the missing attributes cannot change that conjunct). Any
/// doubt (an error, a conjunct reading a missing attribute) counts as "could apply".
fn could_apply(rule: &Rule, sub: &EvidenceSnapshot, judged: &[usize], prepared: &Prepared) -> bool {
    judged
        .iter()
        .filter(|&&p| sub.entities[p].type_index == rule.type_index)
        .any(|&p| {
            match crate::explain::conjuncts(
                rule,
                &prepared.entities.store,
                p,
                &prepared.rules_context,
            ) {
                Ok(parts) => !parts.iter().any(|c| {
                    let evidence = prepared
                        .entities
                        .attributes
                        .reads(rule.type_index, &c.reads);
                    c.outcome == crate::explain::ConjunctOutcome::False
                        && evidence.unprovided.is_empty()
                        && evidence.partial.is_empty()
                }),
                Err(_) => true,
            }
        })
}
