//! [`PooledStack`]: a guarded stack owned by one coroutine, taken from this thread's cache or
//! the shared pool and given back to them when dropped.

use std::fmt;
use std::io;

use super::cache::{bump_in_use, cache_put, cache_take};
use super::overflow;
use super::pool::{counters, shared_put, shared_take};
use super::size::checked_size;
use crate::sys;

/// A guarded stack owned by one coroutine; it returns to the pool when dropped.
///
/// `slot` is the lowest address of the slot (its guard page); the usable stack is
/// `slot + page .. slot + page + usable`.
pub(crate) struct PooledStack {
    slot: usize,
    usable: usize,
    /// `slot + page + usable`: the stack's base, read on every resume.
    base: usize,
}

impl fmt::Debug for PooledStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledStack")
            .field("slot", &(self.slot as *const u8))
            .field("usable", &self.usable)
            .finish()
    }
}

impl PooledStack {
    /// Takes a stack of at least `size` bytes (checked with [`checked_size`]) from the pool,
    /// mapping a new chunk if the pool has none.
    pub(crate) fn new(size: usize) -> io::Result<PooledStack> {
        let usable = checked_size(size)?;
        overflow::install_handler();
        overflow::ensure_altstack();
        let slot = match cache_take(usable) {
            Some(slot) => slot,
            None => shared_take(usable, counters(usable))?,
        };
        bump_in_use(1);
        Ok(PooledStack {
            slot,
            usable,
            base: slot + sys::page_size() + usable,
        })
    }

    /// The usable size in bytes.
    pub(crate) fn usable(&self) -> usize {
        self.usable
    }

    /// The lowest usable address (just above the guard) and the highest (the stack's base).
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.base - self.usable, self.base)
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        bump_in_use(-1);
        if !cache_put(self.usable, self.slot) {
            shared_put(self.usable, self.slot);
        }
    }
}

// SAFETY:
// - `base` and `limit` are page-aligned (hence STACK_ALIGNMENT-aligned) ends of a mapping this
//   pool owns exclusively for the stack's lifetime (a slot is in exactly one place: a free
//   list or one `PooledStack`);
// - `limit` includes the guard page, which faults on access (installed before the slot was
//   first handed out, and never removed);
// - the usable size is at least MIN_STACK_SIZE (32 KiB) > corosensei's 4 KiB minimum.
unsafe impl corosensei::stack::Stack for PooledStack {
    #[inline]
    fn base(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.base).expect("stack base is never null")
    }

    #[inline]
    fn limit(&self) -> corosensei::stack::StackPointer {
        corosensei::stack::StackPointer::new(self.slot).expect("stack slot is never null")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack::size::MIN_STACK_SIZE;

    #[test]
    fn a_stack_is_writable_and_reused() {
        let s = PooledStack::new(MIN_STACK_SIZE).unwrap();
        let (low, high) = s.bounds();
        assert_eq!(high - low, MIN_STACK_SIZE);
        // SAFETY: the range is the stack's usable memory, owned by `s`.
        unsafe { std::ptr::write_bytes(low as *mut u8, 0xAB, high - low) };
        let slot = s.slot;
        drop(s);
        let again = PooledStack::new(MIN_STACK_SIZE).unwrap();
        assert_eq!(
            again.slot, slot,
            "a finished stack is reused from the thread cache"
        );
    }
}
