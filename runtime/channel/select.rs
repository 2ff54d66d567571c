//! [`Select`]: wait on several channel operations at once and complete one of them, with
//! crossbeam-channel's API and meaning (the [`select!`](crate::channel::select) macro is the
//! convenient form).
//!
//! # How a select waits
//!
//! First every operation is tried, in a random order (so that among several ready ones each
//! is as likely to be chosen). If none can go, the select registers one entry per operation,
//! on each channel's wait list, all naming one context, and parks its task (or thread) once.
//! Whichever channel fires first claims the context and commits its operation; the select
//! then leaves the other lists. See `waiters.rs` for the protocol, `select_run.rs` for the
//! loop.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::ends::{Receiver, Sender};
use super::handles::Handle;
use super::select_run::{run, run_ready, Op};
use super::selected::SelectedOperation;

/// A set of channel operations to wait on; [`select`](Select::select) completes one of them.
///
/// Add operations with [`recv`](Select::recv) and [`send`](Select::send) (each returns the
/// operation's index), then:
///
/// * [`select`](Select::select), [`select_timeout`](Select::select_timeout) or
///   [`try_select`](Select::try_select) choose a ready operation and *begin* it: the returned
///   [`SelectedOperation`] must be completed with its `recv` or `send`;
/// * [`ready`](Select::ready), [`ready_timeout`](Select::ready_timeout) or
///   [`try_ready`](Select::try_ready) only say which operation is ready; another task may take
///   it first, so retry.
///
/// An operation is ready when it would not wait, which includes failing because the other side
/// of its channel is gone. Among several ready operations one is chosen at random.
///
/// # Examples
///
/// ```
/// use spindle::channel::{unbounded, Select};
/// let (tx1, rx1) = unbounded::<i32>();
/// let (_tx2, rx2) = unbounded::<i32>();
/// tx1.send(10).unwrap();
///
/// let mut sel = Select::new();
/// let op1 = sel.recv(&rx1);
/// let op2 = sel.recv(&rx2);
/// let oper = sel.select();
/// match oper.index() {
///     i if i == op1 => assert_eq!(oper.recv(&rx1), Ok(10)),
///     i if i == op2 => unreachable!("nothing was sent on rx2"),
///     _ => unreachable!(),
/// }
/// ```
#[derive(Clone, Default)]
pub struct Select<'a> {
    ops: Vec<Op<'a>>,
    next: usize,
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.ops.len())
            .finish()
    }
}

impl<'a> Select<'a> {
    /// An empty set of operations.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut sel = spindle::channel::Select::new();
    /// assert!(sel.try_select().is_err()); // nothing to select
    /// ```
    pub fn new() -> Select<'a> {
        Select {
            ops: Vec::with_capacity(4),
            next: 0,
        }
    }

    /// Adds a receive on `r`; returns the operation's index.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = spindle::channel::unbounded::<u8>();
    /// let mut sel = spindle::channel::Select::new();
    /// assert_eq!(sel.recv(&rx), 0);
    /// assert_eq!(sel.recv(&rx), 1);
    /// ```
    pub fn recv<T>(&mut self, r: &'a Receiver<T>) -> usize {
        self.add(r)
    }

    /// Adds a send on `s` (the message is given when the operation is completed); returns the
    /// operation's index.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::bounded(1);
    /// let mut sel = spindle::channel::Select::new();
    /// let i = sel.send(&tx);
    /// let oper = sel.select();
    /// assert_eq!(oper.index(), i);
    /// oper.send(&tx, 'x').unwrap();
    /// assert_eq!(rx.recv(), Ok('x'));
    /// ```
    pub fn send<T>(&mut self, s: &'a Sender<T>) -> usize {
        self.add(s)
    }

    fn add(&mut self, handle: &'a dyn Handle) -> usize {
        let index = self.next;
        self.next += 1;
        self.ops.push(Op { handle, index });
        index
    }

    /// Chooses and begins an operation that is ready now, or fails at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded::<i32>();
    /// let mut sel = spindle::channel::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.try_select().is_err());
    /// tx.send(1).unwrap();
    /// assert_eq!(sel.try_select().unwrap().recv(&rx), Ok(1));
    /// ```
    #[track_caller]
    pub fn try_select(&mut self) -> Result<SelectedOperation<'a>, TrySelectError> {
        let now = crate::clock::now();
        run(&mut self.ops, Some(now), Location::caller()).ok_or(TrySelectError)
    }

    /// Waits until an operation is ready, then chooses and begins it. A green thread parks
    /// (once, however many operations there are); an OS thread blocks.
    ///
    /// # Panics
    ///
    /// If no operation was added (it would wait forever).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::channel::{bounded, Select};
    /// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
    /// rt.block_on(|| {
    ///     let (tx, rx) = bounded::<&str>(0);
    ///     let (_tx2, rx2) = bounded::<&str>(0);
    ///     spindle::spawn(move || tx.send("hello").unwrap());
    ///     let mut sel = Select::new();
    ///     let a = sel.recv(&rx);
    ///     sel.recv(&rx2);
    ///     let oper = sel.select();
    ///     assert_eq!(oper.index(), a);
    ///     assert_eq!(oper.recv(&rx), Ok("hello"));
    /// });
    /// ```
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'a> {
        assert!(
            !self.ops.is_empty(),
            "no operations have been added to `Select`"
        );
        run(&mut self.ops, None, Location::caller()).expect("no deadline")
    }

    /// As [`select`](Select::select), waiting at most `timeout`. With no operation, it just
    /// waits out the timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = spindle::channel::unbounded::<u8>();
    /// let mut sel = spindle::channel::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_timeout(Duration::from_millis(5)).is_err());
    /// ```
    #[track_caller]
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        let deadline = crate::clock::deadline_after(timeout);
        run(&mut self.ops, Some(deadline), Location::caller()).ok_or(SelectTimeoutError)
    }

    /// As [`select`](Select::select), waiting until `deadline` at most.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// let (_tx, rx) = spindle::channel::unbounded::<u8>();
    /// let mut sel = spindle::channel::Select::new();
    /// sel.recv(&rx);
    /// let deadline = Instant::now() + Duration::from_millis(5);
    /// assert!(sel.select_deadline(deadline).is_err());
    /// ```
    #[track_caller]
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'a>, SelectTimeoutError> {
        run(&mut self.ops, Some(deadline), Location::caller()).ok_or(SelectTimeoutError)
    }

    /// The index of an operation that is ready now, without beginning it; fails at once if
    /// none is.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// let mut sel = spindle::channel::Select::new();
    /// let i = sel.recv(&rx);
    /// assert!(sel.try_ready().is_err());
    /// tx.send(1).unwrap();
    /// assert_eq!(sel.try_ready(), Ok(i));
    /// assert_eq!(rx.try_recv(), Ok(1)); // the message is still there
    /// ```
    #[track_caller]
    pub fn try_ready(&mut self) -> Result<usize, TryReadyError> {
        run_ready(&mut self.ops, Some(crate::clock::now()), Location::caller()).ok_or(TryReadyError)
    }

    /// Waits until an operation is ready and returns its index, without beginning it (another
    /// task may take it first: check again with a `try_` call).
    ///
    /// # Panics
    ///
    /// If no operation was added.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = spindle::channel::unbounded();
    /// let mut sel = spindle::channel::Select::new();
    /// let i = sel.recv(&rx);
    /// std::thread::spawn(move || tx.send(5).unwrap());
    /// assert_eq!(sel.ready(), i);
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    #[track_caller]
    pub fn ready(&mut self) -> usize {
        assert!(
            !self.ops.is_empty(),
            "no operations have been added to `Select`"
        );
        run_ready(&mut self.ops, None, Location::caller()).expect("no deadline")
    }

    /// As [`ready`](Select::ready), waiting at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = spindle::channel::bounded::<u8>(0);
    /// let mut sel = spindle::channel::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.ready_timeout(Duration::from_millis(5)).is_err());
    /// ```
    #[track_caller]
    pub fn ready_timeout(&mut self, timeout: Duration) -> Result<usize, ReadyTimeoutError> {
        let deadline = crate::clock::deadline_after(timeout);
        run_ready(&mut self.ops, Some(deadline), Location::caller()).ok_or(ReadyTimeoutError)
    }
}

macro_rules! unit_error {
    ($(#[$doc:meta])* $name:ident, $msg:literal, $example:literal) => {
        $(#[$doc])*
        ///
        /// # Examples
        ///
        /// ```
        #[doc = $example]
        /// ```
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($msg)
            }
        }

        impl std::error::Error for $name {}
    };
}

unit_error!(
    /// [`Select::try_select`] found no operation ready.
    TrySelectError,
    "all operations in select would block",
    "let mut sel = spindle::channel::Select::new();\n\
     assert_eq!(sel.try_select().unwrap_err(), spindle::channel::TrySelectError);"
);
unit_error!(
    /// [`Select::select_timeout`] timed out.
    SelectTimeoutError,
    "timed out waiting on select",
    "use std::time::Duration;\n\
     let mut sel = spindle::channel::Select::new();\n\
     let e = sel.select_timeout(Duration::from_millis(1)).unwrap_err();\n\
     assert_eq!(e.to_string(), \"timed out waiting on select\");"
);
unit_error!(
    /// [`Select::try_ready`] found no operation ready.
    TryReadyError,
    "all operations in select would block",
    "let mut sel = spindle::channel::Select::new();\n\
     assert_eq!(sel.try_ready(), Err(spindle::channel::TryReadyError));"
);
unit_error!(
    /// [`Select::ready_timeout`] timed out.
    ReadyTimeoutError,
    "timed out waiting on ready",
    "use std::time::Duration;\n\
     let (_tx, rx) = spindle::channel::unbounded::<u8>();\n\
     let mut sel = spindle::channel::Select::new();\n\
     sel.recv(&rx);\n\
     assert_eq!(sel.ready_timeout(Duration::from_millis(1)), Err(spindle::channel::ReadyTimeoutError));"
);
