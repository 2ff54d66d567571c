//! The deadlock report has no false positives: a wait is reported only when nothing outside
//! the runtime can end it. A primitive made inside a runtime but used from outside it — by a
//! plain thread on any path (the lock fast path, `try_lock`, a query), or by a green thread
//! of *another* runtime — can be released from there, so a task waiting on it is never
//! reported, and gets what it waits for once the outside party acts.
//!
//! In every test the outside party uses the primitive *before* the task parks and acts only
//! ~600 ms later, so the runtime is quiescent through two or more of the detector's 200 ms
//! rounds meanwhile: the report would come if the wait were thought internal.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use spindle::channel;
use spindle::queue::Queue;
use spindle::sync::{Event, Mutex, Semaphore};
use spindle::{sleep, Runtime};
use support::bounded;

/// How long the outside party waits before it releases the task.
const HOLD: Duration = Duration::from_millis(600);

fn runtime(workers: usize) -> Runtime {
    Runtime::cooperative().workers(workers).build().unwrap()
}

/// Naps (a timer keeps the runtime busy, so no report can come) until `flag` is set.
fn nap_until(flag: &AtomicBool) {
    while !flag.load(Ordering::SeqCst) {
        sleep(Duration::from_millis(1));
    }
}

/// A green task waits for a mutex made inside its runtime that a plain OS thread took
/// uncontended (`try_lock`, or `lock` on its fast path) and releases after [`HOLD`].
fn mutex_held_by_a_plain_thread(workers: usize, try_lock: bool) {
    let rt = runtime(workers);
    let (got, holder) = rt.block_on(move || {
        let m = Arc::new(Mutex::new(0u32));
        let held = Arc::new(AtomicBool::new(false));
        let (m2, held2) = (m.clone(), held.clone());
        let holder = thread::spawn(move || {
            let mut g = if try_lock {
                m2.try_lock().expect("nobody else holds it")
            } else {
                m2.lock()
            };
            held2.store(true, Ordering::SeqCst);
            thread::sleep(HOLD);
            *g = 7;
        });
        nap_until(&held);
        let got = *m.lock();
        (got, holder)
    });
    holder.join().unwrap();
    assert_eq!(got, 7, "the task got the lock after the thread's write");
}

#[test]
fn mutex_locked_by_a_plain_thread_one_worker() {
    bounded(60, || mutex_held_by_a_plain_thread(1, false));
}

#[test]
fn mutex_locked_by_a_plain_thread_two_workers() {
    bounded(60, || mutex_held_by_a_plain_thread(2, false));
}

#[test]
fn mutex_try_locked_by_a_plain_thread_one_worker() {
    bounded(60, || mutex_held_by_a_plain_thread(1, true));
}

#[test]
fn mutex_try_locked_by_a_plain_thread_two_workers() {
    bounded(60, || mutex_held_by_a_plain_thread(2, true));
}

/// A semaphore a plain thread only looked at (`available_permits`) before it releases.
#[test]
fn semaphore_looked_at_by_a_plain_thread_then_released() {
    bounded(60, || {
        for workers in [1, 2] {
            let rt = runtime(workers);
            let releaser = rt.block_on(|| {
                let s = Arc::new(Semaphore::new(0));
                let looked = Arc::new(AtomicBool::new(false));
                let (s2, looked2) = (s.clone(), looked.clone());
                let releaser = thread::spawn(move || {
                    assert_eq!(s2.available_permits(), 0);
                    looked2.store(true, Ordering::SeqCst);
                    thread::sleep(HOLD);
                    s2.release();
                });
                nap_until(&looked);
                s.acquire().forget();
                releaser
            });
            releaser.join().unwrap();
        }
    });
}

/// Runs `a_side` as the root task of runtime A (with `workers` workers) while a plain thread
/// runs `b_side` as the root task of a second cooperative runtime B; returns A's result.
fn two_runtimes<T: Send + 'static>(
    workers: usize,
    a_side: impl FnOnce(&dyn Fn(Box<dyn FnOnce() + Send>)) -> T + Send + 'static,
) -> T {
    let a = runtime(workers);
    let b = Arc::new(runtime(1));
    let (result, b_thread) = a.block_on(move || {
        let started = std::sync::Mutex::new(None);
        let start_b = |f: Box<dyn FnOnce() + Send>| {
            let b = b.clone();
            *started.lock().unwrap() = Some(thread::spawn(move || b.block_on(f)));
        };
        let result = a_side(&start_b);
        let b_thread = started.into_inner().unwrap().expect("B was started");
        (result, b_thread)
    });
    b_thread.join().expect("runtime B's task");
    result
}

/// A task of runtime A receives on a channel made inside A whose sender was moved to a task
/// of runtime B: B sends once at once, and again after [`HOLD`].
#[test]
fn recv_on_a_channel_a_task_of_another_runtime_sends_on() {
    bounded(60, || {
        for workers in [1, 2] {
            let got = two_runtimes(workers, |start_b| {
                let (tx, rx) = channel::unbounded::<u32>();
                start_b(Box::new(move || {
                    tx.send(1).unwrap();
                    sleep(HOLD);
                    tx.send(2).unwrap();
                }));
                // The first message proves B has used the channel; nap for it (no park).
                let first = loop {
                    match rx.try_recv() {
                        Ok(m) => break m,
                        Err(_) => sleep(Duration::from_millis(1)),
                    }
                };
                (first, rx.recv().unwrap())
            });
            assert_eq!(got, (1, 2));
        }
    });
}

/// The same with a `Queue`: made inside A, put to by a task of runtime B.
#[test]
fn get_on_a_queue_a_task_of_another_runtime_puts_to() {
    bounded(60, || {
        for workers in [1, 2] {
            let got = two_runtimes(workers, |start_b| {
                let q = Queue::unbounded();
                let q2 = q.clone();
                start_b(Box::new(move || {
                    q2.put(1u32);
                    sleep(HOLD);
                    q2.put(2);
                }));
                let first = loop {
                    match q.try_get() {
                        Ok(m) => break m,
                        Err(_) => sleep(Duration::from_millis(1)),
                    }
                };
                (first, q.get())
            });
            assert_eq!(got, (1, 2));
        }
    });
}

/// The same with an `Event`: made inside A; a task of runtime B looks at it, then sets it
/// after [`HOLD`].
#[test]
fn wait_on_an_event_a_task_of_another_runtime_sets() {
    bounded(60, || {
        for workers in [1, 2] {
            let got = two_runtimes(workers, |start_b| {
                let ev = Arc::new(Event::new());
                let looked = Arc::new(AtomicBool::new(false));
                let (ev2, looked2) = (ev.clone(), looked.clone());
                start_b(Box::new(move || {
                    assert!(!ev2.is_set());
                    looked2.store(true, Ordering::SeqCst);
                    sleep(HOLD);
                    ev2.set();
                }));
                nap_until(&looked);
                ev.wait()
            });
            assert!(got);
        }
    });
}

/// A task of runtime A receives on a channel whose sender was moved, untouched, into a task of
/// runtime B that sends only after [`HOLD`]: nothing A can see marks the channel as used from
/// outside, but B is running, so A's wait is never reported.
#[test]
fn recv_on_a_channel_whose_sender_waits_in_another_runtime_before_its_first_send() {
    bounded(60, || {
        for workers in [1, 2] {
            let got = two_runtimes(workers, |start_b| {
                let (tx, rx) = channel::unbounded::<u32>();
                start_b(Box::new(move || {
                    sleep(HOLD);
                    tx.send(7).unwrap();
                }));
                rx.recv().unwrap()
            });
            assert_eq!(got, 7);
        }
    });
}
