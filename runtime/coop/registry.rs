//! Every cooperative runtime of the process, for the deadlock detector: a task of another
//! runtime may hold a handle to a primitive of this one (a channel's sender moved into it)
//! and use it later — a use the primitive's origin word cannot see in advance. So while any
//! other runtime is running tasks, no wait is reported as a deadlock.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, Weak};

use super::shared::{Shared, LIVE_ALL};

static RUNTIMES: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());

fn lock() -> std::sync::MutexGuard<'static, Vec<Weak<Shared>>> {
    RUNTIMES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Records a runtime just started (and forgets those dropped since).
pub(crate) fn register(shared: &Arc<Shared>) {
    let mut all = lock();
    all.retain(|w| w.strong_count() > 0);
    all.push(Arc::downgrade(shared));
}

/// Whether a runtime other than `me` has live tasks that could still run: not every one of
/// its workers asleep for good.
pub(crate) fn another_is_running(me: &Shared) -> bool {
    let all: Vec<Arc<Shared>> = lock().iter().filter_map(Weak::upgrade).collect();
    all.iter().any(|s| {
        !std::ptr::eq(Arc::as_ptr(s), me)
            && s.live.load(Ordering::Acquire) & LIVE_ALL != 0
            && !s.quiescent()
    })
}
