//! Finding an entity of a type by its id, reading one id from the heap instead of one at
//! every step of a binary search over the ids.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use foldhash::fast::RandomState;
use rayon::prelude::*;

use crate::model::EvidenceEntity;

/// A hash table of one type's ids: open addressing, linear probing, at most half full. Each
/// slot holds the upper half of an id's hash and the id's position in the type's list (plus
/// one; zero is an empty slot). A lookup reads one or two neighbouring slots and then the one
/// id whose hash matches: two cache misses where a binary search over the ids took seventeen.
/// Which slot an id lands in varies from run to run (the hash is keyed at random); what is
/// found never does.
#[derive(Debug)]
pub struct IdKeys {
    slots: Vec<(u32, u32)>,
    /// Keys drawn at random for each table: ids come from the sources, and a hash whose keys
    /// are known would let a source choose ids that all land in one run of slots. (foldhash,
    /// not the standard library's SipHash: a per-table random seed at a fraction of the cost
    /// per id; foldhash claims only minimal resistance to such flooding, and a flood would
    /// cost time, never a wrong result.)
    hasher: RandomState,
}

impl IdKeys {
    /// The table of `list` (indices into `entities`); the ids hashed on all cores when
    /// `parallel` (reading an id is a cache miss or two: the hashing is most of the work).
    fn new(entities: &[EvidenceEntity], list: &[usize], parallel: bool) -> Self {
        let hasher = RandomState::default();
        let hash = |&i: &usize| hasher.hash_one(entities[i].id());
        let hashes: Vec<u64> = if parallel {
            list.par_iter().map(hash).collect()
        } else {
            list.iter().map(hash).collect()
        };
        let size = (list.len() * 2).max(2).next_power_of_two();
        let mut slots = vec![(0u32, 0u32); size];
        for (pos, h) in hashes.into_iter().enumerate() {
            let Ok(mark) = u32::try_from(pos + 1) else {
                break; // more than 4 billion entities of one type: the rest are not found
            };
            let mut at = (h as usize) & (size - 1);
            while slots[at].1 != 0 {
                at = (at + 1) & (size - 1);
            }
            slots[at] = ((h >> 32) as u32, mark);
        }
        Self { slots, hasher }
    }

    /// The positions in the type's list of the ids whose hash is `id`'s, in probe order.
    fn candidates(&self, id: &str) -> impl Iterator<Item = usize> + '_ {
        let h = self.hasher.hash_one(id);
        let size = self.slots.len();
        let start = (h as usize) & size.wrapping_sub(1);
        let high = (h >> 32) as u32;
        (0..size)
            .map(move |k| self.slots[(start + k) & (size - 1)])
            .take_while(|&(_, mark)| mark != 0)
            .filter(move |&(hi, _)| hi == high)
            .map(|(_, mark)| mark as usize - 1)
    }
}

/// The search keys of every type, each built the first time an id of that type is looked up.
#[derive(Debug)]
pub struct IdSearch(Vec<OnceLock<IdKeys>>);

impl IdSearch {
    pub fn new(types: usize) -> Self {
        Self((0..types).map(|_| OnceLock::new()).collect())
    }

    /// Builds the table of type `ti` (see [`IdSearch::find`]) now, on all cores, if it is not
    /// built yet: for a pass about to look up ids of the type. Call it outside parallel work.
    pub fn prepare(&self, entities: &[EvidenceEntity], ti: usize, list: &[usize]) {
        if let Some(cell) = self.0.get(ti) {
            cell.get_or_init(|| IdKeys::new(entities, list, true));
        }
    }

    /// The index in `entities` of the entity with id `id` among `list`, the entities of type
    /// `ti` (indices into `entities`). `list` must be the same at every call for a type.
    pub fn find(
        &self,
        entities: &[EvidenceEntity],
        ti: usize,
        list: &[usize],
        id: &str,
    ) -> Option<usize> {
        // serial: this may run inside parallel work, where a pool thread waiting for
        // parallel hashing could take up a task that waits for this very table
        let keys = self
            .0
            .get(ti)?
            .get_or_init(|| IdKeys::new(entities, list, false));
        keys.candidates(id)
            .filter_map(|pos| list.get(pos).copied())
            .find(|&i| entities[i].id() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::{EntityNames, Provenance};

    fn entity(id: &str) -> EvidenceEntity {
        let names = EntityNames {
            id,
            name: "",
            record_id: "",
        };
        let provenance = Provenance {
            source: "s".into(),
            record_sha256: Default::default(),
            collected_at: 0,
        };
        EvidenceEntity::new(0, names, provenance, &mut Vec::new(), Vec::new()).unwrap()
    }

    #[test]
    fn finds_every_id_and_nothing_else() {
        let mut ids = vec![
            "okta:a",
            "okta:ab",
            "okta:ab\u{0}",
            "okta:abcdefgh1",
            "okta:abcdefgh2",
            "okta:abcdefgh2x",
            "okta:b",
            "okta:\u{e9}t\u{e9}",
            "okta:zzzzzzzzzzzzzzzz",
        ];
        ids.sort();
        let entities: Vec<EvidenceEntity> = ids.iter().map(|id| entity(id)).collect();
        let list: Vec<usize> = (0..entities.len()).collect();
        let search = IdSearch::new(1);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(search.find(&entities, 0, &list, id), Some(i), "{id}");
        }
        for absent in [
            "",
            "okta:",
            "okta:abc",
            "okta:abcdefgh",
            "okta:abcdefgh3",
            "okt",
            "x",
            "okta:zzzzzzzzzzzzzzzzz",
        ] {
            assert_eq!(search.find(&entities, 0, &list, absent), None, "{absent}");
        }
        assert_eq!(search.find(&entities, 1, &list, "okta:a"), None);
        // a type with one entity, and one with none
        let one = IdSearch::new(1);
        assert_eq!(one.find(&entities, 0, &list[3..4], ids[3]), Some(3));
        assert_eq!(one.find(&entities, 0, &list[3..4], ids[4]), None);
        let none = IdSearch::new(1);
        assert_eq!(none.find(&entities, 0, &[], "okta:a"), None);
    }

    #[test]
    fn finds_every_id_of_a_large_type() {
        let entities: Vec<EvidenceEntity> = (0..5000).map(|n| entity(&format!("id-{n}"))).collect();
        // every other entity in the type's list
        let list: Vec<usize> = (0..entities.len()).step_by(2).collect();
        let search = IdSearch::new(1);
        // and the table built ahead, hashed on all cores
        let prepared = IdSearch::new(1);
        prepared.prepare(&entities, 0, &list);
        for (i, e) in entities.iter().enumerate() {
            let expected = (i % 2 == 0).then_some(i);
            for s in [&search, &prepared] {
                assert_eq!(s.find(&entities, 0, &list, e.id()), expected, "{}", e.id());
            }
        }
    }
}
