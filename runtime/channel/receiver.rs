//! What a [`Receiver`] does: [`recv`](Receiver::recv) (a sender hands a message straight to a
//! parked receiver), [`try_recv`](Receiver::try_recv), [`recv_timeout`](Receiver::recv_timeout),
//! how full the channel is, and the iterators over its messages.

use std::cell::UnsafeCell;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::ends::Receiver;
use super::errors::{RecvError, RecvTimeoutError, TryRecvError};
use super::handover;
use super::state::State;
use super::waiters::{Slot, Took, Wakes};
use crate::sync::wait::{self, Wait, Woken};

impl<T> Receiver<T> {
    /// Takes a message, waiting for one; `Err` once the channel is empty and every sender is
    /// gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.recv(), Ok(1));
    /// assert!(rx.recv().is_err());
    /// ```
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        crate::task::sched_point("Receiver::recv");
        match self.recv_inner(None, Location::caller()) {
            Ok(m) => Ok(m),
            Err(RecvTimeoutError::Disconnected) => Err(RecvError),
            Err(RecvTimeoutError::Timeout) => unreachable!("recv has no deadline"),
        }
    }

    /// Takes a message if one is there now.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::channel::{unbounded, TryRecvError};
    /// let (_tx, rx) = unbounded::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        crate::task::sched_point("Receiver::try_recv");
        match self.recv_inner(Some(crate::clock::now()), Location::caller()) {
            Ok(m) => Ok(m),
            Err(RecvTimeoutError::Disconnected) => Err(TryRecvError::Disconnected),
            Err(RecvTimeoutError::Timeout) => Err(TryRecvError::Empty),
        }
    }

    /// Takes a message, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = spindle::channel::unbounded::<u8>();
    /// assert!(rx.recv_timeout(Duration::from_millis(5)).unwrap_err().is_timeout());
    /// ```
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        crate::task::sched_point("Receiver::recv_timeout");
        self.recv_inner(
            Some(crate::clock::deadline_after(timeout)),
            Location::caller(),
        )
    }

    fn recv_inner(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<T, RecvTimeoutError> {
        let chan = &*self.chan;
        chan.origin.touch();
        // Where a sender puts a message for us directly while we are parked, or a select's
        // send that we paired with puts its message (see `waiters`). It stays alive until we
        // have left the wait: entry removed or popped, and nothing pending.
        let slot: UnsafeCell<Slot<T>> = UnsafeCell::new(Slot::new());
        let slot_tag = slot.get() as usize as u64;
        let site = || chan.site("Receiver::recv", location);
        loop {
            // Waiters to wake; pushed only by an attempt that succeeds.
            let mut wakes = Wakes::new();
            let mut attempt = |st: &mut State<T>| st.take_or_park(slot.get(), &mut wakes);
            // A cancelled receiver that was handed a message puts it back for the others.
            let abandon = |_tag: u64| handover::abandon_recv(chan, &slot, &site);
            let result = wait::wait(Wait {
                lock: &chan.state,
                list: |st| &mut st.recv_waiters,
                tag: slot_tag,
                deadline,
                site: &site,
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
            wakes.wake();
            match result {
                Ok(Took::Msg(m)) => return Ok(m),
                Ok(Took::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                // Our entry has left the list, or we paired with a select's send: whatever
                // was given to us is (or will be) in the slot; nothing means "look again".
                Ok(Took::Pending) | Err(Woken::Notified) => {
                    if let Some(m) = handover::collect(chan, &slot, &site) {
                        return Ok(m);
                    }
                    continue;
                }
                Err(Woken::TimedOut) => return Err(RecvTimeoutError::Timeout),
            }
        }
    }

    /// A blocking iterator over messages, ending when the channel is empty and every sender
    /// is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// for i in 0..3 { tx.send(i).unwrap(); }
    /// drop(tx);
    /// assert_eq!(rx.iter().collect::<Vec<_>>(), [0, 1, 2]);
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { rx: self }
    }

    /// An iterator over the messages there now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_iter().count(), 1);
    /// ```
    pub fn try_iter(&self) -> TryIter<'_, T> {
        TryIter { rx: self }
    }

    /// Whether the channel holds no messages now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = spindle::channel::unbounded::<u8>();
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages in the channel now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.chan.len()
    }
}

/// A blocking iterator over a [`Receiver`]'s messages; from [`Receiver::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for Iter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

/// A non-blocking iterator over a [`Receiver`]'s messages; from [`Receiver::try_iter`].
#[derive(Debug)]
pub struct TryIter<'a, T> {
    rx: &'a Receiver<T>,
}

impl<T> Iterator for TryIter<'_, T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }
}

/// An owning blocking iterator over a [`Receiver`]'s messages.
#[derive(Debug)]
pub struct IntoIter<T> {
    rx: Receiver<T>,
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;
    fn next(&mut self) -> Option<T> {
        self.rx.recv().ok()
    }
}

impl<T> IntoIterator for Receiver<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;
    fn into_iter(self) -> IntoIter<T> {
        IntoIter { rx: self }
    }
}

impl<'a, T> IntoIterator for &'a Receiver<T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}
