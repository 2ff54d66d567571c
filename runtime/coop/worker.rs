//! One worker of the cooperative runtime: its loop, its run queue, its timers, its table of
//! started tasks and its `mio::Poll`. Everything here is touched only by the worker's own
//! thread; what other threads may touch lives in [`Remote`](super::shared::Remote). Also
//! what a green thread asks of the worker running it: a timer, a sleep, its runtime.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ptr::{self, NonNull};
use std::sync::atomic::{fence, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_deque::{Steal, Worker as Deque};
use slab::Slab;

use super::det::{Det, Ran};
use super::reactor;
use super::shared::{Remote, Shared};
use super::snapshot::snapshot;
use super::timers::{TimerKey, Timers};
use crate::stack::overflow;
use crate::task::{Body, Local, Resume, Suspend, TaskCell, TaskCoroutine, TaskRef, Waiter};

/// Every this many scheduling ticks a worker looks at its inbox, timers and the global
/// injector even when its local queue is busy, so nothing starves.
const MAINTENANCE_TICKS: u32 = 61;

/// A worker thread's scheduler state.
pub(crate) struct Worker {
    pub(crate) index: usize,
    pub(crate) shared: Arc<Shared>,
    /// Runnable tasks in the order they became runnable: started ones bound here and
    /// unstarted ones this worker took, as `Some(task)`; and a `None` marker for each task
    /// this worker pushed onto its stealable `fresh` queue, holding its place in line (if it
    /// was stolen meanwhile, the marker is skipped). One worker thus runs tasks in strict
    /// FIFO order, while spawned tasks stay stealable until their turn comes.
    pub(super) runq: RefCell<VecDeque<Option<TaskRef>>>,
    /// The owning end of this worker's deque of unstarted tasks (FIFO); other workers
    /// steal through the `Stealer` in [`Remote`](super::shared::Remote).
    fresh: Deque<TaskRef>,
    /// Pending timers of this worker's tasks.
    pub(super) timers: Timers,
    /// Every started, unfinished task bound to this worker (so a shutdown can find parked
    /// daemons that nothing else refers to).
    pub(super) tasks: RefCell<Slab<TaskRef>>,
    /// Resumes so far, mirrored into `Remote::switches` for the stall watchdog.
    switches: Cell<u64>,
    /// The last deadlock-snapshot request answered.
    answered: Cell<u64>,
    /// Ticks left until the next maintenance pass.
    countdown: Cell<u32>,
    pub(super) poll: RefCell<mio::Poll>,
    pub(super) events: RefCell<mio::Events>,
    /// The seeded scheduler of a deterministic runtime (`det_run.rs`), which then makes
    /// every choice [`next_task`](Worker::next_task) makes.
    pub(super) det: Option<Box<Det>>,
    /// When a deterministic runtime's deadlock grace ends (`det_run.rs`), while all its
    /// tasks are blocked.
    pub(super) grace_ends: Cell<Option<Instant>>,
}

thread_local! {
    static CURRENT: Cell<*const Worker> = const { Cell::new(ptr::null()) };
}

/// The worker running on this thread, if any.
///
/// The reference is valid for as long as code runs inside [`Worker::run`] on this thread,
/// which is the only place tasks and wake-ups of this worker run; callers must not keep it
/// beyond their own call.
#[inline]
pub(crate) fn current<'a>() -> Option<&'a Worker> {
    let w = CURRENT.with(|c| c.get());
    // SAFETY: CURRENT is non-null only while `Worker::run` (which owns the worker) is on this
    // thread's stack; it is reset before `run` returns.
    unsafe { w.as_ref() }
}

/// Makes `worker` (or nobody) the worker running on this thread: a deterministic runtime's
/// `block_on` runs its worker on the caller's thread (`det_run.rs`).
pub(super) fn set_current(worker: Option<&Worker>) {
    CURRENT.with(|c| c.set(worker.map_or(ptr::null(), |w| w as *const Worker)));
}

impl Worker {
    pub(crate) fn new(
        index: usize,
        shared: Arc<Shared>,
        poll: mio::Poll,
        fresh: Deque<TaskRef>,
        deterministic: bool,
    ) -> Worker {
        Worker {
            index,
            shared,
            runq: RefCell::new(VecDeque::with_capacity(256)),
            fresh,
            timers: Timers::default(),
            tasks: RefCell::new(Slab::new()),
            switches: Cell::new(0),
            answered: Cell::new(0),
            countdown: Cell::new(MAINTENANCE_TICKS),
            poll: RefCell::new(poll),
            events: RefCell::new(mio::Events::with_capacity(256)),
            det: deterministic.then(Box::default),
            grace_ends: Cell::new(None),
        }
    }

    /// The worker loop: run tasks while any are runnable, else sleep in `mio::Poll` until a
    /// wake-up, a timer or I/O.
    pub(crate) fn run(self) {
        CURRENT.with(|c| c.set(&self));
        overflow::ensure_altstack();
        crate::task::set_coarse_millis(crate::clock::coarse_millis());
        loop {
            while let Some(task) = self.next_task() {
                self.run_task(task);
            }
            if self.shared.shutdown.load(Ordering::Acquire) {
                break;
            }
            if self.shared.cancelling.load(Ordering::Acquire) && self.cancel_parked() {
                continue;
            }
            self.idle();
        }
        CURRENT.with(|c| c.set(ptr::null()));
    }

    /// The scheduling policy: which task runs next.
    ///
    /// Local work first, alternating between woken/yielded tasks and fresh spawns so neither
    /// starves the other; every [`MAINTENANCE_TICKS`] the inbox, timers and injector too;
    /// when all is empty, the injector and then stealing unstarted tasks. A deterministic
    /// runtime's seeded scheduler picks from the run queue instead (it has one worker, and
    /// its wakes from outside, timers and I/O come in when no task can run: `det_run.rs`).
    #[inline(always)]
    pub(super) fn next_task(&self) -> Option<TaskRef> {
        if self.det.is_some() {
            return self.next_task_det();
        }
        let left = self.countdown.get() - 1;
        self.countdown.set(left);
        if left == 0 {
            self.countdown.set(MAINTENANCE_TICKS);
            self.maintain();
            if let Some(t) = self.take_injected() {
                return Some(t);
            }
        }
        if let Some(t) = self.pop_local() {
            return Some(t);
        }
        self.next_task_slow()
    }

    /// The front of the local line: a task, or the unstarted task a marker stands for.
    #[inline]
    fn pop_local(&self) -> Option<TaskRef> {
        loop {
            let entry = self.runq.borrow_mut().pop_front()?;
            match entry {
                Some(t) => return Some(t),
                None => {
                    if let Some(t) = self.fresh.pop() {
                        return Some(t);
                    }
                }
            }
        }
    }

    /// A task from the global injector, if any, and a batch more into this worker's
    /// stealable queue, each with its place in line: one task per maintenance pass would
    /// leave tasks spawned from outside waiting 61 ticks each behind busy ones (10,000 of
    /// them behind tasks that run 10 µs between yields waited 1.8 s instead of 5 ms).
    ///
    /// With tasks in its run queue: up to a maintenance interval's worth, what this worker
    /// can run before it looks again. Otherwise (idle) its share, as tokio takes: the
    /// injector's length over the number of workers, plus one (each spawn from outside
    /// wakes a sleeping worker for the rest). An idle worker taking all it could
    /// started every task of a small burst: 8 loops spawned from outside onto 4 workers all
    /// ran on one in a third of the runs, and as started tasks stay on their worker, they
    /// stayed there (tokio's `spawn_many_remote_busy1` took 3 times as long then). A busy
    /// one taking only its share drained the injector's tail a few tasks per interval
    /// (`spawn_many_remote_busy2` took 3 times as long).
    fn take_injected(&self) -> Option<TaskRef> {
        let injector = &self.shared.injector;
        let most = MAINTENANCE_TICKS as usize;
        let busy = !self.runq.borrow().is_empty();
        let share = match busy {
            true => most,
            false => (injector.len() / self.shared.workers.len() + 1).min(most),
        };
        let before = self.fresh.len();
        let first = loop {
            match injector.steal_batch_with_limit_and_pop(&self.fresh, share) {
                Steal::Success(t) => break t,
                Steal::Empty => return None,
                Steal::Retry => continue,
            }
        };
        // (Idle workers may steal from `fresh` meanwhile: never subtract without saturating.)
        let taken = || self.fresh.len().saturating_sub(before) + 1;
        while taken() < share {
            match injector.steal_batch_with_limit(&self.fresh, share - taken()) {
                Steal::Success(()) | Steal::Retry => continue,
                Steal::Empty => break,
            }
        }
        let added = self.fresh.len().saturating_sub(before);
        let mut runq = self.runq.borrow_mut();
        for _ in 0..added {
            runq.push_back(None);
        }
        Some(first)
    }

    #[cold]
    fn next_task_slow(&self) -> Option<TaskRef> {
        self.maintain();
        if let Some(t) = self.pop_local() {
            return Some(t);
        }
        // Markers can run out while fresh tasks remain.
        if let Some(t) = self.fresh.pop() {
            return Some(t);
        }
        if let Some(t) = self.take_injected() {
            return Some(t);
        }
        self.steal()
    }

    /// Moves remote wakes into the run queue, fires due timers, and (if sockets are
    /// registered) collects I/O readiness without waiting.
    fn maintain(&self) {
        let remote = &self.shared.workers[self.index];
        if remote.io_count.load(Ordering::Relaxed) != 0 {
            let mut events = self.events.borrow_mut();
            if self
                .poll
                .borrow_mut()
                .poll(&mut events, Some(Duration::ZERO))
                .is_ok()
            {
                reactor::dispatch(&remote.io, &events);
            }
        }
        self.drain_inbox();
        crate::task::set_coarse_millis(crate::clock::coarse_millis());
        self.fire_timers();
        self.answer_snapshot();
        self.shared.uncount_wakes(self.index);
    }

    /// Moves the tasks other threads woke into the run queue; returns whether there were any.
    pub(super) fn drain_inbox(&self) -> bool {
        let inbox = &self.shared.workers[self.index].inbox;
        if inbox.is_empty() {
            return false;
        }
        let mut runq = self.runq.borrow_mut();
        while let Some(t) = inbox.pop() {
            if let Some(det) = self.det.as_deref() {
                det.outside(t.header.label.id);
            }
            runq.push_back(Some(t));
        }
        true
    }

    /// Takes half of another worker's unstarted tasks (never a started one: invariant 1),
    /// keeping their places in line with markers.
    fn steal(&self) -> Option<TaskRef> {
        let n = self.shared.workers.len();
        for k in 1..n {
            let victim = &self.shared.workers[(self.index + k) % n].fresh;
            loop {
                let before = self.fresh.len();
                match victim.steal_batch_and_pop(&self.fresh) {
                    Steal::Success(t) => {
                        let mut runq = self.runq.borrow_mut();
                        for _ in before..self.fresh.len() {
                            runq.push_back(None);
                        }
                        return Some(t);
                    }
                    Steal::Empty => break,
                    Steal::Retry => continue,
                }
            }
        }
        None
    }

    /// Queues a task woken on this worker's own thread.
    #[inline]
    pub(crate) fn push_local(&self, task: TaskRef) {
        self.runq.borrow_mut().push_back(Some(task));
    }

    /// Queues a task spawned on this worker: stealable until its turn, which a marker holds.
    #[inline]
    pub(crate) fn push_fresh(&self, task: TaskRef) {
        if self.det.is_some() {
            return self.push_det(task);
        }
        self.fresh.push(task);
        self.runq.borrow_mut().push_back(None);
    }

    /// Adds a timer that wakes `waiter` at `deadline`.
    pub(crate) fn add_timer(&self, deadline: Instant, waiter: Waiter) -> TimerKey {
        self.timers.add(deadline, waiter)
    }

    /// Cancels a timer of this worker whose wait ended before it fired.
    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        self.timers.cancel(key);
    }

    /// What other threads may touch of this worker.
    #[inline]
    pub(crate) fn remote(&self) -> &Remote {
        &self.shared.workers[self.index]
    }

    pub(super) fn fire_timers(&self) {
        if self.timers.is_empty() {
            return;
        }
        self.timers.fire(crate::clock::now());
    }

    /// Runs one scheduled task until it yields, parks or ends. Inlined into the worker loop
    /// (as it was before the deterministic loop became its second caller): a call here
    /// costs a yield about 60 instructions.
    #[inline(always)]
    pub(super) fn run_task(&self, task: TaskRef) {
        let sched = &task.header.sched;
        let Some(epoch) = sched.state.begin_run() else {
            return;
        };
        // SAFETY: we popped the task from a queue, so this thread may touch its local data
        // (see `Local`); no other reference to it is live.
        let local = unsafe { sched.local() };
        let cancelling = self.shared.cancelling.load(Ordering::Acquire);
        // A task cancelled before it started starts all the same, to drop its closure in its
        // own context (a `Drop` there may yield, block or spawn, and a panic is its own).
        if local.co.is_none() && !self.start(&task, local) {
            return;
        }
        let input = if cancelling {
            Resume::Cancel
        } else {
            Resume::Go
        };

        let co = local.co.as_mut().expect("a started task has a coroutine");
        let remote = &self.shared.workers[self.index];
        let switches = self.switches.get() + 1;
        self.switches.set(switches);
        remote.switches.store(switches, Ordering::Relaxed);
        remote
            .running
            .store(task.header.label.id, Ordering::Relaxed);
        crate::task::set_running(Some(NonNull::from(&*task)));
        overflow::set_running_label(Some(&task.header.label));
        let result = co.resume(input);
        overflow::set_running_label(None);
        crate::task::set_running(None);
        remote.running.store(0, Ordering::Relaxed);
        // (The deterministic scheduler is told in each arm: a look at `result` after the
        // match would keep it in memory, a cost every yield would pay.)
        match result {
            corosensei::CoroutineResult::Yield(Suspend::Yield) => {
                if self.det.is_some() {
                    self.record_det(&task, Ran::Yield);
                }
                sched.state.yielded(epoch);
                self.runq.borrow_mut().push_back(Some(task));
            }
            corosensei::CoroutineResult::Yield(Suspend::Park(register)) => {
                if self.det.is_some() {
                    self.record_det(&task, Ran::Park);
                }
                let epoch = sched.state.park(epoch);
                // It runs only the runtime's own code (a primitive's attempt runs no user code:
                // `sync::wait`). SAFETY: the closure lives on the task's stack, suspended in
                // `park` until this waiter resumes it; called once, before anything can.
                unsafe { (*register)(Waiter::Task { task, epoch }) };
            }
            corosensei::CoroutineResult::Return(()) => {
                if self.det.is_some() {
                    self.record_det(&task, Ran::Finish);
                }
                self.finish(&task, local)
            }
        }
    }

    /// Makes the coroutine of a task on the stack promised at spawn and binds the task to
    /// this worker (invariant 1: from now on it runs only here). If the stack cannot be had
    /// after all (the pool was drained by bare coroutines and the OS refuses more), the task
    /// ends with that error as its `join` result; returns whether it started.
    fn start(&self, task: &TaskRef, local: &mut Local) -> bool {
        let sched = &task.header.sched;
        let reservation = local
            .stack
            .take()
            .expect("a task's stack is reserved at spawn");
        let stack = match reservation.take() {
            Ok(stack) => stack,
            Err(e) => {
                let msg = format!("spindle: no stack for task {}: {e}", task.header.id());
                // SAFETY: we hold the task from a queue and it never started, so nobody else
                // runs or cancels its body.
                unsafe { task.body.cancel(Box::new(msg)) };
                task.finish();
                self.retire(task);
                return false;
            }
        };
        task.header.label.stack.set(stack.bounds());
        sched.worker.store(self.index, Ordering::Release);
        let cell: *const TaskCell<dyn Body> = &**task;
        let yielder_slot: *const Cell<_> = &sched.yielder;
        let co = TaskCoroutine::with_stack(stack, move |y, input: Resume| {
            // SAFETY: the coroutine is owned by the task's `Local`, inside the allocation
            // `cell` points to (as does `yielder_slot`), and the worker holds that allocation
            // alive (in its task table) for as long as the coroutine exists.
            unsafe {
                (*yielder_slot).set(y as *const _);
                if input == Resume::Go {
                    (*cell).body.run();
                } else {
                    (*cell).header.deliver_cancel();
                    (*cell).body.cancel(Box::new(crate::Cancelled));
                }
                // Completion runs here, in the task, so that dropping a detached task's
                // result happens in its own context.
                (*cell).finish();
            }
        });
        local.co = Some(co);
        local.key = self.tasks.borrow_mut().insert(task.clone());
        true
    }

    /// Ends a task whose coroutine returned (having completed the task, see `start`): frees
    /// its stack, drops it from the table, and counts it out.
    fn finish(&self, task: &TaskRef, local: &mut Local) {
        drop(local.co.take());
        if local.key != usize::MAX {
            self.tasks.borrow_mut().remove(local.key);
            local.key = usize::MAX;
        }
        self.retire(task);
    }

    /// Counts out a completed task.
    fn retire(&self, task: &TaskRef) {
        task.header.sched.state.finish();
        self.shared.task_finished(&task.header);
    }

    /// During a shutdown's cancellation, reschedules every parked task of this worker so it
    /// can be resumed with `Cancel`. Returns whether it found any.
    pub(super) fn cancel_parked(&self) -> bool {
        let tasks: Vec<TaskRef> = self.tasks.borrow().iter().map(|(_, t)| t.clone()).collect();
        let mut found = false;
        for task in tasks {
            // A new epoch, so the waiter the task registered can no longer wake it.
            if task.header.sched.state.cancel_park() {
                self.runq.borrow_mut().push_back(Some(task));
                found = true;
            }
        }
        found
    }

    /// Sleeps in `mio::Poll` until woken, the next timer, or I/O.
    fn idle(&self) {
        let remote = &self.shared.workers[self.index];
        self.answer_snapshot();
        if self.spin_for_work() {
            return;
        }
        remote.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if self.has_work() {
            self.shared.awake(self.index);
            return;
        }
        self.timers.drop_stale();
        let timeout = self
            .timers
            .next_deadline()
            .map(|d| d.saturating_duration_since(crate::clock::now()));
        if timeout != Some(Duration::ZERO) {
            if timeout.is_none() {
                remote.forever.store(true, Ordering::SeqCst);
                // A snapshot request that raced with us going to sleep.
                if remote.snapshot_req.load(Ordering::SeqCst) != self.answered.get() {
                    remote.forever.store(false, Ordering::SeqCst);
                    self.shared.awake(self.index);
                    return;
                }
            }
            let mut events = self.events.borrow_mut();
            // An interrupted poll (EINTR) just ends the wait early.
            let _ = self.poll.borrow_mut().poll(&mut events, timeout);
            remote.forever.store(false, Ordering::SeqCst);
            reactor::dispatch(&remote.io, &events);
        }
        self.shared.awake(self.index);
        crate::task::set_coarse_millis(crate::clock::coarse_millis());
        self.fire_timers();
    }

    /// Answers the deadlock detector's request for this worker's parked tasks, if one is new.
    pub(super) fn answer_snapshot(&self) {
        let remote = &self.shared.workers[self.index];
        let req = remote.snapshot_req.load(Ordering::SeqCst);
        if req == self.answered.get() {
            return;
        }
        self.answered.set(req);
        let now = crate::clock::coarse_millis();
        let tasks = self
            .tasks
            .borrow()
            .iter()
            .map(|(_, t)| snapshot(t, now))
            .collect();
        *remote.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = (req, tasks);
    }

    /// Whether anything became runnable for this worker (checked after announcing sleep).
    pub(super) fn has_work(&self) -> bool {
        let remote = &self.shared.workers[self.index];
        if !remote.inbox.is_empty()
            || !self.fresh.is_empty()
            || !self.shared.injector.is_empty()
            || self.shared.shutdown.load(Ordering::SeqCst)
        {
            return true;
        }
        if self.shared.cancelling.load(Ordering::SeqCst) && !self.tasks.borrow().is_empty() {
            return true;
        }
        self.shared.workers.iter().any(|r| !r.fresh.is_empty())
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Timers may hold waiters of tasks long finished; drop them before the tasks' table.
        self.timers.clear();
        // A runtime is only dropped with no task alive (block_on waits for all), but should a
        // started task remain, its coroutine must be unwound here, on the thread that ran it,
        // not wherever the last handle to the task happens to be dropped.
        for task in self.tasks.get_mut().drain() {
            // SAFETY: this is the task's owning worker, on its own thread, and the task is
            // not running (the worker loop has ended): nobody else touches its local data.
            let co = unsafe { task.header.sched.local() }.co.take();
            drop(co);
        }
    }
}
