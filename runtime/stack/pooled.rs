//! [`PooledStack`]: a guarded stack owned by one coroutine, taken from this thread's cache or
//! the shared pool and given back to them when dropped.

use std::fmt;
use std::io;

use super::cache::{bump_in_use, cache_put, cache_take};
use super::overflow;
use super::pool::{counters, shared_put, shared_take};
use super::size::{checked_size, Shape};

/// A guarded stack owned by one coroutine; it returns to the pool when dropped.
///
/// `slot` is the lowest address of the slot (its guard); the usable stack is
/// `slot + guard .. slot + guard + usable`.
pub(crate) struct PooledStack {
    slot: usize,
    shape: Shape,
    /// `slot + guard + usable`: the stack's base, read on every resume.
    base: usize,
}

impl fmt::Debug for PooledStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PooledStack")
            .field("slot", &(self.slot as *const u8))
            .field("usable", &self.shape.usable())
            .field("guard", &self.shape.guard())
            .finish()
    }
}

impl PooledStack {
    /// Takes a stack of at least `size` bytes (checked with [`checked_size`]) with a guard of
    /// `guard` bytes below it (already checked: from `checked_guard` or `default_guard`) from
    /// the pool, mapping a new chunk if the pool has none.
    pub(crate) fn new(size: usize, guard: usize) -> io::Result<PooledStack> {
        let usable = checked_size(size)?;
        PooledStack::of_shape(Shape::new(usable, guard))
    }

    /// Takes a stack of a checked shape from the pool.
    pub(super) fn of_shape(shape: Shape) -> io::Result<PooledStack> {
        debug_assert!(shape.guard() > 0 && shape.guard() % crate::sys::page_size() == 0);
        overflow::install_handler();
        overflow::ensure_altstack();
        // Counted in use here (with the cache look-up), uncounted if none can be had.
        let slot = match cache_take(shape) {
            Some(slot) => slot,
            None => shared_take(shape, counters(shape)).inspect_err(|_| bump_in_use(-1))?,
        };
        Ok(PooledStack {
            slot,
            shape,
            base: slot + shape.slot_len(),
        })
    }

    /// The usable size in bytes.
    pub(crate) fn usable(&self) -> usize {
        self.shape.usable()
    }

    /// The lowest usable address (just above the guard) and the highest (the stack's base).
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.base - self.shape.usable(), self.base)
    }
}

impl Drop for PooledStack {
    fn drop(&mut self) {
        if !cache_put(self.shape, self.slot) {
            shared_put(self.shape, self.slot);
        }
    }
}

// SAFETY:
// - `base` and `limit` are page-aligned (hence STACK_ALIGNMENT-aligned) ends of a mapping this
//   pool owns exclusively for the stack's lifetime (a slot is in exactly one place: a free
//   list or one `PooledStack`);
// - `limit` includes the guard (at least one page), which faults on access (installed before
//   the slot was first handed out, and never removed);
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
    use crate::stack::size::{default_guard, MIN_STACK_SIZE};

    #[test]
    fn a_stack_is_writable_and_reused() {
        let s = PooledStack::new(MIN_STACK_SIZE, default_guard()).unwrap();
        let (low, high) = s.bounds();
        assert_eq!(high - low, MIN_STACK_SIZE);
        // SAFETY: the range is the stack's usable memory, owned by `s`.
        unsafe { std::ptr::write_bytes(low as *mut u8, 0xAB, high - low) };
        let slot = s.slot;
        drop(s);
        let again = PooledStack::new(MIN_STACK_SIZE, default_guard()).unwrap();
        assert_eq!(
            again.slot, slot,
            "a finished stack is reused from the thread cache"
        );
    }

    #[test]
    fn the_guard_lies_below_the_stack_and_is_part_of_the_class() {
        let page = crate::sys::page_size();
        // A size no other test uses, so that this test owns its classes.
        let size = MIN_STACK_SIZE + 3 * page;
        let wide = PooledStack::new(size, 16 * page).unwrap();
        let (low, high) = wide.bounds();
        assert_eq!(
            low - wide.slot,
            16 * page,
            "the usable stack starts above the guard"
        );
        assert_eq!(high - low, size);
        let wide_slot = wide.slot;
        drop(wide);
        // Same size, other guard: another class, so not the slot just freed...
        let narrow = PooledStack::new(size, page).unwrap();
        assert_ne!(
            narrow.slot, wide_slot,
            "a slot is reused only with its own guard"
        );
        assert_eq!(narrow.bounds().0 - narrow.slot, page);
        // ...while the same shape gets it back.
        let again = PooledStack::new(size, 16 * page).unwrap();
        assert_eq!(again.slot, wide_slot);
    }

    #[test]
    fn the_overflow_handler_knows_every_page_of_a_wide_guard() {
        let page = crate::sys::page_size();
        let size = MIN_STACK_SIZE + 5 * page;
        let s = PooledStack::new(size, 16 * page).unwrap();
        let (low, high) = s.bounds();
        for addr in [s.slot, s.slot + 8 * page + 123, low - 1] {
            assert_eq!(
                overflow::guard_hit(addr),
                Some((size, low, high)),
                "{addr:#x} is in the guard of {low:#x}..{high:#x}"
            );
        }
        assert_eq!(
            overflow::guard_hit(low),
            None,
            "the stack itself is no guard"
        );
        assert_eq!(overflow::guard_hit(high - 1), None);
    }
}
