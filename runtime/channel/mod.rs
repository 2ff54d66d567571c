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

mod ends;
mod errors;
mod handles;
mod handover;
mod pipe;
mod receiver;
mod select;
mod select_macro;
mod select_run;
mod selected;
mod sender;
mod state;
mod waiters;

#[doc(inline)]
pub use crate::select;
pub use ends::{bounded, unbounded, Receiver, Sender};
pub use errors::{
    RecvError, RecvTimeoutError, SendError, SendTimeoutError, TryRecvError, TrySendError,
};
pub use pipe::{pipe, Conn};
pub use receiver::{IntoIter, Iter, TryIter};
pub use select::{ReadyTimeoutError, Select, SelectTimeoutError, TryReadyError, TrySelectError};
pub use selected::SelectedOperation;
