//! The deterministic scheduler's state: a seeded generator that makes every choice (which
//! runnable task runs next; whether the running task gives way at a scheduling point), the
//! PCT priorities, the virtual clock, and the trace of the run. One worker's thread touches it.
//!
//! Two policies, as shuttle has them:
//! - **random**: every choice uniform among the candidates;
//! - **PCT** (probabilistic concurrency testing, Burckhardt et al. 2010): every task gets a
//!   random priority at spawn and the highest-priority runnable task always runs; at `depth
//!   - 1` steps chosen at random among the first `steps`, the running task drops below every
//!   other. A bug that needs `d` ordering constraints is found in one run with probability at
//!   least `1 / (n * k^(d-1))` for `n` tasks and `k` steps. A task that yields drops below
//!   every other too (so a task spinning on `yield_now` lets the others run).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

use super::trace::{Event, Step, Trace};
use crate::task::TaskRef;

/// How a deterministic runtime chooses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Policy {
    Random,
    Pct {
        /// The bug depth `d` aimed at: `d - 1` priority change points.
        depth: u32,
        /// The number of steps the change points are drawn among.
        steps: u64,
    },
}

/// What one deterministic run starts from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Setup {
    pub(crate) seed: u64,
    pub(crate) policy: Policy,
    /// After this many steps the run is stopped as a livelock.
    pub(crate) max_steps: u64,
}

impl Setup {
    /// The setup of `Runtime::deterministic(seed)`.
    pub(crate) fn random(seed: u64) -> Setup {
        Setup {
            seed,
            policy: Policy::Random,
            max_steps: DEFAULT_MAX_STEPS,
        }
    }
}

/// The default step limit of a run.
pub(crate) const DEFAULT_MAX_STEPS: u64 = 10_000_000;

/// Priorities of tasks that yielded start here and count down (below every spawn priority,
/// above every change point's).
const DEMOTED: u64 = 1 << 62;

/// A task as the scheduler knows it in this run.
#[derive(Clone, Copy)]
struct Info {
    ordinal: u32,
    priority: u64,
}

/// The deterministic scheduler of one worker.
#[derive(Default)]
pub(crate) struct Det {
    rng: Cell<u64>,
    policy: Cell<Option<Policy>>,
    max_steps: Cell<u64>,
    /// Scheduling steps so far (switches and scheduling points).
    step: Cell<u64>,
    /// PCT change points not reached yet, latest first.
    change_points: RefCell<Vec<u64>>,
    /// The next priority for a task that yields.
    demoted: Cell<u64>,
    tasks: RefCell<HashMap<u64, Info>>,
    trace: RefCell<Trace>,
    /// Virtual nanoseconds since the run began.
    elapsed: Cell<u64>,
    /// The operation the running task gave way before, if it did.
    gave_way: Cell<Option<&'static str>>,
    /// Why the run was stopped, if it was.
    aborted: RefCell<Option<String>>,
}

impl Det {
    /// Starts a run.
    pub(crate) fn reset(&self, setup: Setup) {
        self.rng.set(setup.seed);
        self.policy.set(Some(setup.policy));
        self.max_steps.set(setup.max_steps);
        self.step.set(0);
        self.demoted.set(DEMOTED);
        self.tasks.borrow_mut().clear();
        *self.trace.borrow_mut() = Trace::default();
        self.elapsed.set(0);
        self.gave_way.set(None);
        *self.aborted.borrow_mut() = None;
        let mut points = Vec::new();
        if let Policy::Pct { depth, steps } = setup.policy {
            for _ in 1..depth {
                points.push(1 + self.below(steps.max(1)));
            }
            points.sort_unstable_by(|a, b| b.cmp(a));
        }
        *self.change_points.borrow_mut() = points;
    }

    /// Ends a run: its trace.
    pub(crate) fn take_trace(&self) -> Trace {
        let mut trace = std::mem::take(&mut *self.trace.borrow_mut());
        trace.step_count = self.step.get();
        trace
    }

    /// Why the run was stopped, if it was (taken).
    pub(crate) fn take_aborted(&self) -> Option<String> {
        self.aborted.borrow_mut().take()
    }

    /// Whether the run is being stopped.
    pub(crate) fn aborting(&self) -> bool {
        self.aborted.borrow().is_some()
    }

    /// The next number of the generator (splitmix64: every seed, even 0, starts a good
    /// sequence).
    fn next(&self) -> u64 {
        let s = self.rng.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.rng.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// Notes a task spawned in this run: its number and (PCT) its priority.
    pub(crate) fn spawned(&self, task: &TaskRef) {
        let id = task.header.label.id;
        let mut tasks = self.tasks.borrow_mut();
        if tasks.contains_key(&id) {
            return;
        }
        let ordinal = tasks.len() as u32;
        let priority = self.next() | (1 << 63);
        tasks.insert(id, Info { ordinal, priority });
        let name = task.header.name().map(String::from);
        self.trace.borrow_mut().names.push(name);
    }

    fn info(&self, id: u64) -> Info {
        self.tasks.borrow().get(&id).copied().unwrap_or(Info {
            ordinal: u32::MAX,
            priority: 0,
        })
    }

    fn set_priority(&self, id: u64, priority: u64) {
        if let Some(info) = self.tasks.borrow_mut().get_mut(&id) {
            info.priority = priority;
        }
    }

    /// Counts a step of task `id`; at a PCT change point, drops its priority below every
    /// other's. Stops the run at the step limit.
    fn step(&self, id: u64) {
        let step = self.step.get() + 1;
        self.step.set(step);
        let mut points = self.change_points.borrow_mut();
        if points.last() == Some(&step) {
            points.pop();
            // The i-th change point gives priority d - i: lower than everything before it.
            self.set_priority(id, points.len() as u64 + 1);
        }
        if step > self.max_steps.get() && !self.aborting() {
            *self.aborted.borrow_mut() = Some(format!(
                "livelock: the run took more than {} scheduling steps (a task spinning on \
                 yield_now or try_* forever? raise Config::max_steps for longer bodies)",
                self.max_steps.get()
            ));
        }
    }

    /// Which entry of the run queue runs next (the queue is not empty).
    pub(crate) fn pick(&self, runq: &VecDeque<Option<TaskRef>>) -> usize {
        match self.policy.get() {
            Some(Policy::Pct { .. }) => {
                let mut best = (0, 0);
                for (i, t) in runq.iter().enumerate() {
                    let p = t
                        .as_ref()
                        .map_or(0, |t| self.info(t.header.label.id).priority);
                    if i == 0 || p > best.1 {
                        best = (i, p);
                    }
                }
                best.0
            }
            _ => self.below(runq.len() as u64) as usize,
        }
    }

    /// At a scheduling point of the running task `id` before `what`: whether it gives way
    /// to one of the `runq` tasks.
    pub(crate) fn give_way(
        &self,
        id: u64,
        what: &'static str,
        runq: &VecDeque<Option<TaskRef>>,
    ) -> bool {
        self.step(id);
        if runq.is_empty() {
            return false;
        }
        let switch = match self.policy.get() {
            Some(Policy::Pct { .. }) => {
                let mine = self.info(id).priority;
                runq.iter()
                    .flatten()
                    .any(|t| self.info(t.header.label.id).priority > mine)
            }
            _ => self.below(runq.len() as u64 + 1) != 0,
        };
        if switch {
            self.gave_way.set(Some(what));
        }
        switch
    }

    /// Records how a run of task `id` ended: yielded (or gave way), parked on `parked`, or
    /// finished.
    pub(crate) fn ran(&self, id: u64, outcome: Outcome) {
        let event = match outcome {
            Outcome::Yield => match self.gave_way.take() {
                Some(what) => Event::GaveWay(what),
                None => {
                    if let Some(Policy::Pct { .. }) = self.policy.get() {
                        let p = self.demoted.get() - 1;
                        self.demoted.set(p);
                        self.set_priority(id, p);
                    }
                    Event::Yield
                }
            },
            Outcome::Park(what) => Event::Park(what),
            Outcome::Finish => Event::Finish,
        };
        self.step(id);
        self.push(id, event);
    }

    /// Records a task woken by a thread outside the runtime.
    pub(crate) fn outside(&self, id: u64) {
        self.push(id, Event::Outside);
    }

    fn push(&self, id: u64, event: Event) {
        let task = self.info(id).ordinal;
        let at = self.elapsed.get();
        self.trace.borrow_mut().steps.push(Step { at, task, event });
    }

    /// Virtual nanoseconds since the run began.
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed.get()
    }

    /// Moves the virtual clock to `nanos` since the run began (every task blocked).
    pub(crate) fn jump(&self, nanos: u64) {
        self.elapsed.set(nanos.max(self.elapsed.get()));
        let at = self.elapsed.get();
        self.trace.borrow_mut().steps.push(Step {
            at,
            task: u32::MAX,
            event: Event::Clock,
        });
    }
}

/// How a task's run ended, for [`Det::ran`].
#[derive(Clone, Copy, Debug)]
pub(crate) enum Outcome {
    Yield,
    Park(&'static str),
    Finish,
}

/// How a run of a task ended, for `Worker::record_det`.
pub(super) enum Ran {
    Yield,
    Park,
    Finish,
}
