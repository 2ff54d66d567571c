//! The cost of `spindle::sync::Mutex`, uncontended and contended.
//!
//! Workload matrix:
//!
//! | id                                        | workload                                                    |
//! |-------------------------------------------|-------------------------------------------------------------|
//! | `mutex_uncontended/spindle`               | one thread: lock, add one, unlock (no runtime needed)       |
//! | `mutex_uncontended/std`                   | the same with `std::sync::Mutex`, for comparison            |
//! | `mutex_contended/cooperative_1_worker`    | 1,000 green threads x 1,000 increments of one shared counter |
//! | `mutex_contended/cooperative_2_workers`   | the same on 2 workers                                       |
//! | `mutex_contended/preemptive`              | 100 OS threads x 1,000 increments                            |
//!
//! The cooperative workloads do 1,000,000 increments in all (preemptive: 100,000), each `*m.lock() += 1`,
//! with no yield: the tasks run concurrently and contend only where they really run at the
//! same time (with one worker, a green thread runs its 1,000 increments without a switch, so
//! that row measures the uncontended path plus spawning). One measured iteration is one
//! `Runtime::block_on` that spawns the tasks, runs them and joins them; the runtimes are built
//! once, outside the timed region. `Throughput::Elements` is the number of increments, so
//! criterion prints increments per second; the time per increment is its reciprocal.
//!
//! Run with `cargo bench --bench mutex`.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use spindle::sync::Mutex;
use spindle::{spawn, Runtime};

/// One lock, add, unlock with no other thread around.
fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex_uncontended");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1)); // nanoseconds per op: criterion's linear sampling

    let spindle_mutex = Mutex::new(0u64);
    group.bench_function("spindle", |b| {
        b.iter(|| *black_box(&spindle_mutex).lock() += 1)
    });
    let std_mutex = std::sync::Mutex::new(0u64);
    group.bench_function("std", |b| {
        b.iter(|| *black_box(&std_mutex).lock().unwrap() += 1)
    });
    group.finish();
}

/// One iteration: `tasks` tasks add one to a shared counter `each` times.
fn increments(rt: &Runtime, tasks: u64, each: u64) {
    let total = rt.block_on(move || {
        let counter = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                spawn(move || {
                    for _ in 0..each {
                        *counter.lock() += 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("incrementing task panicked");
        }
        let total = *counter.lock();
        total
    });
    assert_eq!(total, tasks * each);
}

fn contended(c: &mut Criterion) {
    let runtimes = [
        (
            "cooperative_1_worker",
            Runtime::cooperative().workers(1).build(),
            1_000,
            1_000,
        ),
        (
            "cooperative_2_workers",
            Runtime::cooperative().workers(2).build(),
            1_000,
            1_000,
        ),
        ("preemptive", Runtime::preemptive().build(), 100, 1_000),
    ];

    let mut group = c.benchmark_group("mutex_contended");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat); // an iteration takes milliseconds

    for (name, rt, tasks, each) in runtimes {
        let rt = rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"));
        group.throughput(Throughput::Elements(tasks * each));
        let id = BenchmarkId::new(name, format!("{tasks}x{each}_increments"));
        group.bench_function(id, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    increments(&rt, tasks, each);
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

/// 100 OS threads hammering one lock, 1,000 increments each: spindle's `Mutex` (barging,
/// as std's) against `std::sync::Mutex`, side by side.
fn os_threads(c: &mut Criterion) {
    fn hammer<M: Send + Sync + 'static>(m: Arc<M>, inc: fn(&M)) {
        let hs: Vec<_> = (0..100)
            .map(|_| {
                let m = m.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        inc(&m);
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().expect("hammering thread panicked");
        }
    }
    let mut group = c.benchmark_group("mutex_os_threads");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(100 * 1_000));
    group.bench_function("spindle/100x1000_increments", |b| {
        b.iter(|| hammer(Arc::new(Mutex::new(0u64)), |m| *m.lock() += 1))
    });
    group.bench_function("std/100x1000_increments", |b| {
        b.iter(|| {
            hammer(Arc::new(std::sync::Mutex::new(0u64)), |m| {
                *m.lock().unwrap() += 1
            })
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    uncontended(&mut c);
    contended(&mut c);
    os_threads(&mut c);
    c.final_summary();
}
