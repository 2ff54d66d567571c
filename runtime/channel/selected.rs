//! [`SelectedOperation`]: the operation a [`Select`](crate::channel::Select) chose and began,
//! until the user completes it with the channel end it was added with.

use std::fmt;

use super::ends::{Receiver, Sender};
use super::errors::{RecvError, SendError};
use super::handles::{self, Completion, Handle};

/// An operation chosen by [`Select`](crate::channel::Select), begun but not completed:
/// complete it with [`recv`](SelectedOperation::recv) or [`send`](SelectedOperation::send),
/// passing the same channel end that was added.
///
/// # Panics
///
/// Dropping it without completing it panics (as crossbeam's does), after giving back what the
/// operation had taken: a received message goes back to the front of its channel, a reserved
/// slot or a reserved rendezvous receiver is released. Complete it promptly: a rendezvous
/// receiver a chosen send paired with waits for the message until then.
///
/// # Examples
///
/// ```
/// use spindle::channel::{unbounded, Select};
/// let (tx, rx) = unbounded();
/// tx.send(1).unwrap();
/// let mut sel = Select::new();
/// sel.recv(&rx);
/// let oper = sel.select();
/// assert_eq!(oper.index(), 0);
/// assert_eq!(oper.recv(&rx), Ok(1));
/// ```
#[must_use = "a selected operation must be completed with `recv` or `send`"]
pub struct SelectedOperation<'a> {
    pub(super) index: usize,
    pub(super) chan: *const (),
    pub(super) sender: bool,
    pub(super) done: Option<Box<dyn Completion + 'a>>,
}

impl SelectedOperation<'_> {
    /// The index of the chosen operation (as returned when it was added).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = spindle::channel::unbounded();
    /// let mut sel = spindle::channel::Select::new();
    /// let i = sel.send(&tx);
    /// let oper = sel.select();
    /// assert_eq!(oper.index(), i);
    /// oper.send(&tx, ()).unwrap();
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// Completes the chosen receive: the message, or `Err` if the channel is empty and every
    /// sender is gone.
    ///
    /// # Panics
    ///
    /// If `r` is not (a clone of) the receiver of the chosen operation.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::channel::{unbounded, RecvError, Select};
    /// let (tx, rx) = unbounded::<u8>();
    /// drop(tx);
    /// let mut sel = Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv(&rx), Err(RecvError)); // ready: disconnected
    /// ```
    pub fn recv<T>(mut self, r: &Receiver<T>) -> Result<T, RecvError> {
        assert!(
            !self.sender && self.chan == Handle::chan_addr(r),
            "passed a receiver that wasn't selected"
        );
        let done = self.done.take().expect("completed once");
        // SAFETY: the chosen operation's channel is `r`'s (checked above: a live channel has
        // one address and one message type), and it is a receive, so `done` was made by
        // `Receiver<T>`'s handle.
        unsafe { handles::downcast::<T>(done) }.recv()
    }

    /// Completes the chosen send with `msg`; `Err` gives it back if every receiver is gone.
    ///
    /// # Panics
    ///
    /// If `s` is not (a clone of) the sender of the chosen operation.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::channel::{bounded, Select};
    /// let (tx, rx) = bounded::<u8>(0);
    /// drop(rx);
    /// let mut sel = Select::new();
    /// sel.send(&tx);
    /// assert_eq!(sel.select().send(&tx, 7).unwrap_err().into_inner(), 7);
    /// ```
    pub fn send<T>(mut self, s: &Sender<T>, msg: T) -> Result<(), SendError<T>> {
        assert!(
            self.sender && self.chan == Handle::chan_addr(s),
            "passed a sender that wasn't selected"
        );
        let done = self.done.take().expect("completed once");
        // SAFETY: as in `recv`, with `Sender<T>`'s handle.
        unsafe { handles::downcast::<T>(done) }.send(msg)
    }
}

impl Drop for SelectedOperation<'_> {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            drop(done); // gives back what the operation took
            if !std::thread::panicking() {
                panic!("dropped `SelectedOperation` without completing the operation");
            }
        }
    }
}

impl fmt::Debug for SelectedOperation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}
