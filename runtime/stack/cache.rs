//! Each thread's cache of warm stacks, by shape (size and guard), and its share of the pool's
//! counters; what does not fit goes to the shared pool, and a finished thread hands its cache
//! over to it.

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::counters::{bump, lock_threads, ThreadCounters, IN_USE};
use super::pool::shared_put;
use super::size::{Shape, WARM_STACKS_PER_THREAD};

/// Adds `d` to this thread's in-use count (or the shared one, during thread teardown).
#[inline]
pub(super) fn bump_in_use(d: isize) {
    let done = CACHE
        .try_with(|c| match c.try_borrow_mut() {
            Ok(mut c) => {
                bump(&cache_of(&mut c).counters.in_use, d);
                true
            }
            Err(_) => false,
        })
        .unwrap_or(false);
    if !done {
        IN_USE.fetch_add(d, Ordering::Relaxed);
    }
}

/// A thread's cache of warm stacks, by shape, and its share of the statistics.
struct Cache {
    classes: Vec<(Shape, Vec<usize>)>,
    counters: Arc<ThreadCounters>,
}

impl Drop for Cache {
    fn drop(&mut self) {
        // Hand the cached stacks and the counts to the shared pool, then unregister.
        let classes = std::mem::take(&mut self.classes);
        let in_use = self.counters.in_use.load(Ordering::Relaxed);
        IN_USE.fetch_add(in_use, Ordering::Relaxed);
        self.counters.in_use.store(0, Ordering::Relaxed);
        self.counters.warm.store(0, Ordering::Relaxed);
        lock_threads().retain(|t| !Arc::ptr_eq(t, &self.counters));
        for (shape, slots) in classes {
            for slot in slots {
                shared_put(shape, slot);
            }
        }
    }
}

/// This thread's cache, made (and registered) on first use.
fn cache_of(slot: &mut Option<Cache>) -> &mut Cache {
    slot.get_or_insert_with(|| {
        let counters = Arc::new(ThreadCounters::default());
        lock_threads().push(counters.clone());
        Cache {
            classes: Vec::new(),
            counters,
        }
    })
}

thread_local! {
    static CACHE: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

/// Counts one more stack in use on this thread and takes a warm slot of `shape` from its
/// cache, if it has one (one thread-local access for both: a task start does this).
#[inline]
pub(super) fn cache_take(shape: Shape) -> Option<usize> {
    let counted = CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let cache = cache_of(&mut c);
            bump(&cache.counters.in_use, 1);
            let slot = cache
                .classes
                .iter_mut()
                .find(|(s, _)| *s == shape)
                .and_then(|(_, slots)| slots.pop());
            if slot.is_some() {
                bump(&cache.counters.warm, -1);
            }
            Some(slot)
        })
        .ok()
        .flatten();
    match counted {
        Some(slot) => slot,
        None => {
            IN_USE.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Counts one stack fewer in use on this thread and keeps `slot` in its cache if there is
/// room (one thread-local access for both); `false` if the caller must pass it to the
/// shared pool.
#[inline]
pub(super) fn cache_put(shape: Shape, slot: usize) -> bool {
    let counted = CACHE
        .try_with(|c| {
            let Ok(mut c) = c.try_borrow_mut() else {
                return None;
            };
            let cache = cache_of(&mut c);
            bump(&cache.counters.in_use, -1);
            let idx = match cache.classes.iter().position(|(s, _)| *s == shape) {
                Some(i) => i,
                None => {
                    cache.classes.push((shape, Vec::new()));
                    cache.classes.len() - 1
                }
            };
            let slots = &mut cache.classes[idx].1;
            if slots.len() >= WARM_STACKS_PER_THREAD {
                return Some(false);
            }
            slots.push(slot);
            bump(&cache.counters.warm, 1);
            Some(true)
        })
        .ok()
        .flatten();
    counted.unwrap_or_else(|| {
        IN_USE.fetch_sub(1, Ordering::Relaxed);
        false
    })
}
