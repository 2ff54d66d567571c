//! The lecture's CPU-bound integration, f(x) = x² over [0, 10] with a left Riemann sum of
//! N = 2·10⁷ points, split into 8 chunks, one task per chunk, inside one `Runtime::block_on`
//! per measured iteration; the runtimes are built once, outside the timed region.
//!
//! * `sequential`: the same chunk function called once over all N points, on the bench
//!   thread: the baseline;
//! * `cooperative_1_worker`: the 8 chunks take turns on one OS thread (the GIL case);
//! * `cooperative_2_workers`: the 8 chunks spread over 2 worker threads;
//! * `preemptive`: an OS thread per chunk.
//!
//! Every variant sums the same points of the same grid, so the work is the same; the ratios
//! show how much of it runs in parallel, and what the tasks cost on top.
//!
//! Run with `cargo bench --bench integrate`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use spindle::{spawn, Runtime};

/// The lower end of the interval.
const A: f64 = 0.0;
/// The upper end of the interval.
const B: f64 = 10.0;
/// The number of points.
const N: u64 = 20_000_000;
/// The number of chunks, one task each.
const CHUNKS: u64 = 8;

/// The integrand.
#[inline]
fn f(x: f64) -> f64 {
    x * x
}

/// The sum of `f(a + i·dx)` for `i` in `lo..hi`, not yet multiplied by `dx`.
#[inline(never)]
fn sum_chunk(a: f64, dx: f64, lo: u64, hi: u64) -> f64 {
    let mut s = 0.0;
    for i in lo..hi {
        s += f(a + i as f64 * dx);
    }
    s
}

/// The whole integral as one plain call.
fn sequential() -> f64 {
    let dx = (B - A) / N as f64;
    sum_chunk(black_box(A), black_box(dx), 0, black_box(N)) * dx
}

/// The integral as [`CHUNKS`] tasks on `rt`, chunk `k` summing indices
/// `[k·N/CHUNKS, (k+1)·N/CHUNKS)`.
fn tasks(rt: &Runtime) -> f64 {
    let dx = (B - A) / N as f64;
    rt.block_on(move || {
        let handles: Vec<_> = (0..CHUNKS)
            .map(|k| {
                let (lo, hi) = (k * N / CHUNKS, (k + 1) * N / CHUNKS);
                spawn(move || sum_chunk(black_box(A), black_box(dx), lo, black_box(hi)))
            })
            .collect();
        let s: f64 = handles
            .into_iter()
            .map(|h| h.join().expect("chunk panicked"))
            .sum();
        s * dx
    })
}

fn build(name: &str, rt: std::io::Result<Runtime>) -> Runtime {
    rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"))
}

fn integrate(c: &mut Criterion) {
    let coop1 = build(
        "cooperative 1 worker",
        Runtime::cooperative().workers(1).build(),
    );
    let coop2 = build(
        "cooperative 2 workers",
        Runtime::cooperative().workers(2).build(),
    );
    let pre = build("preemptive", Runtime::preemptive().build());

    // Every variant must compute the same integral before it is timed.
    let expected = sequential();
    for (name, rt) in [
        ("cooperative 1", &coop1),
        ("cooperative 2", &coop2),
        ("preemptive", &pre),
    ] {
        let got = tasks(rt);
        assert!(
            ((got - expected) / expected).abs() <= 1e-9,
            "{name}: {got} differs from the sequential {expected}"
        );
    }

    let mut group = c.benchmark_group("integrate");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat); // an iteration takes tens of milliseconds

    group.bench_function("sequential", |b| b.iter(|| black_box(sequential())));
    let cases: [(&str, &Runtime); 3] = [
        ("cooperative_1_worker", &coop1),
        ("cooperative_2_workers", &coop2),
        ("preemptive", &pre),
    ];
    for (id, rt) in cases {
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    black_box(tasks(rt));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    integrate(&mut c);
    c.final_summary();
}
