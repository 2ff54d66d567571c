//! A channel's shared state: its flavour (unbounded, bounded, rendezvous), the queued messages
//! with their tickets, how many ends of each kind it has, and who waits on it, all under one
//! lock. The protocol that runs on it (hand-over, wake-ups, selects) is in `waiters`.

use std::collections::{vec_deque, VecDeque};
use std::iter::Chain;
use std::option;
use std::panic::Location;

use crate::loom::Lock;
use crate::recycle::Counted;
use crate::sync::wait::WaitList;
use crate::sync::Origin;
use crate::task::WaitSite;

/// The channel's state, under its lock.
pub(super) struct State<T> {
    /// Messages with their tickets (a rendezvous sender waits for its ticket to leave).
    pub(super) buf: Buf<(u64, T)>,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    pub(super) cap: Option<usize>,
    pub(super) next_ticket: u64,
    pub(super) senders: usize,
    pub(super) receivers: usize,
    /// Room promised to selected sends not yet completed (bounded channels).
    pub(super) reserved: usize,
    /// Receivers waiting for a message (tag: the address of their `Slot`), and `select`s'
    /// receives (see `waiters`).
    pub(super) recv_waiters: WaitList,
    /// Senders waiting for room, or (rendezvous) for their message to be taken (tag: ticket),
    /// and `select`s' sends.
    pub(super) send_waiters: WaitList,
}

/// A channel: its state, and what is fixed at creation; shared by all its ends.
pub(super) struct Chan<T> {
    pub(super) state: Lock<State<T>>,
    pub(super) origin: Origin,
    /// Whether this is a rendezvous channel (`bounded(0)`); fixed at creation.
    pub(super) rendezvous: bool,
}

impl<T> Chan<T> {
    /// A channel of the flavour `cap` (see `State::cap`), with one sender and one receiver.
    pub(super) fn new(cap: Option<usize>) -> Counted<Chan<T>> {
        Counted::new(|| Chan {
            state: Lock::new(State {
                buf: Buf::new(),
                cap,
                next_ticket: 0,
                senders: 1,
                receivers: 1,
                reserved: 0,
                recv_waiters: WaitList::new(),
                send_waiters: WaitList::new(),
            }),
            origin: Origin::new(),
            rendezvous: cap == Some(0),
        })
    }

    #[inline]
    pub(super) fn site(
        &self,
        what: &'static str,
        location: &'static Location<'static>,
    ) -> WaitSite {
        self.origin.site(what, location)
    }

    /// Messages in the channel now (`len` of either end).
    pub(super) fn len(&self) -> usize {
        self.origin.touch();
        // A rendezvous channel holds nothing: a message in hand-over is not queued.
        if self.rendezvous {
            return 0;
        }
        self.state.lock().buf.len()
    }
}

impl<T> State<T> {
    /// A fresh ticket, for a message about to be queued.
    #[inline]
    pub(super) fn ticket(&mut self) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        ticket
    }
}

/// A FIFO queue that keeps its front element inline: a channel that never holds more than
/// one message at a time (a one-shot reply, a ping-pong, a rendezvous) allocates nothing for
/// its messages. Before, the first send of every channel allocated the queue's buffer, and
/// its drop freed it, often on another thread.
pub(super) struct Buf<E> {
    /// The front element; `None` only when the queue is empty.
    front: Option<E>,
    /// The elements behind the front.
    rest: VecDeque<E>,
}

impl<E> Buf<E> {
    pub(super) const fn new() -> Buf<E> {
        Buf {
            front: None,
            rest: VecDeque::new(),
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        usize::from(self.front.is_some()) + self.rest.len()
    }

    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.front.is_none()
    }

    #[inline]
    pub(super) fn push_back(&mut self, e: E) {
        if self.front.is_none() {
            self.front = Some(e);
        } else {
            self.rest.push_back(e);
        }
    }

    #[inline]
    pub(super) fn push_front(&mut self, e: E) {
        if let Some(old) = self.front.replace(e) {
            self.rest.push_front(old);
        }
    }

    #[inline]
    pub(super) fn pop_front(&mut self) -> Option<E> {
        let e = self.front.take()?;
        self.front = self.rest.pop_front();
        Some(e)
    }

    /// Removes and returns the element at `i` (0: the front).
    pub(super) fn remove(&mut self, i: usize) -> Option<E> {
        match i {
            0 => self.pop_front(),
            _ => self.rest.remove(i - 1),
        }
    }

    /// (A named type, not `impl Iterator`: an opaque type may have a `Drop`, and would keep
    /// the queue borrowed to the end of a `match` on `iter().position(..)`.)
    pub(super) fn iter(&self) -> Chain<option::Iter<'_, E>, vec_deque::Iter<'_, E>> {
        self.front.iter().chain(self.rest.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::Buf;

    /// `Buf` behaves as a `VecDeque` under every operation the channel uses.
    #[test]
    fn buf_is_a_fifo_with_its_front_inline() {
        let mut b = Buf::new();
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
