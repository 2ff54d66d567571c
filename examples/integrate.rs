//! The lecture's CPU-bound problem: numerically integrate f(x) = x² over [a, b] with a left
//! Riemann sum of N points, split into chunks that run as tasks.
//!
//! The same chunks run four ways, each timed and compared with the plain function call:
//!
//! * `sequential`: `integrate(a, b, N)` called directly, the baseline;
//! * `cooperative, 1 worker`: one OS thread runs the green threads, and a chunk never yields,
//!   so the chunks run one at a time, as Python threads do under the GIL;
//! * `cooperative, all workers`: one worker per core (`Runtime::cooperative().build()`), so
//!   chunks run in parallel, as the lecture's `multiprocessing` version does;
//! * `preemptive`: every chunk is an OS thread.
//!
//! Chunk `k` sums the indices `[k·N/chunks, (k+1)·N/chunks)` of the same global grid, so every
//! variant adds up the same points; only the order of the additions differs, and each result
//! must agree with the sequential one to a relative 1e-9.
//!
//! Arguments, all optional, as the lecture's argparse version: `a b N chunks` (defaults
//! `0 10 100000000 8`; with `SPINDLE_EXAMPLE_SMALL=1`, for the tests, N defaults to 1000000).
//!
//! Run with `cargo run --release --example integrate [-- a b N chunks]`.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use spindle::{spawn, Runtime};

/// The largest relative difference from the sequential result that counts as agreement.
const TOLERANCE: f64 = 1e-9;

/// The lecture's `f`.
#[inline]
fn f(x: f64) -> f64 {
    x * x
}

/// The sum of `f(a + i·dx)` for `i` in `lo..hi`: one chunk of the left Riemann sum, not yet
/// multiplied by `dx`. Never inlined, so every variant runs the very same machine code.
#[inline(never)]
fn sum_chunk(a: f64, dx: f64, lo: u64, hi: u64) -> f64 {
    let mut s = 0.0;
    for i in lo..hi {
        s += f(a + i as f64 * dx);
    }
    s
}

/// The lecture's `integrate(f, a, b, N)`: one loop over all `n` points.
fn integrate(a: f64, b: f64, n: u64) -> f64 {
    let dx = (b - a) / n as f64;
    sum_chunk(black_box(a), black_box(dx), 0, black_box(n)) * dx
}

/// The index range of chunk `k` of `chunks` over `n` points.
fn chunk_range(k: u64, chunks: u64, n: u64) -> (u64, u64) {
    let bound = |k: u64| (u128::from(k) * u128::from(n) / u128::from(chunks)) as u64;
    (bound(k), bound(k + 1))
}

/// `integrate(a, b, n)` with one task per chunk, on the runtime `rt`; the chunk sums are added
/// up in chunk order once all have been joined.
fn integrate_tasks(rt: &Runtime, a: f64, b: f64, n: u64, chunks: u64) -> Result<f64, String> {
    let dx = (b - a) / n as f64;
    rt.block_on(move || {
        let handles: Vec<_> = (0..chunks)
            .map(|k| {
                let (lo, hi) = chunk_range(k, chunks, n);
                spawn(move || sum_chunk(black_box(a), black_box(dx), lo, black_box(hi)))
            })
            .collect();
        let mut s = 0.0;
        for (k, h) in handles.into_iter().enumerate() {
            s += h.join().map_err(|_| format!("chunk {k} panicked"))?;
        }
        Ok(s * dx)
    })
}

/// The command line: `a b N chunks`, each optional.
struct Args {
    a: f64,
    b: f64,
    n: u64,
    chunks: u64,
}

const USAGE: &str = "usage: integrate [a] [b] [N] [chunks]   (defaults: 0 10 100000000 8)";

/// The default N: the lecture's size, or a small one if `SPINDLE_EXAMPLE_SMALL` is set (and
/// not `0`).
fn default_n() -> u64 {
    if std::env::var_os("SPINDLE_EXAMPLE_SMALL").is_some_and(|v| v != "0") {
        1_000_000
    } else {
        100_000_000
    }
}

/// Parses the command line; on a bad one prints the usage and exits with status 2, as
/// argparse does.
fn parse_args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|s| s == "-h" || s == "--help") {
        println!("{USAGE}");
        std::process::exit(0);
    }
    let fail = |msg: String| -> ! {
        eprintln!("integrate: {msg}\n{USAGE}");
        std::process::exit(2)
    };
    if argv.len() > 4 {
        fail(format!("{} arguments, at most 4", argv.len()));
    }
    let arg = |i: usize| argv.get(i).map(String::as_str);
    let args = Args {
        a: arg(0)
            .map_or(Ok(0.0), str::parse)
            .unwrap_or_else(|e| fail(format!("a: {e}"))),
        b: arg(1)
            .map_or(Ok(10.0), str::parse)
            .unwrap_or_else(|e| fail(format!("b: {e}"))),
        n: arg(2)
            .map_or(Ok(default_n()), str::parse)
            .unwrap_or_else(|e| fail(format!("N: {e}"))),
        chunks: arg(3)
            .map_or(Ok(8), str::parse)
            .unwrap_or_else(|e| fail(format!("chunks: {e}"))),
    };
    if args.n == 0 || args.chunks == 0 {
        fail("N and chunks must be at least 1".into());
    }
    args
}

/// One line of the table.
struct Row {
    name: String,
    result: f64,
    time: Duration,
}

fn try_main() -> Result<(), Box<dyn Error>> {
    let Args { a, b, n, chunks } = parse_args();

    // Each chunk computes without yielding, on purpose (a debug build takes long enough per
    // chunk for the stall watchdog to report every one): the watchdog is off.
    let coop1 = Runtime::cooperative()
        .workers(1)
        .stall_threshold(Duration::ZERO)
        .build()?;
    let coop_all = Runtime::cooperative()
        .stall_threshold(Duration::ZERO)
        .build()?;
    let pre = Runtime::preemptive().build()?;

    println!(
        "integrate f(x) = x² over [{a}, {b}], N = {n}, {chunks} chunks, {} CPUs\n",
        coop_all.workers()
    );

    let mut rows = Vec::new();
    let start = Instant::now();
    let result = integrate(a, b, n);
    rows.push(Row {
        name: "sequential".into(),
        result,
        time: start.elapsed(),
    });
    let variants = [
        ("cooperative, 1 worker".to_string(), &coop1),
        (
            format!("cooperative, {} workers", coop_all.workers()),
            &coop_all,
        ),
        ("preemptive".to_string(), &pre),
    ];
    for (name, rt) in variants {
        let start = Instant::now();
        let result = integrate_tasks(rt, a, b, n, chunks)?;
        rows.push(Row {
            name,
            result,
            time: start.elapsed(),
        });
    }

    let reference = rows[0].result;
    let baseline = rows[0].time.as_secs_f64();
    let mut disagree = Vec::new();
    println!(
        "{:<24} {:>22} {:>10} {:>8} {:>10}  agrees",
        "variant", "result", "time (ms)", "speedup", "rel. diff"
    );
    for row in &rows {
        let diff = ((row.result - reference) / reference).abs();
        let agrees = diff <= TOLERANCE || row.result == reference;
        if !agrees {
            disagree.push(row.name.clone());
        }
        println!(
            "{:<24} {:>22.12} {:>10.1} {:>7.2}× {:>10.1e}  {}",
            row.name,
            row.result,
            row.time.as_secs_f64() * 1e3,
            baseline / row.time.as_secs_f64(),
            diff,
            if agrees { "yes" } else { "NO" }
        );
    }

    println!(
        "\nOne worker runs the chunks one after another, since a chunk never yields: splitting \
         the work buys\nnothing, as Python threads gain nothing on a CPU-bound problem under \
         the GIL. With a worker per core,\nidle workers take the chunks nobody has started, \
         so they run in parallel and the time drops towards\n1/cores of the sequential one, \
         as with the lecture's multiprocessing version; the preemptive\nruntime, an OS \
         thread per chunk, gets the same parallel speedup."
    );

    if disagree.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} disagree with the sequential result by more than {TOLERANCE:e} (relative)",
            disagree.join(", ")
        )
        .into())
    }
}

/// Runs the example; an error is printed with `Display`, not `Debug`.
fn main() -> std::process::ExitCode {
    match try_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
