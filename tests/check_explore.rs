//! `spindle::check`: what a schedule search must find, that what it finds replays, and that
//! correct programs pass. Every search here starts from a fixed seed, so every run of this
//! file explores the same schedules: a result here never changes from run to run.

mod support;

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::check::{self, Config, Failure};
use spindle::queue::Queue;
use spindle::sync::{Condvar, Mutex};
use spindle::{now, sleep, spawn, yield_now, Runtime};
use support::bounded;

/// The lecture's lost update: read, yield, write back.
fn lost_update() {
    let counter = Arc::new(AtomicU32::new(0));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let c = counter.clone();
            spawn(move || {
                let seen = c.load(Ordering::SeqCst);
                yield_now();
                c.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 2, "lost update");
}

/// The fixed race: the read-modify-write under a lock.
fn fixed_race() {
    let counter = Arc::new(Mutex::new(0u32));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let c = counter.clone();
            spawn(move || {
                let mut g = c.lock();
                let seen = *g;
                yield_now();
                *g = seen + 1;
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*counter.lock(), 3);
}

/// Two locks taken in opposite orders.
fn abba() {
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let (a2, b2) = (a.clone(), b.clone());
    let t = spawn(move || {
        let _x = b2.lock();
        let _y = a2.lock();
    });
    {
        let _x = a.lock();
        let _y = b.lock();
    }
    t.join().unwrap();
}

/// A condition variable waited on without a predicate: the notification can come first.
fn missed_wakeup() {
    let pair = Arc::new((Mutex::new(false), Condvar::new()));
    let p = pair.clone();
    let waiter = spawn(move || {
        let (m, cv) = &*p;
        let g = m.lock();
        let _g = cv.wait(g); // no `while !*g` loop
    });
    let p = pair.clone();
    let notifier = spawn(move || {
        let (m, cv) = &*p;
        *m.lock() = true;
        cv.notify_one();
    });
    notifier.join().unwrap();
    waiter.join().unwrap();
}

/// A consumer that marks items done before it has recorded them: `join` may return early.
fn early_task_done() {
    let q = Arc::new(Queue::unbounded());
    let done = Arc::new(Mutex::new(Vec::new()));
    let (q2, d2) = (q.clone(), done.clone());
    spindle::Builder::new()
        .daemon(true)
        .spawn(move || loop {
            let item: u32 = q2.get();
            q2.task_done(); // too early: the item is not recorded yet
            d2.lock().push(item);
        })
        .unwrap();
    for i in 0..3 {
        q.put(i);
    }
    q.join();
    assert_eq!(
        done.lock().len(),
        3,
        "join returned before every item was processed"
    );
}

/// The producer/consumer of the lecture, done right: `task_done` after the work.
fn producer_consumer() {
    let q = Arc::new(Queue::bounded(2));
    let done = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..2 {
        let (q2, d2) = (q.clone(), done.clone());
        spindle::Builder::new()
            .daemon(true)
            .spawn(move || loop {
                let item: u32 = q2.get();
                d2.lock().push(item);
                q2.task_done();
            })
            .unwrap();
    }
    for i in 0..5 {
        q.put(i);
    }
    q.join();
    let mut got = done.lock().clone();
    got.sort_unstable();
    assert_eq!(got, [0, 1, 2, 3, 4]);
}

/// Asserts that `failure` replays 10 times out of 10, with the same schedule each time.
fn replays<F: Fn() + Send + Sync + Copy + 'static>(failure: &Failure, f: F) {
    for _ in 0..10 {
        let again = check::replay_with(failure.config().clone(), failure.seed(), f)
            .expect_err("a failing seed fails again");
        assert_eq!(again.trace(), failure.trace(), "the same schedule");
        assert_eq!(again.seed(), failure.seed());
    }
}

#[test]
fn finds_the_lost_update_within_100_iterations() {
    bounded(120, || {
        let failure = check::explore(100, lost_update).unwrap_err();
        assert!(failure.message().contains("lost update"), "{failure}");
        replays(&failure, lost_update);
        let shown = failure.to_string();
        assert!(
            shown.contains(&format!("seed {}", failure.seed())),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("check::replay({}, body)", failure.seed())),
            "{shown}"
        );
        assert!(
            shown.contains(&format!("SPINDLE_SEED={}", failure.seed())),
            "{shown}"
        );
        assert!(
            shown.contains("yielded"),
            "the schedule's steps are shown: {shown}"
        );
    });
}

#[test]
fn pct_finds_the_lost_update_too() {
    bounded(120, || {
        let failure =
            check::explore_with(Config::new().pct(2).iterations(100), lost_update).unwrap_err();
        assert!(failure.message().contains("lost update"), "{failure}");
        assert!(failure
            .to_string()
            .contains("replay_with(Config::new().pct(2).pct_steps("));
        replays(&failure, lost_update);
    });
}

#[test]
fn finds_the_abba_deadlock_within_1000_iterations() {
    bounded(120, || {
        for config in [Config::new(), Config::new().pct(2)] {
            let failure = check::explore_with(config.iterations(1000), abba).unwrap_err();
            assert!(failure.message().starts_with("deadlock:"), "{failure}");
            assert!(failure.message().contains("Mutex::lock"), "{failure}");
            assert!(failure.message().contains("cycle:"), "{failure}");
            replays(&failure, abba);
        }
    });
}

#[test]
fn finds_the_missed_wakeup_within_1000_iterations() {
    bounded(120, || {
        let failure = check::explore(1000, missed_wakeup).unwrap_err();
        assert!(failure.message().starts_with("deadlock:"), "{failure}");
        assert!(failure.message().contains("Condvar::wait"), "{failure}");
        replays(&failure, missed_wakeup);
    });
}

#[test]
fn finds_the_early_task_done() {
    bounded(120, || {
        let failure = check::explore(1000, early_task_done).unwrap_err();
        assert!(failure.message().contains("before every item"), "{failure}");
        replays(&failure, early_task_done);
    });
}

#[test]
fn correct_programs_pass_10000_iterations() {
    bounded(600, || {
        check::explore(10_000, fixed_race).unwrap();
        check::explore(10_000, producer_consumer).unwrap();
        check::explore_with(Config::new().pct(3).iterations(10_000), fixed_race).unwrap();
    });
}

/// A body with every kind of scheduling point: channels, locks, sleeps, timeouts, spawns.
fn busy_body() {
    let (tx, rx) = spindle::channel::bounded::<u32>(1);
    let m = Arc::new(Mutex::new(0u32));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let (tx, m) = (tx.clone(), m.clone());
            spawn(move || {
                sleep(Duration::from_millis(10 * i));
                *m.lock() += i as u32;
                tx.send(i as u32).unwrap();
                yield_now();
            })
        })
        .collect();
    drop(tx);
    let mut sum = 0;
    while let Ok(v) = rx.recv_timeout(Duration::from_secs(1)) {
        sum += v;
    }
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(sum, *m.lock());
}

#[test]
fn the_same_seed_gives_the_same_trace_for_1000_seeds_in_a_row() {
    bounded(300, || {
        check::explore_with(
            Config::new().iterations(1000).check_determinism(),
            busy_body,
        )
        .unwrap();
        // And traces taken apart compare equal, and differ between seeds.
        let a = check::trace(77, busy_body);
        assert_eq!(a, check::trace(77, busy_body));
        let differs = (78..88).any(|s| check::trace(s, busy_body) != a);
        assert!(differs, "ten other seeds all gave seed 77's schedule");
    });
}

#[test]
fn the_determinism_check_catches_a_program_that_is_not() {
    bounded(60, || {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let failure = check::explore_with(Config::new().iterations(10).check_determinism(), || {
            // Depends on something outside the schedule: how many runs came before.
            if RUNS.fetch_add(1, Ordering::SeqCst) % 2 == 1 {
                yield_now();
            }
            spawn(|| ()).join().unwrap();
        })
        .unwrap_err();
        assert!(
            failure.message().starts_with("nondeterminism:"),
            "{failure}"
        );
        assert!(
            failure.message().contains("first differ at step"),
            "{failure}"
        );
    });
}

#[test]
fn a_livelock_is_stopped_and_reported() {
    bounded(60, || {
        let failure = check::explore_with(Config::new().max_steps(10_000).iterations(5), || {
            let flag = Arc::new(AtomicU32::new(0));
            let f = flag.clone();
            let _spinner = spawn(move || {
                while f.load(Ordering::SeqCst) == 0 {
                    yield_now();
                }
            });
            loop {
                yield_now(); // never sets the flag
            }
        })
        .unwrap_err();
        assert!(failure.message().starts_with("livelock"), "{failure}");
        assert!(
            failure.to_string().contains(".max_steps(10000)"),
            "{failure}"
        );
    });
}

#[test]
fn a_panic_in_any_task_is_a_failure() {
    bounded(60, || {
        let failure = check::explore(10, || {
            let h = spindle::Builder::new()
                .name("doomed")
                .spawn(|| panic!("child failed"))
                .unwrap();
            let _ = h.join(); // ignored by the body, seen by the search
        })
        .unwrap_err();
        assert!(
            failure.message().contains("task 'doomed' panicked"),
            "{failure}"
        );
        assert!(failure.message().contains("child failed"), "{failure}");
        assert!(failure.message().contains("check_explore.rs"), "{failure}");
    });
}

#[test]
fn virtual_time_runs_an_hour_of_sleeps_at_once() {
    bounded(60, || {
        let rt = Runtime::deterministic(3).build().unwrap();
        let (elapsed, order) = rt.block_on(|| {
            let start = now();
            let order = Arc::new(Mutex::new(Vec::new()));
            let hs: Vec<_> = (0..4u64)
                .map(|i| {
                    let order = order.clone();
                    spawn(move || {
                        for _ in 0..900 {
                            sleep(Duration::from_millis(1000 + i));
                        }
                        order.lock().push(i);
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            let order = order.lock().clone();
            (now() - start, order)
        });
        // The longest sleeper: 900 sleeps of 1,003 ms.
        assert_eq!(elapsed, Duration::from_millis(900 * 1003));
        assert_eq!(order, [0, 1, 2, 3], "the shortest sleeps end first");
        // Timeouts follow the virtual clock too.
        let waited = rt.block_on(|| {
            let (_tx, rx) = spindle::channel::unbounded::<u8>();
            let t = now();
            assert!(rx.recv_timeout(Duration::from_secs(3600)).is_err());
            now() - t
        });
        assert_eq!(waited, Duration::from_secs(3600));
    });
}

#[test]
fn a_deterministic_runtime_repeats_its_output_and_reports_deadlocks() {
    bounded(60, || {
        let run = |seed| {
            let rt = Runtime::deterministic(seed).build().unwrap();
            rt.block_on(|| {
                let out = Arc::new(Mutex::new(String::new()));
                let hs: Vec<_> = (0..4)
                    .map(|i| {
                        let out = out.clone();
                        spawn(move || {
                            for _ in 0..3 {
                                out.lock().push(char::from(b'a' + i));
                                yield_now();
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                let s = out.lock().clone();
                s
            })
        };
        let first = run(11);
        assert_eq!(first.len(), 12);
        for _ in 0..5 {
            assert_eq!(run(11), first);
        }
        assert!(
            (12..40).any(|s| run(s) != first),
            "other seeds interleave otherwise"
        );

        let rt = Runtime::deterministic(0).build().unwrap();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(|| {
                let (_tx, rx) = spindle::channel::unbounded::<u8>();
                let _ = rx.recv();
            })
        }))
        .unwrap_err();
        assert!(support::panic_message(&*err).starts_with("deadlock:"));
        // The runtime works on after a report.
        assert_eq!(rt.block_on(|| spawn(|| 5).join().unwrap()), 5);
    });
}

#[test]
fn a_deterministic_runtime_has_one_worker_and_takes_wakes_from_outside() {
    bounded(60, || {
        let err = Runtime::deterministic(0).workers(2).build().unwrap_err();
        assert!(err.to_string().contains("one worker"), "{err}");
        let rt = Runtime::deterministic(5).build().unwrap();
        assert_eq!(rt.workers(), 1);
        let got = rt.block_on(|| {
            let (tx, rx) = spindle::channel::unbounded::<u32>();
            let t = std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                tx.send(9).unwrap();
            });
            let v = rx.recv().unwrap();
            let b = spindle::spawn_blocking(|| 1);
            t.join().unwrap();
            v + b
        });
        assert_eq!(got, 10);
        // A wake from a plain thread shows in the trace (retried: the thread's send must come
        // after the recv parked, which a 20 ms sleep makes all but certain).
        let outside = (0..5).any(|_| {
            let trace = check::trace(5, || {
                let (tx, rx) = spindle::channel::unbounded::<u32>();
                let t = std::thread::spawn(move || {
                    std::thread::sleep(Duration::from_millis(20));
                    tx.send(1).unwrap();
                });
                rx.recv().unwrap();
                t.join().unwrap();
            });
            trace.to_string().contains("woken from outside the runtime")
        });
        assert!(outside, "a wake from a plain thread is named in the trace");
    });
}

/// Runs the test binary again with `SPINDLE_SEED` set, to see `explore` run that seed only.
#[test]
fn spindle_seed_makes_explore_run_that_seed_alone() {
    if let Ok(seed) = std::env::var("CHECK_EXPLORE_CHILD") {
        // The child: count the runs of an always-passing body.
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        check::explore(500, move || {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "SPINDLE_SEED={seed}: one run"
        );
        println!("CHILD-OK");
        return;
    }
    let out = support::rerun_alone_with(
        "spindle_seed_makes_explore_run_that_seed_alone",
        "CHECK_EXPLORE_CHILD",
        &[("SPINDLE_SEED", "12345")],
        60,
    );
    assert!(
        out.stdout.contains("CHILD-OK"),
        "{}{}",
        out.stdout,
        out.stderr
    );
}

#[test]
fn explore_runs_every_seed_it_is_given_and_replay_runs_one() {
    bounded(60, || {
        let runs = Arc::new(AtomicU32::new(0));
        let r = runs.clone();
        check::explore_with(Config::new().iterations(321).seed(9), move || {
            r.fetch_add(1, Ordering::SeqCst);
            spawn(|| ()).join().unwrap();
        })
        .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 321);
        let r = runs.clone();
        check::replay(4, move || {
            r.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 322);
    });
}

#[test]
fn a_socket_that_wakes_a_task_is_named_in_the_trace() {
    use std::io::{Read, Write};
    bounded(60, || {
        let body = || {
            let listener = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let client = spawn(move || {
                let mut s = spindle::net::TcpStream::connect(addr).unwrap();
                sleep(Duration::from_secs(1)); // virtual: the reader is parked by then
                s.write_all(b"x").unwrap();
            });
            let (mut conn, _) = listener.accept().unwrap();
            let mut byte = [0u8; 1];
            conn.read_exact(&mut byte).unwrap();
            assert_eq!(&byte, b"x");
            client.join().unwrap();
        };
        let trace = check::trace(1, body);
        assert!(
            trace.to_string().contains("woken from outside the runtime"),
            "the read's wake by the socket is named:\n{trace}"
        );
        assert!(trace.to_string().contains("clock jumps"), "{trace}");
    });
}

/// A deterministic runtime whose every task waits on something outside it says so once, as
/// the other runtimes do, and goes on waiting (the child prints on stderr; the parent reads).
#[test]
fn a_deterministic_runtime_warns_once_when_stuck_on_the_outside() {
    const CHILD: &str = "CHECK_EXPLORE_STUCK_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let rt = Runtime::deterministic(1)
            .stuck_warning(Duration::from_millis(100))
            .build()
            .unwrap();
        // Made outside any runtime: a wait on it is one the outside can end.
        let (tx, rx) = spindle::channel::unbounded::<u8>();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            tx.send(7).unwrap();
        });
        assert_eq!(rt.block_on(move || rx.recv().unwrap()), 7);
        t.join().unwrap();
        println!("CHILD-OK");
        return;
    }
    let out = support::rerun_alone(
        "a_deterministic_runtime_warns_once_when_stuck_on_the_outside",
        CHILD,
        60,
    );
    assert!(
        out.stdout.contains("CHILD-OK"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    assert_eq!(
        out.stderr.matches("possibly stuck").count(),
        1,
        "one warning:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("Receiver::recv"), "{}", out.stderr);
}
