//! An entity's text and attribute values, packed: its id, name and record id, and one
//! 8-byte word per value, with one string holding the text of all of them.
//!
//! A million entities are read at once, and the fresh memory they take is what a large
//! assessment pays for most erratically (the kernel zeroes every new page). So the values are
//! not a vector of 24-byte enums with a heap string per id: a boolean, a long, a time or an
//! enumerated value (its position in the model's list) is one word; a string or a reference
//! is a word spanning part of the entity's `text`; a set is a word spanning the item spans
//! stored after the values' words. The entity's id, name and record id are spans too, in the
//! three words before the values' ([`HEADS`]). Two allocations per entity, whatever its
//! values.
//!
//! The words do not say what they hold; the attribute's type in the model does. So values
//! are read with the type's attribute definitions ([`AttrMap::get`]), usually through the
//! entity ([`super::EvidenceEntity::value`]), as [`AttrRef`]s that borrow the map.

use arcstr::ArcStr;

use super::{AttrValue, MAX_ATTRS};
use crate::model::{AttrDef, AttrOrigin, AttrType};

/// A word spanning `len` bytes from `start`: of a map's text (a string or a reference), or of
/// the item spans after its values' words (a set).
fn span(start: usize, len: usize) -> Option<u64> {
    let (start, len) = (u32::try_from(start).ok()?, u32::try_from(len).ok()?);
    Some(u64::from(start) | u64::from(len) << 32)
}

/// The word of an empty set (and of an empty string).
pub(crate) const EMPTY_SET: u64 = 0;

/// The word of an inverse attribute not filled yet: a set spanning no items past the end of
/// any map's, so that it reads as absent ([`AttrMap::get`] gives `None`), never as the empty
/// set "nothing refers to it", which only filling it may say. Filling overwrites it in place.
pub(crate) const UNFILLED: u64 = u32::MAX as u64;

/// The words before the values': the spans of the entity's id, name and record id.
const HEADS: usize = 3;

/// Which of the entity's identifying strings a head word spans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Head {
    Id = 0,
    Name = 1,
    RecordId = 2,
}

/// An entity's identifying strings, as a map is built from them.
#[derive(Debug, Clone, Copy)]
pub struct EntityNames<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub record_id: &'a str,
}

/// The (start, end) a [`span`] word gives.
fn bounds(word: u64) -> (usize, usize) {
    // the low and the high 32 bits: the casts keep exactly those
    let (start, len) = (word as u32 as usize, (word >> 32) as usize);
    (start, start + len)
}

/// An entity's id, name and record id, and its attribute values by attribute index, packed
/// (see the module's documentation).
#[derive(Debug, Clone)]
pub struct AttrMap {
    /// Bit `i` is set when index `i` is present: a `u128` held as two `u64`s, so that the map
    /// (and the entity that holds it) is aligned to 8 bytes.
    present: [u64; 2],
    /// The [`HEADS`] words; the words of the present indices' values, in index order; then
    /// the spans of the sets' items.
    words: Box<[u64]>,
    /// The text of the identifying strings, strings, references and set items.
    text: ArcStr,
}

/// No values, and an empty id, name and record id.
impl Default for AttrMap {
    fn default() -> Self {
        Self {
            present: [0; 2],
            words: Box::new([EMPTY_SET; HEADS]),
            text: ArcStr::new(),
        }
    }
}

/// A value a map cannot hold: not of its attribute's type, of an index of [`MAX_ATTRS`] or
/// more, or a string or set beyond 4 GiB. The reader checks values against the model first,
/// and no line it accepts comes near the sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpackable;

impl AttrMap {
    /// The identifying string `which` spans; empty when the word spans no text (the map's
    /// constructors never write such a word).
    pub fn head(&self, which: Head) -> &str {
        self.words
            .get(which as usize)
            .and_then(|&w| self.str_at(w))
            .unwrap_or_default()
    }

    /// Sets the identifying string `which` to `s` (tests rename entities; the readers pack
    /// the three strings with the values).
    #[cfg(test)]
    pub(crate) fn set_head(&mut self, which: Head, s: &str) -> Result<(), Unpackable> {
        let word = span(self.text.len(), s.len()).ok_or(Unpackable)?;
        let mut text = String::with_capacity(self.text.len() + s.len());
        text.push_str(&self.text);
        text.push_str(s);
        let slot = self.words.get_mut(which as usize).ok_or(Unpackable)?;
        *slot = word;
        self.text = ArcStr::from(text);
        Ok(())
    }

    fn bits(&self) -> u128 {
        (u128::from(self.present[1]) << 64) | u128::from(self.present[0])
    }

    /// The number of values (the set item spans follow their words).
    fn len(&self) -> usize {
        self.bits().count_ones() as usize
    }

    /// The position of `idx`'s word, if present.
    fn position(&self, idx: usize) -> Option<usize> {
        if idx >= MAX_ATTRS || self.bits() & (1u128 << idx) == 0 {
            return None;
        }
        Some(HEADS + (self.bits() & ((1u128 << idx) - 1)).count_ones() as usize)
    }

    pub fn contains_key(&self, idx: usize) -> bool {
        self.position(idx).is_some()
    }

    /// The value of `idx`, read as the type `defs` (the entity type's attributes) give it.
    pub fn get<'a>(&'a self, defs: &[AttrDef], idx: usize) -> Option<AttrRef<'a>> {
        let word = *self.words.get(self.position(idx)?)?;
        self.decode(defs.get(idx)?.ty, word)
    }

    /// The stored position among its enumeration's values of the enumerated attribute `idx`;
    /// `None` exactly when [`AttrMap::get`] reads no value.
    pub fn enum_word(&self, defs: &[AttrDef], idx: usize) -> Option<u64> {
        let word = *self.words.get(self.position(idx)?)?;
        match defs.get(idx)?.ty {
            AttrType::Enum(values) if usize::try_from(word).ok()? < values.len() => Some(word),
            _ => None,
        }
    }

    fn str_at(&self, word: u64) -> Option<&str> {
        let (start, end) = bounds(word);
        self.text.get(start..end)
    }

    /// The value `word` holds as `ty`; `None` for a word that holds none (the map's
    /// constructors never write one): it reads as absent, never as a plausible value.
    fn decode(&self, ty: AttrType, word: u64) -> Option<AttrRef<'_>> {
        let items = || {
            let (start, end) = bounds(word);
            let from = HEADS + self.len();
            Some(StrItems {
                spans: self.words.get(from + start..from + end)?,
                text: &self.text,
            })
        };
        Some(match ty {
            AttrType::Bool => AttrRef::Bool(word != 0),
            // the word holds the value's bits
            AttrType::Long => AttrRef::Long(word as i64),
            AttrType::Time => AttrRef::Time(word as i64),
            AttrType::Enum(values) => AttrRef::String(values.get(usize::try_from(word).ok()?)?),
            AttrType::String => AttrRef::String(self.str_at(word)?),
            AttrType::Ref(_) => AttrRef::Ref(self.str_at(word)?),
            AttrType::StringSet => AttrRef::StringSet(items()?),
            AttrType::RefSet(_) => AttrRef::RefSet(items()?),
        })
    }

    /// (index, value) pairs in index order.
    pub fn iter<'a>(&'a self, defs: &'a [AttrDef]) -> impl Iterator<Item = (usize, AttrRef<'a>)> {
        self.indices()
            .zip(self.words.iter().skip(HEADS))
            .filter_map(|(idx, &word)| Some((idx, self.decode(defs.get(idx)?.ty, word)?)))
    }

    /// The indices present, in order.
    pub fn indices(&self) -> impl Iterator<Item = usize> {
        let mut bits = self.bits();
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let idx = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(idx)
        })
    }

    /// Where the values lie in memory: entities visited in this order read their attributes
    /// from memory in the order they were allocated (the order their lines were read), not
    /// in the order of their ids, and so mostly from cache.
    pub fn address(&self) -> usize {
        self.words.as_ptr() as usize
    }

    /// Removes the value of `idx`, if present.
    pub fn remove(&mut self, idx: usize) {
        if let Some(p) = self.position(idx) {
            let mut words = self.words.to_vec();
            words.remove(p);
            self.words = words.into_boxed_slice();
            self.present = split_bits(self.bits() & !(1u128 << idx));
        }
    }

    /// Sets `idx` to the set of `items`, which must be sorted and without duplicates (refused
    /// otherwise), as when inverse attributes are derived. An empty set replaces a present
    /// value in place; otherwise the map is rebuilt (two allocations).
    pub fn insert_set(&mut self, idx: usize, items: &[&str]) -> Result<(), Unpackable> {
        if idx >= MAX_ATTRS || items.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Unpackable);
        }
        if items.is_empty() {
            if let Some(w) = self.position(idx).and_then(|p| self.words.get_mut(p)) {
                *w = EMPTY_SET;
                return Ok(());
            }
        }
        let n = HEADS + self.len();
        let spans = self.words.get(n..).unwrap_or_default();
        let mut text =
            String::with_capacity(self.text.len() + items.iter().map(|s| s.len()).sum::<usize>());
        text.push_str(&self.text);
        let mut new_spans = Vec::with_capacity(spans.len() + items.len());
        new_spans.extend_from_slice(spans);
        let set_word = span(spans.len(), items.len()).ok_or(Unpackable)?;
        for item in items {
            new_spans.push(span(text.len(), item.len()).ok_or(Unpackable)?);
            text.push_str(item);
        }
        let mut words = Vec::with_capacity(n + 1 + new_spans.len());
        words.extend_from_slice(self.words.get(..n).unwrap_or_default());
        match self.position(idx) {
            Some(p) => {
                if let Some(w) = words.get_mut(p) {
                    *w = set_word;
                }
            }
            None => {
                let p = HEADS + (self.bits() & ((1u128 << idx) - 1)).count_ones() as usize;
                words.insert(p, set_word);
                self.present = split_bits(self.bits() | 1u128 << idx);
            }
        }
        words.extend_from_slice(&new_spans);
        self.words = words.into_boxed_slice();
        if !items.is_empty() {
            self.text = ArcStr::from(text);
        }
        Ok(())
    }

    /// The map of `names` and `items` (distinct indices, each value of its attribute's type in
    /// `defs`). Leaves `items` empty.
    pub fn from_values(
        names: EntityNames<'_>,
        defs: &[AttrDef],
        items: &mut Vec<(usize, AttrValue)>,
    ) -> Result<Self, Unpackable> {
        let mut packer = Packer::default();
        packer.names(names)?;
        for (idx, value) in items.drain(..) {
            let ty = defs.get(idx).ok_or(Unpackable)?.ty;
            let word = match (ty, value) {
                (AttrType::Bool, AttrValue::Bool(b)) => u64::from(b),
                // the word holds the value's bits
                (AttrType::Long, AttrValue::Long(n)) | (AttrType::Time, AttrValue::Time(n)) => {
                    n as u64
                }
                (AttrType::Enum(values), AttrValue::String(s)) => {
                    super::enum_position(values, &s).ok_or(Unpackable)? as u64
                }
                (AttrType::String, AttrValue::String(s)) => packer.text(&s)?,
                (AttrType::Ref(_), AttrValue::Ref(s)) => packer.text(&s)?,
                (AttrType::StringSet, AttrValue::StringSet(v))
                | (AttrType::RefSet(_), AttrValue::RefSet(v)) => {
                    for s in v.iter() {
                        packer.item(s)?;
                    }
                    packer.set()?
                }
                _ => return Err(Unpackable),
            };
            packer.value(idx, word);
        }
        packer.unfilled_inverses(defs);
        packer.finish()
    }
}

/// `bits` as [`AttrMap::present`] holds it.
fn split_bits(bits: u128) -> [u64; 2] {
    // the low and the high 64 bits: the casts keep exactly those
    [bits as u64, (bits >> 64) as u64]
}

/// Builds an [`AttrMap`] from values given in any order; kept between lines by the reader so
/// that its vectors are allocated once per thread.
#[derive(Debug, Default)]
pub(crate) struct Packer {
    /// The [`HEADS`] words.
    heads: [u64; HEADS],
    /// (index, word)
    values: Vec<(usize, u64)>,
    /// The spans of the sets' items, the current set's last.
    spans: Vec<u64>,
    /// Where the current set's items start in `spans`.
    set_from: usize,
    text: String,
}

impl Packer {
    pub(crate) fn clear(&mut self) {
        self.heads = [EMPTY_SET; HEADS];
        self.values.clear();
        self.spans.clear();
        self.set_from = 0;
        self.text.clear();
    }

    /// The word of a string or reference `s`.
    pub(crate) fn text(&mut self, s: &str) -> Result<u64, Unpackable> {
        let word = span(self.text.len(), s.len()).ok_or(Unpackable)?;
        self.text.push_str(s);
        Ok(word)
    }

    /// Sets the identifying string `which` to `s`.
    pub(crate) fn head(&mut self, which: Head, s: &str) -> Result<(), Unpackable> {
        // `Head`'s discriminants are the positions of `heads`
        self.heads[which as usize] = self.text(s)?;
        Ok(())
    }

    /// Sets the three identifying strings.
    pub(crate) fn names(&mut self, names: EntityNames<'_>) -> Result<(), Unpackable> {
        self.head(Head::Id, names.id)?;
        self.head(Head::Name, names.name)?;
        self.head(Head::RecordId, names.record_id)
    }

    /// Adds `s` to the current set.
    pub(crate) fn item(&mut self, s: &str) -> Result<(), Unpackable> {
        let word = self.text(s)?;
        self.spans.push(word);
        Ok(())
    }

    /// Ends the current set (its items sorted, duplicates removed) and gives its word.
    pub(crate) fn set(&mut self) -> Result<u64, Unpackable> {
        let text = &self.text;
        let at = |w: &u64| {
            let (start, end) = bounds(*w);
            text.get(start..end).unwrap_or_default()
        };
        let from = self.set_from;
        if let Some(items) = self.spans.get_mut(from..) {
            items.sort_unstable_by(|a, b| at(a).cmp(at(b)));
        }
        // drop duplicates: each item kept is moved down to the next free place
        let mut kept = from;
        for i in from..self.spans.len() {
            let dup = kept > from && self.spans.get(kept - 1).map(at) == self.spans.get(i).map(at);
            if !dup {
                self.spans.swap(kept, i);
                kept += 1;
            }
        }
        self.spans.truncate(kept);
        self.set_from = kept;
        span(from, kept - from).ok_or(Unpackable)
    }

    pub(crate) fn value(&mut self, idx: usize, word: u64) {
        self.values.push((idx, word));
    }

    /// Reserves a word for each inverse attribute of `defs` not given a value, [`UNFILLED`]:
    /// the model build fills it in place.
    pub(crate) fn unfilled_inverses(&mut self, defs: &[AttrDef]) {
        for (idx, a) in defs.iter().enumerate() {
            let given = || self.values.iter().any(|(i, _)| *i == idx);
            if matches!(a.origin, AttrOrigin::Inverse { .. }) && !given() {
                self.values.push((idx, UNFILLED));
            }
        }
    }

    /// The map of the values given; an index given twice is an error. The packer is left
    /// empty.
    pub(crate) fn finish(&mut self) -> Result<AttrMap, Unpackable> {
        self.values.sort_unstable_by_key(|(k, _)| *k);
        let mut present = 0u128;
        let mut words = Vec::with_capacity(HEADS + self.values.len() + self.spans.len());
        words.extend_from_slice(&self.heads);
        for &(k, w) in &self.values {
            if k >= MAX_ATTRS || present & (1u128 << k) != 0 {
                self.clear();
                return Err(Unpackable);
            }
            present |= 1u128 << k;
            words.push(w);
        }
        words.extend_from_slice(&self.spans);
        let map = AttrMap {
            present: split_bits(present),
            words: words.into_boxed_slice(),
            text: if self.text.is_empty() {
                ArcStr::new()
            } else {
                ArcStr::from(self.text.as_str())
            },
        };
        self.clear();
        Ok(map)
    }
}

/// One attribute value, borrowed from its [`AttrMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrRef<'a> {
    Bool(bool),
    Long(i64),
    /// A string (of an enumerated attribute: the model's own spelling of it).
    String(&'a str),
    /// Seconds since the Unix epoch.
    Time(i64),
    /// The id of the referenced entity (its type is fixed by the model).
    Ref(&'a str),
    /// Sorted, without duplicates.
    StringSet(StrItems<'a>),
    /// Ids of the referenced entities; sorted, without duplicates.
    RefSet(StrItems<'a>),
}

impl<'a> AttrRef<'a> {
    /// The value as it is written in a snapshot (times as RFC 3339).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match *self {
            AttrRef::Bool(b) => Value::Bool(b),
            AttrRef::Long(n) => Value::from(n),
            AttrRef::String(s) | AttrRef::Ref(s) => Value::String(s.to_string()),
            AttrRef::Time(t) => Value::String(crate::time::format_rfc3339(t)),
            AttrRef::StringSet(v) | AttrRef::RefSet(v) => {
                Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect())
            }
        }
    }

    /// The text of a string or the id of a reference.
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            AttrRef::String(s) | AttrRef::Ref(s) => Some(s),
            _ => None,
        }
    }

    /// The items of a set of strings or of references.
    pub fn as_set(&self) -> Option<StrItems<'a>> {
        match self {
            AttrRef::StringSet(v) | AttrRef::RefSet(v) => Some(*v),
            _ => None,
        }
    }

    /// The ids a reference or a set of references holds (none for other values).
    pub fn ref_ids(&self) -> impl Iterator<Item = &'a str> {
        let (one, set) = match *self {
            AttrRef::Ref(id) => (Some(id), None),
            AttrRef::RefSet(ids) => (None, Some(ids.iter())),
            _ => (None, None),
        };
        one.into_iter().chain(set.into_iter().flatten())
    }

    /// The value, owned.
    pub fn to_value(&self) -> AttrValue {
        let set = |v: &StrItems<'_>| v.iter().map(Box::from).collect();
        match *self {
            AttrRef::Bool(b) => AttrValue::Bool(b),
            AttrRef::Long(n) => AttrValue::Long(n),
            AttrRef::String(s) => AttrValue::String(s.to_string().into()),
            AttrRef::Time(t) => AttrValue::Time(t),
            AttrRef::Ref(s) => AttrValue::Ref(Box::from(s)),
            AttrRef::StringSet(ref v) => AttrValue::StringSet(set(v)),
            AttrRef::RefSet(ref v) => AttrValue::RefSet(set(v)),
        }
    }
}

impl PartialEq<AttrValue> for AttrRef<'_> {
    fn eq(&self, other: &AttrValue) -> bool {
        self.to_value() == *other
    }
}

/// The items of a set value, sorted, without duplicates.
#[derive(Clone, Copy)]
pub struct StrItems<'a> {
    spans: &'a [u64],
    text: &'a str,
}

impl<'a> StrItems<'a> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &'a str> + ExactSizeIterator + Clone {
        let text = self.text;
        self.spans.iter().map(move |&w| {
            let (start, end) = bounds(w);
            text.get(start..end).unwrap_or_default()
        })
    }
}

impl PartialEq for StrItems<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for StrItems<'_> {}

impl std::fmt::Debug for StrItems<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AttrOrigin;

    const fn def(name: &'static str, ty: AttrType) -> AttrDef {
        AttrDef {
            name,
            ty,
            optional: true,
            origin: AttrOrigin::Stored,
            doc: "",
        }
    }

    /// One attribute of every type, two sets of each kind.
    const DEFS: &[AttrDef] = &[
        def("b", AttrType::Bool),
        def("n", AttrType::Long),
        def("s", AttrType::String),
        def("e", AttrType::Enum(&["active", "disabled", ""])),
        def("t", AttrType::Time),
        def("r", AttrType::Ref("Identity")),
        def("ss", AttrType::StringSet),
        def("rs", AttrType::RefSet("Asset")),
        def("ss2", AttrType::StringSet),
        def("s2", AttrType::String),
        def("rs2", AttrType::RefSet("Asset")),
    ];

    const NAMES: EntityNames<'static> = EntityNames {
        id: "okta:u1",
        name: "ünï \u{0}",
        record_id: "",
    };

    fn set(items: &[&str]) -> StrSet {
        AttrValue::set_of(items.iter().map(|s| Box::from(*s)).collect())
    }

    use super::super::StrSet;

    fn values() -> Vec<(usize, AttrValue)> {
        vec![
            (0, AttrValue::Bool(true)),
            (1, AttrValue::Long(i64::MIN)),
            (
                2,
                AttrValue::String("ünïcödé \u{0} text".to_string().into()),
            ),
            (3, AttrValue::String("disabled".into())),
            (4, AttrValue::Time(-62_135_596_800)),
            (5, AttrValue::Ref("u1".into())),
            (6, AttrValue::StringSet(set(&["sms", "app", "", "sms"]))),
            (7, AttrValue::RefSet(set(&[]))),
            (8, AttrValue::StringSet(set(&["z", "a"]))),
            (9, AttrValue::String("".to_string().into())),
            (10, AttrValue::RefSet(set(&["a2", "a1", "a10"]))),
        ]
    }

    #[test]
    fn every_value_reads_back_as_given() {
        let given = values();
        let mut items = given.clone();
        let m = AttrMap::from_values(NAMES, DEFS, &mut items).unwrap();
        assert!(items.is_empty());
        assert_eq!(m.head(Head::Id), "okta:u1");
        assert_eq!(m.head(Head::Name), "ünï \u{0}");
        assert_eq!(m.head(Head::RecordId), "");
        for (idx, v) in &given {
            assert_eq!(
                m.get(DEFS, *idx).map(|r| r.to_value()).as_ref(),
                Some(v),
                "{idx}"
            );
            assert!(m.contains_key(*idx));
        }
        assert_eq!(m.get(DEFS, 11), None);
        assert_eq!(m.get(DEFS, MAX_ATTRS + 3), None);
        assert!(!m.contains_key(MAX_ATTRS));
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, given);
        assert_eq!(m.indices().collect::<Vec<_>>(), (0..11).collect::<Vec<_>>());
        // the longs' and times' bits are kept whole
        let mut items = vec![(1, AttrValue::Long(i64::MAX)), (4, AttrValue::Time(-1))];
        let m = AttrMap::from_values(NAMES, DEFS, &mut items).unwrap();
        assert_eq!(m.get(DEFS, 1), Some(AttrRef::Long(i64::MAX)));
        assert_eq!(m.get(DEFS, 4), Some(AttrRef::Time(-1)));
        assert_eq!(m.get(DEFS, 0), None);
    }

    #[test]
    fn the_readers_packing_in_any_order_equals_the_values_packing() {
        let mut p = Packer::default();
        p.head(Head::Name, "n").unwrap();
        p.item("a1").unwrap();
        p.item("a2").unwrap();
        p.item("a1").unwrap();
        let w = p.set().unwrap();
        p.value(10, w);
        let w = p.text("u1").unwrap();
        p.value(5, w);
        p.head(Head::Id, "i").unwrap();
        p.value(0, 1);
        let w = p.set().unwrap();
        p.value(7, w);
        for x in ["b", "a", "b", "b", "c", "a"] {
            p.item(x).unwrap();
        }
        let w = p.set().unwrap();
        p.value(6, w);
        let m = p.finish().unwrap();
        let expected = vec![
            (0, AttrValue::Bool(true)),
            (5, AttrValue::Ref("u1".into())),
            (6, AttrValue::StringSet(set(&["a", "b", "c"]))),
            (7, AttrValue::RefSet(set(&[]))),
            (10, AttrValue::RefSet(set(&["a1", "a2"]))),
        ];
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, expected);
        assert_eq!(
            [Head::Id, Head::Name, Head::RecordId].map(|h| m.head(h)),
            ["i", "n", ""]
        );
        // the packer is empty again and packs the next map from scratch
        let w = p.text("x").unwrap();
        p.value(2, w);
        let m = p.finish().unwrap();
        assert_eq!(m.iter(DEFS).count(), 1);
        assert_eq!(m.head(Head::Id), "");
        assert_eq!(m.get(DEFS, 2), Some(AttrRef::String("x")));
    }

    #[test]
    fn a_set_inserted_later_leaves_the_others_as_they_were() {
        let mut items = values();
        items.retain(|(i, _)| *i != 7);
        let mut m = AttrMap::from_values(NAMES, DEFS, &mut items).unwrap();
        m.insert_set(7, &["j1", "j2"]).unwrap();
        let mut expected = values();
        expected[7] = (7, AttrValue::RefSet(set(&["j1", "j2"])));
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, expected);
        // a present set is replaced
        m.insert_set(10, &[]).unwrap();
        expected[10] = (10, AttrValue::RefSet(set(&[])));
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, expected);
        assert_eq!(m.insert_set(MAX_ATTRS, &["x"]), Err(Unpackable));
        // items not sorted, or repeated, are refused
        assert_eq!(m.insert_set(7, &["b", "a"]), Err(Unpackable));
        assert_eq!(m.insert_set(7, &["a", "a"]), Err(Unpackable));
        // a value removed is absent; the sets after it read as before
        m.remove(6);
        m.remove(6);
        m.remove(MAX_ATTRS);
        expected.remove(6);
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, expected);
        assert!(!m.contains_key(6));
        // and the identifying strings are kept through it all; one set later reads as set
        assert_eq!(m.head(Head::Id), "okta:u1");
        m.set_head(Head::Name, "renamed").unwrap();
        assert_eq!(m.head(Head::Name), "renamed");
        assert_eq!(m.head(Head::RecordId), "");
        let read: Vec<(usize, AttrValue)> = m.iter(DEFS).map(|(i, v)| (i, v.to_value())).collect();
        assert_eq!(read, expected);
    }

    #[test]
    fn values_a_map_cannot_hold_are_refused() {
        for bad in [
            vec![(0, AttrValue::Long(1))],
            vec![(3, AttrValue::String("unknown".into()))],
            vec![(5, AttrValue::String("u1".to_string().into()))],
            vec![(7, AttrValue::StringSet(set(&["x"])))],
            vec![(11, AttrValue::Bool(true))],
            vec![(0, AttrValue::Bool(true)), (0, AttrValue::Bool(false))],
        ] {
            assert_eq!(
                AttrMap::from_values(NAMES, DEFS, &mut bad.clone()).map(|_| ()),
                Err(Unpackable),
                "{bad:?}"
            );
        }
    }

    /// A word that holds no value of its type reads as absent, never as `""` or `[]`.
    #[test]
    fn a_word_that_holds_nothing_reads_as_absent() {
        let m = AttrMap {
            // a string, an enum, a reference and a set
            present: split_bits(0b1101100),
            words: vec![
                EMPTY_SET,
                EMPTY_SET,
                span(7, 1).unwrap(),
                span(0, 9).unwrap(),
                3,
                span(1, 5).unwrap(),
                span(0, 1).unwrap(),
            ]
            .into_boxed_slice(),
            text: ArcStr::from("ab"),
        };
        for idx in [2, 3, 5, 6] {
            assert!(m.contains_key(idx));
            assert_eq!(m.get(DEFS, idx), None, "{idx}");
        }
        assert_eq!(m.iter(DEFS).count(), 0);
        assert_eq!(m.head(Head::RecordId), "");
        assert_eq!(m.head(Head::Id), "");
        assert_eq!(AttrMap::default().head(Head::Name), "");
    }

    #[test]
    fn set_items_read_sorted() {
        let mut items = vec![(6, AttrValue::StringSet(set(&["d", "b", "f", "a", "c"])))];
        let m = AttrMap::from_values(NAMES, DEFS, &mut items).unwrap();
        let Some(AttrRef::StringSet(s)) = m.get(DEFS, 6) else {
            panic!("a set")
        };
        assert_eq!(s.iter().collect::<Vec<_>>(), ["a", "b", "c", "d", "f"]);
        assert_eq!(format!("{s:?}"), r#"["a", "b", "c", "d", "f"]"#);
    }
}
