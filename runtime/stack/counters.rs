//! The pool's process-wide counters: stacks in use, warm, cold and bytes mapped, and each
//! caching thread's own share of them, which only that thread writes.

use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Stacks in use and warm stacks, counted outside any thread's counters: the shared pool's
/// warm list, and what threads without (or past) their counters did.
pub(super) static IN_USE: AtomicIsize = AtomicIsize::new(0);
pub(super) static WARM: AtomicIsize = AtomicIsize::new(0);
pub(super) static COLD: AtomicUsize = AtomicUsize::new(0);
pub(super) static MAPPED: AtomicUsize = AtomicUsize::new(0);

/// One thread's share of the pool statistics. Only that thread writes them (a plain load and
/// store: no locked instruction on the spawn path); `stats` reads every thread's.
#[derive(Default)]
pub(super) struct ThreadCounters {
    pub(super) in_use: AtomicIsize,
    pub(super) warm: AtomicIsize,
}

/// The counters of every thread that has a stack cache.
static THREADS: Mutex<Vec<Arc<ThreadCounters>>> = Mutex::new(Vec::new());

#[inline]
pub(super) fn lock_threads() -> std::sync::MutexGuard<'static, Vec<Arc<ThreadCounters>>> {
    THREADS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds `d` to a counter only this thread writes.
#[inline]
pub(super) fn bump(counter: &AtomicIsize, d: isize) {
    counter.store(counter.load(Ordering::Relaxed) + d, Ordering::Relaxed);
}
