//! Cedar entities built once from a snapshot, through Cedar's Rust API (never its entity
//! JSON), and shared read-only by every rayon worker.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::OnceLock;

use cedar_policy::{Entities, Entity, EntityId, EntityTypeName, EntityUid, RestrictedExpression};

use rayon::prelude::*;

use super::id_search::IdSearch;
use super::native::SnapshotView;
use crate::model::value::AttrRef;
use crate::model::{AttrType, EvidenceEntity, ENTITY_TYPES};
use crate::snapshot::Unreadable;

/// The Cedar view of a snapshot's entities.
pub struct EntityStore {
    pub entities: Entities,
    /// The Cedar uid of each snapshot entity, by index in the snapshot.
    pub uids: Vec<EntityUid>,
    /// Snapshot entity indices by entity type index, in snapshot order.
    pub by_type: Vec<Vec<usize>>,
    /// How ids are found among `by_type`'s lists.
    pub ids: IdSearch,
    /// The pack's policies compiled, when the compiled evaluator is used.
    pub compiled: super::evaluator::CompiledPolicies,
    /// Each type's list in the order its entities' attributes lie in memory, made the first
    /// time a pass asks ([`EntityStore::in_memory_order`]): the facts and the rules passes
    /// visit a type in the same order.
    memory_order: Vec<OnceLock<Vec<usize>>>,
}

impl EntityStore {
    /// The index in `snapshot_entities` (the entities the store was built from, sorted by
    /// (type, id)) of the entity of type `ti` with id `id`, through the type's id table
    /// ([`IdSearch`], built the first time the type is searched).
    pub fn find(&self, snapshot_entities: &[EvidenceEntity], ti: usize, id: &str) -> Option<usize> {
        self.view(snapshot_entities).find(ti, id)
    }

    /// The entities of type `ti` in the order their attributes lie in memory
    /// ([`in_memory_order`]), for a pass whose result does not depend on the order. Call it
    /// outside parallel work: the first call for a type sorts on all cores.
    pub fn in_memory_order(&self, snapshot_entities: &[EvidenceEntity], ti: usize) -> &[usize] {
        match (self.memory_order.get(ti), self.by_type.get(ti)) {
            (Some(cell), Some(list)) => {
                cell.get_or_init(|| in_memory_order(snapshot_entities, list))
            }
            _ => &[],
        }
    }

    /// Builds the id tables of the types reading `paths` from a `resource` of type `ti` looks
    /// up ([`IdSearch::prepare`]), on all cores. Call it outside parallel work, before a pass.
    pub fn prepare_lookups(
        &self,
        snapshot_entities: &[EvidenceEntity],
        ti: usize,
        paths: &[String],
    ) {
        for target in super::attributes::dereferenced_types(ti, paths) {
            if let Some(list) = self.by_type.get(target) {
                self.ids.prepare(snapshot_entities, target, list);
            }
        }
    }

    /// `snapshot_entities` (the entities the store was built from) as the compiled evaluator
    /// and the coverage checks read them, through this store's lists and id tables.
    pub fn view<'a>(&'a self, snapshot_entities: &'a [EvidenceEntity]) -> SnapshotView<'a> {
        SnapshotView {
            entities: snapshot_entities,
            by_type: &self.by_type,
            ids: &self.ids,
        }
    }
}

/// `list` (indices into `entities`) in the order the entities' attributes lie in memory.
/// Entities are sorted by (type, id), but their attributes were allocated in the order their
/// lines were read: a pass that visits every entity of a type and whose result does not
/// depend on the order (sums, sorted findings) reads them mostly from cache in this order,
/// where the id order would make each entity's first read a cache and TLB miss.
///
/// Each address is read once, in `list`'s order (the entities' order in memory, so mostly
/// from cache), then the (address, index) pairs are sorted: a sort that read the address of
/// an entity at every comparison would pay a cache miss each time.
fn in_memory_order(entities: &[EvidenceEntity], list: &[usize]) -> Vec<usize> {
    let mut keyed: Vec<(usize, usize)> = list
        .par_iter()
        .map(|&ei| (entities[ei].attrs.address(), ei))
        .collect();
    keyed.par_sort_unstable();
    keyed.into_par_iter().map(|(_, ei)| ei).collect()
}

/// The Cedar type names of the model's entity types, by type index.
pub fn type_names() -> Result<Vec<EntityTypeName>, String> {
    ENTITY_TYPES
        .iter()
        .map(|t| {
            EntityTypeName::from_str(t.name)
                .map_err(|e| format!("model type `{}` is not a Cedar type name: {e}", t.name))
        })
        .collect()
}

/// The uid of an entity of type `type_name` (a model type) with id `id`.
pub fn uid(type_name: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
}

fn to_cedar(v: AttrRef<'_>, ty: AttrType, names: &[EntityTypeName]) -> RestrictedExpression {
    let type_of = |t: &str| {
        let idx = ENTITY_TYPES.iter().position(|d| d.name == t).unwrap_or(0);
        &names[idx]
    };
    match (v, ty) {
        (AttrRef::Bool(b), _) => RestrictedExpression::new_bool(b),
        (AttrRef::Long(n) | AttrRef::Time(n), _) => RestrictedExpression::new_long(n),
        (AttrRef::String(s), _) => RestrictedExpression::new_string(s.to_string()),
        (AttrRef::Ref(id), AttrType::Ref(t)) => {
            RestrictedExpression::new_entity_uid(uid(type_of(t), id))
        }
        (AttrRef::RefSet(ids), AttrType::RefSet(t)) => {
            let tn = type_of(t);
            RestrictedExpression::new_set(
                ids.iter()
                    .map(|id| RestrictedExpression::new_entity_uid(uid(tn, id))),
            )
        }
        (AttrRef::StringSet(v) | AttrRef::RefSet(v), _) => RestrictedExpression::new_set(
            v.iter()
                .map(|s| RestrictedExpression::new_string(s.to_string())),
        ),
        (AttrRef::Ref(id), _) => RestrictedExpression::new_string(id.to_string()),
    }
}

/// Builds the store. An entity Cedar refuses is reported as unreadable and left out.
pub fn build(
    snapshot_entities: &[EvidenceEntity],
    names: &[EntityTypeName],
) -> (EntityStore, Vec<Unreadable>) {
    let mut by_type = vec![Vec::new(); ENTITY_TYPES.len()];
    let mut uids = Vec::with_capacity(snapshot_entities.len());
    let mut cedar = Vec::with_capacity(snapshot_entities.len());
    let mut problems = Vec::new();
    for (i, e) in snapshot_entities.iter().enumerate() {
        let def = e.def();
        let u = uid(&names[e.type_index], e.id());
        let attrs: Vec<(String, RestrictedExpression)> = e
            .values()
            .map(|(ai, v)| {
                let a = &def.attrs[ai];
                (a.name.to_string(), to_cedar(v, a.ty, names))
            })
            .collect();
        let parents: HashSet<EntityUid> = match def.member_of {
            Some(parent) => {
                let pt = &names[ENTITY_TYPES
                    .iter()
                    .position(|d| d.name == parent)
                    .unwrap_or(0)];
                e.member_of.iter().map(|p| uid(pt, p)).collect()
            }
            None => HashSet::new(),
        };
        match Entity::new_with_tags(u.clone(), attrs, parents, []) {
            Ok(entity) => {
                cedar.push(entity);
                by_type[e.type_index].push(i);
            }
            Err(err) => problems.push(Unreadable {
                file: crate::snapshot::entities_path(&e.provenance.source),
                line: None,
                source: e.provenance.source.to_string(),
                entity_type: Some(def.name.to_string()),
                error: format!("{} `{}`: {err}", def.name, e.id()),
            }),
        }
        uids.push(u);
    }
    let entities = match Entities::from_entities(cedar, None) {
        Ok(es) => es,
        Err(err) => {
            problems.push(Unreadable {
                file: "entities".into(),
                line: None,
                source: String::new(),
                entity_type: None,
                error: format!("cannot build the entity store: {err}"),
            });
            by_type.iter_mut().for_each(Vec::clear);
            Entities::empty()
        }
    };
    (
        EntityStore {
            entities,
            uids,
            by_type,
            ids: IdSearch::new(ENTITY_TYPES.len()),
            compiled: Default::default(),
            memory_order: (0..ENTITY_TYPES.len()).map(|_| OnceLock::new()).collect(),
        },
        problems,
    )
}

/// The store without Cedar entities or uids, for the compiled evaluator: only the entity
/// indices by type. Cedar refuses none of the entities the model builds
/// (attributes are booleans, longs, strings, uids and sets of them), so the entities are the
/// same as [`build`]'s.
pub fn index_only(snapshot_entities: &[EvidenceEntity]) -> EntityStore {
    let mut counts = vec![0usize; ENTITY_TYPES.len()];
    for e in snapshot_entities {
        counts[e.type_index] += 1;
    }
    let mut by_type: Vec<Vec<usize>> = counts.into_iter().map(Vec::with_capacity).collect();
    for (i, e) in snapshot_entities.iter().enumerate() {
        by_type[e.type_index].push(i);
    }
    EntityStore {
        entities: Entities::empty(),
        uids: Vec::new(),
        by_type,
        ids: IdSearch::new(ENTITY_TYPES.len()),
        compiled: Default::default(),
        memory_order: (0..ENTITY_TYPES.len()).map(|_| OnceLock::new()).collect(),
    }
}
