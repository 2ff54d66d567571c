//! Guards (a slot's first pages, [`DEFAULT_GUARD_SIZE`](super::DEFAULT_GUARD_SIZE) unless
//! configured): how they are installed (`madvise(MADV_GUARD_INSTALL)`, else
//! `mprotect(PROT_NONE)`), learned from the first attempt, and the error that explains a
//! failure to map or guard a stack.

use std::io;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::sys;

const GUARD_UNKNOWN: u8 = 0;
const GUARD_MADVISE: u8 = 1;
const GUARD_MPROTECT: u8 = 2;
/// How guard pages are installed, learned from the first attempt.
static GUARD_MODE: AtomicU8 = AtomicU8::new(GUARD_UNKNOWN);

/// Whether guard pages cost no map entries here (`MADV_GUARD_INSTALL` works). Known once a
/// stack has been made; `None` before.
///
/// # Examples
///
/// ```
/// let _ = spindle::coroutine::Generator::new(|y| y.suspend(0u8));
/// assert!(spindle::stack::guards_are_free().is_some());
/// ```
pub fn guards_are_free() -> Option<bool> {
    match GUARD_MODE.load(Ordering::Relaxed) {
        GUARD_MADVISE => Some(true),
        GUARD_MPROTECT => Some(false),
        _ => None,
    }
}

/// Makes `addr..addr + len` (whole pages: the guard of a slot never handed out) fault on any
/// access: one `madvise` (no new map entry) or one `mprotect` (the range becomes its own map
/// entry, whatever its length).
#[inline]
pub(super) fn install_guard(addr: *mut u8, len: usize) -> io::Result<()> {
    if GUARD_MODE.load(Ordering::Relaxed) != GUARD_MPROTECT {
        // SAFETY: `addr..addr + len` is the guard of a slot never handed out, inside our
        // chunk, so no live data is in it.
        match unsafe { sys::guard_install(addr, len) } {
            Ok(()) => {
                GUARD_MODE.store(GUARD_MADVISE, Ordering::Relaxed);
                return Ok(());
            }
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                GUARD_MODE.store(GUARD_MPROTECT, Ordering::Relaxed);
            }
            Err(e) => return Err(out_of_stacks(e, "guard")),
        }
    }
    // SAFETY: as above.
    unsafe { sys::protect_none(addr, len) }.map_err(|e| out_of_stacks(e, "guard"))
}

/// Explains an OS error met while making stacks.
#[cold]
pub(super) fn out_of_stacks(e: io::Error, what: &str) -> io::Error {
    let hint = if e.raw_os_error() == Some(libc::ENOMEM) && what == "guard" {
        " (vm.max_map_count reached? mprotect guards cost two map entries per stack)"
    } else {
        ""
    };
    let step = if what == "map" {
        "mapping memory for"
    } else {
        "installing the guard of"
    };
    io::Error::new(
        e.kind(),
        format!("out of coroutine stacks: {step} a stack failed: {e}{hint}"),
    )
}

/// Test hook: use the `mprotect` fallback for guard pages from now on, as on kernels without
/// `MADV_GUARD_INSTALL`. Stacks carved before keep their guards.
#[doc(hidden)]
pub fn force_mprotect_guards() {
    GUARD_MODE.store(GUARD_MPROTECT, Ordering::Relaxed);
}
