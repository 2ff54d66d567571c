//! The lecture's first threading example: three threads each print
//! "hello from thread <name>" five times.
//!
//! The same code runs twice: on the cooperative runtime with one worker, where the tasks
//! take turns at each `yield_now()` (strict round robin, the same every run), and
//! on the preemptive runtime, where every task is an OS thread and the OS decides who runs
//! when.
//! Names are set with `spindle::Builder::name` and read back with `spindle::current().name()`,
//! like `threading.current_thread().name`.
//!
//! Run with `cargo run --release --example hello_threads`.

use std::io;

use spindle::{Builder, Runtime};

/// The lecture's `func`.
fn func() {
    for _ in 0..5 {
        println!(
            "hello from thread {}",
            spindle::current().name().unwrap_or("<unnamed>")
        );
        spindle::yield_now();
    }
}

/// Starts three named tasks running `func` and waits for them all.
fn run(rt: &Runtime) -> io::Result<()> {
    rt.block_on(|| {
        let handles = (1..=3)
            .map(|i| Builder::new().name(format!("Thread-{i}")).spawn(func))
            .collect::<io::Result<Vec<_>>>()?;
        for h in handles {
            let name = h.name().unwrap_or("<unnamed>").to_string();
            h.join()
                .map_err(|_| io::Error::other(format!("task {name} panicked")))?;
        }
        Ok(())
    })
}

fn try_main() -> io::Result<()> {
    println!("== cooperative runtime, 1 worker ==");
    run(&Runtime::cooperative().workers(1).build()?)?;

    println!("\n== preemptive runtime (a thread per task) ==");
    run(&Runtime::preemptive().build()?)?;

    println!(
        "\nCooperative: a task runs until it yields, so the tasks take turns, one line each, \
         in strict round robin: one worker runs its tasks first come, first served, every run.\n\
         Preemptive: the OS may switch threads at any moment and yield_now is only a hint, \
         so a thread may print several lines in a row and the order differs from run to run."
    );
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
