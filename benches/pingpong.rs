//! Two tasks playing ping-pong over channels: task A sends a number to task B on one channel
//! and waits for B's reply on another, `N` = 10,000 times. One measured iteration is one
//! `Runtime::block_on` that spawns the two tasks, runs the `N` round trips and joins them; the
//! runtimes are built once, outside the timed region.
//!
//! Workload matrix (benchmark ids are `pingpong/<backend>/<channel>`):
//!
//! | backend                 | what a round trip costs                                   |
//! |-------------------------|-----------------------------------------------------------|
//! | `cooperative_1_worker`  | two green-thread park/unpark pairs on one OS thread       |
//! | `cooperative_2_workers` | the same, the two tasks possibly on different workers     |
//! | `preemptive`            | two OS-thread block/wake pairs (futex), a thread per task |
//!
//! | channel     | made with                              |
//! |-------------|----------------------------------------|
//! | `bounded1`  | `spindle::channel::bounded(1)`, twice  |
//! | `unbounded` | `spindle::channel::unbounded()`, twice |
//!
//! Criterion prints the time of one iteration (`N` round trips plus 2 spawns and 2 joins) and,
//! from `Throughput::Elements(N)`, round trips per second: the time per round trip is the
//! reciprocal of that rate.
//!
//! Run with `cargo bench --bench pingpong`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use spindle::channel::{self, Receiver, Sender};
use spindle::{spawn, Runtime};

/// Round trips per iteration.
const N: u64 = 10_000;

/// Makes a channel of the kind named by the benchmark id.
type MakeChannel = fn() -> (Sender<u64>, Receiver<u64>);

/// One iteration: A sends `0..N` to B, B echoes each back; both joined.
fn ping_pong(rt: &Runtime, make: MakeChannel) {
    rt.block_on(move || {
        let (to_b, from_a) = make();
        let (to_a, from_b) = make();
        let b = spawn(move || {
            for _ in 0..N {
                let v = from_a.recv().expect("A hung up");
                to_a.send(v).expect("A hung up");
            }
        });
        let a = spawn(move || {
            for i in 0..N {
                to_b.send(i).expect("B hung up");
                let v = from_b.recv().expect("B hung up");
                debug_assert_eq!(v, i);
            }
        });
        a.join().expect("task A panicked");
        b.join().expect("task B panicked");
    });
}

fn pingpong(c: &mut Criterion) {
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
    let channels: [(&str, MakeChannel); 2] = [
        ("bounded1", || channel::bounded(1)),
        ("unbounded", channel::unbounded),
    ];

    let mut group = c.benchmark_group("pingpong");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat) // an iteration takes milliseconds
        .throughput(Throughput::Elements(N));

    for (name, rt) in runtimes {
        let rt = rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"));
        for (kind, make) in channels {
            group.bench_function(BenchmarkId::new(name, kind), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        ping_pong(&rt, make);
                    }
                    start.elapsed()
                })
            });
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    pingpong(&mut c);
    c.final_summary();
}
