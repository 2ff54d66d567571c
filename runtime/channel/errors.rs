//! The channel's errors: what `send`, `try_send`, `send_timeout`, `recv`, `try_recv` and
//! `recv_timeout` fail with. A failed send gives its message back.
//!
//! The four two-way errors (`TrySendError`, `SendTimeoutError`, `TryRecvError`,
//! `RecvTimeoutError`) are written once, by `two_way_error!`.

use std::fmt;

/// Defines an error with two variants, `$first` and `Disconnected`, each with its `Display`
/// message, and its inherent methods (their docs are given): a test for each variant and,
/// when the variants carry the unsent message (`<T>`), `into_inner` and a `Debug` that leaves
/// the message out (`Full(..)`). Also `Error`.
macro_rules! two_way_error {
    (
        $(#[$attr:meta])*
        pub enum $name:ident $(<$T:ident>)? {
            $(#[$first_doc:meta])*
            $first:ident $(($first_msg_ty:ty))? => $first_text:literal,
            $(#[$disc_doc:meta])*
            Disconnected $(($disc_msg_ty:ty))? => $disc_text:literal,
        }
        $(#[$is_first_doc:meta])*
        fn $is_first:ident;
        $(#[$is_disc_doc:meta])*
        fn is_disconnected;
        $(
            $(#[$into_inner_doc:meta])*
            fn $into_inner:ident;
        )?
    ) => {
        $(#[$attr])*
        pub enum $name $(<$T>)? {
            $(#[$first_doc])*
            $first $(($first_msg_ty))?,
            $(#[$disc_doc])*
            Disconnected $(($disc_msg_ty))?,
        }

        impl $(<$T>)? $name $(<$T>)? {
            $(
                $(#[$into_inner_doc])*
                pub fn $into_inner(self) -> $T {
                    match self {
                        $name::$first(m) | $name::Disconnected(m) => m,
                    }
                }
            )?

            $(#[$is_first_doc])*
            pub fn $is_first(&self) -> bool {
                matches!(self, $name::$first { .. })
            }

            $(#[$is_disc_doc])*
            pub fn is_disconnected(&self) -> bool {
                matches!(self, $name::Disconnected { .. })
            }
        }

        $(
            impl<$T> fmt::Debug for $name<$T> {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(match self {
                        $name::$first(_) => concat!(stringify!($first), "(..)"),
                        $name::Disconnected(_) => "Disconnected(..)",
                    })
                }
            }
        )?

        impl $(<$T>)? fmt::Display for $name $(<$T>)? {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(match self {
                    $name::$first { .. } => $first_text,
                    $name::Disconnected { .. } => $disc_text,
                })
            }
        }

        impl $(<$T>)? std::error::Error for $name $(<$T>)? {}
    };
}

/// [`Sender::send`](crate::channel::Sender::send) failed: every receiver is gone. The message
/// comes back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

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

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a channel with no receivers")
    }
}

impl<T> std::error::Error for SendError<T> {}

two_way_error! {
    /// [`Sender::try_send`](crate::channel::Sender::try_send) failed.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum TrySendError<T> {
        /// The channel is full (rendezvous: no receiver is waiting).
        Full(T) => "sending on a full channel",
        /// Every receiver is gone.
        Disconnected(T) => "sending on a channel with no receivers",
    }
    /// Whether the channel was full.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TrySendError::Full(()).is_full());
    /// ```
    fn is_full;
    /// Whether every receiver was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TrySendError::Disconnected(()).is_disconnected());
    /// ```
    fn is_disconnected;
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::channel::TrySendError::Full(3).into_inner(), 3);
    /// ```
    fn into_inner;
}

two_way_error! {
    /// [`Sender::send_timeout`](crate::channel::Sender::send_timeout) failed.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub enum SendTimeoutError<T> {
        /// No room (or no receiver) came in time.
        Timeout(T) => "timed out sending on a channel",
        /// Every receiver is gone.
        Disconnected(T) => "sending on a channel with no receivers",
    }
    /// Whether the send timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::SendTimeoutError::Timeout(()).is_timeout());
    /// ```
    fn is_timeout;
    /// Whether every receiver was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::SendTimeoutError::Disconnected(()).is_disconnected());
    /// ```
    fn is_disconnected;
    /// The message that was not sent.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::channel::SendTimeoutError::Timeout(3).into_inner(), 3);
    /// ```
    fn into_inner;
}

/// [`Receiver::recv`](crate::channel::Receiver::recv) failed: the channel is empty and every
/// sender is gone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty channel with no senders")
    }
}

impl std::error::Error for RecvError {}

two_way_error! {
    /// [`Receiver::try_recv`](crate::channel::Receiver::try_recv) failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No message now.
        Empty => "receiving on an empty channel",
        /// Empty, and every sender is gone.
        Disconnected => "receiving on an empty channel with no senders",
    }
    /// Whether the channel was just empty.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TryRecvError::Empty.is_empty());
    /// ```
    fn is_empty;
    /// Whether every sender was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::TryRecvError::Disconnected.is_disconnected());
    /// ```
    fn is_disconnected;
}

two_way_error! {
    /// [`Receiver::recv_timeout`](crate::channel::Receiver::recv_timeout) failed.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum RecvTimeoutError {
        /// No message came in time.
        Timeout => "timed out receiving on a channel",
        /// Empty, and every sender is gone.
        Disconnected => "receiving on an empty channel with no senders",
    }
    /// Whether the receive timed out.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::RecvTimeoutError::Timeout.is_timeout());
    /// ```
    fn is_timeout;
    /// Whether every sender was gone.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::channel::RecvTimeoutError::Disconnected.is_disconnected());
    /// ```
    fn is_disconnected;
}
