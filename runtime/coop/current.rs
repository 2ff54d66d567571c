//! What code on a worker's thread asks of that worker: a timer, a sleep, its runtime.

use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Instant;

use super::shared::Shared;
use super::worker;
use crate::task::{Body, TaskCell, WaitSite, Waiter};

/// Adds a timer on the current worker (no-op off a worker).
#[cfg_attr(spindle_loom, allow(dead_code))]
fn add_timer(deadline: Instant, waiter: Waiter) {
    if let Some(worker) = worker::current() {
        // A sleep ends at its deadline (or unwinds, cancelled): the timer needs no key.
        let _ = worker.add_timer(deadline, waiter);
    }
}

/// Sleeps the running task until `deadline` on its worker's timers.
///
/// # Safety
/// - `task` is the task running on this thread.
#[track_caller]
pub(crate) unsafe fn sleep_until(task: NonNull<TaskCell<dyn Body>>, deadline: Instant) {
    let site = WaitSite {
        what: "sleep",
        origin: None,
        location: std::panic::Location::caller(),
        // Its timer ends it.
        outside: true,
        owner: None,
        since_ms: 0,
    };
    crate::task::set_wait_site(task, Some(site));
    while crate::clock::now() < deadline {
        let mut register = |w: Waiter| add_timer(deadline, w);
        // SAFETY: forwarded from the caller.
        unsafe { crate::task::park(task, &mut register) };
    }
    crate::task::set_wait_site(task, None);
}

/// The number of workers of the runtime running on this thread (0 off a worker).
pub(crate) fn current_worker_count() -> usize {
    worker::current().map_or(0, |w| w.shared.workers.len())
}

/// The runtime of the worker running on this thread, if any.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    worker::current().map(|w| w.shared.clone())
}
