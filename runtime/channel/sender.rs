//! What a [`Sender`] does: [`send`](Sender::send) (waiting for room, and on a rendezvous
//! channel until a receiver has taken the message), [`try_send`](Sender::try_send),
//! [`send_timeout`](Sender::send_timeout), and how full the channel is.

use std::panic::Location;
use std::time::{Duration, Instant};

use super::ends::Sender;
use super::errors::{SendError, SendTimeoutError, TrySendError};
use super::handover;
use super::state::State;
use super::waiters::Wakes;
use crate::sync::wait::{self, Wait, Woken};

/// Where a sender stands after an attempt.
enum Sent<T> {
    /// Handed straight to a parked receiver: done.
    HandedOver,
    /// Queued; a rendezvous sender still waits for `ticket` to be taken.
    Queued { ticket: u64 },
    /// Every receiver is gone.
    Disconnected(T),
}

impl<T> Sender<T> {
    /// Sends a message, waiting while the channel is full (rendezvous: until a receiver
    /// takes it). Fails, handing the message back, when every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// drop(rx);
    /// assert_eq!(tx.send(5).unwrap_err().into_inner(), 5);
    /// ```
    #[track_caller]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        crate::task::sched_point("Sender::send");
        match self.send_inner(msg, None, Location::caller()) {
            Ok(()) => Ok(()),
            Err(SendTimeoutError::Disconnected(m)) => Err(SendError(m)),
            Err(SendTimeoutError::Timeout(_)) => unreachable!("send has no deadline"),
        }
    }

    /// Sends if that needs no waiting: there is room, or (rendezvous) a receiver is already
    /// waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::channel::{bounded, TrySendError};
    /// let (tx, _rx) = bounded(0);
    /// assert!(matches!(tx.try_send(1), Err(TrySendError::Full(1)))); // nobody receiving
    /// ```
    pub fn try_send(&self, msg: T) -> Result<(), TrySendError<T>> {
        crate::task::sched_point("Sender::try_send");
        self.chan.origin.touch();
        let mut st = self.chan.state.lock();
        if st.receivers == 0 {
            return Err(TrySendError::Disconnected(msg));
        }
        // Rendezvous: no room; only a parked receiver takes a message at once.
        let room = st.has_room();
        if !room && st.cap != Some(0) {
            return Err(TrySendError::Full(msg));
        }
        let mut wakes = Wakes::new();
        let result = match st.deliver(msg, &mut wakes) {
            Ok(()) => Ok(()),
            Err(msg) if !room => Err(TrySendError::Full(msg)),
            Err(msg) => {
                st.enqueue(msg, &mut wakes);
                Ok(())
            }
        };
        drop(st);
        wakes.wake();
        result
    }

    /// Sends, waiting at most `timeout`; a timed-out message comes back in the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (tx, _rx) = spindle::channel::bounded(0);
    /// assert!(tx.send_timeout(1, Duration::from_millis(5)).unwrap_err().is_timeout());
    /// ```
    #[track_caller]
    pub fn send_timeout(&self, msg: T, timeout: Duration) -> Result<(), SendTimeoutError<T>> {
        crate::task::sched_point("Sender::send_timeout");
        self.send_inner(
            msg,
            Some(crate::clock::deadline_after(timeout)),
            Location::caller(),
        )
    }

    fn send_inner(
        &self,
        msg: T,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<(), SendTimeoutError<T>> {
        let chan = &*self.chan;
        chan.origin.touch();
        let mut msg = Some(msg);
        // Phase 1: get the message into the buffer.
        let ticket = loop {
            // Waiters to wake; pushed only by an attempt that succeeds.
            let mut wakes = Wakes::new();
            let mut attempt = |st: &mut State<T>| -> Option<Sent<T>> {
                if st.receivers == 0 {
                    return Some(Sent::Disconnected(msg.take().expect("unsent")));
                }
                if let Some(cap) = st.cap {
                    // (A full channel has no receiver waiting.)
                    if cap > 0 && st.buf.len() + st.reserved >= cap {
                        return None;
                    }
                }
                Some(match st.send_now(msg.take().expect("unsent"), &mut wakes) {
                    None => Sent::HandedOver,
                    Some(ticket) => Sent::Queued { ticket },
                })
            };
            let abandon = |_tag: u64| handover::abandon_send(chan);
            let result = self.wait_send(u64::MAX, deadline, location, &mut attempt, &abandon);
            wakes.wake();
            match result {
                Ok(Sent::HandedOver) => return Ok(()),
                Ok(Sent::Queued { ticket }) => break ticket,
                Ok(Sent::Disconnected(m)) => return Err(SendTimeoutError::Disconnected(m)),
                Err(Woken::Notified) => continue,
                Err(Woken::TimedOut) => {
                    return Err(SendTimeoutError::Timeout(msg.take().expect("unsent")))
                }
            }
        };
        if !chan.rendezvous {
            return Ok(());
        }
        // Phase 2 (rendezvous): wait until a receiver has taken our message.
        loop {
            let mut attempt = |st: &mut State<T>| -> Option<Result<(), T>> {
                match st.buf.iter().position(|(t, _)| *t == ticket) {
                    None => Some(Ok(())),
                    Some(i) if st.receivers == 0 => Some(Err(st.buf.remove(i).expect("found").1)),
                    Some(_) => None,
                }
            };
            match self.wait_send(ticket, deadline, location, &mut attempt, &|_tag: u64| {}) {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(m)) => return Err(SendTimeoutError::Disconnected(m)),
                Err(Woken::Notified) => continue,
                Err(Woken::TimedOut) => {
                    // Take the message back unless a receiver got it meanwhile.
                    let mut st = chan.state.lock();
                    return match st.buf.iter().position(|(t, _)| *t == ticket) {
                        Some(i) => {
                            let m = st.buf.remove(i).expect("found").1;
                            Err(SendTimeoutError::Timeout(m))
                        }
                        None => Ok(()),
                    };
                }
            }
        }
    }

    /// One wait on the channel's send list (see `wait::wait`): for room (`tag`: `u64::MAX`),
    /// or (rendezvous) for the message queued under the ticket `tag` to be taken.
    #[inline]
    fn wait_send<R>(
        &self,
        tag: u64,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
        attempt: &mut dyn FnMut(&mut State<T>) -> Option<R>,
        abandon: &dyn Fn(u64),
    ) -> Result<R, Woken> {
        let chan = &*self.chan;
        wait::wait(Wait {
            lock: &chan.state,
            list: |st| &mut st.send_waiters,
            tag,
            deadline,
            site: &|| chan.site("Sender::send", location),
            attempt,
            after_register: None,
            abandon,
        })
    }

    /// Whether the channel holds no messages now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = spindle::channel::unbounded::<u8>();
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages in the channel now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = spindle::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }
}
