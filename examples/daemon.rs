//! Daemon tasks, as the lecture's daemon threads: a daemon does not keep `block_on`
//! waiting.
//!
//! A daemon task prints a heartbeat every 50 ms forever; a normal task works for ~200 ms.
//! `block_on` returns once the normal task is done (the elapsed time is printed), on both
//! backends:
//!
//! * cooperative: the daemon still running is cancelled by unwinding its stack, so its
//!   guard's `Drop` prints "daemon cleaned up", and joining it gives `Err(Cancelled)`;
//! * preemptive: the daemon's OS thread is left detached and keeps running, as Python leaves
//!   daemon threads; it dies, without cleanup, when the process exits.
//!
//! Run with `cargo run --release --example daemon`.

use std::io;
use std::time::{Duration, Instant};

use spindle::{Builder, JoinHandle, Runtime};

/// Dropped when the daemon's stack is unwound.
struct Cleanup;

impl Drop for Cleanup {
    fn drop(&mut self) {
        println!("daemon cleaned up");
    }
}

/// The daemon's body: a heartbeat every 50 ms, forever.
fn heartbeat(start: Instant) {
    let _cleanup = Cleanup;
    for beat in 0.. {
        println!("  [{:>3} ms] heartbeat {beat}", start.elapsed().as_millis());
        spindle::sleep(Duration::from_millis(50));
    }
}

/// Runs the daemon and a 200 ms worker; returns the daemon's handle once `block_on` is done.
fn run(rt: &Runtime) -> io::Result<JoinHandle<()>> {
    let start = Instant::now();
    let daemon = rt.block_on(move || -> io::Result<JoinHandle<()>> {
        let daemon = Builder::new()
            .name("heartbeat")
            .daemon(true)
            .spawn(move || heartbeat(start))?;
        Builder::new().name("worker").spawn(move || {
            println!("  [{:>3} ms] worker starts", start.elapsed().as_millis());
            spindle::sleep(Duration::from_millis(200)); // stands for ~200 ms of work
            println!("  [{:>3} ms] worker done", start.elapsed().as_millis());
        })?;
        Ok(daemon)
    })?;
    println!("block_on returned after {:?}", start.elapsed());
    Ok(daemon)
}

fn try_main() -> io::Result<()> {
    println!("== cooperative runtime ==");
    let daemon = run(&Runtime::cooperative().build()?)?;
    match daemon.join() {
        Ok(()) => println!("daemon finished?!"),
        Err(e) => match e.downcast_ref::<spindle::Cancelled>() {
            Some(c) => println!("joining the daemon gives Err: {c}"),
            None => println!("the daemon panicked"),
        },
    }

    println!("\n== preemptive runtime ==");
    let daemon = run(&Runtime::preemptive().build()?)?;
    println!(
        "the daemon's thread is left detached (finished: {}); it keeps beating:",
        daemon.is_finished()
    );
    std::thread::sleep(Duration::from_millis(120));
    println!("main exits now; like Python, the detached daemon dies with the process, no cleanup");
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
