//! The cooperative backend: green threads on stackful coroutines, over one or more worker
//! OS threads (M:N).
//!
//! # Invariants
//!
//! 1. **A started task never changes OS thread.** The worker that first resumes a task's
//!    coroutine records its index in [`TaskSched::worker`]; every later wake routes the task
//!    back to that worker (its local run queue if the waker is that worker, its `inbox`
//!    otherwise). Only unstarted tasks sit in the stealable `fresh` queues and the global
//!    `injector`. The compiler may cache thread-local addresses across a coroutine switch,
//!    and `!Send` values may live on a task's stack, so migration would be unsound.
//! 2. **A waiter is published only after its coroutine has switched out.** A task that parks
//!    hands its worker a registration closure; the worker marks the task parked and only
//!    then runs the closure, which publishes the [`Waiter`]. A waker can therefore never
//!    schedule a coroutine that is still running.
//! 3. **Wakes are exact.** Each park has an epoch; a waiter carries it, and a wake succeeds
//!    only by moving the task from (epoch, parked) to (epoch, scheduled). A stale waiter (a
//!    timer that outlived its sleep, say) finds another epoch and does nothing.
//!
//! # Module layout
//!
//! This file holds what other threads touch ([`Shared`], the per-worker [`Remote`], task
//! scheduling state, wakes and spawns); `worker.rs` holds the worker loop and what only a
//! worker's own thread touches; `park.rs` holds the park/wake epoch state machine of
//! invariants 2 and 3 (model-checked with loom).

mod blocking;
mod park;
pub(crate) mod reactor;
mod watchdog;
mod worker;

use std::cell::{Cell, UnsafeCell};
use std::io;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Stealer, Worker as Deque};
use crossbeam_queue::SegQueue;

use crate::stack::{PooledStack, StackReservation};
use crate::sync::wait::WaitSite;
use crate::task::{Body, Header, JoinHandle, Slot, TaskCell, TaskRef, Waiter};

use park::ParkState;

pub(crate) use worker::Worker;

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
    /// Park me, then call this to publish my waiter (invariant 2). The closure lives on the
    /// suspended task's stack, which stays intact until the task is resumed.
    Park(*mut (dyn FnMut(Waiter) + 'static)),
}

/// `worker` value of a task that has not started.
const UNBOUND: usize = usize::MAX;

/// The cooperative scheduler's part of a task header.
pub(crate) struct TaskSched {
    /// `epoch << 2 | state` (see [`ParkState`]). The owning worker moves the task between
    /// states; wakers only move it from (epoch, PARKED) to (epoch, SCHEDULED), by
    /// compare-and-swap.
    state: ParkState,
    /// The worker that started the task, or [`UNBOUND`]. Written once, by that worker, before
    /// any waiter of the task is published (so any waker reads the final value).
    worker: AtomicUsize,
    /// The runtime the task belongs to (`None` for preemptive tasks).
    home: Option<Arc<Shared>>,
    /// Worker-only data; see [`Local`].
    local: UnsafeCell<Local>,
    /// The coroutine's yielder, recorded when it starts; read by the task itself (on its
    /// worker's thread) to suspend. Kept apart from `local`, which the worker borrows
    /// mutably across a resume.
    yielder: Cell<*const corosensei::Yielder<Resume, Suspend>>,
    /// What the task is blocked on, for the deadlock report; set and read on the task's
    /// worker thread only.
    wait_site: Cell<Option<WaitSite>>,
}

/// Data only one thread touches at a time: before the task starts, whichever worker popped it
/// from a queue (queues hand over ownership); after, only its owning worker.
pub(crate) struct Local {
    /// The stack promised at spawn; taken when the task first runs, on that worker.
    stack: Option<StackReservation>,
    /// The task's coroutine, once started; dropped (stack back to the pool) when it ends.
    co: Option<TaskCoroutine>,
    /// The task's key in its worker's table of started tasks.
    key: usize,
}

impl TaskSched {
    pub(crate) fn new(home: Option<Arc<Shared>>, stack: Option<StackReservation>) -> TaskSched {
        TaskSched {
            state: ParkState::new(),
            worker: AtomicUsize::new(UNBOUND),
            home,
            local: UnsafeCell::new(Local {
                stack,
                co: None,
                key: usize::MAX,
            }),
            yielder: Cell::new(std::ptr::null()),
            wait_site: Cell::new(None),
        }
    }

    /// The runtime of a green thread (`None` for preemptive tasks and blocking jobs).
    pub(crate) fn home(&self) -> Option<&Arc<Shared>> {
        self.home.as_ref()
    }

    /// # Safety
    /// - the caller is the thread that may touch `local` now (see [`Local`]), and holds no
    ///   other reference from this function.
    #[allow(clippy::mut_from_ref)]
    unsafe fn local(&self) -> &mut Local {
        // SAFETY: exclusive access is the caller's obligation.
        unsafe { &mut *self.local.get() }
    }
}

/// Whether `task` is still parked in park `epoch`.
pub(crate) fn is_parked_in(task: &TaskRef, epoch: u64) -> bool {
    task.header.sched.state.is_parked_in(epoch)
}

/// A wake that arrives for park `epoch`: reschedule the task if it is still parked there.
pub(crate) fn wake(task: TaskRef, epoch: u64) {
    if task.header.sched.state.wake(epoch) {
        schedule(task);
    }
}

/// Queues a scheduled task: on its own worker's local queue if we are that worker, else on
/// its inbox (waking the worker if it sleeps). Unstarted tasks go to the spawn queues.
#[inline]
fn schedule(task: TaskRef) {
    let sched = &task.header.sched;
    let Some(home) = sched.home.as_ref() else {
        return;
    };
    let w = sched.worker.load(Ordering::Acquire);
    if w != UNBOUND {
        if let Some(worker) = worker::current() {
            if Arc::ptr_eq(&worker.shared, home) && worker.index == w {
                worker.push_local(task);
                return;
            }
        }
    }
    schedule_remote(task, w);
}

/// [`schedule`] from another thread (or of an unstarted task).
#[cold]
fn schedule_remote(task: TaskRef, w: usize) {
    let shared = task.header.sched.home.clone().expect("checked by schedule");
    if w == UNBOUND {
        shared.submit(task);
        return;
    }
    shared.workers[w].inbox.push(task);
    shared.notify(w);
}

/// What other threads may touch of one worker.
pub(crate) struct Remote {
    /// Started tasks woken by other threads, waiting to rejoin this worker's run queue.
    inbox: SegQueue<TaskRef>,
    /// The stealing end of the worker's deque of unstarted tasks (the worker owns the other
    /// end); idle workers steal half from here.
    fresh: Stealer<TaskRef>,
    /// Wakes the worker out of its `mio::Poll`.
    waker: mio::Waker,
    /// Registers sockets with the worker's poll (from any thread).
    registry: mio::Registry,
    /// The sockets registered with the worker's poll, by token.
    io: reactor::IoTable,
    /// How many sockets are registered (the worker polls for I/O while busy only if any).
    io_count: AtomicUsize,
    /// Set by the worker (SeqCst) just before it sleeps; cleared by whoever wakes it.
    sleeping: AtomicBool,
    /// Resumes so far (relaxed; read by the stall watchdog).
    switches: AtomicU64,
    /// Id of the task running now, or 0 (relaxed; read by the stall watchdog).
    running: AtomicU64,
    /// Set while the worker sleeps with no timer pending: only a wake from elsewhere can
    /// end that sleep (read by the deadlock detector).
    forever: AtomicBool,
    /// The deadlock detector's latest request for a list of this worker's parked tasks.
    snapshot_req: AtomicU64,
    /// The answer: the request it answers, and the worker's parked tasks.
    snapshot: Mutex<(u64, Vec<Blocked>)>,
}

/// A parked task as the deadlock report sees it.
#[derive(Clone, Debug)]
pub(crate) struct Blocked {
    id: u64,
    name: Option<String>,
    site: Option<WaitSite>,
}

/// The runtime state shared by its workers, its handle and every task.
pub(crate) struct Shared {
    pub(crate) workers: Box<[Remote]>,
    /// Unstarted tasks spawned from outside the workers.
    injector: Injector<TaskRef>,
    /// Tasks spawned and not yet finished: all of them in the high 32 bits ([`LIVE_ALL`]),
    /// the non-daemon ones in the low 32 bits ([`LIVE_NONDAEMON`]). One atomic for both, so a
    /// spawn or a finish costs one read-modify-write.
    live: AtomicU64,
    /// Set while `block_on` cancels the daemons left after its last non-daemon task.
    cancelling: AtomicBool,
    /// Set when the `Runtime` is dropped: workers exit.
    shutdown: AtomicBool,
    /// `block_on` sleeps here until a live count it waits on reaches zero.
    quiet_lock: Mutex<()>,
    quiet: Condvar,
    /// Default stack size of tasks.
    pub(crate) stack_size: usize,
    /// Threads for `spawn_blocking`.
    blocking: Arc<blocking::BlockingPool>,
    /// Names of named live tasks, for the stall watchdog (kept only when it runs).
    names: watchdog::Names,
    watch_names: bool,
}

/// How to build a cooperative runtime.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) stack_size: usize,
    /// Report runs longer than this; `None` turns the watchdog off.
    pub(crate) stall_threshold: Option<Duration>,
    pub(crate) max_blocking_threads: usize,
}

impl Shared {
    /// Queues an unstarted task: on this worker's stealable queue when called on a worker of
    /// this runtime, else on the injector; then makes sure a worker will look.
    fn submit(self: &Arc<Shared>, task: TaskRef) {
        if let Some(worker) = worker::current() {
            if Arc::ptr_eq(&worker.shared, self) {
                worker.push_fresh(task);
                if self.workers.len() > 1 {
                    self.hint_idle_worker(worker.index);
                }
                return;
            }
        }
        self.injector.push(task);
        self.notify_one_except(usize::MAX);
    }

    /// Wakes worker `w` if it sleeps (call after publishing work for it).
    fn notify(&self, w: usize) {
        fence(Ordering::SeqCst);
        let remote = &self.workers[w];
        if remote.sleeping.load(Ordering::SeqCst) && remote.sleeping.swap(false, Ordering::SeqCst) {
            // A failed wake leaves the worker to its next timer; nothing better can be done.
            let _ = remote.waker.wake();
        }
    }

    /// Wakes one sleeping worker other than `me` so it can steal what `me` just spawned. Only
    /// a hint, so no fence: `me` runs the task itself if nobody comes.
    fn hint_idle_worker(&self, me: usize) {
        for (i, remote) in self.workers.iter().enumerate() {
            if i != me
                && remote.sleeping.load(Ordering::Relaxed)
                && remote.sleeping.swap(false, Ordering::SeqCst)
            {
                let _ = remote.waker.wake();
                return;
            }
        }
    }

    /// Wakes one sleeping worker other than `except`, if any sleeps.
    fn notify_one_except(&self, except: usize) {
        fence(Ordering::SeqCst);
        for (i, remote) in self.workers.iter().enumerate() {
            if i != except
                && remote.sleeping.load(Ordering::SeqCst)
                && remote.sleeping.swap(false, Ordering::SeqCst)
            {
                let _ = remote.waker.wake();
                return;
            }
        }
    }

    fn notify_all(&self) {
        fence(Ordering::SeqCst);
        for remote in self.workers.iter() {
            remote.sleeping.store(false, Ordering::SeqCst);
            let _ = remote.waker.wake();
        }
    }

    /// Accounts for a finished (or cancelled) task and tells `block_on` when a count it
    /// waits on reaches zero.
    fn task_finished(&self, header: &Header) {
        if self.watch_names && header.name().is_some() {
            self.names.remove(header.label.id);
        }
        let daemon = header.daemon;
        let delta = live_delta(daemon);
        let now = self.live.fetch_sub(delta, Ordering::AcqRel) - delta;
        let quiet = now & LIVE_ALL == 0 || (!daemon && now & LIVE_NONDAEMON == 0);
        if quiet {
            let _g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.quiet.notify_all();
        }
    }

    /// Blocks the calling (non-worker) thread until the `mask` bits of `live` read zero.
    fn wait_zero(&self, mask: u64) {
        let mut g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.live.load(Ordering::Acquire) & mask != 0 {
            g = self.quiet.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Like `wait_zero`, for at most `d`; returns whether the bits read zero.
    fn wait_zero_timeout(&self, mask: u64, d: Duration) -> bool {
        let g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        let (_g, _) = self
            .quiet
            .wait_timeout_while(g, d, |_| self.live.load(Ordering::Acquire) & mask != 0)
            .unwrap_or_else(|e| e.into_inner());
        self.live.load(Ordering::Acquire) & mask == 0
    }

    /// Whether nothing can run: every worker sleeps with no timer, no queue holds work, and
    /// no blocking job is pending.
    fn quiescent(&self) -> bool {
        self.workers
            .iter()
            .all(|r| r.forever.load(Ordering::SeqCst) && r.inbox.is_empty() && r.fresh.is_empty())
            && self.injector.is_empty()
            && self.blocking.is_idle()
    }

    fn total_switches(&self) -> u64 {
        self.workers
            .iter()
            .map(|r| r.switches.load(Ordering::SeqCst))
            .sum()
    }

    /// The deadlock report, if every task is blocked and nothing — no timer, no I/O, no
    /// thread outside the runtime, no blocking job — can wake any of them.
    fn detect_deadlock(&self, round: u64) -> Option<String> {
        if !self.quiescent() {
            return None;
        }
        let before = self.total_switches();
        // Ask every worker for its parked tasks.
        for (i, r) in self.workers.iter().enumerate() {
            r.snapshot_req.store(round, Ordering::SeqCst);
            r.sleeping.store(true, Ordering::SeqCst);
            self.notify(i);
        }
        let asked = Instant::now();
        let mut blocked = Vec::new();
        for r in self.workers.iter() {
            loop {
                {
                    let snap = r.snapshot.lock().unwrap_or_else(|e| e.into_inner());
                    if snap.0 == round {
                        blocked.extend(snap.1.iter().cloned());
                        break;
                    }
                }
                if asked.elapsed() > Duration::from_millis(500) {
                    return None;
                }
                thread::sleep(Duration::from_millis(1));
            }
        }
        // Still quiet, and nothing ran meanwhile?
        let settled = (0..50).any(|_| {
            let q = self.quiescent();
            if !q {
                thread::sleep(Duration::from_millis(2));
            }
            q
        });
        if !settled || self.total_switches() != before || blocked.is_empty() {
            return None;
        }
        if blocked.iter().any(|b| b.site.is_none_or(|s| s.outside)) {
            return None;
        }
        Some(deadlock_report(&blocked))
    }
}

/// The cooperative runtime as its `Runtime` handle holds it.
pub(crate) struct Coop {
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
    watchdog: Option<thread::JoinHandle<()>>,
    stop_watchdog: Arc<watchdog::Stop>,
    /// `block_on` calls run one after another.
    serial: Mutex<()>,
}

impl Coop {
    /// Starts `workers` worker threads.
    pub(crate) fn start(config: Config) -> io::Result<Coop> {
        let workers = config.workers;
        let mut locals = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let poll = mio::Poll::new()?;
            let waker = mio::Waker::new(poll.registry(), worker::WAKE_TOKEN)?;
            let fresh = Deque::new_fifo();
            let registry = poll.registry().try_clone()?;
            remotes.push(Remote {
                inbox: SegQueue::new(),
                fresh: fresh.stealer(),
                waker,
                registry,
                io: crate::loom::Lock::new(slab::Slab::new()),
                io_count: AtomicUsize::new(0),
                sleeping: AtomicBool::new(false),
                switches: AtomicU64::new(0),
                running: AtomicU64::new(0),
                forever: AtomicBool::new(false),
                snapshot_req: AtomicU64::new(0),
                snapshot: Mutex::new((0, Vec::new())),
            });
            locals.push((poll, fresh));
        }
        let shared = Arc::new(Shared {
            workers: remotes.into_boxed_slice(),
            injector: Injector::new(),
            live: AtomicU64::new(0),
            cancelling: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            quiet_lock: Mutex::new(()),
            quiet: Condvar::new(),
            stack_size: config.stack_size,
            blocking: Arc::new(blocking::BlockingPool::new(config.max_blocking_threads)),
            names: watchdog::Names::default(),
            watch_names: config.stall_threshold.is_some(),
        });
        let mut coop = Coop {
            shared: shared.clone(),
            threads: Vec::with_capacity(workers),
            watchdog: None,
            stop_watchdog: Arc::new(watchdog::Stop::default()),
            serial: Mutex::new(()),
        };
        for (index, (poll, fresh)) in locals.into_iter().enumerate() {
            let shared = shared.clone();
            let t = thread::Builder::new()
                .name(format!("spindle-worker-{index}"))
                .spawn(move || Worker::new(index, shared, poll, fresh).run())?;
            coop.threads.push(t);
        }
        if let Some(threshold) = config.stall_threshold {
            coop.watchdog = Some(watchdog::start(
                shared,
                threshold,
                coop.stop_watchdog.clone(),
            )?);
        }
        Ok(coop)
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` as the first task and waits for it and every non-daemon task, then cancels
    /// the daemons left and waits for them to unwind.
    #[track_caller]
    pub(crate) fn block_on<F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let handle = match spawn(
            self.shared.clone(),
            f,
            Some("main".into()),
            false,
            self.shared.stack_size,
        ) {
            Ok(h) => h,
            Err(e) => panic!("spindle: block_on cannot start its first task: {e}"),
        };
        let first = crate::task::FirstTaskGuard(&handle);
        let mut round = 0;
        let report = loop {
            if self
                .shared
                .wait_zero_timeout(LIVE_NONDAEMON, Duration::from_millis(200))
            {
                break None;
            }
            round += 1;
            if let Some(report) = self.shared.detect_deadlock(round) {
                break Some(report);
            }
        };
        if self.shared.live.load(Ordering::Acquire) != 0 {
            self.shared.cancelling.store(true, Ordering::SeqCst);
            self.shared.notify_all();
            self.shared.wait_zero(LIVE_ALL);
            self.shared.cancelling.store(false, Ordering::SeqCst);
        }
        // Every task has ended (the first one too: run, unwound or cancelled unstarted).
        drop(first);
        if let Some(report) = report {
            // Drop the first task's result here, not wherever its cell is dropped last.
            drop(handle.join());
            panic!("{report}");
        }
        match handle.join() {
            Ok(v) => v,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }
}

impl Drop for Coop {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop_watchdog.stop();
        if let Some(t) = self.watchdog.take() {
            let _ = t.join();
        }
        self.shared.blocking.shutdown();
    }
}

/// The high half of [`Shared::live`]: every live task.
const LIVE_ALL: u64 = !0 << 32;
/// The low half of [`Shared::live`]: live non-daemon tasks.
const LIVE_NONDAEMON: u64 = !0 >> 32;

/// What one task adds to [`Shared::live`].
#[inline]
fn live_delta(daemon: bool) -> u64 {
    (1 << 32) | u64::from(!daemon)
}

/// Spawns a green thread on `shared`'s runtime, with a stack size already checked.
pub(crate) fn spawn<F, T>(
    shared: Arc<Shared>,
    f: F,
    name: Option<String>,
    daemon: bool,
    stack_size: usize,
) -> io::Result<JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let stack = StackReservation::new(stack_size)?;
    shared.live.fetch_add(live_delta(daemon), Ordering::AcqRel);
    let watch_names = shared.watch_names;
    let sched = TaskSched::new(Some(shared), Some(stack));
    let cell = Arc::new(TaskCell {
        header: Header::new(name, daemon, sched),
        body: Slot::new(f),
    });
    if watch_names {
        if let (Some(name), Some(home)) = (cell.header.name(), cell.header.sched.home.as_ref()) {
            home.names.insert(cell.header.label.id, name);
        }
    }
    let handle = JoinHandle::new(cell.clone());
    submit_new(cell);
    Ok(handle)
}

/// Queues a task just spawned, without another reference count on its runtime: on the
/// current worker's stealable deque if it belongs to the task's runtime, else on the injector.
#[inline]
fn submit_new(task: TaskRef) {
    let home = task
        .header
        .sched
        .home
        .as_ref()
        .expect("a green thread has a runtime");
    if let Some(worker) = worker::current() {
        if Arc::ptr_eq(&worker.shared, home) {
            worker.push_fresh(task);
            if worker.shared.workers.len() > 1 {
                worker.shared.hint_idle_worker(worker.index);
            }
            return;
        }
    }
    let shared = home.clone();
    shared.submit(task);
}

/// Runs `f` on the runtime's blocking pool and parks the calling green thread until it
/// returns; a panic in `f` continues in the caller.
pub(crate) fn spawn_blocking<F, T>(shared: &Shared, f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let cell = Arc::new(TaskCell {
        header: Header::new(None, false, TaskSched::new(None, None)),
        body: Slot::new(f),
    });
    let runner: TaskRef = cell.clone();
    let job: blocking::Job = Box::new(move || {
        // SAFETY: this job is the cell's only runner, and runs it once.
        unsafe { runner.body.run() };
        runner.header.complete();
    });
    if let Err(job) = shared.blocking.submit(job) {
        // No blocking thread could be started at all: run it here rather than fail.
        job();
    }
    match JoinHandle::new(cell).join() {
        Ok(v) => v,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// The task running on this thread, if this thread is a worker running one.
#[inline]
pub(crate) fn running() -> Option<NonNull<TaskCell<dyn Body>>> {
    RUNNING_TASK.with(|r| r.get())
}

thread_local! {
    /// The task whose coroutine is running on this thread (set by its worker around each
    /// resume).
    static RUNNING_TASK: Cell<Option<NonNull<TaskCell<dyn Body>>>> = const { Cell::new(None) };
}

/// Suspends the running task with `why` and returns how it was resumed; unwinds with
/// [`Cancelled`](crate::Cancelled) if the runtime is cancelling it.
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
    if !thread::panicking() {
        std::panic::resume_unwind(Box::new(crate::Cancelled));
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

/// Sleeps the running task until `deadline` on its worker's timers.
///
/// # Safety
/// - `task` is the task running on this thread.
pub(crate) unsafe fn sleep_until(task: NonNull<TaskCell<dyn Body>>, deadline: Instant) {
    while crate::clock::now() < deadline {
        let mut register = |w: Waiter| {
            if let Some(worker) = worker::current() {
                worker.add_timer(deadline, w);
            }
        };
        // SAFETY: forwarded from the caller.
        unsafe { park(task, &mut register) };
    }
}

/// How long after `now` a `Duration` ends, saturating far in the future.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = crate::clock::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The number of workers of the runtime running on this thread (0 off a worker).
pub(crate) fn current_worker_count() -> usize {
    worker::current().map_or(0, |w| w.shared.workers.len())
}

/// The runtime of the worker running on this thread, if any.
pub(crate) fn current_shared() -> Option<Arc<Shared>> {
    worker::current().map(|w| w.shared.clone())
}

/// Records what the running task is blocked on (or clears it).
pub(crate) fn set_wait_site(task: NonNull<TaskCell<dyn Body>>, site: Option<WaitSite>) {
    // SAFETY: `task` is the running task, alive while it runs; `wait_site` is only touched
    // on its worker's thread, which is this one.
    unsafe { task.as_ref().header.sched.wait_site.set(site) };
}

/// Adds a timer on the current worker (no-op off a worker).
#[cfg_attr(spindle_loom, allow(dead_code))]
pub(crate) fn add_timer(deadline: Instant, waiter: Waiter) {
    if let Some(worker) = worker::current() {
        worker.add_timer(deadline, waiter);
    }
}

/// Formats the deadlock report: each blocked task and what it waits on, then any cycle of
/// lock owners and joins.
fn deadlock_report(blocked: &[Blocked]) -> String {
    use std::fmt::Write as _;
    let label = |id: u64| -> String {
        match blocked
            .iter()
            .find(|b| b.id == id)
            .and_then(|b| b.name.as_deref())
        {
            Some(name) => format!("task '{name}' (#{id})"),
            None => format!("task #{id}"),
        }
    };
    let mut out = String::from(
        "deadlock: every task of the runtime is blocked and nothing can wake any of them:",
    );
    let mut sorted: Vec<&Blocked> = blocked.iter().collect();
    sorted.sort_by_key(|b| b.id);
    for b in &sorted {
        let site = b.site.expect("checked by the caller");
        let _ = write!(
            out,
            "\n  {} waits in {} at {}",
            label(b.id),
            site.what,
            site.location
        );
        if let Some(owner) = site.owner {
            let relation = if site.what == "JoinHandle::join" {
                "joining"
            } else {
                "held by"
            };
            let _ = write!(out, " ({relation} {})", label(owner));
        }
    }
    // Cycles: follow "waits for" edges (lock owners, joined tasks) from each task.
    let next = |id: u64| -> Option<u64> { blocked.iter().find(|b| b.id == id)?.site?.owner };
    let mut reported: Vec<Vec<u64>> = Vec::new();
    for b in &sorted {
        let mut path = vec![b.id];
        let mut cur = b.id;
        while let Some(n) = next(cur) {
            if let Some(pos) = path.iter().position(|&p| p == n) {
                let mut cycle = path[pos..].to_vec();
                let min = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| **v)
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                cycle.rotate_left(min);
                if !reported.contains(&cycle) {
                    let names: Vec<String> = cycle
                        .iter()
                        .chain(cycle.first())
                        .map(|&id| label(id))
                        .collect();
                    let _ = write!(out, "\n  cycle: {}", names.join(" -> "));
                    reported.push(cycle);
                }
                break;
            }
            path.push(n);
            cur = n;
        }
    }
    out
}
