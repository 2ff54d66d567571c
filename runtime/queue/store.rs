//! How each queue kind orders its items: [`Store`], and its three orders, [`Fifo`],
//! [`Lifo`] and [`Smallest`]. A store lives under the queue's spin lock, so it may run no
//! user code there: [`Fifo`] and [`Lifo`] keep their items in it; [`Smallest`], whose order
//! is the user's `Ord`, keeps only counts in it and its items outside ([`Outside`]), in a
//! heap under a lock that parks (`sorted::Sorted`).

use std::collections::VecDeque;
use std::marker::PhantomData;

/// How a queue kind stores its items: the part under the queue's spin lock.
///
/// A store whose order runs user code is paired with an [`Outside`] (by the queue kind):
/// `Smallest` with `Sorted`; the others with `()`.
pub(super) trait Store<T>: Send {
    /// Puts `item` in (`None`); or, where ordering it runs user code, only counts it as on
    /// its way in and gives it back, to be stored outside the lock (then `settle`d).
    fn push(&mut self, item: T) -> Option<T>;
    /// Takes the next item (`Some(Some(item))`); or, where that runs user code, claims one,
    /// to be fetched from outside the lock (`Some(None)`, then `settle`d); `None`: empty.
    fn pop(&mut self) -> Option<Option<T>>;
    /// Items in the queue, not yet taken or claimed (Python's `qsize`).
    fn len(&self) -> usize;
    /// The room taken: the items in, and those on their way in or out.
    fn occupied(&self) -> usize {
        self.len()
    }
    /// Ends a store or fetch that `push` or `pop` left to be done outside the lock.
    fn settle(&mut self, _how: Settle) {
        unreachable!("this store keeps its items under the lock")
    }
}

/// How an item's trip outside the lock ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Settle {
    /// The item is in.
    Stored,
    /// Storing it panicked (the user's `Ord`): it is not in, and its room is free again.
    StoreFailed,
    /// The claimed item was taken out.
    Fetched,
    /// Taking it out panicked: it is still in, for the next `get`.
    FetchFailed,
}

/// Where a store keeps the items it orders outside the queue's spin lock.
pub(super) trait Outside<T>: Default + Send + Sync {
    /// Puts `item` in (room was reserved for it). If the user's code panics, the panic
    /// propagates and the item is not in (and was dropped with no lock held).
    fn store(&self, item: T);
    /// Takes the next item out (one was claimed, so there is one). If the user's code
    /// panics, the panic propagates and every item is still in.
    fn fetch(&self) -> T;
}

/// The stores that keep every item under the spin lock have nothing outside.
impl<T> Outside<T> for () {
    fn store(&self, _item: T) {
        unreachable!("this store keeps its items under the lock")
    }
    fn fetch(&self) -> T {
        unreachable!("this store keeps its items under the lock")
    }
}

/// First in, first out.
pub(super) struct Fifo<T>(pub(super) VecDeque<T>);
impl<T: Send> Store<T> for Fifo<T> {
    #[inline]
    fn push(&mut self, item: T) -> Option<T> {
        self.0.push_back(item);
        None
    }
    #[inline]
    fn pop(&mut self) -> Option<Option<T>> {
        self.0.pop_front().map(Some)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Last in, first out.
pub(super) struct Lifo<T>(pub(super) Vec<T>);
impl<T: Send> Store<T> for Lifo<T> {
    #[inline]
    fn push(&mut self, item: T) -> Option<T> {
        self.0.push(item);
        None
    }
    #[inline]
    fn pop(&mut self) -> Option<Option<T>> {
        self.0.pop().map(Some)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// Smallest first: the items are in a heap outside the spin lock (`sorted::Sorted`); here, only
/// how many are in, on their way in, and on their way out.
pub(super) struct Smallest<T> {
    len: usize,
    storing: usize,
    fetching: usize,
    _items: PhantomData<fn(T) -> T>,
}

impl<T> Smallest<T> {
    pub(super) fn new() -> Smallest<T> {
        Smallest {
            len: 0,
            storing: 0,
            fetching: 0,
            _items: PhantomData,
        }
    }
}

impl<T: Ord + Send> Store<T> for Smallest<T> {
    fn push(&mut self, item: T) -> Option<T> {
        self.storing += 1;
        Some(item)
    }
    fn pop(&mut self) -> Option<Option<T>> {
        if self.len == 0 {
            return None;
        }
        self.len -= 1;
        self.fetching += 1;
        Some(None)
    }
    fn len(&self) -> usize {
        self.len
    }
    fn occupied(&self) -> usize {
        self.len + self.storing + self.fetching
    }
    fn settle(&mut self, how: Settle) {
        match how {
            Settle::Stored => {
                self.storing -= 1;
                self.len += 1;
            }
            Settle::StoreFailed => self.storing -= 1,
            Settle::Fetched => self.fetching -= 1,
            Settle::FetchFailed => {
                self.fetching -= 1;
                self.len += 1;
            }
        }
    }
}
