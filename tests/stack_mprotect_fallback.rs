//! The `mprotect` fallback for guard pages (kernels before 6.13): guards still fault and are
//! reported, each live stack costs map entries, and running out of `vm.max_map_count` is an
//! `io::Error` from `Builder::spawn`, not an abort. (Its own test binary: it switches the
//! process to the fallback.)

mod support;

use std::process::Command;
use std::sync::Arc;

use spindle::coroutine::{Coroutine, Yielder};
use spindle::sync::Event;
use spindle::{Builder, Runtime};
use support::bounded;

fn maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let buf = [depth as u8; 512];
    std::hint::black_box(&buf);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + std::hint::black_box(buf[3]) as u64
}

#[test]
fn mprotect_guards_fault_cost_maps_and_run_out_gracefully() {
    if std::env::var("SPINDLE_MPROTECT_CHILD").is_ok() {
        spindle::stack::force_mprotect_guards();
        let mut co =
            Coroutine::with_stack_size(64 * 1024, |_y: &Yielder<(), ()>, ()| recurse(0)).unwrap();
        co.resume(());
        return;
    }
    bounded(120, || {
        spindle::stack::force_mprotect_guards();
        // Each new stack now costs map entries.
        let before = maps();
        let cos: Vec<_> = (0..100)
            .map(|_| {
                Coroutine::with_stack_size(64 * 1024, |y: &Yielder<(), ()>, ()| y.suspend(()))
                    .unwrap()
            })
            .collect();
        assert_eq!(spindle::stack::guards_are_free(), Some(false));
        assert!(
            maps() >= before + 150,
            "mprotect guards should split the mapping: {before} -> {}",
            maps()
        );
        drop(cos);

        // Fill the map table with parked tasks until spawning fails with an error.
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let (count, err) = rt.block_on(|| {
            let gate = Arc::new(Event::new());
            let mut handles = Vec::new();
            let err = loop {
                let g = gate.clone();
                match Builder::new().stack_size(64 * 1024).spawn(move || g.wait()) {
                    Ok(h) => handles.push(h),
                    Err(e) => break e,
                }
                if handles.len() > 200_000 {
                    panic!("vm.max_map_count never ran out");
                }
            };
            gate.set();
            let n = handles.len();
            for h in handles {
                assert!(h.join().unwrap());
            }
            (n, err.to_string())
        });
        assert!(count > 1000, "only {count} tasks before running out");
        eprintln!("{count} parked tasks before: {err}");
        assert!(err.contains("out of coroutine stacks"), "{err}");
        // The runtime goes on.
        assert_eq!(rt.block_on(|| spindle::spawn(|| 1).join().unwrap()), 1);

        // And an overflow into an mprotect guard is still reported.
        let mut child = Command::new(std::env::current_exe().unwrap());
        child
            .args([
                "mprotect_guards_fault_cost_maps_and_run_out_gracefully",
                "--exact",
                "--nocapture",
            ])
            .env("SPINDLE_MPROTECT_CHILD", "1")
            .env("RUST_BACKTRACE", "0");
        // A child that hangs instead of faulting is killed and fails the test.
        let out = support::output_within(child, 60);
        let stderr = &out.stderr;
        assert!(
            stderr.contains("coroutine overflowed its 64 KiB stack"),
            "{stderr}"
        );
        assert!(!out.status.success());
    });
}
