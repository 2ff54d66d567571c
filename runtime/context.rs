//! Where the calling code runs — a green thread, a preemptive task, or a plain OS thread —
//! and the blocking operations that follow from it: one call, parking a coroutine or
//! blocking a thread as fits.

use std::thread;
use std::time::Duration;

use crate::coop;
use crate::preempt;
use crate::task::{Header, Task, TaskRef, Waiter};

/// Waits until the task behind `header` completes: parks the green thread, or blocks the
/// OS thread. Called at most once per task (from `JoinHandle::join`, which consumes it).
#[track_caller]
pub(crate) fn wait_for_join(header: &Header) {
    if let Some(task) = coop::running() {
        // A task of another runtime, or a blocking job, can finish without our help.
        let same_runtime = match (header.sched.home(), coop::current_shared()) {
            (Some(theirs), Some(ours)) => std::sync::Arc::ptr_eq(theirs, &ours),
            _ => false,
        };
        coop::set_wait_site(
            task,
            Some(crate::sync::wait::WaitSite {
                what: "JoinHandle::join",
                location: std::panic::Location::caller(),
                outside: !same_runtime,
                owner: Some(header.label.id),
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
            unsafe { coop::park(task, &mut register) };
        }
        coop::set_wait_site(task, None);
    } else {
        // SAFETY: the only registration for this task: `join` consumed the handle.
        unsafe { header.set_join_waiter(Waiter::Thread(crate::loom::current_thread())) };
        while !header.is_complete() {
            crate::loom::park();
        }
    }
}

/// `spindle::yield_now`. Inlined all the way down to the stack switch: every `ret` left
/// after a switch is a mispredicted return.
#[inline]
pub(crate) fn yield_now() {
    match coop::running() {
        // SAFETY: `task` is the task running on this thread.
        Some(task) => unsafe { coop::yield_now(task) },
        None => thread::yield_now(),
    }
}

/// `spindle::sleep`.
pub(crate) fn sleep(d: Duration) {
    match coop::running() {
        Some(task) if d.is_zero() => {
            // SAFETY: `task` is the task running on this thread.
            unsafe { coop::yield_now(task) }
        }
        Some(task) => {
            let deadline = coop::deadline_after(d);
            // SAFETY: `task` is the task running on this thread.
            unsafe { coop::sleep_until(task, deadline) }
        }
        None => thread::sleep(d),
    }
}

/// Whether a contended lock is worth spinning for: not from a green thread whose runtime has
/// one worker (the holder could only run once the spinner parks).
pub(crate) fn spinning_helps() -> bool {
    if coop::running().is_none() {
        return true;
    }
    coop::current_worker_count() > 1
}

/// The id of the task this code runs in, or 0 outside any task.
#[inline]
pub(crate) fn current_task_id() -> u64 {
    if let Some(ptr) = coop::running() {
        // SAFETY: the running task is alive while it runs (its worker holds it).
        return unsafe { ptr.as_ref().header.label.id };
    }
    current_task_id_slow()
}

#[cold]
fn current_task_id_slow() -> u64 {
    preempt::current_task_id()
}

/// The task this code runs in, if any.
pub(crate) fn current_task() -> Option<Task> {
    if let Some(ptr) = coop::running() {
        let raw = ptr.as_ptr() as *const crate::task::TaskCell<dyn crate::task::Body>;
        // SAFETY: `ptr` points into a live `Arc` allocation (the worker holds the task while
        // it runs); adding a strong count before `from_raw` yields a new owning handle.
        let task: TaskRef = unsafe {
            std::sync::Arc::increment_strong_count(raw);
            std::sync::Arc::from_raw(raw)
        };
        return Some(Task { task });
    }
    preempt::current_task().map(|task| Task { task })
}

/// The cooperative runtime of the green thread running here, if this is one.
pub(crate) fn green_runtime() -> Option<std::sync::Arc<coop::Shared>> {
    coop::running()?;
    coop::current_shared()
}

/// Which runtime a `spawn` from here goes to.
pub(crate) enum Home {
    Coop(std::sync::Arc<coop::Shared>),
    Preempt(std::sync::Arc<preempt::Shared>),
}

/// The runtime of the calling task and whether that task is a daemon; `None` outside any.
pub(crate) fn home() -> Option<(Home, bool)> {
    if let Some(ptr) = coop::running() {
        // SAFETY: the running task is alive while it runs (its worker holds it).
        let header = unsafe { &ptr.as_ref().header };
        let worker = coop::current_shared();
        return worker.map(|s| (Home::Coop(s), header.daemon));
    }
    preempt::home()
}
