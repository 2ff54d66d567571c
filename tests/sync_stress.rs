//! Many producers and consumers through every queue and channel kind, with exact accounting
//! (nothing lost, nothing delivered twice), and a hard-contended `spindle::sync::Mutex`.
//!
//! Each kind moves 100,000 distinct integers: 8 producers put 12,500 each while 8 consumers
//! take them. Queue consumers stop on a sentinel (put after `join()` has seen every item marked
//! done, so it is the only thing left even in a LIFO); channel consumers stop on disconnection.

mod support;

use std::sync::Arc;
use std::time::Instant;

use spindle::channel::{self, Receiver, Sender};
use spindle::queue::{LifoQueue, PriorityQueue, Queue};
use spindle::sync::Mutex;
use spindle::{spawn, Runtime};
use support::bounded;

const PRODUCERS: u64 = 8;
const CONSUMERS: usize = 8;
const PER_PRODUCER: u64 = 12_500;
const TOTAL: u64 = PRODUCERS * PER_PRODUCER;
/// Larger than every item, so a `PriorityQueue` hands it out last too.
const SENTINEL: u64 = u64::MAX;

/// The stress runtimes: two workers, a thread per task, and one worker.
fn stress_runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "cooperative/2",
            Runtime::cooperative().workers(2).build().unwrap(),
        ),
        ("preemptive", Runtime::preemptive().build().unwrap()),
        (
            "cooperative/1",
            Runtime::cooperative().workers(1).build().unwrap(),
        ),
    ]
}

/// Asserts that `got` is exactly `0..TOTAL`, once each, naming what went wrong.
fn assert_exactly_once(what: &str, mut got: Vec<u64>) {
    got.sort_unstable();
    let mut missing = Vec::new();
    let mut doubled = Vec::new();
    let mut it = got.iter().copied().peekable();
    for want in 0..TOTAL {
        let mut seen = 0;
        while it.peek() == Some(&want) {
            it.next();
            seen += 1;
        }
        match seen {
            0 => missing.push(want),
            1 => {}
            _ => doubled.push(want),
        }
    }
    let stray: Vec<u64> = it.collect();
    assert!(
        missing.is_empty() && doubled.is_empty() && stray.is_empty(),
        "{what}: received {} items; {} missing (first {:?}), {} doubled (first {:?}), {} never sent (first {:?})",
        got.len(),
        missing.len(),
        &missing[..missing.len().min(5)],
        doubled.len(),
        &doubled[..doubled.len().min(5)],
        stray.len(),
        &stray[..stray.len().min(5)],
    );
}

/// The three queue kinds, for one generic driver.
trait StressQueue: Clone + Send + 'static {
    fn put(&self, v: u64);
    fn get(&self) -> u64;
    fn task_done(&self);
    fn join(&self);
    fn is_empty(&self) -> bool;
}

macro_rules! stress_queue {
    ($($ty:ident),*) => {$(
        impl StressQueue for $ty<u64> {
            fn put(&self, v: u64) { $ty::put(self, v) }
            fn get(&self) -> u64 { $ty::get(self) }
            fn task_done(&self) { $ty::task_done(self) }
            fn join(&self) { $ty::join(self) }
            fn is_empty(&self) -> bool { $ty::is_empty(self) }
        }
    )*};
}
stress_queue!(Queue, LifoQueue, PriorityQueue);

/// 8 producers × 8 consumers through `q`; returns everything the consumers got.
fn drive_queue<Q: StressQueue>(q: Q) -> Vec<u64> {
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let q = q.clone();
            spawn(move || {
                let mut got = Vec::with_capacity((TOTAL as usize / CONSUMERS) * 2);
                loop {
                    let v = q.get();
                    q.task_done();
                    if v == SENTINEL {
                        return got;
                    }
                    got.push(v);
                }
            })
        })
        .collect();
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let q = q.clone();
            spawn(move || {
                for v in p * PER_PRODUCER..(p + 1) * PER_PRODUCER {
                    q.put(v);
                }
            })
        })
        .collect();
    for h in producers {
        h.join().unwrap();
    }
    // Every item is now got and marked done: only the sentinels will be left.
    q.join();
    for _ in 0..CONSUMERS {
        q.put(SENTINEL);
    }
    let got: Vec<u64> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    q.join();
    assert!(q.is_empty(), "items left behind");
    got
}

/// 8 producers × 8 consumers through a channel; consumers stop on disconnection.
fn drive_channel((tx, rx): (Sender<u64>, Receiver<u64>)) -> Vec<u64> {
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            spawn(move || rx.iter().collect::<Vec<u64>>())
        })
        .collect();
    drop(rx);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            spawn(move || {
                for v in p * PER_PRODUCER..(p + 1) * PER_PRODUCER {
                    tx.send(v).expect("receivers are alive");
                }
            })
        })
        .collect();
    drop(tx);
    for h in producers {
        h.join().unwrap();
    }
    consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Runs `drive` on every stress runtime and checks the accounting.
fn on_every_stress_runtime(kind: &'static str, drive: fn() -> Vec<u64>) {
    for (name, rt) in stress_runtimes() {
        let t = Instant::now();
        let got = rt.block_on(drive);
        eprintln!("{kind} on {name}: {:?}", t.elapsed());
        assert_exactly_once(&format!("{kind} on {name}"), got);
    }
}

#[test]
fn queue_bounded_64_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("Queue::bounded(64)", || drive_queue(Queue::bounded(64)))
    });
}

#[test]
fn lifo_queue_bounded_64_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("LifoQueue::bounded(64)", || {
            drive_queue(LifoQueue::bounded(64))
        })
    });
}

#[test]
fn priority_queue_unbounded_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("PriorityQueue::unbounded()", || {
            drive_queue(PriorityQueue::unbounded())
        })
    });
}

#[test]
fn channel_unbounded_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("channel::unbounded()", || {
            drive_channel(channel::unbounded())
        })
    });
}

#[test]
fn channel_bounded_16_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("channel::bounded(16)", || {
            drive_channel(channel::bounded(16))
        })
    });
}

#[test]
fn channel_rendezvous_moves_every_item_once() {
    bounded(60, || {
        on_every_stress_runtime("channel::bounded(0)", || drive_channel(channel::bounded(0)))
    });
}

/// `tasks` tasks each add 1 `per_task` times under one `spindle::sync::Mutex`.
fn count_under_mutex(rt: &Runtime, tasks: u64, per_task: u64) -> u64 {
    rt.block_on(move || {
        let m = Arc::new(Mutex::new(0u64));
        let hs: Vec<_> = (0..tasks)
            .map(|_| {
                let m = m.clone();
                spawn(move || {
                    for _ in 0..per_task {
                        *m.lock() += 1;
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        let n = *m.lock();
        n
    })
}

// The mutex hands over in strict FIFO order (no barging), so under this much contention
// many increments are a hand-over to a parked waiter: these two take seconds in the debug
// profile, hence the wider hang bound.

#[test]
fn mutex_1000_tasks_x_1000_increments_on_two_workers() {
    bounded(120, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let t = Instant::now();
        let n = count_under_mutex(&rt, 1_000, 1_000);
        eprintln!("Mutex 1000 x 1000 on cooperative/2: {:?}", t.elapsed());
        assert_eq!(n, 1_000_000);
    });
}

#[test]
fn mutex_100_threads_x_10000_increments_preemptive() {
    bounded(120, || {
        let rt = Runtime::preemptive().build().unwrap();
        let t = Instant::now();
        let n = count_under_mutex(&rt, 100, 10_000);
        eprintln!("Mutex 100 x 10000 on preemptive: {:?}", t.elapsed());
        assert_eq!(n, 1_000_000);
    });
}
