//! [`TcpListener`] and its [`Incoming`] iterator: a listening TCP socket whose accepts
//! suspend a green thread (or block an OS thread) until a connection arrives.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsRawFd;

use super::fd::fd_impls;
use super::readiness::{Io, READABLE};
use super::tcp_stream::TcpStream;

/// The listen backlog of [`TcpListener::bind`] (tokio's choice; std's is 128).
const LISTEN_BACKLOG: libc::c_int = 1024;

/// A TCP socket server, listening for connections (std's `TcpListener`). `bind` listens with
/// a backlog of 1,024 connections.
///
/// # Examples
///
/// ```
/// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// assert!(l.local_addr().unwrap().port() > 0);
/// ```
pub struct TcpListener {
    io: Io<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr`.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        let std = std::net::TcpListener::bind(addr)?;
        // std listens with a backlog of 128; green threads accept in bursts of thousands.
        // SAFETY: `listen` on a descriptor we own only changes its queue length.
        if unsafe { libc::listen(std.as_raw_fd(), LISTEN_BACKLOG) } != 0 {
            return Err(io::Error::last_os_error());
        }
        TcpListener::from_std(std)
    }

    /// Wraps a std listener (made non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let std = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let l = spindle::net::TcpListener::from_std(std).unwrap();
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Io::new(mio::net::TcpListener::from_std(listener)),
        })
    }

    /// Unwraps into a std listener, blocking again.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std = l.into_std().unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        self.io.into_std(std::net::TcpListener::set_nonblocking)
    }

    /// Accepts a connection, waiting for one.
    ///
    /// # Examples
    ///
    /// See the [module documentation](crate::net).
    #[track_caller]
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, addr) = self
            .io
            .op(READABLE, None, "TcpListener::accept", |l| l.accept())?;
        Ok((TcpStream::from_mio(s), addr))
    }

    /// An endless iterator of accepted connections (`Err` items for failed accepts).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:8080").unwrap();
    /// for conn in l.incoming() { let _ = conn; }
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// assert!(l.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.sock.local_addr()
    }

    /// The pending socket error, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// assert!(l.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.sock.take_error()
    }
}

/// The iterator of [`TcpListener::incoming`].
#[derive(Debug)]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Iterator for Incoming<'_> {
    type Item = io::Result<TcpStream>;
    fn next(&mut self) -> Option<io::Result<TcpStream>> {
        Some(self.listener.accept().map(|(s, _)| s))
    }
}

fd_impls!(TcpListener);
