//! Shutdown: `block_on` returns promptly, and dropping a runtime gives back its threads,
//! memory maps and file descriptors. (Its own test binary: it counts process resources.)

mod support;

use std::time::{Duration, Instant};

use spindle::{sleep, spawn, spawn_blocking, Runtime};
use support::bounded;

fn threads() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("Threads:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap()
}

fn maps() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .unwrap()
        .lines()
        .count()
}

fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

fn use_runtime(rt: &Runtime) {
    let v = rt.block_on(|| {
        let a = spawn(|| {
            sleep(Duration::from_millis(1));
            1
        });
        let b = spawn(|| spawn_blocking(|| 2));
        a.join().unwrap() + b.join().unwrap()
    });
    assert_eq!(v, 3);
}

/// One test, so that nothing else in this binary makes or ends threads meanwhile.
#[test]
fn a_hundred_runtimes_leave_no_threads_maps_or_fds_behind() {
    bounded(120, || {
        // Warm up process-wide state (stack chunks, signal stacks, allocator arenas).
        for workers in [1, 2] {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            use_runtime(&rt);
        }
        let (t0, m0, f0) = (threads(), maps(), fds());
        for i in 0..100 {
            let rt = Runtime::cooperative().workers(1 + i % 2).build().unwrap();
            use_runtime(&rt);
            drop(rt);
        }
        let (t1, m1, f1) = (threads(), maps(), fds());
        assert_eq!(t1, t0, "threads before and after 100 runtimes");
        assert_eq!(f1, f0, "file descriptors before and after 100 runtimes");
        assert!(m1 <= m0 + 8, "memory maps grew from {m0} to {m1}");

        // block_on returns promptly after its last non-daemon task.
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let t = Instant::now();
        rt.block_on(|| {
            spawn(|| sleep(Duration::from_millis(30)));
        });
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(30) && e < Duration::from_millis(500),
            "{e:?}"
        );
        let t = Instant::now();
        drop(rt);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "dropping took {:?}",
            t.elapsed()
        );
    });
}
