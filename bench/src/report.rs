//! The benchmark's report, as Markdown on stdout.

use std::fmt::Write;
use std::path::PathBuf;

use conform_engine::pack::PolicyPack;
use serde::Serialize;

use crate::baseline;
use crate::engine_run::{EngineRun, STAGES};
use crate::measure::Measurement;

#[derive(Debug, Serialize)]
pub struct SizeResult {
    pub label: String,
    pub dir: PathBuf,
    pub generated_secs: Option<f64>,
    pub runs: Vec<Measurement>,
}

pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub memory: String,
    pub kernel: String,
}

impl Machine {
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split(':').nth(1))
            .map_or("unknown".to_string(), |s| s.trim().to_string());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory = meminfo
            .lines()
            .find(|l| l.starts_with("MemTotal"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or("unknown".to_string(), |kb| {
                format!("{:.1} GiB", kb / 1024.0 / 1024.0)
            });
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_or("unknown".to_string(), |s| s.trim().to_string());
        Self {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu,
            memory,
            kernel,
        }
    }
}

fn per(secs: f64, threads: usize, n: usize) -> f64 {
    secs * 1e6 * threads as f64 / n.max(1) as f64
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn stage_table(out: &mut String, runs: &[Measurement]) {
    let mut head = String::from("| stage |");
    let mut rule = String::from("|---|");
    for m in runs {
        let t = m.threads;
        let _ = write!(head, " {t}T s | {t}T µs/entity/core | {t}T peak B/entity |");
        rule.push_str("---:|---:|---:|");
    }
    if runs.len() > 1 {
        head.push_str(" speed-up |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    let row = |out: &mut String, name: &str, f: &dyn Fn(&EngineRun) -> (f64, u64)| {
        let mut line = format!("| {name} |");
        for m in runs {
            let (secs, peak) = f(&m.full);
            let n = m.full.entities;
            let _ = write!(
                line,
                " {secs:.3} | {:.2} | {} |",
                per(secs, m.threads, n),
                thousands(peak / n.max(1) as u64)
            );
        }
        if let (Some(a), Some(b)) = (runs.first(), runs.last()) {
            if runs.len() > 1 {
                let (sa, sb) = (f(&a.full).0, f(&b.full).0);
                let _ = write!(line, " {:.2}× |", sa / sb.max(1e-9));
            }
        }
        let _ = writeln!(out, "{line}");
    };
    for (i, name) in STAGES.iter().enumerate() {
        row(out, name, &|r: &EngineRun| {
            r.stages.get(i).map_or((0.0, 0), |s| (s.secs, s.peak_bytes))
        });
    }
    row(out, "**end to end**", &|r: &EngineRun| {
        (r.total_secs(), r.peak_bytes())
    });
    row(
        out,
        "**end to end without the free (as `conform assess` runs)**",
        &|r: &EngineRun| (r.total_secs_without_free(), r.peak_bytes()),
    );
}

fn reference_table(out: &mut String, runs: &[Measurement]) {
    let mut head = String::from("| |");
    let mut rule = String::from("|---|");
    for m in runs {
        let _ = write!(head, " {}T s | {}T µs/entity/core |", m.threads, m.threads);
        rule.push_str("---:|---:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    let row = |out: &mut String, name: &str, f: &dyn Fn(&Measurement) -> f64| {
        let mut line = format!("| {name} |");
        for m in runs {
            let s = f(m);
            let _ = write!(
                line,
                " {s:.3} | {:.2} |",
                per(s, m.threads, m.full.entities)
            );
        }
        let _ = writeln!(out, "{line}");
    };
    row(out, "engine, 5 rules, end to end", &|m| {
        m.subset.total_secs()
    });
    for (i, name) in STAGES.iter().enumerate() {
        row(out, &format!("  {name}"), &|m| {
            m.subset.stages.get(i).map_or(0.0, |s| s.secs)
        });
    }
    row(out, "reference, end to end", &|m| m.baseline.total_secs());
    row(out, "  read + verify SHA-256", &|m| {
        m.baseline.read_verify_secs
    });
    row(out, "  parse (serde, borrowed structs)", &|m| {
        m.baseline.parse_secs
    });
    row(out, "  rules + findings to a sink", &|m| {
        m.baseline.rules_secs
    });
    row(out, "  free memory", &|m| m.baseline.free_secs);
    let mut line = String::from("| **ratio engine / reference, end to end** |");
    for m in runs {
        let _ = write!(
            line,
            " {:.1}× | |",
            m.subset.total_secs() / m.baseline.total_secs().max(1e-9)
        );
    }
    let _ = writeln!(out, "{line}");
    let mut line = String::from("| ratio engine rules pass / reference rules |");
    for m in runs {
        let rules = m.subset.stages.get(4).map_or(0.0, |s| s.secs);
        let _ = write!(line, " {:.1}× | |", rules / m.baseline.rules_secs.max(1e-9));
    }
    let _ = writeln!(out, "{line}");
    let mut line = String::from("| ratio engine full pack / reference, end to end |");
    for m in runs {
        let _ = write!(
            line,
            " {:.1}× | |",
            m.full.total_secs() / m.baseline.total_secs().max(1e-9)
        );
    }
    let _ = writeln!(out, "{line}");
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "NOT met"
    }
}

pub fn render(
    m: &Machine,
    pack: &PolicyPack,
    pack_secs: f64,
    settings: &str,
    sizes: &[SizeResult],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# conform-bench\n");
    let _ = writeln!(
        out,
        "Machine: {} cores, {}, {} RAM, Linux {}.  ",
        m.cores, m.cpu, m.memory, m.kernel
    );
    let _ = writeln!(
        out,
        "Pack: {} {} — {} rules, {} facts (loaded and validated in {:.3} s, once; not counted below).  ",
        pack.name,
        pack.version,
        pack.rules.len(),
        pack.facts.len(),
        pack_secs
    );
    let _ = writeln!(out, "Reference rules: {}.  ", baseline::RULES.join(", "));
    let _ = writeln!(out, "{settings}\n");
    for s in sizes {
        let Some(first) = s.runs.first() else {
            continue;
        };
        let _ = writeln!(
            out,
            "## {}: {} entities\n",
            s.label,
            thousands(first.full.entities as u64)
        );
        let _ = writeln!(
            out,
            "Snapshot `{}`{}; {} findings ({} bytes of JSON), {} unreadable records (planted).\n",
            s.dir.display(),
            s.generated_secs
                .map_or(String::new(), |g| format!(" (generated in {g:.1} s)")),
            thousands(first.full.findings as u64),
            thousands(first.full.json_bytes),
            first.full.unreadable
        );
        stage_table(&mut out, &s.runs);
        let _ = writeln!(
            out,
            "\nResident memory before the first stage: {:.1} MiB. Peaks are {}.\n",
            first.full.rss_before as f64 / 1048576.0,
            if first.full.peak_reset {
                "per stage (VmHWM reset between stages)"
            } else {
                "cumulative (VmHWM could not be reset)"
            }
        );
        reference_table(&mut out, &s.runs);
        for r in &s.runs {
            let [a, b, c] = r.compared;
            if r.mismatches.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}T: same (rule, entity, kind) findings for the 5 rules: engine full pack {a}, engine 5 rules {b}, reference {c}: **identical**.",
                    r.threads
                );
            } else {
                let _ = writeln!(
                    out,
                    "\n{}T: **MISMATCH** (engine full pack {a}, engine 5 rules {b}, reference {c}):",
                    r.threads
                );
                for d in &r.mismatches {
                    let _ = writeln!(out, "- {d}");
                }
            }
        }
        let _ = writeln!(out);
    }
    growth(&mut out, sizes);
    targets(&mut out, sizes);
    out
}

fn growth(out: &mut String, sizes: &[SizeResult]) {
    let _ = writeln!(out, "## Growth\n");
    let _ = writeln!(
        out,
        "| size | entities | threads | end to end s | µs/entity/core | peak B/entity | engine/reference (5 rules) |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for s in sizes {
        for r in &s.runs {
            let n = r.full.entities;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {:.3} | {:.2} | {} | {:.1}× |",
                s.label,
                thousands(n as u64),
                r.threads,
                r.full.total_secs(),
                per(r.full.total_secs(), r.threads, n),
                thousands(r.full.peak_bytes() / n.max(1) as u64),
                r.subset.total_secs() / r.baseline.total_secs().max(1e-9)
            );
        }
    }
    let _ = writeln!(out);
}

fn targets(out: &mut String, sizes: &[SizeResult]) {
    let Some(s) = sizes.last() else {
        return;
    };
    let (Some(one), Some(all)) = (
        s.runs.iter().find(|r| r.threads == 1),
        s.runs.iter().max_by_key(|r| r.threads),
    ) else {
        return;
    };
    let n = all.full.entities;
    let e2e = per(all.full.total_secs(), all.threads, n);
    let ratio = all.subset.total_secs() / all.baseline.total_secs().max(1e-9);
    let bytes = all.full.peak_bytes().max(one.full.peak_bytes()) as f64 / n.max(1) as f64;
    let speedup = one.full.total_secs() / all.full.total_secs().max(1e-9);
    let e2e_cli = per(all.full.total_secs_without_free(), all.threads, n);
    let speedup_cli =
        one.full.total_secs_without_free() / all.full.total_secs_without_free().max(1e-9);
    let _ = writeln!(
        out,
        "## Targets ({}, full pack; {} threads unless said)\n",
        s.label, all.threads
    );
    let _ = writeln!(
        out,
        "| target | measured | |\n|---|---:|---|\n| end to end ≤ 3 µs per entity per core | {e2e:.2} | {} |\n| — without the free `conform assess` skips | {e2e_cli:.2} | {} |\n| ≤ 8× the hand-written reference (5 rules, end to end) | {ratio:.1}× | {} |\n| peak memory ≤ 2 KiB per entity | {bytes:.0} B | {} |\n| {} threads ≥ 1.8× one thread | {speedup:.2}× | {} |\n| — without the free | {speedup_cli:.2}× | {} |",
        verdict(e2e <= 3.0),
        verdict(e2e_cli <= 3.0),
        verdict(ratio <= 8.0),
        verdict(bytes <= 2048.0),
        all.threads,
        verdict(speedup >= 1.8),
        verdict(speedup_cli >= 1.8),
    );
}
