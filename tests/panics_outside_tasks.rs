//! User code that runs *between* tasks — dropping a detached task's result or panic payload,
//! dropping the closure of a task cancelled before it started, a `block_on` where it would
//! wait for itself — never takes a worker down and never hangs: a panic there is caught and
//! reported like a task's own, a `Drop` there runs in the task's context (it may yield,
//! sleep, spawn and join), and `block_on` on a runtime's own thread panics with a message.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::{spawn, Builder, Runtime};
use support::{bounded, panic_message, runtimes};

/// A value whose `Drop` panics.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("PanicOnDrop dropped");
    }
}

/// Runs `rounds` detached tasks whose results panic when dropped, then checks that the
/// runtime still runs tasks (twice: in this `block_on` and in a second one).
fn detached_results_that_panic(rt: Runtime) {
    let done = rt.block_on(|| {
        for i in 0..20u64 {
            // Dropped before the task ends (it sleeps first), so the task drops the result.
            drop(spawn(move || {
                spindle::sleep(Duration::from_millis(1 + i % 3));
                PanicOnDrop
            }));
        }
        // And dropped after it ended: the handle's drop drops it, here.
        let h = spawn(|| PanicOnDrop);
        while !h.is_finished() {
            spindle::yield_now();
        }
        let caught = panic::catch_unwind(AssertUnwindSafe(move || drop(h)));
        assert!(
            caught.is_err(),
            "the handle's drop raises the result's panic here"
        );
        spindle::sleep(Duration::from_millis(20));
        (0..10)
            .map(|i| spawn(move || i).join().unwrap())
            .sum::<i32>()
    });
    assert_eq!(done, 45);
    assert_eq!(rt.block_on(|| spawn(|| 7).join().unwrap()), 7);
}

#[test]
fn a_detached_result_whose_drop_panics_leaves_every_runtime_running() {
    for (name, rt) in runtimes() {
        bounded(60, move || detached_results_that_panic(rt));
        eprintln!("{name}: ok");
    }
}

/// A payload given to `panic_any` whose `Drop` panics as well.
struct PanickyPayload;

impl Drop for PanickyPayload {
    fn drop(&mut self) {
        panic!("PanickyPayload dropped");
    }
}

#[test]
fn a_detached_panic_payload_whose_drop_panics_leaves_the_runtime_running() {
    for (name, rt) in runtimes() {
        bounded(60, move || {
            let v = rt.block_on(|| {
                for _ in 0..10 {
                    drop(spawn(|| {
                        spindle::sleep(Duration::from_millis(1));
                        panic::panic_any(PanickyPayload);
                    }));
                }
                spindle::sleep(Duration::from_millis(30));
                spawn(|| 5).join().unwrap()
            });
            assert_eq!(v, 5);
        });
        eprintln!("{name}: ok");
    }
}

/// A result whose `Drop` yields, sleeps, spawns and joins, then counts itself.
struct BusyDrop(Arc<AtomicUsize>);

impl Drop for BusyDrop {
    fn drop(&mut self) {
        spindle::yield_now();
        spindle::sleep(Duration::from_millis(1));
        let n = spawn(|| 2).join().unwrap();
        self.0.fetch_add(n, Ordering::SeqCst);
    }
}

#[test]
fn a_detached_result_may_yield_sleep_spawn_and_join_in_its_drop() {
    for (name, rt) in runtimes() {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        bounded(60, move || {
            rt.block_on(move || {
                for _ in 0..10 {
                    let c = c.clone();
                    drop(spawn(move || {
                        spindle::sleep(Duration::from_millis(2));
                        BusyDrop(c)
                    }));
                }
            });
        });
        assert_eq!(
            count.load(Ordering::SeqCst),
            20,
            "{name}: every drop ran to its end"
        );
    }
}

/// Counts the drops of a daemon's closure that never started, cancelled at shutdown; the
/// `Drop` yields, spawns and joins, which needs a task context (the task it spawns is
/// cancelled too, so its join may give `Cancelled`; either way it returns).
struct CountOnDrop(Arc<AtomicUsize>);

impl Drop for CountOnDrop {
    fn drop(&mut self) {
        spindle::yield_now();
        let _ = spawn(|| 1).join();
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_cancelled_daemons_captures_may_yield_spawn_and_join_in_their_drop() {
    let rt = Runtime::cooperative().workers(1).build().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    bounded(60, move || {
        rt.block_on(move || {
            // Queued behind the main task, which ends at once: they never start.
            for _ in 0..5 {
                let guard = CountOnDrop(c.clone());
                Builder::new()
                    .daemon(true)
                    .spawn(move || {
                        let _g = guard;
                        loop {
                            spindle::yield_now();
                        }
                    })
                    .unwrap();
            }
        });
        assert_eq!(rt.block_on(|| spawn(|| 3).join().unwrap()), 3);
    });
    assert_eq!(count.load(Ordering::SeqCst), 5);
}

#[test]
fn block_on_from_a_spawn_blocking_job_of_the_same_runtime_panics_with_advice() {
    let rt = Arc::new(Runtime::cooperative().workers(2).build().unwrap());
    let inner = rt.clone();
    let msg = bounded(60, move || {
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(move || spindle::spawn_blocking(move || inner.block_on(|| 1)))
        }));
        panic_message(&*r.expect_err("block_on on its own blocking thread must panic"))
    });
    assert!(msg.contains("spawn the work and join it"), "message: {msg}");
}

#[test]
fn block_on_from_a_task_of_any_runtime_panics_with_advice() {
    for (name, rt) in runtimes() {
        let other = Runtime::cooperative().workers(1).build().unwrap();
        let msg = bounded(60, move || {
            let r = rt.block_on(move || {
                spawn(move || {
                    panic::catch_unwind(AssertUnwindSafe(|| other.block_on(|| 1)))
                        .map_err(|p| panic_message(&*p))
                })
                .join()
                .unwrap()
            });
            r.expect_err("block_on inside a task must panic")
        });
        assert!(msg.contains("spawn the work and join it"), "{name}: {msg}");
    }
}
