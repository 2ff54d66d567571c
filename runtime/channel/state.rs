//! A channel's shared state: its flavour (unbounded, bounded, rendezvous), the queued messages
//! with their tickets, how many ends of each kind it has, and who waits on it, all under one
//! lock. The protocol that runs on it (hand-over, wake-ups, selects) is in `waiters`.

use std::panic::Location;

use crate::inline_deque::InlineDeque;
use crate::loom::Lock;
use crate::recycle::Counted;
use crate::sync::wait::WaitList;
use crate::sync::Origin;
use crate::task::WaitSite;

/// The channel's state, under its lock.
pub(super) struct State<T> {
    /// Messages with their tickets (a rendezvous sender waits for its ticket to leave).
    pub(super) buf: InlineDeque<(u64, T)>,
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
                buf: InlineDeque::new(),
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
