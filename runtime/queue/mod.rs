//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`] and [`PriorityQueue`] (smallest
//! first), optionally bounded, with `task_done`/`join`. Each is a cloneable handle to one
//! queue, usable from green threads and OS threads alike.
//!
//! ```
//! use spindle::queue::Queue;
//! let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
//! let got = rt.block_on(|| {
//!     let q = Queue::bounded(2);
//!     let producer = { let q = q.clone(); spindle::spawn(move || for c in "alpha".chars() { q.put(c as u32) }) };
//!     let mut out = Vec::new();
//!     for _ in 0..5 { out.push(q.get()); q.task_done(); }
//!     producer.join().unwrap();
//!     q.join(); // every item put has been marked done
//!     out
//! });
//! assert_eq!(got, [97, 108, 112, 104, 97]);
//! ```

mod error;
mod kinds;
mod shared;
mod sorted;
mod store;

pub use error::{Empty, Full};
pub use kinds::{LifoQueue, PriorityQueue, Queue};
