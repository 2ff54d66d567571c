//! Stack sizes and the pool's bounds: the smallest, largest and default stack, how many
//! finished stacks are kept warm, how large a chunk is, and the check of a requested size.

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

/// How many finished stacks each thread keeps ready, dirty pages and all.
pub const WARM_STACKS_PER_THREAD: usize = 16;

/// How many finished stacks the shared pool keeps ready beyond the per-thread caches.
pub const WARM_STACKS_SHARED: usize = 64;

/// The target size of one mapping that stacks are carved from.
pub(super) const CHUNK_BYTES: usize = 64 << 20;

/// Checks a requested stack size and rounds it up to whole pages.
#[inline]
pub(crate) fn checked_size(size: usize) -> io::Result<usize> {
    if !(MIN_STACK_SIZE..=MAX_STACK_SIZE).contains(&size) {
        return Err(bad_size(size));
    }
    let page = sys::page_size();
    Ok((size + page - 1) & !(page - 1))
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
}
