//! Where task cells and channels come from: per-thread free lists of recycled blocks, by
//! size class, with a shared depot between them, so that a spawn and the free of a finished
//! task touch neither the C allocator nor another thread's cache lines; and [`Counted`], an
//! `Arc` whose memory comes from here.
//!
//! Why not `malloc`: a task cell is allocated where the task is spawned and freed where its
//! last reference goes (the worker that ran it, or the joiner), often another thread. glibc
//! keeps only 7 freed blocks of a size per thread (its tcache), so with thousands of cells
//! alive a spawn takes its slow path (about 200 instructions), and a free of a block from
//! another thread's arena takes that arena's lock: on 2 workers spawning 10,000 tasks, a
//! third of the time went to that lock's futex.
//!
//! The scheme is Bonwick's magazines, simplified: a thread keeps up to [`LOCAL_MAX`] free
//! blocks per class and allocates from them; a free beyond that moves [`BATCH`] of them to
//! the depot in one lock; an empty list takes a batch back from it. The depot keeps at most
//! [`DEPOT_BYTES`] of blocks per class; blocks beyond that, and all blocks of a class-less
//! layout (larger than 1 KiB or aligned above 16), go to the global allocator. A thread's
//! blocks move to the depot when it exits.

use std::alloc::{self, Layout};
use std::cell::RefCell;
use std::marker::PhantomData;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Size classes are multiples of this many bytes.
const GRAIN: usize = 64;
/// Number of classes: blocks up to `GRAIN * CLASSES` bytes (1 KiB) are recycled.
const CLASSES: usize = 16;
/// Alignment of every recycled block (what `malloc` gives on 64-bit targets).
const ALIGN: usize = 16;
/// Free blocks a thread keeps per class.
const LOCAL_MAX: usize = 128;
/// Blocks moved between a thread and the depot at once.
const BATCH: usize = 64;
/// Memory the depot keeps per class (16,384 blocks of 256 bytes, 4,096 of 1 KiB): a burst of
/// 10,000 tasks spawned from one thread and freed on another comes back whole. With 64
/// batches (1 MiB of 256-byte cells) most of such a burst went through `malloc` and `free`
/// again on every round: 15% of the instructions of tokio's `spawn_many_remote_idle`.
const DEPOT_BYTES: usize = 4 << 20;

/// Batches the depot keeps of `class`.
#[inline]
const fn depot_max(class: usize) -> usize {
    DEPOT_BYTES / (BATCH * GRAIN * (class + 1))
}

/// A free block of a class's size.
struct Block(NonNull<u8>);

// SAFETY: a free block is plain memory that no one references; whoever holds the `Block`
// owns it, on any thread.
unsafe impl Send for Block {}

/// A thread's free blocks.
struct Cache {
    free: [Vec<Block>; CLASSES],
}

impl Drop for Cache {
    fn drop(&mut self) {
        for (class, free) in self.free.iter_mut().enumerate() {
            while !free.is_empty() {
                let at = free.len().saturating_sub(BATCH);
                spill(class, free.split_off(at));
            }
        }
    }
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { free: [const { Vec::new() }; CLASSES] })
    };
}

static DEPOT: [Mutex<Vec<Vec<Block>>>; CLASSES] = [const { Mutex::new(Vec::new()) }; CLASSES];
/// Batches in each class's depot, kept under its lock and read without it, so that a thread
/// whose list is empty does not take the lock of an empty depot on every allocation (a
/// million spawns in a row, with nothing freed yet, would).
static DEPOT_BATCHES: [AtomicUsize; CLASSES] = [const { AtomicUsize::new(0) }; CLASSES];

/// The class of blocks that serves `layout`, if it is recycled.
#[inline]
fn class_of(layout: Layout) -> Option<usize> {
    let size = layout.size();
    (size != 0 && size <= GRAIN * CLASSES && layout.align() <= ALIGN).then(|| (size - 1) / GRAIN)
}

/// The layout every block of `class` is allocated with.
#[inline]
fn class_layout(class: usize) -> Layout {
    // A multiple of 16 up to 1 KiB, aligned to 16: always valid.
    Layout::from_size_align((class + 1) * GRAIN, ALIGN).expect("a valid class layout")
}

/// Allocates memory for `layout`; aborts like `Box` if memory is exhausted.
///
/// # Panics
/// If `layout` is zero-sized (the global allocator's contract forbids those; every caller
/// allocates a value with a reference count in it, so the check folds away).
#[inline]
pub(crate) fn alloc(layout: Layout) -> NonNull<u8> {
    assert!(layout.size() != 0, "recycle::alloc of a zero-sized layout");
    let (layout, class) = match class_of(layout) {
        Some(class) => (class_layout(class), Some(class)),
        None => (layout, None),
    };
    if let Some(class) = class {
        if let Some(block) = take(class) {
            return block.0;
        }
    }
    // SAFETY: `layout` has a non-zero size (asserted above).
    let ptr = unsafe { alloc::alloc(layout) };
    NonNull::new(ptr).unwrap_or_else(|| alloc::handle_alloc_error(layout))
}

/// Gives back memory from [`alloc`].
///
/// # Safety
/// - `ptr` came from `alloc(layout)` with this same `layout`, and nothing uses it any more.
#[inline]
pub(crate) unsafe fn dealloc(ptr: NonNull<u8>, layout: Layout) {
    match class_of(layout) {
        Some(class) => {
            if let Err(Block(ptr)) = keep(class, Block(ptr)) {
                // SAFETY: blocks of `class` are allocated with its layout.
                unsafe { alloc::dealloc(ptr.as_ptr(), class_layout(class)) };
            }
        }
        // SAFETY: class-less blocks come from the global allocator with `layout`.
        None => unsafe { alloc::dealloc(ptr.as_ptr(), layout) },
    }
}

/// A free block of `class` from this thread's list, refilled from the depot if empty.
#[inline]
fn take(class: usize) -> Option<Block> {
    if cfg!(spindle_loom) {
        return None;
    }
    CACHE
        .try_with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            let free = &mut cache.free[class];
            if let Some(block) = free.pop() {
                return Some(block);
            }
            if DEPOT_BATCHES[class].load(Ordering::Relaxed) == 0 {
                return None;
            }
            let mut depot = lock(class);
            let batch = depot.pop()?;
            DEPOT_BATCHES[class].store(depot.len(), Ordering::Relaxed);
            drop(depot);
            *free = batch;
            free.pop()
        })
        .ok()
        .flatten()
}

/// Keeps a freed block of `class` in this thread's list (moving a batch to the depot if the
/// list is full); hands it back if this thread has no list any more (it is exiting).
#[inline]
fn keep(class: usize, block: Block) -> Result<(), Block> {
    if cfg!(spindle_loom) {
        return Err(block);
    }
    let mut block = Some(block);
    let kept = CACHE.try_with(|cache| {
        let Ok(mut cache) = cache.try_borrow_mut() else {
            return false;
        };
        let free = &mut cache.free[class];
        if free.len() >= LOCAL_MAX {
            let at = free.len() - BATCH;
            spill(class, free.split_off(at));
        }
        free.extend(block.take());
        true
    });
    match (kept, block) {
        (Ok(true), _) | (_, None) => Ok(()),
        (_, Some(block)) => Err(block),
    }
}

/// Moves a batch of free blocks to the depot, or to the global allocator if the depot is
/// full.
#[cold]
fn spill(class: usize, batch: Vec<Block>) {
    let mut depot = lock(class);
    if depot.len() < depot_max(class) {
        depot.push(batch);
        DEPOT_BATCHES[class].store(depot.len(), Ordering::Relaxed);
        return;
    }
    drop(depot);
    for Block(ptr) in batch {
        // SAFETY: blocks of `class` are allocated with its layout, and free.
        unsafe { alloc::dealloc(ptr.as_ptr(), class_layout(class)) };
    }
}

fn lock(class: usize) -> std::sync::MutexGuard<'static, Vec<Vec<Block>>> {
    // The depot's invariants hold between statements: a panic cannot poison it midway.
    DEPOT[class].lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts one more reference, as `Arc::clone` does: `Relaxed`, since a new reference is
/// made from an existing one, whose holder already synchronised with whatever made the
/// value. Aborts before the count could wrap (billions of leaked references), where a
/// wrapped count would free a live value.
#[inline]
pub(crate) fn count_ref(refs: &AtomicUsize) {
    if refs.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
        std::process::abort();
    }
}

/// Counts one reference fewer, as `Arc`'s drop does; returns whether it was the last, and
/// then every other reference's uses happen before the caller's (`Release` decrement, then
/// an `Acquire` fence), so it may drop and free the value.
#[inline]
pub(crate) fn uncount_ref(refs: &AtomicUsize) -> bool {
    if refs.fetch_sub(1, Ordering::Release) != 1 {
        return false;
    }
    fence(Ordering::Acquire);
    true
}

/// A counted, shared reference to a `T` in recycled memory: `Arc` without weak references,
/// whose allocation comes from this module's free lists (`Arc` cannot take another
/// allocator on stable Rust). Channels are made and dropped as often as tasks (a ping-pong
/// makes two per round), so their state lives in one.
pub(crate) struct Counted<T> {
    ptr: NonNull<CountedInner<T>>,
    /// Owns a `CountedInner<T>` (for the drop check).
    _owns: PhantomData<CountedInner<T>>,
}

struct CountedInner<T> {
    refs: AtomicUsize,
    value: T,
}

// SAFETY: as `Arc<T>`: the value is shared between the references' threads (`Sync`) and
// dropped by whichever holds the last one (`Send`).
unsafe impl<T: Send + Sync> Send for Counted<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Counted<T> {}

impl<T> Counted<T> {
    /// Makes a value in recycled memory: the one reference to it. `make` runs once the
    /// memory is had, so that the value is built in place rather than copied there.
    #[inline(always)]
    pub(crate) fn new(make: impl FnOnce() -> T) -> Counted<T> {
        let layout = Layout::new::<CountedInner<T>>();
        let ptr = alloc(layout).cast::<CountedInner<T>>();
        // SAFETY: fresh memory of `CountedInner<T>`'s layout (never zero-sized: it has a
        // count).
        unsafe {
            ptr.as_ptr().write(CountedInner {
                refs: AtomicUsize::new(1),
                value: make(),
            })
        };
        Counted {
            ptr,
            _owns: PhantomData,
        }
    }

    #[inline]
    fn inner(&self) -> &CountedInner<T> {
        // SAFETY: this reference keeps the allocation alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> std::ops::Deref for Counted<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        &self.inner().value
    }
}

impl<T> Clone for Counted<T> {
    #[inline]
    fn clone(&self) -> Counted<T> {
        count_ref(&self.inner().refs);
        Counted {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<T> Drop for Counted<T> {
    #[inline]
    fn drop(&mut self) {
        if !uncount_ref(&self.inner().refs) {
            return;
        }
        // (If the value's `Drop` panics, the memory leaks, as with `Arc`.)
        // SAFETY: the last reference: nobody uses the value again.
        unsafe { std::ptr::drop_in_place(self.ptr.as_ptr()) };
        // SAFETY: allocated by `Counted::new` with this layout, and its value is dropped.
        unsafe { dealloc(self.ptr.cast(), Layout::new::<CountedInner<T>>()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_are_reused_and_layouts_outside_the_classes_still_work() {
        let small = Layout::from_size_align(200, 8).unwrap();
        let a = alloc(small);
        // SAFETY: `a` came from `alloc(small)`.
        unsafe { dealloc(a, small) };
        let b = alloc(small);
        assert_eq!(a, b, "a freed block is the next one of its class");
        // SAFETY: as above.
        unsafe { dealloc(b, small) };
        for layout in [
            Layout::from_size_align(4096, 8).unwrap(),
            Layout::from_size_align(64, 64).unwrap(),
            Layout::from_size_align(1, 1).unwrap(),
        ] {
            let p = alloc(layout);
            assert_eq!(p.as_ptr() as usize % layout.align(), 0);
            // SAFETY: `p` is writable for `layout.size()` bytes, then freed with its layout.
            unsafe {
                p.as_ptr().write_bytes(0xA5, layout.size());
                dealloc(p, layout);
            }
        }
    }

    #[test]
    fn a_counted_value_is_dropped_once_with_its_last_reference() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        struct Tracked(Arc<AtomicUsize>);
        impl Drop for Tracked {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let drops = Arc::new(AtomicUsize::new(0));
        let a = Counted::new(|| Tracked(drops.clone()));
        let b = a.clone();
        drop(a);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        std::thread::spawn(move || drop(b)).join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn blocks_freed_on_one_thread_come_back_on_another() {
        // The largest class, which no test's task cell is likely to share.
        let layout = Layout::from_size_align(1000, 16).unwrap();
        let n = LOCAL_MAX + 3 * BATCH;
        let blocks: Vec<usize> = (0..n).map(|_| alloc(layout).as_ptr() as usize).collect();
        let freed = blocks.clone();
        std::thread::spawn(move || {
            for p in freed {
                // SAFETY: each came from `alloc(layout)` and is freed once.
                unsafe { dealloc(NonNull::new(p as *mut u8).unwrap(), layout) };
            }
        })
        .join()
        .unwrap();
        // The other thread spilled batches (and left the rest at its exit) to the depot.
        let again: Vec<NonNull<u8>> = (0..n).map(|_| alloc(layout)).collect();
        let reused = again
            .iter()
            .filter(|p| blocks.contains(&(p.as_ptr() as usize)))
            .count();
        assert!(reused >= BATCH, "only {reused} of {n} blocks came back");
        for p in again {
            // SAFETY: as above.
            unsafe { dealloc(p, layout) };
        }
    }
}
