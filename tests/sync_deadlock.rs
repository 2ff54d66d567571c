//! The deadlock report: when every task of a cooperative runtime is blocked and nothing can
//! wake any, `block_on` panics with a message that begins `deadlock:`, names each blocked
//! task, what it waits on and where, and any cycle. And no false positives.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use spindle::channel;
use spindle::queue::Queue;
use spindle::sync::{Mutex, Semaphore};
use spindle::{sleep, spawn, Builder, Runtime};
use support::{bounded, panic_message};

/// Runs `f` on a fresh 2-worker runtime and returns the deadlock report it must end in.
fn report_of(f: impl FnOnce() + Send + 'static) -> String {
    let rt = Runtime::cooperative().workers(2).build().unwrap();
    let err = panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(f)))
        .expect_err("expected a deadlock report");
    let msg = panic_message(&*err);
    assert!(msg.starts_with("deadlock:"), "{msg}");
    // The runtime survives its deadlock: the blocked tasks were cancelled.
    assert_eq!(rt.block_on(|| spawn(|| 5).join().unwrap()), 5);
    msg
}

#[test]
fn self_lock() {
    bounded(30, || {
        let msg = report_of(|| {
            let m = Mutex::new(());
            let _a = m.lock();
            let _b = m.lock();
        });
        assert!(msg.contains("task 'main'"), "{msg}");
        assert!(
            msg.contains("Mutex::lock at tests/sync_deadlock.rs"),
            "{msg}"
        );
        assert!(msg.contains("cycle: task 'main' (#"), "{msg}");
    });
}

#[test]
fn two_tasks_two_mutexes_opposite_order() {
    bounded(30, || {
        let msg = report_of(|| {
            let a = Arc::new(Mutex::new(()));
            let b = Arc::new(Mutex::new(()));
            let (a1, b1) = (a.clone(), b.clone());
            let t1 = Builder::new()
                .name("left")
                .spawn(move || {
                    let _x = a1.lock();
                    sleep(Duration::from_millis(20));
                    let _y = b1.lock();
                })
                .unwrap();
            let t2 = Builder::new()
                .name("right")
                .spawn(move || {
                    let _x = b.lock();
                    sleep(Duration::from_millis(20));
                    let _y = a.lock();
                })
                .unwrap();
            t1.join().unwrap();
            t2.join().unwrap();
        });
        assert!(msg.contains("task 'left'"), "{msg}");
        assert!(msg.contains("task 'right'"), "{msg}");
        assert!(msg.contains("held by task 'right'"), "{msg}");
        assert!(msg.contains("held by task 'left'"), "{msg}");
        assert!(msg.contains("JoinHandle::join"), "{msg}");
        let cycle = msg
            .lines()
            .find(|l| l.contains("cycle:"))
            .expect("a cycle line");
        assert!(
            cycle.contains("'left'") && cycle.contains("'right'"),
            "{msg}"
        );
    });
}

#[test]
fn recv_whose_only_sender_is_held_by_a_blocked_task() {
    bounded(30, || {
        let msg = report_of(|| {
            let (tx, rx) = channel::unbounded::<u32>();
            let gate = Arc::new(Semaphore::new(0));
            let g2 = gate.clone();
            let holder = Builder::new()
                .name("holder")
                .spawn(move || {
                    let _tx = tx; // keeps the channel connected
                    let _p = g2.acquire(); // never released
                })
                .unwrap();
            let _ = rx.recv();
            holder.join().unwrap();
        });
        assert!(msg.contains("Receiver::recv"), "{msg}");
        assert!(msg.contains("task 'holder'"), "{msg}");
        assert!(msg.contains("Semaphore::acquire"), "{msg}");
    });
}

#[test]
fn joining_a_blocked_task() {
    bounded(30, || {
        let msg = report_of(|| {
            let ev = Arc::new(spindle::sync::Event::new());
            let e2 = ev.clone();
            let stuck = Builder::new()
                .name("stuck")
                .spawn(move || e2.wait())
                .unwrap();
            stuck.join().unwrap();
        });
        assert!(msg.contains("joining task 'stuck'"), "{msg}");
        assert!(msg.contains("Event::wait"), "{msg}");
    });
}

#[test]
fn queue_join_with_an_item_never_done() {
    bounded(30, || {
        let msg = report_of(|| {
            let q = Queue::unbounded();
            q.put(1);
            let _ = q.get();
            q.join(); // task_done never called
        });
        assert!(msg.contains("Queue::join"), "{msg}");
    });
}

#[test]
fn no_false_positives() {
    bounded(60, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        // A task waiting on a timer.
        rt.block_on(|| spawn(|| sleep(Duration::from_millis(700))).join().unwrap());
        // A task waiting on a primitive made outside the runtime, released by an outside thread.
        let ev = Arc::new(spindle::sync::Event::new());
        let e2 = ev.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            e2.set();
        });
        assert!(rt.block_on(move || ev.wait()));
        t.join().unwrap();
        // A channel used from an outside thread before the task waits on it.
        let (tx, rx) = channel::unbounded::<u8>();
        tx.send(0).unwrap();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            tx.send(1).unwrap();
        });
        let got = rt.block_on(move || (rx.recv().unwrap(), rx.recv().unwrap()));
        assert_eq!(got, (0, 1));
        t.join().unwrap();
        // Blocking work in the blocking pool.
        let v = rt.block_on(|| {
            spindle::spawn_blocking(|| {
                std::thread::sleep(Duration::from_millis(700));
                3
            })
        });
        assert_eq!(v, 3);
        // Joining a task of another (preemptive) runtime.
        let pre = Arc::new(Runtime::preemptive().build().unwrap());
        let (htx, hrx) = std::sync::mpsc::channel();
        let p2 = pre.clone();
        let feeder = std::thread::spawn(move || {
            p2.block_on(move || {
                let h = spawn(|| {
                    std::thread::sleep(Duration::from_millis(700));
                    9
                });
                htx.send(h).unwrap();
            })
        });
        let h = hrx.recv().unwrap();
        assert_eq!(rt.block_on(move || h.join().unwrap()), 9);
        feeder.join().unwrap();
    });
}

#[test]
fn a_timed_wait_that_ended_early_does_not_hide_a_later_deadlock() {
    bounded(30, || {
        let msg = report_of(|| {
            let (tx, rx) = channel::unbounded::<u8>();
            let sender = spawn(move || tx.send(1).unwrap());
            // Parks with an hour-long timer, then a message wakes it early: the timer stays
            // behind on this worker.
            assert_eq!(rx.recv_timeout(Duration::from_secs(3600)), Ok(1));
            sender.join().unwrap();
            let m = Mutex::new(());
            let _a = m.lock();
            let _b = m.lock();
        });
        assert!(msg.contains("Mutex::lock"), "{msg}");
    });
}
