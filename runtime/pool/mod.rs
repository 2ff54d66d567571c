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
//! One [`Mutex`](crate::sync::Mutex) guards the job queue, the pool's phase and the count of
//! live workers; idle workers wait on one [`Condvar`](crate::sync::Condvar), `join` on
//! another. A job is a boxed closure that runs the user's function under `catch_unwind` and
//! hands the outcome to its *sink* (an [`AsyncResult`]'s slot, or an `imap_unordered` results
//! [`Queue`](crate::queue::Queue)). A job dropped unrun — by `terminate`, by dropping the
//! pool, or when every worker has been cancelled — drops its sink unfilled, and the sink's
//! `Drop` reports [`PoolError::Terminated`]: no result is ever left waiting forever.

mod handle;
mod iter;
mod result;
mod workers;

pub use handle::Pool;
pub use iter::{Imap, ImapUnordered};
pub use result::{AsyncResult, PoolError};
