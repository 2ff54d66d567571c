//! [`Cancelled`]: the payload of a task cancelled at runtime shutdown.

use std::fmt;

/// The payload of a task cancelled at runtime shutdown (a daemon still running when
/// `block_on` ended). `JoinHandle::join` returns it as the `Err`.
///
/// # Examples
///
/// ```
/// let payload: Box<dyn std::any::Any + Send> = Box::new(spindle::Cancelled);
/// assert!(payload.is::<spindle::Cancelled>());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task cancelled at runtime shutdown")
    }
}
