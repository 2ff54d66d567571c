//! The iterators of [`Pool::imap`](crate::Pool::imap) and
//! [`Pool::imap_unordered`](crate::Pool::imap_unordered), and the jobs that feed them.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use super::result::{job, AsyncResult, Job, PoolError};
use crate::queue::Queue;

/// The iterator of [`Pool::imap`](crate::Pool::imap): each job's outcome in the items'
/// order, each as soon as it is in. A green thread parks while it waits for the next.
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
    results: VecDeque<AsyncResult<R>>,
}

impl<R: Send + 'static> Imap<R> {
    /// The jobs that run `f` on every item, and the iterator over their outcomes in the
    /// items' order.
    pub(super) fn new<F, A>(f: F, items: impl IntoIterator<Item = A>) -> (Imap<R>, Vec<Job>)
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
    {
        let f = Arc::new(f);
        let (results, jobs): (VecDeque<_>, Vec<_>) = items
            .into_iter()
            .map(|a| {
                let (result, slot) = AsyncResult::pending();
                let f = f.clone();
                (result, job(move || f(a), slot))
            })
            .unzip();
        (Imap { results }, jobs)
    }
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

/// The iterator of [`Pool::imap_unordered`](crate::Pool::imap_unordered): each job's outcome
/// in the order the jobs finish. A green thread parks while it waits for the next.
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
    done: Queue<Result<R, PoolError>>,
    /// Outcomes not yet yielded.
    remaining: usize,
}

impl<R: Send + 'static> ImapUnordered<R> {
    /// The jobs that run `f` on every item, and the iterator over their outcomes in the
    /// order the jobs finish.
    pub(super) fn new<F, A>(
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> (ImapUnordered<R>, Vec<Job>)
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
    {
        let f = Arc::new(f);
        let done = Queue::unbounded();
        let jobs: Vec<Job> = items
            .into_iter()
            .map(|a| {
                let f = f.clone();
                job(move || f(a), done.clone())
            })
            .collect();
        let remaining = jobs.len();
        (ImapUnordered { done, remaining }, jobs)
    }
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
