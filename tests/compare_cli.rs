//! The `compare` example's command line, run as a user would: `--quick --workload yield
//! --json` gives a JSON array with a sound cell for every backend, `--list` names every
//! workload, and a bad flag exits with status 2 and the usage. Each run has a deadline: a
//! hang is killed and fails the test.
//!
//! The binary is `target/<profile>/examples/compare`, next to this test's `deps` folder;
//! `cargo test` builds it, and the test runs `cargo build --example compare` first (a no-op
//! when it is fresh) so that `cargo test --test compare_cli` alone works too.
//!
//! This file also compiles the example's statistics (`examples/compare/stats.rs`), so their
//! unit tests (t quantiles, confidence intervals, outliers, bimodality) run here.

#[allow(dead_code)]
#[path = "../examples/compare/stats.rs"]
mod stats;

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long one run of the binary may take.
const DEADLINE: Duration = Duration::from_secs(120);
/// How long building it may take.
const BUILD_DEADLINE: Duration = Duration::from_secs(600);
/// The backends every run must report (python only with `--python`).
const BACKENDS: [&str; 4] = ["coop1", "coop", "preemptive", "tokio"];
/// The suite's workloads, as `--list` must name them.
const WORKLOADS: [&str; 10] = [
    "spawn_join",
    "yield",
    "pingpong",
    "sleepers",
    "queue",
    "echo",
    "web",
    "integrate",
    "primes",
    "mutex",
];

/// Runs `cmd` to its end or `deadline`, whichever comes first; a run past the deadline is
/// killed and fails the test.
fn run_with_deadline(mut cmd: Command, deadline: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    // Drain both pipes on threads, so a chatty child cannot block on a full pipe.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {} s: killed",
                deadline.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// The compare binary, built if needed.
fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("the test's own path");
        let profile_dir = exe
            .parent() // deps
            .and_then(|deps| deps.parent()) // target/<profile>
            .expect("the test runs from target/<profile>/deps")
            .to_owned();
        let mut build =
            Command::new(std::env::var("CARGO").unwrap_or_else(|_| env!("CARGO").into()));
        build
            .args(["build", "--example", "compare", "--quiet"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if profile_dir.file_name().is_some_and(|p| p == "release") {
            build.arg("--release");
        }
        let out = run_with_deadline(build, BUILD_DEADLINE);
        assert!(
            out.status.success(),
            "cargo build --example compare failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bin = profile_dir
            .join("examples")
            .join(format!("compare{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} is missing after the build", bin.display());
        bin
    })
}

/// Runs the binary with `args` under the deadline.
fn compare(args: &[&str]) -> Output {
    let mut cmd = Command::new(binary());
    cmd.args(args);
    run_with_deadline(cmd, DEADLINE)
}

#[test]
fn quick_yield_json_has_a_sound_cell_per_backend() {
    let out = compare(&["--quick", "--workload", "yield", "--json", "--no-charts"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {}:\n{stderr}", out.status);
    let cells: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    let cells = cells.as_array().expect("a JSON array");
    for backend in BACKENDS {
        let cell = cells
            .iter()
            .find(|c| c["backend"] == backend)
            .unwrap_or_else(|| panic!("no cell for {backend} in {stdout}"));
        assert_eq!(cell["workload"], "yield");
        assert!(cell["lesson"].as_str().is_some_and(|l| !l.is_empty()));
        assert!(
            cell["unit"].as_str().is_some_and(|u| !u.is_empty()),
            "{backend}: no unit"
        );
        assert!(
            cell.get("error").is_none(),
            "{backend} failed: {}",
            cell["error"]
        );
        let samples = cell["samples"].as_array().expect("samples");
        assert!(!samples.is_empty(), "{backend}: no samples");
        let (mean, min, max) = (
            cell["mean"].as_f64().expect("mean"),
            cell["min"].as_f64().expect("min"),
            cell["max"].as_f64().expect("max"),
        );
        assert!(
            min <= mean && mean <= max,
            "{backend}: mean {mean} outside [{min}, {max}]"
        );
        assert!(
            cell["ci95"].as_f64().expect("ci95") >= 0.0,
            "{backend}: negative CI"
        );
        for s in samples {
            let s = s.as_f64().expect("a numeric sample");
            assert!(min <= s && s <= max && s > 0.0, "{backend}: sample {s}");
        }
    }
    // python is optional: present only with --python, and then it may be n/a for yield.
    for cell in cells {
        let backend = cell["backend"].as_str().unwrap_or_default();
        assert!(
            BACKENDS.contains(&backend) || backend == "python",
            "unknown backend {backend}"
        );
    }
}

#[test]
fn list_names_every_workload() {
    let out = compare(&["--list"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for w in WORKLOADS {
        assert!(text.contains(w), "--list does not name {w}:\n{text}");
    }
    for lesson in ["cost of waiting", "CPU parallelism", "contention"] {
        assert!(
            text.contains(lesson),
            "--list does not name the lesson {lesson}"
        );
    }
}

#[test]
fn a_bad_flag_exits_2_with_the_usage() {
    let out = compare(&["--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("Usage:"), "no usage in:\n{text}");

    let out = compare(&["--workload", "no_such_workload"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
}
