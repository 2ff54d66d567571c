//! Multi-producer, multi-consumer channels with crossbeam-channel's names and meanings, and
//! duplex [`pipe`]s (Python's `multiprocessing.Pipe`). Both ends work from green threads and
//! OS threads alike: a plain thread may send to a channel a green thread receives from.
//!
//! * [`unbounded`]: `send` never waits.
//! * [`bounded`]`(cap)`: `send` waits while `cap` messages are queued; `bounded(0)` is a
//!   rendezvous channel: `send` waits until a receiver has taken the message.
//! * When every [`Sender`] is gone, receivers drain what is left, then get `Err`; when every
//!   [`Receiver`] is gone, `send` gives the message back in the error.
//! * [`select!`](crate::channel::select) and [`Select`] wait on several operations at once
//!   and complete the first one ready (crossbeam-channel's syntax and meaning).
//!
//! ```
//! use spindle::channel;
//! let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
//! let sum = rt.block_on(|| {
//!     let (tx, rx) = channel::bounded(4);
//!     spindle::spawn(move || for i in 1..=10 { tx.send(i).unwrap() });
//!     rx.iter().sum::<i32>() // ends when the sender is dropped
//! });
//! assert_eq!(sum, 55);
//! ```

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::loom::Lock;
use crate::sync::wait::{self, Wait, WaitList, WaitSite, Woken};
use crate::sync::Origin;

mod handles;
mod select;
mod select_macro;
mod select_run;
mod waiters;

#[doc(inline)]
pub use crate::select;
pub use select::{
    ReadyTimeoutError, Select, SelectTimeoutError, SelectedOperation, TryReadyError, TrySelectError,
};
use waiters::{Slot, Took, Wakes};

/// The channel's state, under its lock.
struct State<T> {
    /// Messages with their tickets (a rendezvous sender waits for its ticket to leave).
    buf: VecDeque<(u64, T)>,
    /// `None`: unbounded; `Some(0)`: rendezvous.
    cap: Option<usize>,
    next_ticket: u64,
    senders: usize,
    receivers: usize,
    /// Room promised to selected sends not yet completed (bounded channels).
    reserved: usize,
    /// Receivers waiting for a message (tag: the address of their `Slot`), and `select`s'
    /// receives (see `waiters`).
    recv_waiters: WaitList,
    /// Senders waiting for room, or (rendezvous) for their message to be taken (tag: ticket),
    /// and `select`s' sends.
    send_waiters: WaitList,
}

struct Chan<T> {
    state: Lock<State<T>>,
    origin: Origin,
    /// Whether this is a rendezvous channel (`bounded(0)`); fixed at creation.
    rendezvous: bool,
}

impl<T> Chan<T> {
    fn site(&self, what: &'static str, location: &'static Location<'static>) -> WaitSite {
        WaitSite {
            what,
            location,
            outside: self.origin.is_outside(),
            owner: None,
        }
    }
}

/// The sending end of a channel; clone it for more producers.
pub struct Sender<T> {
    chan: Arc<Chan<T>>,
}

/// The receiving end of a channel; clone it for more consumers (each message goes to one).
pub struct Receiver<T> {
    chan: Arc<Chan<T>>,
}

/// A channel with no limit: `send` never waits.
///
/// # Examples
///
/// ```
/// let (tx, rx) = spindle::channel::unbounded();
/// tx.send("hi").unwrap();
/// assert_eq!(rx.recv(), Ok("hi"));
/// ```
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    new(None)
}

/// A channel holding at most `cap` messages; `bounded(0)` is a rendezvous channel, whose
/// `send` returns once a receiver has taken the message.
///
/// # Examples
///
/// ```
/// let (tx, rx) = spindle::channel::bounded(1);
/// tx.send(1).unwrap();
/// assert!(tx.try_send(2).is_err()); // full
/// assert_eq!(rx.recv(), Ok(1));
/// ```
pub fn bounded<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    new(Some(cap))
}

fn new<T>(cap: Option<usize>) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Chan {
        state: Lock::new(State {
            buf: VecDeque::new(),
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
    });
    (Sender { chan: chan.clone() }, Receiver { chan })
}

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
        self.chan.origin.touch();
        let mut st = self.chan.state.lock();
        if st.receivers == 0 {
            return Err(TrySendError::Disconnected(msg));
        }
        let room = match st.cap {
            None => true,
            // Rendezvous: only a parked receiver takes a message at once.
            Some(0) => false,
            Some(cap) => st.buf.len() + st.reserved < cap,
        };
        if !room && st.cap != Some(0) {
            return Err(TrySendError::Full(msg));
        }
        let mut wakes = Wakes::new();
        let result = match st.deliver(msg, &mut wakes) {
            Ok(()) => Ok(()),
            Err(msg) if !room => Err(TrySendError::Full(msg)),
            Err(msg) => {
                let ticket = st.next_ticket;
                st.next_ticket += 1;
                st.buf.push_back((ticket, msg));
                st.notify_recv(&mut wakes);
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
        self.send_inner(
            msg,
            Some(crate::coop::deadline_after(timeout)),
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
                match st.deliver(msg.take().expect("unsent"), &mut wakes) {
                    Ok(()) => Some(Sent::HandedOver),
                    Err(m) => {
                        let ticket = st.next_ticket;
                        st.next_ticket += 1;
                        st.buf.push_back((ticket, m));
                        st.notify_recv(&mut wakes);
                        Some(Sent::Queued { ticket })
                    }
                }
            };
            let abandon = |_tag: u64| handles::abandon_send(chan);
            let result = wait::wait(Wait {
                lock: &chan.state,
                list: |st| &mut st.send_waiters,
                tag: u64::MAX,
                deadline,
                site: &|| chan.site("Sender::send", location),
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
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
            let abandon = |_tag: u64| {};
            let result = wait::wait(Wait {
                lock: &chan.state,
                list: |st| &mut st.send_waiters,
                tag: ticket,
                deadline,
                site: &|| chan.site("Sender::send", location),
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
            match result {
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
        // A rendezvous channel holds nothing: a message in hand-over is not queued.
        if self.chan.rendezvous {
            return 0;
        }
        self.chan.state.lock().buf.len()
    }
}

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
        self.recv_inner(
            Some(crate::coop::deadline_after(timeout)),
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
            let abandon = |_tag: u64| handles::abandon_recv(chan, &slot, &site);
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
                    if let Some(m) = handles::collect(chan, &slot, &site) {
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
        // A rendezvous channel holds nothing: a message in hand-over is not queued.
        if self.chan.rendezvous {
            return 0;
        }
        self.chan.state.lock().buf.len()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.chan.state.lock().senders += 1;
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let all = {
            let mut st = self.chan.state.lock();
            st.senders -= 1;
            if st.senders != 0 {
                return;
            }
            st.disconnect_receivers()
        };
        all.wake();
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        self.chan.state.lock().receivers += 1;
        Receiver {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let all = {
            let mut st = self.chan.state.lock();
            st.receivers -= 1;
            if st.receivers != 0 {
                return;
            }
            st.disconnect_senders()
        };
        all.wake();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").finish_non_exhaustive()
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

/// One end of a duplex [`pipe`]: it sends to the other end and receives from it.
pub struct Conn<T> {
    /// Dropped first, so that once the other end's `recv` reports the hang-up, its `send`
    /// fails too (both directions close together, as Python's `close()` does).
    rx: Receiver<T>,
    tx: Sender<T>,
}

/// A two-way connection: what one end sends, the other receives (Python's
/// `multiprocessing.Pipe()`).
///
/// # Examples
///
/// ```
/// let (parent, child) = spindle::channel::pipe();
/// child.send("ping").unwrap();
/// assert_eq!(parent.recv(), Ok("ping"));
/// parent.send("pong").unwrap();
/// assert_eq!(child.recv(), Ok("pong"));
/// ```
pub fn pipe<T>() -> (Conn<T>, Conn<T>) {
    let (tx_a, rx_a) = unbounded();
    let (tx_b, rx_b) = unbounded();
    (Conn { tx: tx_a, rx: rx_b }, Conn { tx: tx_b, rx: rx_a })
}

impl<T> Conn<T> {
    /// Sends to the other end; fails (handing the message back) once it is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = spindle::channel::pipe();
    /// drop(b);
    /// assert!(a.send(1).is_err());
    /// ```
    #[track_caller]
    pub fn send(&self, msg: T) -> Result<(), SendError<T>> {
        self.tx.send(msg)
    }

    /// Receives from the other end, waiting; `Err` once it is dropped and nothing is left.
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, b) = spindle::channel::pipe::<u8>();
    /// drop(b);
    /// assert!(a.recv().is_err());
    /// ```
    #[track_caller]
    pub fn recv(&self) -> Result<T, RecvError> {
        self.rx.recv()
    }

    /// Receives, waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (a, _b) = spindle::channel::pipe::<u8>();
    /// assert!(a.recv_timeout(Duration::from_millis(5)).is_err());
    /// ```
    #[track_caller]
    pub fn recv_timeout(&self, timeout: Duration) -> Result<T, RecvTimeoutError> {
        self.rx.recv_timeout(timeout)
    }

    /// Receives if a message is there now (Python's `poll()` then `recv()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (a, _b) = spindle::channel::pipe::<u8>();
    /// assert!(a.try_recv().is_err());
    /// ```
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }
}

impl<T> fmt::Debug for Conn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

/// [`Sender::send`] failed: every receiver is gone. The message comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// [`Sender::try_send`] failed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// The channel is full (rendezvous: no receiver is waiting).
    Full(T),
    /// Every receiver is gone.
    Disconnected(T),
}

/// [`Sender::send_timeout`] failed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// No room (or no receiver) came in time.
    Timeout(T),
    /// Every receiver is gone.
    Disconnected(T),
}

/// [`Receiver::recv`] failed: the channel is empty and every sender is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

/// [`Receiver::try_recv`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message now.
    Empty,
    /// Empty, and every sender is gone.
    Disconnected,
}

/// [`Receiver::recv_timeout`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// No message came in time.
    Timeout,
    /// Empty, and every sender is gone.
    Disconnected,
}

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::channel::SendError(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::channel::TrySendError::Full(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(m) | TrySendError::Disconnected(m) => m,
        }
    }

    /// Whether the channel was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TrySendError::Full(()).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether every receiver was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TrySendError::Disconnected(()).is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TrySendError::Disconnected(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::channel::SendTimeoutError::Timeout(3).into_inner(), 3);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(m) | SendTimeoutError::Disconnected(m) => m,
        }
    }

    /// Whether the send timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::SendTimeoutError::Timeout(()).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }

    /// Whether every receiver was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::SendTimeoutError::Disconnected(()).is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, SendTimeoutError::Disconnected(_))
    }
}

impl TryRecvError {
    /// Whether the channel was just empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TryRecvError::Empty.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        matches!(self, TryRecvError::Empty)
    }

    /// Whether every sender was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TryRecvError::Disconnected.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, TryRecvError::Disconnected)
    }
}

impl RecvTimeoutError {
    /// Whether the receive timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::RecvTimeoutError::Timeout.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, RecvTimeoutError::Timeout)
    }

    /// Whether every sender was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::RecvTimeoutError::Disconnected.is_disconnected());
    /// ```
    pub fn is_disconnected(&self) -> bool {
        matches!(self, RecvTimeoutError::Disconnected)
    }
}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
            SendTimeoutError::Disconnected(_) => f.write_str("Disconnected(..)"),
        }
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a channel with no receivers")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("sending on a full channel"),
            TrySendError::Disconnected(_) => f.write_str("sending on a channel with no receivers"),
        }
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendTimeoutError::Timeout(_) => f.write_str("timed out sending on a channel"),
            SendTimeoutError::Disconnected(_) => {
                f.write_str("sending on a channel with no receivers")
            }
        }
    }
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty channel with no senders")
    }
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Disconnected => {
                f.write_str("receiving on an empty channel with no senders")
            }
        }
    }
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out receiving on a channel"),
            RecvTimeoutError::Disconnected => {
                f.write_str("receiving on an empty channel with no senders")
            }
        }
    }
}

impl<T> std::error::Error for SendError<T> {}
impl<T> std::error::Error for TrySendError<T> {}
impl<T> std::error::Error for SendTimeoutError<T> {}
impl std::error::Error for RecvError {}
impl std::error::Error for TryRecvError {}
impl std::error::Error for RecvTimeoutError {}
