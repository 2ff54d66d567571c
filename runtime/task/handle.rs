//! [`Task`]: the public handle to a running task that [`current`](crate::current) returns.

use std::fmt;

use super::cell::TaskRef;
use super::id::TaskId;

/// A handle to a running task, from [`current`](crate::current).
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// let name = rt.block_on(|| {
///     spindle::Builder::new().name("worker").spawn(|| spindle::current().name().map(String::from))
///         .unwrap().join().unwrap()
/// });
/// assert_eq!(name.as_deref(), Some("worker"));
/// ```
#[derive(Clone)]
pub struct Task {
    pub(crate) task: TaskRef,
}

impl Task {
    /// The task's id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(spindle::current().id().as_u64() > 0));
    /// ```
    pub fn id(&self) -> TaskId {
        self.task.header.id()
    }

    /// The task's name, if it has one. The first task of `block_on` is named `main`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert_eq!(spindle::current().name(), Some("main")));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.task.header.name()
    }

    /// Whether the task is a daemon.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(!spindle::current().is_daemon()));
    /// ```
    pub fn is_daemon(&self) -> bool {
        self.task.header.daemon
    }
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.task.header.label.id)
            .field("name", &self.name())
            .finish()
    }
}
