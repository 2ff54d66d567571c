//! Churn returns everything: many spawn/join cycles, with up to 10,000 tasks alive at once,
//! leave the process's memory maps, file descriptors, threads and resident memory where a
//! warm-up round left them; on the preemptive backend, threads and descriptors go back to
//! where they were before the runtime existed.
//!
//! Each test measures the whole process, so each re-runs itself alone in a child process
//! (`support::rerun_alone`); with its `*_CHILD` variable set, it does the work in this
//! process instead (how `scripts/valgrind-leaks.sh` runs one under valgrind).
//!
//! Counts: `SPINDLE_CHURN` spawn/join cycles per cooperative test (default
//! [`DEFAULT_CYCLES`], 1,000,000: about 5 s each in a debug build on an idle 2-core machine,
//! 15 s under load; `scripts/valgrind-leaks.sh` sets fewer), `SPINDLE_CHURN_PREEMPTIVE`
//! preemptive cycles (default [`DEFAULT_PREEMPTIVE_CYCLES`]). Each test prints what it
//! measured (see it with `--nocapture`).

mod support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::{spawn, yield_now, JoinHandle, Runtime};
use support::{bounded, rerun_alone_with};

/// Cooperative spawn/join cycles per test by default.
const DEFAULT_CYCLES: usize = 1_000_000;
/// Preemptive cycles by default (each is an OS thread started and joined).
const DEFAULT_PREEMPTIVE_CYCLES: usize = 5_000;
/// The most tasks alive at once (cooperative).
const ALIVE: usize = 10_000;
/// The most threads alive at once (preemptive).
const ALIVE_PREEMPTIVE: usize = 100;
/// The slack allowed for resident memory after the churn, over its level after the warm-up.
const RSS_SLACK: usize = 16 << 20;
/// The slack allowed for memory map entries and descriptors after the churn (see
/// [`assert_returned`]).
const COUNT_SLACK: usize = 2;

/// The most memory map entries glibc's cache of ended threads' stacks (40 MiB) and its
/// malloc arenas (8 per core) can hold: two entries (stack and guard) per cached 128 KiB
/// stack, two per arena heap, and a little room.
fn glibc_cache_maps() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    2 * (40 << 20) / (128 << 10) + 2 * 8 * cores + 16
}

/// The hang guard of one child (generous: 1,000,000 cycles in a debug build under load).
const CHILD_DEADLINE_S: u64 = 900;

fn env_count(name: &str, default: usize) -> usize {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a count")),
        Err(_) => default,
    }
}

/// What the process holds at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Level {
    maps: usize,
    fds: usize,
    threads: usize,
    rss: usize,
}

impl Level {
    fn now() -> Level {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let threads = status
            .lines()
            .find_map(|l| l.strip_prefix("Threads:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap();
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let resident: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        // SAFETY: sysconf has no preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        Level {
            maps: std::fs::read_to_string("/proc/self/maps")
                .unwrap()
                .lines()
                .count(),
            fds: std::fs::read_dir("/proc/self/fd").unwrap().count(),
            threads,
            rss: resident * page,
        }
    }

    fn show(&self) -> String {
        format!(
            "maps {}, fds {}, threads {}, RSS {:.1} MiB",
            self.maps,
            self.fds,
            self.threads,
            self.rss as f64 / (1 << 20) as f64
        )
    }
}

/// Reads [`Level::now`] until `ok` holds or 20 s pass (threads end, and their stacks are
/// unmapped, asynchronously after they are joined); returns the last reading.
fn settle(ok: impl Fn(&Level) -> bool) -> Level {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = Level::now();
        if ok(&l) || Instant::now() >= deadline {
            return l;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The churn left the process where the warm-up did.
///
/// * Threads: exactly (the workers are fixed; nothing else starts threads).
/// * Descriptors: exactly, in practice (each worker's poll and waker are made once); the
///   check allows [`COUNT_SLACK`].
/// * Memory maps: within [`COUNT_SLACK`]. The stack pool never unmaps, and after the
///   warm-up's peak it carves nothing more (checked apart: `mapped_bytes` is unchanged); its
///   chunks lie side by side and show as one entry. What moves is the allocator: glibc
///   gives an allocation over its mmap threshold (128 KiB, rising as such blocks are freed)
///   a mapping of its own, and a worker's run queue can double once more during the churn
///   than during the warm-up (to 32,768 entries, 512 KiB: besides the tasks it holds a
///   marker for each task spawned on the worker, which stays when another worker steals
///   the task, until it comes up) — seen as +1 in about one run in ten.
/// * RSS: within [`RSS_SLACK`]: the stack pool keeps up to 64 warm stacks shared and 16 per
///   thread (dirty pages and all; a cold stack's pages are given back), and the allocator
///   keeps freed task cells and queue buffers on its free lists (measured: +0.1 to +4 MiB,
///   the same after 100,000 cycles as after 3,000,000).
fn assert_returned(what: &str, start: Level, end: Level) {
    assert_eq!(end.threads, start.threads, "{what}: threads");
    assert!(
        end.fds <= start.fds + COUNT_SLACK,
        "{what}: descriptors {} -> {}",
        start.fds,
        end.fds
    );
    if under_valgrind() {
        println!("  (under valgrind: maps and RSS are valgrind's, not compared)");
        return;
    }
    assert!(
        end.maps <= start.maps + COUNT_SLACK,
        "{what}: memory maps {} -> {}",
        start.maps,
        end.maps
    );
    assert!(
        end.rss <= start.rss + RSS_SLACK,
        "{what}: RSS {} -> {} bytes",
        start.rss,
        end.rss
    );
}

/// Whether this process runs under valgrind (`scripts/valgrind-leaks.sh`), whose allocator
/// keeps freed blocks for a while (to catch uses after free) and maps memory of its own: the
/// memory maps and RSS then measure valgrind, and are not compared (its leak check is the
/// test there).
fn under_valgrind() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|m| m.contains("vgpreload"))
}

/// Every task yields once before it returns, so that each batch is alive at once, every
/// task on its own stack (without the yield, tasks that never park would run one after
/// another on one warm stack).
fn task(i: u64) -> u64 {
    yield_now();
    i
}

/// `cycles` spawn/join cycles in batches: spawn [`ALIVE`], join them all, repeat.
fn batches(rt: &Runtime, cycles: usize) {
    let sum = rt.block_on(move || {
        let mut sum = 0u64;
        let mut done = 0;
        while done < cycles {
            let n = ALIVE.min(cycles - done);
            let hs: Vec<JoinHandle<u64>> = (0..n as u64).map(|i| spawn(move || task(i))).collect();
            sum += hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
            done += n;
        }
        sum
    });
    assert_eq!(sum, batch_sum(cycles, ALIVE));
}

/// The sum of the results of `cycles` tasks in batches of `alive`, the i-th of a batch
/// returning i.
fn batch_sum(cycles: usize, alive: usize) -> u64 {
    let tri = |n: u64| n * n.saturating_sub(1) / 2;
    (cycles / alive) as u64 * tri(alive as u64) + tri((cycles % alive) as u64)
}

/// `cycles` spawn/join cycles in a sliding window: [`ALIVE`] tasks alive; each join of the
/// oldest is followed by one spawn.
fn window(rt: &Runtime, cycles: usize) {
    let sum = rt.block_on(move || {
        let mut live = VecDeque::with_capacity(ALIVE);
        let mut sum = 0u64;
        for i in 0..cycles as u64 {
            if live.len() == ALIVE {
                let h: JoinHandle<u64> = live.pop_front().unwrap();
                sum += h.join().unwrap();
            }
            live.push_back(spawn(move || task(i)));
        }
        sum + live.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
    });
    let n = cycles as u64;
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
}

/// [`ALIVE`] tasks, every one started (on its stack, parked in `yield_now`) before any ends.
fn peak(rt: &Runtime) {
    let started = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    rt.block_on(move || {
        let hs: Vec<JoinHandle<()>> = (0..ALIVE)
            .map(|_| {
                let (started, release) = (started.clone(), release.clone());
                spawn(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    while !release.load(Ordering::SeqCst) {
                        yield_now();
                    }
                })
            })
            .collect();
        while started.load(Ordering::SeqCst) < ALIVE {
            yield_now();
        }
        assert_eq!(
            spindle::stack::stats().in_use,
            ALIVE + 1,
            "every task on its stack"
        );
        release.store(true, Ordering::SeqCst);
        hs.into_iter().for_each(|h| h.join().unwrap());
    });
}

/// Warms the pools (`churn` with 2 × [`ALIVE`] cycles, then [`peak`]), measures, runs
/// `churn` with the full count, measures again and compares; then drops the runtime and
/// checks that its threads and descriptors are gone.
fn cooperative(what: &'static str, churn: fn(&Runtime, usize)) {
    let cycles = env_count("SPINDLE_CHURN", DEFAULT_CYCLES);
    bounded(CHILD_DEADLINE_S, move || {
        if under_valgrind() {
            // valgrind's leak check reads every mapped page it believes readable and takes a
            // fault on each page of a `MADV_GUARD_INSTALL` guard (16 per 64 KiB guard, for
            // thousands of stacks: minutes); `mprotect` guards it knows to skip.
            spindle::stack::force_mprotect_guards();
        }
        let before_runtime = Level::now();
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        // The warm-up: two rounds of the churn (both workers meet a full batch; which one
        // runs what varies), then the peak: every one of [`ALIVE`] tasks started at once,
        // with the pool's caches full. The churn itself may not reach that peak until late
        // (tasks finish while the first task still spawns); the stack pool and the
        // scheduler's buffers must not have to grow when it does.
        churn(&rt, 2 * ALIVE);
        peak(&rt);
        let s = spindle::stack::stats();
        assert_eq!((s.in_use, s.reserved), (0, 0), "{s:?}");
        let mapped = s.mapped_bytes;
        let start = Level::now();
        let t = Instant::now();
        churn(&rt, cycles);
        let took = t.elapsed();
        let end = Level::now();
        let s = spindle::stack::stats();
        println!(
            "{what}: {cycles} cycles (at most {ALIVE} alive) in {:.1} s\n  after warm-up: {}\n  after churn:   {}\n  stacks: {s:?}",
            took.as_secs_f64(),
            start.show(),
            end.show()
        );
        assert_eq!((s.in_use, s.reserved), (0, 0), "{s:?}");
        assert!(s.warm <= s.warm_limit(), "{s:?}");
        assert_eq!(
            s.mapped_bytes, mapped,
            "the stack pool mapped more after the warm-up"
        );
        assert_returned(what, start, end);

        drop(rt);
        let after = settle(|l| l.threads == before_runtime.threads && l.fds == before_runtime.fds);
        println!(
            "  before the runtime: {}\n  after its drop:     {}",
            before_runtime.show(),
            after.show()
        );
        assert_eq!(
            after.threads, before_runtime.threads,
            "threads after the drop"
        );
        assert_eq!(after.fds, before_runtime.fds, "descriptors after the drop");
    });
}

/// Runs the test `name` alone in a child, or (in the child) `body`.
fn alone(name: &str, child_var: &str, body: impl FnOnce()) {
    if std::env::var_os(child_var).is_some() {
        return body();
    }
    let out = rerun_alone_with(name, child_var, &[], CHILD_DEADLINE_S);
    print!("{}", out.stdout);
}

#[test]
fn cooperative_batches_return_maps_fds_threads_and_rss() {
    alone(
        "cooperative_batches_return_maps_fds_threads_and_rss",
        "SPINDLE_CHURN_BATCHES_CHILD",
        || cooperative("cooperative/2, batches", batches),
    );
}

#[test]
fn cooperative_sliding_window_returns_maps_fds_threads_and_rss() {
    alone(
        "cooperative_sliding_window_returns_maps_fds_threads_and_rss",
        "SPINDLE_CHURN_WINDOW_CHILD",
        || cooperative("cooperative/2, sliding window", window),
    );
}

/// Threads are expensive: fewer cycles, at most [`ALIVE_PREEMPTIVE`] alive. Threads and
/// descriptors go back exactly to where they were before the runtime was built. The maps do
/// not: glibc keeps the stacks of ended threads (up to 40 MiB) and its per-thread malloc
/// arenas, and which of them are reused varies; they stay within that cache's bound (about
/// 100 to 330 entries above the start whether 5,000 or 50,000 threads ran).
#[test]
fn preemptive_churn_returns_threads_and_fds() {
    alone(
        "preemptive_churn_returns_threads_and_fds",
        "SPINDLE_CHURN_PREEMPTIVE_CHILD",
        || {
            let cycles = env_count("SPINDLE_CHURN_PREEMPTIVE", DEFAULT_PREEMPTIVE_CYCLES);
            bounded(CHILD_DEADLINE_S, move || {
                let before = Level::now();
                let rt = Runtime::preemptive().build().unwrap();
                // A warm-up round fills glibc's cache of thread stacks.
                preemptive_batches(&rt, 2 * ALIVE_PREEMPTIVE);
                let warm = settle(|l| l.threads == before.threads);
                let t = Instant::now();
                preemptive_batches(&rt, cycles);
                let took = t.elapsed();
                drop(rt);
                let end = settle(|l| l.threads == before.threads && l.fds == before.fds);
                println!(
                    "preemptive: {cycles} cycles (at most {ALIVE_PREEMPTIVE} alive) in {:.1} s\n  before the runtime: {}\n  after warm-up:      {}\n  after churn, drop:  {}",
                    took.as_secs_f64(),
                    before.show(),
                    warm.show(),
                    end.show()
                );
                assert_eq!(end.threads, before.threads, "threads");
                assert_eq!(end.fds, before.fds, "descriptors");
                if under_valgrind() {
                    return;
                }
                // glibc keeps the stacks of ended threads for reuse, up to 40 MiB: at most
                // [`glibc_cache_maps`] entries, however many threads ran (a leaked
                // stack a thread would be thousands here).
                assert!(
                    end.maps <= before.maps + glibc_cache_maps(),
                    "memory maps {} before the runtime, {} after the churn",
                    before.maps,
                    end.maps
                );
                assert!(
                    end.rss <= warm.rss + RSS_SLACK,
                    "RSS {} after the warm-up, {} after the churn",
                    warm.rss,
                    end.rss
                );
            });
        },
    );
}

/// `cycles` preemptive spawn/join cycles in batches of [`ALIVE_PREEMPTIVE`].
fn preemptive_batches(rt: &Runtime, cycles: usize) {
    let sum = rt.block_on(move || {
        let mut sum = 0u64;
        let mut done = 0;
        while done < cycles {
            let n = ALIVE_PREEMPTIVE.min(cycles - done);
            let hs: Vec<JoinHandle<u64>> = (0..n as u64).map(|i| spawn(move || task(i))).collect();
            sum += hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>();
            done += n;
        }
        sum
    });
    assert_eq!(sum, batch_sum(cycles, ALIVE_PREEMPTIVE));
}
