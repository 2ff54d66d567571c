//! The lecture's second way to make a thread: subclass `threading.Thread` and implement
//! `run()`.
//!
//! ```python
//! class MyThread(threading.Thread):
//!     def run(self):
//!         for i in range(5):
//!             print("hello from thread %s" % self.name)
//! thread = MyThread()          # was: threading.Thread(target=func, args=())
//! thread.start()
//! thread.join()
//! ```
//!
//! Rust has no subclassing; the pattern becomes a trait with a `run(&mut self)` method and a
//! small generic `Thread<T: Run>` that owns the struct, names the task, spawns `run` with
//! `start()` and hands the struct back from `join()`. What the subclass keeps in `self` comes
//! back with it: `Greeter` counts its greetings, `SumOfSquares` stores its result in a field
//! (with `threading.Thread` the caller would read `thread.total` after `join()`).
//!
//! The same code runs on the cooperative runtime with one worker (the greeters take turns at
//! each `yield_now()`, in strict round robin) and on the preemptive one (a thread per task;
//! the OS picks the order).
//!
//! Run with `cargo run --release --example thread_subclass`.

use std::io;

use spindle::{Builder, JoinHandle, Runtime};

/// The method a "subclass" implements: the body of its task.
trait Run: Send + 'static {
    /// Runs in the new task, with the struct borrowed mutably.
    fn run(&mut self);
}

/// `threading.Thread`: a named task that will run `target.run()`.
struct Thread<T> {
    name: String,
    target: T,
}

/// A started [`Thread`]: `join` waits for `run` to return and gives the struct back.
struct Started<T> {
    handle: JoinHandle<T>,
}

impl<T: Run> Thread<T> {
    fn new(name: impl Into<String>, target: T) -> Thread<T> {
        Thread {
            name: name.into(),
            target,
        }
    }

    /// `thread.start()`: spawns a task, named after the thread, that calls `run`.
    fn start(self) -> io::Result<Started<T>> {
        let mut target = self.target;
        let handle = Builder::new().name(self.name).spawn(move || {
            target.run();
            target
        })?;
        Ok(Started { handle })
    }
}

impl<T> Started<T> {
    /// `thread.join()`: waits for `run` to return; a panic in it becomes an error.
    fn join(self) -> io::Result<T> {
        let name = self.handle.name().unwrap_or("?").to_string();
        self.handle
            .join()
            .map_err(|_| io::Error::other(format!("thread {name} panicked")))
    }
}

/// The lecture's `MyThread`: prints `hello from thread <name>` five times.
struct Greeter {
    greetings: u32,
}

impl Run for Greeter {
    fn run(&mut self) {
        for _ in 0..5 {
            // `self.name` in Python: the task's name.
            println!(
                "hello from thread {}",
                spindle::current().name().unwrap_or("?")
            );
            self.greetings += 1;
            spindle::yield_now();
        }
    }
}

/// A thread with a result: the sum of `i²` over its range, left in `total`.
struct SumOfSquares {
    range: std::ops::Range<u64>,
    total: u64,
}

impl Run for SumOfSquares {
    fn run(&mut self) {
        self.total = self.range.clone().map(|i| i * i).sum();
    }
}

/// Starts three greeters and two summers, joins them all and prints what their fields hold.
fn run(rt: &Runtime) -> io::Result<()> {
    rt.block_on(|| {
        let greeters = (1..=3)
            .map(|i| Thread::new(format!("Thread-{i}"), Greeter { greetings: 0 }).start())
            .collect::<io::Result<Vec<_>>>()?;
        let summers = [0..500, 500..1000]
            .into_iter()
            .enumerate()
            .map(|(i, range)| {
                Thread::new(format!("Summer-{i}"), SumOfSquares { range, total: 0 }).start()
            })
            .collect::<io::Result<Vec<_>>>()?;

        for (i, g) in greeters.into_iter().enumerate() {
            let greeter = g.join()?;
            println!(
                "joined Thread-{}: it greeted {} times",
                i + 1,
                greeter.greetings
            );
        }
        let mut total = 0;
        for s in summers {
            let summer = s.join()?;
            println!(
                "joined a summer: sum of i² for i in {:?} = {}",
                summer.range, summer.total
            );
            total += summer.total;
        }
        let expected: u64 = (0..1000u64).map(|i| i * i).sum();
        println!("sum of i² for i in 0..1000 from the two threads' fields: {total} (expected {expected})");
        if total != expected {
            return Err(io::Error::other("the summers' totals are wrong"));
        }
        Ok(())
    })
}

fn try_main() -> io::Result<()> {
    println!("== cooperative runtime, 1 worker ==");
    run(&Runtime::cooperative().workers(1).build()?)?;
    println!("\n== preemptive runtime (a thread per task) ==");
    run(&Runtime::preemptive().build()?)?;
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
