//! `spindle::Pool` against Python's `multiprocessing.Pool` / `ThreadPool`: `apply_async` and
//! its `AsyncResult` (`get`, `get_timeout`, `ready`), `map`, `imap`, `imap_unordered`,
//! panics, `close`/`join`/`terminate`, dropping a pool, on every backend. Nothing here
//! relies on a sleep for ordering: jobs that must be held wait on an `Event` the test sets.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::queue::Queue;
use spindle::sync::Event;
use spindle::{sleep, yield_now, AsyncResult, Pool, PoolError, Runtime};
use support::{bounded, panic_message, runtimes};

/// How long a job held on an `Event` waits at most: far beyond any test's needs, well
/// within its bound, so a broken pool fails instead of hanging.
const HOLD: Duration = Duration::from_secs(20);

/// Runs `check(backend name)` inside each runtime of `support::runtimes()`, within `secs`.
fn on_every_backend(secs: u64, check: fn(&'static str)) {
    bounded(secs, move || {
        for (name, rt) in runtimes() {
            rt.block_on(move || check(name));
        }
    });
}

/// A job that tells when it has started, then waits (at most `HOLD`) for `gate`; returns
/// whether the gate was set.
fn held(started: &Arc<Event>, gate: &Arc<Event>) -> impl FnOnce() -> bool + Send + 'static {
    let (started, gate) = (started.clone(), gate.clone());
    move || {
        started.set();
        gate.wait_timeout(HOLD)
    }
}

/// Waits until `r` is ready, yielding (bounded by the test's guard).
fn wait_ready<T>(r: &AsyncResult<T>) {
    while !r.ready() {
        sleep(Duration::from_millis(1));
    }
}

/// The message of a panic `f` raises, or a test failure if it does not panic.
fn panic_of(what: &str, f: impl FnOnce()) -> String {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(()) => panic!("{what} did not panic"),
        Err(p) => panic_message(&*p),
    }
}

/// Adds one to its counter when dropped: counts the captures a pool drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn apply_async_get() {
    on_every_backend(60, |name| {
        let pool = Pool::new(4).unwrap();
        let x = 10u64;
        let r = pool.apply_async(move || x * x);
        assert_eq!(r.get().unwrap(), 100, "{name}");
        let rs: Vec<_> = (0..20u64)
            .map(|i| pool.apply_async(move || i + 1))
            .collect();
        let sum: u64 = rs.into_iter().map(|r| r.get().unwrap()).sum();
        assert_eq!(sum, 210, "{name}");
        // Values that are neither Copy nor Sync come back too.
        let cell = pool
            .apply_async(|| std::cell::Cell::new(String::from("moved")))
            .get()
            .unwrap();
        assert_eq!(cell.into_inner(), "moved", "{name}");
    });
}

#[test]
fn get_timeout_then_get() {
    on_every_backend(60, |name| {
        let pool = Pool::new(1).unwrap();
        let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let mut r = pool.apply_async(held(&started, &gate));
        started.wait();
        assert!(!r.ready(), "{name}");
        let t = Instant::now();
        match r.get_timeout(Duration::from_millis(50)) {
            Err(PoolError::Timeout) => {}
            other => panic!("{name}: {other:?}"),
        }
        assert!(t.elapsed() >= Duration::from_millis(50), "{name}");
        // Timed out again: still waitable.
        assert!(matches!(
            r.get_timeout(Duration::ZERO),
            Err(PoolError::Timeout)
        ));
        gate.set();
        assert!(r.get().unwrap(), "{name}: the job saw its gate set");
    });
}

#[test]
fn get_timeout_returns_a_value_in_time() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let mut r = pool.apply_async(|| "quick");
        assert_eq!(r.get_timeout(HOLD).unwrap(), "quick", "{name}");
        assert!(r.ready(), "{name}");
        // The outcome is gone now: asking again is a misuse that says so.
        let msg = panic_of("get after get_timeout", move || drop(r.get()));
        assert!(msg.contains("already taken"), "{name}: {msg}");
    });
}

#[test]
fn ready_flips_when_the_job_is_done() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let r = pool.apply_async(held(&started, &gate));
        started.wait();
        assert!(!r.ready(), "{name}");
        gate.set();
        wait_ready(&r);
        assert!(r.ready(), "{name}");
        assert!(format!("{r:?}").contains("ready: true"), "{name}: {r:?}");
        assert!(r.get().unwrap(), "{name}");
    });
}

#[test]
fn map_keeps_item_order() {
    on_every_backend(60, |name| {
        let pool = Pool::new(4).unwrap();
        // Uneven work so that jobs finish out of order.
        let out = pool
            .map(
                |x: u64| {
                    for _ in 0..(20 - x) % 7 {
                        yield_now();
                    }
                    x * x
                },
                0..20u64,
            )
            .unwrap();
        assert_eq!(out, (0..20u64).map(|x| x * x).collect::<Vec<_>>(), "{name}");
        assert!(
            pool.map(|x: u8| x, Vec::new()).unwrap().is_empty(),
            "{name}"
        );
        // The first error in item order comes back.
        let err = pool
            .map(
                |x: u32| {
                    assert!(x != 3, "item three");
                    x
                },
                0..6,
            )
            .unwrap_err();
        assert!(err.to_string().contains("item three"), "{name}: {err}");
    });
}

#[test]
fn imap_yields_in_order_as_results_arrive() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let last_gate = Arc::new(Event::new());
        let gate = last_gate.clone();
        let mut it = pool.imap(
            move |i: usize| {
                if i == 5 {
                    // The last job waits for the test to have seen the first result.
                    assert!(gate.wait_timeout(HOLD), "imap waited for every job");
                }
                i * 10
            },
            0..6,
        );
        assert_eq!(it.len(), 6);
        assert_eq!(it.next().unwrap().unwrap(), 0, "{name}");
        last_gate.set();
        let rest: Vec<usize> = it.map(Result::unwrap).collect();
        assert_eq!(rest, [10, 20, 30, 40, 50], "{name}");
    });
}

#[test]
fn imap_unordered_yields_in_completion_order() {
    on_every_backend(60, |name| {
        // One worker per job, so that all three are held at once.
        let pool = Pool::new(3).unwrap();
        let gates: Arc<Vec<Event>> = Arc::new((0..3).map(|_| Event::new()).collect());
        let g = gates.clone();
        let mut it = pool.imap_unordered(
            move |i: usize| {
                assert!(g[i].wait_timeout(HOLD));
                i
            },
            0..3,
        );
        for i in [2, 0, 1] {
            gates[i].set();
            assert_eq!(it.next().unwrap().unwrap(), i, "{name}");
        }
        assert!(it.next().is_none(), "{name}");
    });
}

#[test]
fn a_panicking_job_gives_panicked_and_the_pool_goes_on() {
    on_every_backend(60, |name| {
        let pool = Pool::new(1).unwrap();
        let err = pool.apply_async(|| -> u32 { panic!("boom") }).get();
        match err {
            Err(PoolError::Panicked(p)) => assert_eq!(panic_message(&*p), "boom", "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        let e = pool
            .apply_async(|| -> u32 { panic!("again {}", 2) })
            .get()
            .unwrap_err();
        assert_eq!(e.to_string(), "the job panicked: again 2", "{name}");
        assert_eq!(format!("{e:?}"), r#"Panicked("again 2")"#, "{name}");
        // The single worker survived both.
        assert_eq!(pool.apply_async(|| 7).get().unwrap(), 7, "{name}");
        assert_eq!(pool.map(|x: u32| x + 1, 0..3).unwrap(), [1, 2, 3], "{name}");
    });
}

#[test]
fn apply_async_after_close_panics() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        pool.close();
        let msg = panic_of("apply_async after close", || drop(pool.apply_async(|| 1)));
        assert!(msg.contains("after close()"), "{name}: {msg}");
        assert!(msg.contains("no new work"), "{name}: {msg}");
        let msg = panic_of("map after close", || drop(pool.map(|x: u8| x, [1])));
        assert!(msg.contains("map called after close()"), "{name}: {msg}");
        pool.terminate();
        let msg = panic_of("imap after terminate", || drop(pool.imap(|x: u8| x, [1])));
        assert!(msg.contains("after terminate()"), "{name}: {msg}");
        pool.join();
    });
}

#[test]
fn join_before_close_panics() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let msg = panic_of("join before close", || pool.join());
        assert!(msg.contains("close()"), "{name}: {msg}");
        // The pool still works.
        assert_eq!(pool.apply_async(|| 3).get().unwrap(), 3, "{name}");
    });
}

#[test]
fn close_then_join_waits_for_the_queued_work() {
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        let results: Vec<_> = (0..10)
            .map(|i| {
                let done = done.clone();
                pool.apply_async(move || {
                    for _ in 0..i % 3 {
                        yield_now();
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        pool.close();
        pool.join();
        assert_eq!(done.load(Ordering::SeqCst), 10, "{name}");
        assert!(results.iter().all(AsyncResult::ready), "{name}");
        let got: Vec<i32> = results.into_iter().map(|r| r.get().unwrap()).collect();
        assert_eq!(got, (0..10).collect::<Vec<_>>(), "{name}");
        pool.join(); // again: nothing left to wait for
        pool.close();
    });
}

#[test]
fn terminate_drops_the_queued_work_and_returns_promptly() {
    on_every_backend(60, |name| {
        let pool = Pool::new(1).unwrap();
        let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let running = pool.apply_async(held(&started, &gate));
        let ran = Arc::new(AtomicUsize::new(0));
        let queued: Vec<_> = (0..5)
            .map(|_| {
                let ran = ran.clone();
                pool.apply_async(move || ran.fetch_add(1, Ordering::SeqCst))
            })
            .collect();
        started.wait();
        let t = Instant::now();
        pool.terminate();
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{name}: terminate waited"
        );
        for r in queued {
            let e = r.get().unwrap_err();
            assert!(matches!(e, PoolError::Terminated), "{name}: {e:?}");
            assert!(e.to_string().contains("terminated"), "{name}: {e}");
        }
        // The running job was not dropped: it finishes and reports its value.
        gate.set();
        assert!(running.get().unwrap(), "{name}");
        pool.join(); // after terminate: waits for the running job only
        assert_eq!(ran.load(Ordering::SeqCst), 0, "{name}");
        assert!(
            format!("{pool:?}").contains("Terminated"),
            "{name}: {pool:?}"
        );
    });
}

#[test]
fn dropping_a_pool_with_work_queued_neither_hangs_nor_leaks() {
    on_every_backend(60, |name| {
        let drops = Arc::new(AtomicUsize::new(0));
        let pool = Pool::new(1).unwrap();
        let (started, gate) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let running = {
            let (c, job) = (Counted(drops.clone()), held(&started, &gate));
            pool.apply_async(move || {
                let _c = c;
                job()
            })
        };
        let queued: Vec<_> = (0..5)
            .map(|i| {
                let c = Counted(drops.clone());
                pool.apply_async(move || {
                    let _c = c;
                    i
                })
            })
            .collect();
        let unordered = pool.imap_unordered(
            |c: Counted| {
                drop(c);
                1
            },
            (0..3).map(|_| Counted(drops.clone())),
        );
        started.wait();
        let t = Instant::now();
        drop(pool);
        assert!(t.elapsed() < Duration::from_secs(5), "{name}: drop waited");
        // The 8 queued jobs were dropped, with their captures, by the drop itself.
        assert_eq!(drops.load(Ordering::SeqCst), 8, "{name}");
        for r in queued {
            assert!(matches!(r.get(), Err(PoolError::Terminated)), "{name}");
        }
        let outcomes: Vec<_> = unordered.collect();
        assert_eq!(outcomes.len(), 3, "{name}");
        assert!(outcomes
            .iter()
            .all(|o| matches!(o, Err(PoolError::Terminated))));
        // The running job finishes, reports, and drops its capture too.
        gate.set();
        assert!(running.get().unwrap(), "{name}");
        assert_eq!(drops.load(Ordering::SeqCst), 9, "{name}");
    });
}

#[test]
fn new_with_zero_workers_is_an_error_that_says_so() {
    on_every_backend(60, |name| {
        let err = Pool::new(0).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{name}");
        assert!(
            err.to_string().contains("at least one worker"),
            "{name}: {err}"
        );
    });
}

#[test]
fn new_outside_a_runtime_panics_with_spawns_advice() {
    bounded(30, || {
        let msg = panic_of("Pool::new outside a runtime", || drop(Pool::new(2)));
        assert!(msg.contains("outside a runtime"), "{msg}");
        assert!(msg.contains("block_on"), "{msg}");
    });
}

#[test]
fn the_lectures_slow_job_times_out() {
    // pool.apply_async(time.sleep, (10,)).get(timeout=1) raises TimeoutError.
    on_every_backend(120, |name| {
        let pool = Pool::new(4).unwrap();
        let mut slow = pool.apply_async(|| sleep(Duration::from_secs(10)));
        let t = Instant::now();
        let got = slow.get_timeout(Duration::from_secs(1));
        let took = t.elapsed();
        assert!(matches!(got, Err(PoolError::Timeout)), "{name}: {got:?}");
        assert!(took >= Duration::from_secs(1), "{name}: {took:?}");
        assert!(
            took < Duration::from_secs(9),
            "{name}: waited for the job: {took:?}"
        );
        assert!(!slow.ready(), "{name}");
        assert_eq!(
            PoolError::Timeout.to_string(),
            "timed out waiting for the job's result"
        );
        // Dropping the pool does not wait for the sleeper; block_on cancels it (cooperative)
        // or leaves its daemon thread to end on its own (preemptive).
    });
}

#[test]
fn workers_interleave_and_run_side_by_side() {
    // Two jobs that each wait for the other to have started: they must be in flight at
    // once, on every backend (green threads interleave on one OS thread with workers(1)).
    on_every_backend(60, |name| {
        let pool = Pool::new(2).unwrap();
        let (a, b) = (Arc::new(Event::new()), Arc::new(Event::new()));
        let job = |mine: &Arc<Event>, theirs: &Arc<Event>| {
            let (mine, theirs) = (mine.clone(), theirs.clone());
            move || {
                mine.set();
                (theirs.wait_timeout(HOLD), std::thread::current().id())
            }
        };
        let ra = pool.apply_async(job(&a, &b));
        let rb = pool.apply_async(job(&b, &a));
        let (met_a, thread_a) = ra.get().unwrap();
        let (met_b, thread_b) = rb.get().unwrap();
        assert!(met_a && met_b, "{name}: the two jobs did not overlap");
        match name {
            "cooperative/1" => assert_eq!(thread_a, thread_b, "one OS thread"),
            "preemptive" => assert_ne!(thread_a, thread_b, "a ThreadPool: OS threads"),
            _ => {}
        }
    });
}

#[test]
fn thread_pool_workers_run_in_parallel_without_yielding() {
    // On the preemptive runtime (Python's ThreadPool) two jobs that spin without ever
    // yielding or blocking still both make progress: each waits for the other by spinning.
    bounded(60, || {
        let rt = Runtime::preemptive().build().unwrap();
        rt.block_on(|| {
            let pool = Pool::new(2).unwrap();
            let arrived = Arc::new(AtomicUsize::new(0));
            let rs: Vec<_> = (0..2)
                .map(|_| {
                    let arrived = arrived.clone();
                    pool.apply_async(move || {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        let deadline = Instant::now() + HOLD;
                        while arrived.load(Ordering::SeqCst) < 2 {
                            if Instant::now() > deadline {
                                return false;
                            }
                            std::hint::spin_loop();
                        }
                        true
                    })
                })
                .collect();
            for r in rs {
                assert!(
                    r.get().unwrap(),
                    "the spinning jobs did not run side by side"
                );
            }
        });
    });
}

#[test]
fn a_pool_is_shared_with_plain_threads() {
    on_every_backend(60, |name| {
        let pool = Arc::new(Pool::new(2).unwrap());
        let (p, answer) = (pool.clone(), Queue::unbounded());
        let a = answer.clone();
        // A plain OS thread, outside the runtime, submits and waits too; its answer comes
        // back through a spindle Queue (std's join would block this green thread's worker).
        let t = std::thread::spawn(move || {
            a.put(
                p.map(|x: u32| x * 2, 0..10)
                    .unwrap()
                    .into_iter()
                    .sum::<u32>(),
            );
        });
        assert_eq!(answer.get(), 90, "{name}");
        spindle::spawn_blocking(move || t.join()).unwrap();
        assert_eq!(pool.apply_async(|| 1).get().unwrap(), 1, "{name}");
    });
}

#[test]
fn a_pool_left_at_the_end_of_block_on_does_not_hold_it() {
    // The workers are daemons: block_on returns although the pool is never closed.
    bounded(60, || {
        for (name, rt) in runtimes() {
            let pool = rt.block_on(|| {
                let pool = Pool::new(3).unwrap();
                assert_eq!(pool.apply_async(|| 1).get().unwrap(), 1);
                pool
            });
            if name.starts_with("cooperative") {
                // Its workers were cancelled with the runtime's daemons: new work is
                // dropped at once instead of waiting forever.
                let r = pool.apply_async(|| 2);
                assert!(matches!(r.get(), Err(PoolError::Terminated)), "{name}");
                pool.close();
                pool.join();
            }
            drop(pool);
        }
    });
}

#[test]
fn types_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Pool>();
    send::<AsyncResult<std::cell::Cell<u8>>>();
    send_sync::<AsyncResult<u8>>();
    send::<PoolError>();
    let e: Box<dyn std::error::Error + Send> = Box::new(PoolError::Terminated);
    assert!(e.to_string().contains("terminated"));
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let dbg = rt.block_on(|| {
            let pool = Pool::new(2).unwrap();
            let imap = pool.imap(|x: u8| x, [1, 2]);
            format!("{pool:?} {imap:?}")
        });
        assert!(dbg.starts_with("Pool { workers: 2"), "{dbg}");
        assert!(dbg.contains("Imap { remaining: 2 }"), "{dbg}");
    });
}
