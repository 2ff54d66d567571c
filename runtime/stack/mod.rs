//! Guarded coroutine stacks, carved from large mappings and pooled for reuse.
//!
//! # Layout
//!
//! Stacks of one size class are carved from *chunks*: single anonymous mappings of about
//! 64 MiB (or one slot, for larger stacks). Each slot of a chunk is one guard page followed by
//! the usable stack, which grows down towards the guard:
//!
//! ```text
//!  chunk base                                                          chunk end
//!  | guard | stack 0 ......... | guard | stack 1 ......... | guard | ...  |
//!            limit        base ^
//! ```
//!
//! On Linux ≥ 6.13 the guard is installed with `madvise(MADV_GUARD_INSTALL)`, which does not
//! split the mapping: a million stacks cost a few map entries. Elsewhere, or on older kernels,
//! the guard is an `mprotect(PROT_NONE)` page, which costs two map entries per stack; running
//! out of them (`vm.max_map_count`) is an `io::Error`, never an abort.
//!
//! # Pool
//!
//! A finished stack goes back to a small per-thread cache ([`WARM_STACKS_PER_THREAD`]), then
//! to a shared list of warm stacks ([`WARM_STACKS_SHARED`]); beyond those bounds its pages are
//! given back to the OS (`MADV_DONTNEED`) and the empty slot is kept for reuse. Mappings are
//! never unmapped, so the overflow handler can read the chunk registry at any time.

pub(crate) mod overflow;

pub(crate) use overflow::TaskLabel;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicIsize, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

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
const CHUNK_BYTES: usize = 64 << 20;

/// Counters of one size class, readable without the pool's lock.
///
/// `free` counts finished or freshly carved slots in the shared lists (not the per-thread
/// caches, whose hits should cost no shared atomic: the count errs low, so a spawn may carve
/// a few slots more than strictly needed, never fewer);
/// `reserved` counts stacks promised to spawned tasks that have not started. Spawning keeps
/// `free >= reserved` by carving ahead (so exhaustion is reported by `spawn`), while a task
/// takes its actual stack only when it first runs (so a warm stack just freed by the
/// previous task is reused).
struct ClassCounters {
    usable: AtomicUsize,
    free: AtomicIsize,
    reserved: AtomicIsize,
}

const MAX_CLASSES: usize = 64;
static COUNTERS: [ClassCounters; MAX_CLASSES] = [const {
    ClassCounters {
        usable: AtomicUsize::new(0),
        free: AtomicIsize::new(0),
        reserved: AtomicIsize::new(0),
    }
}; MAX_CLASSES];
static CLASS_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Shared by every class past the first [`MAX_CLASSES`]: their accounting is merged, which
/// only makes reservations more conservative.
static OVERFLOW_COUNTERS: ClassCounters = ClassCounters {
    usable: AtomicUsize::new(0),
    free: AtomicIsize::new(0),
    reserved: AtomicIsize::new(0),
};

/// The counters of the class of `usable`-byte stacks, registering the class if new.
fn counters(usable: usize) -> &'static ClassCounters {
    let n = CLASS_COUNT.load(Ordering::Acquire);
    if let Some(c) = COUNTERS[..n]
        .iter()
        .find(|c| c.usable.load(Ordering::Relaxed) == usable)
    {
        return c;
    }
    register_class(usable)
}

#[cold]
fn register_class(usable: usize) -> &'static ClassCounters {
    let _pool = lock_pool();
    let n = CLASS_COUNT.load(Ordering::Acquire);
    if let Some(c) = COUNTERS[..n]
        .iter()
        .find(|c| c.usable.load(Ordering::Relaxed) == usable)
    {
        return c;
    }
    if n == MAX_CLASSES {
        return &OVERFLOW_COUNTERS;
    }
    COUNTERS[n].usable.store(usable, Ordering::Relaxed);
    CLASS_COUNT.store(n + 1, Ordering::Release);
    &COUNTERS[n]
}

/// A stack promised to a task that has not started: spawning reserves one (and fails if
/// none can be had); the task takes it when it first runs, on the thread that runs it.
pub(crate) struct StackReservation {
    counters: &'static ClassCounters,
    usable: usize,
}

impl fmt::Debug for StackReservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StackReservation")
            .field("usable", &self.usable)
            .finish()
    }
}

impl StackReservation {
    /// Reserves a stack of at least `size` bytes, carving (and guarding) new slots first if
    /// the pool holds fewer free ones than it has promised.
    pub(crate) fn new(size: usize) -> io::Result<StackReservation> {
        let usable = checked_size(size)?;
        let counters = counters(usable);
        let reserved = counters.reserved.fetch_add(1, Ordering::AcqRel) + 1;
        let reservation = StackReservation { counters, usable };
        if reserved > counters.free.load(Ordering::Acquire) {
            top_up(usable, counters)?;
        }
        Ok(reservation)
    }

    /// Takes the promised stack.
    pub(crate) fn take(self) -> io::Result<PooledStack> {
        PooledStack::new(self.usable)
    }
}

impl Drop for StackReservation {
    fn drop(&mut self) {
        self.counters.reserved.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Carves slots into the shared cold list until the class has as many free as promised.
#[cold]
fn top_up(usable: usize, counters: &ClassCounters) -> io::Result<()> {
    overflow::install_handler();
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, usable);
    while counters.reserved.load(Ordering::Acquire) > counters.free.load(Ordering::Acquire) {
        let slot = carve(class)?;
        class.cold.push(slot);
        COLD.fetch_add(1, Ordering::Relaxed);
        counters.free.fetch_add(1, Ordering::AcqRel);
    }
    Ok(())
}

/// A snapshot of the process-wide stack pool, from [`stats`].
///
/// # Examples
///
/// ```
/// let s = spindle::stack::stats();
/// assert!(s.warm <= s.warm_limit());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Stacks held by live coroutines and tasks.
    pub in_use: usize,
    /// Finished stacks kept with their pages, ready for reuse.
    pub warm: usize,
    /// Finished (or never used) stacks whose pages were given back to the OS.
    pub cold: usize,
    /// Stacks promised to spawned tasks that have not started yet.
    pub reserved: usize,
    /// Threads that hold a stack cache (each keeps up to [`WARM_STACKS_PER_THREAD`]).
    pub caching_threads: usize,
    /// Bytes of address space mapped for stacks (guards included).
    pub mapped_bytes: usize,
}

impl StackStats {
    /// The most warm stacks the pool keeps: the shared bound plus each caching thread's.
    pub fn warm_limit(&self) -> usize {
        WARM_STACKS_SHARED + WARM_STACKS_PER_THREAD * self.caching_threads
    }
}

/// Reads the pool's counters. They are updated with relaxed atomics, so a snapshot taken
/// while other threads spawn is approximate; a quiet process reads exact figures.
///
/// # Examples
///
/// ```
/// use spindle::coroutine::Generator;
/// let before = spindle::stack::stats().in_use;
/// let g = Generator::new(|y| y.suspend(1u8));
/// assert!(spindle::stack::stats().in_use >= before + 1);
/// drop(g);
/// ```
pub fn stats() -> StackStats {
    let threads = lock_threads();
    let sum = |f: fn(&ThreadCounters) -> &AtomicIsize| -> isize {
        threads.iter().map(|t| f(t).load(Ordering::Relaxed)).sum()
    };
    let in_use = IN_USE.load(Ordering::Relaxed) + sum(|t| &t.in_use);
    let warm = WARM.load(Ordering::Relaxed) + sum(|t| &t.warm);
    StackStats {
        in_use: in_use.max(0) as usize,
        warm: warm.max(0) as usize,
        cold: COLD.load(Ordering::Relaxed),
        reserved: COUNTERS
            .iter()
            .chain(std::iter::once(&OVERFLOW_COUNTERS))
            .map(|c| c.reserved.load(Ordering::Relaxed).max(0) as usize)
            .sum(),
        caching_threads: threads.len(),
        mapped_bytes: MAPPED.load(Ordering::Relaxed),
    }
}

/// Stacks in use and warm stacks, counted outside any thread's counters: the shared pool's
/// warm list, and what threads without (or past) their counters did.
static IN_USE: AtomicIsize = AtomicIsize::new(0);
static WARM: AtomicIsize = AtomicIsize::new(0);
static COLD: AtomicUsize = AtomicUsize::new(0);
static MAPPED: AtomicUsize = AtomicUsize::new(0);

/// One thread's share of the pool statistics. Only that thread writes them (a plain load and
/// store: no locked instruction on the spawn path); `stats` reads every thread's.
#[derive(Default)]
struct ThreadCounters {
    in_use: AtomicIsize,
    warm: AtomicIsize,
}

/// The counters of every thread that has a stack cache.
static THREADS: Mutex<Vec<Arc<ThreadCounters>>> = Mutex::new(Vec::new());

fn lock_threads() -> std::sync::MutexGuard<'static, Vec<Arc<ThreadCounters>>> {
    THREADS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Adds `d` to a counter only this thread writes.
#[inline]
fn bump(counter: &AtomicIsize, d: isize) {
    counter.store(counter.load(Ordering::Relaxed) + d, Ordering::Relaxed);
}

/// Adds `d` to this thread's in-use count (or the shared one, during thread teardown).
#[inline]
fn bump_in_use(d: isize) {
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

/// A thread's cache of warm stacks, by usable size, and its share of the statistics.
struct Cache {
    classes: Vec<(usize, Vec<usize>)>,
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
        for (usable, slots) in classes {
            for slot in slots {
                shared_put(usable, slot);
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

fn cache_take(usable: usize) -> Option<usize> {
    CACHE
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let cache = c.as_mut()?;
            let (_, slots) = cache.classes.iter_mut().find(|(u, _)| *u == usable)?;
            let slot = slots.pop()?;
            bump(&cache.counters.warm, -1);
            Some(slot)
        })
        .ok()
        .flatten()
}

/// Keeps `slot` in this thread's cache if there is room; `false` if the caller must pass it
/// to the shared pool.
fn cache_put(usable: usize, slot: usize) -> bool {
    CACHE
        .try_with(|c| {
            let Ok(mut c) = c.try_borrow_mut() else {
                return false;
            };
            let cache = cache_of(&mut c);
            let idx = match cache.classes.iter().position(|(u, _)| *u == usable) {
                Some(i) => i,
                None => {
                    cache.classes.push((usable, Vec::new()));
                    cache.classes.len() - 1
                }
            };
            let slots = &mut cache.classes[idx].1;
            if slots.len() >= WARM_STACKS_PER_THREAD {
                return false;
            }
            slots.push(slot);
            bump(&cache.counters.warm, 1);
            true
        })
        .unwrap_or(false)
}

/// The shared pool: free slots and the chunk being carved, per size class.
struct Pool {
    classes: Vec<Class>,
}

struct Class {
    usable: usize,
    /// Finished stacks with their pages still resident.
    warm: Vec<usize>,
    /// Finished stacks whose pages were discarded.
    cold: Vec<usize>,
    /// The chunk being carved: next free slot address and end of the chunk.
    next: usize,
    end: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    classes: Vec::new(),
});

fn lock_pool() -> std::sync::MutexGuard<'static, Pool> {
    // The pool's invariants hold between statements, so a poisoned lock is still usable.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

fn class_mut(pool: &mut Pool, usable: usize) -> &mut Class {
    let idx = match pool.classes.iter().position(|c| c.usable == usable) {
        Some(i) => i,
        None => {
            pool.classes.push(Class {
                usable,
                warm: Vec::new(),
                cold: Vec::new(),
                next: 0,
                end: 0,
            });
            pool.classes.len() - 1
        }
    };
    &mut pool.classes[idx]
}

#[cold]
fn shared_take(usable: usize, counters: &ClassCounters) -> io::Result<usize> {
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, usable);
    if let Some(slot) = class.warm.pop() {
        WARM.fetch_sub(1, Ordering::Relaxed);
        counters.free.fetch_sub(1, Ordering::AcqRel);
        return Ok(slot);
    }
    if let Some(slot) = class.cold.pop() {
        COLD.fetch_sub(1, Ordering::Relaxed);
        counters.free.fetch_sub(1, Ordering::AcqRel);
        return Ok(slot);
    }
    carve(class)
}

fn shared_put(usable: usize, slot: usize) {
    counters(usable).free.fetch_add(1, Ordering::AcqRel);
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, usable);
    if class.warm.len() < WARM_STACKS_SHARED {
        class.warm.push(slot);
        WARM.fetch_add(1, Ordering::Relaxed);
    } else {
        let page = sys::page_size();
        // SAFETY:
        // - the slot belongs to a chunk this pool mapped and never unmaps;
        // - its stack is finished (the PooledStack is being dropped), so no live data is in it.
        unsafe { sys::discard((slot + page) as *mut u8, usable) };
        class.cold.push(slot);
        COLD.fetch_add(1, Ordering::Relaxed);
    }
}

/// Carves the next slot from the class's chunk, mapping a new chunk when it is used up, and
/// installs the slot's guard page.
fn carve(class: &mut Class) -> io::Result<usize> {
    let page = sys::page_size();
    let slot_len = class.usable + page;
    if class.next + slot_len > class.end || class.end == 0 {
        let slots = (CHUNK_BYTES / slot_len).max(1);
        let len = slots * slot_len;
        let base = sys::map_anonymous(len).map_err(|e| out_of_stacks(e, "map"))? as usize;
        MAPPED.fetch_add(len, Ordering::Relaxed);
        overflow::register_chunk(base, len, slot_len);
        class.next = base;
        class.end = base + len;
    }
    let slot = class.next;
    install_guard(slot as *mut u8, page)?;
    class.next += slot_len;
    Ok(slot)
}

fn install_guard(addr: *mut u8, page: usize) -> io::Result<()> {
    if GUARD_MODE.load(Ordering::Relaxed) != GUARD_MPROTECT {
        // SAFETY: `addr` is the first page of a slot never handed out, inside our chunk.
        match unsafe { sys::guard_install(addr, page) } {
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
    unsafe { sys::protect_none(addr, page) }.map_err(|e| out_of_stacks(e, "guard"))
}

/// Explains an OS error met while making stacks.
#[cold]
fn out_of_stacks(e: io::Error, what: &str) -> io::Error {
    let hint = if e.raw_os_error() == Some(libc::ENOMEM) && what == "guard" {
        " (vm.max_map_count reached? mprotect guards cost two map entries per stack)"
    } else {
        ""
    };
    let step = if what == "map" {
        "mapping memory for"
    } else {
        "installing the guard page of"
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
