//! A task's body as the scheduler and the joiner see it: the closure, run once (or dropped
//! unrun when the task is cancelled), and the slot its result waits in for the joiner.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::thread;

use crate::loom::UnsafeCell;

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

    /// Drops the stored result (the task is detached: nobody will join it). A panic in its
    /// `Drop` is caught here (the panic hook has reported it).
    ///
    /// # Safety
    /// - only by the runner, after the result is written, when no `JoinHandle` can read it.
    unsafe fn drop_output(&self);
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

    unsafe fn drop_output(&self) {
        // SAFETY: Body::drop_output's contract: nobody else reads the slot any more.
        let out = self.out.with_mut(|out| unsafe { (*out).take() });
        if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(move || drop(out))) {
            // The `Drop` panicked; its own payload's `Drop` might too: leak it rather than
            // unwind out of the task's last frame.
            if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
        }
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
