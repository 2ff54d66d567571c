//! Tasks as both backends share them: the header, the type-erased body, the result slot, the
//! join protocol, and the [`Waiter`] that wakes a parked green thread or OS thread.
//!
//! # One allocation per task
//!
//! A task is one `Arc<TaskCell<Slot<F, T>>>`. The scheduler sees it as
//! `Arc<TaskCell<dyn Body>>` (run or cancel the closure) and the [`JoinHandle`] as
//! `Arc<TaskCell<dyn Output<T>>>` (take the result); both are unsizing coercions of the same
//! allocation.
//!
//! # Completion and join
//!
//! `done` holds two bits. The task's runner sets `COMPLETE` after writing the result; the
//! joiner stores its waiter, then sets `JOIN_WAITING`. Both use `fetch_or`, so exactly one of
//! them sees the other's bit: if the runner sees `JOIN_WAITING` it wakes the stored waiter;
//! if the joiner sees `COMPLETE` it does not wait.

use std::any::Any;
use std::fmt;
use std::num::NonZeroU64;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use crate::loom::{AtomicU8, UnsafeCell};
use crate::stack::overflow::TaskLabel;

/// A task as the scheduler holds it.
pub(crate) type TaskRef = Arc<TaskCell<dyn Body>>;

/// A task's header followed by its body (closure and result slot).
pub(crate) struct TaskCell<B: ?Sized> {
    pub(crate) header: Header,
    pub(crate) body: B,
}

/// Everything about a task except its closure and result.
pub(crate) struct Header {
    /// Id, name and stack range, readable by the overflow handler.
    pub(crate) label: TaskLabel,
    /// Whether the task is a daemon (does not keep `block_on` waiting).
    pub(crate) daemon: bool,
    /// Completion bits: [`COMPLETE`], [`JOIN_WAITING`].
    done: AtomicU8,
    /// The joiner's waiter. Written by the joiner before it sets `JOIN_WAITING`; read by the
    /// runner only after it saw `JOIN_WAITING` (Acquire on `done`).
    join_waiter: UnsafeCell<Option<Waiter>>,
    /// Backend-specific scheduling state (the cooperative scheduler's lives here).
    pub(crate) sched: crate::coop::TaskSched,
}

// SAFETY:
// - `join_waiter` is touched by the joiner before `JOIN_WAITING` is published and by the
//   runner only after it observed that bit, so the two never overlap (see the module doc);
// - `sched` is not `Sync` by itself: its `Cell`s and `UnsafeCell` (the coroutine, the
//   yielder, the wait site) are touched only by the one thread allowed at the time (the
//   worker holding the task from a queue before it starts, its owning worker after), and
//   the `!Send` coroutine is made, resumed and dropped on that worker (`Worker::finish`, or
//   `Worker`'s drop for tasks still held at exit), never by whoever drops the last `Arc`;
// - `label.stack` is written by the starting worker and read by the overflow handler on that
//   same thread;
// - every other field is immutable after construction or atomic.
unsafe impl Sync for Header {}
// SAFETY: as above: moving the header between threads moves no `!Send` value that another
// thread would then touch (the coroutine is gone before a task can be dropped elsewhere).
unsafe impl Send for Header {}

const COMPLETE: u8 = 1;
const JOIN_WAITING: u8 = 2;

impl Header {
    pub(crate) fn new(name: Option<String>, daemon: bool, sched: crate::coop::TaskSched) -> Header {
        Header {
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
        TaskId(NonZeroU64::new(self.label.id).expect("task ids start at 1"))
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.label.name.as_deref()
    }

    #[inline]
    pub(crate) fn is_complete(&self) -> bool {
        self.done.load(Ordering::Acquire) & COMPLETE != 0
    }

    /// Marks the task complete (its result is written) and wakes its joiner, if waiting.
    pub(crate) fn complete(&self) {
        let prev = self.done.fetch_or(COMPLETE, Ordering::AcqRel);
        if prev & JOIN_WAITING != 0 {
            // SAFETY: the joiner wrote the waiter before setting JOIN_WAITING, which we
            // observed with Acquire; it will not touch the slot again.
            let waiter = self.join_waiter.with_mut(|w| unsafe { (*w).take() });
            if let Some(w) = waiter {
                w.wake();
            }
        }
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
}

/// The id of the next task. Ids start at 1 and are never reused.
fn next_id() -> NonZeroU64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)).expect("task id counter overflowed")
}

/// A task's unique id within the process.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let (a, b) = rt.block_on(|| {
///     let h = spindle::spawn(|| ());
///     (spindle::current().id(), h.id())
/// });
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::preemptive().build().unwrap();
    /// assert!(rt.block_on(|| spindle::current().id().as_u64()) >= 1);
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The payload of a task cancelled at runtime shutdown (a daemon still running when
/// `block_on` ended). `JoinHandle::join` returns it as the `Err`.
///
/// # Examples
///
/// ```
/// let payload: Box<dyn std::any::Any + Send> = Box::new(spindle::Cancelled);
/// assert!(payload.is::<spindle::Cancelled>());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task cancelled at runtime shutdown")
    }
}

/// The scheduler's view of a task body.
pub(crate) trait Body: Send + Sync {
    /// Runs the closure, catching a panic, and stores the outcome.
    ///
    /// # Safety
    /// - called at most once, and never after `cancel`, by the one thread running the task.
    unsafe fn run(&self);

    /// Drops the closure unrun and stores `outcome` as the result's `Err`.
    ///
    /// # Safety
    /// - as for `run`: at most one of `run` / `cancel`, once, by the thread holding the task.
    unsafe fn cancel(&self, outcome: Box<dyn Any + Send>);
}

/// A `JoinHandle`'s view of a task body.
pub(crate) trait Output<T>: Send + Sync {
    /// Takes the stored result.
    ///
    /// # Safety
    /// - only after the header reads complete, and only once.
    unsafe fn take(&self) -> Option<thread::Result<T>>;
}

/// The closure and, once it has run, its result.
pub(crate) struct Slot<F, T> {
    f: UnsafeCell<Option<F>>,
    out: UnsafeCell<Option<thread::Result<T>>>,
}

impl<F, T> Slot<F, T> {
    pub(crate) fn new(f: F) -> Slot<F, T> {
        Slot {
            f: UnsafeCell::new(Some(f)),
            out: UnsafeCell::new(None),
        }
    }
}

// SAFETY:
// - `f` is taken exactly once by the runner (Body's contract) and `F: Send` lets it run on
//   any thread;
// - `out` is written by the runner before `complete()` (Release) and read by the joiner after
//   `is_complete()` (Acquire): never at the same time; `T: Send` lets it cross threads.
unsafe impl<F: Send, T: Send> Sync for Slot<F, T> {}
// SAFETY: as above.
unsafe impl<F: Send, T: Send> Send for Slot<F, T> {}

impl<F, T> Body for Slot<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    unsafe fn run(&self) {
        // SAFETY: Body::run's contract: we are the only thread touching the slot now.
        let f = self.f.with_mut(|f| unsafe { (*f).take() });
        let Some(f) = f else { return };
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        // SAFETY: as above; the joiner reads only after `complete()`.
        self.out.with_mut(|out| unsafe { *out = Some(result) });
    }

    unsafe fn cancel(&self, outcome: Box<dyn Any + Send>) {
        // SAFETY: Body::cancel's contract: we are the only thread touching the slot now.
        let f = self.f.with_mut(|f| unsafe { (*f).take() });
        // A destructor of the closure's captures may panic; the task is still cancelled.
        let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(f)));
        let result = Some(Err(outcome));
        // SAFETY: as above.
        self.out.with_mut(|out| unsafe { *out = result });
    }
}

impl<F, T> Output<T> for Slot<F, T>
where
    F: FnOnce() -> T + Send,
    T: Send,
{
    unsafe fn take(&self) -> Option<thread::Result<T>> {
        // SAFETY: Output::take's contract: the runner is done with the slot.
        self.out.with_mut(|out| unsafe { (*out).take() })
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
            Waiter::Task { task, epoch } => !crate::coop::is_parked_in(task, *epoch),
            Waiter::Thread(_) => false,
        }
    }

    /// Wakes the waiter: reschedules the green thread, or unparks the OS thread.
    pub(crate) fn wake(self) {
        match self {
            Waiter::Task { task, epoch } => crate::coop::wake(task, epoch),
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

/// An owned permission to join a task: [`join`](JoinHandle::join) waits for it and returns
/// its result. Dropping the handle detaches the task.
///
/// `JoinHandle` is `Send` and `Sync`, so any task or thread may join it — a green thread
/// parks, an OS thread blocks.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// let n = rt.block_on(|| spindle::spawn(|| 6 * 7).join().unwrap());
/// assert_eq!(n, 42);
/// ```
pub struct JoinHandle<T> {
    task: Arc<TaskCell<dyn Output<T>>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: Arc<TaskCell<dyn Output<T>>>) -> JoinHandle<T> {
        JoinHandle { task }
    }

    /// Waits for the task to finish and returns its result: `Err` with the panic payload if it
    /// panicked, or with [`Cancelled`] if it was a daemon cancelled at shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| {
    ///     let h = spindle::spawn(|| panic!("boom"));
    ///     assert!(h.join().is_err()); // the runtime goes on
    /// });
    /// ```
    #[track_caller]
    pub fn join(self) -> thread::Result<T> {
        let header = &self.task.header;
        if !header.is_complete() {
            crate::context::wait_for_join(header);
        }
        // SAFETY: the task is complete (Acquire), and `join` consumes the only handle.
        match unsafe { self.task.body.take() } {
            Some(result) => result,
            None => Err(Box::new("spindle: the task's result was already taken")),
        }
    }

    /// Whether the task has finished running (its result is ready).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| {
    ///     let h = spindle::spawn(|| ());
    ///     while !h.is_finished() { spindle::yield_now(); }
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.task.header.is_complete()
    }

    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(spindle::spawn(|| ()).id().as_u64() > 0));
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.header.id()
    }

    /// The task's name, if it was given one.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| {
    ///     let h = spindle::Builder::new().name("w1").spawn(|| ()).unwrap();
    ///     assert_eq!(h.name(), Some("w1"));
    /// });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.task.header.name()
    }
}

/// Held by a backend's `block_on` while its first task runs: should `block_on` unwind
/// before that task has completed (a bug in the runtime, say), the drop waits for it, so a
/// closure that borrows from `block_on`'s caller is never left running on freed borrows.
pub(crate) struct FirstTaskGuard<'h, T>(pub(crate) &'h JoinHandle<T>);

impl<T> Drop for FirstTaskGuard<'_, T> {
    fn drop(&mut self) {
        while !self.0.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.task.header.label.id)
            .field("name", &self.task.header.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// A handle to a running task, from [`current`](crate::current).
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// let name = rt.block_on(|| {
///     spindle::Builder::new().name("worker").spawn(|| spindle::current().name().map(String::from))
///         .unwrap().join().unwrap()
/// });
/// assert_eq!(name.as_deref(), Some("worker"));
/// ```
#[derive(Clone)]
pub struct Task {
    pub(crate) task: TaskRef,
}

impl Task {
    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(spindle::current().id().as_u64() > 0));
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.header.id()
    }

    /// The task's name, if it has one. The first task of `block_on` is named `main`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert_eq!(spindle::current().name(), Some("main")));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.task.header.name()
    }

    /// Whether the task is a daemon.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(!spindle::current().is_daemon()));
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.task.header.daemon
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.task.header.label.id)
            .field("name", &self.name())
            .finish()
    }
}

/// Loom models of the join/complete hand-off with an OS-thread joiner (the green joiner's is
/// in `coop::park`). Run with `RUSTFLAGS="--cfg spindle_loom" cargo test --release --lib loom`.
#[cfg(all(test, spindle_loom))]
mod loom_tests {
    use std::sync::Arc;

    use loom::thread;

    use super::{Header, JoinHandle, Slot, TaskCell, TaskRef};

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(3);
        b.check(f);
    }

    /// A runner writes the result and calls `complete()` while an OS thread joins
    /// (`set_join_waiter` with its handle, then parks until complete): the joiner is never
    /// left parked (loom reports a deadlock if the wake is lost) and reads the result the
    /// runner wrote (loom checks both cells — the result and the joiner's waiter — for
    /// unsynchronised access).
    #[test]
    fn loom_thread_join_sees_the_result() {
        model(|| {
            let cell = Arc::new(TaskCell {
                header: Header::new(None, false, crate::coop::TaskSched::new(None, None)),
                body: Slot::new(|| 42u32),
            });
            let runner = {
                let task: TaskRef = cell.clone();
                thread::spawn(move || {
                    // SAFETY: this thread is the task's only runner.
                    unsafe { task.body.run() };
                    task.header.complete();
                })
            };
            let handle = JoinHandle::new(cell);
            assert_eq!(handle.join().unwrap(), 42);
            runner.join().unwrap();
        });
    }
}
