//! The join protocol: [`JoinHandle`], and the wait for a task's completion that parks a
//! green thread or blocks an OS thread.
//!
//! `done` in the task's header holds two bits. The task's runner sets `COMPLETE` after
//! writing the result; the joiner stores its waiter, then sets `JOIN_WAITING`. Both use
//! `fetch_or`, so exactly one of them sees the other's bit: if the runner sees
//! `JOIN_WAITING` it wakes the stored waiter; if the joiner sees `COMPLETE` it does not wait
//! (`Header::complete` and `Header::set_join_waiter`).

use std::fmt;
use std::thread;

use super::body::Output;
use super::cell::{CellRef, Header, TaskCell, Waiter};
use super::current;
use super::id::TaskId;
use super::wait_site::WaitSite;

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
    /// `None` only once `join` has taken it (then `Drop` has nothing to do).
    task: Option<CellRef<dyn Output<T>>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: CellRef<dyn Output<T>>) -> JoinHandle<T> {
        JoinHandle { task: Some(task) }
    }

    #[inline]
    fn cell(&self) -> &TaskCell<dyn Output<T>> {
        self.task
            .as_ref()
            .expect("a JoinHandle holds its task until join")
    }

    /// Joins the task and returns its value, or continues its panic in the caller (the
    /// first task of `block_on`, a `spawn_blocking` job).
    #[track_caller]
    pub(crate) fn join_or_resume(self) -> T {
        self.join_or_resume_as("JoinHandle::join")
    }

    /// [`join_or_resume`](Self::join_or_resume), naming the wait `what` in dumps and reports.
    #[track_caller]
    pub(crate) fn join_or_resume_as(mut self, what: &'static str) -> T {
        match self.join_as(what) {
            Ok(v) => v,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// The task's header.
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        &self.cell().header
    }

    /// Waits for the task to finish and returns its result: `Err` with the panic payload if it
    /// panicked, or with [`Cancelled`](crate::Cancelled) if it was a daemon cancelled at shutdown.
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
    #[inline]
    pub fn join(mut self) -> thread::Result<T> {
        self.join_as("JoinHandle::join")
    }

    #[track_caller]
    #[inline]
    fn join_as(&mut self, what: &'static str) -> thread::Result<T> {
        super::current::sched_point(what);
        let task = self
            .task
            .take()
            .expect("a JoinHandle holds its task until join");
        if !task.header.is_complete() {
            wait_for_join(&task.header, what);
        }
        // SAFETY: the task is complete (Acquire), and `join` consumes the only handle.
        match unsafe { task.body.take() } {
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
        self.cell().header.is_complete()
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
        self.cell().header.id()
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
        self.cell().header.name()
    }
}

/// Held by a backend's `block_on` while its first task runs: should `block_on` unwind
/// before that task has completed (a bug in the runtime, say), the drop waits for it, so a
/// closure that borrows from `block_on`'s caller is never left running on freed borrows.
pub(crate) struct FirstTaskGuard<'h, T>(pub(crate) &'h JoinHandle<T>);

impl<T> JoinHandle<T> {
    /// The first task of a `block_on`, just spawned; a backend that could not start it
    /// panics, since `block_on` has no error to return.
    pub(crate) fn first_task(spawned: std::io::Result<JoinHandle<T>>) -> JoinHandle<T> {
        match spawned {
            Ok(h) => h,
            Err(e) => panic!("spindle: block_on cannot start its first task: {e}"),
        }
    }
}

impl<T> Drop for FirstTaskGuard<'_, T> {
    fn drop(&mut self) {
        while !self.0.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

/// Dropping the handle detaches the task. If it has finished, its result is dropped here;
/// else the task drops it itself when it ends, in its own context.
impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            if task.header.detach() {
                // SAFETY: the task is complete and this was its only handle.
                drop(unsafe { task.body.take() });
            }
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.cell().header.label.id)
            .field("name", &self.cell().header.name())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Waits until the task behind `header` completes: parks the green thread, or blocks the
/// OS thread. Called at most once per task (from `JoinHandle::join`, which consumes it).
#[track_caller]
fn wait_for_join(header: &Header, what: &'static str) {
    if let Some(task) = current::running() {
        // A task of another runtime, or a blocking job, can finish without our help.
        // SAFETY: the running task is alive while it runs (its worker holds it).
        let ours = unsafe { &task.as_ref().header };
        let same_runtime = header.sched.same_home(&ours.sched);
        current::set_wait_site(
            task,
            Some(WaitSite {
                what,
                location: std::panic::Location::caller(),
                outside: !same_runtime,
                origin: None,
                owner: Some(header.label.id),
                since_ms: 0,
            }),
        );
        let mut registered = false;
        while !header.is_complete() {
            let mut register = |w: Waiter| {
                if !registered {
                    registered = true;
                    // SAFETY: `registered` makes this the task's only join registration.
                    unsafe { header.set_join_waiter(w) };
                }
            };
            // SAFETY: `task` is the task running on this thread.
            unsafe { current::park(task, &mut register) };
        }
        current::set_wait_site(task, None);
    } else {
        // SAFETY: the only registration for this task: `join` consumed the handle.
        unsafe { header.set_join_waiter(Waiter::Thread(crate::loom::current_thread())) };
        while !header.is_complete() {
            crate::loom::park();
        }
    }
}

/// Loom models of the join/complete hand-off with an OS-thread joiner (the green joiner's is
/// in `task::park_state`). Run with `RUSTFLAGS="--cfg spindle_loom" cargo test --release --lib loom`.
#[cfg(all(test, spindle_loom))]
mod loom_tests {
    use loom::thread;

    use super::JoinHandle;
    use crate::task::body::Slot;
    use crate::task::cell::{CellRef, Header, TaskCell, TaskRef, TaskSched};

    use crate::loom::model;

    /// A runner writes the result and calls `complete()` while an OS thread joins
    /// (`set_join_waiter` with its handle, then parks until complete): the joiner is never
    /// left parked (loom reports a deadlock if the wake is lost) and reads the result the
    /// runner wrote (loom checks both cells — the result and the joiner's waiter — for
    /// unsynchronised access).
    #[test]
    fn loom_thread_join_sees_the_result() {
        model(|| {
            let cell = CellRef::new(|| TaskCell {
                header: Header::new(None, false, TaskSched::new(None, None)),
                body: Slot::new(|| 42u32),
            });
            let runner = {
                let task: TaskRef = cell.clone().into_task();
                thread::spawn(move || {
                    // SAFETY: this thread is the task's only runner.
                    unsafe { task.body.run() };
                    task.header.complete();
                })
            };
            let handle = JoinHandle::new(cell.into_output());
            assert_eq!(handle.join().unwrap(), 42);
            runner.join().unwrap();
        });
    }
}
