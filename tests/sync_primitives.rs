//! Mutex, Condvar, Semaphore, Barrier and Event on every backend, on plain threads, and
//! mixed (a plain thread releasing what a green thread waits for).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::sync::{Barrier, Condvar, Event, Mutex, Semaphore};
use spindle::{sleep, spawn, yield_now, Runtime};
use support::{bounded, runtimes};

#[test]
fn mutex_counts_exactly_under_contention() {
    bounded(60, || {
        for (name, rt) in runtimes() {
            let tasks = if rt.is_cooperative() { 200 } else { 50 };
            let n = rt.block_on(move || {
                let m = Arc::new(Mutex::new(0u64));
                let hs: Vec<_> = (0..tasks)
                    .map(|_| {
                        let m = m.clone();
                        spawn(move || {
                            for i in 0..200 {
                                let mut g = m.lock();
                                let v = *g;
                                if i % 7 == 0 {
                                    yield_now(); // switch while holding the lock
                                }
                                *g = v + 1;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                let n = *m.lock();
                n
            });
            assert_eq!(n, tasks as u64 * 200, "{name}");
        }
    });
}

#[test]
fn mutex_hands_over_in_fifo_order() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let order = rt.block_on(|| {
            let m = Arc::new(Mutex::new(Vec::new()));
            let g = m.lock();
            let hs: Vec<_> = (0..5)
                .map(|i| {
                    let m = m.clone();
                    spawn(move || m.lock().push(i))
                })
                .collect();
            // Let all five queue up behind us, in spawn order.
            for _ in 0..10 {
                yield_now();
            }
            drop(g);
            for h in hs {
                h.join().unwrap();
            }
            let v = m.lock().clone();
            v
        });
        assert_eq!(order, [0, 1, 2, 3, 4]);
    });
}

#[test]
fn try_lock_into_inner_get_mut() {
    let mut m = Mutex::new(1);
    *m.get_mut() += 1;
    {
        let g = m.lock();
        assert!(m.try_lock().is_none());
        assert_eq!(*g, 2);
    }
    assert!(m.try_lock().is_some());
    assert_eq!(m.into_inner(), 2);
}

#[test]
fn a_plain_thread_and_green_threads_share_a_mutex() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let m = Arc::new(Mutex::new(0u64));
        let outside = {
            let m = m.clone();
            std::thread::spawn(move || {
                for _ in 0..10_000 {
                    *m.lock() += 1;
                }
            })
        };
        let m2 = m.clone();
        rt.block_on(move || {
            let hs: Vec<_> = (0..20)
                .map(|_| {
                    let m = m2.clone();
                    spawn(move || {
                        for _ in 0..500 {
                            *m.lock() += 1;
                            yield_now();
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        outside.join().unwrap();
        assert_eq!(*m.lock(), 20_000);
    });
}

#[test]
fn condvar_wait_and_notify_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let got = rt.block_on(|| {
                let pair = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
                let consumers: Vec<_> = (0..4)
                    .map(|_| {
                        let pair = pair.clone();
                        spawn(move || {
                            let (m, cv) = &*pair;
                            let mut q = m.lock();
                            while q.is_empty() {
                                q = cv.wait(q);
                            }
                            q.pop().unwrap()
                        })
                    })
                    .collect();
                for i in 0..4 {
                    sleep(Duration::from_millis(2));
                    let (m, cv) = &*pair;
                    m.lock().push(i);
                    cv.notify_one();
                }
                let mut got: Vec<i32> = consumers.into_iter().map(|h| h.join().unwrap()).collect();
                got.sort();
                got
            });
            assert_eq!(got, [0, 1, 2, 3], "{name}");
        }
    });
}

#[test]
fn condvar_timeouts_and_notify_all() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let m = Mutex::new(0);
                let cv = Condvar::new();
                let t = Instant::now();
                let (g, timed_out) = cv.wait_timeout(m.lock(), Duration::from_millis(20));
                assert!(timed_out, "{name}");
                assert!(t.elapsed() >= Duration::from_millis(20), "{name}");
                drop(g);
                let (_g, timed_out) = cv.wait_timeout(m.lock(), Duration::ZERO);
                assert!(timed_out, "{name}: zero timeout");
            });
            let woken = rt.block_on(|| {
                let pair = Arc::new((Mutex::new(false), Condvar::new()));
                let hs: Vec<_> = (0..5)
                    .map(|_| {
                        let pair = pair.clone();
                        spawn(move || {
                            let (m, cv) = &*pair;
                            let mut go = m.lock();
                            while !*go {
                                go = cv.wait(go);
                            }
                        })
                    })
                    .collect();
                sleep(Duration::from_millis(10));
                *pair.0.lock() = true;
                pair.1.notify_all();
                hs.into_iter()
                    .map(|h| h.join().is_ok())
                    .filter(|&ok| ok)
                    .count()
            });
            assert_eq!(woken, 5, "{name}");
        }
    });
}

#[test]
fn semaphore_lets_two_at_a_time_in_fifo_order() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let (max, order) = rt.block_on(|| {
                let sem = Arc::new(Semaphore::new(2));
                let inside = Arc::new(AtomicUsize::new(0));
                let max = Arc::new(AtomicUsize::new(0));
                let order = Arc::new(Mutex::new(Vec::new()));
                let hs: Vec<_> = (0..8)
                    .map(|i| {
                        let (sem, inside, max, order) =
                            (sem.clone(), inside.clone(), max.clone(), order.clone());
                        spawn(move || {
                            let _p = sem.acquire();
                            order.lock().push(i);
                            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                            max.fetch_max(now, Ordering::SeqCst);
                            sleep(Duration::from_millis(5));
                            inside.fetch_sub(1, Ordering::SeqCst);
                        })
                    })
                    .collect();
                for h in hs {
                    h.join().unwrap();
                }
                let order = order.lock().clone();
                (max.load(Ordering::SeqCst), order)
            });
            assert_eq!(max, 2, "{name}");
            if name == "cooperative/1" {
                assert_eq!(order, (0..8).collect::<Vec<_>>(), "{name}: FIFO");
            }
        }
    });
}

#[test]
fn semaphore_timeouts_release_and_forget() {
    bounded(30, || {
        let s = Semaphore::new(1);
        let p = s.acquire();
        let t = Instant::now();
        assert!(s.acquire_timeout(Duration::from_millis(10)).is_none());
        assert!(t.elapsed() >= Duration::from_millis(10));
        assert!(s.acquire_timeout(Duration::ZERO).is_none());
        drop(p);
        assert!(s.acquire_timeout(Duration::ZERO).is_some());
        s.acquire().forget();
        assert_eq!(s.available_permits(), 0);
        s.release();
        s.release();
        assert_eq!(s.available_permits(), 2);
        let s0 = Semaphore::new(0);
        assert!(s0.try_acquire().is_none());
    });
}

#[test]
fn barrier_releases_together_with_one_leader() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let (leaders, rounds) = rt.block_on(|| {
                let b = Arc::new(Barrier::new(4));
                let count = Arc::new(AtomicUsize::new(0));
                let hs: Vec<_> = (0..4)
                    .map(|_| {
                        let (b, count) = (b.clone(), count.clone());
                        spawn(move || {
                            let mut leaders = 0;
                            for round in 0..3 {
                                count.fetch_add(1, Ordering::SeqCst);
                                if b.wait().is_leader() {
                                    leaders += 1;
                                }
                                // Everyone arrived before anyone left.
                                assert!(count.load(Ordering::SeqCst) >= 4 * (round + 1));
                            }
                            leaders
                        })
                    })
                    .collect();
                let leaders: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
                (leaders, count.load(Ordering::SeqCst))
            });
            assert_eq!(leaders, 3, "{name}: one leader per round");
            assert_eq!(rounds, 12, "{name}");
        }
        assert!(Barrier::new(0).wait().is_leader());
        assert!(Barrier::new(1).wait().is_leader());
    });
}

#[test]
fn event_set_wakes_all_and_python_rule_holds() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let results = rt.block_on(|| {
                let ev = Arc::new(Event::new());
                let hs: Vec<_> = (0..5)
                    .map(|_| {
                        let ev = ev.clone();
                        spawn(move || ev.wait())
                    })
                    .collect();
                // Every waiter is registered before set(): a head start in time would not
                // be enough on a loaded machine.
                while ev.waiter_count() < 5 {
                    yield_now();
                }
                ev.set();
                ev.clear(); // a waiter woken by set() still returns true
                hs.into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            });
            assert_eq!(results, [true; 5], "{name}");
        }
        let e = Event::new();
        assert!(!e.wait_timeout(Duration::from_millis(5)));
        assert!(!e.wait_timeout(Duration::ZERO));
        e.set();
        assert!(e.wait_timeout(Duration::ZERO));
        assert!(e.wait_timeout(Duration::MAX));
    });
}

#[test]
fn a_plain_thread_sets_an_event_a_green_thread_waits_for() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let ev = Arc::new(Event::new());
        let e2 = ev.clone();
        let setter = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            e2.set();
        });
        let ok = rt.block_on(move || ev.wait());
        assert!(ok);
        setter.join().unwrap();
    });
}

#[test]
fn cancelled_daemons_leave_primitives_consistent() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let m = Arc::new(Mutex::new(0));
        let sem = Arc::new(Semaphore::new(1));
        let (m2, s2) = (m.clone(), sem.clone());
        rt.block_on(move || {
            let holder = m2.lock();
            let permit = s2.acquire();
            for _ in 0..4 {
                let (m, s) = (m2.clone(), s2.clone());
                spindle::Builder::new()
                    .daemon(true)
                    .spawn(move || {
                        // These park forever (until cancelled).
                        let _g = m.lock();
                        let _p = s.acquire();
                    })
                    .unwrap();
            }
            sleep(Duration::from_millis(20));
            drop(holder);
            drop(permit);
            // The first daemon now owns the lock... and is cancelled at shutdown.
        });
        // Everything was handed back when the daemons unwound.
        assert!(m.try_lock().is_some());
        assert_eq!(sem.available_permits(), 1);
    });
}
