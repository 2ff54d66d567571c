//! The schedule a deterministic run followed, as [`Trace`]: one step per switch (the task
//! that ran, at what virtual time, and why it gave the worker back), and the events between
//! (the clock jumping to the next timer, a wake from outside the runtime). Tasks are named by
//! their order of spawning in the run (`task 0` is `block_on`'s), never by process-wide ids,
//! so the traces of two runs compare equal when their schedules are the same.

use std::fmt;

/// Why a step of a [`Trace`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Event {
    /// The task called `yield_now` (or `sleep(ZERO)`).
    Yield,
    /// The scheduler switched away at a scheduling point before this operation.
    GaveWay(&'static str),
    /// The task parked on this operation.
    Park(&'static str),
    /// The task ended.
    Finish,
    /// No task could run: the virtual clock jumped to the next timer (the step's time).
    Clock,
    /// The task was woken by a thread outside the runtime (not reproducible).
    Outside,
}

/// One step of a schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Step {
    /// Virtual nanoseconds since the run began.
    pub(crate) at: u64,
    /// The task, by order of spawning (unused for [`Event::Clock`]).
    pub(crate) task: u32,
    pub(crate) event: Event,
}

/// The schedule of one deterministic run, from [`check::trace`](crate::check::trace): one
/// line per switch — virtual time, task, why it switched. Tasks are numbered by their order of
/// spawning in the run (`task 0` is the body given to `block_on`), so two runs with the same
/// schedule give equal traces.
///
/// # Examples
///
/// ```
/// use spindle::{check, spawn, yield_now};
///
/// let body = || {
///     let h = spawn(|| yield_now());
///     h.join().unwrap();
/// };
/// let trace = check::trace(7, body);
/// assert_eq!(trace, check::trace(7, body)); // the same seed, the same schedule
/// assert!(trace.to_string().contains("task 1"));
/// assert!(trace.len() >= 3);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Trace {
    pub(crate) steps: Vec<Step>,
    /// The name of each task, by order of spawning.
    pub(crate) names: Vec<Option<String>>,
    /// Scheduling steps taken (switches and scheduling points passed).
    pub(crate) step_count: u64,
}

impl Trace {
    /// The number of steps (switches and clock jumps).
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether no step was recorded.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The line of step `i`, as [`Display`](fmt::Display) prints it.
    pub(crate) fn line(&self, i: usize) -> String {
        let s = &self.steps[i];
        let secs = s.at / 1_000_000_000;
        let micros = (s.at % 1_000_000_000) / 1_000;
        let time = format!("{secs:>6}.{micros:06} s");
        if s.event == Event::Clock {
            return format!("{time}  clock jumps (every task blocked)");
        }
        let name = match self.names.get(s.task as usize) {
            Some(Some(n)) => format!(" '{n}'"),
            _ => String::new(),
        };
        let why = match s.event {
            Event::Yield => "yielded".to_string(),
            Event::GaveWay(what) => format!("gave way at {what}"),
            Event::Park(what) => format!("parked in {what}"),
            Event::Finish => "finished".to_string(),
            Event::Outside => "woken from outside the runtime".to_string(),
            Event::Clock => unreachable!("handled above"),
        };
        format!("{time}  task {}{name}  {why}", s.task)
    }

    /// The last `n` lines, with the number of lines left out before them.
    pub(crate) fn tail(&self, n: usize) -> String {
        let from = self.steps.len().saturating_sub(n);
        let mut out = String::new();
        if from > 0 {
            out.push_str(&format!("  ... {from} earlier steps\n"));
        }
        for i in from..self.steps.len() {
            out.push_str("  ");
            out.push_str(&self.line(i));
            out.push('\n');
        }
        out
    }

    /// The first step where `self` and `other` differ, as (index, this line, that line).
    pub(crate) fn first_difference(&self, other: &Trace) -> Option<(usize, String, String)> {
        let n = self.steps.len().max(other.steps.len());
        (0..n).find_map(|i| {
            let a = (i < self.steps.len()).then(|| self.line(i));
            let b = (i < other.steps.len()).then(|| other.line(i));
            (a != b).then(|| {
                let end = || "(end of the schedule)".to_string();
                (i, a.unwrap_or_else(end), b.unwrap_or_else(end))
            })
        })
    }
}

impl fmt::Display for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for i in 0..self.steps.len() {
            writeln!(f, "{}", self.line(i))?;
        }
        Ok(())
    }
}
