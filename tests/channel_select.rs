//! `select!` and `Select` against crossbeam-channel's select tests (tests/select.rs and
//! select_macro.rs: smoke, disconnected, default, timeout, unblocks, both_ready, loop_try,
//! cloning, preflight, duplicates, nesting, stress, matching, fairness, linearizability) and
//! Go's (test/chan/select*.go and runtime/chan_test.go: sends over a changing set of channels,
//! self-select, fairness, non-blocking selects racing a send or a close), plus what is
//! particular to spindle: one park for many channels, every pairing on a rendezvous channel,
//! `ready`, the must-complete rule, and mixing green threads with plain threads.
//!
//! Each test runs on every world: cooperative/1, cooperative/2, preemptive and plain threads.
//! Sleeps only make a wait likely; no assertion depends on them (timeouts are hang guards).

mod support;

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::channel::{
    bounded, select, unbounded, Receiver, RecvError, Select, SendError, Sender, TryRecvError,
};
use spindle::{sleep, yield_now};
use support::{bounded as within, runtimes};

/// Long enough that hitting it means a lost wake-up.
const LONG: Duration = Duration::from_secs(20);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Runs `f(world)` on each runtime, then on a plain thread.
fn on_every_world(secs: u64, f: fn(&'static str)) {
    within(secs, move || {
        for (name, rt) in runtimes() {
            rt.block_on(move || f(name));
        }
        f("threads");
    });
}

/// A task of the current runtime, or a plain thread outside one.
enum Joiner<T> {
    Task(spindle::JoinHandle<T>),
    Thread(std::thread::JoinHandle<T>),
}

impl<T> Joiner<T> {
    fn join(self) -> T {
        let r = match self {
            Joiner::Task(h) => h.join(),
            Joiner::Thread(h) => h.join(),
        };
        r.unwrap_or_else(|p| panic::resume_unwind(p))
    }
}

fn go<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Joiner<T> {
    if spindle::try_current().is_some() {
        Joiner::Task(spindle::spawn(f))
    } else {
        Joiner::Thread(std::thread::spawn(f))
    }
}

#[test]
fn smoke() {
    on_every_world(30, |w| {
        let (s1, r1) = unbounded::<usize>();
        let (s2, r2) = unbounded::<usize>();
        s1.send(1).unwrap();
        let mut sel = Select::new();
        let o1 = sel.recv(&r1);
        let o2 = sel.recv(&r2);
        let oper = sel.select();
        match oper.index() {
            i if i == o1 => assert_eq!(oper.recv(&r1), Ok(1), "{w}"),
            i if i == o2 => panic!("{w}: nothing on r2"),
            _ => unreachable!(),
        }
        s2.send(2).unwrap();
        select! {
            recv(r1) -> _ => panic!("{w}: nothing on r1"),
            recv(r2) -> m => assert_eq!(m, Ok(2), "{w}"),
        }
        // Five receivers, one ready.
        let chans: Vec<_> = (0..5).map(|_| unbounded::<i32>()).collect();
        chans[4].0.send(5).unwrap();
        let mut sel = Select::new();
        for (_, r) in &chans {
            sel.recv(r);
        }
        let oper = sel.select();
        assert_eq!(oper.index(), 4, "{w}");
        assert_eq!(oper.recv(&chans[4].1), Ok(5), "{w}");
    });
}

#[test]
fn disconnected() {
    on_every_world(60, |w| {
        let (s1, r1) = unbounded::<i32>();
        let (s2, r2) = unbounded::<i32>();
        let h = go(move || {
            drop(s1);
            sleep(ms(20));
            s2.send(5).unwrap();
            s2
        });
        select! {
            recv(r1) -> m => assert!(m.is_err(), "{w}"),
            recv(r2) -> _ => panic!("{w}: r1 was disconnected first"),
        }
        assert_eq!(r2.recv(), Ok(5));
        let s2 = h.join();
        // Still disconnected: chosen again at once.
        select! {
            recv(r1) -> m => assert!(m.is_err(), "{w}"),
            recv(r2) -> _ => panic!("{w}: nothing on r2"),
        }
        // The last sender goes while the select waits.
        let h = go(move || {
            sleep(ms(20));
            drop(s2);
        });
        select! {
            recv(r2) -> m => assert_eq!(m, Err(RecvError), "{w}"),
            default(LONG) => panic!("{w}: a disconnection was not noticed"),
        }
        h.join();
        // Senders: a dropped receiver makes the send ready, with the message back.
        let (s, r) = bounded::<i32>(0);
        let h = go(move || {
            sleep(ms(20));
            drop(r);
        });
        select! {
            send(s, 9) -> res => assert_eq!(res, Err(SendError(9)), "{w}"),
            default(LONG) => panic!("{w}: a disconnection was not noticed"),
        }
        h.join();
    });
}

#[test]
fn default_branch() {
    on_every_world(30, |w| {
        let (s1, r1) = unbounded::<i32>();
        let (s2, r2) = unbounded::<i32>();
        let took_default = select! {
            recv(r1) -> _ => false,
            recv(r2) -> _ => false,
            default => true,
        };
        assert!(took_default, "{w}");
        drop(s1);
        select! {
            recv(r1) -> m => assert!(m.is_err(), "{w}"),
            recv(r2) -> _ => panic!("{w}"),
            default => panic!("{w}: a disconnected channel is ready"),
        }
        s2.send(2).unwrap();
        let mut sel = Select::new();
        sel.recv(&r2);
        assert_eq!(sel.try_select().unwrap().recv(&r2), Ok(2), "{w}");
        assert!(sel.try_select().is_err(), "{w}");
        assert!(Select::new().try_select().is_err(), "{w}");
        // Disconnected on each side, with and without a timeout.
        let (_, r) = unbounded::<i32>();
        let mut sel = Select::new();
        sel.recv(&r);
        assert!(sel.try_select().unwrap().recv(&r).is_err(), "{w}");
        assert!(sel.select_timeout(LONG).unwrap().recv(&r).is_err(), "{w}");
        let (s, _) = bounded::<i32>(0);
        let mut sel = Select::new();
        sel.send(&s);
        assert!(sel.try_select().unwrap().send(&s, 0).is_err(), "{w}");
        assert!(
            sel.select_timeout(LONG).unwrap().send(&s, 0).is_err(),
            "{w}"
        );
    });
}

#[test]
fn timeout_and_default_only() {
    on_every_world(60, |w| {
        let (_s1, r1) = unbounded::<i32>();
        let (s2, r2) = unbounded::<i32>();
        let start = Instant::now();
        let mut sel = Select::new();
        sel.recv(&r1);
        sel.recv(&r2);
        assert!(sel.select_timeout(ms(30)).is_err(), "{w}");
        assert!(start.elapsed() >= ms(30), "{w}");
        let h = go(move || {
            sleep(ms(20));
            s2.send(2).unwrap();
        });
        select! {
            recv(r1) -> _ => panic!("{w}"),
            recv(r2) -> m => assert_eq!(m, Ok(2), "{w}"),
            default(LONG) => panic!("{w}: timed out"),
        }
        h.join();
        // No operation: `default(d)` waits d; `default` does not wait.
        let start = Instant::now();
        assert!(Select::new().select_timeout(ms(30)).is_err(), "{w}");
        assert!(start.elapsed() >= ms(30), "{w}");
        let start = Instant::now();
        select! { default(ms(30)) => {} }
        assert!(start.elapsed() >= ms(30), "{w}");
        assert_eq!(select! { default => 7 }, 7);
    });
}

#[test]
fn unblocks() {
    on_every_world(60, |w| {
        let (s1, r1) = bounded::<i32>(0);
        let (s2, r2) = bounded::<i32>(0);
        let h = go(move || {
            sleep(ms(10));
            s2.send(2).unwrap();
            s2
        });
        select! {
            recv(r1) -> _ => panic!("{w}"),
            recv(r2) -> m => assert_eq!(m, Ok(2), "{w}"),
        }
        let s2 = h.join();
        let h = go(move || {
            sleep(ms(10));
            assert_eq!(r1.recv(), Ok(1));
        });
        select! {
            send(s1, 1) -> res => res.unwrap(),
            send(s2, 2) -> _ => panic!("{w}: nobody receives on r2"),
        }
        h.join();
        drop(r2);
    });
}

#[test]
fn both_ready() {
    on_every_world(60, |w| {
        let (s1, r1) = bounded(0);
        let (s2, r2) = bounded(0);
        let h = go(move || {
            sleep(ms(10));
            s1.send(1).unwrap();
            assert_eq!(r2.recv(), Ok(2));
        });
        let (mut got, mut sent) = (false, false);
        for _ in 0..2 {
            select! {
                recv(r1) -> m => { assert_eq!(m, Ok(1), "{w}"); got = true; }
                send(s2, 2) -> res => { res.unwrap(); sent = true; }
            }
        }
        assert!(got && sent, "{w}");
        h.join();
    });
}

#[test]
fn loop_try() {
    on_every_world(60, |w| {
        for _ in 0..10 {
            let (s1, r1) = bounded::<i32>(0);
            let (s2, r2) = bounded::<i32>(0);
            let (s_end, r_end) = bounded::<()>(0);
            let r_end2 = r_end.clone();
            let a = go(move || loop {
                let mut sel = Select::new();
                sel.send(&s1);
                if let Ok(oper) = sel.try_select() {
                    let _ = oper.send(&s1, 1);
                    break;
                }
                if let Ok(oper) = Select::new().try_select() {
                    drop(oper);
                }
                let mut sel = Select::new();
                sel.recv(&r_end);
                if let Ok(oper) = sel.try_select() {
                    let _ = oper.recv(&r_end);
                    break;
                }
                yield_now();
            });
            let b = go(move || loop {
                if let Ok(x) = r2.try_recv() {
                    assert_eq!(x, 2);
                    break;
                }
                let mut sel = Select::new();
                sel.recv(&r_end2);
                if let Ok(oper) = sel.try_select() {
                    let _ = oper.recv(&r_end2);
                    break;
                }
                yield_now();
            });
            sleep(ms(5));
            select! {
                recv(r1) -> m => assert_eq!(m, Ok(1), "{w}"),
                send(s2, 2) -> res => res.unwrap(),
                default(LONG) => panic!("{w}: both were ready"),
            }
            drop(s_end);
            a.join();
            b.join();
        }
    });
}

#[test]
fn cloning() {
    on_every_world(60, |w| {
        // A sender cloned and dropped while the select waits neither wakes nor disconnects it.
        let (s1, r1) = unbounded::<i32>();
        let (_s2, r2) = unbounded::<i32>();
        let (s3, r3) = unbounded::<()>();
        let h = go(move || {
            r3.recv().unwrap();
            drop(s1.clone());
            s1.send(1).unwrap();
        });
        s3.send(()).unwrap();
        select! {
            recv(r1) -> m => assert_eq!(m, Ok(1), "{w}"),
            recv(r2) -> _ => panic!("{w}"),
        }
        h.join();
        let (s1, r1) = unbounded::<()>();
        let (s2, r2) = unbounded::<()>();
        let h = go(move || {
            select! {
                recv(r1) -> _ => panic!("r1 was never sent to nor closed"),
                recv(r2) -> m => m.unwrap(),
            }
        });
        sleep(ms(10));
        drop(s1.clone());
        s2.send(()).unwrap();
        h.join();
        drop(s1);
    });
}

#[test]
fn preflight() {
    on_every_world(30, |w| {
        let (s, r) = unbounded();
        s.send(()).unwrap();
        select! { recv(r) -> m => assert_eq!(m, Ok(()), "{w}") }
        drop(s.clone());
        s.send(()).unwrap();
        drop(s);
        select! { recv(r) -> m => assert_eq!(m, Ok(()), "{w}") }
        assert_eq!(r.try_recv(), Err(TryRecvError::Disconnected));
        select! { recv(r) -> m => assert!(m.is_err(), "{w}") }
    });
}

#[test]
fn duplicate_operations_and_nesting() {
    on_every_world(30, |w| {
        let (s, r) = unbounded::<i32>();
        let mut hit = [false; 4];
        while hit.iter().any(|h| !h) {
            let mut sel = Select::new();
            let ops = [sel.recv(&r), sel.recv(&r), sel.send(&s), sel.send(&s)];
            let oper = sel.select();
            let i = oper.index();
            if i < 2 {
                assert!(oper.recv(&r).is_ok(), "{w}");
            } else {
                assert!(oper.send(&s, 0).is_ok(), "{w}");
            }
            hit[ops.iter().position(|&o| o == i).unwrap()] = true;
        }
        select! {
            send(s, 0) -> res => {
                res.unwrap();
                select! {
                    recv(r) -> m => {
                        assert!(m.is_ok(), "{w}");
                        select! { send(s, 1) -> res => res.unwrap() }
                    }
                }
            }
        }
    });
}

#[test]
fn stress_recv_send_mixed() {
    const COUNT: usize = 1_000;
    on_every_world(120, |w| {
        // Receives: unbounded and bounded(5), alternating.
        let (s1, r1) = unbounded();
        let (s2, r2) = bounded(5);
        let (s3, r3) = bounded(100);
        let h = go(move || {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                r3.recv().unwrap();
                s2.send(i).unwrap();
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                select! {
                    recv(r1) -> m => assert_eq!(m, Ok(i), "{w}"),
                    recv(r2) -> m => assert_eq!(m, Ok(i), "{w}"),
                }
                s3.send(()).unwrap();
            }
        }
        h.join();
        // Sends on two rendezvous channels, received in turn by a plain `recv`.
        let (s1, r1) = bounded(0);
        let (s2, r2) = bounded(0);
        let (s3, r3) = bounded(100);
        let h = go(move || {
            for i in 0..COUNT {
                assert_eq!(r1.recv(), Ok(i));
                assert_eq!(r2.recv(), Ok(i));
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                select! {
                    send(s1, i) -> res => res.unwrap(),
                    send(s2, i) -> res => res.unwrap(),
                }
            }
            s3.send(()).unwrap();
        }
        h.join();
        // Mixed: a receive and a send on rendezvous channels.
        let (s1, r1) = bounded(0);
        let (s2, r2) = bounded(0);
        let (s3, r3) = bounded(100);
        let h = go(move || {
            for i in 0..COUNT {
                s1.send(i).unwrap();
                assert_eq!(r2.recv(), Ok(i));
                r3.recv().unwrap();
            }
        });
        for i in 0..COUNT {
            for _ in 0..2 {
                select! {
                    recv(r1) -> m => assert_eq!(m, Ok(i), "{w}"),
                    send(s2, i) -> res => res.unwrap(),
                }
            }
            s3.send(()).unwrap();
        }
        h.join();
    });
}

#[test]
fn stress_timeout_two_tasks() {
    const COUNT: usize = 10;
    on_every_world(120, |w| {
        let (s, r) = bounded(2);
        let h = go(move || {
            for i in 0..COUNT {
                if i % 2 == 0 {
                    sleep(ms(15));
                }
                loop {
                    let mut sel = Select::new();
                    sel.send(&s);
                    if let Ok(oper) = sel.select_timeout(ms(5)) {
                        oper.send(&s, i).unwrap();
                        break;
                    }
                }
            }
        });
        for i in 0..COUNT {
            if i % 2 == 0 {
                sleep(ms(15));
            }
            loop {
                let mut sel = Select::new();
                sel.recv(&r);
                if let Ok(oper) = sel.select_timeout(ms(5)) {
                    assert_eq!(oper.recv(&r), Ok(i), "{w}");
                    break;
                }
            }
        }
        h.join();
    });
}

#[test]
fn send_and_recv_on_the_same_channel() {
    on_every_world(30, |w| {
        // Rendezvous: a select never pairs with itself.
        let (s, r) = bounded::<i32>(0);
        select! {
            send(s, 0) -> _ => panic!("{w}: paired with itself"),
            recv(r) -> _ => panic!("{w}: paired with itself"),
            default(ms(20)) => {}
        }
        // Unbounded: the send is ready, the receive is not.
        let (s, r) = unbounded::<i32>();
        select! {
            send(s, 0) -> res => res.unwrap(),
            recv(r) -> _ => panic!("{w}: empty"),
            default(LONG) => panic!("{w}"),
        }
        assert_eq!(r.try_recv(), Ok(0));
    });
}

/// Many tasks each selecting a send and a receive on one rendezvous channel pair up
/// (select send with select receive), never with themselves; with an odd number, a plain
/// `send` pairs with the one left.
#[test]
fn matching() {
    on_every_world(120, |w| {
        for (n, leftover) in [(20usize, false), (21, true)] {
            let (s, r) = bounded::<usize>(0);
            let hs: Vec<_> = (0..n)
                .map(|i| {
                    let (s, r) = (s.clone(), r.clone());
                    go(move || {
                        select! {
                            recv(r) -> m => assert_ne!(m, Ok(i)),
                            send(s, i) -> res => res.unwrap(),
                        }
                    })
                })
                .collect();
            if leftover {
                s.send(usize::MAX).unwrap();
            }
            for h in hs {
                h.join();
            }
            assert_eq!(r.try_recv(), Err(TryRecvError::Empty), "{w}");
        }
    });
}

#[test]
fn channel_through_channel() {
    const COUNT: usize = 200;
    on_every_world(120, |w| {
        for cap in 0..3 {
            type T = Box<dyn std::any::Any + Send>;
            let (s, r) = bounded::<T>(cap);
            let h = go(move || {
                let mut s = s;
                for _ in 0..COUNT {
                    let (new_s, new_r) = bounded::<T>(cap);
                    let new_r: T = Box::new(Some(new_r));
                    select! { send(s, new_r) -> res => assert!(res.is_ok()) }
                    s = new_s;
                }
            });
            let mut r = r;
            for _ in 0..COUNT {
                r = select! {
                    recv(r) -> m => m
                        .unwrap()
                        .downcast::<Option<Receiver<T>>>()
                        .unwrap()
                        .as_mut()
                        .take()
                        .unwrap(),
                };
            }
            h.join();
            assert!(r.recv().is_err(), "{w}");
        }
    });
}

/// A non-blocking select over channels one of which always holds a message, while another
/// task moves the message from one to the other (or closes one): the select never finds
/// both empty (crossbeam's linearizable_try, Go's TestNonblockSelectRace and Race2).
#[test]
fn nonblocking_select_races() {
    const COUNT: usize = 500;
    on_every_world(120, |w| {
        for step in 0..3 {
            for _ in 0..COUNT {
                let ((s1, r1), (s2, r2)) = match step {
                    0 => (bounded::<i32>(1), bounded::<i32>(1)),
                    1 => (unbounded(), unbounded()),
                    _ => (bounded(1), bounded(0)),
                };
                s1.send(1).unwrap();
                let (t1, t2) = (r1.clone(), r2.clone());
                let h = go(move || {
                    select! {
                        recv(t1) -> _ => true,
                        recv(t2) -> _ => true,
                        default => false,
                    }
                });
                // At every moment one of the two is ready: c2 gets a message (or is closed)
                // before c1's is taken.
                if step == 2 {
                    drop(s2);
                } else {
                    s2.send(1).unwrap();
                }
                let _ = r1.try_recv();
                assert!(h.join(), "{w}/{step}: no channel was ready");
                drop(s1);
            }
        }
    });
}

/// Go's TestSelectFairness: two always-ready channels among four; each is chosen about half
/// the time (the band is generous; Go's is ±4.5σ ≈ ±4.5%).
#[test]
fn fairness() {
    const TRIALS: usize = 10_000;
    on_every_world(120, |w| {
        let (s1, r1) = bounded::<u8>(TRIALS + 1);
        let (s2, r2) = unbounded::<u8>();
        for _ in 0..=TRIALS {
            s1.send(1).unwrap();
            s2.send(2).unwrap();
        }
        let (_s3, r3) = bounded::<u8>(0);
        let (_s4, r4) = unbounded::<u8>();
        let mut count = [0usize; 3];
        for _ in 0..TRIALS {
            let b = select! {
                recv(r3) -> m => m.unwrap(),
                recv(r4) -> m => m.unwrap(),
                recv(r1) -> m => m.unwrap(),
                recv(r2) -> m => m.unwrap(),
            };
            count[b as usize] += 1;
        }
        for (c, n) in count.iter().enumerate().skip(1) {
            assert!(
                *n >= TRIALS * 35 / 100,
                "{w}: channel {c} chosen {n} times of {TRIALS}"
            );
        }
        // The `Select` form, with a send among the ready operations.
        let (s5, r5) = unbounded::<()>();
        let mut hits = [0usize; 3];
        for _ in 0..3_000 {
            let mut sel = Select::new();
            sel.recv(&r1);
            sel.recv(&r2);
            sel.send(&s5);
            let oper = sel.select();
            let i = oper.index();
            match i {
                0 => drop(oper.recv(&r1).unwrap()),
                1 => drop(oper.recv(&r2).unwrap()),
                _ => oper.send(&s5, ()).unwrap(),
            }
            hits[i] += 1;
        }
        assert!(hits.iter().all(|&h| h >= 700), "{w}: {hits:?}");
        drop(r5);
    });
}

/// Go's TestSelfSelect: two tasks select a send and a receive on one channel; with a
/// rendezvous channel they pair with each other, never with themselves.
#[test]
fn self_select() {
    on_every_world(120, |w| {
        for cap in [0usize, 10] {
            let (s, r) = bounded::<usize>(cap);
            let hs: Vec<_> = (0..2)
                .map(|p| {
                    let (s, r) = (s.clone(), r.clone());
                    go(move || {
                        for i in 0..300 {
                            let v = if p == 0 || i % 2 == 0 {
                                select! {
                                    send(s, p) -> res => { res.unwrap(); None }
                                    recv(r) -> m => Some(m.unwrap()),
                                }
                            } else {
                                select! {
                                    recv(r) -> m => Some(m.unwrap()),
                                    send(s, p) -> res => { res.unwrap(); None }
                                }
                            };
                            if cap == 0 {
                                assert_ne!(v, Some(p), "self receive");
                            }
                        }
                    })
                })
                .collect();
            for h in hs {
                h.join();
            }
            let _ = w;
        }
    });
}

/// Go's test/chan/select.go: sends over a set of channels that shrinks as each is used; a
/// send's value is evaluated only when the send is chosen (crossbeam's meaning).
#[test]
fn sends_over_a_shrinking_set() {
    on_every_world(30, |w| {
        let evaluated = Cell::new(0);
        let value = |shift: u32| {
            evaluated.set(evaluated.get() + 1);
            1u32 << shift
        };
        let send_all = |chans: &[&Sender<u32>]| {
            let mut left: Vec<&Sender<u32>> = chans.to_vec();
            let (mut sent, mut shift) = (0, 0);
            loop {
                let mut sel = Select::new();
                for s in &left {
                    sel.send(s);
                }
                let Ok(oper) = sel.try_select() else { break };
                let i = oper.index();
                oper.send(left[i], value(shift)).unwrap();
                left.remove(i);
                sent += 1;
                shift += 1;
            }
            sent
        };
        let (a, ra) = bounded::<u32>(1);
        let (b, rb) = bounded::<u32>(1);
        assert_eq!(send_all(&[&a, &b]), 2, "{w}");
        assert_eq!(ra.recv().unwrap() | rb.recv().unwrap(), 1 | 2, "{w}");
        assert_eq!(send_all(&[&a]), 1, "{w}");
        assert_eq!(evaluated.get(), 3, "{w}");
        // With the macro: the message of a send that is not chosen is never evaluated.
        let (_c, rc) = unbounded::<u32>();
        let (full, _nobody) = bounded::<u32>(0);
        select! {
            send(full, value(9)) -> _ => panic!("{w}: nobody receives"),
            recv(rc) -> _ => panic!("{w}"),
            default => {}
        }
        assert_eq!(evaluated.get(), 3, "{w}");
    });
}

/// A waiting select over 100 channels parks once (no task or thread per branch: the
/// deadlock test shows one blocked task) and is woken by a send on any one of them.
#[test]
fn many_channels_one_wake() {
    on_every_world(120, |w| {
        let chans: Vec<_> = (0..100).map(|_| bounded::<usize>(0)).collect();
        let senders: Vec<Sender<usize>> = chans.iter().map(|(s, _)| s.clone()).collect();
        let receivers: Vec<Receiver<usize>> = chans.into_iter().map(|(_, r)| r).collect();
        let senders = Arc::new(senders);
        for k in [0, 37, 99, 50, 1] {
            let ss = senders.clone();
            let h = go(move || ss[k].send(k).unwrap());
            let mut sel = Select::new();
            for r in &receivers {
                sel.recv(r);
            }
            let oper = sel.select();
            assert_eq!(oper.index(), k, "{w}");
            assert_eq!(oper.recv(&receivers[k]), Ok(k), "{w}");
            h.join();
        }
        // The other way: a select over 100 sends, one receiver appears.
        let mut sel = Select::new();
        for s in senders.iter() {
            sel.send(s);
        }
        let r = receivers[63].clone();
        let h = go(move || r.recv().unwrap());
        let oper = sel.select();
        assert_eq!(oper.index(), 63, "{w}");
        oper.send(&senders[63], 630).unwrap();
        assert_eq!(h.join(), 630, "{w}");
    });
}

/// Every pairing on a rendezvous channel: select send with plain recv and plain send with
/// select recv (whichever comes first), and select with select from two tasks.
#[test]
fn rendezvous_pairings() {
    on_every_world(60, |w| {
        for first_waits in [true, false] {
            let (s, r) = bounded::<i32>(0);
            let (_x, rx) = bounded::<i32>(0);
            let h = go(move || {
                if first_waits {
                    sleep(ms(5));
                }
                r.recv().unwrap()
            });
            if !first_waits {
                sleep(ms(5));
            }
            select! {
                send(s, 1) -> res => res.unwrap(),
                recv(rx) -> _ => panic!("{w}"),
            }
            assert_eq!(h.join(), 1, "{w}");
            let (s, r) = bounded::<i32>(0);
            let h = go(move || {
                if first_waits {
                    sleep(ms(5));
                }
                s.send(2).unwrap();
            });
            if !first_waits {
                sleep(ms(5));
            }
            select! {
                recv(r) -> m => assert_eq!(m, Ok(2), "{w}"),
                recv(rx) -> _ => panic!("{w}"),
            }
            h.join();
            let (s, r) = bounded::<i32>(0);
            let (s2, r2) = (s.clone(), r.clone());
            let h = go(move || {
                select! {
                    send(s2, 3) -> res => res.unwrap(),
                    recv(rx) -> _ => panic!(),
                }
            });
            select! {
                recv(r2) -> m => assert_eq!(m, Ok(3), "{w}"),
                default(LONG) => panic!("{w}: the two selects did not pair"),
            }
            h.join();
            drop((s, r));
        }
    });
}

/// A plain thread sends to a channel a green select waits on, and a green task sends to a
/// plain thread's select.
#[test]
fn green_and_plain_threads_mixed() {
    within(60, || {
        for (name, rt) in runtimes() {
            let (s, r) = bounded::<u32>(0);
            let (s2, r2) = unbounded::<u32>();
            let t = std::thread::spawn(move || {
                std::thread::sleep(ms(10));
                s.send(7).unwrap();
                select! { recv(r2) -> m => m.unwrap() }
            });
            let got = rt.block_on(move || {
                let (_x, rx) = unbounded::<u32>();
                let m = select! {
                    recv(rx) -> _ => panic!(),
                    recv(r) -> m => m.unwrap(),
                };
                spindle::spawn(move || s2.send(m + 1).unwrap())
                    .join()
                    .unwrap();
                m
            });
            assert_eq!(got, 7, "{name}");
            assert_eq!(t.join().unwrap(), 8, "{name}");
        }
    });
}

#[test]
fn ready() {
    on_every_world(60, |w| {
        let (s, r) = unbounded::<i32>();
        let (s0, r0) = bounded::<i32>(0);
        let mut sel = Select::new();
        let i = sel.recv(&r);
        let j = sel.recv(&r0);
        assert!(sel.try_ready().is_err(), "{w}");
        assert!(sel.ready_timeout(ms(10)).is_err(), "{w}");
        let h = go(move || {
            sleep(ms(5));
            s.send(1).unwrap();
            s
        });
        assert_eq!(sel.ready(), i, "{w}");
        assert_eq!(r.try_recv(), Ok(1), "{w}");
        let _s = h.join();
        // A rendezvous send is ready once a receiver waits; the receive once a sender does.
        let mut sel = Select::new();
        sel.send(&s0);
        let h = go(move || r0.recv().unwrap());
        assert_eq!(sel.ready_timeout(LONG), Ok(0), "{w}");
        s0.send(5).unwrap();
        assert_eq!(h.join(), 5, "{w}");
        let (s0, r0) = bounded::<i32>(0);
        let mut sel = Select::new();
        sel.recv(&r0);
        let h = go(move || s0.send(6).unwrap());
        assert_eq!(sel.ready(), 0, "{w}");
        assert_eq!(r0.recv(), Ok(6), "{w}");
        h.join();
        let _ = j;
    });
}

/// Dropping a `SelectedOperation` without completing it panics, and gives back what it took.
#[test]
fn a_selected_operation_must_be_completed() {
    on_every_world(60, |w| {
        let (s, r) = unbounded::<i32>();
        s.send(1).unwrap();
        let err = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut sel = Select::new();
            sel.recv(&r);
            drop(sel.select());
        }))
        .expect_err("must panic");
        let msg = support::panic_message(&*err);
        assert!(msg.contains("without completing"), "{w}: {msg}");
        assert_eq!(r.try_recv(), Ok(1), "{w}: the message was put back");
        // A reserved rendezvous receiver is released: it takes the next message.
        let (s, r) = bounded::<i32>(0);
        let h = go(move || r.recv().unwrap());
        let mut sel = Select::new();
        sel.send(&s);
        let oper = sel.select_timeout(LONG).unwrap();
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(oper)));
        s.send(2).unwrap();
        assert_eq!(h.join(), 2, "{w}");
        // Reserved room in a bounded channel is released.
        let (s, r) = bounded::<i32>(1);
        let mut sel = Select::new();
        sel.send(&s);
        let oper = sel.select();
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(oper)));
        s.try_send(3).unwrap();
        assert_eq!(r.recv(), Ok(3), "{w}");
    });
}

/// The macro's forms: references and temporaries, block bodies with or without commas,
/// patterns, and control flow out of a body.
#[test]
fn macro_forms() {
    on_every_world(30, |w| {
        let (s, r) = unbounded::<i32>();
        let (_keep, idle) = unbounded::<i32>();
        let mut n = 1;
        loop {
            s.send(n).unwrap();
            select! {
                recv(&r) -> m => {
                    n += m.unwrap();
                    if n > 3 { break }
                    continue
                }
                recv(idle.clone()) -> _ => unreachable!(),
                send(&s, 100) -> _ => {}
            }
        }
        assert!(n > 3, "{w}");
        while r.try_recv().is_ok() {}
        s.send(5).unwrap();
        let v = select! {
            recv(r) -> mut m => { m = m.map(|x| x + 1); m.unwrap() }
        };
        assert_eq!(v, 6, "{w}");
    });
}

/// Messages through many selecting receivers and senders: none lost, none duplicated.
#[test]
fn no_message_lost() {
    const PER: usize = 300;
    on_every_world(120, |w| {
        for cap in [0usize, 1, 4] {
            let (s1, r1) = bounded::<usize>(cap);
            let (s2, r2) = bounded::<usize>(cap);
            let total = Arc::new(AtomicUsize::new(0));
            let senders: Vec<_> = (0..3)
                .map(|t| {
                    let (s1, s2) = (s1.clone(), s2.clone());
                    go(move || {
                        for i in 0..PER {
                            let v = t * PER + i + 1;
                            if i % 3 == 0 {
                                s1.send(v).unwrap();
                            } else {
                                select! {
                                    send(s1, v) -> res => res.unwrap(),
                                    send(s2, v) -> res => res.unwrap(),
                                }
                            }
                        }
                    })
                })
                .collect();
            drop((s1, s2));
            let receivers: Vec<_> = (0..3)
                .map(|t| {
                    let (r1, r2, total) = (r1.clone(), r2.clone(), total.clone());
                    go(move || {
                        let mut open = (true, true);
                        let mut sum = 0;
                        while open.0 || open.1 {
                            if t == 0 && open.0 {
                                match r1.recv() {
                                    Ok(v) => sum += v,
                                    Err(_) => open.0 = false,
                                }
                                continue;
                            }
                            let mut sel = Select::new();
                            let a = open.0.then(|| sel.recv(&r1));
                            let b = open.1.then(|| sel.recv(&r2));
                            let oper = sel.select();
                            let (r, flag) = if Some(oper.index()) == a {
                                (&r1, &mut open.0)
                            } else {
                                assert_eq!(Some(oper.index()), b);
                                (&r2, &mut open.1)
                            };
                            match oper.recv(r) {
                                Ok(v) => sum += v,
                                Err(_) => *flag = false,
                            }
                        }
                        total.fetch_add(sum, Ordering::Relaxed);
                    })
                })
                .collect();
            for h in senders {
                h.join();
            }
            for h in receivers {
                h.join();
            }
            let n = 3 * PER;
            assert_eq!(
                total.load(Ordering::Relaxed),
                n * (n + 1) / 2,
                "{w}/cap {cap}"
            );
        }
    });
}

/// A daemon cancelled while it waits in a select (at the end of `block_on`) leaves every wait
/// list: the runtime goes on, and the channels work for others.
#[test]
fn a_cancelled_select_leaves_every_list() {
    within(60, || {
        for workers in [1, 2] {
            let rt = spindle::Runtime::cooperative()
                .workers(workers)
                .build()
                .unwrap();
            let (s1, r1) = bounded::<u32>(0);
            let (s2, r2) = unbounded::<u32>();
            let (r1c, r2c) = (r1.clone(), r2.clone());
            rt.block_on(move || {
                let (ready_tx, ready_rx) = bounded::<()>(1);
                spindle::Builder::new()
                    .daemon(true)
                    .spawn(move || {
                        ready_tx.send(()).unwrap();
                        select! {
                            recv(r1c) -> _ => unreachable!(),
                            recv(r2c) -> _ => unreachable!(),
                        }
                    })
                    .unwrap();
                ready_rx.recv().unwrap();
                yield_now();
            });
            // Nobody waits on the rendezvous channel any more; the other one works.
            assert!(s1.try_send(1).unwrap_err().is_full(), "{workers}");
            s2.send(2).unwrap();
            assert_eq!(r2.try_recv(), Ok(2), "{workers}");
            let t = std::thread::spawn(move || r1.recv());
            s1.send(3).unwrap();
            assert_eq!(t.join().unwrap(), Ok(3), "{workers}");
            assert_eq!(rt.block_on(|| spindle::spawn(|| 5).join().unwrap()), 5);
        }
    });
}

/// Plain sends and receives only (a regression test for the channel itself): on a small
/// bounded channel, a sender told of room that then hands its message straight to a parked
/// receiver passes the room on, so no sender waits for free room while every receiver waits
/// for a message.
#[test]
fn bounded_room_is_passed_on_after_a_hand_over() {
    const PER: usize = 2_000;
    on_every_world(120, |w| {
        for cap in [1usize, 2] {
            let (s, r) = bounded::<usize>(cap);
            let senders: Vec<_> = (0..3)
                .map(|_| {
                    let s = s.clone();
                    go(move || (0..PER).for_each(|i| s.send(i).unwrap()))
                })
                .collect();
            drop(s);
            let receivers: Vec<_> = (0..3)
                .map(|_| {
                    let r = r.clone();
                    go(move || r.iter().count())
                })
                .collect();
            for h in senders {
                h.join();
            }
            let got: usize = receivers.into_iter().map(Joiner::join).sum();
            assert_eq!(got, 3 * PER, "{w}/cap {cap}");
        }
    });
}
