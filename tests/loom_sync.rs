//! Model checks of the wait queues and parker protocol with loom, at preemption bound 3:
//! Mutex, Semaphore, channel send/recv/close, and Queue put/get/task_done/join.
//!
//! Run with `RUSTFLAGS="--cfg spindle_loom" cargo test --release --test loom_sync` (`.ci/run` does,
//! in its own target directory). Without `--cfg spindle_loom` this file is empty.
#![cfg(spindle_loom)]

use loom::sync::Arc;
use loom::thread;

use spindle::channel;
use spindle::queue::Queue;
use spindle::sync::{Mutex, Semaphore};

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
        let inside = Arc::new(loom::sync::atomic::AtomicUsize::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (s, inside) = (s.clone(), inside.clone());
                thread::spawn(move || {
                    let _p = s.acquire();
                    let n = inside.fetch_add(1, loom::sync::atomic::Ordering::SeqCst);
                    assert_eq!(n, 0, "two holders of one permit");
                    inside.fetch_sub(1, loom::sync::atomic::Ordering::SeqCst);
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(s.available_permits(), 1);
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

#[test]
fn rendezvous_send_waits_for_the_receiver() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(0);
        let producer = thread::spawn(move || tx.send(7).is_ok());
        assert_eq!(rx.recv(), Ok(7));
        assert!(producer.join().unwrap());
    });
}

#[test]
fn send_to_a_dropped_receiver_gives_the_value_back() {
    model(|| {
        let (tx, rx) = channel::bounded::<u32>(1);
        let consumer = thread::spawn(move || drop(rx));
        // Either it fits before the drop (Ok) or it comes back (Err(3)); never lost silently.
        match tx.send(3) {
            Ok(()) => {}
            Err(e) => assert_eq!(e.into_inner(), 3),
        }
        consumer.join().unwrap();
    });
}

#[test]
fn queue_put_get_task_done_join() {
    model(|| {
        let q = Queue::bounded(1);
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                for _ in 0..2 {
                    let _ = q.get();
                    q.task_done();
                }
            })
        };
        q.put(1u32);
        q.put(2u32);
        q.join();
        assert!(q.is_empty());
        worker.join().unwrap();
    });
}
