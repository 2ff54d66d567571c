//! The iterators of [`Pool::imap`] and [`Pool::imap_unordered`].

use std::collections::VecDeque;
use std::fmt;

#[cfg(doc)]
use super::Pool;
use super::{AsyncResult, PoolError};
use crate::queue::Queue;

/// The iterator of [`Pool::imap`]: each job's outcome in the items' order, each as soon as
/// it is in. A green thread parks while it waits for the next.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build()?;
/// rt.block_on(|| {
///     let pool = spindle::Pool::new(2).unwrap();
///     let mut it = pool.imap(|s: &str| s.len(), ["a", "bcd"]);
///     assert_eq!(it.len(), 2);
///     assert_eq!(it.next().unwrap().unwrap(), 1);
///     assert_eq!(it.next().unwrap().unwrap(), 3);
///     assert!(it.next().is_none());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Imap<R> {
    pub(super) results: VecDeque<AsyncResult<R>>,
}

impl<R> Iterator for Imap<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Result<R, PoolError>> {
        self.results.pop_front().map(AsyncResult::get)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.results.len(), Some(self.results.len()))
    }
}

impl<R> ExactSizeIterator for Imap<R> {}

impl<R> fmt::Debug for Imap<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Imap")
            .field("remaining", &self.results.len())
            .finish()
    }
}

/// The iterator of [`Pool::imap_unordered`]: each job's outcome in the order the jobs
/// finish. A green thread parks while it waits for the next.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::preemptive().build()?;
/// let n = rt.block_on(|| {
///     let pool = spindle::Pool::new(2).unwrap();
///     pool.imap_unordered(|x: u8| x, 0..7).filter(Result::is_ok).count()
/// });
/// assert_eq!(n, 7);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct ImapUnordered<R> {
    pub(super) done: Queue<Result<R, PoolError>>,
    /// Outcomes not yet yielded.
    pub(super) remaining: usize,
}

impl<R: Send> Iterator for ImapUnordered<R> {
    type Item = Result<R, PoolError>;

    fn next(&mut self) -> Option<Result<R, PoolError>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        Some(self.done.get())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<R: Send> ExactSizeIterator for ImapUnordered<R> {}

impl<R> fmt::Debug for ImapUnordered<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImapUnordered")
            .field("remaining", &self.remaining)
            .finish()
    }
}
