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
        // Threads and descriptors are counted before any runtime exists (a thread ends
        // asynchronously after it is joined, so a count taken just after a drop can be
        // high); maps after a warm-up of process-wide state (stack chunks, signal stacks,
        // allocator arenas).
        let (t0, f0) = (threads(), fds());
        for workers in [1, 2] {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            use_runtime(&rt);
        }
        let m0 = maps();
        for i in 0..100 {
            let rt = Runtime::cooperative().workers(1 + i % 2).build().unwrap();
            use_runtime(&rt);
            drop(rt);
        }
        // Worker and blocking-pool threads end asynchronously after `drop` has joined what
        // it must: poll (a generous deadline is the hang guard) rather than read once.
        let (t1, f1) = settle(|| (threads(), fds()), (t0, f0));
        let m1 = maps();
        assert_eq!(t1, t0, "threads before and after 100 runtimes");
        assert_eq!(f1, f0, "file descriptors before and after 100 runtimes");
        assert!(m1 <= m0 + 8, "memory maps grew from {m0} to {m1}");

        // block_on returns once its last non-daemon task has finished (and not before);
        // dropping the runtime returns. The bounds are hang guards, not speed checks.
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let t = Instant::now();
        rt.block_on(|| {
            spawn(|| sleep(Duration::from_millis(30)));
        });
        let e = t.elapsed();
        assert!(
            e >= Duration::from_millis(30) && e < Duration::from_secs(20),
            "{e:?}"
        );
        let t = Instant::now();
        drop(rt);
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "dropping took {:?}",
            t.elapsed()
        );
    });
}

/// Reads `probe` until it returns `want` or 20 s pass; returns the last reading.
fn settle<T: PartialEq + Copy>(probe: impl Fn() -> T, want: T) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = probe();
        if v == want || Instant::now() >= deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}
