//! The preemptive backend: every task is an OS thread, and the OS schedules them.
//!
//! Tasks are the task layer's [`TaskCell`] (header, body, result slot), as green threads
//! are, so a [`JoinHandle`] is one type whichever runtime made it; their scheduling state
//! stays empty (the OS schedules them, and they park as OS threads). `block_on` runs its closure on a
//! new thread, waits for every non-daemon thread, and leaves daemon threads detached, as
//! Python does at exit.

use std::cell::RefCell;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use slab::Slab;

use crate::task::{
    CellRef, FirstTaskGuard, Header, JoinHandle, Slot, SpawnOptions, TaskCell, TaskDump, TaskRef,
    TaskSched, TaskSnapshot, TaskState,
};

/// State shared by a preemptive runtime's handle and its threads.
pub(crate) struct Shared {
    /// Non-daemon tasks spawned and not yet finished.
    live_nondaemon: AtomicUsize,
    /// Every live task (for `Runtime::dump`); a spawn costs a thread, so a lock here is
    /// nothing beside it.
    tasks: Mutex<Slab<TaskRef>>,
    quiet_lock: Mutex<()>,
    quiet: Condvar,
    /// Default stack size of a task's thread.
    pub(crate) stack_size: usize,
}

thread_local! {
    /// The runtime and task of the preemptive task running on this thread.
    static CURRENT: RefCell<Option<(Arc<Shared>, TaskRef)>> = const { RefCell::new(None) };
    /// The id of that task (0: none), readable without touching the `RefCell`.
    static CURRENT_ID: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The id of the preemptive task running on this thread, or 0.
#[inline]
pub(crate) fn current_task_id() -> u64 {
    CURRENT_ID.try_with(|c| c.get()).unwrap_or(0)
}

/// The preemptive task running on this thread, if any.
pub(crate) fn current_task() -> Option<TaskRef> {
    CURRENT
        .try_with(|c| c.borrow().as_ref().map(|(_, t)| t.clone()))
        .ok()
        .flatten()
}

/// The runtime of the preemptive task on this thread, and whether that task is a daemon.
pub(crate) fn home() -> Option<(Arc<Shared>, bool)> {
    CURRENT
        .try_with(|c| {
            c.borrow()
                .as_ref()
                .map(|(s, t)| (s.clone(), t.header.daemon))
        })
        .ok()
        .flatten()
}

impl Shared {
    /// Every live task: OS threads, each listed as running (the OS schedules them, and their
    /// waits are the OS's).
    pub(crate) fn dump(&self) -> TaskDump {
        let tasks = self
            .lock_tasks()
            .iter()
            .map(|(_, t)| {
                let name = t.header.name().map(String::from);
                TaskSnapshot::new(
                    t.header.label.id,
                    name,
                    TaskState::Running,
                    None,
                    Duration::ZERO,
                )
            })
            .collect();
        TaskDump::new(tasks, 0, Vec::new())
    }

    fn lock_tasks(&self) -> std::sync::MutexGuard<'_, Slab<TaskRef>> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The preemptive runtime as its `Runtime` handle holds it.
pub(crate) struct Preempt {
    shared: Arc<Shared>,
    serial: Mutex<()>,
}

impl Preempt {
    pub(crate) fn new(stack_size: usize) -> Preempt {
        Preempt {
            shared: Arc::new(Shared {
                live_nondaemon: AtomicUsize::new(0),
                tasks: Mutex::new(Slab::new()),
                quiet_lock: Mutex::new(()),
                quiet: Condvar::new(),
                stack_size,
            }),
            serial: Mutex::new(()),
        }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` on a new thread and waits for it and every non-daemon task.
    #[track_caller]
    pub(crate) fn block_on<F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let options = SpawnOptions::first_task(self.shared.stack_size);
        let handle = JoinHandle::first_task(spawn(&self.shared, f, options));
        let first = FirstTaskGuard(&handle);
        let mut g = self
            .shared
            .quiet_lock
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while self.shared.live_nondaemon.load(Ordering::Acquire) != 0 {
            g = self.shared.quiet.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        drop(g);
        drop(first);
        handle.join_or_resume()
    }
}

/// Spawns a task as a new OS thread.
pub(crate) fn spawn<F, T>(
    shared: &Arc<Shared>,
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
    let mut builder = thread::Builder::new().stack_size(stack_size);
    if let Some(name) = &name {
        builder = builder.name(name.clone());
    }
    let cell = CellRef::new(|| TaskCell {
        header: Header::new(name, daemon, TaskSched::new(None, None)),
        body: Slot::new(f),
    });
    let handle = JoinHandle::new(cell.clone().into_output());
    let task: TaskRef = cell.into_task();
    if !daemon {
        shared.live_nondaemon.fetch_add(1, Ordering::AcqRel);
    }
    let key = shared.lock_tasks().insert(task.clone());
    let thread_shared = shared.clone();
    let spawned = builder.spawn(move || {
        let _ = CURRENT.try_with(|c| *c.borrow_mut() = Some((thread_shared.clone(), task.clone())));
        let _ = CURRENT_ID.try_with(|c| c.set(task.header.label.id));
        // SAFETY: this thread is the task's only runner and runs the body once.
        unsafe { task.body.run() };
        // Still in the task (its name in any panic report): a detached task's result is
        // dropped here.
        task.finish();
        let _ = CURRENT.try_with(|c| c.borrow_mut().take());
        let _ = CURRENT_ID.try_with(|c| c.set(0));
        thread_shared.lock_tasks().remove(key);
        if !task.header.daemon {
            finished(&thread_shared);
        }
    });
    match spawned {
        Ok(_detached) => Ok(handle),
        Err(e) => {
            shared.lock_tasks().remove(key);
            if !daemon {
                finished(shared);
            }
            Err(out_of_threads(e, stack_size))
        }
    }
}

/// The error of a failed thread start, saying that the preemptive backend ran out of OS
/// threads and which limits apply here.
#[cold]
fn out_of_threads(e: io::Error, stack_size: usize) -> io::Error {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|| "?".into())
    };
    let threads_max = read("/proc/sys/kernel/threads-max");
    let pid_max = read("/proc/sys/kernel/pid_max");
    let nproc =
        crate::sys::nproc_limit().map_or_else(|| "unlimited".to_string(), |n| n.to_string());
    io::Error::new(
        e.kind(),
        format!(
            "the preemptive runtime could not start an OS thread for a task ({e}): \
             out of OS threads or of memory for their {} KiB stacks; the limits here are \
             RLIMIT_NPROC {nproc} (ulimit -u), kernel.threads-max {threads_max}, \
             kernel.pid_max {pid_max}, and vm.max_map_count; the cooperative runtime runs \
             many more tasks",
            stack_size / 1024
        ),
    )
}

fn finished(shared: &Shared) {
    if shared.live_nondaemon.fetch_sub(1, Ordering::AcqRel) == 1 {
        let _g = shared.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        shared.quiet.notify_all();
    }
}
