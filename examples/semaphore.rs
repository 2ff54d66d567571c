//! The lecture's semaphore exercise: "allow 2 threads access at once". Six tasks share a
//! `spindle::sync::Semaphore::new(2)`; each acquires a permit, prints that it entered, sleeps
//! a little, prints that it leaves and drops the permit. The example counts how many tasks
//! are inside at once and checks that the count never went above 2.
//!
//! The same code runs on the cooperative runtime (green threads: `sleep` parks the task, not
//! the worker, so two tasks really are inside together) and on the preemptive one (a thread
//! per task). Waiters get permits first come, first served.
//!
//! Run with `cargo run --release --example semaphore`.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::sync::Semaphore;
use spindle::{Builder, Runtime};

/// Tasks and permits.
const TASKS: usize = 6;
const PERMITS: usize = 2;

/// Runs the six tasks; returns the most that were ever inside at once.
fn run(rt: &Runtime) -> io::Result<usize> {
    rt.block_on(|| {
        let sem = Arc::new(Semaphore::new(PERMITS));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let handles = (1..=TASKS)
            .map(|i| {
                let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                Builder::new().name(format!("task-{i}")).spawn(move || {
                    let me = spindle::current().name().unwrap_or("?").to_string();
                    let permit = sem.acquire();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    println!("{me} enters  ({now} inside)");
                    spindle::sleep(Duration::from_millis(50));
                    let now = inside.fetch_sub(1, Ordering::SeqCst) - 1;
                    println!("{me} leaves  ({now} inside)");
                    drop(permit);
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        for h in handles {
            h.join().map_err(|_| io::Error::other("task panicked"))?;
        }
        Ok(most.load(Ordering::SeqCst))
    })
}

fn try_main() -> io::Result<()> {
    let backends = [
        (
            "cooperative runtime, 2 workers",
            Runtime::cooperative().workers(2).build()?,
        ),
        ("preemptive runtime", Runtime::preemptive().build()?),
    ];
    for (name, rt) in &backends {
        println!("== {name}: {TASKS} tasks, Semaphore::new({PERMITS}) ==");
        let most = run(rt)?;
        println!("at most {most} tasks were inside at once");
        assert!(most <= PERMITS, "the semaphore let {most} in");
        println!();
    }
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
