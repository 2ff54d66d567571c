//! The two ends of a channel, [`Sender`] and [`Receiver`]; how a channel is made
//! ([`unbounded`], [`bounded`]); and how its ends are counted: a clone is one more end of its
//! kind, and the last one of a kind to go disconnects the other side. What the ends do is in
//! `sender` and `receiver`.

use std::fmt;

use super::state::Chan;
use crate::recycle::Counted;

/// The sending end of a channel; clone it for more producers.
pub struct Sender<T> {
    pub(super) chan: Counted<Chan<T>>,
}

/// The receiving end of a channel; clone it for more consumers (each message goes to one).
pub struct Receiver<T> {
    pub(super) chan: Counted<Chan<T>>,
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
    let chan = Chan::new(cap);
    (Sender { chan: chan.clone() }, Receiver { chan })
}

/// `Clone`, `Drop` and `Debug` for an end: a clone counts one more end in `State::$count`; a
/// drop one fewer (`State::$left`), waking whom the last one's leaving disconnects, once the
/// lock is released; `Debug` shows no fields. Clones and drops are uses (see `Origin`).
macro_rules! end_impls {
    ($End:ident, $count:ident, $left:ident) => {
        impl<T> Clone for $End<T> {
            fn clone(&self) -> $End<T> {
                self.chan.origin.touch();
                self.chan.state.lock().$count += 1;
                $End {
                    chan: self.chan.clone(),
                }
            }
        }

        impl<T> Drop for $End<T> {
            fn drop(&mut self) {
                // The last end of a kind to go ends the other side's waits.
                self.chan.origin.touch();
                let all = self.chan.state.lock().$left();
                all.wake();
            }
        }

        impl<T> fmt::Debug for $End<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($End)).finish_non_exhaustive()
            }
        }
    };
}

end_impls!(Sender, senders, sender_left);
end_impls!(Receiver, receivers, receiver_left);
