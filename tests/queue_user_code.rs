//! User code never runs under a queue's internal spin lock: a `PriorityQueue` item's `Ord`
//! may sleep (park its green thread) without wedging the other users of the queue, even on
//! one worker; and an `Ord` that panics makes the `put` or `get` that called it panic while
//! leaving the queue as it was (the item either in or out, the counts right).

mod support;

use std::cmp::Ordering;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering as AtomicOrdering};
use std::time::Duration;

use spindle::queue::PriorityQueue;
use spindle::{spawn, Runtime};
use support::{bounded, panic_message};

/// An item whose comparison sleeps: parks the green thread calling `Ord` in the middle of
/// the queue's `put` or `get`.
#[derive(Debug)]
struct Sleepy(u32);

static SLEEPY_COMPARISONS: AtomicUsize = AtomicUsize::new(0);

impl Ord for Sleepy {
    fn cmp(&self, other: &Sleepy) -> Ordering {
        SLEEPY_COMPARISONS.fetch_add(1, AtomicOrdering::Relaxed);
        spindle::sleep(Duration::from_micros(50));
        self.0.cmp(&other.0)
    }
}
impl PartialOrd for Sleepy {
    fn partial_cmp(&self, other: &Sleepy) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Sleepy {
    fn eq(&self, other: &Sleepy) -> bool {
        self.0 == other.0
    }
}
impl Eq for Sleepy {}

const PRODUCERS: u32 = 3;
const CONSUMERS: u32 = 3;
const EACH: u32 = 12;

/// Values spread so that the producers' puts interleave in the order.
fn value(producer: u32, i: u32) -> u32 {
    i * PRODUCERS + producer
}

#[test]
fn an_ord_that_sleeps_on_one_worker() {
    bounded(120, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        rt.block_on(|| {
            // Producers and consumers at once, on a bounded queue: putters wait for room,
            // getters for items, while comparisons park their callers.
            let q = PriorityQueue::bounded(4);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    spawn(move || {
                        for i in 0..EACH {
                            q.put(Sleepy(value(p, i)));
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    spawn(move || {
                        (0..EACH)
                            .map(|_| {
                                let v = q.get().0;
                                q.task_done();
                                v
                            })
                            .collect::<Vec<u32>>()
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            let mut all: Vec<u32> = consumers
                .into_iter()
                .flat_map(|c| c.join().unwrap())
                .collect();
            q.join();
            all.sort_unstable();
            let expected: Vec<u32> = (0..PRODUCERS * EACH).collect();
            assert_eq!(all, expected, "every item came out exactly once");
            assert!(q.is_empty());

            // Every item in first, then several consumers at once: the gets take the items
            // smallest first, so each consumer sees an increasing run.
            let q = PriorityQueue::unbounded();
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    spawn(move || {
                        for i in (0..EACH).rev() {
                            q.put(Sleepy(value(p, i)));
                        }
                    })
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            assert_eq!(q.len(), (PRODUCERS * EACH) as usize);
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    spawn(move || {
                        (0..EACH)
                            .map(|_| {
                                let v = q.get().0;
                                q.task_done();
                                v
                            })
                            .collect::<Vec<u32>>()
                    })
                })
                .collect();
            let runs: Vec<Vec<u32>> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
            q.join();
            for run in &runs {
                assert!(run.windows(2).all(|w| w[0] < w[1]), "out of order: {run:?}");
            }
            let mut all: Vec<u32> = runs.concat();
            all.sort_unstable();
            assert_eq!(all, expected);
        });
        assert!(SLEEPY_COMPARISONS.load(AtomicOrdering::Relaxed) > 0);
    });
}

/// An item whose comparison panics when either side is marked, or when `ARMED` is set.
#[derive(Debug)]
struct Touchy {
    value: u32,
    marked: bool,
}

static ARMED: AtomicBool = AtomicBool::new(false);

impl Ord for Touchy {
    fn cmp(&self, other: &Touchy) -> Ordering {
        if self.marked || other.marked {
            panic!("compared a marked item");
        }
        if ARMED.load(AtomicOrdering::SeqCst) {
            panic!("comparisons are armed");
        }
        self.value.cmp(&other.value)
    }
}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Touchy) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Touchy {
    fn eq(&self, other: &Touchy) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Touchy {}

fn item(value: u32) -> Touchy {
    Touchy {
        value,
        marked: false,
    }
}

#[test]
fn an_ord_that_panics_leaves_the_queue_usable() {
    bounded(60, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        rt.block_on(|| {
            let q = PriorityQueue::bounded(4);
            for v in [5, 1, 3] {
                q.put(item(v));
            }
            // The marked item is compared on its way in: its `put` panics, and it is out.
            let q2 = q.clone();
            let h = spawn(move || {
                q2.put(Touchy {
                    value: 2,
                    marked: true,
                })
            });
            let err = h.join().expect_err("the put of the marked item panics");
            assert_eq!(panic_message(&*err), "compared a marked item");
            assert_eq!(q.len(), 3);
            assert!(!q.is_full(), "the room the failed put took is free again");

            // A `get` whose comparisons panic leaves its item in.
            q.put(item(4));
            ARMED.store(true, AtomicOrdering::SeqCst);
            let err = panic::catch_unwind(AssertUnwindSafe(|| q.get()))
                .expect_err("the get panics while comparisons are armed");
            ARMED.store(false, AtomicOrdering::SeqCst);
            assert_eq!(panic_message(&*err), "comparisons are armed");
            assert_eq!(q.len(), 4);
            assert!(q.is_full());

            // The queue works on: the other items come out in order, and `join` returns
            // once each is done (the marked item never counted).
            let got: Vec<u32> = (0..4)
                .map(|_| {
                    let v = q.get().value;
                    q.task_done();
                    v
                })
                .collect();
            assert_eq!(got, [1, 3, 4, 5]);
            assert!(q.is_empty());
            q.join();
            q.put(item(9));
            assert_eq!(q.get().value, 9);
            q.task_done();
            q.join();
        });
    });
}
