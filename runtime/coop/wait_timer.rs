//! The timer of one timed wait of a green thread: set by the wait's registration closure (on
//! the worker, once the task has switched out), cancelled when the wait ends — woken,
//! timed out, or unwinding — so that a wait ended long before its deadline leaves nothing in
//! its worker's timers (see `timers.rs`).

use std::time::Instant;

use super::timers::TimerKey;
use super::worker;
use crate::task::Waiter;

/// A timed wait's timer, cancelled when dropped. A started task never leaves its worker
/// (invariant 1), so the worker that set the timer is the one running the task when it ends.
#[cfg_attr(spindle_loom, allow(dead_code))]
#[derive(Debug, Default)]
pub(crate) struct WaitTimer(Option<TimerKey>);

#[cfg_attr(spindle_loom, allow(dead_code))]
impl WaitTimer {
    /// No timer yet.
    #[inline]
    pub(crate) const fn new() -> WaitTimer {
        WaitTimer(None)
    }

    /// Wakes `waiter` at `deadline` on the current worker (replacing a previous timer).
    pub(crate) fn set(&mut self, deadline: Instant, waiter: Waiter) {
        self.cancel();
        if let Some(w) = worker::current() {
            self.0 = Some(w.add_timer(deadline, waiter));
        }
    }

    /// Cancels the timer, if one is set (nothing happens if it has fired).
    #[inline]
    pub(crate) fn cancel(&mut self) {
        if let Some(key) = self.0.take() {
            // Off a worker (a worker being dropped unwinds its tasks' stacks after it has
            // cleared its timers) there is nothing left to cancel.
            if let Some(w) = worker::current() {
                w.cancel_timer(key);
            }
        }
    }
}

impl Drop for WaitTimer {
    #[inline]
    fn drop(&mut self) {
        self.cancel();
    }
}
