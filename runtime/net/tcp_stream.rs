//! [`TcpStream`]: a TCP connection whose connect, reads and writes suspend a green thread
//! (or block an OS thread) until the socket is ready, with std's timeouts.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::addrs::each_addr;
use super::fd::fd_impls;
use super::readiness::{Io, READABLE, WRITABLE};
use super::timeout::zero_timeout;

/// A TCP connection (std's `TcpStream`), readable and writable through `&TcpStream` too.
///
/// # Examples
///
/// See the [module documentation](crate::net).
pub struct TcpStream {
    io: Io<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn.
    ///
    /// # Errors
    ///
    /// The OS's error: `ConnectionRefused` when nothing listens, and so on.
    ///
    /// # Examples
    ///
    /// ```
    /// let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    /// // Nothing listens there any more.
    /// let err = spindle::net::TcpStream::connect(free).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// ```
    #[track_caller]
    pub fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(addr, |a| TcpStream::connect_inner(a, None))
    }

    /// Connects to `addr`, giving up after `timeout` (`TimedOut`). A zero timeout is an
    /// `InvalidInput` error, as in std.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect_timeout(&l.local_addr().unwrap(), Duration::from_secs(1));
    /// assert!(s.is_ok());
    /// ```
    #[track_caller]
    pub fn connect_timeout(addr: &SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
        if timeout.is_zero() {
            return Err(zero_timeout());
        }
        TcpStream::connect_inner(*addr, Some(crate::clock::deadline_after(timeout)))
    }

    #[track_caller]
    fn connect_inner(addr: SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?);
        // The connect finishes (or fails) when the socket turns writable.
        stream
            .io
            .op(WRITABLE, deadline, "TcpStream::connect", |s| {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(e) => Err(e),
                }
            })?;
        Ok(stream)
    }

    /// Wraps a connected std stream (made non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// let s = spindle::net::TcpStream::from_std(std).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream::from_mio(mio::net::TcpStream::from_std(stream)))
    }

    /// Wraps a connected non-blocking mio stream (an accepted one, too).
    pub(super) fn from_mio(stream: mio::net::TcpStream) -> TcpStream {
        TcpStream {
            io: Io::new(stream),
        }
    }

    /// Unwraps into a std stream, blocking again.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// let std = s.into_std().unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        self.io.into_std(std::net::TcpStream::set_nonblocking)
    }

    /// The remote address.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// assert_eq!(s.peer_addr().unwrap(), l.local_addr().unwrap());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.sock.peer_addr()
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// assert!(s.local_addr().unwrap().ip().is_loopback());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.sock.local_addr()
    }

    /// Shuts down the read half, the write half, or both.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// s.shutdown(std::net::Shutdown::Write).unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.sock.shutdown(how)
    }

    /// Sets `TCP_NODELAY` (no Nagle delay).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// s.set_nodelay(true).unwrap();
    /// assert!(s.nodelay().unwrap());
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.sock.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// See [`set_nodelay`](TcpStream::set_nodelay).
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.sock.nodelay()
    }

    /// Sets the read timeout (`None`: wait forever). `Some(Duration::ZERO)` is an error, as
    /// in std. A read that times out fails with `ErrorKind::TimedOut`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Read;
    /// use std::time::Duration;
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let mut s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// s.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
    /// let err = s.read(&mut [0; 1]).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.io.read_timeout.set(timeout)
    }

    /// Sets the write timeout (`None`: wait forever).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// s.set_write_timeout(Some(Duration::from_secs(1))).unwrap();
    /// assert_eq!(s.write_timeout().unwrap(), Some(Duration::from_secs(1)));
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.io.write_timeout.set(timeout)
    }

    /// The read timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// assert_eq!(s.read_timeout().unwrap(), None);
    /// ```
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.io.read_timeout.get())
    }

    /// The write timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// assert_eq!(s.write_timeout().unwrap(), None);
    /// ```
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(self.io.write_timeout.get())
    }

    /// The pending socket error, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// assert!(s.take_error().unwrap().is_none());
    /// ```
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.sock.take_error()
    }

    /// Reads without removing the data from the socket's queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    /// let l = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let mut c = spindle::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
    /// let (s, _) = l.accept().unwrap();
    /// c.write_all(b"x").unwrap();
    /// let mut buf = [0; 1];
    /// assert_eq!(s.peek(&mut buf).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .blocking(READABLE, "TcpStream::peek", |s| s.peek(buf))
    }
}

impl Read for &TcpStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.io
            .blocking(READABLE, "TcpStream::read", |mut s| s.read(buf))
    }
}

impl Write for &TcpStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .blocking(WRITABLE, "TcpStream::write", |mut s| s.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Read for TcpStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self).read(buf)
    }
}

impl Write for TcpStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fd_impls!(TcpStream);
