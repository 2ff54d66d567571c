//! `Mutex` lets running threads barge, with eventual fairness: a guard's plain drop frees
//! the lock for whoever asks first (the woken waiter competes), and no waiter starves: at
//! least every 0.5 ms an unlock hands the lock to the longest waiter.
//!
//! (Strict hand-over, `MutexGuard::unlock_fair`, is checked in `tests/sync_no_barging.rs`.)

mod support;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use spindle::sync::Mutex;
use spindle::{spawn, yield_now, Runtime};
use support::bounded;

/// A plain unlock with a waiter queued frees the lock: the holder's `try_lock` right after
/// takes it back whenever it comes before the woken waiter runs, which takes that waiter
/// microseconds. Under FIFO hand-over that never happens; here it must, in most of 20 rounds
/// (at least once is asked, so that a slow wake-up cannot fail the test).
fn barges<W>(start_waiter: impl Fn(Arc<Mutex<u32>>) -> W, join: impl Fn(W)) -> usize {
    let mut barged = 0;
    for _ in 0..20 {
        let m = Arc::new(Mutex::new(0u32));
        let g = m.lock();
        let w = start_waiter(m.clone());
        while !m.has_waiters() {
            yield_now();
            thread::yield_now();
        }
        drop(g);
        let took = m.try_lock().map(|mut g| *g += 1).is_some();
        barged += usize::from(took);
        join(w);
        assert_eq!(*m.lock(), 1 + u32::from(took), "both had the lock once");
    }
    barged
}

#[test]
fn a_plain_unlock_lets_a_plain_thread_take_the_lock_before_the_woken_waiter() {
    bounded(120, || {
        let barged = barges(
            |m| thread::spawn(move || *m.lock() += 1),
            |h| h.join().unwrap(),
        );
        assert!(barged > 0, "no barging in 20 rounds");
        eprintln!("barged in {barged} of 20 rounds");
    });
}

#[test]
fn a_plain_unlock_lets_a_green_thread_take_the_lock_before_a_woken_plain_thread() {
    bounded(120, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let barged = rt.block_on(|| {
            barges(
                |m| thread::spawn(move || *m.lock() += 1),
                |h| h.join().unwrap(),
            )
        });
        assert!(barged > 0, "no barging in 20 rounds");
        eprintln!("barged in {barged} of 20 rounds");
    });
}

/// The holder keeps the lock busy: with a waiter queued, it unlocks and at once locks again,
/// over and over, until the waiter has had the lock. Each plain unlock wakes the waiter,
/// which takes microseconds to run and finds the lock taken again. A green waiter on the
/// holder's own worker cannot run at all while the holder keeps going, so it is handed the
/// lock (without that this fails at its 20 s guard); others are handed it within 0.5 ms.
/// Returns how long the waiter waited.
fn hammer_until_the_waiter_had_it<W>(
    m: &Mutex<u64>,
    start_waiter: impl FnOnce() -> W,
    join: impl FnOnce(W),
) -> Duration {
    let mut g = m.lock();
    let w = start_waiter();
    while !m.has_waiters() {
        yield_now();
        thread::yield_now();
    }
    let t = Instant::now();
    while *g == 0 {
        drop(g);
        g = m.lock();
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the waiter starved: the lock was never handed to it"
        );
    }
    let took = t.elapsed();
    drop(g);
    join(w);
    took
}

#[test]
fn a_waiter_gets_the_lock_while_a_plain_thread_keeps_relocking_it() {
    bounded(120, || {
        let m = Arc::new(Mutex::new(0u64));
        for _ in 0..5 {
            *m.lock() = 0;
            let m2 = m.clone();
            let took = hammer_until_the_waiter_had_it(
                &m,
                move || thread::spawn(move || *m2.lock() += 1),
                |h| h.join().unwrap(),
            );
            eprintln!("plain waiter, plain holder: {took:?}");
        }
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        for _ in 0..5 {
            *m.lock() = 0;
            let m2 = m.clone();
            let took = hammer_until_the_waiter_had_it(
                &m,
                || rt.spawn(move || *m2.lock() += 1),
                |h| h.join().unwrap(),
            );
            eprintln!("green waiter, plain holder: {took:?}");
        }
    });
}

#[test]
fn a_waiter_gets_the_lock_while_a_green_thread_keeps_relocking_it() {
    bounded(120, || {
        for workers in [1, 2] {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            rt.block_on(move || {
                let m = Arc::new(Mutex::new(0u64));
                for _ in 0..5 {
                    *m.lock() = 0;
                    let m2 = m.clone();
                    let took = hammer_until_the_waiter_had_it(
                        &m,
                        move || spawn(move || *m2.lock() += 1),
                        |h| h.join().unwrap(),
                    );
                    eprintln!("green waiter, green holder, {workers} worker(s): {took:?}");
                }
            });
        }
    });
}

/// Green threads hammering on two workers: every one of them finishes its increments (none
/// starves), and the count is exact.
#[test]
fn green_threads_hammering_on_two_workers_all_finish() {
    bounded(120, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let total = rt.block_on(|| {
            let m = Arc::new(Mutex::new(0u64));
            let hs: Vec<_> = (0..200)
                .map(|_| {
                    let m = m.clone();
                    spawn(move || {
                        for _ in 0..500 {
                            *m.lock() += 1;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
            let total = *m.lock();
            total
        });
        assert_eq!(total, 200 * 500);
    });
}

/// Eventual fairness, exactly: once 0.5 ms has passed since the first barging unlock, the
/// next unlock with a waiter queued hands the lock over, so the holder's `try_lock` right
/// after fails. The waiter is a green thread whose only worker is kept busy by a spinning
/// task, so it cannot run (and take the lock itself) until the test lets it: a barging
/// unlock leaves the lock free for `try_lock`, a hand-over does not. Fails with the
/// periodic hand-over disabled.
#[test]
fn after_half_a_millisecond_of_barging_an_unlock_hands_over() {
    bounded(120, || {
        // The blocker spins on purpose: no stall reports.
        let rt = Runtime::cooperative()
            .workers(1)
            .stall_threshold(Duration::ZERO)
            .build()
            .unwrap();
        let m = Arc::new(Mutex::new(0u32));
        let stage = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let g = m.lock();
        let m2 = m.clone();
        let waiter = rt.spawn(move || *m2.lock() += 1);
        while !m.has_waiters() {
            thread::yield_now();
        }
        // Keeps the worker: spins until stage 1, then yields until the waiter has run,
        // found the lock taken and queued again, then spins until stage 2.
        let (st, m3) = (stage.clone(), m.clone());
        let blocker = rt.spawn(move || {
            let spin_until = |n| {
                while st.load(std::sync::atomic::Ordering::SeqCst) < n {
                    std::hint::spin_loop();
                }
            };
            spin_until(1);
            while !m3.has_waiters() {
                yield_now();
            }
            spin_until(2);
        });
        thread::sleep(Duration::from_millis(5)); // the blocker is running
        drop(g); // the first slow unlock barges: the waiter is woken but cannot run
        let g = m.try_lock().expect("a barging unlock left the lock free");
        assert_eq!(*g, 0);
        stage.store(1, std::sync::atomic::Ordering::SeqCst);
        while !m.has_waiters() {
            thread::yield_now();
        }
        thread::sleep(Duration::from_millis(2));
        drop(g); // past the fair interval: handed to the waiter, which still cannot run
        let barged = m.try_lock().is_some();
        stage.store(2, std::sync::atomic::Ordering::SeqCst);
        assert!(
            !barged,
            "the lock was not handed over after the fair interval"
        );
        waiter.join().unwrap();
        blocker.join().unwrap();
        assert_eq!(*m.lock(), 1, "the waiter had its turn");
    });
}
