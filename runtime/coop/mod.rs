//! The cooperative backend: green threads on stackful coroutines, over one or more worker
//! OS threads (M:N).
//!
//! # Invariants
//!
//! 1. **A started task never changes OS thread.** The worker that first resumes a task's
//!    coroutine records its index in `TaskSched::worker`; every later wake routes the task
//!    back to that worker (its local run queue if the waker is that worker, its `inbox`
//!    otherwise). Only unstarted tasks sit in the stealable `fresh` queues and the global
//!    `injector`. The compiler may cache thread-local addresses across a coroutine switch,
//!    and `!Send` values may live on a task's stack, so migration would be unsound.
//! 2. **A waiter is published only after its coroutine has switched out.** A task that parks
//!    hands its worker a registration closure; the worker marks the task parked and only
//!    then runs the closure, which publishes the `Waiter`. A waker can therefore never
//!    schedule a coroutine that is still running.
//! 3. **Wakes are exact.** Each park has an epoch; a waiter carries it, and a wake succeeds
//!    only by moving the task from (epoch, parked) to (epoch, scheduled). A stale waiter (a
//!    timer that outlived its sleep, say) finds another epoch and does nothing.
//!
//! # Module layout
//!
//! From the ground up: `names`, `blocking` (the `spawn_blocking` pool), `timers` and
//! `reactor` (socket readiness) know nothing of the rest; `shared` is what other threads
//! touch ([`Shared`], the per-worker `Remote`); `worker` is the worker loop and what only a
//! worker's own thread touches (`spin`: its bounded spin for work before it sleeps); `spawn` puts tasks in line (the [`Scheduler`] the task layer
//! wakes through); `wait_timer` is the timer a timed wait cancels when it ends early;
//! `registration` parks a green thread on a socket, registered with its worker's poll
//! (moved there from wherever it was: sockets follow their caller); `deadlock` and
//! `watchdog` watch the workers; `runtime` starts and stops them. A deterministic runtime's
//! parts: `trace` (the schedule a run followed), `det` (the seeded scheduler, PCT and the
//! virtual clock's time, which `worker`'s `next_task` and `run_task` consult) and `det_run`
//! (its `block_on`, which runs the one worker on the caller's thread). The park/wake epoch state
//! machine of invariants 2 and 3 is the task layer's (`task/park_state.rs`, model-checked
//! with loom).
//!
//! [`Scheduler`]: crate::task::Scheduler

mod blocking;
mod current;
mod deadlock;
mod det;
mod det_run;
mod names;
mod reactor;
mod registration;
mod registry;
mod report;
mod runtime;
mod shared;
mod snapshot;
mod spawn;
mod spin;
mod timers;
mod trace;
mod wait_timer;
mod watchdog;
mod worker;

pub(crate) use current::{current_shared, current_worker_count, sleep_until};
pub(crate) use det::{Policy, Setup, DEFAULT_MAX_STEPS};
pub(crate) use det_run::DetEnd;
pub(crate) use reactor::{READABLE, WRITABLE};
pub(crate) use registration::Registration;
pub(crate) use runtime::Coop;
pub(crate) use shared::{Config, Shared};
pub(crate) use spawn::{spawn, spawn_blocking};
pub use trace::Trace;
#[cfg_attr(spindle_loom, allow(unused_imports))] // its users park green threads only
pub(crate) use wait_timer::WaitTimer;
