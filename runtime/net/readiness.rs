//! The readiness machinery all socket types share: a non-blocking socket with its registration
//! (made the first time a green thread waits on it, and moved to the worker of whichever green
//! thread waits next, if that is another: `coop/registration.rs`) and its read and write
//! timeouts, and the loop that retries an operation until it stops returning `WouldBlock` —
//! parking a green thread on its worker's reactor, or blocking an OS thread in `poll(2)` — and
//! fails it with `TimedOut` once its deadline passes.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::time::Instant;

pub(super) use crate::coop::{Registration, READABLE, WRITABLE};

use super::timeout::{timed_out, Timeout};

/// A non-blocking socket and its registration with the poll of the worker whose green thread
/// last waited on it.
pub(super) struct Io<S> {
    /// Declared before `sock` so it is dropped first: deregistering after the descriptor
    /// is closed could hit a new socket that reused the number.
    reg: Registration,
    pub(super) sock: S,
    /// Read and write timeouts.
    pub(super) read_timeout: Timeout,
    pub(super) write_timeout: Timeout,
}

impl<S: AsRawFd> Io<S> {
    pub(super) fn new(sock: S) -> Io<S> {
        Io {
            reg: Registration::new(sock.as_raw_fd()),
            sock,
            read_timeout: Timeout::none(),
            write_timeout: Timeout::none(),
        }
    }

    /// When an operation waiting for `interest` that starts now gives up: the read timeout
    /// for `READABLE`, the write timeout otherwise.
    pub(super) fn deadline(&self, interest: u8) -> Option<Instant> {
        if interest == READABLE {
            self.read_timeout.deadline()
        } else {
            self.write_timeout.deadline()
        }
    }

    /// The blocking path of a read (`READABLE`) or a write (`WRITABLE`): [`op`](Io::op) until
    /// the socket's read or write timeout, counted from now.
    #[track_caller]
    pub(super) fn blocking<R>(
        &self,
        interest: u8,
        what: &'static str,
        op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        self.op(interest, self.deadline(interest), what, op)
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for `interest` in between
    /// (parking a green thread, or polling on an OS thread) until `deadline`.
    #[track_caller]
    pub(super) fn op<R>(
        &self,
        interest: u8,
        deadline: Option<Instant>,
        what: &'static str,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let tick = self.reg.tick();
            match op(&self.sock) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
            if deadline.is_some_and(|d| crate::clock::now() >= d) {
                return Err(timed_out(what));
            }
            if crate::task::in_green_thread() {
                self.reg.wait(interest, deadline, tick, what)?;
            } else {
                poll_fd(self.sock.as_raw_fd(), interest, deadline)?;
            }
        }
    }

    /// Unwraps into the std socket `T`, blocking again (`set_nonblocking` is `T`'s). The
    /// registration goes first, while the descriptor is still ours.
    pub(super) fn into_std<T: FromRawFd>(
        self,
        set_nonblocking: impl FnOnce(&T, bool) -> io::Result<()>,
    ) -> io::Result<T>
    where
        S: IntoRawFd,
    {
        let Io { sock, reg, .. } = self;
        drop(reg);
        // SAFETY: the descriptor comes from a socket we own and give up here.
        let std = unsafe { T::from_raw_fd(sock.into_raw_fd()) };
        set_nonblocking(&std, false)?;
        Ok(std)
    }
}

/// Blocks the OS thread until `fd` is ready for `interest` or `deadline` passes (then the
/// caller's retry sees `WouldBlock` again and the deadline check fails it).
fn poll_fd(fd: RawFd, interest: u8, deadline: Option<Instant>) -> io::Result<()> {
    let events = if interest == READABLE {
        libc::POLLIN
    } else {
        libc::POLLOUT
    };
    loop {
        let timeout_ms = match deadline {
            None => -1,
            Some(d) => {
                let left = d.saturating_duration_since(crate::clock::now());
                if left.is_zero() {
                    return Ok(());
                }
                left.as_millis().clamp(1, i32::MAX as u128) as i32
            }
        };
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: `pfd` is a valid pollfd array of length 1 for the duration of the call.
        let rc = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
        if rc >= 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
