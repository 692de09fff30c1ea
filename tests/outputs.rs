//! Every output format on the demo organisation, snapshotted, and read back by an independent
//! parser someone else wrote (`tests/readers/*.py`): SARIF validated against the official
//! SARIF 2.1.0 schema, JUnit read by `junitparser`, OSCAL loaded by `compliance-trestle`, CSV
//! by Python's `csv`, HTML rendered in headless Chromium. A missing tool fails the test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "readers/fixture.rs"]
mod fixture;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{conform, root};
use serde_json::Value;

const FORMATS: [&str; 5] = ["sarif", "junit", "csv", "oscal", "html"];

fn assess(args: &[&str]) -> String {
    let run = conform(args);
    assert_eq!(run.code, 0, "{:?}: {}", args, run.stderr);
    run.stdout
}

fn demo(format: &str) -> String {
    assess(&["assess", "--format", format])
}

fn demo_json() -> Value {
    serde_json::from_str(&demo("json")).expect("JSON")
}

/// Runs a reader on `file` and returns what it printed. The reader failing (or Python, a
/// package or Chromium missing) fails the test.
fn read(reader: &str, file: &Path) -> Value {
    let out = run_reader(reader, file);
    assert!(
        out.status.success(),
        "{reader} failed on {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader output is JSON")
}

fn run_reader(reader: &str, file: &Path) -> std::process::Output {
    let script = root().join("tests/readers").join(format!("{reader}.py"));
    Command::new("python3")
        .arg(&script)
        .arg(file)
        .output()
        .expect("python3 must be installed to read the outputs back")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p
}

/// The acme fixture assessed with the mini pack: formula-like names and an indeterminate.
fn acme(format: &str, snap: &Path) -> String {
    assess(&[
        "assess",
        "--evidence",
        snap.to_str().unwrap(),
        "--pack",
        "fixtures/packs/mini",
        "--format",
        format,
    ])
}

fn findings(a: &Value) -> &Vec<Value> {
    a["findings"].as_array().expect("findings")
}

#[test]
fn every_format_of_the_demo_is_snapshotted() {
    for f in FORMATS {
        insta::assert_snapshot!(format!("demo_{f}"), demo(f));
    }
}

#[test]
fn every_format_is_deterministic_whatever_the_threads() {
    for f in FORMATS {
        let a = demo(f);
        let b = Command::new(env!("CARGO_BIN_EXE_conform"))
            .args(["assess", "--format", f])
            .current_dir(root())
            .env("RAYON_NUM_THREADS", "1")
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        assert_eq!(
            a.as_bytes(),
            b.stdout.as_slice(),
            "{f} differs between runs"
        );
    }
}

#[test]
fn export_writes_the_same_bytes_as_assess() {
    let tmp = tempfile::tempdir().unwrap();
    for f in FORMATS {
        let expected = demo(f);
        let out = tmp.path().join(format!("report.{f}"));
        let run = conform(&["export", f, "--out", out.to_str().unwrap()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, "", "--out writes nothing to stdout");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected, "{f}");
        let to_stdout = conform(&["export", f]);
        assert_eq!(to_stdout.stdout, expected);
    }
    let soa = tmp.path().join("soa.csv");
    let run = conform(&["export", "soa", "--out", soa.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&soa).unwrap(),
        conform(&["export", "soa"]).stdout
    );
}

fn sarif_checks(sarif: &Value, a: &Value) {
    let fs = findings(a);
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["results"].as_u64().unwrap() as usize, fs.len());
    let mut ids: Vec<&str> = fs.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort();
    let fps: Vec<&str> = sarif["fingerprints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(fps, ids, "one result per finding, fingerprinted by its id");
    let count = |kind: &str, sev: Option<&str>| {
        fs.iter()
            .filter(|f| f["kind"] == kind && sev.is_none_or(|s| f["severity"] == s))
            .count() as u64
    };
    let levels = &sarif["levels"];
    let level = |l: &str| levels[l].as_u64().unwrap_or(0);
    assert_eq!(level("error"), count("nonconformity", Some("major")));
    assert_eq!(level("warning"), count("nonconformity", Some("minor")));
    assert_eq!(level("note"), count("nonconformity", Some("observation")));
    assert_eq!(level("none"), count("indeterminate", None));
    assert_eq!(
        sarif["kinds"]["review"].as_u64().unwrap_or(0),
        count("indeterminate", None)
    );
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let a = demo_json();
    let sarif = read(
        "read_sarif",
        &write(tmp.path(), "demo.sarif", &demo("sarif")),
    );
    sarif_checks(&sarif, &a);
    for uri in sarif["uris"].as_array().unwrap() {
        let uri = uri.as_str().unwrap();
        assert!(uri.starts_with("policies/iso-ims/rules/"), "{uri}");
        assert!(root().join(uri).is_file(), "{uri} exists in the repository");
    }

    let acme_dir = fixture::acme_snapshot(tmp.path());
    let a: Value = serde_json::from_str(&acme("json", &acme_dir)).unwrap();
    let text = acme("sarif", &acme_dir);
    sarif_checks(
        &read("read_sarif", &write(tmp.path(), "acme.sarif", &text)),
        &a,
    );

    // The validator is real: a broken document is refused.
    let broken = text.replacen("\"level\": \"error\"", "\"level\": \"fatal\"", 1);
    assert_ne!(broken, text);
    let out = run_reader("read_sarif", &write(tmp.path(), "broken.sarif", &broken));
    assert!(!out.status.success(), "an invalid level must not validate");
    assert!(String::from_utf8_lossy(&out.stderr).contains("fatal"));
}

/// (tests, failures, errors, skipped) per catalog, from the assessment's rules.
fn junit_expected(a: &Value, catalog: &str) -> (u64, u64, u64, u64) {
    let mut c = (0, 0, 0, 0);
    for r in a["rules"].as_array().unwrap() {
        for req in r["requirements"].as_array().unwrap() {
            if !req.as_str().unwrap().starts_with(&format!("{catalog}/")) {
                continue;
            }
            c.0 += 1;
            match r["status"].as_str().unwrap() {
                "nonconforming" => c.1 += 1,
                "indeterminate" => c.2 += 1,
                "not_assessed" => c.3 += 1,
                _ => {}
            }
        }
    }
    c
}

fn junit_checks(junit: &Value, a: &Value) {
    let suites = junit["suites"].as_array().unwrap();
    let standards = a["summary"]["standards"].as_array().unwrap();
    assert_eq!(suites.len(), standards.len(), "one suite per standard");
    for (suite, std) in suites.iter().zip(standards) {
        assert_eq!(suite["name"], std["title"]);
        let (tests, failures, errors, skipped) =
            junit_expected(a, std["catalog"].as_str().unwrap());
        assert_eq!(suite["tests"], tests, "{}", suite["name"]);
        assert_eq!(suite["failures"], failures);
        assert_eq!(suite["errors"], errors);
        assert_eq!(suite["skipped"], skipped);
        assert_eq!(suite["time"], 0.0);
        let cases = suite["cases"].as_array().unwrap();
        assert_eq!(cases.len() as u64, tests);
        let count = |r: &str| cases.iter().filter(|c| c["result"] == r).count() as u64;
        assert_eq!(
            (count("failure"), count("error"), count("skipped")),
            (failures, errors, skipped),
            "the parsed testcases agree with the counts"
        );
        for c in cases {
            let rule = a["rules"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["id"] == c["name"])
                .expect("name is a rule id");
            assert!(rule["requirements"]
                .as_array()
                .unwrap()
                .contains(&c["classname"]));
        }
    }
}

#[test]
fn junit_counts_match_the_json() {
    let tmp = tempfile::tempdir().unwrap();
    let junit = read("read_junit", &write(tmp.path(), "demo.xml", &demo("junit")));
    junit_checks(&junit, &demo_json());
    let acme_dir = fixture::acme_snapshot(tmp.path());
    let a: Value = serde_json::from_str(&acme("json", &acme_dir)).unwrap();
    let x = acme("junit", &acme_dir);
    junit_checks(&read("read_junit", &write(tmp.path(), "acme.xml", &x)), &a);
}

fn oscal_checks(oscal: &Value, a: &Value) {
    assert_eq!(oscal["oscal_version"], "1.2.1");
    let fs = findings(a);
    assert_eq!(oscal["observations"].as_u64().unwrap() as usize, fs.len());
    let mut ids: Vec<&str> = fs.iter().map(|f| f["id"].as_str().unwrap()).collect();
    ids.sort();
    let obs: Vec<&str> = oscal["observation_finding_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(obs, ids, "one observation per finding");
    for e in oscal["evidence"].as_array().unwrap() {
        let href = e.as_str().unwrap();
        assert!(
            href.starts_with("snapshot://") && href.contains("#sha256="),
            "{href}"
        );
    }
    let href = oscal["import_ap"].as_str().unwrap();
    assert_eq!(
        href.trim_start_matches('#'),
        oscal["back_matter_resources"][0],
        "import-ap points at the plan in the back matter"
    );
    let assessed: Vec<&Value> = a["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["group"] != true && !r["rules"].as_array().unwrap().is_empty())
        .collect();
    let ofs = oscal["findings"].as_array().unwrap();
    assert_eq!(
        ofs.len(),
        assessed.len(),
        "one OSCAL finding per assessed requirement"
    );
    for (of, req) in ofs.iter().zip(&assessed) {
        let state = if req["status"] == "conforming" {
            "satisfied"
        } else {
            "not-satisfied"
        };
        assert_eq!(of["state"], state, "{}", req["id"]);
        let worst = fs
            .iter()
            .filter(|f| {
                f["kind"] == "nonconformity"
                    && f["requirements"].as_array().unwrap().contains(&req["id"])
            })
            .map(|f| match f["severity"].as_str().unwrap() {
                "major" => 3,
                "minor" => 2,
                _ => 1,
            })
            .max();
        let grade = worst.map(|w| ["observation", "minor", "major"][w - 1]);
        assert_eq!(of["grade"].as_str(), grade, "{}", req["id"]);
    }
}

#[test]
fn oscal_loads_in_compliance_trestle() {
    let tmp = tempfile::tempdir().unwrap();
    let text = demo("oscal");
    oscal_checks(
        &read("read_oscal", &write(tmp.path(), "demo.json", &text)),
        &demo_json(),
    );
    let acme_dir = fixture::acme_snapshot(tmp.path());
    let a: Value = serde_json::from_str(&acme("json", &acme_dir)).unwrap();
    let x = acme("oscal", &acme_dir);
    oscal_checks(&read("read_oscal", &write(tmp.path(), "acme.json", &x)), &a);

    // The reader is strict: a random-looking version-1 UUID is refused.
    let doc: Value = serde_json::from_str(&text).unwrap();
    let uuid = doc["assessment-results"]["uuid"].as_str().unwrap();
    let broken = text.replacen(uuid, "6ba7b810-9dad-11d1-80b4-00c04fd430c8", 1);
    let out = run_reader("read_oscal", &write(tmp.path(), "broken.json", &broken));
    assert!(!out.status.success(), "trestle must refuse a v1 UUID");
}

#[test]
fn csv_has_a_row_per_finding_and_no_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let csv = read("read_csv", &write(tmp.path(), "demo.csv", &demo("csv")));
    let a = demo_json();
    assert_eq!(csv["rows"].as_u64().unwrap() as usize, findings(&a).len());
    assert_eq!(csv["widths"], serde_json::json!([14]));
    assert_eq!(csv["formula_cells"], serde_json::json!([]));

    let acme_dir = fixture::acme_snapshot(tmp.path());
    let a: Value = serde_json::from_str(&acme("json", &acme_dir)).unwrap();
    let csv = read(
        "read_csv",
        &write(tmp.path(), "acme.csv", &acme("csv", &acme_dir)),
    );
    assert_eq!(csv["rows"].as_u64().unwrap() as usize, findings(&a).len());
    let ids: Vec<&Value> = findings(&a).iter().map(|f| &f["id"]).collect();
    assert_eq!(
        csv["ids"].as_array().unwrap().iter().collect::<Vec<_>>(),
        ids
    );
    assert_eq!(
        csv["formula_cells"],
        serde_json::json!([]),
        "no cell may start a formula"
    );
    let neutralised = csv["neutralised_cells"].as_array().unwrap();
    assert!(
        neutralised.contains(&Value::from(
            "'=HYPERLINK(\"http://evil.example\",\"click\")"
        )),
        "{neutralised:?}"
    );
    let evil = findings(&a)
        .iter()
        .find(|f| f["entity"]["id"] == "=cmd")
        .expect("the formula-named identity has a finding");
    let row = csv["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == evil["id"])
        .unwrap();
    assert_eq!(row["entity_id"], "'=cmd");
    assert_eq!(row["record_sha256"], evil["evidence"]["record_sha256"]);
}

fn html_checks(html: &Value, a: &Value) {
    assert_eq!(
        html["findings_count"],
        a["summary"]["findings"]["total"].to_string(),
        "#findings-count shows the JSON's total"
    );
    assert_eq!(html["png"], true, "a screenshot was rendered");
    assert!(html["screenshot_bytes"].as_u64().unwrap() > 10_000);
    assert_eq!(
        html["external"],
        serde_json::json!([]),
        "no network resource"
    );
    assert_eq!(html["scripts"], 0);
}

#[test]
fn html_renders_in_headless_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let html = read(
        "render_html",
        &write(tmp.path(), "demo.html", &demo("html")),
    );
    html_checks(&html, &demo_json());
    let acme_dir = fixture::acme_snapshot(tmp.path());
    let a: Value = serde_json::from_str(&acme("json", &acme_dir)).unwrap();
    let page = acme("html", &acme_dir);
    assert!(!page.contains("<b>=HYPERLINK") && page.contains("=HYPERLINK(&quot;"));
    html_checks(
        &read("render_html", &write(tmp.path(), "acme.html", &page)),
        &a,
    );
}
