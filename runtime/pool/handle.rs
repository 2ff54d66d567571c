//! [`Pool`]: the handle to a pool of worker tasks, through which work is submitted
//! (`apply_async`, `map`, `imap`, `imap_unordered`) and the pool is closed, joined and
//! terminated.

use std::fmt;
use std::io;
use std::sync::Arc;

use super::iter::{Imap, ImapUnordered};
use super::result::{job, AsyncResult, Job, PoolError};
use super::workers::{spawn_workers, Phase, Shared};

/// A pool of worker tasks: Python's `multiprocessing.Pool`, and on the preemptive runtime
/// its `ThreadPool`. See the [module documentation](crate::pool) for the lecture's example.
///
/// `Pool` is `Send + Sync`: share it through an `Arc` to submit work from several tasks or
/// threads (plain threads outside the runtime too). Dropping it [terminates](Pool::terminate)
/// it without waiting for running jobs.
///
/// A job that waits for another job of the same pool can deadlock when every worker is
/// busy, as in Python.
///
/// # Examples
///
/// ```
/// use spindle::{Pool, Runtime};
/// let rt = Runtime::preemptive().build()?;     // a ThreadPool: every worker is an OS thread
/// let squares = rt.block_on(|| {
///     let pool = Pool::new(4).unwrap();
///     pool.map(|x: u32| x * x, 1..=4)
/// });
/// assert_eq!(squares.unwrap(), [1, 4, 9, 16]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Pool {
    shared: Arc<Shared>,
}

impl Pool {
    /// Starts a pool of `workers` daemon tasks on the runtime of the calling task (green
    /// threads on the cooperative runtime, OS threads on the preemptive one), named
    /// `pool-worker-1`, `pool-worker-2`, ...
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0 workers; the error of [`Builder::spawn`](crate::Builder::spawn)
    /// if a worker cannot be started (then the workers already started end).
    ///
    /// # Panics
    ///
    /// When called outside a runtime, as [`spawn`](crate::spawn) does: run the code inside
    /// [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// rt.block_on(|| {
    ///     let err = spindle::Pool::new(0).unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    ///     assert!(spindle::Pool::new(3).is_ok());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn new(workers: usize) -> io::Result<Pool> {
        if workers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Pool::new(0): a pool needs at least one worker",
            ));
        }
        if crate::context::home().is_none() {
            outside_runtime();
        }
        let pool = Pool {
            shared: Arc::new(Shared::new(workers)),
        };
        spawn_workers(&pool.shared, workers)?; // dropping `pool` ends the workers started
        Ok(pool)
    }

    /// Queues `f` to run on a worker and returns its [`AsyncResult`]: Python's
    /// `apply_async(f, args)` (capture the arguments in the closure).
    ///
    /// # Panics
    ///
    /// After [`close`](Pool::close) or [`terminate`](Pool::terminate): the pool takes no new
    /// work (Python raises `ValueError: Pool not running`).
    ///
    /// # Examples
    ///
    /// ```
    /// fn f(x: u64) -> u64 { x * x }
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(4).unwrap();
    ///     let x = 10;
    ///     assert_eq!(pool.apply_async(move || f(x)).get().unwrap(), 100);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn apply_async<F, T>(&self, f: F) -> AsyncResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (result, slot) = AsyncResult::pending();
        self.submit(vec![job(f, slot)], "apply_async");
        result
    }

    /// Runs `f` on every item and returns the values in the items' order, once all are in:
    /// Python's `map`. The first error in item order is returned as soon as it is reached
    /// (the other jobs still run; their values are dropped).
    ///
    /// # Panics
    ///
    /// After [`close`](Pool::close) or [`terminate`](Pool::terminate).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().workers(2).build()?;
    /// let v = rt.block_on(|| spindle::Pool::new(4).unwrap().map(|x: i32| x * x, 0..5));
    /// assert_eq!(v.unwrap(), [0, 1, 4, 9, 16]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn map<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
        R: Send + 'static,
    {
        self.imap_as(f, items, "map").collect()
    }

    /// Runs `f` on every item and returns an iterator over the outcomes in the items'
    /// order, each yielded as soon as it is in (not once all are): Python's `imap`. Every
    /// item is queued at once; dropping the iterator does not cancel the jobs.
    ///
    /// # Panics
    ///
    /// After [`close`](Pool::close) or [`terminate`](Pool::terminate).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::preemptive().build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(3).unwrap();
    ///     for (i, y) in pool.imap(|x: u64| x + 1, 0..10u64).enumerate() {
    ///         assert_eq!(y.unwrap(), i as u64 + 1);
    ///     }
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn imap<F, A, R>(&self, f: F, items: impl IntoIterator<Item = A>) -> Imap<R>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
        R: Send + 'static,
    {
        self.imap_as(f, items, "imap")
    }

    #[track_caller]
    fn imap_as<F, A, R>(&self, f: F, items: impl IntoIterator<Item = A>, what: &str) -> Imap<R>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
        R: Send + 'static,
    {
        let (imap, jobs) = Imap::new(f, items);
        self.submit(jobs, what);
        imap
    }

    /// Runs `f` on every item and returns an iterator over the outcomes in the order the
    /// jobs finish: Python's `imap_unordered`. Every item is queued at once.
    ///
    /// # Panics
    ///
    /// After [`close`](Pool::close) or [`terminate`](Pool::terminate).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// let mut v: Vec<u32> = rt.block_on(|| {
    ///     let pool = spindle::Pool::new(4).unwrap();
    ///     pool.imap_unordered(|x: u32| x * 2, 0..5).map(Result::unwrap).collect()
    /// });
    /// v.sort();
    /// assert_eq!(v, [0, 2, 4, 6, 8]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn imap_unordered<F, A, R>(
        &self,
        f: F,
        items: impl IntoIterator<Item = A>,
    ) -> ImapUnordered<R>
    where
        F: Fn(A) -> R + Send + Sync + 'static,
        A: Send + 'static,
        R: Send + 'static,
    {
        let (unordered, jobs) = ImapUnordered::new(f, items);
        self.submit(jobs, "imap_unordered");
        unordered
    }

    /// Takes no more work: the workers finish the queued jobs, then end (Python's `close`).
    /// Calling it again, or after `terminate`, does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(2).unwrap();
    ///     let r = pool.apply_async(|| 1);
    ///     pool.close();
    ///     pool.join();                 // waits for the queued work
    ///     assert!(r.ready());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn close(&self) {
        let mut st = self.shared.state.lock();
        if st.phase == Phase::Running {
            st.phase = Phase::Closed;
        }
        drop(st);
        self.shared.work.notify_all();
    }

    /// Waits for every worker to end: after [`close`](Pool::close), once the queued work is
    /// done; after [`terminate`](Pool::terminate), once the running jobs are. Do not call it
    /// from one of the pool's own jobs (it would wait for itself).
    ///
    /// # Panics
    ///
    /// If the pool is still running (neither closed nor terminated), as Python raises
    /// `ValueError`.
    ///
    /// # Examples
    ///
    /// See [`close`](Pool::close).
    #[track_caller]
    pub fn join(&self) {
        let mut st = self.shared.state.lock();
        if st.phase == Phase::Running {
            drop(st);
            panic!(
                "spindle::Pool::join called on a running pool: call close() or terminate() first"
            );
        }
        while st.alive > 0 {
            st = self.shared.ended.wait(st);
        }
    }

    /// Drops the queued jobs (their results give [`PoolError::Terminated`]) and lets the
    /// workers end after their current job; returns at once, without waiting for running
    /// jobs, whose results still come in (Python's `terminate` kills them instead). Dropping
    /// the pool does this.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::PoolError;
    /// let rt = spindle::Runtime::cooperative().workers(1).build()?;
    /// rt.block_on(|| {
    ///     let pool = spindle::Pool::new(1).unwrap();
    ///     let queued = pool.apply_async(|| 1); // no worker has run yet: it is still queued
    ///     pool.terminate();
    ///     assert!(matches!(queued.get(), Err(PoolError::Terminated)));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn terminate(&self) {
        let dropped = {
            let mut st = self.shared.state.lock();
            st.phase = Phase::Terminated;
            std::mem::take(&mut st.jobs)
        };
        self.shared.work.notify_all();
        // Outside the lock: the jobs' captures may have destructors that use the pool.
        drop(dropped);
    }

    /// Queues `jobs` (all or none), or panics if the pool takes no new work.
    #[track_caller]
    fn submit(&self, jobs: Vec<Job>, what: &str) {
        let mut st = self.shared.state.lock();
        if st.phase != Phase::Running {
            let phase = st.phase;
            drop(st);
            drop(jobs);
            let how = match phase {
                Phase::Closed => "close()",
                _ => "terminate()",
            };
            panic!("spindle::Pool::{what} called after {how}: the pool takes no new work");
        }
        if st.alive == 0 {
            // Every worker was cancelled (its runtime's block_on ended): nobody would run them.
            drop(st);
            drop(jobs);
            return;
        }
        let n = jobs.len();
        st.jobs.extend(jobs);
        drop(st);
        match n {
            0 => {}
            1 => self.shared.work.notify_one(),
            _ => self.shared.work.notify_all(),
        }
    }
}

#[cold]
#[track_caller]
fn outside_runtime() -> ! {
    panic!(
        "spindle::Pool::new called outside a runtime: start one with Runtime::cooperative() or Runtime::preemptive() and run this code inside Runtime::block_on"
    )
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.terminate();
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Copied out first: `f` may write to something that parks, and the lock must not
        // be held across a park.
        let (workers, alive, queued, phase) = {
            let st = self.shared.state.lock();
            (st.workers, st.alive, st.jobs.len(), st.phase)
        };
        f.debug_struct("Pool")
            .field("workers", &workers)
            .field("alive", &alive)
            .field("queued", &queued)
            .field("phase", &phase)
            .finish()
    }
}
