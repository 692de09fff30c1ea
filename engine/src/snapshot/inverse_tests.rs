//! Inverse attributes and the model sort, on unsorted and duplicated input.

use std::collections::HashMap;

use super::fill_inverse_attributes;
use crate::model::value::AttrRef;
use crate::model::value::EntityNames;
use crate::model::{AttrOrigin, AttrValue, EvidenceEntity, Provenance, ENTITY_TYPES};

/// The straightforward definition: by (target type, inverse attr), target id -> the ids of
/// the entities whose `via` attribute names it.
fn reference(entities: &mut [EvidenceEntity]) {
    let mut found: HashMap<(usize, usize), HashMap<String, Vec<String>>> = HashMap::new();
    let mut wanted: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (ti, t) in ENTITY_TYPES.iter().enumerate() {
        for (ai, a) in t.attrs.iter().enumerate() {
            if let AttrOrigin::Inverse { of_type, via } = a.origin {
                wanted.insert((of_type, via), (ti, ai));
                found.insert((ti, ai), HashMap::new());
            }
        }
    }
    for e in entities.iter() {
        let def = e.def();
        for (ai, v) in e.values() {
            let Some(key) = wanted.get(&(def.name, def.attrs[ai].name)) else {
                continue;
            };
            let targets: Vec<&str> = match v {
                AttrRef::Ref(id) => vec![id],
                AttrRef::RefSet(ids) => ids.iter().collect(),
                _ => continue,
            };
            if let Some(map) = found.get_mut(key) {
                for t in targets {
                    map.entry(t.to_string())
                        .or_default()
                        .push(e.id().to_string());
                }
            }
        }
    }
    for e in entities.iter_mut() {
        for (ai, a) in e.def().attrs.iter().enumerate() {
            if matches!(a.origin, AttrOrigin::Inverse { .. }) {
                let mut ids: Vec<&str> = found
                    .get(&(e.type_index, ai))
                    .and_then(|m| m.get(e.id()))
                    .map(|ids| ids.iter().map(String::as_str).collect())
                    .unwrap_or_default();
                ids.sort();
                ids.dedup();
                e.attrs.insert_set(ai, &ids).unwrap();
            }
        }
    }
}

fn entity(ty: &str, id: &str, attrs: &[(&str, AttrValue)]) -> EvidenceEntity {
    let type_index = ENTITY_TYPES.iter().position(|t| t.name == ty).unwrap();
    let def = &ENTITY_TYPES[type_index];
    let mut values: Vec<(usize, AttrValue)> = attrs
        .iter()
        .map(|(n, v)| {
            (
                def.attrs.iter().position(|a| a.name == *n).unwrap(),
                v.clone(),
            )
        })
        .collect();
    let names = EntityNames {
        id,
        name: id,
        record_id: id,
    };
    let provenance = Provenance {
        source: "s".into(),
        record_sha256: Default::default(),
        collected_at: 0,
    };
    EvidenceEntity::new(type_index, names, provenance, &mut values, Vec::new()).unwrap()
}

#[test]
fn the_sort_is_stable_by_type_and_id() {
    let mut entities: Vec<EvidenceEntity> = (0..500)
        .map(|i: usize| {
            let ty = ["Asset", "Identity", "Ticket"][(i * 7) % 3];
            let mut e = entity(ty, &format!("id{}", (i * 31) % 97), &[]);
            e.rename(&i.to_string()); // tells duplicates apart
            e
        })
        .collect();
    let mut expected = entities.clone();
    expected.sort_by(|a, b| (a.type_index, a.id()).cmp(&(b.type_index, b.id())));
    let duplicates = super::order::sort_by_type_and_id(&mut entities);
    assert_eq!(entities, expected);
    let expected_duplicates: Vec<usize> = (1..expected.len())
        .filter(|&k| {
            let (a, b) = (&expected[k - 1], &expected[k]);
            (a.type_index, a.id()) == (b.type_index, b.id())
        })
        .collect();
    assert!(!expected_duplicates.is_empty());
    assert_eq!(duplicates, expected_duplicates);
}

/// The model keeps the first entity read of each (type, id), and reports each one skipped.
#[test]
fn the_model_keeps_the_first_of_each_id_and_reports_the_others() {
    let mut entities = Vec::new();
    for (i, (ty, id)) in [
        ("Asset", "a2"),
        ("Asset", "a1"),
        ("Identity", "a1"),
        ("Asset", "a2"),
        ("Asset", "a1"),
        ("Asset", "a2"),
        ("Asset", "a0"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut e = entity(ty, id, &[]);
        e.rename(&i.to_string());
        // each read from a source of its own: a report names the source of the entity kept
        e.provenance.source = format!("s{i}").as_str().into();
        entities.push(e);
    }
    let manifest = super::Manifest {
        format: super::FORMAT.to_string(),
        snapshot_id: String::new(),
        organization: "o".into(),
        created_at: "2026-11-25T00:00:00Z".into(),
        sources: Vec::new(),
        files: Vec::new(),
        index: None,
    };
    let model = super::build_model(manifest, entities, Vec::new());
    let kept: Vec<(&str, &str, &str)> = model
        .entities
        .iter()
        .map(|e| (e.type_name(), e.id(), e.name()))
        .collect();
    assert_eq!(
        kept,
        [
            // types in the model's order
            ("Identity", "a1", "2"),
            ("Asset", "a0", "6"),
            ("Asset", "a1", "1"),
            ("Asset", "a2", "0"),
        ]
    );
    let errors: Vec<&str> = model.unreadable.iter().map(|u| u.error.as_str()).collect();
    assert_eq!(
        errors,
        [
            // by file: the skipped ones were read from `s3`, `s4` and `s5`
            "duplicate Asset id `a2` (first read from source `s0`); this one was skipped",
            "duplicate Asset id `a1` (first read from source `s1`); this one was skipped",
            "duplicate Asset id `a2` (first read from source `s0`); this one was skipped",
        ]
    );
}

#[test]
fn inverse_attributes_match_their_definition_on_unsorted_input() {
    let r = |id: &str| AttrValue::Ref(id.into());
    let set = |ids: &[&str]| AttrValue::RefSet(ids.iter().map(|s| Box::from(*s)).collect());
    let mut entities = vec![
        entity("BackupJob", "j2", &[("asset", r("a1"))]),
        entity("Asset", "a2", &[]),
        entity("BackupJob", "j1", &[("asset", r("a1"))]),
        entity("BackupJob", "j3", &[("asset", r("missing"))]),
        entity("Asset", "a1", &[]),
        entity("Service", "s1", &[("components", set(&["a2", "a1", "a1"]))]),
        entity("Service", "s0", &[("components", set(&["a1"]))]),
        entity("Asset", "a1", &[]),
        entity("Credential", "c1", &[("identity", r("u1"))]),
        entity("Identity", "u1", &[]),
        entity("Identity", "u2", &[]),
        entity("BackupRun", "r1", &[("job", r("j1"))]),
        entity("BackupRun", "r0", &[("job", r("j1"))]),
    ];
    let mut expected = entities.clone();
    reference(&mut expected);
    assert!(fill_inverse_attributes(&mut entities).is_empty());
    assert_eq!(entities, expected);
    let a1 = &entities[4];
    assert_eq!(a1.attr("backup_jobs").unwrap(), set(&["j1", "j2"]));
    assert_eq!(a1.attr("services").unwrap(), set(&["s0", "s1"]));
}

/// More entities than one unit of parallel work ([`super::inverse::FILL_CHUNK`]), so that the
/// derived sets are moved to their entities across several chunks, in sorted and unsorted
/// order, with targets that no one refers to and references to entities not in the evidence.
#[test]
fn inverse_attributes_match_their_definition_across_many_chunks() {
    let r = |id: String| AttrValue::Ref(id.into());
    let n = 3 * super::inverse::FILL_CHUNK + 123;
    let mut entities: Vec<EvidenceEntity> = (0..n)
        .map(|i| match i % 5 {
            0 => entity("Asset", &format!("a{i}"), &[]),
            1 => entity(
                "BackupJob",
                &format!("j{i}"),
                &[("asset", r(format!("a{}", i * 7 % n / 5 * 5)))],
            ),
            2 => entity(
                "BackupRun",
                &format!("r{i}"),
                &[("job", r(format!("j{}", i / 5 * 5 + 1)))],
            ),
            3 => entity("Identity", &format!("u{i}"), &[]),
            _ => entity(
                "Credential",
                &format!("c{i}"),
                &[("identity", r(format!("u{}", i + 10_000_000)))],
            ),
        })
        .collect();
    for sorted in [false, true] {
        if sorted {
            super::order::sort_by_type_and_id(&mut entities);
        }
        let mut got = entities.clone();
        let mut expected = entities.clone();
        reference(&mut expected);
        assert!(fill_inverse_attributes(&mut got).is_empty());
        assert_eq!(got, expected, "sorted: {sorted}");
        let runs = got
            .iter()
            .filter_map(|e| match e.attr("runs") {
                Some(AttrRef::RefSet(ids)) => Some(ids.len()),
                _ => None,
            })
            .sum::<usize>();
        assert_eq!(
            runs,
            n / 5 + usize::from(n % 5 > 2),
            "every run is some job's"
        );
    }
}

/// An inverse attribute reads as absent until the model is built, whichever reader read the
/// entity: "nothing refers to it" is only ever the fill's answer.
#[test]
fn inverse_attributes_are_absent_until_filled() {
    let line = r#"{"type":"Asset","id":"a1","name":"a1","record":{"id":"a1","sha256":"0000000000000000000000000000000000000000000000000000000000000000"},"attrs":{"class":"server","lifecycle":"active","environment":"production","criticality":"high","in_scope":true,"data_bearing":true,"backup_required":true}}"#;
    let source: crate::model::value::SourceName = "s".into();
    let fast = crate::model::value::parse_entity_line(line, &source, 0).unwrap();
    let raw: crate::model::value::EntityLine = serde_json::from_str(line).unwrap();
    let full = crate::model::value::entity_from_line(raw, "s", 0).unwrap();
    let built = entity("Asset", "a1", &[]);
    for (reader, e) in [("fast", fast), ("full", full), ("new", built)] {
        assert!(e.attr("backup_jobs").is_none(), "{reader} reader");
        let mut filled = vec![e];
        assert!(fill_inverse_attributes(&mut filled).is_empty());
        assert_eq!(
            filled[0].attr("backup_jobs").map(|v| v.to_value()),
            Some(AttrValue::RefSet(Box::new([]))),
            "{reader} reader, filled"
        );
    }
}
