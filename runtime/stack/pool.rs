//! The shared pool: per size class (a [`Shape`]: usable size and guard), the counters of free
//! and promised stacks, the lists of finished (warm and cold) slots, and the chunk being
//! carved into new slots.

use std::io;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Mutex;

use super::counters::{COLD, MAPPED, WARM};
use super::guard::{install_guard, out_of_stacks};
use super::overflow;
use super::size::{Shape, CHUNK_BYTES, DISCARD_BATCH, WARM_STACKS_MAX_SHARED, WARM_STACKS_SHARED};
use crate::sys;

/// Counters of one size class, readable without the pool's lock.
///
/// `free` counts finished or freshly carved slots in the shared lists (not the per-thread
/// caches, whose hits should cost no shared atomic: the count errs low, so a spawn may carve
/// a few slots more than strictly needed, never fewer);
/// `reserved` counts stacks promised to spawned tasks that have not started. Spawning keeps
/// `free >= reserved` by carving ahead (so exhaustion is reported by `spawn`), while a task
/// takes its actual stack only when it first runs (so a warm stack just freed by the
/// previous task is reused).
pub(super) struct ClassCounters {
    usable: AtomicUsize,
    guard: AtomicUsize,
    pub(super) free: AtomicIsize,
    pub(super) reserved: AtomicIsize,
}

const MAX_CLASSES: usize = 64;
static COUNTERS: [ClassCounters; MAX_CLASSES] = [const {
    ClassCounters {
        usable: AtomicUsize::new(0),
        guard: AtomicUsize::new(0),
        free: AtomicIsize::new(0),
        reserved: AtomicIsize::new(0),
    }
}; MAX_CLASSES];
static CLASS_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Shared by every class past the first [`MAX_CLASSES`]: their accounting is merged, which
/// only makes reservations more conservative.
static OVERFLOW_COUNTERS: ClassCounters = ClassCounters {
    usable: AtomicUsize::new(0),
    guard: AtomicUsize::new(0),
    free: AtomicIsize::new(0),
    reserved: AtomicIsize::new(0),
};

impl ClassCounters {
    /// Whether these are the counters of `shape` (entries are written once, before they are
    /// published through `CLASS_COUNT`).
    #[inline]
    fn is(&self, shape: Shape) -> bool {
        self.usable.load(Ordering::Relaxed) == shape.usable()
            && self.guard.load(Ordering::Relaxed) == shape.guard()
    }
}

/// The counters of the class of `shape` stacks, registering the class if new.
#[inline]
pub(super) fn counters(shape: Shape) -> &'static ClassCounters {
    let n = CLASS_COUNT.load(Ordering::Acquire);
    if let Some(c) = COUNTERS[..n].iter().find(|c| c.is(shape)) {
        return c;
    }
    register_class(shape)
}

#[cold]
fn register_class(shape: Shape) -> &'static ClassCounters {
    let _pool = lock_pool();
    let n = CLASS_COUNT.load(Ordering::Acquire);
    if let Some(c) = COUNTERS[..n].iter().find(|c| c.is(shape)) {
        return c;
    }
    if n == MAX_CLASSES {
        return &OVERFLOW_COUNTERS;
    }
    COUNTERS[n].usable.store(shape.usable(), Ordering::Relaxed);
    COUNTERS[n].guard.store(shape.guard(), Ordering::Relaxed);
    CLASS_COUNT.store(n + 1, Ordering::Release);
    &COUNTERS[n]
}

/// The stacks promised to tasks that have not started, over every class.
pub(super) fn reserved() -> usize {
    COUNTERS
        .iter()
        .chain(std::iter::once(&OVERFLOW_COUNTERS))
        .map(|c| c.reserved.load(Ordering::Relaxed).max(0) as usize)
        .sum()
}

/// Carves slots into the shared cold list until the class has as many free as promised.
#[cold]
pub(super) fn top_up(shape: Shape, counters: &ClassCounters) -> io::Result<()> {
    overflow::install_handler();
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, shape);
    while counters.reserved.load(Ordering::Acquire) > counters.free.load(Ordering::Acquire) {
        let slot = carve(class)?;
        class.cold.push(slot);
        COLD.fetch_add(1, Ordering::Relaxed);
        counters.free.fetch_add(1, Ordering::AcqRel);
    }
    Ok(())
}

/// The shared pool: free slots and the chunk being carved, per size class.
struct Pool {
    classes: Vec<Class>,
}

struct Class {
    shape: Shape,
    /// Finished stacks with their pages still resident.
    warm: Vec<usize>,
    /// Finished stacks past the warm list, waiting to have their pages discarded together
    /// (see [`DISCARD_BATCH`]); resident until then, so taken before cold ones.
    dirty: Vec<usize>,
    /// Finished stacks whose pages were discarded.
    cold: Vec<usize>,
    /// Stacks taken from the lists (or carved) and not put back: running, or in a thread's
    /// cache.
    out: usize,
    /// The most `out` has been: how many warm stacks the class keeps (within bounds).
    peak_out: usize,
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

#[inline]
fn class_mut(pool: &mut Pool, shape: Shape) -> &mut Class {
    let idx = match pool.classes.iter().position(|c| c.shape == shape) {
        Some(i) => i,
        None => {
            pool.classes.push(Class {
                shape,
                warm: Vec::new(),
                dirty: Vec::new(),
                cold: Vec::new(),
                out: 0,
                peak_out: 0,
                next: 0,
                end: 0,
            });
            pool.classes.len() - 1
        }
    };
    &mut pool.classes[idx]
}

#[cold]
pub(super) fn shared_take(shape: Shape, counters: &ClassCounters) -> io::Result<usize> {
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, shape);
    class.out += 1;
    class.peak_out = class.peak_out.max(class.out);
    if let Some(slot) = class.warm.pop() {
        WARM.fetch_sub(1, Ordering::Relaxed);
        counters.free.fetch_sub(1, Ordering::AcqRel);
        return Ok(slot);
    }
    if let Some(slot) = class.dirty.pop() {
        WARM.fetch_sub(1, Ordering::Relaxed);
        counters.free.fetch_sub(1, Ordering::AcqRel);
        return Ok(slot);
    }
    if let Some(slot) = class.cold.pop() {
        COLD.fetch_sub(1, Ordering::Relaxed);
        counters.free.fetch_sub(1, Ordering::AcqRel);
        return Ok(slot);
    }
    carve(class).inspect_err(|_| class.out -= 1)
}

pub(super) fn shared_put(shape: Shape, slot: usize) {
    counters(shape).free.fetch_add(1, Ordering::AcqRel);
    let mut pool = lock_pool();
    let class = class_mut(&mut pool, shape);
    class.out = class.out.saturating_sub(1);
    let keep = class
        .peak_out
        .clamp(WARM_STACKS_SHARED, WARM_STACKS_MAX_SHARED);
    if class.warm.len() < keep {
        class.warm.push(slot);
        WARM.fetch_add(1, Ordering::Relaxed);
    } else {
        class.dirty.push(slot);
        WARM.fetch_add(1, Ordering::Relaxed);
        if class.dirty.len() >= DISCARD_BATCH {
            discard_dirty(class);
        }
    }
}

/// Discards the pages of every dirty stack of `class`, one call per run of adjacent slots,
/// and moves them to the cold list.
fn discard_dirty(class: &mut Class) {
    let shape = class.shape;
    let slot_len = shape.slot_len();
    let mut dirty = std::mem::take(&mut class.dirty);
    dirty.sort_unstable();
    for run in dirty.chunk_by(|a, b| b - a == slot_len) {
        let (first, last) = (run[0], run[run.len() - 1]);
        // From the first stack above its guard to the end of the last slot: the guards in
        // between are markers (`MADV_GUARD_INSTALL`), which a discard leaves in place, or
        // `PROT_NONE` pages, whose protection it does not change.
        let start = first + shape.guard();
        let len = last + slot_len - start;
        // SAFETY: the slots are in chunks this pool mapped and never unmaps, adjacent ones
        // leave no hole, and their stacks are finished (dropped PooledStacks): nothing live.
        unsafe { sys::discard(start as *mut u8, len) };
    }
    WARM.fetch_sub(dirty.len() as isize, Ordering::Relaxed);
    COLD.fetch_add(dirty.len(), Ordering::Relaxed);
    class.cold.append(&mut dirty);
    class.dirty = dirty; // keeps its capacity
}

/// Carves the next slot from the class's chunk, mapping a new chunk when it is used up, and
/// installs the slot's guard (its first `shape.guard()` bytes).
fn carve(class: &mut Class) -> io::Result<usize> {
    let shape = class.shape;
    let slot_len = shape.slot_len();
    if class.next + slot_len > class.end || class.end == 0 {
        let slots = (CHUNK_BYTES / slot_len).max(1);
        let len = slots * slot_len;
        let base = sys::map_anonymous(len).map_err(|e| out_of_stacks(e, "map"))? as usize;
        MAPPED.fetch_add(len, Ordering::Relaxed);
        overflow::register_chunk(base, len, slot_len, shape.guard());
        class.next = base;
        class.end = base + len;
    }
    let slot = class.next;
    install_guard(slot as *mut u8, shape.guard())?;
    class.next += slot_len;
    Ok(slot)
}
