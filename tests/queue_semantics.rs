//! `spindle::queue` against Python's `queue` module: order of the three kinds, bounded and
//! unbounded queues, `try_*` and `*_timeout`, `task_done`/`join`, clones, on every backend,
//! and mixed use between plain OS threads and green threads.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::queue::{Empty, Full, LifoQueue, PriorityQueue, Queue};
use spindle::{sleep, spawn, yield_now, Runtime};
use support::{bounded, panic_message, runtimes};

/// Long enough to tell "waits" from "returns at once" on a loaded machine.
const WAIT: Duration = Duration::from_millis(40);

/// The three kinds behind one interface, so each behaviour is checked on all of them.
trait Kind: Clone + Send + Sync + 'static {
    const NAME: &'static str;
    fn bounded(maxsize: usize) -> Self;
    fn unbounded() -> Self;
    fn put(&self, v: u32);
    fn get(&self) -> u32;
    fn try_put(&self, v: u32) -> Result<(), Full<u32>>;
    fn try_get(&self) -> Result<u32, Empty>;
    fn put_timeout(&self, v: u32, d: Duration) -> Result<(), Full<u32>>;
    fn get_timeout(&self, d: Duration) -> Result<u32, Empty>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn maxsize(&self) -> usize;
    fn task_done(&self);
    fn join(&self);
}

macro_rules! kind {
    ($($ty:ident),*) => {$(
        impl Kind for $ty<u32> {
            const NAME: &'static str = stringify!($ty);
            fn bounded(maxsize: usize) -> Self { $ty::bounded(maxsize) }
            fn unbounded() -> Self { $ty::unbounded() }
            fn put(&self, v: u32) { $ty::put(self, v) }
            fn get(&self) -> u32 { $ty::get(self) }
            fn try_put(&self, v: u32) -> Result<(), Full<u32>> { $ty::try_put(self, v) }
            fn try_get(&self) -> Result<u32, Empty> { $ty::try_get(self) }
            fn put_timeout(&self, v: u32, d: Duration) -> Result<(), Full<u32>> {
                $ty::put_timeout(self, v, d)
            }
            fn get_timeout(&self, d: Duration) -> Result<u32, Empty> { $ty::get_timeout(self, d) }
            fn len(&self) -> usize { $ty::len(self) }
            fn is_empty(&self) -> bool { $ty::is_empty(self) }
            fn is_full(&self) -> bool { $ty::is_full(self) }
            fn maxsize(&self) -> usize { $ty::maxsize(self) }
            fn task_done(&self) { $ty::task_done(self) }
            fn join(&self) { $ty::join(self) }
        }
    )*};
}
kind!(Queue, LifoQueue, PriorityQueue);

/// Runs `check::<K>(backend)` inside `rt` for each of the three kinds.
fn on_each_kind(name: &'static str, rt: &Runtime, check: [fn(&'static str); 3]) {
    for f in check {
        rt.block_on(move || f(name));
    }
}

/// `[check::<Queue>, check::<LifoQueue>, check::<PriorityQueue>]`.
macro_rules! kinds {
    ($check:ident) => {
        [
            $check::<Queue<u32>> as fn(&'static str),
            $check::<LifoQueue<u32>>,
            $check::<PriorityQueue<u32>>,
        ]
    };
}

#[test]
fn fifo_lifo_and_smallest_first_orders_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let (fifo, lifo, prio) = rt.block_on(|| {
                let (q, l, p) = (
                    Queue::unbounded(),
                    LifoQueue::unbounded(),
                    PriorityQueue::unbounded(),
                );
                let producer = {
                    let (q, l, p) = (q.clone(), l.clone(), p.clone());
                    spawn(move || {
                        for v in [5, 1, 4, 2, 3] {
                            q.put(v);
                            l.put(v);
                            p.put(v);
                            yield_now();
                        }
                    })
                };
                producer.join().unwrap();
                let take = |f: &dyn Fn() -> u32| (0..5).map(|_| f()).collect::<Vec<u32>>();
                let out = (take(&|| q.get()), take(&|| l.get()), take(&|| p.get()));
                assert!(q.is_empty() && l.is_empty() && p.is_empty());
                out
            });
            assert_eq!(fifo, [5, 1, 4, 2, 3], "{name}: Queue is FIFO");
            assert_eq!(lifo, [3, 2, 4, 1, 5], "{name}: LifoQueue is LIFO");
            assert_eq!(
                prio,
                [1, 2, 3, 4, 5],
                "{name}: PriorityQueue is smallest first"
            );
        }
    });
}

#[test]
fn priority_queue_serves_priority_data_tuples_in_the_lectures_pattern() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let served = rt.block_on(|| {
                let q = PriorityQueue::unbounded();
                let producer = {
                    let q = q.clone();
                    spawn(move || {
                        for (prio, job) in [
                            (3, "sweep the floor"),
                            (1, "fix the outage"),
                            (2, "answer email"),
                            (1, "call the customer"),
                            (5, "stop"),
                        ] {
                            q.put((prio, job.to_string()));
                        }
                    })
                };
                producer.join().unwrap();
                let consumer = {
                    let q = q.clone();
                    spawn(move || {
                        let mut served = Vec::new();
                        loop {
                            let (prio, job) = q.get();
                            q.task_done();
                            if job == "stop" {
                                return served;
                            }
                            served.push((prio, job));
                        }
                    })
                };
                let served = consumer.join().unwrap();
                q.join();
                served
            });
            let served: Vec<(i32, &str)> = served.iter().map(|(p, j)| (*p, j.as_str())).collect();
            assert_eq!(
                served,
                [
                    (1, "call the customer"), // equal priorities: the data breaks the tie
                    (1, "fix the outage"),
                    (2, "answer email"),
                    (3, "sweep the floor"),
                ],
                "{name}"
            );
        }
    });
}

fn put_waits_while_full<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::bounded(2);
    assert_eq!(q.maxsize(), 2, "{what}");
    assert!(!q.is_full(), "{what}");
    q.put(1);
    assert!(!q.is_full(), "{what}");
    q.put(2);
    assert!(q.is_full(), "{what}");
    assert_eq!(q.len(), 2, "{what}");
    let returned = Arc::new(AtomicBool::new(false));
    let producer = {
        let (q, returned) = (q.clone(), returned.clone());
        spawn(move || {
            q.put(3); // full: must wait for a get
            returned.store(true, Ordering::SeqCst);
            Instant::now()
        })
    };
    sleep(WAIT);
    assert!(
        !returned.load(Ordering::SeqCst) && !producer.is_finished(),
        "{what}: put returned while the queue was full"
    );
    assert_eq!(q.len(), 2, "{what}: a put went past maxsize");
    let got_at = Instant::now();
    let first = q.get();
    let put_returned_at = producer.join().unwrap();
    assert!(returned.load(Ordering::SeqCst), "{what}");
    assert!(
        put_returned_at >= got_at,
        "{what}: the blocked put returned before the get that made room"
    );
    assert_eq!(q.len(), 2, "{what}");
    assert!(q.is_full(), "{what}");
    let mut rest = vec![first, q.get(), q.get()];
    rest.sort();
    assert_eq!(rest, [1, 2, 3], "{what}");
    assert!(q.is_empty(), "{what}");
}

#[test]
fn put_waits_while_full_until_a_get_makes_room_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(put_waits_while_full));
        }
    });
}

fn sizes<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let u = K::unbounded();
    assert_eq!(u.maxsize(), 0, "{what}: unbounded maxsize");
    for i in 0..10_000 {
        u.put(i);
    }
    assert_eq!(u.len(), 10_000, "{what}");
    assert!(!u.is_full(), "{what}: an unbounded queue is never full");
    assert!(u.try_put(1).is_ok(), "{what}");
    assert!(u.put_timeout(1, Duration::ZERO).is_ok(), "{what}");
    let b = K::bounded(3);
    assert_eq!(b.maxsize(), 3, "{what}");
    assert!(b.is_empty() && !b.is_full(), "{what}");
    for i in 0..3 {
        assert!(!b.is_full(), "{what}");
        b.put(i);
    }
    assert!(b.is_full() && !b.is_empty(), "{what}");
    assert_eq!(b.len(), 3, "{what}");
    b.get();
    assert!(!b.is_full(), "{what}");
    assert_eq!(
        b.maxsize(),
        3,
        "{what}: maxsize is the bound, not the length"
    );
}

#[test]
fn unbounded_never_fills_and_bounded_reports_its_size() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(sizes));
        }
    });
}

fn try_ops<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::bounded(1);
    assert_eq!(q.try_get(), Err(Empty), "{what}");
    assert_eq!(q.try_put(10), Ok(()), "{what}");
    let full = q.try_put(20).unwrap_err();
    assert_eq!(full.0, 20, "{what}");
    assert_eq!(full.into_inner(), 20, "{what}: Full hands the item back");
    assert_eq!(q.len(), 1, "{what}: the refused item was not put");
    assert_eq!(q.try_get(), Ok(10), "{what}");
    assert_eq!(q.try_get(), Err(Empty), "{what}");
}

#[test]
fn try_put_hands_the_item_back_and_try_get_reports_empty() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(try_ops));
        }
        // Outside any runtime too.
        try_ops::<Queue<u32>>("plain thread");
        try_ops::<LifoQueue<u32>>("plain thread");
        try_ops::<PriorityQueue<u32>>("plain thread");
    });
}

#[test]
fn full_and_empty_are_errors_with_display_and_debug() {
    struct NoDebug(u8);
    let q = Queue::bounded(1);
    q.put(NoDebug(1));
    let full: Full<NoDebug> = q.try_put(NoDebug(2)).unwrap_err();
    assert!(full.to_string().contains("full"), "{full}");
    assert!(!format!("{full:?}").is_empty());
    let boxed: Box<dyn std::error::Error> = Box::new(full);
    assert!(boxed.to_string().contains("full"));
    assert_eq!(q.get().0, 1);
    let empty = q.try_get().map(|v| v.0).unwrap_err();
    assert!(empty.to_string().contains("empty"), "{empty}");
    assert_eq!(format!("{empty:?}"), "Empty");
    let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(empty);
    assert!(boxed.to_string().contains("empty"));
}

fn timeouts_wait<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let d = Duration::from_millis(30);
    let q = K::bounded(1);
    let t = Instant::now();
    assert_eq!(q.get_timeout(d), Err(Empty), "{what}");
    assert!(t.elapsed() >= d, "{what}: get_timeout gave up early");
    q.put(1);
    let t = Instant::now();
    let full = q.put_timeout(2, d).unwrap_err();
    assert!(t.elapsed() >= d, "{what}: put_timeout gave up early");
    assert_eq!(full.into_inner(), 2, "{what}");
    assert_eq!(q.len(), 1, "{what}");
    assert_eq!(q.get(), 1, "{what}");
}

#[test]
fn timeouts_wait_at_least_their_duration_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(timeouts_wait));
        }
    });
}

fn zero_timeouts<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::bounded(1);
    let t = Instant::now();
    assert_eq!(q.get_timeout(Duration::ZERO), Err(Empty), "{what}");
    assert_eq!(q.put_timeout(1, Duration::ZERO), Ok(()), "{what}");
    assert_eq!(
        q.put_timeout(2, Duration::ZERO).unwrap_err().into_inner(),
        2,
        "{what}"
    );
    assert_eq!(q.get_timeout(Duration::ZERO), Ok(1), "{what}");
    assert_eq!(q.get_timeout(Duration::ZERO), Err(Empty), "{what}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{what}: a zero timeout waited"
    );
}

#[test]
fn zero_timeouts_behave_like_try() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(zero_timeouts));
        }
    });
}

fn huge_timeouts<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::bounded(1);
    // Available at once.
    assert_eq!(q.put_timeout(1, Duration::MAX), Ok(()), "{what}");
    assert_eq!(q.get_timeout(Duration::MAX), Ok(1), "{what}");
    // Available later: the huge deadline neither overflows nor fires.
    let producer = {
        let q = q.clone();
        spawn(move || {
            sleep(Duration::from_millis(10));
            q.put(2);
        })
    };
    assert_eq!(q.get_timeout(Duration::MAX), Ok(2), "{what}");
    producer.join().unwrap();
    q.put(3);
    let consumer = {
        let q = q.clone();
        spawn(move || {
            sleep(Duration::from_millis(10));
            q.get()
        })
    };
    assert_eq!(q.put_timeout(4, Duration::MAX), Ok(()), "{what}");
    assert_eq!(consumer.join().unwrap(), 3, "{what}");
    assert_eq!(q.get(), 4, "{what}");
}

#[test]
fn huge_timeouts_work_when_an_item_or_room_comes() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(huge_timeouts));
        }
    });
}

fn join_waits_for_task_done<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::unbounded();
    for i in 0..3 {
        q.put(i);
    }
    // Everything is taken, nothing is done yet: join must still wait.
    let taken: Vec<u32> = (0..3).map(|_| q.get()).collect();
    assert_eq!(taken.len(), 3);
    let done = Arc::new(AtomicUsize::new(0));
    let joiner = {
        let (q, done) = (q.clone(), done.clone());
        spawn(move || {
            q.join();
            done.load(Ordering::SeqCst)
        })
    };
    sleep(WAIT);
    assert!(
        !joiner.is_finished(),
        "{what}: join returned with 3 items not done"
    );
    for left in (0..3).rev() {
        if left == 0 {
            // The last one comes late, from another task.
            let (q, done) = (q.clone(), done.clone());
            spawn(move || {
                sleep(Duration::from_millis(20));
                done.fetch_add(1, Ordering::SeqCst);
                q.task_done();
            });
            break;
        }
        done.fetch_add(1, Ordering::SeqCst);
        q.task_done();
        sleep(Duration::from_millis(5));
        assert!(
            !joiner.is_finished(),
            "{what}: join returned with {left} items not done"
        );
    }
    q.join();
    assert_eq!(
        done.load(Ordering::SeqCst),
        3,
        "{what}: join returned early"
    );
    assert_eq!(joiner.join().unwrap(), 3, "{what}: join returned early");
    // Put again: join waits again, then is satisfied again.
    q.put(9);
    let marked = Arc::new(AtomicBool::new(false));
    let worker = {
        let (q, marked) = (q.clone(), marked.clone());
        spawn(move || {
            let v = q.get();
            sleep(Duration::from_millis(10));
            marked.store(true, Ordering::SeqCst);
            q.task_done();
            v
        })
    };
    q.join();
    assert!(
        marked.load(Ordering::SeqCst),
        "{what}: join returned before the new item was done"
    );
    assert_eq!(worker.join().unwrap(), 9, "{what}");
}

#[test]
fn join_returns_only_after_the_last_task_done_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(join_waits_for_task_done));
        }
    });
}

fn join_when_nothing_is_pending<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let t = Instant::now();
    let q = K::unbounded();
    q.join(); // nothing was ever put
    q.put(1);
    q.get();
    q.task_done();
    q.join(); // everything put is done
    let other = q.clone();
    std::thread::spawn(move || other.join()).join().unwrap(); // from a plain thread too
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{what}: join waited with nothing pending"
    );
}

#[test]
fn join_on_a_queue_with_nothing_pending_returns_at_once() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(join_when_nothing_is_pending));
        }
        join_when_nothing_is_pending::<Queue<u32>>("plain thread");
    });
}

fn task_done_too_many<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let q = K::unbounded();
    q.put(1);
    q.get();
    q.task_done();
    // One too many, in a task: the task fails with the message, the queue stays usable.
    let err = {
        let q = q.clone();
        spawn(move || q.task_done()).join().unwrap_err()
    };
    let msg = panic_message(&*err);
    assert!(msg.contains("task_done"), "{what}: {msg}");
    q.put(2);
    assert_eq!(q.get(), 2, "{what}");
    q.task_done();
    q.join();
}

#[test]
fn one_task_done_too_many_panics() {
    bounded(30, || {
        // On a plain thread, caught directly.
        let q = Queue::<u8>::unbounded();
        let p = panic::catch_unwind(AssertUnwindSafe(|| q.task_done())).unwrap_err();
        let msg = panic_message(&*p);
        assert!(msg.contains("task_done"), "{msg}");
        q.put(1);
        q.put(2);
        q.get();
        q.get();
        q.task_done();
        q.task_done();
        let p = panic::catch_unwind(AssertUnwindSafe(|| q.task_done())).unwrap_err();
        assert!(panic_message(&*p).contains("task_done"));
        q.join(); // the failed call did not corrupt the count
                  // In tasks on every backend.
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(task_done_too_many));
        }
    });
}

#[test]
fn bounded_zero_panics_with_a_clear_message() {
    bounded(30, || {
        let messages = [
            (
                "Queue",
                panic::catch_unwind(|| Queue::<u8>::bounded(0)).map(drop),
            ),
            (
                "LifoQueue",
                panic::catch_unwind(|| LifoQueue::<u8>::bounded(0)).map(drop),
            ),
            (
                "PriorityQueue",
                panic::catch_unwind(|| PriorityQueue::<u8>::bounded(0)).map(drop),
            ),
        ];
        for (kind, result) in messages {
            let msg = panic_message(&*result.unwrap_err());
            assert!(msg.contains("bounded(0)"), "{kind}: {msg}");
            assert!(msg.contains("maxsize"), "{kind}: {msg}");
            assert!(msg.contains("unbounded"), "{kind}: says what to use: {msg}");
        }
        // The smallest legal bound works.
        assert_eq!(Queue::<u8>::bounded(1).maxsize(), 1);
    });
}

fn clones_share<K: Kind>(backend: &'static str) {
    let what = format!("{backend}/{}", K::NAME);
    let a = K::bounded(2);
    let b = a.clone();
    a.put(1);
    assert_eq!(b.len(), 1, "{what}");
    b.put(2);
    assert!(a.is_full(), "{what}: the clone's put filled the original");
    assert_eq!(b.try_put(3).unwrap_err().into_inner(), 3, "{what}");
    let c = b.clone();
    drop(b);
    let other_task = spawn(move || {
        let got = c.get();
        c.task_done();
        got
    });
    let got = other_task.join().unwrap();
    assert!(got == 1 || got == 2, "{what}");
    assert_eq!(a.len(), 1, "{what}: the clone's get took from the original");
    a.get();
    a.task_done();
    a.join(); // task_done on a clone counts for the original
    assert!(a.is_empty(), "{what}");
}

#[test]
fn clone_handles_share_one_queue_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_kind(name, &rt, kinds!(clones_share));
        }
    });
}

#[test]
fn a_plain_thread_puts_while_a_green_thread_gets() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            // Made outside the runtime, shared with a plain thread.
            let q = Queue::bounded(4);
            let outside = {
                let q = q.clone();
                std::thread::spawn(move || {
                    for i in 0..500u32 {
                        q.put(i);
                        if i % 100 == 0 {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                })
            };
            let got = rt.block_on(move || {
                spawn(move || (0..500).map(|_| q.get()).collect::<Vec<u32>>())
                    .join()
                    .unwrap()
            });
            outside.join().unwrap();
            assert_eq!(got, (0..500).collect::<Vec<_>>(), "{name}");
        }
    });
}

#[test]
fn a_green_thread_puts_while_a_plain_thread_gets() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let q = Queue::bounded(4);
            let outside = {
                let q = q.clone();
                std::thread::spawn(move || {
                    let mut got = Vec::new();
                    for _ in 0..500 {
                        got.push(q.get());
                        q.task_done();
                    }
                    got
                })
            };
            let q2 = q.clone();
            rt.block_on(move || {
                spawn(move || {
                    for i in 0..500u32 {
                        q2.put(i);
                        if i % 100 == 0 {
                            sleep(Duration::from_millis(5));
                        }
                    }
                    q2.join(); // waits on the plain thread's task_done calls
                })
                .join()
                .unwrap()
            });
            assert_eq!(
                outside.join().unwrap(),
                (0..500).collect::<Vec<_>>(),
                "{name}"
            );
            assert!(q.is_empty());
        }
    });
}

#[test]
fn mixed_use_on_every_kind() {
    fn mixed<K: Kind>(name: &'static str, rt: &Runtime) {
        let what = format!("{name}/{}", K::NAME);
        // A plain thread blocked in get is woken by a green thread's put, and the other way
        // round: a green thread blocked in put is woken by a plain thread's get.
        let to_green = K::bounded(1);
        let to_plain = K::bounded(1);
        let plain = {
            let (to_green, to_plain) = (to_green.clone(), to_plain.clone());
            std::thread::spawn(move || {
                let mut sum = 0;
                for i in 0..200u32 {
                    to_green.put(i);
                    sum += to_plain.get();
                }
                sum
            })
        };
        let (tg, tp) = (to_green.clone(), to_plain.clone());
        let green_sum = rt.block_on(move || {
            let mut sum = 0;
            for _ in 0..200 {
                let v = tg.get();
                sum += v;
                tp.put(v * 2);
            }
            sum
        });
        assert_eq!(green_sum, (0..200).sum::<u32>(), "{what}");
        assert_eq!(plain.join().unwrap(), 2 * green_sum, "{what}");
    }
    bounded(30, || {
        for (name, rt) in runtimes() {
            mixed::<Queue<u32>>(name, &rt);
            mixed::<LifoQueue<u32>>(name, &rt);
            mixed::<PriorityQueue<u32>>(name, &rt);
        }
    });
}

#[test]
fn a_green_thread_blocked_in_get_does_not_block_its_worker() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let (ticks, got) = rt.block_on(|| {
            let q = Queue::unbounded();
            let waiting = Arc::new(AtomicBool::new(false));
            let getter = {
                let (q, waiting) = (q.clone(), waiting.clone());
                spawn(move || {
                    waiting.store(true, Ordering::SeqCst);
                    q.get()
                })
            };
            while !waiting.load(Ordering::SeqCst) {
                yield_now();
            }
            // The getter is parked in get on the only worker; others must still run.
            let ticks = Arc::new(AtomicUsize::new(0));
            let ticker = {
                let ticks = ticks.clone();
                spawn(move || {
                    for _ in 0..100 {
                        ticks.fetch_add(1, Ordering::SeqCst);
                        yield_now();
                    }
                })
            };
            ticker.join().unwrap();
            sleep(Duration::from_millis(10));
            assert!(!getter.is_finished(), "get returned from an empty queue");
            q.put(42u32);
            (ticks.load(Ordering::SeqCst), getter.join().unwrap())
        });
        assert_eq!(ticks, 100);
        assert_eq!(got, 42);
    });
}
