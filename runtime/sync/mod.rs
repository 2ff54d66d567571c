//! Synchronisation primitives that work from green threads and OS threads alike: a green
//! thread that must wait parks its coroutine (never its worker's OS thread); an OS thread —
//! a preemptive task or a plain thread — blocks. One primitive serves both, and mixed use
//! (a plain thread releasing what a green thread waits for) works.
//!
//! * [`Mutex`] lets running threads take a free lock before a woken waiter (barging, as
//!   std's and parking_lot's do), with eventual fairness: at least every 0.5 ms an unlock
//!   hands the lock to the longest waiter, so nobody starves; [`MutexGuard::unlock_fair`]
//!   hands it over whenever asked.
//! * [`Semaphore`] hands over in FIFO order: a release gives the permit to the longest
//!   waiter.
//! * [`Condvar`] follows std's semantics (including possible spurious wake-ups).
//! * [`Barrier`] and [`Event`] follow std's and Python's.
//!
//! ```
//! use std::sync::Arc;
//! use spindle::{Runtime, spawn, sync::Mutex};
//!
//! let rt = Runtime::cooperative().workers(2).build()?;
//! let total = rt.block_on(|| {
//!     let counter = Arc::new(Mutex::new(0u64));
//!     let hs: Vec<_> = (0..10).map(|_| {
//!         let c = counter.clone();
//!         spawn(move || for _ in 0..100 { *c.lock() += 1; spindle::yield_now(); })
//!     }).collect();
//!     for h in hs { h.join().unwrap(); }
//!     let n = *counter.lock();
//!     n
//! });
//! assert_eq!(total, 1000);
//! # Ok::<(), std::io::Error>(())
//! ```

mod barrier;
mod condvar;
mod event;
mod mutex;
mod origin;
pub(crate) mod plain_wait;
mod semaphore;
pub(crate) mod wait;

pub use barrier::{Barrier, BarrierWaitResult};
pub use condvar::Condvar;
pub use event::Event;
pub use mutex::{Mutex, MutexGuard};
pub use semaphore::{Semaphore, SemaphorePermit};

pub(crate) use origin::Origin;
