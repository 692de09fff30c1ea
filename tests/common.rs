//! Running the `conform` binary the way a user does, from the repository root.
#![allow(clippy::expect_used)] // test support: a failure to run the binary is a test failure

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The outcome of one run: exit code, stdout, stderr.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn conform(args: &[&str]) -> Run {
    conform_in(&root(), args)
}

pub fn conform_in(dir: &Path, args: &[&str]) -> Run {
    conform_logging(dir, args, None)
}

/// The `conform` command as a user runs it in `dir`: no colour, `CONFORM_LOG` unset
/// (warnings only). Tests that need more (another standard output) set it on the command.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conform"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CONFORM_LOG");
    command
}

/// `conform` in `dir` with `CONFORM_LOG` set to `log` (`None`: unset, warnings only).
pub fn conform_logging(dir: &Path, args: &[&str], log: Option<&str>) -> Run {
    let mut command = command(dir, args);
    if let Some(log) = log {
        command.env("CONFORM_LOG", log);
    }
    let out = command.output().expect("run conform");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[allow(dead_code)] // not every test binary that includes this module seals fixtures
/// Seals the entity lines of `fixtures/snapshots/<name>/entities.jsonl` into a snapshot of one
/// source `idp` (providing Organization and Identity) under `dir`.
pub fn seal_fixture(name: &str, dir: &Path) -> PathBuf {
    use conform_engine::fs::{SnapshotWriter, SourceMeta};
    use conform_engine::snapshot::SourceStatus;
    let text = std::fs::read_to_string(
        root()
            .join("fixtures/snapshots")
            .join(name)
            .join("entities.jsonl"),
    )
    .expect("fixture");
    let snap = dir.join(name);
    let mut w = SnapshotWriter::create(&snap).expect("create");
    let mut s = w
        .source(SourceMeta {
            name: "idp".into(),
            kind: "okta".into(),
            connector_version: "0.1.0".into(),
            started_at: "2026-11-20T05:59:00Z".into(),
            provides: vec!["Organization".into(), "Identity".into()],
            ..Default::default()
        })
        .expect("source");
    s.raw_entity_lines(&text).expect("lines");
    s.finish(SourceStatus::Ok, None, "2026-11-20T06:00:00Z")
        .expect("finish");
    w.finish("Acme Ltd", "2026-11-20T06:00:00Z")
        .expect("manifest");
    snap
}
