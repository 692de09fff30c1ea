//! Finding an entity of a type by its id, reading one id from the heap instead of one at
//! every step of a binary search over the ids.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;

use crate::model::EvidenceEntity;

/// Search keys of one type's entities: a hash of each id with the entity's position in the
/// type's list, sorted by hash. A search runs over this one contiguous array; only the ids
/// whose hash matches (almost always just the one sought) are read and compared.
#[derive(Debug, Default)]
pub struct IdKeys {
    keys: Vec<(u64, u32)>,
}

impl IdKeys {
    /// The keys of `list` (indices into `entities`).
    fn new(entities: &[EvidenceEntity], list: &[usize]) -> Self {
        let mut keys: Vec<(u64, u32)> = list
            .iter()
            .enumerate()
            .filter_map(|(pos, &i)| Some((hash(&entities[i].id), u32::try_from(pos).ok()?)))
            .collect();
        keys.sort_unstable();
        Self { keys }
    }
}

fn hash(id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The search keys of every type, each built the first time an id of that type is looked up.
#[derive(Debug, Default)]
pub struct IdSearch(Vec<OnceLock<IdKeys>>);

impl IdSearch {
    pub fn new(types: usize) -> Self {
        Self((0..types).map(|_| OnceLock::new()).collect())
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
        let keys = self.0.get(ti)?.get_or_init(|| IdKeys::new(entities, list));
        let h = hash(id);
        let from = keys.keys.partition_point(|&(x, _)| x < h);
        keys.keys[from..]
            .iter()
            .take_while(|&&(x, _)| x == h)
            .filter_map(|&(_, pos)| list.get(pos as usize).copied())
            .find(|&i| entities[i].id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::{AttrMap, Provenance};

    fn entity(id: &str) -> EvidenceEntity {
        EvidenceEntity {
            type_index: 0,
            id: id.to_string(),
            name: String::new(),
            provenance: Provenance {
                source: "s".into(),
                record_id: String::new(),
                record_sha256: Default::default(),
                collected_at: 0,
            },
            attrs: AttrMap::new(),
            member_of: Vec::new(),
        }
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
}
