//! Stack sizes and the pool's bounds: the smallest, largest and default stack and guard, how
//! many finished stacks are kept warm, how large a chunk is, the checks of a requested size
//! and guard, and [`Shape`], the pair of them that keys the pool.

use std::io;

use crate::sys;

/// The smallest stack spindle hands out. Smaller requests are an error: a panic with
/// `RUST_BACKTRACE=1` needs more than 16 KiB.
pub const MIN_STACK_SIZE: usize = 32 * 1024;

/// The largest stack spindle hands out (1 GiB); larger requests are an error.
pub const MAX_STACK_SIZE: usize = 1 << 30;

/// The stack size of a task or coroutine when none is given: 128 KiB of virtual memory, of
/// which only the touched pages cost memory.
pub const DEFAULT_STACK_SIZE: usize = 128 * 1024;

/// The guard below each stack when none is configured: 64 KiB of pages that fault on any
/// access, so that a frame up to 64 KiB larger than the space left (C code with `alloca`,
/// a large array in an unprobed frame) faults there instead of writing into the stack below.
///
/// With `MADV_GUARD_INSTALL` (Linux ≥ 6.13) a guard costs no memory and no map entry; with
/// the `mprotect` fallback it costs address space only (`PROT_NONE`, never committed). Set
/// per runtime with [`RuntimeBuilder::guard_size`](crate::RuntimeBuilder::guard_size); bare
/// coroutines always get this one.
pub const DEFAULT_GUARD_SIZE: usize = 64 * 1024;

/// The largest guard spindle installs (16 MiB); larger requests are an error. A guard page
/// costs a page-table entry (`MADV_GUARD_INSTALL` marks it in the page table), so a guard of
/// many megabytes per stack would cost real memory.
pub const MAX_GUARD_SIZE: usize = 16 << 20;

/// How many finished stacks each thread keeps ready, dirty pages and all.
pub const WARM_STACKS_PER_THREAD: usize = 16;

/// How many finished stacks the shared pool keeps ready beyond the per-thread caches, at
/// least; a size class that had more stacks out at once keeps up to that many, to
/// [`WARM_STACKS_MAX_SHARED`].
pub const WARM_STACKS_SHARED: usize = 64;

/// The most finished stacks the shared pool keeps ready in one size class: a program that
/// ran 2,000 tasks at once keeps 2,000 stacks warm for the next such burst, rather than
/// giving their pages back and faulting them in again (with a shootdown of every other
/// core's TLB each time: 2–3 µs a stack, most of a spawn's cost). At most this many × the
/// pages each stack dirtied stay resident after a burst.
pub const WARM_STACKS_MAX_SHARED: usize = 4096;

/// Stacks given back past the warm list have their pages discarded this many at a time.
/// Each `madvise(MADV_DONTNEED)` flushes the TLB of every CPU running a thread of the
/// process, an inter-processor interrupt (and in a VM a trap to the hypervisor) per call:
/// one call per stack took 30% of a run of 300,000 tasks. Sorted, a batch's slots are
/// mostly adjacent, and a run of adjacent slots takes one call.
pub(super) const DISCARD_BATCH: usize = 256;

/// The target size of one mapping that stacks are carved from.
pub(super) const CHUNK_BYTES: usize = 64 << 20;

/// A size class of the pool: the usable size of a stack and the size of the guard below it,
/// both checked and whole pages. Stacks of different shapes never share a slot.
///
/// Held as two `u32` (both are at most 1 GiB), so that a reservation or a stack, which every
/// task carries, is no larger than when the guard was always one page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    usable: u32,
    guard: u32,
}

impl Shape {
    /// The shape of a `usable`-byte stack (from [`checked_size`]) with a `guard`-byte guard
    /// (from [`checked_guard`] or [`default_guard`]).
    #[inline]
    pub(super) fn new(usable: usize, guard: usize) -> Shape {
        debug_assert!(usable <= MAX_STACK_SIZE && guard <= MAX_GUARD_SIZE && guard > 0);
        Shape {
            usable: usable as u32,
            guard: guard as u32,
        }
    }

    /// The usable size of the stack, in bytes.
    #[inline]
    pub(super) fn usable(self) -> usize {
        self.usable as usize
    }

    /// The size of the guard below the stack, in bytes.
    #[inline]
    pub(super) fn guard(self) -> usize {
        self.guard as usize
    }

    /// The bytes of one slot: guard, then stack.
    #[inline]
    pub(super) fn slot_len(self) -> usize {
        self.guard() + self.usable()
    }
}

/// Checks a requested stack size and rounds it up to whole pages.
#[inline]
pub(crate) fn checked_size(size: usize) -> io::Result<usize> {
    if !(MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&size) {
        return Err(bad_size(size));
    }
    Ok(round_to_pages(size))
}

/// Checks a requested guard size and rounds it up to whole pages: 1 byte gives one page.
///
/// # Errors
///
/// `InvalidInput` for 0 (no guard at all: an overflow would run silently into the stack
/// below) and above [`MAX_GUARD_SIZE`].
pub(crate) fn checked_guard(size: usize) -> io::Result<usize> {
    if size == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "guard size 0: every stack needs a guard (at least one page), or an overflow \
             would write into the neighbouring stack unnoticed",
        ));
    }
    if size > MAX_GUARD_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "guard size {size} bytes is above spindle's maximum of {} MiB",
                MAX_GUARD_SIZE >> 20
            ),
        ));
    }
    Ok(round_to_pages(size))
}

/// [`DEFAULT_GUARD_SIZE`], in whole pages (it is one page at least on 64 KiB-page systems).
#[inline]
pub(crate) fn default_guard() -> usize {
    round_to_pages(DEFAULT_GUARD_SIZE)
}

/// `size` rounded up to a multiple of the page size; `size` is at most 1 GiB, so no overflow.
#[inline]
fn round_to_pages(size: usize) -> usize {
    let page = sys::page_size();
    (size + page - 1) & !(page - 1)
}

#[cold]
fn bad_size(size: usize) -> io::Error {
    if size < MIN_STACK_SIZE {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "stack size {size} bytes is below spindle's minimum of {} KiB",
                MIN_STACK_SIZE / 1024
            ),
        );
    }
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "stack size {size} bytes is above spindle's maximum of {} MiB",
            MAX_STACK_SIZE >> 20
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_and_rounded() {
        assert!(checked_size(0).is_err());
        assert!(checked_size(MIN_STACK_SIZE - 1).is_err());
        assert!(checked_size(MAX_STACK_SIZE + 1).is_err());
        let page = sys::page_size();
        assert_eq!(
            checked_size(MIN_STACK_SIZE + 1).unwrap(),
            MIN_STACK_SIZE + page
        );
    }

    #[test]
    fn guards_are_checked_and_rounded() {
        let page = sys::page_size();
        let zero = checked_guard(0).unwrap_err();
        assert_eq!(zero.kind(), io::ErrorKind::InvalidInput);
        assert!(zero.to_string().contains("guard size 0"), "{zero}");
        let huge = checked_guard(MAX_GUARD_SIZE + 1).unwrap_err();
        assert_eq!(huge.kind(), io::ErrorKind::InvalidInput);
        assert!(checked_guard(usize::MAX).is_err());
        assert_eq!(checked_guard(1).unwrap(), page);
        assert_eq!(checked_guard(page + 1).unwrap(), 2 * page);
        assert_eq!(checked_guard(MAX_GUARD_SIZE).unwrap(), MAX_GUARD_SIZE);
        assert_eq!(default_guard(), DEFAULT_GUARD_SIZE.max(page));
    }
}
