//! Two tasks yielding to each other: each calls `yield_now()` 10,000 times. One measured
//! iteration is one `Runtime::block_on` that spawns the two tasks, lets them yield 20,000
//! times in all, and joins them; the runtimes are built once, outside the timed region.
//!
//! Backends: the cooperative runtime with 1 and 2 workers (a yield is a switch to the
//! worker's scheduler and on to the next green thread) and the preemptive runtime (a yield is
//! `std::thread::yield_now` on an OS thread).
//!
//! Criterion prints the time of one iteration (20,000 yields plus 2 spawns and 2 joins) and,
//! from `Throughput::Elements(20_000)`, yields per second: the time per yield is the
//! reciprocal of that rate.
//!
//! Run with `cargo bench --bench yield`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use spindle::{spawn, yield_now, Runtime};

/// Yields per task per iteration.
const N: u64 = 10_000;

/// One iteration: two tasks, `N` yields each, joined.
fn two_yielders(rt: &Runtime) {
    rt.block_on(|| {
        let a = spawn(|| (0..N).for_each(|_| yield_now()));
        let b = spawn(|| (0..N).for_each(|_| yield_now()));
        a.join().expect("yielding task panicked");
        b.join().expect("yielding task panicked");
    });
}

fn yields(c: &mut Criterion) {
    let runtimes = [
        (
            "cooperative_1_worker",
            Runtime::cooperative().workers(1).build(),
        ),
        (
            "cooperative_2_workers",
            Runtime::cooperative().workers(2).build(),
        ),
        ("preemptive", Runtime::preemptive().build()),
    ];

    let mut group = c.benchmark_group("yield");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat) // an iteration takes milliseconds
        .throughput(Throughput::Elements(2 * N));

    for (name, rt) in runtimes {
        let rt = rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"));
        let id = BenchmarkId::new(name, format!("2x{N}_yields"));
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    two_yielders(&rt);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    yields(&mut c);
    c.final_summary();
}
