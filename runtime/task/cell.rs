//! The task cell: one allocation per task, holding its [`Header`] (id, name, completion,
//! joiner, scheduling state) and its body; the scheduling state a backend keeps in the
//! header ([`TaskSched`]); the [`Scheduler`] interface through which a wake reaches the
//! task's backend; and the [`Waiter`] that wakes a parked green thread or OS thread.
//!
//! A task is one `CellRef<Slot<F, T>>` (a counted reference, like `Arc`, to recycled
//! memory; see `cell_ref`). The scheduler sees it as `CellRef<dyn Body>` (run or cancel the
//! closure) and the `JoinHandle` as `CellRef<dyn Output<T>>` (take the result); both are
//! unsizing coercions of the same allocation.
//!
//! These types refer to each other (a header holds its joiner's `Waiter`, a `Waiter` holds
//! its task, the scheduling state holds the coroutine whose park hands over a `Waiter`, a
//! `CellRef` counts in the header), so they share one file; everything else of the task
//! layer builds on them.
//!
//! [`CellRef`] is a counted reference as `Arc` is, but with the count in the cell's header
//! and the memory from the crate's recycler (`crate::recycle`) rather than the global
//! allocator: `Arc` cannot take another allocator on stable Rust.

use std::alloc::Layout;
use std::cell::{Cell, UnsafeCell as StdUnsafeCell};
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::body::{Body, Output};
use super::id::{next_id, TaskId};
use super::park_state::ParkState;
use super::wait_site::{WaitSite, OUTSIDE};
use crate::loom::{AtomicU8, UnsafeCell};
use crate::recycle;
use crate::stack::{PooledStack, StackReservation, TaskLabel};

/// A task as the scheduler holds it.
pub(crate) type TaskRef = CellRef<dyn Body>;

/// A task's header followed by its body (closure and result slot).
pub(crate) struct TaskCell<B: ?Sized> {
    pub(crate) header: Header,
    pub(crate) body: B,
}

/// Everything about a task except its closure and result.
pub(crate) struct Header {
    /// How many [`CellRef`]s point at the cell.
    refs: AtomicUsize,
    /// Id, name and stack range, readable by the overflow handler.
    pub(crate) label: TaskLabel,
    /// Whether the task is a daemon (does not keep `block_on` waiting).
    pub(crate) daemon: bool,
    /// Completion bits: [`COMPLETE`], [`JOIN_WAITING`], [`DETACHED`].
    done: AtomicU8,
    /// The joiner's waiter. Written by the joiner before it sets `JOIN_WAITING`; read by the
    /// runner only after it saw `JOIN_WAITING` (Acquire on `done`).
    join_waiter: UnsafeCell<Option<Waiter>>,
    /// Backend-specific scheduling state (the cooperative scheduler's lives here).
    pub(crate) sched: TaskSched,
}

// SAFETY:
// - `join_waiter` is touched by the joiner before `JOIN_WAITING` is published and by the
//   runner only after it observed that bit, so the two never overlap (see the module doc);
// - `sched` is not `Sync` by itself: its `Cell`s and `UnsafeCell` (the coroutine, the
//   yielder, the wait site) are touched only by the one thread allowed at the time (the
//   worker holding the task from a queue before it starts, its owning worker after), and
//   the `!Send` coroutine is made, resumed and dropped on that worker (`Worker::finish`, or
//   `Worker`'s drop for tasks still held at exit), never by whoever drops the last `CellRef`;
// - `label.stack` is written by the starting worker and read by the overflow handler on that
//   same thread;
// - every other field is immutable after construction or atomic.
unsafe impl Sync for Header {}
// SAFETY: as above: moving the header between threads moves no `!Send` value that another
// thread would then touch (the coroutine is gone before a task can be dropped elsewhere).
unsafe impl Send for Header {}

const COMPLETE: u8 = 1;
const JOIN_WAITING: u8 = 2;
/// The `JoinHandle` was dropped: nobody will take the result. Whichever of the runner
/// (setting `COMPLETE`) and the handle's drop (setting `DETACHED`) comes second drops it:
/// the runner in the task's own context, the handle wherever it is dropped.
const DETACHED: u8 = 4;
/// The task was cancelled before it started and is dropping its closure: blocking calls in
/// that `Drop` return early instead of raising the cancellation again (as they do during an
/// unwind).
const CANCEL_DELIVERED: u8 = 8;

impl Header {
    #[inline]
    pub(crate) fn new(name: Option<String>, daemon: bool, sched: TaskSched) -> Header {
        Header {
            refs: AtomicUsize::new(1),
            label: TaskLabel {
                id: next_id().get(),
                name: name.map(String::into_boxed_str),
                stack: std::cell::Cell::new((0, 0)),
            },
            daemon,
            done: AtomicU8::new(0),
            join_waiter: UnsafeCell::new(None),
            sched,
        }
    }

    pub(crate) fn id(&self) -> TaskId {
        TaskId::new(self.label.id)
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.label.name.as_deref()
    }

    #[inline]
    pub(crate) fn is_complete(&self) -> bool {
        self.done.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// Marks the task complete (its result is written) and wakes its joiner, if waiting.
    /// Returns whether the `JoinHandle` was dropped before: then the caller owns the result
    /// and drops it (see [`TaskCell::finish`]).
    pub(crate) fn complete(&self) -> bool {
        let prev = self.done.fetch_or(COMPLETE, Ordering::AcqRel);
        if prev & JOIN_WAITING != 0 {
            // SAFETY: the joiner wrote the waiter before setting JOIN_WAITING, which we
            // observed with Acquire; it will not touch the slot again.
            let waiter = self.join_waiter.with_mut(|w| unsafe { (*w).take() });
            if let Some(w) = waiter {
                w.wake();
            }
        }
        prev & DETACHED != 0
    }

    /// Registers the (only) joiner. If the task completed meanwhile, wakes `waiter` at once.
    ///
    /// # Safety
    /// - at most one call per task (the `JoinHandle` is consumed by `join`).
    pub(crate) unsafe fn set_join_waiter(&self, waiter: Waiter) {
        // SAFETY: no runner reads the slot before JOIN_WAITING is set below.
        self.join_waiter.with_mut(|w| unsafe { *w = Some(waiter) });
        let prev = self.done.fetch_or(JOIN_WAITING, Ordering::AcqRel);
        if prev & COMPLETE != 0 {
            // The runner finished before it could see us; it never reads the slot.
            // SAFETY: as above, the slot is ours alone.
            if let Some(w) = self.join_waiter.with_mut(|w| unsafe { (*w).take() }) {
                w.wake();
            }
        }
    }

    /// Marks a task whose cancellation has been delivered (see [`CANCEL_DELIVERED`]).
    pub(crate) fn deliver_cancel(&self) {
        self.done.fetch_or(CANCEL_DELIVERED, Ordering::Relaxed);
    }

    /// Whether [`Header::deliver_cancel`] was called.
    pub(crate) fn cancel_delivered(&self) -> bool {
        self.done.load(Ordering::Relaxed) & CANCEL_DELIVERED != 0
    }

    /// Records that the `JoinHandle` is gone. Returns whether the task had completed: then
    /// the caller owns the result and drops it; else the runner will (see [`Header::complete`]).
    pub(crate) fn detach(&self) -> bool {
        self.done.fetch_or(DETACHED, Ordering::AcqRel) & COMPLETE != 0
    }
}

impl TaskCell<dyn Body> {
    /// Ends a task whose body has run (or been cancelled): marks it complete, waking its
    /// joiner, and if its `JoinHandle` is already gone drops its result here — in the task's
    /// own context, so that a `Drop` of the result (or of a panic payload) may yield, block or
    /// spawn, and a panic in it is caught and reported like the task's own.
    pub(crate) fn finish(&self) {
        if self.header.complete() {
            // SAFETY: the handle is gone (DETACHED was set before COMPLETE), so nobody else
            // reads the result; we are its runner, done writing it.
            unsafe { self.body.drop_output() };
        }
    }
}

/// The coroutine that runs a green thread.
pub(crate) type TaskCoroutine = corosensei::Coroutine<Resume, Suspend, (), PooledStack>;

/// What a worker passes into a task's coroutine when it resumes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Carry on.
    Go,
    /// The runtime is shutting down and this task is a daemon: unwind.
    Cancel,
}

/// Why a task's coroutine handed control back to its worker.
pub(crate) enum Suspend {
    /// `yield_now`: put me at the back of the run queue.
    Yield,
    /// Park me, then call this to publish my waiter (the cooperative backend's invariant 2:
    /// a waiter is published only after its coroutine has switched out). The closure lives on
    /// the suspended task's stack, which stays intact until the task is resumed.
    Park(*mut (dyn FnMut(Waiter) + 'static)),
}

/// What a backend offers the task layer: putting a woken task back in line. A green
/// thread's header holds its runtime as a `dyn Scheduler`, so waking one never names the
/// backend; preemptive tasks are OS threads, woken through [`Waiter::Thread`], and have none.
///
/// # Safety
///
/// `schedule` may be called on a `self` that only `task` keeps alive (the runtime a task's
/// header holds): once it has handed `task` over to a queue, where another thread may run
/// and free it, an implementation must not touch `self` again unless it holds a reference
/// of its own (a worker of that runtime does; a clone of the task's `home` does).
pub(crate) unsafe trait Scheduler: Send + Sync {
    /// Queues `task`, which a wake has just moved from parked to scheduled (or which was
    /// just spawned and has not started), to run on its worker.
    fn schedule(&self, task: TaskRef);
}

/// A wake that arrives for park `epoch`: reschedules the task through its runtime if it is
/// still parked there (else the wake is stale and does nothing).
#[inline]
fn wake_task(task: TaskRef, epoch: u64) {
    if !task.header.sched.state.wake(epoch) {
        return;
    }
    let Some(home) = task.header.sched.home.as_ref() else {
        return;
    };
    let home: *const dyn Scheduler = Arc::as_ptr(home);
    // SAFETY: `task` keeps its home alive until `schedule` hands it over, and `Scheduler`'s
    // contract keeps the implementation from touching `home` after that.
    unsafe { (*home).schedule(task) };
}

/// `worker` value of a task that has not started.
pub(crate) const UNBOUND: usize = usize::MAX;

/// The cooperative scheduler's part of a task header (left empty by preemptive tasks and
/// blocking jobs).
pub(crate) struct TaskSched {
    /// `epoch << 2 | state` (see [`ParkState`]). The owning worker moves the task between
    /// states; wakers only move it from (epoch, PARKED) to (epoch, SCHEDULED), by
    /// compare-and-swap.
    pub(crate) state: ParkState,
    /// The worker that started the task, or [`UNBOUND`]. Written once, by that worker, before
    /// any waiter of the task is published (so any waker reads the final value).
    pub(crate) worker: AtomicUsize,
    /// The runtime the task belongs to (`None` for preemptive tasks and blocking jobs).
    home: Option<Arc<dyn Scheduler>>,
    /// `home`'s runtime key (see `wait_site::OUTSIDE`): its address, or `OUTSIDE` without
    /// one. Kept apart so that a primitive reads it in one load.
    pub(crate) home_key: usize,
    /// Worker-only data; see [`Local`].
    local: StdUnsafeCell<Local>,
    /// The coroutine's yielder, recorded when it starts; read by the task itself (on its
    /// worker's thread) to suspend. Kept apart from `local`, which the worker borrows
    /// mutably across a resume.
    pub(crate) yielder: Cell<*const corosensei::Yielder<Resume, Suspend>>,
    /// What the task is blocked on, for the deadlock report; set and read on the task's
    /// worker thread only.
    pub(crate) wait_site: Cell<Option<WaitSite>>,
}

/// Data only one thread touches at a time: before the task starts, whichever worker popped it
/// from a queue (queues hand over ownership); after, only its owning worker.
pub(crate) struct Local {
    /// The stack promised at spawn; taken when the task first runs, on that worker.
    pub(crate) stack: Option<StackReservation>,
    /// The task's coroutine, once started; dropped (stack back to the pool) when it ends.
    pub(crate) co: Option<TaskCoroutine>,
    /// The task's key in its worker's table of started tasks.
    pub(crate) key: usize,
}

impl TaskSched {
    #[inline]
    pub(crate) fn new(
        home: Option<Arc<dyn Scheduler>>,
        stack: Option<StackReservation>,
    ) -> TaskSched {
        let home_key = home
            .as_ref()
            .map_or(OUTSIDE, |h| Arc::as_ptr(h) as *const () as usize);
        TaskSched {
            state: ParkState::new(),
            worker: AtomicUsize::new(UNBOUND),
            home,
            home_key,
            local: StdUnsafeCell::new(Local {
                stack,
                co: None,
                key: usize::MAX,
            }),
            yielder: Cell::new(std::ptr::null()),
            wait_site: Cell::new(None),
        }
    }

    /// The runtime of a green thread (`None` for preemptive tasks and blocking jobs).
    #[inline]
    pub(crate) fn home(&self) -> Option<&Arc<dyn Scheduler>> {
        self.home.as_ref()
    }

    /// Whether both tasks are green threads of the same runtime.
    pub(crate) fn same_home(&self, other: &TaskSched) -> bool {
        match (&self.home, &other.home) {
            (Some(a), Some(b)) => std::ptr::addr_eq(Arc::as_ptr(a), Arc::as_ptr(b)),
            _ => false,
        }
    }

    /// # Safety
    /// - the caller is the thread that may touch `local` now (see [`Local`]), and holds no
    ///   other reference from this function.
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub(crate) unsafe fn local(&self) -> &mut Local {
        // SAFETY: exclusive access is the caller's obligation.
        unsafe { &mut *self.local.get() }
    }
}

/// Someone parked, to be woken: a green thread (at a given park epoch) or an OS thread.
#[derive(Clone)]
pub(crate) enum Waiter {
    /// A green thread; the wake counts only if it is still in park number `epoch`.
    Task {
        /// The parked task.
        task: TaskRef,
        /// The park it is waiting in.
        epoch: u64,
    },
    /// An OS thread blocked in `thread::park`.
    Thread(crate::loom::Thread),
}

impl Waiter {
    /// Whether waking would do nothing: a green thread no longer parked in this epoch.
    pub(crate) fn is_stale(&self) -> bool {
        match self {
            Waiter::Task { task, epoch } => !task.header.sched.state.is_parked_in(*epoch),
            Waiter::Thread(_) => false,
        }
    }

    /// Wakes the waiter: reschedules the green thread, or unparks the OS thread.
    pub(crate) fn wake(self) {
        match self {
            Waiter::Task { task, epoch } => wake_task(task, epoch),
            Waiter::Thread(t) => t.unpark(),
        }
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Waiter::Task { task, epoch } => f
                .debug_struct("Task")
                .field("id", &task.header.label.id)
                .field("epoch", epoch)
                .finish(),
            Waiter::Thread(_) => f.write_str("Thread"),
        }
    }
}

/// An owning, counted reference to a task cell.
pub(crate) struct CellRef<B: ?Sized> {
    ptr: NonNull<TaskCell<B>>,
    /// Owns a `TaskCell<B>` (for the drop check).
    _owns: PhantomData<TaskCell<B>>,
}

// SAFETY: like `Arc<TaskCell<B>>`: the cell is shared between the references' threads, so it
// must be `Sync`, and the last one drops it wherever it is, so it must be `Send`.
unsafe impl<B: ?Sized> Send for CellRef<B> where TaskCell<B>: Send + Sync {}
// SAFETY: as above.
unsafe impl<B: ?Sized> Sync for CellRef<B> where TaskCell<B>: Send + Sync {}

impl<B> CellRef<B> {
    /// Makes a cell in recycled memory: the one reference to it. `make` runs once the memory
    /// is had, so that the cell is built in place rather than copied there (a few hundred
    /// bytes, four `memcpy`s per spawn when it was passed by value).
    #[inline(always)]
    pub(crate) fn new(make: impl FnOnce() -> TaskCell<B>) -> CellRef<B> {
        let ptr = recycle::alloc(Layout::new::<TaskCell<B>>()).cast::<TaskCell<B>>();
        // SAFETY: `ptr` is fresh memory of `TaskCell<B>`'s layout (a cell is never
        // zero-sized: it has a header).
        unsafe { ptr.as_ptr().write(make()) };
        debug_assert_eq!(
            // SAFETY: written just above.
            unsafe { ptr.as_ref() }.header.refs.load(Ordering::Relaxed),
            1
        );
        CellRef {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<B: Body + 'static> CellRef<B> {
    /// The scheduler's view of the cell.
    #[inline]
    pub(crate) fn into_task(self) -> CellRef<dyn Body> {
        let ptr: NonNull<TaskCell<dyn Body>> = self.ptr;
        std::mem::forget(self);
        CellRef {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<B> CellRef<B> {
    /// The `JoinHandle`'s view of the cell.
    #[inline]
    pub(crate) fn into_output<T>(self) -> CellRef<dyn Output<T>>
    where
        B: Output<T> + 'static,
    {
        let ptr: NonNull<TaskCell<dyn Output<T>>> = self.ptr;
        std::mem::forget(self);
        CellRef {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<B: ?Sized> CellRef<B> {
    /// A new reference to the cell at `ptr`.
    ///
    /// # Safety
    /// - `ptr` is the address of a cell that a `CellRef` keeps alive across this call.
    #[inline]
    pub(crate) unsafe fn clone_from_ptr(ptr: NonNull<TaskCell<B>>) -> CellRef<B> {
        // SAFETY: the caller keeps the cell alive.
        let refs = unsafe { &ptr.as_ref().header.refs };
        recycle::count_ref(refs);
        CellRef {
            ptr,
            _owns: PhantomData,
        }
    }
}

impl<B: ?Sized> Deref for CellRef<B> {
    type Target = TaskCell<B>;

    #[inline]
    fn deref(&self) -> &TaskCell<B> {
        // SAFETY: this reference keeps the cell alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl<B: ?Sized> Clone for CellRef<B> {
    #[inline]
    fn clone(&self) -> CellRef<B> {
        recycle::count_ref(&self.header.refs);
        CellRef {
            ptr: self.ptr,
            _owns: PhantomData,
        }
    }
}

impl<B: ?Sized> Drop for CellRef<B> {
    #[inline]
    fn drop(&mut self) {
        if !recycle::uncount_ref(&self.header.refs) {
            return;
        }
        // SAFETY: this was the last reference.
        unsafe { drop_cell(self.ptr) };
    }
}

/// Drops the cell and gives its memory back, even if a `Drop` in it panics.
///
/// # Safety
/// - no reference to the cell is left.
#[inline(never)]
unsafe fn drop_cell<B: ?Sized>(ptr: NonNull<TaskCell<B>>) {
    struct Free(NonNull<u8>, Layout);
    impl Drop for Free {
        fn drop(&mut self) {
            // SAFETY: the memory came from `recycle::alloc` with this layout (`CellRef::new`,
            // the layout of the same value, read through the unsized pointer) and its cell is
            // dropped.
            unsafe { recycle::dealloc(self.0, self.1) };
        }
    }
    // SAFETY: the cell is alive until the `drop_in_place` below.
    let layout = Layout::for_value(unsafe { ptr.as_ref() });
    let _free = Free(ptr.cast(), layout);
    // SAFETY: the last reference: nobody reads the cell again.
    unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use super::{CellRef, Header, TaskCell, TaskSched};
    use crate::task::body::Slot;

    /// Counts drops of the closure a test cell holds.
    struct Tracked(Arc<AtomicUsize>);
    impl Drop for Tracked {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_cell_is_dropped_once_with_its_last_reference_of_any_view() {
        let drops = Arc::new(AtomicUsize::new(0));
        let tracked = Tracked(drops.clone());
        let cell = CellRef::new(|| TaskCell {
            header: Header::new(None, false, TaskSched::new(None, None)),
            body: Slot::new(move || {
                let _keep = &tracked;
                7u8
            }),
        });
        let task = cell.clone().into_task();
        let output = cell.into_output::<u8>();
        let again = task.clone();
        drop(task);
        drop(output);
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        let moved = std::thread::spawn(move || drop(again));
        moved.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}
