//! How each queue kind orders its items: [`Store`], and its three orders, [`Fifo`],
//! [`Lifo`] and [`Smallest`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// How a queue kind stores its items.
pub(super) trait Store<T>: Send {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

/// First in, first out.
pub(super) struct Fifo<T>(pub(super) VecDeque<T>);
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
pub(super) struct Lifo<T>(pub(super) Vec<T>);
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
pub(super) struct Smallest<T>(pub(super) BinaryHeap<Reverse<T>>);
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
