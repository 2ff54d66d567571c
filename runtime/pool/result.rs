//! What a pool's jobs give back: [`AsyncResult`], [`PoolError`], and the plumbing that
//! makes every job report exactly once (its value, its panic, or `Terminated` if it is
//! dropped unrun).

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::time::Duration;

use crate::queue::Queue;
use crate::sync::{Event, Mutex};

/// Why an [`AsyncResult`] (or [`Pool::map`](crate::Pool::map),
/// [`Pool::imap`](crate::Pool::imap)) gave no value.
///
/// Not `Sync` (the panic payload is not), like the `Err` of
/// [`JoinHandle::join`](crate::JoinHandle::join); its `Display` can be carried instead.
///
/// # Examples
///
/// ```
/// use spindle::{Pool, PoolError, Runtime};
/// let rt = Runtime::cooperative().build()?;
/// let err = rt.block_on(|| Pool::new(1).unwrap().apply_async(|| panic!("boom")).get());
/// match err {
///     Err(PoolError::Panicked(p)) => assert_eq!(p.downcast_ref::<&str>(), Some(&"boom")),
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub enum PoolError {
    /// [`AsyncResult::get_timeout`] gave up waiting; the job may still run, and the result
    /// can still be waited for (Python's `multiprocessing.TimeoutError`).
    Timeout,
    /// The job panicked; this is its payload. The pool goes on.
    Panicked(Box<dyn Any + Send>),
    /// The job was dropped unrun: its pool was terminated or dropped, or its workers were
    /// cancelled because their runtime's `block_on` ended.
    Terminated,
}

impl PoolError {
    /// The panic message, if this is a panic with a string payload.
    fn panic_message(&self) -> Option<&str> {
        match self {
            PoolError::Panicked(p) => p
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| p.downcast_ref::<String>().map(String::as_str)),
            _ => None,
        }
    }
}

impl fmt::Debug for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("Timeout"),
            PoolError::Terminated => f.write_str("Terminated"),
            PoolError::Panicked(_) => match self.panic_message() {
                Some(m) => f.debug_tuple("Panicked").field(&m).finish(),
                None => f.write_str("Panicked(..)"),
            },
        }
    }
}

impl fmt::Display for PoolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout => f.write_str("timed out waiting for the job's result"),
            PoolError::Terminated => {
                f.write_str("the job was dropped unrun: its pool was terminated")
            }
            PoolError::Panicked(_) => match self.panic_message() {
                Some(m) => write!(f, "the job panicked: {m}"),
                None => f.write_str("the job panicked"),
            },
        }
    }
}

impl std::error::Error for PoolError {}

/// Where a job's outcome goes.
pub(super) trait Sink<T>: Send + 'static {
    fn send(&self, outcome: Result<T, PoolError>);
}

/// Hands a job's outcome to its sink exactly once: dropped without reporting (the job was
/// dropped unrun, or unwound by a cancellation), it reports [`PoolError::Terminated`].
struct Reporter<T, S: Sink<T>> {
    sink: Option<S>,
    _outcome: PhantomData<fn(T)>,
}

impl<T, S: Sink<T>> Reporter<T, S> {
    fn new(sink: S) -> Reporter<T, S> {
        Reporter {
            sink: Some(sink),
            _outcome: PhantomData,
        }
    }

    fn report(mut self, outcome: Result<T, PoolError>) {
        if let Some(sink) = self.sink.take() {
            sink.send(outcome);
        }
    }
}

impl<T, S: Sink<T>> Drop for Reporter<T, S> {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            sink.send(Err(PoolError::Terminated));
        }
    }
}

/// A queued job, type-erased: runs the user's function and reports its outcome.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// Wraps `f` as a job reporting to `sink`.
pub(super) fn job<F, T, S>(f: F, sink: S) -> Job
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
    S: Sink<T>,
{
    let reporter = Reporter::new(sink);
    Box::new(move || match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => reporter.report(Ok(v)),
        // The runtime is cancelling this worker: go on unwinding (the reporter's drop says
        // Terminated), as the cancellation must not be swallowed.
        Err(p) if p.is::<crate::Cancelled>() => {
            drop(reporter);
            panic::resume_unwind(p)
        }
        Err(p) => reporter.report(Err(PoolError::Panicked(p))),
    })
}

/// The slot an [`AsyncResult`] waits on.
pub(super) struct Slot<T> {
    /// The outcome, once reported; `None` again after `get_timeout` took it.
    outcome: Mutex<Option<Result<T, PoolError>>>,
    /// Set once the outcome is in.
    done: Event,
}

impl<T: Send + 'static> Sink<T> for Arc<Slot<T>> {
    fn send(&self, outcome: Result<T, PoolError>) {
        *self.outcome.lock() = Some(outcome);
        self.done.set();
    }
}

impl<T: Send + 'static> Sink<T> for Queue<Result<T, PoolError>> {
    fn send(&self, outcome: Result<T, PoolError>) {
        self.put(outcome);
    }
}

/// The result of [`Pool::apply_async`](crate::Pool::apply_async), to be waited for: Python's
/// `AsyncResult`.
///
/// Dropping it does not cancel the job; the job runs and its value is dropped.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::preemptive().build()?;
/// rt.block_on(|| {
///     let pool = spindle::Pool::new(2).unwrap();
///     let r = pool.apply_async(|| 6 * 7);
///     assert_eq!(r.get().unwrap(), 42);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AsyncResult<T> {
    slot: Arc<Slot<T>>,
}

impl<T> AsyncResult<T> {
    /// An unfilled result and the sink that fills it.
    pub(super) fn pending() -> (AsyncResult<T>, Arc<Slot<T>>) {
        let slot = Arc::new(Slot {
            outcome: Mutex::new(None),
            done: Event::new(),
        });
        (AsyncResult { slot: slot.clone() }, slot)
    }

    /// Waits for the job and returns its value: `Err` with [`PoolError::Panicked`] if it
    /// panicked, or [`PoolError::Terminated`] if it was dropped unrun. A green thread parks
    /// while it waits; an OS thread blocks.
    ///
    /// # Panics
    ///
    /// If a [`get_timeout`](AsyncResult::get_timeout) already returned the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// let v = rt.block_on(|| spindle::Pool::new(1).unwrap().apply_async(|| "done").get());
    /// assert_eq!(v.unwrap(), "done");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn get(self) -> Result<T, PoolError> {
        self.slot.done.wait();
        self.take()
    }

    /// Like [`get`](AsyncResult::get), but gives up after `timeout` with
    /// [`PoolError::Timeout`] (Python's `get(timeout=...)`); the job goes on, and the result
    /// can be waited for again. Any other outcome is returned, and is then gone: a later
    /// `get` or `get_timeout` panics.
    ///
    /// # Panics
    ///
    /// If an earlier `get_timeout` already returned the outcome.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::{sync::Event, PoolError};
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(1).unwrap();
    ///     let gate = std::sync::Arc::new(Event::new());
    ///     let g = gate.clone();
    ///     let mut r = pool.apply_async(move || { g.wait(); 7 });
    ///     assert!(matches!(r.get_timeout(Duration::from_millis(10)), Err(PoolError::Timeout)));
    ///     gate.set();
    ///     assert_eq!(r.get().unwrap(), 7); // the result can still be waited for
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn get_timeout(&mut self, timeout: Duration) -> Result<T, PoolError> {
        if !self.slot.done.wait_timeout(timeout) {
            return Err(PoolError::Timeout);
        }
        self.take()
    }

    /// Whether the outcome is in (`get` would not wait): Python's `ready()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(1).unwrap();
    ///     let r = pool.apply_async(|| ());
    ///     while !r.ready() { spindle::yield_now(); }
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn ready(&self) -> bool {
        self.slot.done.is_set()
    }

    /// Takes the outcome of a done slot.
    #[track_caller]
    fn take(&self) -> Result<T, PoolError> {
        match self.slot.outcome.lock().take() {
            Some(outcome) => outcome,
            None => panic!("spindle::AsyncResult: the outcome was already taken by get_timeout"),
        }
    }
}

impl<T> fmt::Debug for AsyncResult<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncResult")
            .field("ready", &self.ready())
            .finish()
    }
}
