//! Duplex [`pipe`]s: two [`Conn`] ends, each sending to the other over a channel of its own
//! (Python's `multiprocessing.Pipe`).

use std::fmt;
use std::time::Duration;

use super::ends::{unbounded, Receiver, Sender};
use super::errors::{RecvError, RecvTimeoutError, SendError, TryRecvError};

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
