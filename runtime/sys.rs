//! Every call into the operating system that mio does not already cover, in one place.
//!
//! Each function wraps one system call, checks its result and turns failure into an
//! [`io::Error`]. Callers hold the safety obligations that the `unsafe fn`s list; the safe
//! functions have none.

use std::io;
use std::ptr;

/// `MADV_GUARD_INSTALL` (Linux ≥ 6.13): turn a range of a mapping into guard pages that
/// fault on access without splitting the mapping. Not in `libc` yet.
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The size of a memory page, read once.
#[inline]
pub(crate) fn page_size() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let cached = PAGE.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // SAFETY: sysconf has no memory-safety preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = if page > 0 { page as usize } else { 4096 };
    PAGE.store(page, Ordering::Relaxed);
    page
}

/// Reserves `len` bytes of private, anonymous, readable and writable memory. Pages cost
/// nothing until touched (`MAP_NORESERVE`).
pub(crate) fn map_anonymous(len: usize) -> io::Result<*mut u8> {
    // SAFETY:
    // - a null hint with no MAP_FIXED never replaces an existing mapping;
    // - fd -1 and offset 0 are what MAP_ANONYMOUS requires.
    let addr = unsafe {
        libc::mmap(
            ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(addr.cast())
    }
}

/// Unmaps a range returned by [`map_anonymous`].
///
/// # Safety
/// - `addr..addr + len` must be a mapping this crate made, and nothing may use it afterwards.
pub(crate) unsafe fn unmap(addr: *mut u8, len: usize) {
    // SAFETY: the caller guarantees the range is ours and unused.
    unsafe { libc::munmap(addr.cast(), len) };
}

/// Installs a guard page range with `madvise(MADV_GUARD_INSTALL)`. Fails with
/// `EINVAL` on kernels older than 6.13.
///
/// # Safety
/// - the range must lie inside a mapping this crate owns and holds no live data.
#[cfg(target_os = "linux")]
pub(crate) unsafe fn guard_install(addr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees the range is ours and holds nothing live; the advice
    // only makes those pages fault on access.
    let rc = unsafe { libc::madvise(addr.cast(), len, MADV_GUARD_INSTALL) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Without `MADV_GUARD_INSTALL` there is only `mprotect`.
///
/// # Safety
/// - as for the Linux version.
#[cfg(not(target_os = "linux"))]
pub(crate) unsafe fn guard_install(_addr: *mut u8, _len: usize) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::EINVAL))
}

/// Makes a range inaccessible with `mprotect(PROT_NONE)` (the fallback guard: it splits the
/// mapping, costing map entries).
///
/// # Safety
/// - the range must lie inside a mapping this crate owns and holds no live data.
pub(crate) unsafe fn protect_none(addr: *mut u8, len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees the range is ours and holds nothing live.
    let rc = unsafe { libc::mprotect(addr.cast(), len, libc::PROT_NONE) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Gives the pages of a range back to the OS; they read as zero when next touched.
///
/// # Safety
/// - the range must lie inside a mapping this crate owns and hold no live data.
pub(crate) unsafe fn discard(addr: *mut u8, len: usize) {
    // SAFETY: the caller guarantees nothing live is in the range; MADV_DONTNEED on private
    // anonymous memory only drops its contents.
    unsafe { libc::madvise(addr.cast(), len, libc::MADV_DONTNEED) };
}

/// Writes all of `bytes` to standard error with `write(2)`: async-signal-safe, no locks, no
/// allocation. Errors are ignored (there is nowhere to report them).
pub(crate) fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: the pointer and length come from a live slice.
        let n = unsafe { libc::write(libc::STDERR_FILENO, bytes.as_ptr().cast(), bytes.len()) };
        if n <= 0 {
            return;
        }
        bytes = &bytes[n as usize..];
    }
}

/// The soft limit on the number of processes and threads of this user (`RLIMIT_NPROC`),
/// `None` when unlimited or unknown.
#[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` on Linux, not everywhere
pub(crate) fn nproc_limit() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit` for the call to fill in.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut lim) };
    (rc == 0 && lim.rlim_cur != libc::RLIM_INFINITY).then_some(lim.rlim_cur as u64)
}
