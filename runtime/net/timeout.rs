//! Socket timeouts as std's sockets take them (`None`: wait forever; a zero duration is
//! refused), stored without a lock, and the deadline and the `TimedOut` error they lead to.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A read or write timeout in nanoseconds (0: none).
pub(super) struct Timeout(AtomicU64);

impl Timeout {
    /// No timeout: operations wait forever.
    pub(super) fn none() -> Timeout {
        Timeout(AtomicU64::new(0))
    }

    /// Stores a std-style timeout: `Some(Duration::ZERO)` is an error, as in std.
    pub(super) fn set(&self, d: Option<Duration>) -> io::Result<()> {
        let nanos = match d {
            None => 0,
            Some(d) if d.is_zero() => return Err(zero_timeout()),
            Some(d) => d.as_nanos().clamp(1, u64::MAX as u128) as u64,
        };
        self.0.store(nanos, Ordering::Relaxed);
        Ok(())
    }

    /// The stored timeout, as std's getters return it.
    pub(super) fn get(&self) -> Option<Duration> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => Some(Duration::from_nanos(n)),
        }
    }

    /// When an operation that starts now gives up (`None`: never).
    pub(super) fn deadline(&self) -> Option<Instant> {
        let nanos = self.0.load(Ordering::Relaxed);
        (nanos != 0).then(|| crate::clock::deadline_after(Duration::from_nanos(nanos)))
    }
}

/// The error of a zero timeout, which std refuses.
#[cold]
pub(super) fn zero_timeout() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "cannot set a 0 duration timeout",
    )
}

/// The error of an operation whose deadline passed.
#[cold]
pub(super) fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
}
