//! Python's `multiprocessing.Pool` and `multiprocessing.pool.ThreadPool` as one type:
//! [`Pool`], a fixed set of worker tasks that take jobs from a shared queue, with
//! [`apply_async`](Pool::apply_async) (an [`AsyncResult`] to wait on), [`map`](Pool::map),
//! [`imap`](Pool::imap), [`imap_unordered`](Pool::imap_unordered), `close`/`join` and
//! `terminate`.
//!
//! A pool is made inside a runtime and its workers are tasks of that runtime: green threads
//! on the cooperative backend, OS threads on the preemptive one (there a `Pool` is Python's
//! `ThreadPool`). The workers are daemons, like a Python pool's processes: a pool the user
//! forgets does not keep [`Runtime::block_on`](crate::Runtime::block_on) waiting. When
//! `block_on` cancels them (cooperative backend), the pool's queued jobs give
//! [`PoolError::Terminated`], and so does any job submitted to it afterwards.
//!
//! The lecture's example:
//!
//! ```
//! use std::time::Duration;
//! use spindle::{Pool, PoolError, Runtime};
//!
//! fn f(x: u64) -> u64 { x * x }
//!
//! let rt = Runtime::cooperative().workers(2).build()?;
//! rt.block_on(|| -> std::io::Result<()> {
//!     let pool = Pool::new(4)?;                                    // 4 worker tasks
//!     let result = pool.apply_async(|| f(10));
//!     println!("{}", result.get().unwrap());                     // 100
//!     assert_eq!(pool.map(f, 0..10u64).unwrap(), [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
//!     let it: Vec<u64> = pool.imap(f, 0..10u64).map(Result::unwrap).collect();
//!     assert_eq!(it[3], 9);
//!     let mut slow = pool.apply_async(|| spindle::sleep(Duration::from_secs(10)));
//!     let waited = slow.get_timeout(Duration::from_millis(100));  // the lecture waits 1 s
//!     assert!(matches!(waited, Err(PoolError::Timeout)));
//!     Ok(()) // dropping the pool terminates it; the sleeping worker is cancelled
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! # How it works
//!
//! One [`Mutex`] guards the job queue, the pool's phase and the count of live workers; idle
//! workers wait on one [`Condvar`], `join` on another. A job is a boxed closure that runs the
//! user's function under `catch_unwind` and hands the outcome to its *sink* (an
//! [`AsyncResult`]'s slot, or an `imap_unordered` results [`Queue`]). A job dropped unrun —
//! by `terminate`, by dropping the pool, or when every worker has been cancelled — drops its
//! sink unfilled, and the sink's `Drop` reports [`PoolError::Terminated`]: no result is ever
//! left waiting forever.

mod iter;
mod result;

pub use iter::{Imap, ImapUnordered};
pub use result::{AsyncResult, PoolError};

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::sync::Arc;

use crate::queue::Queue;
use crate::sync::{Condvar, Mutex};
use crate::Builder;
use result::{job, Job};

/// Where a pool is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Takes new work.
    Running,
    /// `close()`d: the workers finish the queued work, then end.
    Closed,
    /// `terminate()`d (or dropped): the queued work was dropped; the workers end after
    /// their current job.
    Terminated,
}

/// Everything under the pool's lock.
struct State {
    /// Jobs not yet taken by a worker.
    jobs: VecDeque<Job>,
    phase: Phase,
    /// Workers started and not yet ended. Once it reaches 0 no job can run again: new jobs
    /// are dropped at once (they report `Terminated`).
    alive: usize,
    /// Workers the pool was made with.
    workers: usize,
}

/// What the pool's handle and its workers share.
struct Shared {
    state: Mutex<State>,
    /// Idle workers wait here for a job, `close` or `terminate`.
    work: Condvar,
    /// `join` waits here for the last worker to end.
    ended: Condvar,
}

/// A pool of worker tasks: Python's `multiprocessing.Pool`, and on the preemptive runtime
/// its `ThreadPool`. See the [module documentation](self) for the lecture's example.
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
    /// `InvalidInput` for 0 workers; the error of [`Builder::spawn`] if a worker cannot be
    /// started (then the workers already started end).
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
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    jobs: VecDeque::new(),
                    phase: Phase::Running,
                    alive: 0,
                    workers,
                }),
                work: Condvar::new(),
                ended: Condvar::new(),
            }),
        };
        for i in 1..=workers {
            // Counted in now, out by `Ended`'s drop: when the worker ends, or when its task
            // is dropped unrun (not spawned, or cancelled before it started).
            pool.shared.state.lock().alive += 1;
            let ended = Ended(pool.shared.clone());
            Builder::new()
                .name(format!("pool-worker-{i}"))
                .daemon(true)
                .spawn(move || work(ended))?; // dropping `pool` ends the workers started
        }
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
        let f = Arc::new(f);
        let (results, jobs): (VecDeque<_>, Vec<_>) = items
            .into_iter()
            .map(|a| {
                let (result, slot) = AsyncResult::pending();
                let f = f.clone();
                (result, job(move || f(a), slot))
            })
            .unzip();
        self.submit(jobs, what);
        Imap { results }
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
        self.submit(jobs, "imap_unordered");
        ImapUnordered { done, remaining }
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

/// A worker: takes jobs until the pool is closed and drained, or terminated.
fn work(ended: Ended) {
    let shared = &*ended.0;
    loop {
        let job = {
            let mut st = shared.state.lock();
            loop {
                if st.phase == Phase::Terminated {
                    return;
                }
                if let Some(job) = st.jobs.pop_front() {
                    break job;
                }
                if st.phase == Phase::Closed {
                    return;
                }
                st = shared.work.wait(st);
            }
        };
        job();
    }
}

/// Counts a worker out when it ends, by returning or by unwinding (cancelled at shutdown),
/// or when its task is dropped unrun. The last one out wakes `join`, and drops the jobs
/// nobody is left to run.
struct Ended(Arc<Shared>);

impl Drop for Ended {
    fn drop(&mut self) {
        let orphans = {
            let mut st = self.0.state.lock();
            st.alive -= 1;
            if st.alive > 0 {
                return;
            }
            std::mem::take(&mut st.jobs)
        };
        self.0.ended.notify_all();
        drop(orphans);
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
