//! Producer/consumer throughput: 4 producer tasks and 4 consumer tasks move 100,000 items
//! (25,000 put by each producer, 25,000 taken by each consumer) through one bounded buffer of
//! 64 slots. One measured iteration is one `Runtime::block_on` that spawns the 8 tasks, moves
//! the items and joins them; the runtimes are built once, outside the timed region.
//!
//! Workload matrix (benchmark ids are `queue/<backend>/<buffer>`):
//!
//! | backend                 | tasks are                                  |
//! |-------------------------|--------------------------------------------|
//! | `cooperative_1_worker`  | green threads on one OS thread             |
//! | `cooperative_2_workers` | green threads on two OS threads            |
//! | `preemptive`            | OS threads, one per task                   |
//!
//! | buffer               | made with                                     |
//! |----------------------|-----------------------------------------------|
//! | `queue_bounded64`    | `spindle::queue::Queue::bounded(64)` (`put`/`get`) |
//! | `channel_bounded64`  | `spindle::channel::bounded(64)` (`send`/`recv`)    |
//!
//! `Throughput::Elements(100_000)`: criterion prints items per second; the time per item is
//! its reciprocal.
//!
//! Run with `cargo bench --bench queue`.

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use spindle::queue::Queue;
use spindle::{channel, spawn, JoinHandle, Runtime};

/// Items moved per iteration, producers, consumers, buffer size.
const ITEMS: u64 = 100_000;
const PRODUCERS: u64 = 4;
const CONSUMERS: u64 = 4;
const CAP: usize = 64;

/// Runs one iteration through one kind of buffer.
type Workload = fn(&Runtime);

/// Joins the producers, then the consumers; checks every item arrived once.
fn finish(producers: Vec<JoinHandle<()>>, consumers: Vec<JoinHandle<u64>>) {
    for p in producers {
        p.join().expect("producer panicked");
    }
    let sum: u64 = consumers
        .into_iter()
        .map(|c| c.join().expect("consumer panicked"))
        .sum();
    assert_eq!(sum, ITEMS * (ITEMS - 1) / 2);
}

/// One iteration through a `spindle::queue::Queue`.
fn through_queue(rt: &Runtime) {
    rt.block_on(|| {
        let q = Queue::bounded(CAP);
        let producers = (0..PRODUCERS)
            .map(|p| {
                let q = q.clone();
                spawn(move || {
                    (p..ITEMS)
                        .step_by(PRODUCERS as usize)
                        .for_each(|i| q.put(i))
                })
            })
            .collect();
        let consumers = (0..CONSUMERS)
            .map(|_| {
                let q = q.clone();
                spawn(move || (0..ITEMS / CONSUMERS).map(|_| q.get()).sum())
            })
            .collect();
        finish(producers, consumers);
    });
}

/// One iteration through a `spindle::channel::bounded` channel.
fn through_channel(rt: &Runtime) {
    rt.block_on(|| {
        let (tx, rx) = channel::bounded(CAP);
        let producers = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                spawn(move || {
                    (p..ITEMS)
                        .step_by(PRODUCERS as usize)
                        .for_each(|i| tx.send(i).expect("consumers hung up"))
                })
            })
            .collect();
        let consumers = (0..CONSUMERS)
            .map(|_| {
                let rx = rx.clone();
                spawn(move || {
                    (0..ITEMS / CONSUMERS)
                        .map(|_| rx.recv().expect("producers hung up"))
                        .sum()
                })
            })
            .collect();
        finish(producers, consumers);
    });
}

fn queues(c: &mut Criterion) {
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
    let buffers: [(&str, Workload); 2] = [
        ("queue_bounded64", through_queue),
        ("channel_bounded64", through_channel),
    ];

    let mut group = c.benchmark_group("queue");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat) // an iteration takes milliseconds
        .throughput(Throughput::Elements(ITEMS));

    for (name, rt) in runtimes {
        let rt = rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"));
        for (kind, run) in buffers {
            group.bench_function(BenchmarkId::new(name, kind), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        run(&rt);
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
    queues(&mut c);
    c.final_summary();
}
