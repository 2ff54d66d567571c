//! [`StackReservation`]: a stack promised to a spawned task that has not started, which
//! makes `spawn` report exhaustion while the task takes its stack only when it first runs.

use std::fmt;
use std::io;
use std::sync::atomic::Ordering;

use super::pool::{counters, top_up, ClassCounters};
use super::pooled::PooledStack;
use super::size::{checked_size, Shape};

/// A stack promised to a task that has not started: spawning reserves one (and fails if
/// none can be had); the task takes it when it first runs, on the thread that runs it.
pub(crate) struct StackReservation {
    counters: &'static ClassCounters,
    shape: Shape,
}

impl fmt::Debug for StackReservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackReservation")
            .field("usable", &self.shape.usable())
            .field("guard", &self.shape.guard())
            .finish()
    }
}

impl StackReservation {
    /// Reserves a stack of at least `size` bytes with a guard of `guard` bytes below it
    /// (already checked, as for [`PooledStack::new`]), carving (and guarding) new slots
    /// first if the pool holds fewer free ones of that shape than it has promised.
    pub(crate) fn new(size: usize, guard: usize) -> io::Result<StackReservation> {
        let shape = Shape::new(checked_size(size)?, guard);
        let counters = counters(shape);
        let reserved = counters.reserved.fetch_add(1, Ordering::AcqRel) + 1;
        let reservation = StackReservation { counters, shape };
        if reserved > counters.free.load(Ordering::Acquire) {
            top_up(shape, counters)?;
        }
        Ok(reservation)
    }

    /// Takes the promised stack.
    pub(crate) fn take(self) -> io::Result<PooledStack> {
        PooledStack::of_shape(self.shape)
    }
}

impl Drop for StackReservation {
    fn drop(&mut self) {
        self.counters.reserved.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_every_task_carries_did_not_grow_with_the_guard() {
        // A task holds a reservation until it starts, then its stack (in its coroutine).
        // (As when every guard was one page: a shape is two u32, one word on 64-bit.)
        let word = std::mem::size_of::<usize>();
        assert!(std::mem::size_of::<StackReservation>() <= 2 * word.max(8));
        assert!(std::mem::size_of::<PooledStack>() <= 2 * word + 8);
    }
}
