//! A deterministic runtime's `block_on`: its one worker runs on the calling thread, under
//! the seeded scheduler of `det.rs` and a virtual clock. When no task can run: wakes from
//! other threads are taken in; a running `spawn_blocking` job is awaited; sockets are polled
//! once without waiting; then the clock jumps to the next timer. With no timer left, a wait
//! that something outside the runtime could end is awaited in real time; otherwise, after a
//! 50 ms grace (a thread may hold a handle it has not used yet), the tasks are deadlocked
//! and the report is made — no detector thread, no 200 ms rounds.

use std::any::Any;
use std::sync::atomic::{fence, Ordering};
use std::time::{Duration, Instant};

use super::deadlock::deadlock_report;
use super::det::{Det, Outcome, Ran, Setup};
use super::reactor;
use super::shared::{LIVE_ALL, LIVE_NONDAEMON};
use super::snapshot::snapshot;
use super::spawn::spawn;
use super::trace::Trace;
use super::worker::{self, Worker};
use crate::stack::overflow;
use crate::task::{JoinHandle, SpawnOptions, TaskRef, TaskState};

/// How long every task must have been blocked, in real time, with nothing pending, before a
/// deterministic runtime reports a deadlock.
const DEADLOCK_GRACE: Duration = Duration::from_millis(50);

/// How a deterministic `block_on` ended.
pub(crate) enum DetEnd<T> {
    /// The first task returned this, and every non-daemon task ended.
    Value(T),
    /// The first task panicked with this payload.
    Panicked(Box<dyn Any + Send>),
    /// Every task blocked for good: the `deadlock:` report.
    Deadlock(String),
    /// The run was stopped (a livelock): why.
    Aborted(String),
}

/// The scheduling-point hook of a thread running a deterministic runtime.
fn sched_hook(what: &'static str) -> bool {
    let Some(w) = worker::current() else {
        return false;
    };
    let (Some(det), Some(task)) = (w.det.as_deref(), crate::task::running()) else {
        return false;
    };
    if w.shared.cancelling.load(Ordering::Relaxed) {
        // Give way, so that the cancellation reaches a task spinning on `try_*` calls.
        return true;
    }
    // SAFETY: the running task is alive while it runs (its worker holds it).
    let id = unsafe { task.as_ref().header.label.id };
    det.give_way(id, what, &w.runq.borrow())
}

/// The calling thread as the worker of a deterministic runtime, for one `block_on`: its
/// scheduler, clock and scheduling points are this worker's until the guard drops.
struct Enter<'w> {
    worker: &'w Worker,
}

impl<'w> Enter<'w> {
    fn new(worker: &'w Worker) -> Enter<'w> {
        worker::set_current(Some(worker));
        overflow::ensure_altstack();
        crate::task::set_coarse_millis(crate::clock::coarse_millis());
        crate::clock::set_virtual(Some(crate::clock::virtual_epoch()));
        crate::task::set_sched_hook(Some(sched_hook));
        Enter { worker }
    }
}

impl Drop for Enter<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The runtime's own code failed mid-run (a bug): unwind every started task here,
            // on its thread, before the caller's frame (which the first task may borrow) goes.
            let tasks: Vec<_> = self.worker.tasks.borrow_mut().drain().collect();
            for task in tasks {
                // SAFETY: this is the task's worker thread and no task is running: nobody
                // else touches its local data.
                drop(unsafe { task.header.sched.local() }.co.take());
            }
            self.worker.runq.borrow_mut().clear();
        }
        crate::task::set_sched_hook(None);
        crate::clock::set_virtual(None);
        worker::set_current(None);
    }
}

impl Worker {
    /// [`next_task`](Worker::next_task) of a deterministic runtime: the seeded scheduler's
    /// pick from the run queue.
    #[cold]
    #[inline(never)]
    pub(super) fn next_task_det(&self) -> Option<TaskRef> {
        let det = self.det.as_deref()?;
        let mut runq = self.runq.borrow_mut();
        if runq.is_empty() {
            return None;
        }
        let i = det.pick(&runq);
        runq.remove(i).flatten()
    }

    /// [`push_fresh`](Worker::push_fresh) on a deterministic runtime: numbered for the trace,
    /// and straight into the run queue (one worker: nobody steals).
    #[cold]
    #[inline(never)]
    pub(super) fn push_det(&self, task: TaskRef) {
        if let Some(det) = self.det.as_deref() {
            det.spawned(&task);
        }
        self.runq.borrow_mut().push_back(Some(task));
    }

    /// Tells a deterministic runtime's scheduler how a run of `task` ended.
    #[cold]
    #[inline(never)]
    pub(super) fn record_det(&self, task: &TaskRef, ran: Ran) {
        let Some(det) = self.det.as_deref() else {
            return;
        };
        let outcome = match ran {
            Ran::Yield => Outcome::Yield,
            Ran::Park => {
                let site = task.header.sched.wait_site.get();
                Outcome::Park(site.map_or("park", |s| s.what))
            }
            Ran::Finish => Outcome::Finish,
        };
        det.ran(task.header.label.id, outcome);
    }

    /// Runs `f` as the first task of this deterministic worker's runtime on the calling
    /// thread, with the scheduler seeded by `setup`, until every task has ended; cancels the
    /// daemons left. Returns how it ended and the schedule it followed.
    pub(super) fn block_on_det<F, T>(
        &self,
        setup: Setup,
        stuck_after: Option<Duration>,
        f: F,
    ) -> (DetEnd<T>, Trace)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let det = self.det.as_deref().expect("a deterministic worker");
        det.reset(setup);
        let enter = Enter::new(self);
        let options = SpawnOptions::first_task(self.shared.stack_size);
        // Tasks spawned from outside (`Runtime::spawn`) since the last run go first.
        self.take_spawned_outside();
        let handle = JoinHandle::first_task(spawn(self.shared.clone(), f, options));
        let report = self.drive(det, LIVE_NONDAEMON, stuck_after);
        if self.shared.live.load(Ordering::Acquire) != 0 {
            self.shared.cancelling.store(true, Ordering::SeqCst);
            self.drive(det, LIVE_ALL, stuck_after);
        }
        // Set by the daemons' cancellation, a deadlock report or a livelock's stop.
        self.shared.cancelling.store(false, Ordering::SeqCst);
        // Timers of waits that ended without them: the next run starts with none.
        self.timers.reset();
        drop(enter);
        let aborted = det.take_aborted();
        let trace = det.take_trace();
        let end = match (report, aborted) {
            (Some(report), _) => {
                drop(handle.join());
                DetEnd::Deadlock(report)
            }
            (None, Some(why)) => {
                drop(handle.join());
                DetEnd::Aborted(why)
            }
            (None, None) => match handle.join() {
                Ok(v) => DetEnd::Value(v),
                Err(payload) => DetEnd::Panicked(payload),
            },
        };
        (end, trace)
    }

    /// Runs tasks until the `mask` bits of the live count read zero; returns the deadlock
    /// report if every task blocked for good first (then cancels them all).
    fn drive(&self, det: &Det, mask: u64, stuck_after: Option<Duration>) -> Option<String> {
        let mut report = None;
        // Since when every task has waited on the outside, and whether that was warned of.
        let mut quiet: Option<(Instant, bool)> = None;
        loop {
            if self.shared.live.load(Ordering::Acquire) & mask == 0 {
                return report;
            }
            if det.aborting() && !self.shared.cancelling.load(Ordering::Relaxed) {
                self.shared.cancelling.store(true, Ordering::SeqCst);
            }
            if let Some(task) = self.next_task() {
                quiet = None;
                self.grace_ends.set(None);
                self.run_task(task);
                continue;
            }
            match self.det_idle(det) {
                Idle::Progress => {
                    quiet = None;
                    self.grace_ends.set(None);
                }
                Idle::Deadlock(r) => {
                    // Unwind the blocked tasks, as `block_on` does after a report.
                    report.get_or_insert(r);
                    self.shared.cancelling.store(true, Ordering::SeqCst);
                }
                Idle::Outside => {
                    let (since, warned) = quiet.get_or_insert_with(|| (Instant::now(), false));
                    if let Some(after) = stuck_after {
                        if !*warned && since.elapsed() >= after {
                            self.warn_stuck(after);
                            *warned = true;
                        }
                    }
                }
            }
        }
    }

    /// What to do with no task runnable: take what came from outside, cancel parked tasks
    /// when cancelling, wait for outside work, move the clock, or find a deadlock.
    fn det_idle(&self, det: &Det) -> Idle {
        self.answer_snapshot();
        if self.drain_inbox() | self.take_spawned_outside() {
            return Idle::Progress;
        }
        if self.shared.cancelling.load(Ordering::SeqCst) && self.cancel_parked() {
            return Idle::Progress;
        }
        let remote = self.remote();
        // A blocking job ends by itself, and wakes its task: wait for it (not reproducible).
        if !self.shared.blocking.is_idle() {
            self.wait_outside(Some(Duration::from_millis(100)));
            return Idle::Progress;
        }
        let sockets = remote.io_count.load(Ordering::Relaxed) != 0;
        if sockets {
            self.wait_outside(Some(Duration::ZERO));
            if self.drain_inbox() || !self.runq.borrow().is_empty() {
                return Idle::Progress;
            }
        }
        self.timers.drop_stale();
        if let Some(deadline) = self.timers.next_deadline() {
            let epoch = crate::clock::virtual_epoch();
            let at = deadline.saturating_duration_since(epoch).as_nanos();
            det.jump(u64::try_from(at).unwrap_or(u64::MAX));
            crate::clock::set_virtual(Some(epoch + Duration::from_nanos(det.elapsed())));
            self.fire_timers();
            return Idle::Progress;
        }
        // No timer: unless something outside the runtime can end a wait, this is for good.
        let now = crate::clock::coarse_millis();
        let blocked: Vec<_> = self
            .tasks
            .borrow()
            .iter()
            .map(|(_, t)| snapshot(t, now))
            .collect();
        let outside = sockets
            || blocked.is_empty()
            || blocked
                .iter()
                .any(|b| b.state == TaskState::Runnable || b.site.is_none_or(|s| s.outside));
        if !outside {
            // A thread given a handle it has not used yet (a sender moved into it) is
            // invisible to the wait sites: give it a moment, as the detector of the other
            // runtimes does, before calling this a deadlock.
            if self.grace_ends.get().is_none() {
                self.grace_ends.set(Some(Instant::now() + DEADLOCK_GRACE));
            }
            if self
                .grace_ends
                .get()
                .is_some_and(|end| Instant::now() < end)
            {
                self.wait_outside(Some(Duration::from_millis(5)));
                return Idle::Outside;
            }
            return Idle::Deadlock(deadlock_report(&blocked));
        }
        self.wait_outside(Some(Duration::from_millis(100)));
        Idle::Outside
    }

    /// Moves the tasks spawned onto the runtime from outside (the injector) into the run
    /// queue, in their order; returns whether there were any.
    fn take_spawned_outside(&self) -> bool {
        let mut any = false;
        loop {
            match self.shared.injector.steal() {
                crossbeam_deque::Steal::Success(t) => {
                    any = true;
                    self.push_det(t);
                }
                crossbeam_deque::Steal::Empty => return any,
                crossbeam_deque::Steal::Retry => continue,
            }
        }
    }

    /// Sleeps in the poll until a thread outside the runtime wakes a task, a socket is ready,
    /// or `timeout` passes.
    fn wait_outside(&self, timeout: Option<Duration>) {
        let remote = self.remote();
        remote.sleeping.store(true, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if !self.has_work() {
            let mut events = self.events.borrow_mut();
            // An interrupted poll (EINTR) just ends the wait early.
            let _ = self.poll.borrow_mut().poll(&mut events, timeout);
            let before = self.runq.borrow().len();
            reactor::dispatch(&remote.io, &events);
            // Tasks a socket's readiness woke: outside the schedule's control, so named.
            if let Some(det) = self.det.as_deref() {
                for t in self.runq.borrow().iter().skip(before).flatten() {
                    det.outside(t.header.label.id);
                }
            }
        }
        self.shared.awake(self.index);
        crate::task::set_coarse_millis(crate::clock::coarse_millis());
    }

    /// The "possibly stuck" warning of a deterministic runtime waiting on the outside.
    fn warn_stuck(&self, after: Duration) {
        let now = crate::clock::coarse_millis();
        let mut lines = String::new();
        for (_, t) in self.tasks.borrow().iter() {
            lines.push_str("\n  ");
            lines.push_str(&snapshot(t, now).line(None));
        }
        super::report::warn(
            super::report::Kind::Stuck,
            self.shared.stderr_reports,
            &format!(
                "possibly stuck: every task of the deterministic runtime has been blocked for \
                 {} s on waits that something outside the runtime could end; still \
                 waiting{lines}",
                after.as_secs()
            ),
        );
    }
}

/// What [`Worker::det_idle`] found.
enum Idle {
    /// Something can run now.
    Progress,
    /// Waiting on something outside the runtime.
    Outside,
    /// Every task is blocked for good.
    Deadlock(String),
}
