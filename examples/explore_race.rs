//! Catching a race with `spindle::check`: a lost update that never shows in an ordinary
//! run, found by searching schedules, replayed from its seed, and its schedule read.
//!
//! Two tasks deposit into one account: each reads the balance, writes a line to a shared log
//! (under a lock), and writes back the balance plus its amount. On the ordinary cooperative
//! runtime an uncontended lock never switches tasks, so every run is correct — the race
//! hides, as races do. A preemptive thread could lose the processor at that lock, and a
//! deterministic runtime makes every operation on a primitive a point where it may switch:
//!
//! 1. 1,000 ordinary runs: no update lost.
//! 2. `check::explore` runs the same body under seeded schedules and stops at the first that
//!    fails; the failure names the seed, the panic, the last steps of the schedule and the
//!    line that replays it.
//! 3. `check::replay(seed, ..)` fails the same way, with the same schedule, every time;
//!    `check::trace(seed, ..)` prints that schedule: one line per switch.
//! 4. The fix — the read-modify-write under the account's own lock — passes 10,000 seeds.
//!
//! Run with `cargo run --release --example explore_race` (`SPINDLE_EXAMPLE_SMALL=1`: 1,000
//! seeds for the fix).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use spindle::check;
use spindle::sync::Mutex;
use spindle::{spawn, Runtime};

/// Two deposits, racing: read, log, write back.
fn racy_deposits() {
    let balance = Arc::new(AtomicU64::new(100));
    let log = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = [10, 20]
        .into_iter()
        .map(|amount| {
            let (balance, log) = (balance.clone(), log.clone());
            spawn(move || {
                let seen = balance.load(Ordering::SeqCst); // read
                log.lock().push(format!("deposit {amount} onto {seen}")); // a scheduling point
                balance.store(seen + amount, Ordering::SeqCst); // write back
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let end = balance.load(Ordering::SeqCst);
    assert_eq!(end, 130, "lost update: the balance is {end}, not 130");
}

/// The fix: the account is a `Mutex`, held across the read-modify-write.
fn locked_deposits() {
    let balance = Arc::new(Mutex::new(100u64));
    let log = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = [10, 20]
        .into_iter()
        .map(|amount| {
            let (balance, log) = (balance.clone(), log.clone());
            spawn(move || {
                let mut b = balance.lock();
                log.lock().push(format!("deposit {amount} onto {}", *b));
                *b += amount;
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*balance.lock(), 130);
}

fn main() {
    let small = std::env::var_os("SPINDLE_EXAMPLE_SMALL").is_some();

    println!("== 1. ordinary runs (cooperative runtime, 1 worker)");
    let rt = Runtime::cooperative().workers(1).build().expect("runtime");
    let mut lost = 0;
    for _ in 0..1000 {
        let run = std::panic::AssertUnwindSafe(|| rt.block_on(racy_deposits));
        let ok = std::panic::catch_unwind(run).is_ok();
        lost += usize::from(!ok);
    }
    println!("1000 runs, {lost} with a lost update: the race hides");

    println!("\n== 2. check::explore(100, racy_deposits)");
    let failure = match check::explore(100, racy_deposits) {
        Err(failure) => failure,
        Ok(()) => panic!("explore should find the lost update"),
    };
    println!("{failure}");

    println!("\n== 3. replay seed {}", failure.seed());
    for _ in 0..10 {
        let again = check::replay(failure.seed(), racy_deposits).expect_err("fails again");
        assert_eq!(again.trace(), failure.trace());
    }
    println!("10 replays out of 10 failed, each with the same schedule:");
    print!("{}", check::trace(failure.seed(), racy_deposits));

    let seeds = if small { 1_000 } else { 10_000 };
    println!("\n== 4. the fix: check::explore({seeds}, locked_deposits)");
    let t = std::time::Instant::now();
    match check::explore(seeds, locked_deposits) {
        Ok(()) => println!(
            "all {seeds} schedules pass ({:.0} schedules/s)",
            seeds as f64 / t.elapsed().as_secs_f64()
        ),
        Err(f) => panic!("the fix failed: {f}"),
    }
}
