//! Model checks, with loom at preemption bound 3, of the primitives' wait protocol through
//! the public API, on loom threads (so on its OS-thread path: the waiters park as threads):
//!
//! * Mutex hand-over and exclusion; Semaphore admission and permit accounting;
//! * channel send/recv/close, the rendezvous property of a zero-capacity channel (`send`
//!   returns only once a receiver has come), and a send racing the receiver's drop (the
//!   payload is dropped exactly once, whichever way it goes);
//! * Queue put/get/task_done/join (values in order, `join` waits for the `task_done`s);
//! * timeouts racing hand-overs: `Semaphore::acquire_timeout` against `release` (the permit
//!   is handed to the waiter or stays available, never lost nor duplicated), and
//!   `Event::wait_timeout` against `set`;
//! * Condvar wait (predicate loop) against notify_one: no lost wake-up;
//! * Event: set racing wait, and a waiter woken by `set` returning `true` even though the
//!   flag was cleared right after.
//! * `select`: a select over two rendezvous channels racing their senders (one claim wins,
//!   the other sender moves on), a select's send racing a plain send for one receiver, and a
//!   select's send pairing with a select's receive.
//!
//! Deadlines: loom has no time, so under `--cfg spindle_loom` the crate's clock stands still
//! until a model calls `spindle::__loom::pass_deadlines()`, which makes every deadline set so
//! far pass and unparks the timed waiters; loom interleaves that call like any other step.
//!
//! The green-thread half of the protocols (the park/wake epoch state machine, the join
//! hand-off with a green joiner) needs crate internals and is model-checked by the library's
//! `loom_*` unit tests: `cargo test --release --lib loom`.
//!
//! Run with `RUSTFLAGS="--cfg spindle_loom" cargo test --release --test loom_sync` (`.ci/run`
//! does, in its own target directory). Without `--cfg spindle_loom` this file is empty.
#![cfg(spindle_loom)]

use std::time::Duration;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::sync::Arc;
use loom::thread;

use spindle::channel;
use spindle::queue::Queue;
use spindle::sync::{Condvar, Event, Mutex, Semaphore};

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

#[test]
fn mutex_excludes_and_hands_over() {
    model(|| {
        let m = Arc::new(Mutex::new(0u32));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let m = m.clone();
                thread::spawn(move || {
                    let mut g = m.lock();
                    let v = *g;
                    thread::yield_now();
                    *g = v + 1;
                })
            })
            .collect();
        {
            let mut g = m.lock();
            *g += 1;
        }
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(*m.lock(), 3);
    });
}

#[test]
fn semaphore_never_over_admits_and_never_loses_a_permit() {
    model(|| {
        let s = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (s, inside) = (s.clone(), inside.clone());
                thread::spawn(move || {
                    let _p = s.acquire();
                    let n = inside.fetch_add(1, SeqCst);
                    assert_eq!(n, 0, "two holders of one permit");
                    inside.fetch_sub(1, SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(s.available_permits(), 1);
    });
}

/// A waiter with a deadline against a release and the deadline passing: either the permit is
/// handed over to the waiter (it returns `Some`) or the waiter times out and the permit stays
/// available; never both, never neither, and no entry is left in the queue.
#[test]
fn semaphore_acquire_timeout_races_release() {
    model(|| {
        let s = Arc::new(Semaphore::new(0));
        let waiter = {
            let s = s.clone();
            thread::spawn(move || match s.acquire_timeout(Duration::from_secs(1)) {
                Some(p) => {
                    p.forget();
                    true
                }
                None => false,
            })
        };
        let releaser = {
            let s = s.clone();
            thread::spawn(move || s.release())
        };
        spindle::__loom::pass_deadlines();
        let got = waiter.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(
            s.available_permits(),
            usize::from(!got),
            "the permit was lost or duplicated (waiter got it: {got})"
        );
        if got {
            s.release();
        }
        // A waiter entry left behind would take this permit or block `try_acquire`.
        assert!(
            s.try_acquire().is_some(),
            "a timed-out waiter stayed queued"
        );
    });
}

#[test]
fn channel_send_recv_and_close() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let producer = thread::spawn(move || {
            tx.send(1).unwrap();
            tx.send(2).unwrap();
            // Dropping tx closes the channel.
        });
        assert_eq!(rx.recv(), Ok(1));
        assert_eq!(rx.recv(), Ok(2));
        assert!(rx.recv().is_err());
        producer.join().unwrap();
    });
}

/// A zero-capacity send returns only once a receiver has come: the receiver raises a flag
/// before it calls `recv`, and the sender, once `send` returned, must see it.
#[test]
fn rendezvous_send_waits_for_the_receiver() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let receiving = Arc::new(AtomicBool::new(false));
        let producer = {
            let receiving = receiving.clone();
            thread::spawn(move || {
                let sent = tx.send(7);
                assert!(
                    receiving.load(SeqCst),
                    "a rendezvous send returned before any receiver came"
                );
                sent.is_ok()
            })
        };
        receiving.store(true, SeqCst);
        assert_eq!(rx.recv(), Ok(7));
        assert!(producer.join().unwrap());
    });
}

/// A payload that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A send racing the receiver's drop: either the value fits before the drop (`Ok`, and the
/// channel drops it when it goes) or it comes back (`Err`, and we drop it); exactly one drop
/// either way, never none (leaked) nor two.
#[test]
fn send_to_a_dropped_receiver_gives_the_value_back() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel::bounded::<Counted>(1);
        let consumer = thread::spawn(move || drop(rx));
        match tx.send(Counted(drops.clone())) {
            Ok(()) => {}
            Err(e) => {
                let value = e.into_inner();
                assert_eq!(drops.load(SeqCst), 0, "dropped although it came back");
                drop(value);
                assert_eq!(drops.load(SeqCst), 1);
            }
        }
        consumer.join().unwrap();
        drop(tx);
        let n = drops.load(SeqCst);
        assert_eq!(n, 1, "the payload was dropped {n} times");
    });
}

#[test]
fn queue_put_get_task_done_join() {
    model(|| {
        let q = Queue::bounded(1);
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                let mut got = Vec::new();
                for _ in 0..2 {
                    got.push(q.get());
                    q.task_done();
                }
                got
            })
        };
        q.put(1u32);
        q.put(2u32);
        q.join();
        assert!(q.is_empty());
        assert_eq!(worker.join().unwrap(), [1, 2]);
    });
}

/// `Condvar::wait` in a predicate loop against a notifier that changes the state under the
/// mutex and then calls `notify_one`: the waiter always sees the change (a lost wake-up
/// would leave it parked: loom reports the deadlock).
#[test]
fn condvar_wait_never_misses_a_notify() {
    model(|| {
        let pair = Arc::new((Mutex::new(0u32), Condvar::new()));
        let notifier = {
            let pair = pair.clone();
            thread::spawn(move || {
                *pair.0.lock() += 1;
                pair.1.notify_one();
            })
        };
        let mut g = pair.0.lock();
        while *g == 0 {
            g = pair.1.wait(g);
        }
        assert_eq!(*g, 1);
        drop(g);
        notifier.join().unwrap();
    });
}

/// `Event::set` racing `wait`: the waiter returns `true` whether it came before or after.
#[test]
fn event_set_races_wait() {
    model(|| {
        let ev = Arc::new(Event::new());
        let waiter = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        ev.set();
        assert!(waiter.join().unwrap());
        assert!(ev.is_set());
        assert_eq!(ev.waiter_count(), 0);
    });
}

/// A waiter parked in `wait` is woken by `set`, and the flag is cleared right after: the
/// waiter still returns `true` (it was notified; it must not look at the flag again and
/// park for good).
#[test]
fn event_waiter_woken_by_set_survives_a_clear() {
    model(|| {
        let ev = Arc::new(Event::new());
        let waiter = {
            let ev = ev.clone();
            thread::spawn(move || ev.wait())
        };
        while ev.waiter_count() == 0 {
            thread::yield_now();
        }
        ev.set();
        ev.clear();
        assert!(waiter.join().unwrap());
        assert!(!ev.is_set());
    });
}

/// `Event::wait_timeout` against `set` and the deadline passing: `true` whenever the set came
/// before the wait began; `false` only once the deadline has passed; no entry left behind.
#[test]
fn event_wait_timeout_races_set() {
    model(|| {
        let ev = Arc::new(Event::new());
        let set_done = Arc::new(AtomicBool::new(false));
        let deadline_passed = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (ev, set_done, deadline_passed) =
                (ev.clone(), set_done.clone(), deadline_passed.clone());
            thread::spawn(move || {
                let set_before = set_done.load(SeqCst);
                let r = ev.wait_timeout(Duration::from_secs(1));
                if set_before {
                    assert!(r, "the event was set before the wait, which timed out");
                }
                if !r {
                    assert!(
                        deadline_passed.load(SeqCst),
                        "timed out before the deadline"
                    );
                }
            })
        };
        let setter = {
            let (ev, set_done) = (ev.clone(), set_done.clone());
            thread::spawn(move || {
                ev.set();
                set_done.store(true, SeqCst);
            })
        };
        deadline_passed.store(true, SeqCst);
        spindle::__loom::pass_deadlines();
        waiter.join().unwrap();
        setter.join().unwrap();
        assert!(ev.is_set());
        assert_eq!(ev.waiter_count(), 0, "a waiter entry was left behind");
    });
}

/// A select over two rendezvous channels races their two senders: exactly one sender's
/// message is chosen (the other sender's claim fails and it moves on: it waits with its
/// message queued), and the other message is still received afterwards; nothing is lost and
/// nobody is left parked (loom reports a deadlock if a wake-up is lost).
#[test]
fn select_races_two_senders() {
    model(|| {
        let (tx1, rx1) = channel::bounded::<u32>(0);
        let (tx2, rx2) = channel::bounded::<u32>(0);
        let s1 = thread::spawn(move || tx1.send(1).unwrap());
        let s2 = thread::spawn(move || tx2.send(2).unwrap());
        let mut sel = channel::Select::new();
        let a = sel.recv(&rx1);
        let b = sel.recv(&rx2);
        let oper = sel.select();
        let (first, other) = match oper.index() {
            i if i == a => (oper.recv(&rx1).unwrap(), rx2.recv().unwrap()),
            i if i == b => (oper.recv(&rx2).unwrap(), rx1.recv().unwrap()),
            _ => unreachable!(),
        };
        assert_eq!(first + other, 3);
        s1.join().unwrap();
        s2.join().unwrap();
    });
}

/// A select's send on a rendezvous channel races a plain send for the one receiver: whoever
/// wins pairs with it (the select's by reserving the receiver, then writing into its slot);
/// the loser pairs with the second `recv`. Both messages arrive, each send returns.
#[test]
fn select_send_and_plain_send_race_for_a_receiver() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let tx2 = tx.clone();
        let plain = thread::spawn(move || tx.send(1).unwrap());
        let selecting = thread::spawn(move || {
            let mut sel = channel::Select::new();
            sel.send(&tx2);
            sel.select().send(&tx2, 2).unwrap();
        });
        let got = rx.recv().unwrap() + rx.recv().unwrap();
        assert_eq!(got, 3);
        plain.join().unwrap();
        selecting.join().unwrap();
    });
}

/// A select's send and a select's receive on one rendezvous channel, from two threads, pair
/// up: whichever registers second claims the other (a receive waits for the claimed send's
/// write); each also has an operation that never becomes ready.
#[test]
fn select_send_pairs_with_select_recv() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        // Never ready: nobody is at the other ends (kept alive, so not disconnected).
        let (idle_tx, _idle_tx_peer) = channel::bounded::<u32>(0);
        let (_idle_rx_peer, idle_rx) = channel::bounded::<u32>(0);
        let sender = thread::spawn(move || {
            let mut sel = channel::Select::new();
            let s = sel.send(&tx);
            sel.recv(&idle_rx);
            let oper = sel.select();
            assert_eq!(oper.index(), s);
            oper.send(&tx, 5).unwrap();
        });
        let mut sel = channel::Select::new();
        sel.send(&idle_tx);
        let r = sel.recv(&rx);
        let oper = sel.select();
        assert_eq!(oper.index(), r);
        assert_eq!(oper.recv(&rx), Ok(5));
        sender.join().unwrap();
    });
}
