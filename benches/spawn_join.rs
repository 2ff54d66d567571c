//! Spawning empty tasks (`spawn(|| ())`) and joining them all, inside one
//! `Runtime::block_on` per measured iteration; the runtimes are built once, outside the
//! timed region.
//!
//! * `cooperative_1_worker`, `cooperative_2_workers`: 10,000 green threads spawned, then
//!   joined.
//! * `cooperative_1_worker_batch_1000`: 1,000 spawned then joined, ten times over (10,000
//!   tasks, but at most 1,000 stacks alive at once, so the stack pool is reused).
//! * `preemptive_1000`: 1,000 tasks, not 10,000, since each is an OS thread (tens of
//!   microseconds to create); its throughput counts 1,000 elements.
//!
//! Criterion prints the time of one iteration and, from `Throughput::Elements`, tasks per
//! second.
//!
//! Run with `cargo bench --bench spawn_join`.

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use spindle::{spawn, Runtime};

/// Spawns `batch` empty tasks and joins them, `rounds` times, in one `block_on`.
fn spawn_join(rt: &Runtime, batch: usize, rounds: usize) {
    rt.block_on(move || {
        for _ in 0..rounds {
            let handles: Vec<_> = (0..batch).map(|_| spawn(|| ())).collect();
            for h in handles {
                h.join().expect("empty task panicked");
            }
        }
    });
}

fn build(name: &str, rt: std::io::Result<Runtime>) -> Runtime {
    rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"))
}

fn spawn_joins(c: &mut Criterion) {
    let coop1 = build(
        "cooperative 1 worker",
        Runtime::cooperative().workers(1).build(),
    );
    let coop2 = build(
        "cooperative 2 workers",
        Runtime::cooperative().workers(2).build(),
    );
    let pre = build("preemptive", Runtime::preemptive().build());

    // (id, runtime, tasks per batch, batches per iteration)
    let cases: [(&str, &Runtime, usize, usize); 4] = [
        ("cooperative_1_worker", &coop1, 10_000, 1),
        ("cooperative_2_workers", &coop2, 10_000, 1),
        ("cooperative_1_worker_batch_1000", &coop1, 1_000, 10),
        ("preemptive_1000", &pre, 1_000, 1),
    ];

    let mut group = c.benchmark_group("spawn_join");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat); // an iteration takes milliseconds

    for (id, rt, batch, rounds) in cases {
        group.throughput(Throughput::Elements((batch * rounds) as u64));
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    spawn_join(rt, batch, rounds);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    spawn_joins(&mut c);
    c.final_summary();
}
