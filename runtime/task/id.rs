//! Task ids and the payload of a task cancelled at shutdown: the small public types a task
//! is known by.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The id of the next task. Ids start at 1 and are never reused.
#[inline]
pub(crate) fn next_id() -> NonZeroU64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NonZeroU64::new(NEXT.fetch_add(1, Ordering::Relaxed)).expect("task id counter overflowed")
}

/// A task's unique id within the process.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let (a, b) = rt.block_on(|| {
///     let h = spindle::spawn(|| ());
///     (spindle::current().id(), h.id())
/// });
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(NonZeroU64);

impl TaskId {
    /// The id as a number.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::preemptive().build().unwrap();
    /// assert!(rt.block_on(|| spindle::current().id().as_u64()) >= 1);
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

impl TaskId {
    /// The id of a task whose header holds `id` (ids start at 1).
    pub(crate) fn new(id: u64) -> TaskId {
        TaskId(NonZeroU64::new(id).expect("task ids start at 1"))
    }
}
