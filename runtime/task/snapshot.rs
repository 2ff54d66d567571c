//! A picture of a runtime's live tasks — what [`Runtime::dump`](crate::Runtime::dump)
//! returns, what the deadlock report and the "possibly stuck" warning print: each task's id,
//! name, state, what it waits on, the user's call that waits, and for how long.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::id::TaskId;
use super::wait_site::WaitSite;

/// What a task is doing, as [`TaskSnapshot::state`] reports it.
///
/// # Examples
///
/// ```
/// use spindle::TaskState;
/// assert_eq!(TaskState::Sleeping.to_string(), "sleeping");
/// assert_ne!(TaskState::Parked, TaskState::Runnable);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// On a worker (or, for a preemptive task, an OS thread), running now.
    Running,
    /// Ready to run, waiting for its turn (or not started yet).
    Runnable,
    /// Parked in a blocking call: a lock, a queue, a channel, a join, a socket.
    Parked,
    /// Parked in [`sleep`](crate::sleep).
    Sleeping,
    /// Parked while its [`spawn_blocking`](crate::spawn_blocking) job runs on another thread.
    Blocking,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            TaskState::Running => "running",
            TaskState::Runnable => "runnable",
            TaskState::Parked => "parked",
            TaskState::Sleeping => "sleeping",
            TaskState::Blocking => "blocking",
        })
    }
}

/// One live task in a [`TaskDump`].
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let rt = std::sync::Arc::new(rt);
/// let r = rt.clone();
/// let (tx, rx) = std::sync::mpsc::channel();
/// let t = std::thread::spawn(move || r.block_on(move || {
///     let m = spindle::sync::Mutex::new(());
///     let g = m.lock();
///     tx.send(()).unwrap();
///     spindle::sleep(std::time::Duration::from_millis(200));
///     drop(g);
/// }));
/// rx.recv().unwrap();
/// std::thread::sleep(std::time::Duration::from_millis(50));
/// let dump = rt.dump();
/// let main = dump.iter().find(|t| t.name() == Some("main")).unwrap();
/// assert_eq!(main.state(), spindle::TaskState::Sleeping);
/// assert_eq!(main.waiting_on(), Some("sleep"));
/// t.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    pub(crate) id: u64,
    pub(crate) name: Option<String>,
    pub(crate) state: TaskState,
    pub(crate) site: Option<WaitSite>,
    pub(crate) since: Duration,
}

impl TaskSnapshot {
    /// A snapshot of a task in `state` (waiting at `site`, if parked) for `since`.
    pub(crate) fn new(
        id: u64,
        name: Option<String>,
        state: TaskState,
        site: Option<WaitSite>,
        since: Duration,
    ) -> TaskSnapshot {
        TaskSnapshot {
            id,
            name,
            state,
            site,
            since,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId::new(self.id)
    }

    /// The task's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// What the task is doing.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// The blocking call the task is parked in (e.g. `"Mutex::lock"`, `"Receiver::recv"`,
    /// `"sleep"`), if it is parked in one.
    pub fn waiting_on(&self) -> Option<&str> {
        self.site.map(|s| s.what)
    }

    /// The user's call that waits (the caller of the blocking call), if parked.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.site.map(|s| s.location)
    }

    /// How long the task has been in its state, as far as the runtime knows: for a parked
    /// task, since its wait began (to a few milliseconds); for a running green thread,
    /// since the stall watchdog last saw its worker switch (zero with the watchdog off);
    /// zero for a runnable task and for a preemptive task.
    pub fn since(&self) -> Duration {
        self.since
    }

    /// `task 'name' (#id)`, or `task #id` for a task without a name.
    pub(crate) fn label(&self) -> String {
        label(self.id, self.name.as_deref())
    }

    /// The task's line in every report: `task 'name' (#id) parked for 1.2 s: waits in
    /// Mutex::lock at src/main.rs:10:5`, then `relation`, if any (`(held by task …)`).
    pub(crate) fn line(&self, relation: Option<&str>) -> String {
        let mut out = format!("{} {} for {}", self.label(), self.state, Secs(self.since));
        if let Some(site) = self.site {
            out.push_str(&format!(": waits in {} at {}", site.what, site.location));
        }
        if let Some(r) = relation {
            out.push(' ');
            out.push_str(r);
        }
        out
    }
}

/// `task 'name' (#id)`, or `task #id`.
pub(crate) fn label(id: u64, name: Option<&str>) -> String {
    match name {
        Some(name) => format!("task '{name}' (#{id})"),
        None => format!("task #{id}"),
    }
}

/// A duration as seconds with one decimal (`0.0 s`, `12.3 s`).
struct Secs(Duration);

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1} s", self.0.as_secs_f64())
    }
}

/// Every live task of a runtime at one moment, from [`Runtime::dump`](crate::Runtime::dump):
/// like Go's goroutine dump. Printed (`Display`), it is one line per task, ordered by id.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let dump = rt.dump();
/// assert!(dump.is_empty()); // nothing runs between block_on calls
/// assert!(dump.to_string().starts_with("spindle task dump: 0 live tasks"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskDump {
    pub(crate) tasks: Vec<TaskSnapshot>,
    /// Live tasks not listed: not started yet (their closures sit in queues), or on a worker
    /// that did not answer in time (it runs one task without yielding).
    pub(crate) unlisted: usize,
    /// Workers that did not answer (each busy with the task listed as running on it).
    pub(crate) busy_workers: Vec<usize>,
}

impl TaskDump {
    /// Orders the tasks by id.
    pub(crate) fn new(mut tasks: Vec<TaskSnapshot>, unlisted: usize, busy: Vec<usize>) -> Self {
        tasks.sort_by_key(|t| t.id);
        TaskDump {
            tasks,
            unlisted,
            busy_workers: busy,
        }
    }

    /// The tasks listed, by id.
    pub fn iter(&self) -> std::slice::Iter<'_, TaskSnapshot> {
        self.tasks.iter()
    }

    /// How many tasks are listed.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether no task is listed.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let live = self.tasks.len() + self.unlisted;
        write!(f, "spindle task dump: {live} live tasks")?;
        for t in &self.tasks {
            write!(f, "\n  {}", t.line(None))?;
        }
        if self.unlisted > 0 {
            write!(
                f,
                "\n  and {} more not listed (not started yet, or on a busy worker)",
                self.unlisted
            )?;
        }
        for w in &self.busy_workers {
            write!(
                f,
                "\n  worker {w} did not answer: it runs one task without yielding"
            )?;
        }
        Ok(())
    }
}

impl IntoIterator for TaskDump {
    type Item = TaskSnapshot;
    type IntoIter = std::vec::IntoIter<TaskSnapshot>;
    fn into_iter(self) -> Self::IntoIter {
        self.tasks.into_iter()
    }
}

impl<'a> IntoIterator for &'a TaskDump {
    type Item = &'a TaskSnapshot;
    type IntoIter = std::slice::Iter<'a, TaskSnapshot>;
    fn into_iter(self) -> Self::IntoIter {
        self.tasks.iter()
    }
}
