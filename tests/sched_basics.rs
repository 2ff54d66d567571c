//! The runtime API on every backend: block_on, spawn, join, names and ids, yield, sleep,
//! panics, daemons, nesting, and misuse.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spindle::coroutine::{Generator, Yielder};
use spindle::{current, sleep, spawn, yield_now, Builder, Cancelled, Runtime};
use support::{bounded, panic_message, runtimes};

#[test]
fn api_md_example_sums_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let sum: u64 = rt.block_on(|| {
                let hs: Vec<_> = (0..8u64)
                    .map(|i| {
                        spawn(move || {
                            yield_now();
                            i
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            assert_eq!(sum, 28, "{name}");
        }
    });
}

#[test]
fn block_on_runs_again_and_again() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            for i in 0..20u32 {
                assert_eq!(
                    rt.block_on(move || spawn(move || i * 2).join().unwrap()),
                    i * 2,
                    "{name}"
                );
            }
        }
    });
}

#[test]
fn names_ids_and_current() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                assert_eq!(current().name(), Some("main"), "{name}");
                let me = current().id();
                let h = Builder::new()
                    .name("child")
                    .spawn(|| (current().name().map(String::from), current().id()))
                    .unwrap();
                let hid = h.id();
                assert_eq!(h.name(), Some("child"));
                let (cname, cid) = h.join().unwrap();
                assert_eq!(cname.as_deref(), Some("child"), "{name}");
                assert_eq!(cid, hid, "{name}");
                assert_ne!(cid, me, "{name}");
                let unnamed = spawn(|| current().name().map(String::from)).join().unwrap();
                assert_eq!(unnamed, None, "{name}");
            });
        }
    });
}

#[test]
fn yield_interleaves_round_robin_on_one_worker() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let log = rt.block_on(|| {
            let log = Arc::new(Mutex::new(Vec::new()));
            let hs: Vec<_> = (0..3)
                .map(|t| {
                    let log = log.clone();
                    spawn(move || {
                        for i in 0..3 {
                            log.lock().unwrap().push((t, i));
                            yield_now();
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            Arc::try_unwrap(log).unwrap().into_inner().unwrap()
        });
        // Cooperative scheduling on one worker is deterministic: strict rounds.
        let want: Vec<(i32, i32)> = (0..3).flat_map(|i| (0..3).map(move |t| (t, i))).collect();
        assert_eq!(log, want);
    });
}

#[test]
fn sleep_parks_without_blocking_the_worker() {
    bounded(60, || {
        for (name, rt) in runtimes() {
            // 50 sleepers on (possibly) one worker: if a sleep blocked the worker they would
            // sleep one after another; parked, they all sleep at the same time. Checked by
            // overlap, not by a wall-clock bound: every sleeper starts before any wakes.
            let spans = rt.block_on(|| {
                let hs: Vec<_> = (0..50)
                    .map(|_| {
                        spawn(|| {
                            let start = Instant::now();
                            sleep(Duration::from_millis(300));
                            (start, Instant::now())
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            });
            let last_start = spans.iter().map(|s| s.0).max().unwrap();
            let first_end = spans.iter().map(|s| s.1).min().unwrap();
            assert!(
                last_start < first_end,
                "{name}: a sleeper started only after another had woken: the sleeps did not overlap"
            );
            for (start, end) in spans {
                assert!(
                    end - start >= Duration::from_millis(300),
                    "{name}: woke early"
                );
            }
        }
    });
}

#[test]
fn sleep_ordering_follows_deadlines() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let order = rt.block_on(|| {
            let order = Arc::new(Mutex::new(Vec::new()));
            let hs: Vec<_> = [60u64, 20, 40]
                .into_iter()
                .map(|ms| {
                    let order = order.clone();
                    spawn(move || {
                        sleep(Duration::from_millis(ms));
                        order.lock().unwrap().push(ms);
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            let v = order.lock().unwrap().clone();
            v
        });
        assert_eq!(order, [20, 40, 60]);
    });
}

#[test]
fn zero_and_huge_sleeps() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(|| sleep(Duration::ZERO));
            if rt.is_cooperative() {
                // A daemon sleeping "forever" does not hold block_on, and is cancelled.
                let t = Instant::now();
                rt.block_on(|| {
                    Builder::new()
                        .daemon(true)
                        .spawn(|| sleep(Duration::MAX))
                        .unwrap();
                });
                // A hang guard: the daemon sleeps for a hundred years.
                assert!(t.elapsed() < Duration::from_secs(20), "{name}");
            }
        }
    });
}

#[test]
fn a_panicking_task_reaches_its_joiner_and_the_runtime_goes_on() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let msg = rt.block_on(|| {
                let h = spawn(|| -> u32 { panic!("task failed on purpose") });
                let err = h.join().unwrap_err();
                panic_message(&*err)
            });
            assert_eq!(msg, "task failed on purpose", "{name}");
            assert_eq!(
                rt.block_on(|| spawn(|| 1).join().unwrap()),
                1,
                "{name}: runtime still works"
            );
        }
    });
}

#[test]
fn a_panic_in_block_on_reaches_the_caller() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let err =
                panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(|| panic!("root failed"))))
                    .unwrap_err();
            assert_eq!(panic_message(&*err), "root failed", "{name}");
            assert_eq!(rt.block_on(|| 3), 3, "{name}");
        }
    });
}

#[test]
fn spawn_outside_a_runtime_panics_with_advice() {
    let err = panic::catch_unwind(|| spawn(|| ())).unwrap_err();
    let msg = panic_message(&*err);
    assert!(msg.contains("block_on"), "{msg}");
    let err = panic::catch_unwind(|| Builder::new().spawn(|| ())).unwrap_err();
    assert!(panic_message(&*err).contains("block_on"));
    let err = panic::catch_unwind(current).unwrap_err();
    assert!(panic_message(&*err).contains("block_on"));
    assert!(spindle::try_current().is_none());
}

#[test]
fn block_on_inside_a_task_panics() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let rt = Arc::new(rt);
            let inner = rt.clone();
            let msg = rt.block_on(move || {
                let r = panic::catch_unwind(AssertUnwindSafe(|| inner.block_on(|| ())));
                panic_message(&*r.unwrap_err())
            });
            assert!(msg.contains("inside a task"), "{name}: {msg}");
        }
    });
}

#[test]
fn join_handles_cross_tasks_and_threads() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            // A plain OS thread, outside the runtime, joins a task's handle.
            let (tx, rx) = std::sync::mpsc::channel::<spindle::JoinHandle<u32>>();
            let outside = std::thread::spawn(move || rx.recv().unwrap().join().unwrap());
            rt.block_on(move || {
                let a = spawn(|| {
                    sleep(Duration::from_millis(20));
                    5
                });
                // Another task joins `a`.
                let b = spawn(move || a.join().unwrap() + 1);
                tx.send(b).unwrap();
            });
            assert_eq!(outside.join().unwrap(), 6, "{name}");
        }
    });
}

#[test]
fn is_finished_tracks_completion() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let h = spawn(|| sleep(Duration::from_millis(30)));
                assert!(!h.is_finished(), "{name}");
                while !h.is_finished() {
                    sleep(Duration::from_millis(1));
                }
                h.join().unwrap();
            });
        }
    });
}

#[test]
fn builder_rejects_bad_stack_sizes() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let e = Builder::new().stack_size(0).spawn(|| ()).unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{name}");
                let e = Builder::new()
                    .stack_size(usize::MAX)
                    .spawn(|| ())
                    .unwrap_err();
                assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{name}");
                let big = Builder::new().stack_size(4 << 20).spawn(|| {
                    let buf = [1u8; 3 << 20];
                    std::hint::black_box(&buf).len()
                });
                assert_eq!(big.unwrap().join().unwrap(), 3 << 20, "{name}");
            });
        }
        assert!(Runtime::cooperative().workers(0).build().is_err());
        assert!(Runtime::cooperative().workers(1 << 20).build().is_err());
        assert!(Runtime::preemptive().stack_size(0).build().is_err());
    });
}

/// Counts its drops.
struct Tally(Arc<AtomicUsize>);
impl Drop for Tally {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn daemons_do_not_hold_block_on() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let t = Instant::now();
            let done = rt.block_on(|| {
                Builder::new()
                    .daemon(true)
                    .spawn(|| loop {
                        sleep(Duration::from_millis(5));
                    })
                    .unwrap();
                spawn(|| {
                    sleep(Duration::from_millis(50));
                    "worker done"
                })
                .join()
                .unwrap()
            });
            assert_eq!(done, "worker done");
            // A hang guard: the daemon loops forever.
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "{name}: {:?}",
                t.elapsed()
            );
        }
    });
}

#[test]
fn non_daemons_are_awaited_even_when_not_joined() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let hits = Arc::new(AtomicUsize::new(0));
            let h2 = hits.clone();
            rt.block_on(move || {
                for _ in 0..10 {
                    let h = h2.clone();
                    spawn(move || {
                        sleep(Duration::from_millis(30));
                        h.fetch_add(1, Ordering::SeqCst);
                    });
                }
            });
            assert_eq!(hits.load(Ordering::SeqCst), 10, "{name}");
        }
    });
}

#[test]
fn cancelled_daemons_unwind_and_run_destructors() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let started = Arc::new(AtomicUsize::new(0));
        let handles = rt.block_on(move || {
            let mut hs = Vec::new();
            for i in 0..20 {
                let d = d.clone();
                let started = started.clone();
                hs.push(
                    Builder::new()
                        .daemon(true)
                        .spawn(move || {
                            let _t = Tally(d);
                            started.fetch_add(1, Ordering::SeqCst);
                            loop {
                                // Parked, yielding and sleeping daemons are all cancelled.
                                match i % 3 {
                                    0 => sleep(Duration::from_secs(3600)),
                                    1 => yield_now(),
                                    _ => sleep(Duration::from_millis(1)),
                                }
                            }
                        })
                        .unwrap(),
                );
            }
            // Let them all start, then finish; the last daemon may never start, so its
            // `Tally` is made here: it is dropped whether the task runs (and drops it) or
            // is cancelled unstarted (and its closure, holding it, is dropped).
            while started.load(Ordering::SeqCst) < 20 {
                sleep(Duration::from_millis(1));
            }
            let tally = Tally(d.clone());
            hs.push(
                Builder::new()
                    .daemon(true)
                    .spawn(move || drop(tally))
                    .unwrap(),
            );
            hs
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            21,
            "every daemon's destructors ran before block_on returned"
        );
        let last = handles.len() - 1;
        for (i, h) in handles.into_iter().enumerate() {
            assert!(h.is_finished());
            match h.join() {
                Err(e) => assert!(e.is::<Cancelled>(), "daemon {i} failed with something else"),
                // The last daemon may run to its end before block_on starts cancelling.
                Ok(()) => assert_eq!(i, last, "daemon {i} was not cancelled"),
            }
        }
        // The runtime is still usable.
        assert_eq!(rt.block_on(|| 9), 9);
    });
}

#[test]
fn a_daemons_children_are_daemons_unless_told_otherwise() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let flags = rt.block_on(|| {
                Builder::new()
                    .daemon(true)
                    .spawn(|| {
                        let inherited = spawn(|| current().is_daemon()).join().unwrap();
                        let overridden = Builder::new()
                            .daemon(false)
                            .spawn(|| current().is_daemon())
                            .unwrap()
                            .join()
                            .unwrap();
                        (inherited, overridden)
                    })
                    .unwrap()
                    .join()
                    .unwrap()
            });
            assert_eq!(flags, (true, false), "{name}");
        }
    });
}

#[test]
fn generators_nest_inside_tasks_and_blocking_calls_suspend_the_task() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let (values, other_ran) = rt.block_on(|| {
                let flag = Arc::new(AtomicUsize::new(0));
                let f2 = flag.clone();
                let other = spawn(move || {
                    f2.store(1, Ordering::SeqCst);
                });
                let g = Generator::new(move |y: &Yielder<(), u32>| {
                    for i in 0..3 {
                        // These suspend the whole task, not just the generator.
                        yield_now();
                        sleep(Duration::from_millis(2));
                        y.suspend(i);
                    }
                });
                let values: Vec<u32> = g.collect();
                other.join().unwrap();
                (values, flag.load(Ordering::SeqCst))
            });
            assert_eq!(values, [0, 1, 2], "{name}");
            assert_eq!(other_ran, 1, "{name}");
        }
    });
}

#[test]
fn a_daemon_cancelled_inside_a_generator_unwinds_both_stacks() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        rt.block_on(move || {
            Builder::new()
                .daemon(true)
                .spawn(move || {
                    let _outer = Tally(d.clone());
                    let d2 = d.clone();
                    let g = Generator::new(move |y: &Yielder<(), ()>| {
                        let _inner = Tally(d2);
                        loop {
                            sleep(Duration::from_secs(3600));
                            y.suspend(());
                        }
                    });
                    for () in g {}
                })
                .unwrap();
            sleep(Duration::from_millis(10));
        });
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn runtimes_are_send_and_sync_and_handles_are_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<Runtime>();
    assert_send_sync::<spindle::JoinHandle<u32>>();
    assert_send::<spindle::Task>();
}

#[test]
fn thread_locals_and_thread_stay_put_across_switches() {
    bounded(60, || {
        std::thread_local!(static MARK: u8 = const { 0 });
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        rt.block_on(|| {
            let hs: Vec<_> = (0..8)
                .map(|_| {
                    spawn(|| {
                        let tid = std::thread::current().id();
                        let addr = MARK.with(|m| m as *const u8 as usize);
                        for _ in 0..2000 {
                            yield_now();
                            assert_eq!(std::thread::current().id(), tid);
                            assert_eq!(MARK.with(|m| m as *const u8 as usize), addr);
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
    });
}
