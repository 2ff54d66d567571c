//! The three queue kinds, [`Queue`], [`LifoQueue`] and [`PriorityQueue`]: cloneable
//! handles to a shared queue, all made by one macro.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::error::{Empty, Full};
use super::shared::Core;
use super::sorted::Sorted;
use super::store::{Fifo, Lifo, Smallest};

/// Checks a `bounded` queue's size.
#[track_caller]
fn checked_maxsize(maxsize: usize, kind: &str) -> usize {
    if maxsize == 0 {
        panic!(
            "{kind}::bounded(0): maxsize must be at least 1 (use {kind}::unbounded() for no limit)"
        );
    }
    maxsize
}

macro_rules! queue_kind {
    (
        $(#[$doc:meta])*
        $name:ident, $store:ident, $outside:ty, $make:expr, [$($bound:tt)*], $example_out:expr
    ) => {
        $(#[$doc])*
        pub struct $name<T> {
            core: Arc<Core<T, $store<T>, $outside>>,
        }

        impl<T: Send $($bound)*> $name<T> {
            /// A queue holding at most `maxsize` items: `put` waits while it is full.
            ///
            /// # Panics
            ///
            /// If `maxsize` is 0 (use `unbounded`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::bounded(1);")]
            /// q.put(1);
            /// assert!(q.is_full());
            /// ```
            #[track_caller]
            pub fn bounded(maxsize: usize) -> $name<T> {
                let maxsize = checked_maxsize(maxsize, stringify!($name));
                $name { core: Arc::new(Core::new($make, maxsize)) }
            }

            /// A queue with no size limit: `put` never waits.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::unbounded();")]
            /// for i in 0..1000 { q.put(i); }
            /// assert_eq!(q.len(), 1000);
            /// ```
            pub fn unbounded() -> $name<T> {
                $name { core: Arc::new(Core::new($make, 0)) }
            }

            /// Puts an item, waiting while the queue is full.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::unbounded();")]
            /// q.put(3);
            /// q.put(1);
            /// q.put(2);
            #[doc = concat!("assert_eq!([q.get(), q.get(), q.get()], ", $example_out, ");")]
            /// ```
            #[track_caller]
            pub fn put(&self, item: T) {
                if self.core.put(item, None, std::panic::Location::caller()).is_err() {
                    unreachable!("put without a deadline cannot time out");
                }
            }

            /// Puts an item if there is room now; else gives it back in [`Full`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::bounded(1);")]
            /// assert!(q.try_put(1).is_ok());
            /// assert_eq!(q.try_put(2).unwrap_err().into_inner(), 2);
            /// ```
            pub fn try_put(&self, item: T) -> Result<(), Full<T>> {
                self.core.put(item, Some(crate::clock::now()), std::panic::Location::caller())
            }

            /// Puts an item, waiting at most `timeout` for room.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::bounded(1);")]
            /// q.put(1);
            /// assert!(q.put_timeout(2, Duration::from_millis(5)).is_err());
            /// ```
            #[track_caller]
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), Full<T>> {
                let deadline = crate::clock::deadline_after(timeout);
                self.core.put(item, Some(deadline), std::panic::Location::caller())
            }

            /// Takes an item, waiting while the queue is empty.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::unbounded();")]
            /// q.put(7);
            /// assert_eq!(q.get(), 7);
            /// ```
            #[track_caller]
            pub fn get(&self) -> T {
                match self.core.get(None, std::panic::Location::caller()) {
                    Ok(item) => item,
                    Err(Empty) => unreachable!("get without a deadline cannot time out"),
                }
            }

            /// Takes an item if there is one now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// assert_eq!(q.try_get(), Err(spindle::queue::Empty));
            /// ```
            pub fn try_get(&self) -> Result<T, Empty> {
                self.core.get(Some(crate::clock::now()), std::panic::Location::caller())
            }

            /// Takes an item, waiting at most `timeout` for one.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// assert!(q.get_timeout(Duration::from_millis(5)).is_err());
            /// ```
            #[track_caller]
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, Empty> {
                let deadline = crate::clock::deadline_after(timeout);
                self.core.get(Some(deadline), std::panic::Location::caller())
            }

            /// Marks one item taken with `get` as processed.
            ///
            /// # Panics
            ///
            /// If called more times than items were put (Python raises `ValueError`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1);
            /// q.get();
            /// q.task_done();
            /// q.join();
            /// ```
            #[track_caller]
            pub fn task_done(&self) {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with `task_done`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// q.join(); // nothing was put: returns at once
            /// ```
            #[track_caller]
            pub fn join(&self) {
                self.core.join(std::panic::Location::caller())
            }

            /// Items in the queue now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::unbounded();")]
            /// q.put(1);
            /// assert_eq!(q.len(), 1);
            /// ```
            pub fn len(&self) -> usize {
                self.core.len()
            }

            /// Whether the queue is empty now.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// assert!(q.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.core.len() == 0
            }

            /// Whether a bounded queue is at its `maxsize` now (never, if unbounded).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let q = spindle::queue::", stringify!($name), "::<u8>::unbounded();")]
            /// assert!(!q.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                self.core.is_full()
            }

            /// The bound given to `bounded`, or 0 for an unbounded queue (Python's `maxsize`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(spindle::queue::", stringify!($name), "::<u8>::bounded(4).maxsize(), 4);")]
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> $name<T> {
                self.core.touch();
                $name { core: self.core.clone() }
            }
        }

        impl<T> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name)).finish_non_exhaustive()
            }
        }
    };
}

queue_kind!(
    /// A first-in, first-out queue (Python's `queue.Queue`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle::queue::Queue::unbounded();
    /// q.put("a");
    /// q.put("b");
    /// assert_eq!(q.get(), "a");
    /// ```
    Queue, Fifo, (), Fifo(VecDeque::new()), [], "[3, 1, 2]"
);

queue_kind!(
    /// A last-in, first-out queue: a stack (Python's `queue.LifoQueue`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle::queue::LifoQueue::unbounded();
    /// q.put("a");
    /// q.put("b");
    /// assert_eq!(q.get(), "b");
    /// ```
    LifoQueue, Lifo, (), Lifo(Vec::new()), [], "[2, 1, 3]"
);

queue_kind!(
    /// A queue that hands out its smallest item first (Python's `queue.PriorityQueue`); put
    /// `(priority, data)` tuples for the lecture's pattern.
    ///
    /// # The items' `Ord`
    ///
    /// `put` and `get` order the items with their `Ord`, which is user code: it runs under
    /// no internal spin lock, only under the queue's own lock around its heap, a lock that
    /// parks green threads and blocks OS threads (other users of the queue wait for it there
    /// instead of spinning). So `Ord` may take its time: sleep, yield, lock other locks, use
    /// other queues and channels. It delays the other `put`s and `get`s of this queue
    /// meanwhile, and it must not use this queue itself (`put`, `get`, `join`: they would
    /// wait for the lock it runs under); counting it (`len`, `is_empty`, `is_full`) is fine.
    ///
    /// If `Ord` panics, the panic propagates out of the `put` or `get` that called it, and
    /// the queue is as it was before that call: a `put` leaves its item out (dropped, not
    /// counted for `join`, its room free again); a `get` leaves every item in. Items are
    /// never dropped under a lock of the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle::queue::PriorityQueue::unbounded();
    /// q.put((2, "later"));
    /// q.put((1, "first"));
    /// assert_eq!(q.get(), (1, "first"));
    /// ```
    PriorityQueue, Smallest, Sorted<T>, Smallest::new(), [+ Ord], "[1, 2, 3]"
);
