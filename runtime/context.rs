//! Where the calling code runs — a green thread, a preemptive task, or a plain OS thread —
//! and the operations that follow from it: one call, parking a coroutine or blocking a
//! thread as fits. The layer between the backends and the public API: it names both
//! backends, and neither names it.

use std::io;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::coop;
use crate::preempt;
use crate::task::{self, JoinHandle, SpawnOptions, Task, TaskRef};

/// `spindle::yield_now`. Inlined all the way down to the stack switch: every `ret` left
/// after a switch is a mispredicted return.
#[inline]
pub(crate) fn yield_now() {
    match task::running() {
        // SAFETY: `task` is the task running on this thread.
        Some(task) => unsafe { task::yield_now(task) },
        None => thread::yield_now(),
    }
}

/// `spindle::sleep`.
#[track_caller]
pub(crate) fn sleep(d: Duration) {
    match task::running() {
        Some(task) if d.is_zero() => {
            // SAFETY: `task` is the task running on this thread.
            unsafe { task::yield_now(task) }
        }
        Some(task) => {
            let deadline = crate::clock::deadline_after(d);
            // SAFETY: `task` is the task running on this thread.
            unsafe { coop::sleep_until(task, deadline) }
        }
        None => thread::sleep(d),
    }
}

/// Whether a contended lock is worth spinning for: not from a green thread whose runtime has
/// one worker (the holder could only run once the spinner parks).
pub(crate) fn spinning_helps() -> bool {
    if task::running().is_none() {
        return true;
    }
    coop::current_worker_count() > 1
}

/// The caller as a primitive notes it, from one look at the running task: the id of the
/// task this code runs in (0: none) and its runtime key (`task::runtime_key`).
#[inline]
pub(crate) fn caller() -> (u64, usize) {
    if let Some(ptr) = task::running() {
        // SAFETY: the running task is alive while it runs (its worker holds it).
        let id = unsafe { ptr.as_ref().header.label.id };
        return (id, task::runtime_key_of(ptr));
    }
    (current_task_id_slow(), task::OUTSIDE)
}

#[cold]
fn current_task_id_slow() -> u64 {
    preempt::current_task_id()
}

/// The task this code runs in, if any.
pub(crate) fn current_task() -> Option<Task> {
    if let Some(ptr) = task::running() {
        // SAFETY: the running task is alive while it runs (its worker holds it).
        let task: TaskRef = unsafe { TaskRef::clone_from_ptr(ptr) };
        return Some(Task { task });
    }
    preempt::current_task().map(|task| Task { task })
}

/// The cooperative runtime of the green thread running here, if this is one.
pub(crate) fn green_runtime() -> Option<Arc<coop::Shared>> {
    task::running()?;
    coop::current_shared()
}

/// Which runtime a `spawn` from here goes to.
pub(crate) enum Home {
    Coop(Arc<coop::Shared>),
    Preempt(Arc<preempt::Shared>),
}

impl Home {
    /// Spawns `f` here, with the options `options` makes of the runtime's stack size.
    #[inline]
    pub(crate) fn spawn<F, T>(
        self,
        f: F,
        options: impl FnOnce(usize) -> io::Result<SpawnOptions>,
    ) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match self {
            Home::Coop(shared) => {
                let options = options(shared.stack_size)?;
                coop::spawn(shared, f, options)
            }
            Home::Preempt(shared) => {
                let options = options(shared.stack_size)?;
                preempt::spawn(&shared, f, options)
            }
        }
    }
}

/// The runtime of the calling task and whether that task is a daemon; `None` outside any.
pub(crate) fn home() -> Option<(Home, bool)> {
    if let Some(ptr) = task::running() {
        // SAFETY: the running task is alive while it runs (its worker holds it).
        let header = unsafe { &ptr.as_ref().header };
        let worker = coop::current_shared();
        return worker.map(|s| (Home::Coop(s), header.daemon));
    }
    preempt::home().map(|(shared, daemon)| (Home::Preempt(shared), daemon))
}
