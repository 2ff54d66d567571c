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

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::loom::Lock;
use crate::sync::wait::{self, Entry, Wait, WaitList, WaitSite, Woken};
use crate::sync::Origin;

/// [`try_put`](Queue::try_put) or [`put_timeout`](Queue::put_timeout) found the queue full;
/// the item comes back with the error.
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

/// [`try_get`](Queue::try_get) or [`get_timeout`](Queue::get_timeout) found the queue empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Empty;

impl fmt::Display for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is empty")
    }
}

impl std::error::Error for Empty {}

/// How a queue kind stores its items.
trait Store<T>: Send {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

/// First in, first out.
struct Fifo<T>(VecDeque<T>);
impl<T: Send> Store<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out.
struct Lifo<T>(Vec<T>);
impl<T: Send> Store<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first.
struct Smallest<T>(BinaryHeap<Reverse<T>>);
impl<T: Ord + Send> Store<T> for Smallest<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(t)| t)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Everything under the queue's lock.
struct State<S> {
    items: S,
    /// 0: unbounded.
    maxsize: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    getters: WaitList,
    putters: WaitList,
    joiners: WaitList,
}

/// The queue all three kinds share.
struct Core<T, S> {
    state: Lock<State<S>>,
    origin: Origin,
    _item: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, S: Store<T>> Core<T, S> {
    fn new(items: S, maxsize: usize) -> Core<T, S> {
        Core {
            state: Lock::new(State {
                items,
                maxsize,
                unfinished: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
            origin: Origin::new(),
            _item: std::marker::PhantomData,
        }
    }

    fn site(&self, what: &'static str, location: &'static Location<'static>) -> WaitSite {
        WaitSite {
            what,
            location,
            outside: self.origin.is_outside(),
            owner: None,
        }
    }

    /// Puts `item`, waiting while full until `deadline`.
    fn put(
        &self,
        item: T,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<(), Full<T>> {
        self.origin.touch();
        let mut item = Some(item);
        loop {
            let mut wake: Option<Entry> = None;
            let mut attempt = |st: &mut State<S>| {
                if st.maxsize != 0 && st.items.len() >= st.maxsize {
                    return None;
                }
                st.items.push(item.take().expect("put once"));
                st.unfinished += 1;
                wake = st.getters.pop();
                Some(())
            };
            let abandon = |_tag: u64| self.pass_on(|st| &mut st.putters);
            let result = wait::wait(Wait {
                lock: &self.state,
                list: |st| &mut st.putters,
                tag: 0,
                deadline,
                site: &|| self.site("Queue::put", location),
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
            if let Some(e) = wake {
                e.waiter.wake();
            }
            match result {
                Ok(()) => return Ok(()),
                // Room was made: look again.
                Err(Woken::Notified) => continue,
                Err(Woken::TimedOut) => return Err(Full(item.take().expect("not put"))),
            }
        }
    }

    /// Gets an item, waiting while empty until `deadline`.
    fn get(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<T, Empty> {
        self.origin.touch();
        loop {
            let mut wake: Option<Entry> = None;
            let mut attempt = |st: &mut State<S>| {
                let item = st.items.pop()?;
                wake = st.putters.pop();
                Some(item)
            };
            let abandon = |_tag: u64| self.pass_on(|st| &mut st.getters);
            let result = wait::wait(Wait {
                lock: &self.state,
                list: |st| &mut st.getters,
                tag: 0,
                deadline,
                site: &|| self.site("Queue::get", location),
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
            if let Some(e) = wake {
                e.waiter.wake();
            }
            match result {
                Ok(item) => return Ok(item),
                Err(Woken::Notified) => continue,
                Err(Woken::TimedOut) => return Err(Empty),
            }
        }
    }

    /// Hands a notification that a cancelled waiter swallowed to the next waiter.
    fn pass_on(&self, list: fn(&mut State<S>) -> &mut WaitList) {
        let next = list(&mut self.state.lock()).pop();
        if let Some(e) = next {
            e.waiter.wake();
        }
    }

    #[track_caller]
    fn task_done(&self) {
        self.origin.touch();
        let all = {
            let mut st = self.state.lock();
            if st.unfinished == 0 {
                drop(st);
                panic!("task_done() called more times than there were items put in the queue");
            }
            st.unfinished -= 1;
            if st.unfinished != 0 {
                return;
            }
            st.joiners.drain()
        };
        wait::wake_all(all);
    }

    fn join(&self, location: &'static Location<'static>) {
        self.origin.touch();
        loop {
            let mut attempt = |st: &mut State<S>| (st.unfinished == 0).then_some(());
            let abandon = |_tag: u64| {};
            match wait::wait(Wait {
                lock: &self.state,
                list: |st| &mut st.joiners,
                tag: 0,
                deadline: None,
                site: &|| self.site("Queue::join", location),
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            }) {
                Ok(()) => return,
                Err(_) => continue,
            }
        }
    }

    fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    fn is_full(&self) -> bool {
        let st = self.state.lock();
        st.maxsize != 0 && st.items.len() >= st.maxsize
    }

    fn maxsize(&self) -> usize {
        self.state.lock().maxsize
    }
}

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
        $name:ident, $store:ident, $make:expr, [$($bound:tt)*], $example_out:expr
    ) => {
        $(#[$doc])*
        pub struct $name<T> {
            core: Arc<Core<T, $store<T>>>,
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
                let deadline = crate::coop::deadline_after(timeout);
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
                let deadline = crate::coop::deadline_after(timeout);
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
    Queue, Fifo, Fifo(VecDeque::new()), [], "[3, 1, 2]"
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
    LifoQueue, Lifo, Lifo(Vec::new()), [], "[2, 1, 3]"
);

queue_kind!(
    /// A queue that hands out its smallest item first (Python's `queue.PriorityQueue`); put
    /// `(priority, data)` tuples for the lecture's pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = spindle::queue::PriorityQueue::unbounded();
    /// q.put((2, "later"));
    /// q.put((1, "first"));
    /// assert_eq!(q.get(), (1, "first"));
    /// ```
    PriorityQueue, Smallest, Smallest(BinaryHeap::new()), [+ Ord], "[1, 2, 3]"
);
