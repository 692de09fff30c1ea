//! Inverse attributes (`Asset.backup_jobs`, `BackupJob.runs`, ...): derived from the
//! references that point the other way when the model is built, so that they can never
//! disagree with them.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::model::{AttrOrigin, EvidenceEntity, ENTITY_TYPES};

/// The model's inverse attributes: (referrer type, `via` attr index) -> (target type, inverse
/// attr index), by type index; a later declaration for the same reference wins.
pub(crate) fn inverse_declarations() -> Vec<((usize, usize), (usize, usize))> {
    let mut wanted: Vec<((usize, usize), (usize, usize))> = Vec::new();
    for (ti, t) in ENTITY_TYPES.iter().enumerate() {
        for (ai, a) in t.attrs.iter().enumerate() {
            if let AttrOrigin::Inverse { of_type, via } = a.origin {
                let of = ENTITY_TYPES.iter().position(|d| d.name == of_type);
                let via_ai =
                    of.and_then(|o| ENTITY_TYPES[o].attrs.iter().position(|d| d.name == via));
                if let (Some(o), Some(v)) = (of, via_ai) {
                    // a later declaration for the same reference wins, as it always has
                    wanted.retain(|(k, _)| *k != (o, v));
                    wanted.push(((o, v), (ti, ai)));
                }
            }
        }
    }
    wanted
}

/// Fills the model's inverse attributes (e.g. `Asset.backup_jobs`) from the references that
/// point the other way, so that they can never disagree with them. `entities` need not be
/// sorted; every entity of a type with inverse attributes gets them (empty when nothing
/// refers to it). Gives the (entity index, attribute index) of the values too large to hold
/// (more than 4 GiB of ids), left out.
#[must_use]
pub(crate) fn fill_inverse_attributes(entities: &mut [EvidenceEntity]) -> Vec<(usize, usize)> {
    let wanted = inverse_declarations();
    if wanted.is_empty() {
        return Vec::new();
    }
    // entities of each target type, by id
    let mut targets: Vec<Vec<usize>> = vec![Vec::new(); ENTITY_TYPES.len()];
    for (i, e) in entities.iter().enumerate() {
        if wanted.iter().any(|(_, (t, _))| *t == e.type_index) {
            targets[e.type_index].push(i);
        }
    }
    {
        let entities = &*entities;
        for list in &mut targets {
            list.par_sort_by(|a, b| entities[*a].id().cmp(entities[*b].id()));
        }
    }
    // per target type: the position in its list of the first entity with each id and how many
    // have it (a hash lookup instead of a binary search that compares strings behind pointers
    // at every step; the entities with an id are then known without reading their ids again)
    let first: Vec<HashMap<&str, (usize, usize), foldhash::fast::RandomState>> = targets
        .par_iter()
        .map(|list| {
            let mut first = HashMap::with_capacity_and_hasher(list.len(), Default::default());
            for (pos, &i) in list.iter().enumerate().rev() {
                first
                    .entry(entities[i].id())
                    .and_modify(|(from, n)| {
                        *from = pos;
                        *n += 1;
                    })
                    .or_insert((pos, 1));
            }
            first
        })
        .collect();
    // (target entity index, inverse attr index, referrer id), found on all cores
    let targets = &targets;
    let first = &first;
    let wanted = &wanted;
    let shared = &*entities;
    // one vector per chunk of entities (not per entity), joined once
    let found_in_chunks: Vec<Vec<(usize, usize, &str)>> = shared
        .par_chunks(FILL_CHUNK)
        .map(|chunk| {
            let mut out = Vec::new();
            for e in chunk {
                for ((of, via), (tt, inv)) in wanted {
                    if e.type_index != *of {
                        continue;
                    }
                    let Some(value) = e.value(*via) else {
                        continue;
                    };
                    let list = &targets[*tt];
                    for id in value.ref_ids() {
                        let Some(&(from, n)) = first[*tt].get(id) else {
                            continue;
                        };
                        for &i in list.iter().skip(from).take(n) {
                            out.push((i, *inv, e.id()));
                        }
                    }
                }
            }
            out
        })
        .collect();
    let mut found = found_in_chunks.concat();
    drop(found_in_chunks);
    found.par_sort_unstable();
    found.dedup();
    // The referrers' ids are copied out (the entities are changed below) into one text, in
    // `found`'s order: per (target entity, inverse attr index), sorted and distinct.
    let mut text = String::with_capacity(found.iter().map(|f| f.2.len()).sum());
    let mut filled: Vec<Filled> = Vec::with_capacity(found.len());
    for (i, ai, id) in &found {
        let start = text.len();
        text.push_str(id);
        filled.push((*i, *ai, start, text.len()));
    }
    drop(found);
    let text = text.as_str();
    // Moved to their entities, on all cores: the entities are cut into chunks, and `filled`
    // (sorted by entity index) at the same entity indices, so that each chunk of entities
    // goes with the ids that are theirs.
    let mut pairs: Vec<(usize, &mut [EvidenceEntity], &[Filled])> = Vec::new();
    let (mut rest, mut rest_filled, mut start) = (entities, filled.as_slice(), 0);
    while !rest.is_empty() {
        let (chunk, more) = rest.split_at_mut(FILL_CHUNK.min(rest.len()));
        let end = start + chunk.len();
        let (mine, more_filled) =
            rest_filled.split_at(rest_filled.partition_point(|(i, ..)| *i < end));
        pairs.push((start, chunk, mine));
        (rest, rest_filled, start) = (more, more_filled, end);
    }
    pairs
        .into_par_iter()
        .flat_map_iter(|(start, chunk, mine)| {
            // `mine` is sorted by (entity index, attr index): the order of the loops below
            let mut next = 0;
            let mut ids: Vec<&str> = Vec::new();
            let mut failed = Vec::new();
            for (k, e) in chunk.iter_mut().enumerate() {
                let i = start + k;
                for (ai, a) in e.def().attrs.iter().enumerate() {
                    if matches!(a.origin, AttrOrigin::Inverse { .. }) {
                        while mine
                            .get(next)
                            .is_some_and(|(fi, fai, ..)| (*fi, *fai) < (i, ai))
                        {
                            next += 1;
                        }
                        ids.clear();
                        while let Some((_, _, from, to)) = mine
                            .get(next)
                            .filter(|(fi, fai, ..)| (*fi, *fai) == (i, ai))
                        {
                            ids.push(text.get(*from..*to).unwrap_or_default());
                            next += 1;
                        }
                        if e.attrs.insert_set(ai, &ids).is_err() {
                            // absent, never an empty set: rules reading it are indeterminate
                            e.attrs.remove(ai);
                            failed.push((i, ai));
                        }
                    }
                }
            }
            failed
        })
        .collect()
}

/// An inverse attribute's item: (entity index, attribute index, the referrer id's start and
/// end in the text of all of them).
type Filled = (usize, usize, usize, usize);

/// Entities per unit of parallel work when deriving inverse attributes.
pub(super) const FILL_CHUNK: usize = 1 << 14;
