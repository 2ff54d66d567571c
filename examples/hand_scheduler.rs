//! The lecture's "exercise for the reader": "by jumping to parallel coroutines, our
//! application can simulate true threads. Creating the scheduler which does the jumping is an
//! exercise for the reader." Here it is, written by hand from `spindle::coroutine::Coroutine`s,
//! and then the same task bodies run on spindle's own scheduler.
//!
//! The hand-written scheduler is one loop on one OS thread:
//!
//! * every task is a `Coroutine<(), Syscall, ()>`: it runs until it suspends itself with a
//!   `Syscall` saying why — `Yield` (let the others run) or `Sleep(d)`;
//! * a ready queue (`VecDeque`) of runnable tasks: the loop resumes the one at the front; a
//!   task that yields goes to the back, so runnable tasks take turns in strict round robin;
//! * a timer heap (`BinaryHeap` by deadline) of sleeping tasks: before each turn the loop
//!   moves every task whose deadline has passed to the back of the ready queue; when nothing
//!   is ready it puts the OS thread to sleep until the nearest deadline; when nothing is ready
//!   or sleeping, every task has finished and the loop ends.
//!
//! spindle's cooperative runtime is that loop grown up (docs/guide.md §13,
//! docs/architecture.md):
//!
//! * **M:N**: one such loop per worker OS thread (one per core by default), each with its own
//!   run queue; a worker with nothing to do takes new tasks from a shared injector or steals
//!   tasks that have not started yet from the others (a started coroutine never changes OS
//!   thread);
//! * **parking**: a task also suspends to wait for a lock, a queue, a channel, a join or a
//!   socket; it is then off every queue, and whoever releases what it waits for wakes it,
//!   from any thread, which puts it back on the run queue of the worker that owns it — the
//!   loop above only knows "runnable" and "sleeping";
//! * **timers**: each worker keeps its own timers and, when idle, waits for the nearest one in
//!   the same `mio::Poll` call that waits for socket readiness and for wake-ups from other
//!   threads, rather than in `thread::sleep`, which nothing could interrupt;
//! * and more: daemon tasks, panics caught at each task's root and returned by `join`, a
//!   deadlock report when every task is parked and nothing can wake any, guarded stacks.
//!
//! The tasks: `ping` and `pong` each print and yield four times, `sleeper` sleeps 30 ms twice,
//! `ticker` sleeps 10 ms three times. The yielding pair alternates line by line on both
//! schedulers; the sleepers' lines fall in between, where their timers fire.
//!
//! Run with `cargo run --release --example hand_scheduler`.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io;
use std::time::{Duration, Instant};

use spindle::coroutine::{Coroutine, CoroutineResult, Yielder};
use spindle::{Builder, Runtime};

/// What a task asks of its scheduler when it suspends itself.
#[derive(Debug)]
enum Syscall {
    /// Let the other ready tasks run, then run again.
    Yield,
    /// Run again once this much time has passed.
    Sleep(Duration),
}

/// The two calls a task body makes, so that one body runs on either scheduler.
trait Sched {
    /// Lets the others run.
    fn yield_now(&self);
    /// Sleeps for `d`, letting the others run.
    fn sleep(&self, d: Duration);
}

/// A task of the hand-written scheduler: `suspend` hands a [`Syscall`] to the loop.
struct Hand<'a>(&'a Yielder<(), Syscall>);

impl Sched for Hand<'_> {
    fn yield_now(&self) {
        self.0.suspend(Syscall::Yield);
    }
    fn sleep(&self, d: Duration) {
        self.0.suspend(Syscall::Sleep(d));
    }
}

/// A task of spindle's cooperative runtime.
struct Spindle;

impl Sched for Spindle {
    fn yield_now(&self) {
        spindle::yield_now();
    }
    fn sleep(&self, d: Duration) {
        spindle::sleep(d);
    }
}

/// Prints a line stamped with the milliseconds since `start`.
fn say(start: Instant, name: &str, what: &str) {
    println!("  [{:>3} ms] {name}: {what}", start.elapsed().as_millis());
}

/// Prints `steps` lines, yielding after each.
fn yielder(s: &impl Sched, start: Instant, name: &str, steps: u32) {
    for i in 1..=steps {
        say(start, name, &format!("step {i} of {steps}, yields"));
        s.yield_now();
    }
    say(start, name, "done");
}

/// Sleeps `naps` times for `nap` each, reporting how long each sleep really took.
fn napper(s: &impl Sched, start: Instant, name: &str, naps: u32, nap: Duration) {
    for i in 1..=naps {
        say(start, name, &format!("sleeps {} ms", nap.as_millis()));
        let t = Instant::now();
        s.sleep(nap);
        let slept = t.elapsed();
        assert!(
            slept >= nap,
            "{name} woke after {slept:?}, before its {nap:?}"
        );
        say(
            start,
            name,
            &format!("woke after {} ms (nap {i} of {naps})", slept.as_millis()),
        );
    }
    say(start, name, "done");
}

/// One task of the hand-written scheduler.
struct Task {
    name: &'static str,
    co: Coroutine<(), Syscall, ()>,
}

/// The hand-written scheduler: a ready queue and a timer heap, run by one loop.
#[derive(Default)]
struct Scheduler {
    /// Every task not yet finished, by index; `None` once finished.
    tasks: Vec<Option<Task>>,
    /// Indices of the runnable tasks, front first.
    ready: VecDeque<usize>,
    /// `(deadline, sequence, index)` of the sleeping tasks, earliest deadline first (the
    /// sequence number breaks ties in the order the tasks went to sleep).
    sleeping: BinaryHeap<Reverse<(Instant, u64, usize)>>,
    /// How many tasks have gone to sleep so far: the next sequence number.
    naps: u64,
}

/// What one run of the scheduler did.
#[derive(Debug, Default)]
struct Stats {
    switches: u64,
    idle_waits: u64,
}

impl Scheduler {
    /// Adds a task that runs `body` at the back of the ready queue.
    fn spawn(&mut self, name: &'static str, body: impl FnOnce(&Hand<'_>) + 'static) {
        let co = Coroutine::new(move |y: &Yielder<(), Syscall>, ()| body(&Hand(y)));
        self.ready.push_back(self.tasks.len());
        self.tasks.push(Some(Task { name, co }));
    }

    /// Runs every task to its end.
    fn run(&mut self) -> Stats {
        let mut stats = Stats::default();
        loop {
            // Timers first: every task whose deadline has passed becomes runnable.
            let now = Instant::now();
            while let Some(&Reverse((deadline, _, i))) = self.sleeping.peek() {
                if deadline > now {
                    break;
                }
                self.sleeping.pop();
                self.ready.push_back(i);
            }
            let Some(i) = self.ready.pop_front() else {
                match self.sleeping.peek() {
                    // Nothing to run: the thread sleeps until the nearest timer.
                    Some(&Reverse((deadline, _, _))) => {
                        stats.idle_waits += 1;
                        std::thread::sleep(deadline.saturating_duration_since(now));
                        continue;
                    }
                    // Nothing to run and nothing asleep: every task has finished.
                    None => return stats,
                }
            };
            let task = self.tasks[i].as_mut().expect("a finished task was queued");
            stats.switches += 1;
            // The jump into the task: it runs until it suspends itself or returns.
            match task.co.resume(()) {
                CoroutineResult::Yield(Syscall::Yield) => self.ready.push_back(i),
                CoroutineResult::Yield(Syscall::Sleep(d)) => {
                    self.sleeping
                        .push(Reverse((Instant::now() + d, self.naps, i)));
                    self.naps += 1;
                }
                CoroutineResult::Return(()) => {
                    println!("  (scheduler: {} finished)", task.name);
                    self.tasks[i] = None;
                }
            }
        }
    }
}

/// The steps of each yielding task, the naps of each sleeping one.
const STEPS: u32 = 4;
const SLEEPER: (u32, Duration) = (2, Duration::from_millis(30));
const TICKER: (u32, Duration) = (3, Duration::from_millis(10));

fn try_main() -> io::Result<()> {
    println!("== the hand-written scheduler: one ready queue, one timer heap, one thread ==");
    let start = Instant::now();
    let mut sched = Scheduler::default();
    sched.spawn("ping", move |s| yielder(s, start, "ping", STEPS));
    sched.spawn("pong", move |s| yielder(s, start, "pong", STEPS));
    sched.spawn("sleeper", move |s| {
        napper(s, start, "sleeper", SLEEPER.0, SLEEPER.1)
    });
    sched.spawn("ticker", move |s| {
        napper(s, start, "ticker", TICKER.0, TICKER.1)
    });
    let stats = sched.run();
    println!(
        "hand-written scheduler: all 4 tasks finished after {} ms: {} switches into tasks, \
         {} idle waits for a timer",
        start.elapsed().as_millis(),
        stats.switches,
        stats.idle_waits
    );

    println!("\n== the same tasks on spindle's cooperative runtime, 1 worker ==");
    let rt = Runtime::cooperative().workers(1).build()?;
    let start = Instant::now();
    rt.block_on(move || -> io::Result<()> {
        let handles = [
            Builder::new()
                .name("ping")
                .spawn(move || yielder(&Spindle, start, "ping", STEPS))?,
            Builder::new()
                .name("pong")
                .spawn(move || yielder(&Spindle, start, "pong", STEPS))?,
            Builder::new()
                .name("sleeper")
                .spawn(move || napper(&Spindle, start, "sleeper", SLEEPER.0, SLEEPER.1))?,
            Builder::new()
                .name("ticker")
                .spawn(move || napper(&Spindle, start, "ticker", TICKER.0, TICKER.1))?,
        ];
        for h in handles {
            let name = h.name().unwrap_or("?").to_string();
            h.join()
                .map_err(|_| io::Error::other(format!("task {name} panicked")))?;
        }
        Ok(())
    })?;
    println!(
        "spindle: all 4 tasks finished after {} ms",
        start.elapsed().as_millis()
    );
    println!(
        "\nBoth run the yielding tasks in strict round robin and wake the sleepers when their \
         timers are due.\nspindle adds what the loop above lacks: many worker threads (M:N), \
         tasks parked on locks,\nqueues and sockets and woken from any thread, timers waited \
         for together with I/O in mio's poll."
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
