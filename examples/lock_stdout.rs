//! The lecture's locking exercise: several tasks write to stdout and their output gets
//! jumbled; a lock around each line gives every task exclusive access to stdout while it
//! writes one.
//!
//! Each task prints its line in pieces (`print!` per word), calling `yield_now()` between
//! pieces, the way a long write may be interrupted. First without a lock: on the cooperative
//! runtime with one worker the tasks take turns at every yield, so the words of different
//! tasks interleave every time; on the preemptive runtime they interleave by chance. Then
//! with a `spindle::sync::Mutex<()>` held for the whole line: the lines come out whole on
//! both backends (in an order the scheduler picks), because a task that yields while holding
//! the lock keeps it.
//!
//! Run with `cargo run --release --example lock_stdout`.

use std::io::{self, Write};
use std::sync::Arc;

use spindle::sync::Mutex;
use spindle::{Builder, Runtime};

/// The words of every task's line.
const WORDS: [&str; 4] = ["the", "quick", "brown", "fox"];
/// How many tasks print and how many lines each.
const TASKS: usize = 3;
const LINES: usize = 2;

/// Prints one line word by word, yielding between words.
fn print_line() {
    let me = spindle::current().name().unwrap_or("?").to_string();
    print!("[{me}]");
    for word in WORDS {
        spindle::yield_now();
        print!(" {word}");
    }
    spindle::yield_now();
    println!(".");
}

/// Runs `TASKS` named tasks that print `LINES` lines each, holding `lock` around each line
/// if there is one.
fn run(rt: &Runtime, lock: Option<Arc<Mutex<()>>>) -> io::Result<()> {
    rt.block_on(move || -> io::Result<()> {
        let handles = (1..=TASKS)
            .map(|i| {
                let lock = lock.clone();
                Builder::new().name(format!("task-{i}")).spawn(move || {
                    for _ in 0..LINES {
                        let _guard = lock.as_ref().map(|l| l.lock());
                        print_line();
                    }
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        for h in handles {
            h.join()
                .map_err(|_| io::Error::other("printing task panicked"))?;
        }
        Ok(())
    })?;
    io::stdout().flush()
}

fn try_main() -> io::Result<()> {
    let coop = Runtime::cooperative().workers(1).build()?;
    let pre = Runtime::preemptive().build()?;

    println!("== no lock, cooperative (1 worker): jumbled at every yield ==");
    run(&coop, None)?;
    println!("\n== no lock, preemptive: jumbled by chance ==");
    run(&pre, None)?;

    let lock = Arc::new(Mutex::new(()));
    println!("\n== Mutex<()> held around each line, cooperative (1 worker) ==");
    run(&coop, Some(lock.clone()))?;
    println!("\n== Mutex<()> held around each line, preemptive ==");
    run(&pre, Some(lock))?;
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
