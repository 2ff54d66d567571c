//! The lecture's race condition: the lost update. Each task reads a shared counter, then
//! writes back what it read plus one; when another task runs between the read and the write,
//! one of the two updates is lost.
//!
//! 1. Cooperative runtime, 1 worker, with a `yield_now()` between the read and the write: the
//!    tasks take turns at every yield, so in each round every task reads the same value and
//!    every update but the last of the round is lost, deterministically.
//! 2. Preemptive runtime, no yield: the OS may switch threads between the read and the write
//!    at any instruction, and on several cores two threads run the pair at the same moment,
//!    so updates are lost by chance: a different count every run. A short spin between the
//!    read and the write (about a microsecond, standing in for real work) widens that window
//!    so the loss shows in every run, not only on a busy machine.
//! 3. The fix: the read-modify-write done while holding a `spindle::sync::Mutex`, which gives
//!    the exact count on both backends, even with the yield inside the critical section.
//!
//! The racy counter is an `AtomicU64` read with `load` and written with a separate `store`
//! (both `Relaxed`): memory-safe Rust, yet the read-modify-write is still not atomic.
//!
//! Run with `cargo run --release --example race`.

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use spindle::sync::Mutex;
use spindle::{spawn, yield_now, Runtime};

/// Busy work between the read and the write: the window in which another thread can act.
fn widen_the_window() {
    for _ in 0..200 {
        std::hint::spin_loop();
    }
}

/// Starts `tasks` tasks that each add one to a shared counter `rounds` times, reading and
/// writing it separately (yielding in between if `yield_between`, else spinning a little);
/// returns the final count.
fn racy(rt: &Runtime, tasks: u64, rounds: u64, yield_between: bool) -> u64 {
    rt.block_on(move || {
        let counter = Arc::new(AtomicU64::new(0));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                spawn(move || {
                    for _ in 0..rounds {
                        let value = black_box(counter.load(Ordering::Relaxed));
                        if yield_between {
                            yield_now();
                        } else {
                            widen_the_window();
                        }
                        counter.store(value + 1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("racy task panicked");
        }
        counter.load(Ordering::Relaxed)
    })
}

/// The same work with the read-modify-write under a `Mutex`.
fn locked(rt: &Runtime, tasks: u64, rounds: u64, yield_between: bool) -> u64 {
    rt.block_on(move || {
        let counter = Arc::new(Mutex::new(0u64));
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let counter = counter.clone();
                spawn(move || {
                    for _ in 0..rounds {
                        let mut guard = counter.lock();
                        let value = black_box(*guard);
                        if yield_between {
                            yield_now(); // the others may run, but cannot take the lock
                        } else {
                            widen_the_window();
                        }
                        *guard = value + 1;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("locked task panicked");
        }
        let total = *counter.lock();
        total
    })
}

/// Prints one line of results.
fn report(what: &str, tasks: u64, rounds: u64, got: u64) {
    let expected = tasks * rounds;
    println!(
        "  {what}: {tasks} tasks x {rounds} increments: expected {expected}, got {got} ({} lost)",
        expected - got
    );
}

/// Says what runs next, before it runs.
fn step(what: &str) {
    println!("{what} ...");
    let _ = io::stdout().flush();
}

fn try_main() -> io::Result<()> {
    let coop = Runtime::cooperative().workers(1).build()?;
    let pre = Runtime::preemptive().build()?;

    println!("== the race ==");
    let (tasks, rounds) = (4, 5);
    step("cooperative runtime, 1 worker, yield_now() between the read and the write");
    let got = racy(&coop, tasks, rounds, true);
    report("cooperative", tasks, rounds, got);
    println!(
        "  deterministic: in every round all {tasks} tasks read the same value before any writes, \
         so each round adds 1, not {tasks}"
    );

    let (threads, iters) = (8, 50_000);
    step("preemptive runtime (OS threads), a short spin between the read and the write");
    let got = racy(&pre, threads, iters, false);
    report("preemptive", threads, iters, got);
    println!(
        "  by chance: an update is lost whenever another thread writes between a load and its \
         store; the count differs from run to run"
    );

    println!("\n== the fix: a Mutex around the read-modify-write ==");
    step("cooperative runtime, 1 worker, yield_now() inside the lock");
    let got = locked(&coop, tasks, rounds, true);
    report("cooperative", tasks, rounds, got);
    assert_eq!(got, tasks * rounds);
    // Fewer rounds: a contended lock between OS threads hands over in FIFO order, a few
    // microseconds per hand-over (docs/caveats.md).
    let iters = 20_000;
    step("preemptive runtime (OS threads), the same spin inside the lock");
    let got = locked(&pre, threads, iters, false);
    report("preemptive", threads, iters, got);
    assert_eq!(got, threads * iters);
    println!("  exact on both: no other task or thread can act between the read and the write");
    Ok(())
}

/// Runs the example; an error is printed with `Display`, not `Debug`.
fn main() -> std::process::ExitCode {
    match try_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
