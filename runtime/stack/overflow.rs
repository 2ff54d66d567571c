//! The stack-overflow report: a `SIGSEGV`/`SIGBUS` handler that recognises spindle's guards
//! (a fault anywhere in one, however wide), names the task that hit one, and aborts.
//!
//! The handler runs on an alternate signal stack (the faulting stack is full) and may only do
//! async-signal-safe things: read atomics and thread-locals that need no lazy initialisation,
//! format into a buffer on its own stack, `write(2)`, `abort(3)`. A fault that is not in a
//! spindle guard is passed to the handler that was installed before ours (std's, which
//! reports overflows of thread stacks), or to the default action.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Once, OnceLock};

use crate::sys;

/// What the handler knows of the task running on a thread.
///
/// Lives in the task's header; the handler finds it through [`RUNNING_LABEL`], which the
/// worker sets around each resume ([`set_running_label`]).
#[derive(Debug)]
pub(crate) struct TaskLabel {
    /// The task's id.
    pub(crate) id: u64,
    /// The task's name, if it has one.
    pub(crate) name: Option<Box<str>>,
    /// The usable range of the task's own stack, set by its worker before it first runs.
    pub(crate) stack: Cell<(usize, usize)>,
}

/// One chunk of stack slots, as the handler sees it: `len` bytes from `base`, cut into slots
/// of `slot` bytes, each a guard of `guard` bytes and then a stack.
struct Chunk {
    base: AtomicUsize,
    len: AtomicUsize,
    slot: AtomicUsize,
    guard: AtomicUsize,
}

const MAX_CHUNKS: usize = 8192;

/// Every chunk the stack pool ever mapped. Entries `0..CHUNK_COUNT` are filled before the
/// count is published (Release); the handler reads the count (Acquire), then the entries.
/// Chunks are never unmapped, so an entry never goes stale.
static CHUNKS: [Chunk; MAX_CHUNKS] = [const {
    Chunk {
        base: AtomicUsize::new(0),
        len: AtomicUsize::new(0),
        slot: AtomicUsize::new(0),
        guard: AtomicUsize::new(0),
    }
}; MAX_CHUNKS];
static CHUNK_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Records a new chunk of `slot`-byte slots, each starting with a `guard`-byte guard. Called
/// under the pool's lock, so there is one writer at a time. Past [`MAX_CHUNKS`] chunks,
/// overflows in the newer ones fall through to the previous handler (a plain `SIGSEGV`).
pub(crate) fn register_chunk(base: usize, len: usize, slot: usize, guard: usize) {
    let i = CHUNK_COUNT.load(Ordering::Relaxed);
    if i >= MAX_CHUNKS {
        return;
    }
    CHUNKS[i].base.store(base, Ordering::Relaxed);
    CHUNKS[i].len.store(len, Ordering::Relaxed);
    CHUNKS[i].slot.store(slot, Ordering::Relaxed);
    CHUNKS[i].guard.store(guard, Ordering::Relaxed);
    CHUNK_COUNT.store(i + 1, Ordering::Release);
}

/// If `addr` lies anywhere in a spindle guard, the usable size of the stack it guards and
/// that stack's range. (A fault in a stack's usable range is not an overflow of it: that is
/// some other bug, left to the previous handler.)
pub(super) fn guard_hit(addr: usize) -> Option<(usize, usize, usize)> {
    let n = CHUNK_COUNT.load(Ordering::Acquire);
    for chunk in &CHUNKS[..n] {
        let base = chunk.base.load(Ordering::Relaxed);
        let len = chunk.len.load(Ordering::Relaxed);
        let slot = chunk.slot.load(Ordering::Relaxed);
        let guard = chunk.guard.load(Ordering::Relaxed);
        if addr >= base && addr < base + len {
            let slot_base = base + (addr - base) / slot * slot;
            let low = slot_base + guard;
            return (addr < low).then_some((slot - guard, low, slot_base + slot));
        }
    }
    None
}

static PREVIOUS: [OnceLock<libc::sigaction>; 2] = [OnceLock::new(), OnceLock::new()];
const SIGNALS: [libc::c_int; 2] = [libc::SIGSEGV, libc::SIGBUS];

/// Installs the handler for `SIGSEGV` and `SIGBUS`, once per process.
pub(crate) fn install_handler() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: `action` is fully initialised (zeroed, then its fields set) before use;
            // `on_fault` has the signature SA_SIGINFO requires and does only async-signal-safe
            // work; the kernel writes `old` before we read it.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_fault as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, &action, &mut old) == 0 {
                    let _ = PREVIOUS[i].set(old);
                }
            }
        }
    });
}

/// An alternate signal stack this thread installed, removed when the thread exits.
struct AltStack {
    base: *mut u8,
    len: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY:
        // - disabling the alternate stack first means no handler can run on it afterwards;
        // - `base..base + len` is the mapping made in `ensure_altstack`, used by nothing else.
        unsafe {
            let mut ss: libc::stack_t = std::mem::zeroed();
            ss.ss_flags = libc::SS_DISABLE;
            libc::sigaltstack(&ss, ptr::null_mut());
            sys::unmap(self.base, self.len);
        }
    }
}

thread_local! {
    static ALTSTACK: Cell<bool> = const { Cell::new(false) };
    static OWNED_ALTSTACK: Cell<Option<AltStackBox>> = const { Cell::new(None) };
}

/// Wrapper so the thread-local owns the `AltStack` (and drops it at thread exit).
struct AltStackBox(#[allow(dead_code)] AltStack);

/// Makes sure this thread has an alternate signal stack, so the handler can run when a
/// coroutine's stack is exhausted. std gives its own threads one; threads made elsewhere get
/// one here.
#[inline]
pub(crate) fn ensure_altstack() {
    if ALTSTACK.with(|a| a.get()) {
        return;
    }
    ensure_altstack_slow();
}

#[cold]
fn ensure_altstack_slow() {
    ALTSTACK.with(|a| a.set(true));
    // SAFETY: a null new stack only queries; `old` is written by the kernel.
    let enabled = unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        libc::sigaltstack(ptr::null(), &mut old) == 0 && old.ss_flags & libc::SS_DISABLE == 0
    };
    if enabled {
        return;
    }
    let len = 64 * 1024;
    let Ok(base) = sys::map_anonymous(len) else {
        return;
    };
    // SAFETY: `base..base + len` is a fresh mapping that only the signal machinery will use.
    let ok = unsafe {
        let ss = libc::stack_t {
            ss_sp: base.cast(),
            ss_flags: 0,
            ss_size: len,
        };
        libc::sigaltstack(&ss, ptr::null_mut()) == 0
    };
    if ok {
        let _ = OWNED_ALTSTACK.try_with(|o| o.set(Some(AltStackBox(AltStack { base, len }))));
    } else {
        // SAFETY: the mapping was never installed, so nothing refers to it.
        unsafe { sys::unmap(base, len) };
    }
}

/// A fixed buffer for formatting without allocation.
struct Buf {
    bytes: [u8; 512],
    len: usize,
}

impl Buf {
    fn push(&mut self, s: &[u8]) {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s[..n]);
        self.len += n;
    }

    fn push_u64(&mut self, mut v: u64) {
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&digits[i..]);
    }
}

thread_local! {
    /// The label of the task running on this thread, set by its worker around each resume.
    /// Const-initialised and without a destructor, so reading it from a signal handler
    /// performs no lazy initialisation.
    static RUNNING_LABEL: Cell<*const TaskLabel> = const { Cell::new(ptr::null()) };
}

/// Records the label of the task a worker is about to resume on this thread (`None` once it
/// is back). The label must stay alive until it is cleared (its task's header does: the
/// worker holds the task while it runs).
#[inline]
pub(crate) fn set_running_label(label: Option<&TaskLabel>) {
    RUNNING_LABEL.with(|l| l.set(label.map_or(ptr::null(), |l| l as *const TaskLabel)));
}

/// The label of the task running on this thread.
fn running_label<'a>() -> Option<&'a TaskLabel> {
    let label = RUNNING_LABEL.with(|l| l.get());
    // SAFETY: a non-null label belongs to the task running on this thread, which its worker
    // holds alive while it runs (and the fault happened during that run); we only read it.
    unsafe { label.as_ref() }
}

/// Formats the report for a fault in the guard of a stack of `usable` bytes whose usable
/// range is `low..high`, run by the task `label` (if any).
fn report(label: Option<&TaskLabel>, usable: usize, low: usize, high: usize) -> Buf {
    let mut buf = Buf {
        bytes: [0; 512],
        len: 0,
    };
    match label {
        Some(label) => {
            let own = label.stack.get() == (low, high);
            if !own {
                buf.push(b"a coroutine driven by ");
            }
            buf.push(b"task '");
            buf.push(label.name.as_deref().unwrap_or("<unnamed>").as_bytes());
            buf.push(b"' (#");
            buf.push_u64(label.id);
            buf.push(b") overflowed its ");
            buf.push_u64((usable / 1024) as u64);
            if own {
                buf.push(b" KiB stack; raise Builder::stack_size or the runtime's stack_size\n");
            } else {
                buf.push(b" KiB stack; raise the size given to Coroutine::with_stack_size\n");
            }
        }
        None => {
            buf.push(b"coroutine overflowed its ");
            buf.push_u64((usable / 1024) as u64);
            buf.push(b" KiB stack; raise the size given to Coroutine::with_stack_size\n");
        }
    }
    buf
}

extern "C" fn on_fault(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers; si_addr is defined
    // for SIGSEGV and SIGBUS.
    let addr = unsafe { (*info).si_addr() } as usize;
    if let Some((usable, low, high)) = guard_hit(addr) {
        let buf = report(running_label(), usable, low, high);
        sys::write_stderr(&buf.bytes[..buf.len]);
        // SAFETY: abort is async-signal-safe and never returns.
        unsafe { libc::abort() };
    }
    chain(sig, info, ctx);
}

/// Hands a fault that is not ours to the handler installed before ours.
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let idx = SIGNALS.iter().position(|&s| s == sig).unwrap_or(0);
    match PREVIOUS[idx].get() {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                // SAFETY: the previous SA_SIGINFO handler has this signature; we pass it the
                // arguments the kernel gave us.
                unsafe {
                    let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                        std::mem::transmute(prev.sa_sigaction);
                    f(sig, info, ctx);
                }
            } else {
                // SAFETY: a handler without SA_SIGINFO takes just the signal number.
                unsafe {
                    let f: extern "C" fn(libc::c_int) = std::mem::transmute(prev.sa_sigaction);
                    f(sig);
                }
            }
        }
        _ => {
            // Restore the default action; returning re-runs the faulting instruction, which
            // then kills the process as it would have without spindle.
            // SAFETY: a zeroed sigaction with SIG_DFL is a valid action.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, ptr::null_mut());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_the_task() {
        let label = TaskLabel {
            id: 42,
            name: Some("worker-7".into()),
            stack: Cell::new((4096, 8192)),
        };
        let buf = report(Some(&label), 64 * 1024, 4096, 8192);
        let text = std::str::from_utf8(&buf.bytes[..buf.len]).unwrap();
        assert_eq!(
            text,
            "task 'worker-7' (#42) overflowed its 64 KiB stack; raise Builder::stack_size or the runtime's stack_size\n"
        );
    }
}
