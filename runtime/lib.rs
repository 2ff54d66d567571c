//! # spindle
//!
//! Cooperative concurrency for Rust: green threads on stackful coroutines, and a preemptive
//! OS-thread backend that runs the very same code, so that the difference can be seen,
//! measured and taught.
//!
//! ```
//! use std::time::Duration;
//! use spindle::{Runtime, spawn, sleep, current};
//!
//! let rt = Runtime::cooperative().workers(1).build()?;      // or Runtime::preemptive()
//! let names = rt.block_on(|| {
//!     let hs: Vec<_> = (0..3)
//!         .map(|i| spindle::Builder::new().name(format!("t{i}")).spawn(move || {
//!             sleep(Duration::from_millis(10));             // parks the green thread only
//!             current().name().unwrap().to_string()
//!         }).unwrap())
//!         .collect();
//!     hs.into_iter().map(|h| h.join().unwrap()).collect::<Vec<_>>()
//! });
//! assert_eq!(names, ["t0", "t1", "t2"]);
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! * [`coroutine`]: coroutines that yield and accept values, like a generator's `send()`.
//! * [`Runtime`]: the cooperative (M:N green threads) and preemptive (thread per task)
//!   backends behind one API: [`spawn`], [`Builder`], [`JoinHandle`], [`yield_now`],
//!   [`sleep`], [`current`].
//! * [`sync`]: `Mutex` (barging with eventual fairness), `Condvar`, `Semaphore`, `Barrier`, `Event`.
//! * [`queue`]: Python's `Queue`, `LifoQueue`, `PriorityQueue`, with `task_done`/`join`.
//! * [`channel`]: unbounded, bounded and rendezvous channels, and duplex `pipe`s.
//! * [`net`]: `TcpListener`, `TcpStream`, `UdpSocket` on each worker's mio reactor.
//! * [`spawn_blocking`] for blocking work; a stall watchdog that reports through `tracing` (or
//!   on stderr when no subscriber is installed); [`Runtime::dump`], a table of every live task.
//! * [`stack`]: the guarded, pooled stacks coroutines run on.
//! * [`check`]: reproducible schedules — [`Runtime::deterministic`] (a seeded scheduler and
//!   virtual time), `explore` to search seeds for a failing interleaving, `replay` and
//!   `trace` to run it again and read it.
//!
//! Every blocking call works in a green thread (it parks the task, never its worker's OS
//! thread), in a preemptive task, and on a plain thread (it blocks the thread). When every
//! task of a cooperative runtime is blocked and nothing can wake any, `block_on` panics with
//! a report that begins `deadlock:`.
//!
//! # Learning and measuring
//!
//! The repository's `docs/guide.md` walks a classic Python concurrency lecture concept by
//! concept in spindle (threads, the GIL, locks, queues, pools, coroutines); every exercise of
//! it is a runnable example listed in `examples/README.md`
//! (`cargo run --release --example NAME`). `docs/architecture.md` explains the scheduler,
//! `docs/caveats.md` what to watch for, and `docs/benchmarks.md` what the backends cost.
//!
//! # Soundness contract
//!
//! A coroutine that has started never changes OS thread: thread-locals and `!Send` values on
//! its stack stay sound. Idle workers steal only tasks that have not started. Every `unsafe`
//! block carries a `SAFETY:` argument; `docs/unsafe.md` lists the invariants.

#![warn(missing_docs)]

mod builder;
pub mod channel;
pub mod check;
mod clock;
mod context;
mod coop;
pub mod coroutine;
mod dump_signal;
mod inline_deque;
mod loom;
pub mod net;
mod panic_report;
pub mod pool;
mod preempt;
pub mod queue;
mod recycle;
mod runtime;
pub mod stack;
pub mod sync;
mod sys;
mod task;

pub use builder::{current, now, sleep, spawn, spawn_blocking, try_current, yield_now, Builder};
pub use pool::{AsyncResult, Pool, PoolError};
pub use runtime::{Runtime, RuntimeBuilder};
pub use task::{Cancelled, JoinHandle, Task, TaskDump, TaskId, TaskSnapshot, TaskState};

/// Model-checking hooks, only with `--cfg spindle_loom` (for `tests/loom_sync.rs`): not API.
#[cfg(spindle_loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::clock::pass_deadlines;
}

// The code blocks of the README and of the guide, compiled and run by `cargo test --doc` so
// that the docs cannot drift from the API (`cfg(doctest)`: never part of the built crate or
// of its documentation).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

#[cfg(doctest)]
#[doc = include_str!("../docs/guide.md")]
pub struct GuideDoctests;
