//! `compare`: the project's main job. One workload suite, run on every backend side by side in
//! one process, with hyperfine-grade statistics, so that the lecture's lessons can be seen in
//! numbers:
//!
//! * **the cost of waiting** (spawn + join, yield, channel ping-pong, 10,000 sleepers, a Queue
//!   of producers and consumers, TCP echo over 100 connections, 100 requests to the example
//!   web server's `/slow`): what a task, a switch and a wait cost as green threads, OS
//!   threads and tokio tasks, and that waiting overlaps on every backend, GIL or not;
//! * **CPU parallelism** (integrate x², prime factors): one worker (the GIL column) gains
//!   nothing from splitting the work; a worker per core, OS threads and tokio do, and the
//!   table says how much per worker;
//! * **contention** (a shared Mutex counter): free on one worker, a convoy on many.
//!
//! Columns: cooperative with 1 worker (the lecture's GIL), cooperative with a worker per core,
//! preemptive (an OS thread per task), tokio (multi-thread), and with `--python` the lecture's
//! own Python programs (`examples/python/`). Every cell: warm-up, then ≥ 10 samples (3 with
//! `--quick`), mean ± 95% CI (Student's t), min, max, the ratio to the fastest, and warnings
//! for noisy, outlying or bimodal samples (`stats.rs`). `--scale` sweeps spawn + join,
//! sleepers and echo from 10 to 100,000 tasks (1,000,000 with `--full`) instead.
//!
//! Output: a table on stdout, a progress bar on stderr (terminals only), `--json`,
//! `--markdown FILE`, and SVG charts in `target/spindle-compare/`.
//!
//! Run with `cargo run --release --example compare` (add `-- --help` for the options, e.g.
//! `-- --quick`, `-- --workload web --python`, `-- --scale`).

mod backends;
mod charts;
mod contention;
mod cpu;
mod net;
mod python;
mod report;
mod runner;
mod stats;
mod waiting;
mod workloads;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::builder::PossibleValuesParser;
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};

use backends::{Engine, Kind};
use report::{Row, State};
use runner::{CellRun, Plan};
use workloads::{
    thousands, CellError, Ctx, Lesson, Sweep, Unit, Workload, NAMES, SCALE_FULL_N, SCALE_NS, SUITE,
    SWEEPS,
};

/// The command line.
#[derive(Parser, Debug)]
#[command(
    name = "compare",
    about = "spindle's workload suite on every backend, side by side, with statistics",
    after_help = "Backends: coop1 (cooperative, 1 worker: the GIL), coop (cooperative, a worker \
                  per core), preemptive (OS threads), tokio, python (the lecture's programs, \
                  with --python).\nRun `--list` for the workloads."
)]
struct Cli {
    /// A short run: 3 samples and 1 warm-up per cell (under 30 s on 2 cores).
    #[arg(long)]
    quick: bool,
    /// Run only this workload (repeatable).
    #[arg(long = "workload", value_name = "NAME", value_parser = PossibleValuesParser::new(NAMES))]
    workloads: Vec<String>,
    /// List the workloads with their lessons and units, and exit.
    #[arg(long)]
    list: bool,
    /// The backends (columns), comma-separated [default: coop1,coop,preemptive,tokio].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    backends: Option<Vec<Kind>>,
    /// Add the lecture's Python programs as a column (skipped when python3 is missing).
    #[arg(long)]
    python: bool,
    /// Workers of the multi-worker cooperative and tokio columns [default: the CPUs].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,
    /// Samples per cell [default: 10; 3 with --quick].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    samples: Option<u32>,
    /// Warm-up runs per cell, at most [default: 3; 1 with --quick].
    #[arg(long, value_name = "N")]
    warmup: Option<u32>,
    /// Instead of the suite, sweep spawn_join, sleepers and echo over N = 10 … 100,000 tasks.
    #[arg(long)]
    scale: bool,
    /// With --scale: also N = 1,000,000 (green threads and tokio; needs ~5 GiB).
    #[arg(long, requires = "scale")]
    full: bool,
    /// Print the results as JSON on stdout instead of the table (no progress bar).
    #[arg(long)]
    json: bool,
    /// Also write the results as Markdown tables to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// The time limit of one sample, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
    /// Do not draw the SVG charts.
    #[arg(long)]
    no_charts: bool,
}

/// Where the charts (and the Python scripts) go: `$CARGO_TARGET_DIR/spindle-compare`, or
/// `target/spindle-compare` next to this executable (`target/<profile>/examples/compare`).
fn out_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir).join("spindle-compare");
    }
    let exe = std::env::current_exe().ok();
    let target = exe.as_deref().and_then(|e| {
        let examples = e.parent()?;
        (examples.file_name()? == "examples").then_some(())?;
        Some(examples.parent()?.parent()?.to_owned())
    });
    target
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("spindle-compare")
}

/// Prints the workloads, the sweep and the backends.
fn list() {
    println!("Workloads (--workload NAME, repeatable):\n");
    println!(
        "  {:<11} {:<16} {:<20} what it does",
        "NAME", "LESSON", "UNIT"
    );
    for w in &SUITE {
        let py = if w.python.is_some() { " [python]" } else { "" };
        println!(
            "  {:<11} {:<16} {:<20} {}{py}",
            w.name,
            w.lesson.label(),
            w.unit.label(),
            w.about
        );
    }
    println!(
        "\nScaling sweep (--scale; N = 10, 100, 1,000, 10,000, 100,000; 1,000,000 with --full):\n"
    );
    for s in &SWEEPS {
        println!(
            "  {:<11} {:<16} {:<20} {}",
            s.name, "cost of waiting", "ns per task", s.about
        );
    }
    println!(
        "\nBackends (--backends LIST): {}; [python] marks the workloads with a Python program \
         (--python).",
        Kind::ALL.map(Kind::key).join(", ")
    );
}

/// Prints a note on stderr without breaking the progress bar.
fn note(pb: &ProgressBar, msg: &str) {
    if pb.is_hidden() {
        eprintln!("{msg}");
    } else {
        pb.println(msg);
    }
}

/// One cell to run: a workload (or a sweep's) on a backend.
struct CellSpec {
    name: &'static str,
    title: &'static str,
    lesson: Lesson,
    unit: Unit,
    n: Option<usize>,
    run: workloads::RunFn,
    batch: bool,
    python: Option<python::Script>,
}

/// The run's state: an engine per backend, the progress bar.
struct Session {
    engines: HashMap<Kind, Result<Engine, String>>,
    workers: usize,
    scripts: PathBuf,
    pb: ProgressBar,
}

impl Session {
    /// Shows the progress bar (if it is not hidden) for `cells` cells.
    fn start(&self, cells: u64) {
        self.pb.set_length(cells);
        if !self.pb.is_hidden() {
            self.pb.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:24} {pos}/{len} {wide_msg}",
                )
                .expect("a valid template"),
            );
            self.pb.enable_steady_tick(Duration::from_millis(120));
        }
    }

    /// Runs one cell and makes a row of it; a time-out rebuilds that backend's engine.
    fn cell(&mut self, spec: &CellSpec, kind: Kind, plan: &Plan) -> Row {
        let n_text = spec
            .n
            .map(|n| format!(" N={}", thousands(n as u64)))
            .unwrap_or_default();
        let prefix = format!("{}{n_text} · {}", spec.name, kind.label(self.workers));
        self.pb.set_message(prefix.clone());
        let pb = self.pb.clone();
        let progress = move |s: String| pb.set_message(format!("{prefix} · {s}"));
        let run = match self.engines.get(&kind) {
            None => CellRun {
                result: Err(CellError::Failed("no engine".into())),
                timed_out: false,
            },
            Some(Err(e)) => CellRun {
                result: Err(CellError::Failed(e.clone())),
                timed_out: false,
            },
            Some(Ok(Engine::Python { python, scripts })) => match &spec.python {
                Some(script) => python::run_cell(python, scripts, script, plan, &progress),
                None => CellRun {
                    result: Err(CellError::NotApplicable("no Python program for it".into())),
                    timed_out: false,
                },
            },
            Some(Ok(engine)) => {
                let ctx = Ctx { kind, n: spec.n };
                runner::run_cell(engine, spec.run, ctx, spec.batch, plan, &progress)
            }
        };
        if run.timed_out {
            note(
                &self.pb,
                &format!(
                    "{}: {} timed out; restarting that backend",
                    spec.name,
                    kind.key()
                ),
            );
            let fresh = backends::build(kind, self.workers, &self.scripts);
            self.engines.insert(kind, fresh);
        }
        self.pb.inc(1);
        Row::new(
            spec.name,
            spec.title,
            spec.lesson,
            spec.unit,
            kind,
            spec.n,
            run,
        )
    }
}

/// The load average, for the report's header (Linux).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The suite: every selected workload on every backend.
fn run_suite(
    session: &mut Session,
    kinds: &[Kind],
    selected: &[&Workload],
    plan: &Plan,
) -> Vec<Row> {
    session.start((selected.len() * kinds.len()) as u64);
    let mut rows = Vec::new();
    for w in selected {
        let spec = CellSpec {
            name: w.name,
            title: w.title,
            lesson: w.lesson,
            unit: w.unit,
            n: None,
            run: w.run,
            batch: w.batch,
            python: w.python,
        };
        for &k in kinds {
            rows.push(session.cell(&spec, k, plan));
        }
    }
    rows
}

/// The scaling sweep: each selected sweep at every N on every backend. A backend that fails
/// at some N is not tried at larger ones; OS threads are not tried at a million.
fn run_sweep(
    session: &mut Session,
    kinds: &[Kind],
    sweeps: &[&Sweep],
    ns: &[usize],
    plan: &Plan,
) -> Vec<Row> {
    session.start((sweeps.len() * ns.len() * kinds.len()) as u64);
    let mut rows = Vec::new();
    for sweep in sweeps {
        let mut failed_at: HashMap<Kind, usize> = HashMap::new();
        for &n in ns {
            let spec = CellSpec {
                name: sweep.name,
                title: sweep.title,
                lesson: Lesson::Waiting,
                unit: Unit::NsPer("task"),
                n: Some(n),
                run: sweep.run,
                batch: n < 10_000,
                python: None,
            };
            // Fewer samples and no warm-up where one run takes seconds.
            let plan = Plan {
                warmup: if n >= 100_000 { 0 } else { 1 },
                samples: plan.samples.min(if n >= 100_000 { 3 } else { 5 }),
                ..plan.clone()
            };
            for &k in kinds {
                let skip = match failed_at.get(&k) {
                    Some(f) => Some(format!("skipped: failed at N = {}", thousands(*f as u64))),
                    None if k == Kind::Preemptive && n > 100_000 => {
                        Some("not attempted: a million OS threads".to_owned())
                    }
                    None => None,
                };
                let row = match skip {
                    Some(why) => {
                        session.pb.inc(1);
                        let run = CellRun {
                            result: Err(CellError::Failed(why)),
                            timed_out: false,
                        };
                        Row::new(
                            spec.name,
                            spec.title,
                            spec.lesson,
                            spec.unit,
                            k,
                            spec.n,
                            run,
                        )
                    }
                    None => session.cell(&spec, k, &plan),
                };
                if matches!(row.state, State::Failed(_)) {
                    failed_at.entry(k).or_insert(n);
                }
                rows.push(row);
            }
        }
    }
    rows
}

/// The command line as the report quotes it.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        "cargo run --release --example compare".to_owned()
    } else {
        format!(
            "cargo run --release --example compare -- {}",
            args.join(" ")
        )
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list {
        list();
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    let cores = backends::cores();
    let workers = cli.workers.map_or(cores, usize::from);
    let default_samples = if cli.quick { 3 } else { 10 };
    let samples = cli.samples.map_or(default_samples, |s| s as usize);
    let warmup = cli
        .warmup
        .map_or(if cli.quick { 1 } else { 3 }, |w| w as usize);
    let plan = Plan {
        warmup,
        samples,
        min_sample: Duration::from_millis(if cli.quick { 5 } else { 10 }),
        timeout: Duration::from_secs(cli.timeout),
    };
    let fds = backends::raise_fd_limit();
    runner::install_panic_hook();

    let mut kinds: Vec<Kind> = cli
        .backends
        .clone()
        .unwrap_or_else(|| vec![Kind::Coop1, Kind::Coop, Kind::Preemptive, Kind::Tokio]);
    if cli.python {
        kinds.push(Kind::Python);
    }
    if cli.scale {
        kinds.retain(|&k| k != Kind::Python);
    }
    kinds.sort();
    kinds.dedup();
    let selected = |name: &str| cli.workloads.is_empty() || cli.workloads.iter().any(|w| w == name);
    let suite: Vec<&Workload> = SUITE.iter().filter(|w| selected(w.name)).collect();
    let sweeps: Vec<&Sweep> = SWEEPS.iter().filter(|s| selected(s.name)).collect();
    if cli.scale && sweeps.is_empty() {
        eprintln!("compare: --scale sweeps only spawn_join, sleepers and echo");
        return ExitCode::from(2);
    }

    let pb = if cli.json || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    let dir = out_dir();
    let scripts = dir.join("python");
    let mut engines = HashMap::new();
    for &k in &kinds {
        let engine = backends::build(k, workers, &scripts);
        if let (Kind::Python, Err(e)) = (k, &engine) {
            note(&pb, &format!("note: {e}: the Python column is skipped"));
            continue;
        }
        engines.insert(k, engine);
    }
    kinds.retain(|k| engines.contains_key(k));
    if kinds.is_empty() {
        eprintln!("compare: no backend to run");
        return ExitCode::from(2);
    }
    let mut session = Session {
        engines,
        workers,
        scripts,
        pb,
    };
    let mut rows = if cli.scale {
        let mut ns = SCALE_NS.to_vec();
        if cli.full {
            ns.push(SCALE_FULL_N);
        }
        run_sweep(&mut session, &kinds, &sweeps, &ns, &plan)
    } else {
        run_suite(&mut session, &kinds, &suite, &plan)
    };
    session.pb.finish_and_clear();
    report::finish(&mut rows, workers, cores);

    let intro = format!(
        "`{}`: {cores} CPUs, {workers} workers in the multi-worker columns, {samples} samples \
         per cell after up to {warmup} warm-up runs, load average at the end {}, open-file \
         limit {fds}.",
        command_line(),
        load_average()
    );
    let legend = report::legend(samples, warmup, plan.min_sample);
    let mut status = ExitCode::SUCCESS;
    if cli.json {
        match serde_json::to_string_pretty(&report::json(&rows, workers)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!("compare: cannot write JSON: {e}");
                status = ExitCode::FAILURE;
            }
        }
    } else {
        println!("{intro}\n");
        if cli.scale {
            print!("{}", report::scale_table(&rows, &kinds, workers));
        } else {
            println!("{}", report::table(&rows, &kinds, workers));
        }
        println!("{legend}\n");
    }
    // With --json, paths go to stderr, so that stdout stays one JSON document.
    let say = |s: String| {
        if cli.json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    };
    if let Some(file) = &cli.markdown {
        let md = report::markdown(&rows, &kinds, workers, &intro);
        match std::fs::write(file, format!("{md}\n{legend}\n")) {
            Ok(()) => say(format!("Markdown: {}", file.display())),
            Err(e) => {
                eprintln!("compare: cannot write {}: {e}", file.display());
                status = ExitCode::FAILURE;
            }
        }
    }
    if !cli.no_charts {
        let drawn = std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))
            .and_then(|()| {
                if cli.scale {
                    charts::scaling(&rows, &kinds, workers, &dir)
                } else {
                    charts::ratios(&rows, &kinds, workers, &dir)
                }
            });
        match drawn {
            Ok(path) => say(format!("Chart: {}", path.display())),
            Err(e) => eprintln!("compare: {e}"),
        }
    }
    say(format!("Took {:.1} s.", started.elapsed().as_secs_f64()));
    status
}
