//! The model's order: entities sorted by (type, id), stably (of entities with the same type and
//! id, the first read stays first, and is the one the model keeps).
//!
//! Entity files written by conform are already in that order, one run per source
//! ([`crate::fs::SourceWriter::entity`]); the runs then only need to be put one after another,
//! which neighbouring entities tell without sorting anything ([`order_of_sorted_runs`]).
//! Files in any other order are sorted by their keys ([`order_by_keys`]).

use rayon::prelude::*;

use crate::model::EvidenceEntity;

/// Sorts `entities` by (type, id), stably. Gives the positions, in the sorted order, of the
/// entities whose (type, id) the one before them has: the duplicates, ascending.
pub(super) fn sort_by_type_and_id(entities: &mut [EvidenceEntity]) -> Vec<usize> {
    if let Some(perm) = order_of_sorted_runs(entities) {
        crate::permute::apply_permutation(entities, perm);
        return entities
            .par_windows(2)
            .enumerate()
            .filter(|(_, w)| same_key(&w[0], &w[1]))
            .map(|(k, _)| k + 1)
            .collect();
    }
    let (perm, duplicates) = order_by_keys(entities);
    crate::permute::apply_permutation(entities, perm);
    duplicates
}

fn same_key(a: &EvidenceEntity, b: &EvidenceEntity) -> bool {
    a.type_index == b.type_index && a.id() == b.id()
}

/// Whether `a` sorts after `b`.
fn after(a: &EvidenceEntity, b: &EvidenceEntity) -> bool {
    (a.type_index, a.id()) > (b.type_index, b.id())
}

/// A run of entities of one type already in id order: `entities[start..end]`.
#[derive(Debug, Clone, Copy)]
struct Run {
    start: usize,
    end: usize,
}

/// The permutation that sorts `entities` when they are a few runs of one type each, already in
/// id order, that do not interleave: position `k` receives the entity now at `perm[k]`. `None`
/// when they are not (then they must be sorted by their keys).
///
/// Each run ends where the type changes or the id goes down, so finding them compares each
/// entity with the one before it, on all cores, reading memory in order. The runs are then
/// ordered by (type, first id, position), and the order is the model's exactly when each run's
/// last entity sorts before the next run's first, or has the same key and was read before it
/// (so that equal keys stay in reading order).
fn order_of_sorted_runs(entities: &[EvidenceEntity]) -> Option<Vec<usize>> {
    let n = entities.len();
    // too many runs to be worth ordering this way: the input was not written sorted
    let most = 16 + n / 64;
    let breaks: Vec<usize> = (1..n)
        .into_par_iter()
        .filter(|&i| {
            let (a, b) = (&entities[i - 1], &entities[i]);
            a.type_index != b.type_index || a.id() > b.id()
        })
        .collect();
    if breaks.len() >= most {
        return None;
    }
    let starts = std::iter::once(0).chain(breaks.iter().copied());
    let ends = breaks.iter().copied().chain(std::iter::once(n));
    let mut runs: Vec<Run> = starts
        .zip(ends)
        .filter(|(start, end)| start < end)
        .map(|(start, end)| Run { start, end })
        .collect();
    runs.sort_by(|a, b| {
        let (x, y) = (&entities[a.start], &entities[b.start]);
        (x.type_index, x.id(), a.start).cmp(&(y.type_index, y.id(), b.start))
    });
    let interleaved = runs.windows(2).any(|w| {
        let (last, first) = (&entities[w[0].end - 1], &entities[w[1].start]);
        after(last, first) || (same_key(last, first) && w[0].start > w[1].start)
    });
    if interleaved {
        return None;
    }
    let mut perm = Vec::with_capacity(n);
    for run in &runs {
        perm.extend(run.start..run.end);
    }
    Some(perm)
}

/// The permutation that sorts `entities` by (type, id), stably, found by sorting their keys,
/// and the duplicates (as [`sort_by_type_and_id`] gives them).
///
/// The ids are copied into one text per chunk of entities first: the sort then compares ids
/// packed together, not ids spread across the entities' texts (a cache miss each). The keys
/// end with the position, so that the order is total (and the sort stable).
fn order_by_keys(entities: &[EvidenceEntity]) -> (Vec<usize>, Vec<usize>) {
    // per chunk: the ids' text, and each entity's type and where its id ends
    let ids: Vec<(String, Vec<(usize, usize)>)> = entities
        .par_chunks(SORT_CHUNK)
        .map(|chunk| {
            let mut text = String::with_capacity(chunk.len() * 32);
            let mut ends = Vec::with_capacity(chunk.len());
            for e in chunk {
                text.push_str(e.id());
                ends.push((e.type_index, text.len()));
            }
            (text, ends)
        })
        .collect();
    let mut keys: Vec<(usize, &str, usize)> = ids
        .par_iter()
        .enumerate()
        .flat_map_iter(|(c, (text, ends))| {
            ends.iter()
                .enumerate()
                .scan(0, move |from, (k, &(ty, end))| {
                    let id = text.get(*from..end).unwrap_or_default();
                    *from = end;
                    Some((ty, id, c * SORT_CHUNK + k))
                })
        })
        .collect();
    keys.par_sort_unstable();
    let duplicates: Vec<usize> = keys
        .par_windows(2)
        .enumerate()
        .filter(|(_, w)| (w[0].0, w[0].1) == (w[1].0, w[1].1))
        .map(|(k, _)| k + 1)
        .collect();
    // position k receives the entity now at perm[k]
    let perm: Vec<usize> = keys.into_par_iter().map(|(_, _, i)| i).collect();
    (perm, duplicates)
}

/// Entities per unit of parallel work when their ids are copied out to be sorted.
const SORT_CHUNK: usize = 1 << 14;

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

    use super::*;
    use crate::model::entity_type_index;
    use crate::model::value::{EntityNames, Provenance, Sha256Digest};

    fn entity(ty: &str, id: &str, name: &str) -> EvidenceEntity {
        let names = EntityNames {
            id,
            name,
            record_id: id,
        };
        let provenance = Provenance {
            source: "s".into(),
            record_sha256: Sha256Digest([0; 32]),
            collected_at: 0,
        };
        let ti = entity_type_index(ty).unwrap();
        EvidenceEntity::new(ti, names, provenance, &mut Vec::new(), Vec::new()).unwrap()
    }

    /// `entities` sorted by the key sort alone, and its duplicates.
    fn by_keys(entities: &[EvidenceEntity]) -> (Vec<EvidenceEntity>, Vec<usize>) {
        let mut sorted = entities.to_vec();
        let (perm, duplicates) = order_by_keys(&sorted);
        crate::permute::apply_permutation(&mut sorted, perm);
        (sorted, duplicates)
    }

    /// Assets of these ids, named by their position.
    fn named(ids: &[&str]) -> Vec<EvidenceEntity> {
        ids.iter()
            .enumerate()
            .map(|(i, id)| entity("Asset", id, &i.to_string()))
            .collect()
    }

    /// Sources as the writer writes them (each sorted by type and id), in several orders and
    /// with ids shared between them (duplicates across runs, either run first), and inputs
    /// that are not sorted at all: the runs' order is the key sort's, duplicates included.
    #[test]
    fn sorted_runs_are_ordered_as_the_key_sort_orders_them() {
        let types = ["Asset", "Identity", "Ticket"];
        let source = |prefix: &str, n: usize, step: usize, tag: &str| -> Vec<EvidenceEntity> {
            let mut v: Vec<EvidenceEntity> = (0..n)
                .map(|i| {
                    let ty = types[(i * step) % 3];
                    entity(
                        ty,
                        &format!("{prefix}{:03}", i * step % 50),
                        &format!("{tag}{i}"),
                    )
                })
                .collect();
            v.sort_by(|a, b| (a.type_index, a.id()).cmp(&(b.type_index, b.id())));
            v
        };
        let a = source("a:", 40, 1, "a");
        let b = source("b:", 30, 7, "b");
        let shared_1 = source("a:", 10, 3, "x");
        let shared_2 = source("a:", 10, 3, "y");
        let unsorted: Vec<EvidenceEntity> = (0..200)
            .map(|i| entity(types[i % 3], &format!("u{}", (i * 37) % 61), &i.to_string()))
            .collect();
        let inputs: Vec<(Vec<EvidenceEntity>, bool)> = vec![
            (a.clone(), true),
            // one key at the end of one run and the start of the next, either run first
            (named(&["c", "d", "a", "c"]), false),
            (named(&["a", "c", "c", "d"]), true),
            ([a.clone(), b.clone()].concat(), true),
            ([b.clone(), a.clone()].concat(), true),
            // the same keys in two runs: the earlier run's stays first
            ([shared_1.clone(), shared_2.clone()].concat(), false),
            ([b.clone(), shared_2.clone(), a.clone()].concat(), false),
            (unsorted.clone(), false),
            ([a.clone(), unsorted].concat(), false),
            (Vec::new(), true),
        ];
        for (k, (input, runs_apart)) in inputs.into_iter().enumerate() {
            let (expected, expected_duplicates) = by_keys(&input);
            let mut got = input.clone();
            let duplicates = sort_by_type_and_id(&mut got);
            assert_eq!(got, expected, "input {k}");
            assert_eq!(duplicates, expected_duplicates, "input {k}");
            if runs_apart {
                assert!(order_of_sorted_runs(&input).is_some(), "input {k}");
            }
        }
    }

    /// Two runs whose keys interleave are not put one after the other.
    #[test]
    fn interleaved_runs_are_sorted_by_their_keys() {
        let run = |ids: &[&str]| -> Vec<EvidenceEntity> {
            ids.iter().map(|id| entity("Asset", id, id)).collect()
        };
        let input = [run(&["a", "c", "e"]), run(&["b", "d"])].concat();
        assert!(order_of_sorted_runs(&input).is_none());
        let mut got = input.clone();
        sort_by_type_and_id(&mut got);
        let ids: Vec<&str> = got.iter().map(|e| e.id()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        // equal keys at a run's end and the next run's start, the later run read first
        let input = [run(&["c", "d"]), run(&["a", "c"])].concat();
        assert!(order_of_sorted_runs(&input).is_none());
    }
}
