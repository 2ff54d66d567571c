//! The Python column (`--python`): the lecture's own programs, with threads, run by `python3`.
//! They live in `examples/python/`; this binary carries their text (`include_str!`) and writes
//! them to `target/spindle-compare/python/` before running them, so the column needs nothing
//! but a `python3` on the PATH.
//!
//! A cell is one process: `python3 -u SCRIPT --json --warmup W --samples S ARGS...`. The
//! script does its warm-up runs, then prints one JSON line per sample,
//! `{"seconds": .., "ops": .., "latencies_s": [..]}`, timed with `time.perf_counter()` around
//! the workload only (not the interpreter's start). Each line must come within the time
//! limit, or the process is killed and the cell fails.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::runner::{collect, CellRun, Msg, Plan};
use crate::workloads::{latency_histogram, CellError, Measurement};

/// What a script is run with.
#[derive(Debug)]
pub struct PyArgs {
    /// Its arguments after the harness's own.
    pub args: Vec<String>,
    /// The operations per run, when the Rust side counts them (the script's own otherwise).
    pub ops: Option<u64>,
}

/// One of the lecture's Python programs.
#[derive(Clone, Copy, Debug)]
pub struct Script {
    /// Its file name in `examples/python/`.
    pub file: &'static str,
    /// The arguments it gets.
    pub args: fn() -> Result<PyArgs, CellError>,
}

/// The harness the scripts share, and the scripts, by file name.
const FILES: [(&str, &str); 6] = [
    ("bench.py", include_str!("../python/bench.py")),
    (
        "integrate_threads.py",
        include_str!("../python/integrate_threads.py"),
    ),
    (
        "prime_factors_threads.py",
        include_str!("../python/prime_factors_threads.py"),
    ),
    (
        "web_requests_threads.py",
        include_str!("../python/web_requests_threads.py"),
    ),
    (
        "queue_producer_consumer.py",
        include_str!("../python/queue_producer_consumer.py"),
    ),
    ("lock_counter.py", include_str!("../python/lock_counter.py")),
];

fn plain(args: &[&str]) -> Result<PyArgs, CellError> {
    Ok(PyArgs {
        args: args.iter().map(|s| (*s).to_owned()).collect(),
        ops: None,
    })
}

/// The lecture's threaded integration: 10⁶ points (not 2·10⁷: ns per point compares them).
pub const INTEGRATE: Script = Script {
    file: "integrate_threads.py",
    args: || plain(&["0", "10", "1000000", "8"]),
};

/// Prime factors by trial division, a thread per number, on 16 numbers near 10¹⁰.
pub const PRIMES: Script = Script {
    file: "prime_factors_threads.py",
    args: || {
        let ns = crate::cpu::numbers(10_000_000_000);
        Ok(PyArgs {
            ops: Some(crate::cpu::divisions(&ns)),
            args: ns.iter().map(u64::to_string).collect(),
        })
    },
};

/// 100 threads, a request each, to the same web server as the Rust clients.
pub const WEB: Script = Script {
    file: "web_requests_threads.py",
    args: || {
        let addr = crate::net::web_server()?;
        let url = format!("http://{addr}/slow?ms={}", crate::net::SLOW_MS);
        Ok(PyArgs {
            args: vec![url, "--requests".into(), crate::net::REQUESTS.to_string()],
            ops: None,
        })
    },
};

/// 4 producer and 4 consumer threads, a `queue.Queue(maxsize=64)`, 20,000 items.
pub const QUEUE: Script = Script {
    file: "queue_producer_consumer.py",
    args: || {
        plain(&[
            "--items",
            "20000",
            "--producers",
            "4",
            "--consumers",
            "4",
            "--maxsize",
            "64",
        ])
    },
};

/// 100 threads add 1 to a counter 200 times each under a `threading.Lock`.
pub const LOCK: Script = Script {
    file: "lock_counter.py",
    args: || {
        let (t, e) = (crate::contention::TASKS, crate::contention::EACH);
        Ok(PyArgs {
            args: vec![
                "--threads".into(),
                t.to_string(),
                "--each".into(),
                e.to_string(),
            ],
            ops: None,
        })
    },
};

/// The `python3` to run, if it runs.
pub fn find() -> Result<PathBuf, String> {
    let python = PathBuf::from("python3");
    match Command::new(&python).arg("--version").output() {
        Ok(out) if out.status.success() => Ok(python),
        Ok(out) => Err(format!("`python3 --version` exited with {}", out.status)),
        Err(e) => Err(format!("python3 not found ({e})")),
    }
}

/// Writes the scripts to `dir`.
pub fn install(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, text) in FILES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Parses one JSON line of a script.
fn parse_line(line: &str, ops: Option<u64>) -> Result<Measurement, CellError> {
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| CellError::Failed(format!("python printed {line:?}: {e}")))?;
    let seconds = v["seconds"]
        .as_f64()
        .ok_or_else(|| CellError::Failed(format!("no \"seconds\" in {line:?}")))?;
    let ops = ops.or_else(|| v["ops"].as_u64()).unwrap_or(1);
    let mut m = Measurement::new(Duration::from_secs_f64(seconds.max(0.0)), ops);
    if let Some(lat) = v["latencies_s"].as_array() {
        let mut h = latency_histogram();
        for s in lat.iter().filter_map(serde_json::Value::as_f64) {
            h.saturating_record((s * 1e9) as u64);
        }
        m = m.latencies(h);
    }
    Ok(m)
}

/// Runs a Python cell: one process for the warm-up and all the samples.
pub fn run_cell(
    python: &Path,
    scripts: &Path,
    script: &Script,
    plan: &Plan,
    progress: &dyn Fn(String),
) -> CellRun {
    let failed = |e: CellError| CellRun {
        result: Err(e),
        timed_out: false,
    };
    let args = match (script.args)() {
        Ok(a) => a,
        Err(e) => return failed(e),
    };
    let mut child = match Command::new(python)
        .arg("-u")
        .arg(scripts.join(script.file))
        .args(["--json", "--warmup", &plan.warmup.min(2).to_string()])
        .args(["--samples", &plan.samples.to_string()])
        .args(&args.args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => return failed(CellError::Failed(format!("cannot run python3: {e}"))),
    };
    let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        let _ = child.kill();
        return failed(CellError::Failed("no pipes to python3".into()));
    };
    let (tx, rx) = mpsc::channel();
    let samples = plan.samples;
    let ops = args.ops;
    let reader = std::thread::spawn(move || {
        let mut sent = 0;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            let msg = match parse_line(&line, ops) {
                Ok(m) => Msg::Sample(m),
                Err(e) => Msg::Error(e),
            };
            sent += 1;
            if tx.send(msg).is_err() {
                return;
            }
        }
        let mut err = String::new();
        let _ = stderr.read_to_string(&mut err);
        let msg = if sent >= samples {
            Msg::Done
        } else {
            let tail: Vec<&str> = err.lines().rev().take(3).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Msg::Error(CellError::Failed(format!(
                "python3 ended after {sent} of {samples} samples: {}",
                tail.join(" / ")
            )))
        };
        let _ = tx.send(msg);
    });
    // The warm-up happens inside the script: allow for it in the first wait.
    let mut wait = plan.clone();
    wait.timeout *= 1 + plan.warmup.min(2) as u32;
    wait.warmup = 0;
    let run = collect(&rx, &wait, progress);
    let _ = child.kill();
    let _ = child.wait();
    if !run.timed_out {
        let _ = reader.join();
    }
    CellRun {
        timed_out: false,
        ..run
    }
}
