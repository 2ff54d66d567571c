//! `MutexGuard::unlock_fair` and `Semaphore` hand over in FIFO order with no barging: once a
//! waiter is queued, a release gives the lock (the permit) to it, so the releaser's own
//! `try_lock` (`try_acquire`) right after fails, and a later `lock` (`acquire`) by the
//! releaser comes after the waiter's turn. (A `Mutex` guard's plain drop lets others barge,
//! with eventual fairness: `tests/sync_barging.rs`.)
//!
//! "The waiter is queued" is observed, not guessed: the holder polls the primitive's
//! `has_waiters()` (doc-hidden, for tests), which is true once the waiter's entry is in the
//! wait list — a green waiter registers only after its coroutine has switched out, an OS
//! thread just before it parks — and the holder releases only after seeing it. The waiter
//! keeps what it was handed until the holder has made its checks, so a `try_lock` that
//! succeeds cannot be explained by the waiter having come and gone already.
//!
//! Each scenario runs with the holder and the waiter on every combination of a runtime's
//! task (cooperative/1, cooperative/2, preemptive) and a plain `std::thread`.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use spindle::sync::{Mutex, MutexGuard, Semaphore};
use spindle::{spawn, yield_now};
use support::{bounded, runtimes};

/// Rounds per scenario: every round must hold; more rounds give a race more chances to show.
const ROUNDS: usize = 50;

/// Polls `cond` until it holds, letting others run in between: yields first, then naps
/// (a green thread's `sleep` parks it; elsewhere it is `std::thread::sleep`). This waits
/// for a condition, it orders nothing by time.
fn wait_until(mut cond: impl FnMut() -> bool) {
    let mut tries = 0u32;
    while !cond() {
        tries += 1;
        if tries < 100 {
            yield_now();
        } else {
            spindle::sleep(Duration::from_micros(200));
        }
    }
}

/// What the holder and the waiter of one scenario share.
struct Case {
    /// How many waiters have had the lock (`Mutex`) or a permit (`Semaphore`: 1 in all).
    mutex: Mutex<usize>,
    sem: Semaphore,
    had_permit: AtomicUsize,
    /// Rounds whose checks the holder has made: round `r`'s waiter keeps what it got until
    /// this passes `r`, so a `try_lock` that succeeds cannot be put down to the waiter
    /// having been and gone already.
    checked: AtomicUsize,
}

impl Case {
    fn new() -> Arc<Case> {
        Arc::new(Case {
            mutex: Mutex::new(0),
            sem: Semaphore::new(1),
            had_permit: AtomicUsize::new(0),
            checked: AtomicUsize::new(0),
        })
    }
}

/// The waiter's half for the mutex: takes the lock, marks that it had it, and keeps it
/// until the holder has made its checks.
fn mutex_waiter(c: &Case, round: usize) {
    let mut g = c.mutex.lock();
    *g += 1;
    wait_until(|| c.checked.load(Ordering::SeqCst) > round);
    drop(g);
}

/// The holder's half for the mutex: holds the lock, starts the waiter, waits until it is
/// queued, unlocks with `unlock_fair`, and checks that the lock went to the waiter: `try_lock` at once fails,
/// and a `lock` returns only after the waiter's turn. Returns whatever `start_waiter`
/// returned (a handle to join).
fn mutex_holder<W>(c: &Case, round: usize, start_waiter: impl FnOnce() -> W) -> W {
    let g = c.mutex.lock();
    assert_eq!(*g, round, "the previous round's waiter had its turn");
    let w = start_waiter();
    wait_until(|| c.mutex.has_waiters());
    MutexGuard::unlock_fair(g);
    let barged = c.mutex.try_lock().map(|g| *g);
    c.checked.store(round + 1, Ordering::SeqCst);
    assert_eq!(
        barged, None,
        "round {round}: try_lock right after unlock took the lock from a queued waiter (barging)"
    );
    // Our `lock` queues behind the waiter: when it returns, the waiter has had its turn.
    let g = c.mutex.lock();
    assert_eq!(
        *g,
        round + 1,
        "round {round}: the waiter did not get the lock first"
    );
    drop(g);
    w
}

/// The waiter's half for the semaphore: takes a permit, marks that it had it, and keeps it
/// until the holder has made its checks.
fn semaphore_waiter(c: &Case, round: usize) {
    let p = c.sem.acquire();
    c.had_permit.fetch_add(1, Ordering::SeqCst);
    wait_until(|| c.checked.load(Ordering::SeqCst) > round);
    drop(p);
}

/// The holder's half for the semaphore (of one permit in all): holds the permit, starts the
/// waiter, waits until it is queued, gives the permit back (dropping it, or with `release`
/// after `forget`), and checks that it went to the waiter.
fn semaphore_holder<W>(c: &Case, round: usize, start_waiter: impl FnOnce() -> W) -> W {
    let p = c.sem.acquire();
    assert_eq!(c.had_permit.load(Ordering::SeqCst), round);
    let w = start_waiter();
    wait_until(|| c.sem.has_waiters());
    if round % 2 == 0 {
        drop(p);
    } else {
        p.forget();
        c.sem.release();
    }
    let barged = c.sem.try_acquire().is_some(); // (a barged permit goes back at once)
    let left = c.sem.available_permits();
    c.checked.store(round + 1, Ordering::SeqCst);
    assert!(
        !barged,
        "round {round}: try_acquire right after the release took the permit from a queued waiter (barging)"
    );
    assert_eq!(
        left, 0,
        "round {round}: the permit was kept, not handed over"
    );
    let p = c.sem.acquire();
    assert_eq!(
        c.had_permit.load(Ordering::SeqCst),
        round + 1,
        "round {round}: the waiter did not get the permit first"
    );
    drop(p);
    w
}

#[test]
fn mutex_task_holder_task_waiter_on_every_backend() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let c = Case::new();
            let c1 = c.clone();
            rt.block_on(move || {
                for round in 0..ROUNDS {
                    let c2 = c1.clone();
                    let h = mutex_holder(&c1, round, || spawn(move || mutex_waiter(&c2, round)));
                    h.join().unwrap();
                }
            });
            assert_eq!(*c.mutex.lock(), ROUNDS, "{name}");
        }
    });
}

#[test]
fn semaphore_task_holder_task_waiter_on_every_backend() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let c = Case::new();
            let c1 = c.clone();
            rt.block_on(move || {
                for round in 0..ROUNDS {
                    let c2 = c1.clone();
                    let h = semaphore_holder(&c1, round, || {
                        spawn(move || semaphore_waiter(&c2, round))
                    });
                    h.join().unwrap();
                }
            });
            assert_eq!(c.had_permit.load(Ordering::SeqCst), ROUNDS, "{name}");
            assert_eq!(c.sem.available_permits(), 1, "{name}");
        }
    });
}

#[test]
fn mutex_plain_thread_holder_plain_thread_waiter() {
    bounded(120, || {
        let c = Case::new();
        for round in 0..ROUNDS {
            let c2 = c.clone();
            let h = mutex_holder(&c, round, || {
                thread::spawn(move || mutex_waiter(&c2, round))
            });
            h.join().unwrap();
        }
        assert_eq!(*c.mutex.lock(), ROUNDS);
    });
}

#[test]
fn semaphore_plain_thread_holder_plain_thread_waiter() {
    bounded(120, || {
        let c = Case::new();
        for round in 0..ROUNDS {
            let c2 = c.clone();
            let h = semaphore_holder(&c, round, || {
                thread::spawn(move || semaphore_waiter(&c2, round))
            });
            h.join().unwrap();
        }
        assert_eq!(c.had_permit.load(Ordering::SeqCst), ROUNDS);
        assert_eq!(c.sem.available_permits(), 1);
    });
}

#[test]
fn mutex_task_holder_plain_thread_waiter() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let c = Case::new();
            for round in 0..ROUNDS {
                let c1 = c.clone();
                let waiter = rt.block_on(move || {
                    let c2 = c1.clone();
                    mutex_holder(&c1, round, || {
                        thread::spawn(move || mutex_waiter(&c2, round))
                    })
                });
                waiter.join().unwrap();
            }
            assert_eq!(*c.mutex.lock(), ROUNDS, "{name}");
        }
    });
}

#[test]
fn semaphore_task_holder_plain_thread_waiter() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let c = Case::new();
            for round in 0..ROUNDS {
                let c1 = c.clone();
                let waiter = rt.block_on(move || {
                    let c2 = c1.clone();
                    semaphore_holder(&c1, round, || {
                        thread::spawn(move || semaphore_waiter(&c2, round))
                    })
                });
                waiter.join().unwrap();
            }
            assert_eq!(c.had_permit.load(Ordering::SeqCst), ROUNDS, "{name}");
            assert_eq!(c.sem.available_permits(), 1, "{name}");
        }
    });
}

#[test]
fn mutex_plain_thread_holder_task_waiter() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let rt = Arc::new(rt);
            let c = Case::new();
            for round in 0..ROUNDS {
                let (c2, rt2) = (c.clone(), rt.clone());
                // The waiter is the first task of a `block_on` run from a helper thread.
                let h = mutex_holder(&c, round, || {
                    thread::spawn(move || rt2.block_on(move || mutex_waiter(&c2, round)))
                });
                h.join().unwrap();
            }
            assert_eq!(*c.mutex.lock(), ROUNDS, "{name}");
        }
    });
}

#[test]
fn semaphore_plain_thread_holder_task_waiter() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let rt = Arc::new(rt);
            let c = Case::new();
            for round in 0..ROUNDS {
                let (c2, rt2) = (c.clone(), rt.clone());
                let h = semaphore_holder(&c, round, || {
                    thread::spawn(move || rt2.block_on(move || semaphore_waiter(&c2, round)))
                });
                h.join().unwrap();
            }
            assert_eq!(c.had_permit.load(Ordering::SeqCst), ROUNDS, "{name}");
            assert_eq!(c.sem.available_permits(), 1, "{name}");
        }
    });
}
