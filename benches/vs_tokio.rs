//! tokio's own scheduler benchmarks (`benches/rt_multi_threaded.rs` in tokio's repository),
//! each run on tokio and on spindle's cooperative runtime side by side, in one run, with the
//! same number of workers (tokio's bench uses 4; `SPINDLE_VS_TOKIO_WORKERS` changes it).
//!
//! The workloads, as tokio defines them:
//! - `spawn_many_local`: a task spawns 10,000 tasks that each count down a shared counter;
//!   the last one signals the spawner.
//! - `spawn_many_remote_idle`: a thread outside the runtime spawns 10,000 empty tasks onto
//!   it, then waits for every one.
//! - `spawn_many_remote_busy1`: the same while 2 × workers tasks keep the runtime busy
//!   (yield, then spin 10 µs, in a loop).
//! - `spawn_many_remote_busy2`: 1,000 spawned from outside while one chain per worker keeps
//!   it busy (each task spins 10 µs and spawns the next).
//! - `ping_pong`: 1,000 tasks, each spawning a partner and exchanging one message each way
//!   with it over two one-shot channels.
//! - `yield_many`: 200 tasks spawned from outside each yield 1,000 times.
//! - `chained_spawn`: a chain of 1,000 tasks, each spawning the next.
//!
//! Ported as behaviour, not text: tokio awaits futures, spindle's green threads block. Where
//! tokio's version signals through a `std::sync::mpsc` channel from a task to `block_on`,
//! spindle's uses its own channel (a green thread that waits on a std channel would block
//! its worker's OS thread); tokio's `oneshot` becomes a spindle `bounded(1)` channel; tokio
//! awaits remote handles inside `block_on`, spindle joins them on the spawning thread.
//!
//! Criterion prints the time of one iteration of each workload; compare the two lines of a
//! group. Run with `cargo bench --bench vs_tokio`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};

const NUM_SPAWN: usize = 10_000;
const STALL_DUR: Duration = Duration::from_micros(10);

fn workers() -> usize {
    std::env::var("SPINDLE_VS_TOKIO_WORKERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn spindle_rt() -> spindle::Runtime {
    spindle::Runtime::cooperative()
        .workers(workers())
        .stall_threshold(Duration::ZERO) // the busy workload spins 10 µs at a time on purpose
        .build()
        .expect("spindle runtime")
}

/// Spins for [`STALL_DUR`], yielding the OS thread, as tokio's bench does.
fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

fn spawn_many_local(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_local");
    g.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        let (tx, rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        g.bench_function("tokio", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let tx = tx.clone();
                        let rem = rem.clone();
                        tokio::spawn(async move {
                            if 1 == rem.fetch_sub(1, Relaxed) {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = spindle_rt();
        let rem = Arc::new(AtomicUsize::new(0));
        g.bench_function("spindle", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                let rem = rem.clone();
                rt.block_on(move || {
                    let (tx, rx) = spindle::channel::bounded(1);
                    for _ in 0..NUM_SPAWN {
                        let tx = tx.clone();
                        let rem = rem.clone();
                        spindle::spawn(move || {
                            if 1 == rem.fetch_sub(1, Relaxed) {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

fn spawn_many_remote_idle(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_remote_idle");
    g.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            })
        });
    }
    {
        let rt = spindle_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        g.bench_function("spindle", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(|| {}));
                }
                for handle in handles.drain(..) {
                    handle.join().unwrap();
                }
            })
        });
    }
    g.finish();
}

fn spawn_many_remote_busy1(c: &mut Criterion) {
    let mut g = c.benchmark_group("spawn_many_remote_busy1");
    g.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        let rt_handle = rt.handle();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..(2 * workers()) {
            let flag = flag.clone();
            rt.spawn(async move {
                while flag.load(Relaxed) {
                    tokio::task::yield_now().await;
                    stall();
                }
            });
        }
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt_handle.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            })
        });
        flag.store(false, Relaxed);
    }
    {
        let rt = spindle_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        let busy: Vec<_> = (0..2 * workers())
            .map(|_| {
                let flag = flag.clone();
                rt.spawn(move || {
                    while flag.load(Relaxed) {
                        spindle::yield_now();
                        stall();
                    }
                })
            })
            .collect();
        g.bench_function("spindle", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(|| {}));
                }
                for handle in handles.drain(..) {
                    handle.join().unwrap();
                }
            })
        });
        flag.store(false, Relaxed);
        for h in busy {
            h.join().unwrap();
        }
    }
    g.finish();
}

fn spawn_many_remote_busy2(c: &mut Criterion) {
    const NUM_SPAWN: usize = 1_000;
    let mut g = c.benchmark_group("spawn_many_remote_busy2");
    g.sampling_mode(SamplingMode::Flat);
    {
        fn iter(flag: Arc<AtomicBool>) {
            tokio::spawn(async {
                if flag.load(Relaxed) {
                    stall();
                    iter(flag);
                }
            });
        }
        let rt = tokio_rt();
        let rt_handle = rt.handle();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..workers() {
            let flag = flag.clone();
            rt.spawn(async {
                iter(flag);
            });
        }
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt_handle.spawn(async {}));
                }
                rt.block_on(async {
                    for handle in handles.drain(..) {
                        handle.await.unwrap();
                    }
                });
            })
        });
        flag.store(false, Relaxed);
    }
    {
        fn iter(flag: Arc<AtomicBool>) {
            spindle::spawn(move || {
                if flag.load(Relaxed) {
                    stall();
                    iter(flag);
                }
            });
        }
        let rt = spindle_rt();
        let mut handles = Vec::with_capacity(NUM_SPAWN);
        let flag = Arc::new(AtomicBool::new(true));
        for _ in 0..workers() {
            let flag = flag.clone();
            drop(rt.spawn(move || iter(flag)));
        }
        g.bench_function("spindle", |b| {
            b.iter(|| {
                for _ in 0..NUM_SPAWN {
                    handles.push(rt.spawn(|| {}));
                }
                for handle in handles.drain(..) {
                    handle.join().unwrap();
                }
            })
        });
        flag.store(false, Relaxed);
        // The chains end at their next link; a block_on waits for them.
        rt.block_on(|| ());
    }
    g.finish();
}

fn ping_pong(c: &mut Criterion) {
    const NUM_PINGS: usize = 1_000;
    let mut g = c.benchmark_group("ping_pong");
    g.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        let rem = Arc::new(AtomicUsize::new(0));
        g.bench_function("tokio", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                let rem = rem.clone();
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(async {
                    tokio::spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let rem = rem.clone();
                            let done_tx = done_tx.clone();
                            tokio::spawn(async move {
                                let (tx1, rx1) = tokio::sync::oneshot::channel();
                                let (tx2, rx2) = tokio::sync::oneshot::channel();
                                tokio::spawn(async move {
                                    rx1.await.unwrap();
                                    tx2.send(()).unwrap();
                                });
                                tx1.send(()).unwrap();
                                rx2.await.unwrap();
                                if 1 == rem.fetch_sub(1, Relaxed) {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = spindle_rt();
        let rem = Arc::new(AtomicUsize::new(0));
        g.bench_function("spindle", |b| {
            b.iter(|| {
                let rem = rem.clone();
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(move || {
                    let (done_tx, done_rx) = spindle::channel::bounded(1);
                    spindle::spawn(move || {
                        for _ in 0..NUM_PINGS {
                            let rem = rem.clone();
                            let done_tx = done_tx.clone();
                            spindle::spawn(move || {
                                let (tx1, rx1) = spindle::channel::bounded(1);
                                let (tx2, rx2) = spindle::channel::bounded(1);
                                spindle::spawn(move || {
                                    rx1.recv().unwrap();
                                    tx2.send(()).unwrap();
                                });
                                tx1.send(()).unwrap();
                                rx2.recv().unwrap();
                                if 1 == rem.fetch_sub(1, Relaxed) {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

fn yield_many(c: &mut Criterion) {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;
    let mut g = c.benchmark_group("yield_many");
    g.sampling_mode(SamplingMode::Flat);
    {
        let rt = tokio_rt();
        let (tx, rx) = mpsc::sync_channel(TASKS);
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..TASKS {
                    let tx = tx.clone();
                    rt.spawn(async move {
                        for _ in 0..NUM_YIELD {
                            tokio::task::yield_now().await;
                        }
                        tx.send(()).unwrap();
                    });
                }
                for _ in 0..TASKS {
                    rx.recv().unwrap();
                }
            })
        });
    }
    {
        let rt = spindle_rt();
        let (tx, rx) = mpsc::sync_channel(TASKS);
        g.bench_function("spindle", |b| {
            b.iter(|| {
                for _ in 0..TASKS {
                    let tx = tx.clone();
                    // Detached, as tokio's: the std channel (never full) says when it is done.
                    drop(rt.spawn(move || {
                        for _ in 0..NUM_YIELD {
                            spindle::yield_now();
                        }
                        tx.send(()).unwrap();
                    }));
                }
                for _ in 0..TASKS {
                    rx.recv().unwrap();
                }
            })
        });
    }
    g.finish();
}

fn chained_spawn(c: &mut Criterion) {
    const ITER: usize = 1_000;
    let mut g = c.benchmark_group("chained_spawn");
    g.sampling_mode(SamplingMode::Flat);
    {
        fn iter(done_tx: mpsc::SyncSender<()>, n: usize) {
            if n == 0 {
                done_tx.send(()).unwrap();
            } else {
                tokio::spawn(async move {
                    iter(done_tx, n - 1);
                });
            }
        }
        let rt = tokio_rt();
        let (done_tx, done_rx) = mpsc::sync_channel(1000);
        g.bench_function("tokio", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                rt.block_on(async {
                    tokio::spawn(async move {
                        iter(done_tx, ITER);
                    });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        fn iter(done_tx: spindle::channel::Sender<()>, n: usize) {
            if n == 0 {
                done_tx.send(()).unwrap();
            } else {
                spindle::spawn(move || iter(done_tx, n - 1));
            }
        }
        let rt = spindle_rt();
        g.bench_function("spindle", |b| {
            b.iter(|| {
                rt.block_on(|| {
                    let (done_tx, done_rx) = spindle::channel::bounded(1);
                    spindle::spawn(move || iter(done_tx, ITER));
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .configure_from_args();
    spawn_many_local(&mut c);
    spawn_many_remote_idle(&mut c);
    spawn_many_remote_busy1(&mut c);
    spawn_many_remote_busy2(&mut c);
    ping_pong(&mut c);
    yield_many(&mut c);
    chained_spawn(&mut c);
    c.final_summary();
}
