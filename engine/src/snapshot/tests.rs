use super::*;
use crate::fs::{load_snapshot, SnapshotWriter, SourceMeta};
use crate::model::value::{EntityLine, RecordRef};
use crate::model::AttrValue;

fn line(ty: &str, id: &str, attrs: serde_json::Value) -> EntityLine {
    EntityLine {
        entity_type: ty.into(),
        id: id.into(),
        name: id.into(),
        record: RecordRef {
            id: id.into(),
            sha256: sha256_hex(id.as_bytes()),
        },
        attrs: attrs.as_object().cloned().unwrap_or_default(),
        member_of: vec![],
    }
}

fn write_demo(dir: &std::path::Path) -> Manifest {
    let mut w = SnapshotWriter::create(dir).unwrap();
    let mut s = w
        .source(SourceMeta {
            name: "cmdb".into(),
            kind: "csv".into(),
            connector_version: "0.1.0".into(),
            started_at: "2026-11-20T06:00:00Z".into(),
            provides: vec!["Asset".into(), "BackupJob".into()],
            ..Default::default()
        })
        .unwrap();
    s.record(br#"{"sys_id":"a1"}"#).unwrap();
    s.entity(&line(
        "Asset",
        "a1",
        serde_json::json!({"class":"server","lifecycle":"active","environment":"production",
            "criticality":"high","in_scope":true,"data_bearing":true,"backup_required":true}),
    ))
    .unwrap();
    s.entity(&line(
        "BackupJob",
        "j1",
        serde_json::json!({"tool":"restic","repository":"/srv/r","asset":"a1","encrypted":true}),
    ))
    .unwrap();
    s.entity(&line("Asset", "a2", serde_json::json!({"class":"toaster"})))
        .unwrap();
    s.finish(SourceStatus::Ok, None, "2026-11-20T06:01:00Z")
        .unwrap();
    w.finish("Acme", "2026-11-20T06:01:00Z").unwrap()
}

#[test]
fn a_written_snapshot_reads_back_with_inverse_attributes_and_unreadable_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let manifest = write_demo(&dir);
    assert!(manifest.snapshot_id.starts_with("sha256:"));
    let snap = load_snapshot(&dir).unwrap();
    assert_eq!(snap.entities.len(), 2);
    let asset = snap.entities.iter().find(|e| e.id() == "a1").unwrap();
    assert_eq!(
        asset.attr("backup_jobs").map(|v| v.to_value()),
        Some(AttrValue::RefSet(Box::new(["j1".into()])))
    );
    assert_eq!(snap.unreadable.len(), 1);
    assert_eq!(snap.unreadable[0].file, "entities/cmdb.jsonl");
    // written in (type, id) order: a1, a2, j1
    assert_eq!(snap.unreadable[0].line, Some(2));
    assert!(snap.unreadable[0].error.contains("`class` expects one of"));
    // the directory of snapshots resolves to the newest one
    assert_eq!(crate::fs::resolve_snapshot_dir(tmp.path()).unwrap(), dir);
}

#[test]
fn a_source_writes_its_entities_by_type_and_id_then_its_raw_lines() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let mut w = SnapshotWriter::create(&dir).unwrap();
    let mut s = w
        .source(SourceMeta {
            name: "src".into(),
            ..Default::default()
        })
        .unwrap();
    let given = [
        ("Ticket", "T-2", "first"),
        ("Asset", "b", "b"),
        ("NoSuchType", "a", "a"),
        ("Ticket", "T-10", "t10"),
        ("Asset", "a", "a"),
        ("Ticket", "T-2", "second"),
    ];
    for (ty, id, name) in given {
        let mut l = line(ty, id, serde_json::json!({}));
        l.name = name.into();
        s.entity(&l).unwrap();
    }
    s.raw_entity_lines("{\"name\":\"raw 1\"}\n\n{\"name\":\"raw 2\"}\n")
        .unwrap();
    s.finish(SourceStatus::Ok, None, "2026-11-20T06:01:00Z")
        .unwrap();
    w.finish("Acme", "2026-11-20T06:01:00Z").unwrap();
    let text = std::fs::read_to_string(dir.join("entities/src.jsonl")).unwrap();
    let written: Vec<[String; 3]> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            ["type", "id", "name"].map(|k| v[k].as_str().unwrap_or_default().to_string())
        })
        .collect();
    let expected = [
        ["Asset", "a", "a"],
        ["Asset", "b", "b"],
        // ids compare as text; of equal ones the first given comes first
        ["Ticket", "T-10", "t10"],
        ["Ticket", "T-2", "first"],
        ["Ticket", "T-2", "second"],
        // a type outside the model comes last
        ["NoSuchType", "a", "a"],
        // lines appended as they are come after the entities given before them, in their order
        ["", "", "raw 1"],
        ["", "", "raw 2"],
    ];
    // (of two entities with the same type and id, the model keeps the first line's)
    assert_eq!(written, expected);
}

#[test]
fn tampering_is_detected() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    write_demo(&dir);
    let path = dir.join("entities/cmdb.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replace("\"high\"", "\"low\"");
    std::fs::write(&path, text).unwrap();
    let err = load_snapshot(&dir).unwrap_err().to_string();
    assert!(
        err.contains("file `entities/cmdb.jsonl` does not match its hash"),
        "{err}"
    );

    let manifest_path = dir.join("manifest.json");
    let m = std::fs::read_to_string(&manifest_path)
        .unwrap()
        .replace("Acme", "Evil");
    std::fs::write(&manifest_path, m).unwrap();
    let err = load_snapshot(&dir).unwrap_err().to_string();
    assert!(err.contains("snapshot id mismatch"), "{err}");
}

#[test]
fn a_source_collected_at_no_valid_time_is_refused_with_the_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let mut manifest = write_demo(&dir);
    manifest.sources[0].finished_at = "last tuesday".into();
    manifest.snapshot_id = compute_snapshot_id(&manifest);
    let bytes = serde_json::to_vec(&manifest).unwrap();
    assert_eq!(
        parse_manifest(&bytes).unwrap_err(),
        SnapshotError::Time("last tuesday".into())
    );
}

#[test]
fn entity_files_read_the_same_in_blocks_of_any_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("snap");
    let mut manifest = write_demo(&dir);
    // a blank line, CRLF line ends, a line that is not UTF-8 and a last line of a lone `\r` with
    // no newline at the end: line numbers still count every line
    let path = "entities/cmdb.jsonl";
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(1, "");
    let mut edited = lines.join("\r\n").into_bytes();
    edited.extend_from_slice(b"\r\n{\"type\":\"Asset\",\"id\":\"\xff\"}\r\n\r");
    let entry = manifest.files.iter_mut().find(|f| f.path == path).unwrap();
    entry.sha256 = sha256_hex(&edited);
    entry.bytes = edited.len() as u64;
    let open = |rel: &str| {
        if rel == path {
            Ok(edited.as_slice())
        } else {
            Err("missing".to_string())
        }
    };
    let (whole, whole_unreadable) = read_entities(&manifest, open).unwrap();
    assert_eq!(whole.len(), 2);
    let lines: Vec<Option<usize>> = whole_unreadable.iter().map(|u| u.line).collect();
    assert_eq!(lines, [Some(3), Some(5)]);
    assert_eq!(whole_unreadable[1].entity_type.as_deref(), Some("Asset"));
    // blocks of 1 byte to 4 KiB, each parsed in pieces of 1 byte to the whole block
    for block_size in [1, 2, 7, 64, 300, 4096] {
        for piece_size in [0, 1, 5, 100, 1 << 20] {
            let (entities, unreadable) =
                read_entities_in_blocks(&manifest, open, block_size, piece_size).unwrap();
            assert_eq!(
                entities, whole,
                "blocks of {block_size}, pieces of {piece_size}"
            );
            assert_eq!(
                unreadable, whole_unreadable,
                "blocks of {block_size}, pieces of {piece_size}"
            );
        }
    }
    // a hash mismatch is still found when the file is read in blocks
    let entry = manifest.files.iter_mut().find(|f| f.path == path).unwrap();
    entry.sha256 = sha256_hex(b"something else");
    let err = read_entities_in_blocks(&manifest, open, 7, 3).unwrap_err();
    assert!(matches!(err, SnapshotError::FileHash { .. }), "{err}");
}
