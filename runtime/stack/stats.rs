//! The public snapshot of the pool, [`StackStats`], read by [`stats`] from the process-wide
//! counters, every caching thread's share and the shared pool's reservations.

use std::sync::atomic::{AtomicIsize, Ordering};

use super::counters::{lock_threads, ThreadCounters, COLD, IN_USE, MAPPED, WARM};
use super::pool;
use super::size::{DISCARD_BATCH, WARM_STACKS_MAX_SHARED, WARM_STACKS_PER_THREAD};

/// A snapshot of the process-wide stack pool, from [`stats`].
///
/// # Examples
///
/// ```
/// let s = spindle::stack::stats();
/// assert!(s.warm <= s.warm_limit());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Stacks held by live coroutines and tasks.
    pub in_use: usize,
    /// Finished stacks kept with their pages, ready for reuse.
    pub warm: usize,
    /// Finished (or never used) stacks whose pages were given back to the OS.
    pub cold: usize,
    /// Stacks promised to spawned tasks that have not started yet.
    pub reserved: usize,
    /// Threads that hold a stack cache (each keeps up to [`WARM_STACKS_PER_THREAD`]).
    pub caching_threads: usize,
    /// Bytes of address space mapped for stacks (guards included).
    pub mapped_bytes: usize,
}

impl StackStats {
    /// The most warm stacks the pool keeps per size class: the shared bound (which grows
    /// with demand to [`WARM_STACKS_MAX_SHARED`]), each caching thread's, and fewer than 256
    /// given back past those and waiting to have their pages discarded together.
    pub fn warm_limit(&self) -> usize {
        WARM_STACKS_MAX_SHARED + WARM_STACKS_PER_THREAD * self.caching_threads + DISCARD_BATCH - 1
    }
}

/// Reads the pool's counters. They are updated with relaxed atomics, so a snapshot taken
/// while other threads spawn is approximate; a quiet process reads exact figures.
///
/// # Examples
///
/// ```
/// use spindle::coroutine::Generator;
/// let before = spindle::stack::stats().in_use;
/// let g = Generator::new(|y| y.suspend(1u8));
/// assert!(spindle::stack::stats().in_use >= before + 1);
/// drop(g);
/// ```
pub fn stats() -> StackStats {
    let threads = lock_threads();
    let sum = |f: fn(&ThreadCounters) -> &AtomicIsize| -> isize {
        threads.iter().map(|t| f(t).load(Ordering::Relaxed)).sum()
    };
    let in_use = IN_USE.load(Ordering::Relaxed) + sum(|t| &t.in_use);
    let warm = WARM.load(Ordering::Relaxed) + sum(|t| &t.warm);
    StackStats {
        in_use: in_use.max(0) as usize,
        warm: warm.max(0) as usize,
        cold: COLD.load(Ordering::Relaxed),
        reserved: pool::reserved(),
        caching_threads: threads.len(),
        mapped_bytes: MAPPED.load(Ordering::Relaxed),
    }
}
