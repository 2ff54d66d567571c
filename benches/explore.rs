//! What a schedule search costs: `spindle::check::explore` of a body of two tasks that yield
//! 100 times each (200 scheduling steps, plus spawns and joins), beside one ordinary
//! `block_on` of the same body on the cooperative runtime with one worker; and one simulated
//! hour (3,600 sleeps of a second) on a deterministic runtime's virtual clock.
//!
//! Criterion prints the time of one measured iteration and, from its throughput, the runs
//! (schedules) per second: `explore/2_tasks_x100_yields` runs 100 seeds per iteration,
//! `ordinary_block_on/...` one run.
//!
//! Run with `cargo bench --bench explore`.

use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use spindle::check::{self, Config};
use spindle::{sleep, spawn, yield_now, Runtime};

/// Yields per task.
const STEPS: u32 = 100;
/// Seeds per measured call of `explore`.
const SEEDS: u64 = 100;

fn body() {
    let a = spawn(|| (0..STEPS).for_each(|_| yield_now()));
    let b = spawn(|| (0..STEPS).for_each(|_| yield_now()));
    a.join().unwrap();
    b.join().unwrap();
}

fn explore(c: &mut Criterion) {
    let mut group = c.benchmark_group("explore");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);

    group.throughput(Throughput::Elements(SEEDS));
    for (name, config) in [
        ("random", Config::new()),
        ("pct3", Config::new().pct(3).pct_steps(400)),
    ] {
        group.bench_function(format!("2_tasks_x{STEPS}_yields/{name}"), |b| {
            let mut start_seed = 0;
            b.iter(|| {
                let config = config.clone().iterations(SEEDS).seed(start_seed);
                start_seed += SEEDS;
                check::explore_with(config, body).expect("the body is correct")
            })
        });
    }

    group.throughput(Throughput::Elements(1));
    let rt = Runtime::cooperative().workers(1).build().expect("runtime");
    group.bench_function(format!("ordinary_block_on/2_tasks_x{STEPS}_yields"), |b| {
        b.iter(|| rt.block_on(body))
    });

    let det = Runtime::deterministic(1).build().expect("runtime");
    group.bench_function("virtual_hour/3600_sleeps_of_1s", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                det.block_on(|| {
                    let t = spindle::now();
                    for _ in 0..3600 {
                        sleep(Duration::from_secs(1));
                    }
                    assert_eq!(spindle::now() - t, Duration::from_secs(3600));
                });
            }
            start.elapsed()
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    explore(&mut c);
    c.final_summary();
}
