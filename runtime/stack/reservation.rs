//! [`StackReservation`]: a stack promised to a spawned task that has not started, which
//! makes `spawn` report exhaustion while the task takes its stack only when it first runs.

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;

use super::pool::{counters, top_up, ClassCounters};
use super::pooled::PooledStack;
use super::size::checked_size;

/// A stack promised to a task that has not started: spawning reserves one (and fails if
/// none can be had); the task takes it when it first runs, on the thread that runs it.
pub(crate) struct StackReservation {
    counters: &'static ClassCounters,
    usable: usize,
}

impl fmt::Debug for StackReservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackReservation")
            .field("usable", &self.usable)
            .finish()
    }
}

impl StackReservation {
    /// Reserves a stack of at least `size` bytes, carving (and guarding) new slots first if
    /// the pool holds fewer free ones than it has promised.
    pub(crate) fn new(size: usize) -> io::Result<StackReservation> {
        let usable = checked_size(size)?;
        let counters = counters(usable);
        let reserved = counters.reserved.fetch_add(1, Ordering::AcqRel) + 1;
        let reservation = StackReservation { counters, usable };
        if reserved > counters.free.load(Ordering::Acquire) {
            top_up(usable, counters)?;
        }
        Ok(reservation)
    }

    /// Takes the promised stack.
    pub(crate) fn take(self) -> io::Result<PooledStack> {
        PooledStack::new(self.usable)
    }
}

impl Drop for StackReservation {
    fn drop(&mut self) {
        self.counters.reserved.fetch_sub(1, Ordering::AcqRel);
    }
}
