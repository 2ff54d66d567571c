//! The green thread running on this OS thread, and what it can do to itself: suspend to its
//! worker (yield, park), record what it waits on. Its worker sets [`RUNNING_TASK`] around
//! each resume; everything else here only reads it, so code that parks never names the
//! scheduler that resumes it.

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::thread;

use super::body::Body;
use super::cancelled::Cancelled;
use super::cell::{Resume, Suspend, TaskCell, TaskRef, Waiter};
use super::wait_site::{WaitSite, OUTSIDE};

thread_local! {
    /// The task whose coroutine is running on this thread (set by its worker around each
    /// resume).
    static RUNNING_TASK: Cell<Option<NonNull<TaskCell<dyn Body>>>> = const { Cell::new(None) };
    /// The worker's coarse clock (`clock::coarse_millis`), refreshed between tasks; stamps waits.
    static COARSE_MS: Cell<u32> = const { Cell::new(0) };
    /// Set by a deterministic runtime on the thread it runs on: at each [`sched_point`] it
    /// says whether the running task gives way there.
    static SCHED_HOOK: Cell<Option<SchedHook>> = const { Cell::new(None) };
}

/// A deterministic scheduler's say at a scheduling point named by its `&'static str` (the
/// operation about to run, e.g. `Mutex::lock`): whether the running task yields there.
pub(crate) type SchedHook = fn(&'static str) -> bool;

/// Installs (or, with `None`, removes) this thread's [`SchedHook`].
pub(crate) fn set_sched_hook(hook: Option<SchedHook>) {
    SCHED_HOOK.with(|h| h.set(hook));
}

/// A point where a preemptive thread could lose the processor: every operation on a
/// primitive (a lock, a send, a notify, a spawn) calls it first. It does nothing except
/// under a deterministic runtime, whose scheduler may switch to another task here — that is
/// how a seeded schedule interleaves code that never yields by itself.
#[inline]
pub(crate) fn sched_point(what: &'static str) {
    if let Some(hook) = SCHED_HOOK.with(Cell::get) {
        sched_point_slow(hook, what);
    }
}

#[cold]
#[inline(never)]
fn sched_point_slow(hook: SchedHook, what: &'static str) {
    if let Some(task) = running() {
        if !thread::panicking() && hook(what) {
            // SAFETY: `task` is the task running on this thread.
            unsafe { yield_now(task) };
        }
    }
}

/// Refreshes this worker thread's coarse clock (see [`set_wait_site`]).
#[inline]
pub(crate) fn set_coarse_millis(ms: u32) {
    COARSE_MS.with(|c| c.set(ms));
}

/// The task running on this thread, if this thread is a worker running one.
#[inline]
pub(crate) fn running() -> Option<NonNull<TaskCell<dyn Body>>> {
    RUNNING_TASK.with(|r| r.get())
}

/// Records the task a worker is about to resume on this thread (`None` once it is back).
#[inline]
pub(crate) fn set_running(task: Option<NonNull<TaskCell<dyn Body>>>) {
    RUNNING_TASK.with(|r| r.set(task));
}

/// Whether the caller runs in a green thread (never, under loom).
#[inline]
pub(crate) fn in_green_thread() -> bool {
    #[cfg(spindle_loom)]
    return false;
    #[cfg(not(spindle_loom))]
    return running().is_some();
}

/// The runtime key of the caller: the address of the running green thread's runtime, or
/// [`OUTSIDE`] off a green thread (always, under loom).
#[inline]
pub(crate) fn runtime_key() -> usize {
    #[cfg(spindle_loom)]
    return OUTSIDE;
    #[cfg(not(spindle_loom))]
    return match running() {
        Some(task) => runtime_key_of(task),
        None => OUTSIDE,
    };
}

/// Whether `task` is a started green thread bound to the worker running on this thread's
/// task: it cannot run before the running task parks or yields.
#[inline]
pub(crate) fn shares_worker_with_running(task: &TaskRef) -> bool {
    let Some(me) = running() else {
        return false;
    };
    // SAFETY: the running task is alive while it runs (its worker holds it).
    let me = unsafe { &me.as_ref().header.sched };
    let other = &task.header.sched;
    // A task's worker is written once, when it starts, before it can park.
    me.home_key == other.home_key
        && other.worker.load(Ordering::Relaxed) == me.worker.load(Ordering::Relaxed)
}

/// The runtime key of `task`, a green thread running on this thread (from [`running`]): the
/// address of its runtime.
#[cfg_attr(spindle_loom, allow(dead_code))]
#[inline]
pub(crate) fn runtime_key_of(task: NonNull<TaskCell<dyn Body>>) -> usize {
    // SAFETY: the running task is alive while it runs (its worker holds it).
    unsafe { task.as_ref().header.sched.home_key }
}

/// Suspends the running task with `why` and returns how it was resumed; unwinds with
/// [`Cancelled`] if the runtime is cancelling it.
///
/// # Safety
/// - `task` is the task running on this thread (from [`running`]).
#[inline]
unsafe fn suspend(task: NonNull<TaskCell<dyn Body>>, why: Suspend) {
    // SAFETY: the running task is kept alive by its worker while it runs; its yielder was
    // recorded when its coroutine started and lives on that coroutine's stack, which is the
    // stack (or an ancestor of the stack) we are running on.
    let yielder = unsafe { &*task.as_ref().header.sched.yielder.get() };
    if yielder.suspend(why) == Resume::Cancel {
        cancelled();
    }
}

/// Unwinds a task the runtime is cancelling (unless it is already unwinding, when a second
/// panic would abort: then the blocking call just returns early).
#[cold]
#[inline(never)]
fn cancelled() {
    // A task whose cancellation was already delivered (it is dropping its closure, see
    // `Header::deliver_cancel`) is not told again.
    // SAFETY: the running task is alive while it runs (its worker holds it).
    let delivered = running().is_some_and(|t| unsafe { t.as_ref() }.header.cancel_delivered());
    if !delivered && !thread::panicking() {
        std::panic::resume_unwind(Box::new(Cancelled));
    }
}

/// Puts the running task at the back of its worker's run queue.
///
/// # Safety
/// - `task` is the task running on this thread.
#[inline]
pub(crate) unsafe fn yield_now(task: NonNull<TaskCell<dyn Body>>) {
    // SAFETY: forwarded from the caller.
    unsafe { suspend(task, Suspend::Yield) };
}

/// Parks the running task. After it has switched out, its worker calls `register` with the
/// waiter that wakes it; `park` returns once that waiter (or a cancellation) has woken it.
///
/// # Safety
/// - `task` is the task running on this thread.
#[inline]
pub(crate) unsafe fn park(task: NonNull<TaskCell<dyn Body>>, register: &mut dyn FnMut(Waiter)) {
    // SAFETY: the closure lives on this task's stack until `suspend` returns, and the worker
    // calls it only while the task is suspended inside that call, so erasing its lifetime
    // never lets it be used after it is gone.
    let register: *mut (dyn FnMut(Waiter) + 'static) = unsafe { std::mem::transmute(register) };
    // SAFETY: forwarded from the caller.
    unsafe { suspend(task, Suspend::Park(register)) };
}

/// Records what the running task is blocked on (or clears it), stamped with the time the
/// wait began (the worker's coarse clock, a few milliseconds at worst behind).
#[inline]
pub(crate) fn set_wait_site(task: NonNull<TaskCell<dyn Body>>, mut site: Option<WaitSite>) {
    if let Some(s) = site.as_mut() {
        s.since_ms = COARSE_MS.with(|c| c.get());
    }
    // SAFETY: `task` is the running task, alive while it runs; `wait_site` is only touched
    // on its worker's thread, which is this one.
    unsafe { task.as_ref().header.sched.wait_site.set(site) };
}
