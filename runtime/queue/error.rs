//! The errors of a queue's non-waiting and timed operations: [`Full`] and [`Empty`].

use std::fmt;

/// [`try_put`](crate::queue::Queue::try_put) or
/// [`put_timeout`](crate::queue::Queue::put_timeout) found the queue full; the item comes
/// back with the error.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Full<T>(pub T);

impl<T> Full<T> {
    /// The item that could not be put.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle::queue::Queue::bounded(1);
    /// q.put(1);
    /// assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Full(..)")
    }
}

impl<T> fmt::Display for Full<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is full")
    }
}

impl<T> std::error::Error for Full<T> {}

/// [`try_get`](crate::queue::Queue::try_get) or
/// [`get_timeout`](crate::queue::Queue::get_timeout) found the queue empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Empty;

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is empty")
    }
}

impl std::error::Error for Empty {}
