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

use crate::assessment::{assess, AssessError, Assessment};
use crate::evaluate::coverage::{coverage, Coverage};
use crate::finding::EntityRef;
use crate::model::{entity_type_index, AttrType, AttrValue, EvidenceEntity, ENTITY_TYPES};
use crate::pack::{ParamType, ParamValue, PolicyPack};
use crate::snapshot::EvidenceSnapshot;

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

/// Finds entities by (type, id): the snapshot's entities are sorted by (type index, id).
struct Index<'a>(&'a [EvidenceEntity]);

impl Index<'_> {
    fn find(&self, type_index: usize, id: &str) -> Option<usize> {
        self.0
            .binary_search_by(|e| (e.type_index, e.id.as_str()).cmp(&(type_index, id)))
            .ok()
    }

    fn of_type(&self, type_index: usize) -> std::ops::Range<usize> {
        let start = self.0.partition_point(|e| e.type_index < type_index);
        let end = self.0.partition_point(|e| e.type_index <= type_index);
        start..end
    }
}

fn ref_ids(v: Option<&AttrValue>) -> Vec<&str> {
    match v {
        Some(AttrValue::Ref(id)) => vec![id.as_str()],
        Some(AttrValue::RefSet(ids)) => ids.iter().map(String::as_str).collect(),
        _ => Vec::new(),
    }
}

fn text<'a>(e: &'a EvidenceEntity, attr: &str) -> Option<&'a str> {
    match e.attr(attr) {
        Some(AttrValue::String(s)) => Some(s),
        _ => None,
    }
}

fn entity_ref(e: &EvidenceEntity) -> EntityRef {
    EntityRef {
        entity_type: e.type_name().to_string(),
        id: e.id.clone(),
        name: e.name.clone(),
    }
}

fn ti(name: &str) -> usize {
    entity_type_index(name).unwrap_or(usize::MAX)
}

fn find_service(ix: &Index, wanted: &str) -> Result<Option<usize>, GateError> {
    let t = ti("Service");
    if let Some(i) = ix.find(t, wanted) {
        return Ok(Some(i));
    }
    for matches in [
        |e: &EvidenceEntity, w: &str| e.name == w,
        |e: &EvidenceEntity, w: &str| e.id.rsplit(':').next() == Some(w),
    ] {
        let found: Vec<usize> = ix
            .of_type(t)
            .filter(|i| matches(&ix.0[*i], wanted))
            .collect();
        match found.as_slice() {
            [] => {}
            [one] => return Ok(Some(*one)),
            many => {
                let ids: Vec<&str> = many.iter().map(|i| ix.0[*i].id.as_str()).collect();
                return Err(GateError::AmbiguousService(wanted.into(), ids.join(", ")));
            }
        }
    }
    Ok(None)
}

fn find_change(ix: &Index, wanted: &str) -> Result<Option<usize>, GateError> {
    let t = ti("Ticket");
    let found = match ix.find(t, wanted) {
        Some(i) => Some(i),
        None => {
            let by_key: Vec<usize> = ix
                .of_type(t)
                .filter(|i| text(&ix.0[*i], "key") == Some(wanted))
                .collect();
            if by_key.len() > 1 {
                let ids: Vec<&str> = by_key.iter().map(|i| ix.0[*i].id.as_str()).collect();
                return Err(GateError::AmbiguousChange(wanted.into(), ids.join(", ")));
            }
            by_key.first().copied()
        }
    };
    if let Some(i) = found {
        let kind = text(&ix.0[i], "kind").unwrap_or_default();
        if kind != "change" {
            return Err(GateError::NotAChange {
                id: ix.0[i].id.clone(),
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
fn follow(ix: &Index, i: usize, chain: &[String], reached: &mut Vec<usize>) {
    let Some((attr, rest)) = chain.split_first() else {
        return;
    };
    let e = &ix.0[i];
    let Some(AttrType::Ref(target)) = e.def().attr(attr).map(|a| a.ty) else {
        return;
    };
    for id in ref_ids(e.attr(attr)) {
        if let Some(j) = ix.find(ti(target), id) {
            reached.push(j);
            follow(ix, j, rest, reached);
        }
    }
}

fn add(picked: &mut BTreeMap<usize, BTreeSet<Role>>, i: usize, role: Role) {
    picked.entry(i).or_default().insert(role);
}

/// The boolean pack parameter `conform gate` sets to `true`: rules that only make sense for a
/// deployment about to happen (an unapproved change, a window that has ended) read it.
pub const DEPLOYMENT_GATE_PARAM: &str = "deployment_gate";

/// Runs the gate. `pack` is the whole pack; only its gated rules run.
pub fn gate(
    pack: &PolicyPack,
    snapshot: &EvidenceSnapshot,
    at: i64,
    params: &BTreeMap<String, ParamValue>,
    request: &GateRequest,
) -> Result<Gate, GateError> {
    let ix = Index(&snapshot.entities);
    let mut missing = Vec::new();
    let mut picked: BTreeMap<usize, BTreeSet<Role>> = BTreeMap::new();

    let service = find_service(&ix, &request.service)?;
    let mut components = BTreeSet::new();
    match service {
        None => missing.push(format!(
            "service `{}` is not in the snapshot",
            request.service
        )),
        Some(s) => {
            add(&mut picked, s, Role::Service);
            let e = &ix.0[s];
            for owner in ref_ids(e.attr("owner")) {
                if let Some(o) = ix.find(ti("Identity"), owner) {
                    add(&mut picked, o, Role::Owner);
                }
            }
            for c in ref_ids(e.attr("components")) {
                match ix.find(ti("Asset"), c) {
                    Some(a) => {
                        components.insert(c.to_string());
                        add(&mut picked, a, Role::Component);
                        let asset = &ix.0[a];
                        for owner in ref_ids(asset.attr("owner")) {
                            if let Some(o) = ix.find(ti("Identity"), owner) {
                                add(&mut picked, o, Role::Owner);
                            }
                        }
                        for job in ref_ids(asset.attr("backup_jobs")) {
                            if let Some(j) = ix.find(ti("BackupJob"), job) {
                                add(&mut picked, j, Role::Backup);
                            }
                        }
                    }
                    None => missing.push(format!(
                        "component `{c}` of service `{}` is not in the snapshot",
                        e.id
                    )),
                }
            }
        }
    }
    let service_id = service.map(|s| ix.0[s].id.clone());
    for t in ix.of_type(ti("Ticket")) {
        let e = &ix.0[t];
        let incident = text(e, "kind").is_some_and(|k| INCIDENT_KINDS.contains(&k))
            && matches!(e.attr("major"), Some(AttrValue::Bool(true)))
            && !text(e, "status").is_some_and(|s| CLOSED_STATES.contains(&s));
        let affects = ref_ids(e.attr("affected"))
            .iter()
            .any(|a| components.contains(*a))
            || (service_id.is_some()
                && ref_ids(e.attr("service")).first().copied() == service_id.as_deref());
        if incident && affects {
            add(&mut picked, t, Role::Incident);
        }
    }
    let change = match &request.change {
        None => None,
        Some(c) => {
            let found = find_change(&ix, c)?;
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
    let mut queue: Vec<usize> = picked.keys().copied().collect();
    let mut done = BTreeSet::new();
    while let Some(i) = queue.pop() {
        if !done.insert(i) {
            continue;
        }
        let mut reached = Vec::new();
        for c in chains.get(&ix.0[i].type_index).into_iter().flatten() {
            follow(&ix, i, c, &mut reached);
        }
        for j in reached {
            picked
                .entry(j)
                .or_insert_with(|| BTreeSet::from([Role::Referenced]));
            queue.push(j);
        }
    }

    // Evidence of the gated types in the whole snapshot.
    let mut counts = vec![0usize; ENTITY_TYPES.len()];
    for (t, c) in counts.iter_mut().enumerate() {
        *c = ix.of_type(t).len();
    }
    let cov = coverage(&snapshot.manifest, &counts, &snapshot.unreadable);
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
            entities: counts[*t],
            coverage: c.clone(),
        });
    }

    let sub = EvidenceSnapshot {
        manifest: snapshot.manifest.clone(),
        entities: picked.keys().map(|i| ix.0[*i].clone()).collect(),
        unreadable: snapshot.unreadable.clone(),
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
    let assessment = assess(&gate_pack, &sub, at, &params)?;
    let touched = picked
        .iter()
        .map(|(i, roles)| Touched {
            entity: entity_ref(&ix.0[*i]),
            roles: roles.iter().cloned().collect(),
        })
        .collect();
    Ok(Gate {
        service: service.map(|s| entity_ref(&ix.0[s])),
        change: change.map(|c| entity_ref(&ix.0[c])),
        touched,
        missing_evidence: missing,
        evidence,
        not_gated,
        assessment,
    })
}
