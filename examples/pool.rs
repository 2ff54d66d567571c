//! The lecture's `multiprocessing.Pool` example with `spindle::Pool`: `apply_async(f, (10,))`
//! then `get(timeout=1)`, `map`, `imap`, and a job that sleeps 10 s whose
//! `get(timeout=1)` times out. It runs on both backends: the pool's 4 workers are green
//! threads on the cooperative runtime and OS threads on the preemptive one (Python's
//! `ThreadPool`); the output is the same.
//!
//! Run with `cargo run --release --example pool` (both backends), or add `-- --preemptive`
//! or `-- --cooperative` for one. Each backend takes about 1 s: the timeout. Errors are
//! printed with their `Display` and end the program with a failure status.

use std::error::Error;
use std::io;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use spindle::{sleep, Pool, PoolError, Runtime};

fn f(x: u64) -> u64 {
    x * x
}

/// The lecture's script, line by line.
fn lecture() -> io::Result<()> {
    let pool = Pool::new(4)?; // pool = Pool(processes=4)

    // result = pool.apply_async(f, (10,)); print(result.get(timeout=1))
    let mut result = pool.apply_async(|| f(10));
    match result.get_timeout(Duration::from_secs(1)) {
        Ok(v) => println!("{v}"),
        Err(e) => println!("error: {e}"),
    }

    // print(pool.map(f, range(10)))
    match pool.map(f, 0..10) {
        Ok(v) => println!("{v:?}"),
        Err(e) => println!("error: {e}"),
    }

    // it = pool.imap(f, range(10)): each value as soon as it is in, in order
    let it = pool.imap(f, 0..10);
    let line: Vec<String> = it
        .map(|r| r.map_or_else(|e| format!("error: {e}"), |v| v.to_string()))
        .collect();
    println!("{}", line.join(" "));

    // result = pool.apply_async(time.sleep, (10,)); print(result.get(timeout=1))
    let mut slow = pool.apply_async(|| sleep(Duration::from_secs(10)));
    let t = Instant::now();
    match slow.get_timeout(Duration::from_secs(1)) {
        Ok(()) => println!("the sleep finished?!"),
        Err(e @ PoolError::Timeout) => {
            println!("TimeoutError after {:.1} s: {e}", t.elapsed().as_secs_f64())
        }
        Err(e) => println!("error: {e}"),
    }
    // Dropping the pool terminates it without waiting for the sleeper: the cooperative
    // runtime cancels it when block_on ends; on the preemptive one its daemon thread is
    // left to end on its own, as Python leaves daemon threads.
    Ok(())
}

/// Runs the script on the backends the argument asks for.
fn run() -> Result<(), Box<dyn Error>> {
    let arg = std::env::args().nth(1);
    let (cooperative, preemptive) = match arg.as_deref() {
        None => (true, true),
        Some("--cooperative") => (true, false),
        Some("--preemptive") => (false, true),
        Some(other) => {
            return Err(
                format!("unknown argument {other:?}: use --cooperative or --preemptive").into(),
            )
        }
    };
    if cooperative {
        let rt = Runtime::cooperative().workers(2).build()?;
        println!("== Pool: 4 green threads on a cooperative runtime (2 OS threads)");
        rt.block_on(lecture)?;
    }
    if preemptive {
        let rt = Runtime::preemptive().build()?;
        println!("== ThreadPool: 4 OS threads on the preemptive runtime");
        rt.block_on(lecture)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
