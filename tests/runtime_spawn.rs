//! `Runtime::spawn` and `Builder::spawn_on`: spawning onto a runtime from outside it.

mod support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::{Builder, Runtime};
use support::{bounded, runtimes};

#[test]
fn a_plain_thread_spawns_and_joins_on_every_backend() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let hs: Vec<_> = (0..100u64)
                .map(|i| {
                    rt.spawn(move || {
                        spindle::yield_now();
                        i
                    })
                })
                .collect();
            let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(sum, 4950, "{name}");
            let h = Builder::new()
                .name("outsider")
                .spawn_on(&rt, || spindle::current().name().map(String::from))
                .unwrap();
            assert_eq!(h.join().unwrap().as_deref(), Some("outsider"), "{name}");
        }
    });
}

#[test]
fn block_on_waits_for_a_task_spawned_from_outside() {
    bounded(120, || {
        for (name, rt) in runtimes() {
            let done = Arc::new(AtomicU32::new(0));
            let d = done.clone();
            let (tx, rx) = spindle::channel::bounded::<()>(0);
            let _h = rt.spawn(move || {
                rx.recv().unwrap();
                d.store(1, Ordering::SeqCst);
            });
            rt.block_on(move || tx.send(()).unwrap());
            assert_eq!(
                done.load(Ordering::SeqCst),
                1,
                "{name}: block_on waited for it"
            );
        }
    });
}

#[test]
fn a_task_spawned_on_a_deterministic_runtime_runs_at_the_next_block_on() {
    bounded(60, || {
        let rt = Runtime::deterministic(3).build().unwrap();
        let ran = Arc::new(AtomicU32::new(0));
        let r = ran.clone();
        let h = rt.spawn(move || r.fetch_add(1, Ordering::SeqCst));
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(ran.load(Ordering::SeqCst), 0, "no run outside block_on");
        rt.block_on(|| ());
        assert_eq!(ran.load(Ordering::SeqCst), 1);
        assert_eq!(h.join().unwrap(), 0);
    });
}
