//! `conform-bench`: measures conform's engine stage by stage over synthetic organisations of
//! increasing size, with one thread and with all cores, against a hand-written reference of
//! five of the pack's rules. See `BENCHMARKS.md`.
//!
//! Each (size, thread count) is measured in a child process (`conform-bench measure`) so that
//! its peak resident memory is its own. Nothing here is a test: no figure is asserted.

mod baseline;
mod engine_run;
mod gate;
mod measure;
mod mem;
mod report;
mod scaling;

/// The same allocator as the `conform` binary, so that the figures are the product's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::time::Instant;

use clap::{Parser, Subcommand};
use conform_engine::evaluate::evaluator::EvaluatorKind;
use conform_engine::pack::{ParamValue, PolicyPack};

#[derive(Parser)]
#[command(
    name = "conform-bench",
    about = "Benchmarks conform's engine over synthetic organisations"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Sizes in entities, comma-separated (`k` and `M` suffixes allowed).
    #[arg(long, default_value = "10k,100k")]
    entities: String,
    /// Seed of the synthetic organisations.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Thread counts, comma-separated; `all` is the number of cores.
    #[arg(long, default_value = "1,all")]
    threads: String,
    /// Where the generated organisations are kept (and reused).
    #[arg(long, default_value = "/tmp/conform-bench")]
    dir: PathBuf,
    /// The policy pack.
    #[arg(long)]
    pack: Option<PathBuf>,
    /// Regenerate the organisations even when they exist.
    #[arg(long)]
    regenerate: bool,
    /// Also write every measurement as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Measure each configuration this many times and keep the fastest run.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
    /// The evaluator the engine uses.
    #[arg(long, value_enum, default_value_t = Evaluator::Compiled)]
    evaluator: Evaluator,
    /// Skip the rule-scaling experiment on the largest organisation.
    #[arg(long)]
    no_scaling: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Evaluator {
    /// The pack's policies compiled from their text (the default).
    Compiled,
    /// `cedar_policy::Authorizer` over Cedar entities.
    Cedar,
}

impl Evaluator {
    fn kind(self) -> EvaluatorKind {
        match self {
            Evaluator::Compiled => EvaluatorKind::Compiled,
            Evaluator::Cedar => EvaluatorKind::Cedar,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Measures one snapshot with one thread count in this process; prints JSON.
    Measure {
        #[arg(long)]
        snapshot: PathBuf,
        #[arg(long)]
        threads: usize,
        #[arg(long)]
        pack: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Evaluator::Compiled)]
        evaluator: Evaluator,
    },
    /// Times the compiled evaluator alone for growing sets of one type's rules, and for two
    /// types apart and together (one thread); prints Markdown.
    Scaling {
        #[arg(long)]
        snapshot: PathBuf,
        #[arg(long)]
        pack: Option<PathBuf>,
        /// Also time each Identity rule alone.
        #[arg(long)]
        per_rule: bool,
    },
    /// Times the deployment gate through the snapshot index against the gate on the whole
    /// loaded snapshot, on each size of `--entities` (given before `gate`); prints Markdown.
    Gate {
        /// Runs of each gate per size.
        #[arg(long, default_value_t = 5)]
        repeat: usize,
    },
    /// Assesses one snapshot with Cedar's authorizer and with the compiled evaluator and
    /// checks that the JSON outputs are byte for byte identical; prints both times.
    Compare {
        #[arg(long)]
        snapshot: PathBuf,
        #[arg(long)]
        pack: Option<PathBuf>,
    },
}

fn pack_dir(arg: Option<&Path>) -> PathBuf {
    if let Some(p) = arg {
        return p.to_path_buf();
    }
    let here = PathBuf::from("policies/iso-ims");
    if here.join("pack.toml").is_file() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/iso-ims")
    }
}

fn load_pack(dir: &Path) -> Result<(PolicyPack, BTreeMap<String, ParamValue>), String> {
    let files = conform_engine::fs::load_pack(dir).map_err(|e| e.to_string())?;
    let pack = PolicyPack::build(&files).map_err(|e| format!("invalid pack: {e}"))?;
    let params = conform_engine::pack::params::resolve(&pack.parameters, &BTreeMap::new())
        .map_err(|e| e.join("; "))?;
    Ok((pack, params))
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('M' | 'm') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n * mult)
        .map_err(|_| format!("`{s}` is not a size (e.g. 10k, 1M)"))
}

fn label(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

fn threads(s: &str) -> Result<Vec<usize>, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut v = Vec::new();
    for t in s.split(',') {
        let n = match t.trim() {
            "all" => cores,
            x => x
                .parse()
                .map_err(|_| format!("`{x}` is not a thread count"))?,
        };
        if n > 0 && !v.contains(&n) {
            v.push(n);
        }
    }
    Ok(v)
}

/// The organisation of about `n` entities, generated unless it is there already (from the
/// same generation of the generator: its name carries [`conform_synth::ORG_GENERATION`]).
fn organisation(cli: &Cli, n: u64) -> Result<(PathBuf, Option<f64>), String> {
    let dir = cli.dir.join(format!(
        "org-{}-seed{}-g{}",
        label(n),
        cli.seed,
        conform_synth::ORG_GENERATION
    ));
    if dir.join("manifest.json").is_file() && !cli.regenerate {
        return Ok((dir, None));
    }
    eprintln!("generating {} entities into {} ...", n, dir.display());
    let started = Instant::now();
    conform_synth::write_org(&dir, n, cli.seed, true).map_err(|e| e.to_string())?;
    Ok((dir, Some(started.elapsed().as_secs_f64())))
}

/// Reads the snapshot's files once so that every measurement starts from a warm page cache
/// (the first one would otherwise also measure the disk).
fn warm(dir: &Path) {
    for sub in ["entities", "records", "index"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            for e in entries.flatten() {
                let _ = std::fs::read(e.path());
            }
        }
    }
}

/// Runs this program again with `args` and returns what it printed; its failure is an error.
fn run_self(args: &[&OsStr]) -> Result<Vec<u8>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Process::new(exe)
        .args(args)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            args.first()
                .map_or(String::new(), |a| a.to_string_lossy().into_owned()),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

fn child(
    snapshot: &Path,
    threads: usize,
    pack: &Path,
    evaluator: Evaluator,
) -> Result<measure::Measurement, String> {
    let evaluator = match evaluator {
        Evaluator::Compiled => "compiled",
        Evaluator::Cedar => "cedar",
    };
    let threads = threads.to_string();
    let out = run_self(&[
        "measure".as_ref(),
        "--evaluator".as_ref(),
        evaluator.as_ref(),
        "--snapshot".as_ref(),
        snapshot.as_os_str(),
        "--threads".as_ref(),
        threads.as_ref(),
        "--pack".as_ref(),
        pack.as_os_str(),
    ])?;
    serde_json::from_slice(&out).map_err(|e| e.to_string())
}

fn run(cli: &Cli) -> Result<(), String> {
    let pack = pack_dir(cli.pack.as_deref());
    let started = Instant::now();
    let (loaded, _) = load_pack(&pack)?;
    let pack_secs = started.elapsed().as_secs_f64();
    let thread_counts = threads(&cli.threads)?;
    let mut results = Vec::new();
    for size in cli.entities.split(',') {
        let n = parse_size(size)?;
        let (dir, generated) = organisation(cli, n)?;
        warm(&dir);
        let mut runs = Vec::new();
        for &t in &thread_counts {
            eprintln!("measuring {} with {t} thread(s) ...", dir.display());
            let mut best: Option<measure::Measurement> = None;
            for _ in 0..cli.repeat.max(1) {
                let m = child(&dir, t, &pack, cli.evaluator)?;
                if best
                    .as_ref()
                    .is_none_or(|b| m.full.total_secs() < b.full.total_secs())
                {
                    best = Some(m);
                }
            }
            runs.extend(best);
        }
        results.push(report::SizeResult {
            label: label(n),
            dir,
            generated_secs: generated,
            runs,
        });
    }
    let machine = report::Machine::detect();
    let settings = format!(
        "Evaluator: {:?}; each configuration measured {} time(s) in its own process, fastest kept; page cache warm.",
        cli.evaluator,
        cli.repeat.max(1)
    );
    let mut text = report::render(&machine, &loaded, pack_secs, &settings, &results);
    if let (false, Some(last)) = (cli.no_scaling, results.last()) {
        eprintln!("rule scaling on {} ...", last.dir.display());
        let out = run_self(&[
            "scaling".as_ref(),
            "--snapshot".as_ref(),
            last.dir.as_os_str(),
            "--pack".as_ref(),
            pack.as_os_str(),
        ])?;
        text.push_str(&format!(
            "\n## Rule scaling ({}, one thread, compiled evaluator alone)\n\n{}",
            last.label,
            String::from_utf8_lossy(&out)
        ));
    }
    println!("{text}");
    if let Some(path) = &cli.json {
        let json = serde_json::to_string_pretty(&results).map_err(|e| e.to_string())?;
        std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn run_gate(cli: &Cli, repeat: usize) -> Result<(), String> {
    let (pack, params) = load_pack(&pack_dir(cli.pack.as_deref()))?;
    let mut results = Vec::new();
    for size in cli.entities.split(',') {
        let n = parse_size(size)?;
        let (dir, _) = organisation(cli, n)?;
        warm(&dir);
        eprintln!("gating {} ...", dir.display());
        results.push(gate::measure(&label(n), &pack, &params, &dir, repeat)?);
    }
    println!("{}", gate::render(&results, repeat));
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Command::Measure {
            snapshot,
            threads,
            pack,
            evaluator,
        }) => load_pack(&pack_dir(pack.as_deref())).and_then(|(p, params)| {
            let m = measure::measure(&p, &params, snapshot, *threads, evaluator.kind())?;
            let json = serde_json::to_string(&m).map_err(|e| e.to_string())?;
            println!("{json}");
            if m.mismatches.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "the engine and the reference disagree on the five rules:\n{}",
                    m.mismatches.join("\n")
                ))
            }
        }),
        Some(Command::Compare { snapshot, pack }) => load_pack(&pack_dir(pack.as_deref()))
            .and_then(|(p, params)| engine_run::compare(&p, &params, snapshot)),
        Some(Command::Scaling {
            snapshot,
            pack,
            per_rule,
        }) => load_pack(&pack_dir(pack.as_deref())).and_then(|(p, params)| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .map_err(|e| e.to_string())?;
            let text = pool.install(|| scaling::run(&p, &params, snapshot, *per_rule))?;
            println!("{text}");
            Ok(())
        }),
        Some(Command::Gate { repeat }) => run_gate(&cli, *repeat),
        None => run(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
