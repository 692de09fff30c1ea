//! The one-pass reader of well-formed entity lines. It never reports an error: `None` sends
//! the line to the full reader, which gives the entity or the precise error.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::packed::{Head, Packer};
use super::{EvidenceEntity, Provenance, Sha256Digest, SourceName};
use crate::model::{entity_type_index, AttrOrigin, AttrType, EntityTypeDef, ENTITY_TYPES};
use crate::time::parse_rfc3339;

fn fallback<T, E: de::Error>() -> Result<T, E> {
    Err(E::custom("irregular line"))
}

pub(super) fn parse(line: &str, source: &SourceName, collected_at: i64) -> Option<EvidenceEntity> {
    let mut de = serde_json::Deserializer::from_str(line);
    let e = Line {
        source,
        collected_at,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    Some(e)
}

struct Line<'s> {
    source: &'s SourceName,
    collected_at: i64,
}

impl<'de> DeserializeSeed<'de> for Line<'_> {
    type Value = EvidenceEntity;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<EvidenceEntity, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Line<'_> {
    type Value = EvidenceEntity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an entity line")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EvidenceEntity, A::Error> {
        let mut packer = PACKER.with(|s| std::mem::take(&mut *s.borrow_mut()));
        packer.clear();
        let e = self.read(&mut map, &mut packer);
        PACKER.with(|s| *s.borrow_mut() = packer);
        e
    }
}

impl Line<'_> {
    /// The entity of the line's keys and values, its text and values packed by `packer`.
    fn read<'de, A: MapAccess<'de>>(
        self,
        map: &mut A,
        packer: &mut Packer,
    ) -> Result<EvidenceEntity, A::Error> {
        let mut ty: Option<usize> = None;
        let (mut id, mut name, mut record_id, mut attrs) = (false, false, false, false);
        let mut record_sha256: Option<Sha256Digest> = None;
        let mut member_of: Option<Vec<String>> = None;
        let head = |packer: &mut Packer, which: Head, s: &str| {
            packer.head(which, s).or_else(|_| fallback())
        };
        while let Some(key) = map.next_key::<&str>()? {
            match key {
                "type" if ty.is_none() => {
                    let t: &str = map.next_value()?;
                    match entity_type_index(t) {
                        Some(t) => ty = Some(t),
                        None => return fallback(),
                    }
                }
                "id" if !id => {
                    head(packer, Head::Id, map.next_value()?)?;
                    id = true;
                }
                "name" if !name => {
                    head(packer, Head::Name, map.next_value()?)?;
                    name = true;
                }
                "record" if !record_id => {
                    let record: Record<'de> = map.next_value()?;
                    head(packer, Head::RecordId, record.id)?;
                    let Some(sha) = Sha256Digest::from_hex(record.sha256) else {
                        return fallback();
                    };
                    record_sha256 = Some(sha);
                    record_id = true;
                }
                "attrs" if !attrs => match ty {
                    Some(t) => {
                        map.next_value_seed(Attrs(&ENTITY_TYPES[t], &mut *packer))?;
                        attrs = true;
                    }
                    None => return fallback(),
                },
                "member_of" if member_of.is_none() => member_of = Some(map.next_value()?),
                _ => return fallback(),
            }
        }
        // a line without attributes goes to the full reader
        let (Some(type_index), true, true, Some(record_sha256), true) =
            (ty, id, name, record_sha256, attrs)
        else {
            return fallback();
        };
        let def = &ENTITY_TYPES[type_index];
        // inverse attributes read as absent until the model is built
        packer.unfilled_inverses(def.attrs);
        // keys are distinct (`Attrs` checks), so this is exactly the map of them
        let attrs = packer.finish().or_else(|_| fallback())?;
        let missing = def.attrs.iter().enumerate().any(|(idx, a)| {
            !a.optional && a.origin == AttrOrigin::Stored && !attrs.contains_key(idx)
        });
        let mut member_of = member_of.unwrap_or_default();
        if missing || (def.member_of.is_none() && !member_of.is_empty()) {
            return fallback();
        }
        member_of.sort();
        member_of.dedup();
        Ok(EvidenceEntity {
            type_index,
            provenance: Provenance {
                source: self.source.clone(),
                record_sha256,
                collected_at: self.collected_at,
            },
            attrs,
            member_of,
        })
    }
}

/// An entity line's `record`, borrowed from the line (its id is packed, its hash kept as 32
/// bytes); an escaped string sends the line to the full reader.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Record<'a> {
    id: &'a str,
    sha256: &'a str,
}

/// The attributes of a line of a type, their values given to the packer `.1`.
struct Attrs<'p>(&'static EntityTypeDef, &'p mut Packer);

impl<'de> DeserializeSeed<'de> for Attrs<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Attrs<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("attributes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (def, packer) = (self.0, self.1);
        let defs = def.attrs;
        let mut seen: u128 = 0;
        // writers put attributes in the model's order: look from the last one found on
        let mut next = 0;
        while let Some(key) = map.next_key::<&str>()? {
            let found = (next..defs.len())
                .chain(0..next)
                .find(|&i| defs[i].name == key);
            let Some(idx) = found else {
                return fallback();
            };
            next = idx + 1;
            let a = &defs[idx];
            if idx >= 128 || seen & (1 << idx) != 0 || a.origin != AttrOrigin::Stored {
                return fallback();
            }
            seen |= 1 << idx;
            if let Some(word) = map.next_value_seed(Value(a.ty, a.optional, &mut *packer))? {
                packer.value(idx, word);
            }
        }
        Ok(())
    }
}

thread_local! {
    /// The text and values of the line being parsed, before they are packed into an
    /// exact-size map.
    static PACKER: std::cell::RefCell<Packer> = std::cell::RefCell::new(Packer::default());
}

/// One attribute value of type `.0`, packed by `.2`: its word, `None` for a null optional one.
struct Value<'p>(AttrType, bool, &'p mut Packer);

impl<'de> DeserializeSeed<'de> for Value<'_> {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn packed<E: de::Error>(word: Result<u64, super::Unpackable>) -> Result<Option<u64>, E> {
    word.map(Some).or_else(|_| fallback())
}

impl<'de> Visitor<'de> for Value<'_> {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        if self.1 {
            Ok(None)
        } else {
            fallback()
        }
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        match self.0 {
            AttrType::Bool => Ok(Some(u64::from(b))),
            _ => fallback(),
        }
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
        match self.0 {
            // the word holds the value's bits
            AttrType::Long => Ok(Some(n as u64)),
            _ => fallback(),
        }
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
        match (self.0, i64::try_from(n)) {
            (AttrType::Long, Ok(_)) => Ok(Some(n)),
            _ => fallback(),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        match self.0 {
            AttrType::String | AttrType::Ref(_) => packed(self.2.text(s)),
            AttrType::Enum(values) => match super::enum_position(values, s) {
                Some(i) => Ok(Some(i as u64)),
                None => fallback(),
            },
            AttrType::Time => match time(s) {
                // the word holds the value's bits
                Some(t) => Ok(Some(t as u64)),
                None => fallback(),
            },
            _ => fallback(),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if !matches!(self.0, AttrType::StringSet | AttrType::RefSet(_)) {
            return fallback();
        }
        while let Some(x) = seq.next_element::<&str>()? {
            if self.2.item(x).is_err() {
                return fallback();
            }
        }
        packed(self.2.set())
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SSZ` (what snapshots hold) directly, anything else through
/// [`parse_rfc3339`].
pub(super) fn time(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    let num = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0i64, |acc, c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    if shape {
        if let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
            num(0, 4),
            num(5, 7),
            num(8, 10),
            num(11, 13),
            num(14, 16),
            num(17, 19),
        ) {
            if (1..=9999).contains(&y)
                && (1..=12).contains(&mo)
                && (1..=days_in_month(y, mo)).contains(&d)
                && h < 24
                && mi < 60
                && sec < 60
            {
                return Some(days_from_civil(y, mo, d) * 86_400 + h * 3_600 + mi * 60 + sec);
            }
        }
    }
    parse_rfc3339(s)
}
