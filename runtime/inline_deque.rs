//! [`InlineDeque`], a FIFO queue with its front element inline.

use std::collections::{vec_deque, VecDeque};
use std::iter::Chain;
use std::option;

/// A FIFO queue that keeps its front element inline: a queue that never holds two elements
/// at once allocates nothing. Wait lists (most waits have one waiter at a time: a
/// ping-pong's receiver, a joiner) and channel buffers (a one-shot reply, a ping-pong, a
/// rendezvous) are such queues; before, the first send of every channel allocated its
/// buffer, and its drop freed it, often on another thread.
pub(crate) struct InlineDeque<E> {
    /// The front element; `None` only when the queue is empty.
    front: Option<E>,
    /// The elements behind the front.
    rest: VecDeque<E>,
}

impl<E> Default for InlineDeque<E> {
    fn default() -> InlineDeque<E> {
        InlineDeque::new()
    }
}

impl<E> InlineDeque<E> {
    pub(crate) const fn new() -> InlineDeque<E> {
        InlineDeque {
            front: None,
            rest: VecDeque::new(),
        }
    }

    #[inline]
    pub(crate) fn len(&self) -> usize {
        usize::from(self.front.is_some()) + self.rest.len()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    #[inline]
    pub(crate) fn push_back(&mut self, e: E) {
        if self.front.is_none() {
            self.front = Some(e);
        } else {
            self.rest.push_back(e);
        }
    }

    #[inline]
    pub(crate) fn push_front(&mut self, e: E) {
        if let Some(old) = self.front.replace(e) {
            self.rest.push_front(old);
        }
    }

    #[inline]
    pub(crate) fn pop_front(&mut self) -> Option<E> {
        let e = self.front.take()?;
        self.front = self.rest.pop_front();
        Some(e)
    }

    /// Removes and returns the element at `i` (0: the front).
    pub(crate) fn remove(&mut self, i: usize) -> Option<E> {
        match i {
            0 => self.pop_front(),
            _ => self.rest.remove(i - 1),
        }
    }

    /// (A named type, not `impl Iterator`: an opaque type may have a `Drop`, and would keep
    /// the queue borrowed to the end of a `match` on `iter().position(..)`.)
    pub(crate) fn iter(&self) -> Chain<option::Iter<'_, E>, vec_deque::Iter<'_, E>> {
        self.front.iter().chain(self.rest.iter())
    }
}

/// Takes the elements from the front.
impl<E> Iterator for InlineDeque<E> {
    type Item = E;

    #[inline]
    fn next(&mut self) -> Option<E> {
        self.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::InlineDeque;

    /// `InlineDeque` behaves as a `VecDeque` under every operation the channel uses.
    #[test]
    fn it_is_a_fifo_with_its_front_inline() {
        let mut b = InlineDeque::new();
        let mut d = std::collections::VecDeque::new();
        let mut seed = 7u64;
        for step in 0..10_000u64 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match (seed >> 33) % 5 {
                0 | 1 => {
                    b.push_back(step);
                    d.push_back(step);
                }
                2 => {
                    b.push_front(step);
                    d.push_front(step);
                }
                3 => assert_eq!(b.pop_front(), d.pop_front()),
                _ => {
                    let i = ((seed >> 40) as usize) % (d.len() + 1);
                    assert_eq!(b.remove(i), d.remove(i));
                }
            }
            assert_eq!(b.len(), d.len());
            assert_eq!(b.is_empty(), d.is_empty());
            assert!(b.iter().eq(d.iter()));
            assert!(b.rest.is_empty() || b.front.is_some());
        }
        assert!(b.rest.capacity() > 0, "the test got past one element");
    }
}
