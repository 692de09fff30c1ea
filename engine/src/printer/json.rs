//! The assessment as JSON (`docs/findings.md`), pretty-printed, with a final newline.
//!
//! The findings, most of the bytes, are rendered on all cores (when there are several): chunks of them are each
//! pretty-printed on their own and indented to the depth the array has in the document, then
//! written in order between the rest of the document's halves. The bytes are exactly those of
//! `serde_json::to_writer_pretty` on the whole assessment (the tests compare them): a JSON
//! string holds no raw newline, so indenting each line of a standalone value by the array's
//! depth is what the pretty printer does at that depth.

use rayon::prelude::*;

use super::Printer;
use crate::assessment::Assessment;
use crate::finding::Finding;

pub struct JsonPrinter;

/// Fewer findings than this are printed in one piece.
const PARALLEL_MIN: usize = 512;
/// Findings rendered per unit of parallel work.
const CHUNK: usize = 64;
/// Chunks rendered before they are written: bounds the memory the rendering holds.
const WINDOW: usize = 64;

/// The findings array's key as the pretty printer writes it, empty, at the top level: a key
/// at the top level is indented by two spaces, and no string holds a raw newline, so these
/// bytes occur once.
const EMPTY_FINDINGS: &[u8] = b"\n  \"findings\": []";
/// The indentation of the array's elements.
const ELEMENT_INDENT: &[u8] = b"\n    ";

impl Printer for JsonPrinter {
    fn print(&self, assessment: &Assessment, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        // on one thread, rendering apart and indenting afterwards would only cost a copy
        let parallel_min = if rayon::current_num_threads() > 1 {
            PARALLEL_MIN
        } else {
            usize::MAX
        };
        print_json(assessment, out, parallel_min, CHUNK)
    }
}

fn print_json(
    assessment: &Assessment,
    out: &mut dyn std::io::Write,
    parallel_min: usize,
    chunk: usize,
) -> std::io::Result<()> {
    let findings = &assessment.findings;
    if findings.len() < parallel_min.max(1) {
        serde_json::to_writer_pretty(&mut *out, assessment)?;
        return writeln!(out);
    }
    let shell = serde_json::to_vec_pretty(&without_findings(assessment))?;
    let Some(at) = shell
        .windows(EMPTY_FINDINGS.len())
        .position(|w| w == EMPTY_FINDINGS)
    else {
        serde_json::to_writer_pretty(&mut *out, assessment)?;
        return writeln!(out);
    };
    out.write_all(&shell[..at + EMPTY_FINDINGS.len() - 1])?;
    let chunk = chunk.max(1);
    // one buffer per chunk of a window, reused by the next window
    let mut buffers: Vec<(Vec<u8>, Vec<u8>)> = vec![Default::default(); WINDOW];
    for (w, window) in findings.chunks(chunk * WINDOW).enumerate() {
        buffers
            .par_iter_mut()
            .zip(window.par_chunks(chunk))
            .enumerate()
            .try_for_each(|(c, ((out, value), part))| render(part, w == 0 && c == 0, out, value))?;
        for (bytes, _) in buffers.iter().take(window.len().div_ceil(chunk)) {
            out.write_all(bytes)?;
        }
    }
    out.write_all(b"\n  ]")?;
    out.write_all(&shell[at + EMPTY_FINDINGS.len()..])?;
    writeln!(out)
}

/// `findings` as array elements at the findings' depth, each after its separator (none before
/// the document's first), into `out`; `value` is scratch space.
fn render(
    findings: &[Finding],
    first: bool,
    out: &mut Vec<u8>,
    value: &mut Vec<u8>,
) -> std::io::Result<()> {
    out.clear();
    for (i, f) in findings.iter().enumerate() {
        if i > 0 || !first {
            out.push(b',');
        }
        out.extend_from_slice(ELEMENT_INDENT);
        value.clear();
        serde_json::to_writer_pretty(&mut *value, f)?;
        for (j, line) in value.split(|&b| b == b'\n').enumerate() {
            if j > 0 {
                out.extend_from_slice(ELEMENT_INDENT);
            }
            out.extend_from_slice(line);
        }
    }
    Ok(())
}

/// The assessment with no findings: every field named, so that a field added to
/// [`Assessment`] cannot be left out here.
fn without_findings(a: &Assessment) -> Assessment {
    let Assessment {
        format,
        assessed_at,
        organization,
        snapshot,
        pack,
        parameters,
        summary,
        findings: _,
        rules,
        requirements,
        facts,
        evidence,
        sources,
        unreadable,
    } = a;
    Assessment {
        format,
        assessed_at: assessed_at.clone(),
        organization: organization.clone(),
        snapshot: snapshot.clone(),
        pack: pack.clone(),
        parameters: parameters.clone(),
        summary: summary.clone(),
        findings: Vec::new(),
        rules: rules.clone(),
        requirements: requirements.clone(),
        facts: facts.clone(),
        evidence: evidence.clone(),
        sources: sources.clone(),
        unreadable: unreadable.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use super::*;

    fn demo() -> Assessment {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let pack = crate::pack::PolicyPack::build(
            &crate::fs::load_pack(&root.join("policies/iso-ims")).unwrap(),
        )
        .unwrap();
        let snapshot = crate::fs::load_snapshot(&root.join("fixtures/demo/snapshot")).unwrap();
        let params = crate::pack::params::resolve(&pack.parameters, &BTreeMap::new()).unwrap();
        let at = crate::time::parse_rfc3339(&snapshot.manifest.created_at).unwrap();
        crate::assessment::assess(&pack, &snapshot, at, &params).unwrap()
    }

    fn whole(a: &Assessment) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(a).unwrap();
        out.push(b'\n');
        out
    }

    #[test]
    fn the_findings_rendered_in_chunks_are_the_pretty_printers_bytes() {
        let a = demo();
        assert!(a.findings.len() > 10, "{} findings", a.findings.len());
        let expected = whole(&a);
        for chunk in [1, 3, 64] {
            let mut out = Vec::new();
            print_json(&a, &mut out, 0, chunk).unwrap();
            assert!(
                out == expected,
                "chunks of {chunk} differ:\n{}",
                String::from_utf8_lossy(&out)
            );
        }
        let mut out = Vec::new();
        JsonPrinter.print(&a, &mut out).unwrap();
        assert!(out == expected);
    }

    #[test]
    fn an_assessment_without_findings_is_printed_whole() {
        let mut a = demo();
        a.findings.clear();
        let mut out = Vec::new();
        print_json(&a, &mut out, 0, 4).unwrap();
        assert!(out == whole(&a));
    }
}
