//! `spindle::channel` against crossbeam-channel's meanings: unbounded, bounded and rendezvous
//! channels, disconnection from either side, the `try_*` and `*_timeout` calls, iterators,
//! clone counting, error types, and duplex pipes — on every backend and between plain OS
//! threads and green threads.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::channel::{
    self, pipe, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError,
};
use spindle::{sleep, spawn, yield_now, Runtime};
use support::{bounded, runtimes};

/// Long enough to tell "waits" from "returns at once" on a loaded machine.
const WAIT: Duration = Duration::from_millis(40);
/// A timeout that must never be reached: hitting it means a wake-up was lost.
const LONG: Duration = Duration::from_secs(10);

type Make = fn() -> (Sender<u32>, Receiver<u32>);

/// The three flavours: unbounded, bounded(1), rendezvous.
fn flavours() -> [(&'static str, Make); 3] {
    [
        ("unbounded", channel::unbounded as Make),
        ("bounded(1)", || channel::bounded(1)),
        ("bounded(0)", || channel::bounded(0)),
    ]
}

/// Runs `check(backend, flavour, make)` inside `rt` for every flavour.
fn on_each_flavour(backend: &'static str, rt: &Runtime, check: fn(String, Make)) {
    for (flavour, make) in flavours() {
        let what = format!("{backend}/{flavour}");
        rt.block_on(move || check(what, make));
    }
}

#[test]
fn unbounded_send_never_waits_and_keeps_order() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::unbounded();
                // No receiver is receiving: every send still returns.
                spawn(move || {
                    for i in 0..1_000u32 {
                        tx.send(i).unwrap();
                    }
                    assert_eq!(tx.len(), 1_000);
                })
                .join()
                .unwrap();
                assert_eq!(rx.len(), 1_000, "{name}");
                let got: Vec<u32> = rx.iter().collect(); // ends: the sender is gone
                assert_eq!(got, (0..1_000).collect::<Vec<_>>(), "{name}");
                assert!(rx.is_empty(), "{name}");
            });
        }
    });
}

#[test]
fn bounded_send_waits_while_full_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::bounded(2);
                tx.send(1).unwrap();
                tx.send(2).unwrap();
                assert_eq!(tx.len(), 2, "{name}");
                let returned = Arc::new(AtomicBool::new(false));
                let sender = {
                    let (tx, returned) = (tx.clone(), returned.clone());
                    spawn(move || {
                        tx.send(3).unwrap(); // full: waits for a recv
                        returned.store(true, Ordering::SeqCst);
                        Instant::now()
                    })
                };
                sleep(WAIT);
                assert!(
                    !returned.load(Ordering::SeqCst) && !sender.is_finished(),
                    "{name}: send returned on a full channel"
                );
                assert_eq!(rx.len(), 2, "{name}: a send went past the capacity");
                let received_at = Instant::now();
                assert_eq!(rx.recv(), Ok(1), "{name}");
                let sent_at = sender.join().unwrap();
                assert!(
                    sent_at >= received_at,
                    "{name}: send returned before room was made"
                );
                drop(tx);
                assert_eq!(rx.iter().collect::<Vec<_>>(), [2, 3], "{name}");
            });
        }
    });
}

#[test]
fn rendezvous_send_returns_only_after_a_receiver_took_the_message() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::bounded(0);
                // One message: the sender waits for a receiver that comes late.
                let returned = Arc::new(AtomicBool::new(false));
                let sender = {
                    let (tx, returned) = (tx.clone(), returned.clone());
                    spawn(move || {
                        tx.send(7u32).unwrap();
                        returned.store(true, Ordering::SeqCst);
                        Instant::now()
                    })
                };
                sleep(WAIT);
                assert!(
                    !returned.load(Ordering::SeqCst) && !sender.is_finished(),
                    "{name}: rendezvous send returned with nobody receiving"
                );
                let recv_started = Instant::now();
                assert_eq!(rx.recv(), Ok(7), "{name}");
                let sent_at = sender.join().unwrap();
                assert!(
                    sent_at >= recv_started,
                    "{name}: rendezvous send returned before the receive began"
                );

                // Many messages: each send returns only after its receive has begun.
                let recvs_started = Arc::new(AtomicUsize::new(0));
                let sender = {
                    let (tx, recvs_started) = (tx.clone(), recvs_started.clone());
                    spawn(move || {
                        for i in 0..20u32 {
                            tx.send(i).unwrap();
                            let started = recvs_started.load(Ordering::SeqCst);
                            assert!(
                                started > i as usize,
                                "send #{i} returned after only {started} receives began"
                            );
                        }
                    })
                };
                for i in 0..20 {
                    if i % 5 == 0 {
                        sleep(Duration::from_millis(2));
                    }
                    recvs_started.fetch_add(1, Ordering::SeqCst);
                    assert_eq!(rx.recv(), Ok(i), "{name}");
                }
                sender.join().unwrap();
            });
        }
    });
}

#[test]
fn rendezvous_try_send_needs_a_waiting_receiver() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::bounded(0);
                match tx.try_send(1u32) {
                    Err(TrySendError::Full(v)) => assert_eq!(v, 1, "{name}"),
                    other => panic!("{name}: try_send with nobody receiving gave {other:?}"),
                }
                assert_eq!(
                    rx.try_recv(),
                    Err(TryRecvError::Empty),
                    "{name}: kept the value"
                );
                let receiver = {
                    let rx = rx.clone();
                    spawn(move || rx.recv())
                };
                // Once the receiver is parked, try_send hands over.
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    match tx.try_send(2) {
                        Ok(()) => break,
                        Err(TrySendError::Full(2)) if Instant::now() < deadline => {
                            sleep(Duration::from_millis(1))
                        }
                        Err(e) => panic!("{name}: try_send to a parked receiver: {e:?}"),
                    }
                }
                assert_eq!(receiver.join().unwrap(), Ok(2), "{name}");
            });
        }
    });
}

fn disconnect_from_senders(what: String, make: Make) {
    let (tx, rx) = make();
    let tx2 = tx.clone();
    // Messages sent before the senders go are still delivered, then Err.
    let sender = spawn(move || {
        tx.send(1).unwrap();
        tx2.send(2).unwrap();
        drop(tx);
        tx2.send(3).unwrap();
    });
    assert_eq!(rx.recv(), Ok(1), "{what}");
    assert_eq!(rx.recv(), Ok(2), "{what}");
    assert_eq!(rx.recv(), Ok(3), "{what}");
    sender.join().unwrap();
    assert_eq!(rx.recv(), Err(RecvError), "{what}");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{what}");
    let t = Instant::now();
    assert_eq!(
        rx.recv_timeout(LONG),
        Err(RecvTimeoutError::Disconnected),
        "{what}"
    );
    assert!(
        t.elapsed() < LONG / 2,
        "{what}: waited on a disconnected channel"
    );
    assert_eq!(rx.iter().count(), 0, "{what}");

    // A receiver already blocked is woken by the last sender's drop.
    let (tx, rx) = make();
    let tx2 = tx.clone();
    let receiver = spawn(move || (rx.recv(), rx.recv_timeout(LONG)));
    sleep(WAIT);
    drop(tx);
    sleep(WAIT);
    assert!(
        !receiver.is_finished(),
        "{what}: dropping one sender of two disconnected"
    );
    let t = Instant::now();
    drop(tx2);
    let (first, second) = receiver.join().unwrap();
    assert!(t.elapsed() < LONG / 2, "{what}: woke late");
    assert_eq!(first, Err(RecvError), "{what}");
    assert_eq!(second, Err(RecvTimeoutError::Disconnected), "{what}");
}

#[test]
fn recv_errs_once_every_sender_is_gone_and_the_channel_is_drained() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_flavour(name, &rt, disconnect_from_senders);
        }
    });
}

fn disconnect_from_receivers(what: String, make: Make) {
    let (tx, rx) = make();
    let rx2 = rx.clone();
    drop(rx);
    // One receiver of two is left: sending still works (rendezvous: with it receiving).
    let receiver = spawn(move || {
        let v = rx2.recv();
        (v, rx2)
    });
    assert_eq!(tx.send(5), Ok(()), "{what}");
    let (got, rx2) = receiver.join().unwrap();
    assert_eq!(got, Ok(5), "{what}");
    drop(rx2);
    let err = tx.send(6).unwrap_err();
    assert_eq!(err, SendError(6), "{what}");
    assert_eq!(err.into_inner(), 6, "{what}");
    match tx.try_send(7) {
        Err(TrySendError::Disconnected(7)) => {}
        other => panic!("{what}: try_send after the receivers left: {other:?}"),
    }
    let t = Instant::now();
    match tx.send_timeout(8, LONG) {
        Err(SendTimeoutError::Disconnected(8)) => {}
        other => panic!("{what}: send_timeout after the receivers left: {other:?}"),
    }
    assert!(
        t.elapsed() < LONG / 2,
        "{what}: waited on a disconnected channel"
    );
}

#[test]
fn send_errs_with_the_value_once_every_receiver_is_gone() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_flavour(name, &rt, disconnect_from_receivers);
        }
    });
}

/// A sender blocked in `send` (full bounded channel, or rendezvous) and one blocked in
/// `send_timeout` get their values back when the last receiver drops.
fn blocked_sender_woken_by_receiver_drop(what: String, make: Make) {
    let (tx, rx) = make();
    let rx2 = rx.clone();
    // Fill a bounded channel; a rendezvous channel is always "full".
    while tx.try_send(0).is_ok() {
        assert!(!what.ends_with("unbounded"), "never called for unbounded");
        if tx.len() > 100 {
            panic!("{what}: try_send never reports Full");
        }
    }
    let blocked = {
        let tx = tx.clone();
        spawn(move || tx.send(41))
    };
    let blocked_timeout = {
        let tx = tx.clone();
        spawn(move || tx.send_timeout(42, LONG))
    };
    sleep(WAIT);
    drop(rx);
    sleep(WAIT);
    assert!(
        !blocked.is_finished() && !blocked_timeout.is_finished(),
        "{what}: a receiver is still there, the senders must still wait"
    );
    let t = Instant::now();
    drop(rx2);
    let r1 = blocked.join().unwrap();
    let r2 = blocked_timeout.join().unwrap();
    assert!(t.elapsed() < LONG / 2, "{what}: senders woke late");
    assert_eq!(r1.map_err(SendError::into_inner), Err(41), "{what}");
    match r2 {
        Err(SendTimeoutError::Disconnected(42)) => {}
        other => panic!("{what}: send_timeout blocked at the drop gave {other:?}"),
    }
}

#[test]
fn a_blocked_sender_gets_its_value_back_when_the_last_receiver_drops() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            for (flavour, make) in &flavours()[1..] {
                let what = format!("{name}/{flavour}");
                let make = *make;
                rt.block_on(move || blocked_sender_woken_by_receiver_drop(what, make));
            }
        }
    });
}

#[test]
fn try_send_and_try_recv_report_full_empty_and_disconnected() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::bounded(1);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
                assert_eq!(tx.try_send(1u32), Ok(()), "{name}");
                let full = tx.try_send(2).unwrap_err();
                assert!(full.is_full() && !full.is_disconnected(), "{name}");
                assert_eq!(full.into_inner(), 2, "{name}");
                assert_eq!(rx.len(), 1, "{name}: the refused value was not queued");
                drop(tx);
                // A queued message comes before Disconnected.
                assert_eq!(rx.try_recv(), Ok(1), "{name}");
                let e = rx.try_recv().unwrap_err();
                assert!(e.is_disconnected() && !e.is_empty(), "{name}");

                let (tx, rx) = channel::unbounded();
                for i in 0..100u32 {
                    assert_eq!(tx.try_send(i), Ok(()), "{name}: unbounded is never full");
                }
                assert_eq!(rx.try_recv(), Ok(0), "{name}");
                drop(rx);
                let e = tx.try_send(100).unwrap_err();
                assert!(e.is_disconnected() && !e.is_full(), "{name}");
                assert_eq!(e.into_inner(), 100, "{name}");
            });
        }
    });
}

fn timeouts(what: String, make: Make) {
    let d = Duration::from_millis(30);
    let (tx, rx) = make();
    // recv: times out after at least d on an empty channel.
    let t = Instant::now();
    assert_eq!(rx.recv_timeout(d), Err(RecvTimeoutError::Timeout), "{what}");
    assert!(t.elapsed() >= d, "{what}: recv_timeout gave up early");
    // send: times out after at least d on a full channel (rendezvous: no receiver).
    if !what.ends_with("unbounded") {
        while tx.try_send(0).is_ok() {}
        let queued = rx.len();
        let t = Instant::now();
        let e = tx.send_timeout(9, d).unwrap_err();
        assert!(t.elapsed() >= d, "{what}: send_timeout gave up early");
        assert!(e.is_timeout() && !e.is_disconnected(), "{what}");
        assert_eq!(e.into_inner(), 9, "{what}");
        // The timed-out message was not left behind.
        assert_eq!(rx.len(), queued, "{what}");
        let drained: Vec<u32> = rx.try_iter().collect();
        assert!(
            !drained.contains(&9),
            "{what}: a timed-out message was delivered"
        );
    } else {
        assert_eq!(tx.send_timeout(9, d), Ok(()), "{what}");
        assert_eq!(rx.recv_timeout(d), Ok(9), "{what}");
    }
    // A timeout that is not reached: the wake-up comes from the other side.
    let sender = {
        let tx = tx.clone();
        spawn(move || {
            sleep(Duration::from_millis(10));
            tx.send(10).unwrap();
        })
    };
    assert_eq!(rx.recv_timeout(LONG), Ok(10), "{what}");
    sender.join().unwrap();
}

#[test]
fn timeouts_wait_at_least_their_duration_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_flavour(name, &rt, timeouts);
        }
    });
}

fn zero_timeouts(what: String, make: Make) {
    let (tx, rx) = make();
    let t = Instant::now();
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Timeout),
        "{what}"
    );
    if what.ends_with("bounded(0)") {
        // Nobody is receiving: a zero timeout cannot rendezvous.
        let e = tx.send_timeout(1, Duration::ZERO).unwrap_err();
        assert!(e.is_timeout(), "{what}");
        assert_eq!(e.into_inner(), 1, "{what}");
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{what}");
    } else {
        assert_eq!(tx.send_timeout(1, Duration::ZERO), Ok(()), "{what}");
        if what.ends_with("bounded(1)") {
            let e = tx.send_timeout(2, Duration::ZERO).unwrap_err();
            assert!(e.is_timeout(), "{what}");
            assert_eq!(e.into_inner(), 2, "{what}");
        }
        assert_eq!(rx.recv_timeout(Duration::ZERO), Ok(1), "{what}");
    }
    drop(tx);
    assert_eq!(
        rx.recv_timeout(Duration::ZERO),
        Err(RecvTimeoutError::Disconnected),
        "{what}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{what}: a zero timeout waited"
    );
}

#[test]
fn zero_timeouts_behave_like_try() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_flavour(name, &rt, zero_timeouts);
        }
    });
}

fn huge_timeouts(what: String, make: Make) {
    let (tx, rx) = make();
    // recv_timeout(MAX): a message that comes later.
    let sender = {
        let tx = tx.clone();
        spawn(move || {
            sleep(Duration::from_millis(10));
            tx.send_timeout(1, Duration::MAX)
        })
    };
    assert_eq!(rx.recv_timeout(Duration::MAX), Ok(1), "{what}");
    assert_eq!(sender.join().unwrap(), Ok(()), "{what}");
    // send_timeout(MAX): a receiver that comes later (rendezvous), or room at once.
    let receiver = {
        let rx = rx.clone();
        spawn(move || {
            sleep(Duration::from_millis(10));
            rx.recv_timeout(Duration::MAX)
        })
    };
    assert_eq!(tx.send_timeout(2, Duration::MAX), Ok(()), "{what}");
    assert_eq!(receiver.join().unwrap(), Ok(2), "{what}");
    // A message already there.
    if !what.ends_with("bounded(0)") {
        tx.send(3).unwrap();
        assert_eq!(rx.recv_timeout(Duration::MAX), Ok(3), "{what}");
    }
}

#[test]
fn huge_timeouts_work() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            on_each_flavour(name, &rt, huge_timeouts);
        }
    });
}

#[test]
fn iter_ends_at_disconnection_and_try_iter_does_not_block() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                for (flavour, make) in flavours() {
                    let (tx, rx) = make();
                    let producer = spawn(move || {
                        for i in 0..50 {
                            tx.send(i).unwrap();
                            if i % 10 == 0 {
                                yield_now();
                            }
                        }
                    });
                    let got: Vec<u32> = rx.iter().collect();
                    assert_eq!(got, (0..50).collect::<Vec<_>>(), "{name}/{flavour}");
                    producer.join().unwrap();
                }
                // try_iter: the sender is alive, so a blocking iterator would never end.
                let (tx, rx) = channel::unbounded();
                assert_eq!(rx.try_iter().count(), 0, "{name}");
                for i in 0..3u32 {
                    tx.send(i).unwrap();
                }
                assert_eq!(rx.try_iter().collect::<Vec<_>>(), [0, 1, 2], "{name}");
                assert_eq!(rx.try_iter().next(), None, "{name}");
                tx.send(3).unwrap();
                assert_eq!(
                    rx.try_recv(),
                    Ok(3),
                    "{name}: the sender is still connected"
                );
            });
        }
    });
}

#[test]
fn receiver_is_into_iterator_by_value_and_by_reference() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (tx, rx) = channel::bounded(2);
                let producer = spawn(move || {
                    for i in 0..10u32 {
                        tx.send(i).unwrap();
                    }
                });
                let mut by_ref = Vec::new();
                for v in &rx {
                    by_ref.push(v);
                    if v == 4 {
                        break;
                    }
                }
                let mut by_value = Vec::new();
                for v in rx {
                    by_value.push(v);
                }
                producer.join().unwrap();
                assert_eq!(by_ref, [0, 1, 2, 3, 4], "{name}");
                assert_eq!(by_value, [5, 6, 7, 8, 9], "{name}");
            });
        }
    });
}

#[test]
fn clones_of_both_ends_are_counted() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                // Ten senders: the receiver disconnects only when the last one goes.
                let (tx, rx) = channel::unbounded::<u32>();
                let mut senders: Vec<Sender<u32>> = (0..9).map(|_| tx.clone()).collect();
                senders.push(tx);
                while let Some(tx) = senders.pop() {
                    tx.send(senders.len() as u32).unwrap();
                    drop(tx);
                    let got = rx.recv_timeout(Duration::ZERO);
                    assert_eq!(got, Ok(senders.len() as u32), "{name}");
                    if senders.is_empty() {
                        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected), "{name}");
                    } else {
                        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{name}");
                    }
                }
                // Ten receivers: sending fails only when the last one goes.
                let (tx, rx) = channel::unbounded::<u32>();
                let mut receivers: Vec<Receiver<u32>> = (0..9).map(|_| rx.clone()).collect();
                receivers.push(rx);
                while let Some(rx) = receivers.pop() {
                    drop(rx);
                    if receivers.is_empty() {
                        assert_eq!(tx.send(1), Err(SendError(1)), "{name}");
                    } else {
                        assert_eq!(tx.send(1), Ok(()), "{name}");
                        assert_eq!(receivers[0].recv(), Ok(1), "{name}");
                    }
                }
                // Clones share one channel: any receiver gets what any sender sent.
                let (tx, rx) = channel::bounded::<u32>(4);
                let (tx2, rx2) = (tx.clone(), rx.clone());
                tx.send(1).unwrap();
                tx2.send(2).unwrap();
                assert_eq!(rx2.len(), 2, "{name}");
                assert_eq!(rx2.recv(), Ok(1), "{name}");
                assert_eq!(rx.recv(), Ok(2), "{name}");
            });
        }
    });
}

/// Display, Debug (even for a payload without Debug) and `std::error::Error`.
fn error_text<E: std::error::Error + 'static>(e: E) -> (String, String) {
    let display = e.to_string();
    let debug = format!("{e:?}");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert_eq!(boxed.to_string(), display);
    assert!(!display.is_empty() && !debug.is_empty());
    (display, debug)
}

#[test]
fn errors_implement_display_debug_and_error() {
    struct NoDebug(#[allow(dead_code)] u8);
    let (tx, rx) = channel::bounded::<NoDebug>(1);
    tx.send(NoDebug(0)).unwrap();
    let full = tx.try_send(NoDebug(1)).unwrap_err();
    let (d, g) = error_text(full);
    assert!(d.contains("full"), "{d}");
    assert!(g.contains("Full"), "{g}");
    let timeout = tx.send_timeout(NoDebug(2), Duration::ZERO).unwrap_err();
    let (d, g) = error_text(timeout);
    assert!(d.contains("timed out"), "{d}");
    assert!(g.contains("Timeout"), "{g}");
    assert_eq!(rx.try_recv().map(|v| v.0), Ok(0));
    assert_eq!(
        error_text(rx.recv_timeout(Duration::ZERO).map(|v| v.0).unwrap_err()).1,
        "Timeout"
    );
    assert_eq!(
        error_text(rx.try_recv().map(|v| v.0).unwrap_err()).1,
        "Empty"
    );
    drop(rx);
    let (d, _) = error_text(tx.send(NoDebug(3)).unwrap_err());
    assert!(d.contains("no receivers"), "{d}");
    let (d, g) = error_text(tx.try_send(NoDebug(4)).unwrap_err());
    assert!(
        d.contains("no receivers") && g.contains("Disconnected"),
        "{d} {g}"
    );
    let (d, g) = error_text(tx.send_timeout(NoDebug(5), Duration::ZERO).unwrap_err());
    assert!(
        d.contains("no receivers") && g.contains("Disconnected"),
        "{d} {g}"
    );
    let (tx, rx) = channel::unbounded::<u8>();
    drop(tx);
    assert_eq!(error_text(rx.recv().unwrap_err()).1, "RecvError");
    assert_eq!(error_text(rx.try_recv().unwrap_err()).1, "Disconnected");
    assert_eq!(
        error_text(rx.recv_timeout(Duration::ZERO).unwrap_err()).1,
        "Disconnected"
    );
    // The receive errors are plain data: Send + Sync errors for `?` into boxed errors.
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(RecvError);
}

#[test]
fn pipe_talks_both_ways_between_tasks_on_every_backend() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                let (parent, child) = pipe::<u64>();
                let echo = spawn(move || {
                    let mut answered = 0;
                    // Ends when the parent's end is dropped.
                    while let Ok(n) = child.recv() {
                        child.send(n * 10).unwrap();
                        answered += 1;
                    }
                    answered
                });
                for i in 0..100 {
                    parent.send(i).unwrap();
                    assert_eq!(parent.recv(), Ok(i * 10), "{name}");
                }
                // Nothing is on its way: recv_timeout times out, try_recv is empty.
                let t = Instant::now();
                assert_eq!(
                    parent.recv_timeout(Duration::from_millis(20)),
                    Err(RecvTimeoutError::Timeout),
                    "{name}"
                );
                assert!(t.elapsed() >= Duration::from_millis(20), "{name}");
                assert_eq!(parent.try_recv(), Err(TryRecvError::Empty), "{name}");
                parent.send(7).unwrap();
                assert_eq!(parent.recv_timeout(LONG), Ok(70), "{name}");
                drop(parent);
                assert_eq!(echo.join().unwrap(), 101, "{name}");

                // The other end drops: what it sent first still arrives, then Err both ways.
                let (a, b) = pipe::<u64>();
                let closer = spawn(move || {
                    b.send(1).unwrap();
                    b.send(2).unwrap();
                    sleep(Duration::from_millis(10));
                    drop(b);
                });
                assert_eq!(a.recv(), Ok(1), "{name}");
                assert_eq!(a.recv(), Ok(2), "{name}");
                assert_eq!(a.recv(), Err(RecvError), "{name}: woken by the drop");
                closer.join().unwrap();
                assert_eq!(
                    a.recv_timeout(LONG),
                    Err(RecvTimeoutError::Disconnected),
                    "{name}"
                );
                assert_eq!(a.try_recv(), Err(TryRecvError::Disconnected), "{name}");
                assert_eq!(a.send(3).map_err(SendError::into_inner), Err(3), "{name}");
            });
        }
    });
}

#[test]
fn a_plain_thread_sends_to_a_green_thread() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            for (flavour, make) in flavours() {
                // Made outside the runtime, shared with a plain thread.
                let (tx, rx) = make();
                let outside = std::thread::spawn(move || {
                    for i in 0..300u32 {
                        tx.send(i).unwrap();
                        if i % 100 == 0 {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                    }
                    // Dropping tx here disconnects the green receiver.
                });
                let got = rt.block_on(move || {
                    spawn(move || rx.iter().collect::<Vec<u32>>())
                        .join()
                        .unwrap()
                });
                outside.join().unwrap();
                assert_eq!(got, (0..300).collect::<Vec<_>>(), "{name}/{flavour}");
            }
        }
    });
}

#[test]
fn a_green_thread_sends_to_a_plain_thread() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            for (flavour, make) in flavours() {
                let (tx, rx) = make();
                let outside = std::thread::spawn(move || rx.iter().collect::<Vec<u32>>());
                rt.block_on(move || {
                    spawn(move || {
                        for i in 0..300u32 {
                            tx.send(i).unwrap();
                            if i % 100 == 0 {
                                sleep(Duration::from_millis(5));
                            }
                        }
                    })
                    .join()
                    .unwrap()
                });
                assert_eq!(
                    outside.join().unwrap(),
                    (0..300).collect::<Vec<_>>(),
                    "{name}/{flavour}"
                );
            }
        }
    });
}

#[test]
fn disconnection_and_pipes_cross_between_plain_and_green_threads() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            // A plain thread blocked in recv is woken by a green thread dropping the sender.
            let (tx, rx) = channel::bounded::<u32>(0);
            let plain = std::thread::spawn(move || rx.recv());
            rt.block_on(move || {
                sleep(WAIT);
                drop(tx);
            });
            assert_eq!(plain.join().unwrap(), Err(RecvError), "{name}");

            // A green thread blocked in send is woken by a plain thread dropping the receiver.
            let (tx, rx) = channel::bounded::<u32>(0);
            let plain = std::thread::spawn(move || {
                std::thread::sleep(WAIT);
                drop(rx);
            });
            let r = rt.block_on(move || tx.send(5));
            plain.join().unwrap();
            assert_eq!(r, Err(SendError(5)), "{name}");

            // A pipe between a plain thread and a green thread.
            let (here, there) = pipe::<u32>();
            let plain = std::thread::spawn(move || {
                while let Ok(n) = there.recv() {
                    there.send(n + 1).unwrap();
                }
            });
            let last = rt.block_on(move || {
                let mut n = 0;
                for _ in 0..100 {
                    here.send(n).unwrap();
                    n = here.recv_timeout(LONG).unwrap();
                }
                n
            });
            plain.join().unwrap(); // ended: the green end was dropped
            assert_eq!(last, 100, "{name}");
        }
    });
}
