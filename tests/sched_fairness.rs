//! M:N scheduling: real parallelism, fairness, bounded wake-up latency, and blocking work
//! moved off the workers.

mod support;

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::{sleep, spawn, spawn_blocking, yield_now, Builder, Runtime};
use support::{bounded, panic_message};

#[test]
fn two_workers_run_two_tasks_at_the_same_time() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let both = rt.block_on(|| {
            let a = Arc::new(AtomicBool::new(false));
            let b = Arc::new(AtomicBool::new(false));
            // Each spins *without yielding* until it sees the other: only possible when the
            // two run in parallel on different workers.
            let spin = |me: Arc<AtomicBool>, other: Arc<AtomicBool>| {
                move || {
                    me.store(true, Ordering::SeqCst);
                    let t = Instant::now();
                    while !other.load(Ordering::SeqCst) {
                        if t.elapsed() > Duration::from_secs(5) {
                            return false;
                        }
                        std::hint::spin_loop();
                    }
                    true
                }
            };
            let h1 = spawn(spin(a.clone(), b.clone()));
            let h2 = spawn(spin(b, a));
            h1.join().unwrap() && h2.join().unwrap()
        });
        assert!(both, "the two tasks never ran at the same time");
    });
}

#[test]
fn spawns_from_every_worker_spread_over_both() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let threads = rt.block_on(|| {
            let mut ids = Vec::new();
            let t = Instant::now();
            // Batches of busy tasks, each spawning more, until both workers have run some
            // (an idle worker must wake and steal); bounded in time so a failure shows.
            while t.elapsed() < Duration::from_secs(10) {
                let hs: Vec<_> = (0..16)
                    .map(|_| {
                        spawn(|| {
                            let inner: Vec<_> = (0..4)
                                .map(|_| spawn(|| std::thread::current().id()))
                                .collect();
                            let t = Instant::now();
                            while t.elapsed() < Duration::from_millis(2) {
                                std::hint::spin_loop();
                            }
                            inner
                                .into_iter()
                                .map(|h| h.join().unwrap())
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                ids.extend(hs.into_iter().flat_map(|h| h.join().unwrap()));
                ids.sort_by_key(|id| format!("{id:?}"));
                ids.dedup();
                if ids.len() == 2 {
                    break;
                }
            }
            ids.len()
        });
        assert_eq!(threads, 2, "work was not shared between the two workers");
    });
}

#[test]
fn a_task_yielding_in_a_loop_does_not_starve_the_others() {
    bounded(30, || {
        for workers in [1, 2] {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            rt.block_on(|| {
                let stop = Arc::new(AtomicBool::new(false));
                let hogs: Vec<_> = (0..4)
                    .map(|_| {
                        let stop = stop.clone();
                        spawn(move || {
                            while !stop.load(Ordering::SeqCst) {
                                yield_now();
                            }
                        })
                    })
                    .collect();
                // Later spawns, sleepers and joiners all get their turn.
                let late = spawn(|| (0..100u32).sum::<u32>());
                assert_eq!(late.join().unwrap(), 4950);
                sleep(Duration::from_millis(5));
                stop.store(true, Ordering::SeqCst);
                for h in hogs {
                    h.join().unwrap();
                }
            });
        }
    });
}

#[test]
fn a_woken_task_runs_within_a_bounded_number_of_rounds() {
    bounded(30, || {
        const HOGS: usize = 8;
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let (lag, deadline_seen) = rt.block_on(|| {
            let yields = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let deadline = Instant::now() + Duration::from_millis(20);
            // The yield count at which some hog first saw the deadline pass.
            let seen_at = Arc::new(AtomicU64::new(u64::MAX));
            let hogs: Vec<_> = (0..HOGS)
                .map(|_| {
                    let (yields, stop, seen_at) = (yields.clone(), stop.clone(), seen_at.clone());
                    spawn(move || {
                        while !stop.load(Ordering::SeqCst) {
                            let n = yields.fetch_add(1, Ordering::SeqCst);
                            if Instant::now() >= deadline {
                                seen_at.fetch_min(n, Ordering::SeqCst);
                            }
                            yield_now();
                        }
                    })
                })
                .collect();
            let sleeper = {
                let yields = yields.clone();
                spawn(move || {
                    // Sleep until the very deadline the hogs watch for.
                    sleep(deadline.saturating_duration_since(Instant::now()));
                    yields.load(Ordering::SeqCst)
                })
            };
            let woke_at = sleeper.join().unwrap();
            stop.store(true, Ordering::SeqCst);
            for h in hogs {
                h.join().unwrap();
            }
            let seen = seen_at.load(Ordering::SeqCst);
            (woke_at.saturating_sub(seen), seen != u64::MAX)
        });
        assert!(deadline_seen, "the hogs never saw the deadline pass");
        // Timers are checked at least every 61 ticks (its deadline may fall just after one
        // check, so allow two); then the sleeper waits behind at most one round of the others.
        assert!(
            lag <= 2 * 61 + 2 * HOGS as u64 + 2,
            "the woken sleeper waited {lag} yields"
        );
    });
}

#[test]
fn spawn_blocking_keeps_the_worker_free() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let (value, ticks) = rt.block_on(|| {
            let ticks = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicBool::new(false));
            let counter = {
                let (ticks, done) = (ticks.clone(), done.clone());
                spawn(move || {
                    while !done.load(Ordering::SeqCst) {
                        ticks.fetch_add(1, Ordering::SeqCst);
                        sleep(Duration::from_millis(1));
                    }
                })
            };
            // The blocking job waits, on its own thread, for the other task to tick 20
            // times: it can only return if the worker keeps running that task meanwhile
            // (a blocked worker is a hang, which the bound turns into a failure).
            let seen = ticks.clone();
            let value = spawn_blocking(move || {
                while seen.load(Ordering::SeqCst) < 20 {
                    std::thread::sleep(Duration::from_millis(1));
                }
                7
            });
            done.store(true, Ordering::SeqCst);
            counter.join().unwrap();
            (value, ticks.load(Ordering::SeqCst))
        });
        assert_eq!(value, 7);
        assert!(
            ticks >= 20,
            "the other task ran only {ticks} times while the blocking call slept"
        );
    });
}

#[test]
fn spawn_blocking_propagates_panics_and_works_everywhere() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let msg = rt.block_on(|| {
            let h = spawn(|| spawn_blocking(|| -> u8 { panic!("blocking work failed") }));
            panic_message(&*h.join().unwrap_err())
        });
        assert_eq!(msg, "blocking work failed");
        // Many at once, more than one pool thread.
        let sum: u64 = rt.block_on(|| {
            let hs: Vec<_> = (0..32u64)
                .map(|i| {
                    spawn(move || {
                        spawn_blocking(move || {
                            std::thread::sleep(Duration::from_millis(10));
                            i
                        })
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(sum, (0..32).sum());
        // Preemptive tasks and plain threads just run it.
        let pre = Runtime::preemptive().build().unwrap();
        assert_eq!(pre.block_on(|| spawn_blocking(|| 5)), 5);
        assert_eq!(spawn_blocking(|| 6), 6);
    });
}

#[test]
fn named_tasks_and_many_workers() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(4).build().unwrap();
        assert_eq!(rt.workers(), 4);
        let n = rt.block_on(|| {
            let hs: Vec<_> = (0..200)
                .map(|i| {
                    Builder::new()
                        .name(format!("n{i}"))
                        .spawn(move || i)
                        .unwrap()
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<i32>()
        });
        assert_eq!(n, (0..200).sum());
        let default = Runtime::cooperative().build().unwrap();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(default.workers(), cores);
    });
}
