//! Putting tasks in line: a spawn queues an unstarted task (stealable), a wake queues a
//! started one back on the worker that owns it (invariant 1). This is the cooperative
//! backend's side of [`Scheduler`], the interface through which the task layer's wakes
//! reach it; and `spawn_blocking`'s hand-off to the blocking pool.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::blocking;
use super::shared::{live_delta, Shared};
use super::worker;
use crate::stack::StackReservation;
use crate::task::{
    CellRef, Header, JoinHandle, Scheduler, Slot, SpawnOptions, TaskCell, TaskRef, TaskSched,
    UNBOUND,
};

// SAFETY: `schedule` touches `self` after handing the task over only on a worker of this
// runtime (whose `Worker::shared` keeps it alive) or after cloning the task's home first
// (`schedule_remote`).
unsafe impl Scheduler for Shared {
    /// Queues a task: a started one on its own worker's local queue if we are that worker,
    /// an unstarted one on this worker's stealable queue if we are a worker of its runtime;
    /// otherwise through [`Shared::schedule_remote`].
    #[inline]
    fn schedule(&self, task: TaskRef) {
        let w = task.header.sched.worker.load(Ordering::Acquire);
        if let Some(worker) = worker::current() {
            if std::ptr::eq(&*worker.shared, self) {
                if w == worker.index {
                    worker.push_local(task);
                    return;
                }
                if w == UNBOUND {
                    worker.push_fresh(task);
                    if self.workers.len() > 1 {
                        self.hint_idle_worker(worker.index);
                    }
                    return;
                }
            }
        }
        self.schedule_remote(task, w);
    }
}

impl Shared {
    /// [`Scheduler::schedule`] from another thread: a started task goes to its worker's inbox
    /// (waking the worker if it sleeps), an unstarted one to the injector.
    #[cold]
    fn schedule_remote(&self, task: TaskRef, w: usize) {
        // `self` may be kept alive by `task` alone, which a worker may run and free as soon
        // as it is queued: hold a reference of our own until we are done.
        let _home = task.header.sched.home().cloned();
        if w == UNBOUND {
            self.injector.push(task);
            self.notify_one_except(usize::MAX);
            return;
        }
        self.workers[w].inbox.push(task);
        self.notify(w);
    }
}

/// Spawns a green thread on `shared`'s runtime, with a stack size already checked.
pub(crate) fn spawn<F, T>(
    shared: Arc<Shared>,
    f: F,
    options: SpawnOptions,
) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let SpawnOptions {
        name,
        daemon,
        stack_size,
    } = options;
    let stack = StackReservation::new(stack_size, shared.guard_size)?;
    shared.live.fetch_add(live_delta(daemon), Ordering::AcqRel);
    // The stall watchdog names tasks by id; only named tasks of a watched runtime pay for it.
    let names_of = (shared.watch_names && name.is_some()).then(|| shared.clone());
    let cell = CellRef::new(|| TaskCell {
        header: Header::new(name, daemon, TaskSched::new(Some(shared), Some(stack))),
        body: Slot::new(f),
    });
    if let (Some(shared), Some(name)) = (names_of, cell.header.name()) {
        shared.names.insert(cell.header.label.id, name);
    }
    let task: TaskRef = cell.clone().into_task();
    let handle = JoinHandle::new(cell.into_output());
    let home = handle
        .header()
        .sched
        .home()
        .expect("a green thread has a runtime");
    // `handle` keeps the cell, and so its runtime, alive across the call.
    home.schedule(task);
    crate::task::sched_point("spawn");
    Ok(handle)
}

/// Runs `f` on the runtime's blocking pool and parks the calling green thread until it
/// returns; a panic in `f` continues in the caller.
#[track_caller]
pub(crate) fn spawn_blocking<F, T>(shared: &Shared, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cell = CellRef::new(|| TaskCell {
        header: Header::new(None, false, TaskSched::new(None, None)),
        body: Slot::new(f),
    });
    let runner: TaskRef = cell.clone().into_task();
    let job: blocking::Job = Box::new(move || {
        // SAFETY: this job is the cell's only runner, and runs it once.
        unsafe { runner.body.run() };
        runner.finish();
    });
    if let Err(job) = shared.blocking.submit(job) {
        // No blocking thread could be started at all: run it here rather than fail.
        job();
    }
    JoinHandle::new(cell.into_output()).join_or_resume_as("spawn_blocking")
}
