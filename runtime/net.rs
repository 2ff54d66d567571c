//! TCP and UDP sockets that follow their caller: in a green thread, an operation that would
//! block suspends the task and the worker's mio reactor resumes it when the socket is ready;
//! on a plain thread or in a preemptive task, the same operation blocks the thread, as
//! std's do. Names and signatures copy `std::net`.
//!
//! Sockets are always non-blocking underneath. A green thread that meets `WouldBlock`
//! registers the socket (once) with its worker's poll and parks; an OS thread waits in
//! `poll(2)` on the one descriptor. Read, write and connect timeouts work in both worlds and
//! fail with `ErrorKind::TimedOut`.
//!
//! ```
//! use std::io::{Read, Write};
//! use spindle::net::{TcpListener, TcpStream};
//!
//! let rt = spindle::Runtime::cooperative().workers(1).build()?;
//! let echoed = rt.block_on(|| -> std::io::Result<String> {
//!     let listener = TcpListener::bind("127.0.0.1:0")?;
//!     let addr = listener.local_addr()?;
//!     let server = spindle::spawn(move || -> std::io::Result<()> {
//!         let (mut conn, _) = listener.accept()?;
//!         let mut buf = [0; 5];
//!         conn.read_exact(&mut buf)?;
//!         conn.write_all(&buf)
//!     });
//!     let mut client = TcpStream::connect(addr)?;
//!     client.write_all(b"hello")?;
//!     let mut back = String::new();
//!     client.read_to_string(&mut back)?;
//!     server.join().unwrap()?;
//!     Ok(back)
//! })?;
//! assert_eq!(echoed, "hello");
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Name resolution (`ToSocketAddrs` with a host name) is a blocking call; from a green thread,
//! resolve with [`spawn_blocking`](crate::spawn_blocking) first, or pass addresses.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::coop::reactor::{Registration, READABLE, WRITABLE};

/// A non-blocking socket and, once a green thread has waited on it, its registration.
struct Io<S> {
    /// Declared before `sock` so it is dropped first: deregistering after the descriptor
    /// is closed could hit a new socket that reused the number.
    reg: OnceLock<Registration>,
    sock: S,
    /// Serialises the first registration.
    reg_init: Mutex<()>,
    /// Read and write timeouts in nanoseconds (0: none).
    read_timeout: AtomicU64,
    write_timeout: AtomicU64,
}

impl<S: AsRawFd> Io<S> {
    fn new(sock: S) -> Io<S> {
        Io {
            sock,
            reg: OnceLock::new(),
            reg_init: Mutex::new(()),
            read_timeout: AtomicU64::new(0),
            write_timeout: AtomicU64::new(0),
        }
    }

    /// The registration with the calling green thread's worker, made on first use.
    fn registration(&self) -> io::Result<&Registration> {
        if let Some(r) = self.reg.get() {
            return Ok(r);
        }
        let _g = self.reg_init.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = self.reg.get() {
            return Ok(r);
        }
        let r = Registration::new(self.sock.as_raw_fd())?;
        Ok(self.reg.get_or_init(|| r))
    }

    fn deadline(&self, interest: u8) -> Option<Instant> {
        let nanos = if interest == READABLE {
            self.read_timeout.load(Ordering::Relaxed)
        } else {
            self.write_timeout.load(Ordering::Relaxed)
        };
        (nanos != 0).then(|| crate::coop::deadline_after(Duration::from_nanos(nanos)))
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for `interest` in between
    /// (parking a green thread, or polling on an OS thread) until `deadline`.
    #[track_caller]
    fn op<R>(
        &self,
        interest: u8,
        deadline: Option<Instant>,
        what: &'static str,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let tick = self.reg.get().map(|r| r.io.tick());
            match op(&self.sock) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => return result,
            }
            if deadline.is_some_and(|d| crate::clock::now() >= d) {
                return Err(timed_out(what));
            }
            if crate::loom::in_green_thread() {
                let reg = self.registration()?;
                if let Some(tick) = tick {
                    reg.io.clear(interest, tick);
                }
                reg.wait(interest, deadline, what);
            } else {
                poll_fd(self.sock.as_raw_fd(), interest, deadline)?;
            }
        }
    }
}

#[cold]
fn timed_out(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, format!("{what} timed out"))
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

/// Stores a std-style timeout: `Some(Duration::ZERO)` is an error, as in std.
fn set_timeout(slot: &AtomicU64, d: Option<Duration>) -> io::Result<()> {
    let nanos = match d {
        None => 0,
        Some(d) if d.is_zero() => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ))
        }
        Some(d) => d.as_nanos().clamp(1, u64::MAX as u128) as u64,
    };
    slot.store(nanos, Ordering::Relaxed);
    Ok(())
}

fn get_timeout(slot: &AtomicU64) -> Option<Duration> {
    match slot.load(Ordering::Relaxed) {
        0 => None,
        n => Some(Duration::from_nanos(n)),
    }
}

/// Tries each address in turn, as std does; the last error if none works.
fn each_addr<A: ToSocketAddrs, T>(
    addr: A,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a) {
            Ok(t) => return Ok(t),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any addresses",
        )
    }))
}

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
        let Io { sock, reg, .. } = self.io;
        drop(reg);
        // SAFETY: the descriptor comes from a listener we own and give up here.
        let std = unsafe { std::net::TcpListener::from_raw_fd(sock.into_raw_fd()) };
        std.set_nonblocking(false)?;
        Ok(std)
    }

    /// Accepts a connection, waiting for one.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    #[track_caller]
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (s, addr) = self
            .io
            .op(READABLE, None, "TcpListener::accept", |l| l.accept())?;
        Ok((TcpStream { io: Io::new(s) }, addr))
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

/// A TCP connection (std's `TcpStream`), readable and writable through `&TcpStream` too.
///
/// # Examples
///
/// See the [module documentation](self).
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
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "cannot set a 0 duration timeout",
            ));
        }
        TcpStream::connect_inner(*addr, Some(crate::coop::deadline_after(timeout)))
    }

    #[track_caller]
    fn connect_inner(addr: SocketAddr, deadline: Option<Instant>) -> io::Result<TcpStream> {
        let stream = TcpStream {
            io: Io::new(mio::net::TcpStream::connect(addr)?),
        };
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
        Ok(TcpStream {
            io: Io::new(mio::net::TcpStream::from_std(stream)),
        })
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
        let Io { sock, reg, .. } = self.io;
        drop(reg);
        // SAFETY: the descriptor comes from a stream we own and give up here.
        let std = unsafe { std::net::TcpStream::from_raw_fd(sock.into_raw_fd()) };
        std.set_nonblocking(false)?;
        Ok(std)
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
        set_timeout(&self.io.read_timeout, timeout)
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
        set_timeout(&self.io.write_timeout, timeout)
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
        Ok(get_timeout(&self.io.read_timeout))
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
        Ok(get_timeout(&self.io.write_timeout))
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
        let deadline = self.io.deadline(READABLE);
        self.io
            .op(READABLE, deadline, "TcpStream::peek", |s| s.peek(buf))
    }
}

impl Read for &TcpStream {
    #[track_caller]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.io.deadline(READABLE);
        self.io
            .op(READABLE, deadline, "TcpStream::read", |mut s| s.read(buf))
    }
}

impl Write for &TcpStream {
    #[track_caller]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let deadline = self.io.deadline(WRITABLE);
        self.io
            .op(WRITABLE, deadline, "TcpStream::write", |mut s| s.write(buf))
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

/// A UDP socket (std's `UdpSocket`).
///
/// # Examples
///
/// ```
/// use spindle::net::UdpSocket;
/// let a = UdpSocket::bind("127.0.0.1:0").unwrap();
/// let b = UdpSocket::bind("127.0.0.1:0").unwrap();
/// a.send_to(b"ping", b.local_addr().unwrap()).unwrap();
/// let mut buf = [0; 8];
/// let (n, from) = b.recv_from(&mut buf).unwrap();
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr().unwrap()));
/// ```
pub struct UdpSocket {
    io: Io<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// ```
    pub fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
    }

    /// Wraps a std socket (made non-blocking).
    ///
    /// # Examples
    ///
    /// ```
    /// let std = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let s = spindle::net::UdpSocket::from_std(std).unwrap();
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: Io::new(mio::net::UdpSocket::from_std(socket)),
        })
    }

    /// Unwraps into a std socket, blocking again.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let std = s.into_std().unwrap();
    /// ```
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        let Io { sock, reg, .. } = self.io;
        drop(reg);
        // SAFETY: the descriptor comes from a socket we own and give up here.
        let std = unsafe { std::net::UdpSocket::from_raw_fd(sock.into_raw_fd()) };
        std.set_nonblocking(false)?;
        Ok(std)
    }

    /// Sends a datagram to `addr`.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    #[track_caller]
    pub fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], addr: A) -> io::Result<usize> {
        let deadline = self.io.deadline(WRITABLE);
        each_addr(addr, |a| {
            self.io.op(WRITABLE, deadline, "UdpSocket::send_to", |s| {
                s.send_to(buf, a)
            })
        })
    }

    /// Receives a datagram and its sender's address, waiting for one.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    #[track_caller]
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let deadline = self.io.deadline(READABLE);
        self.io.op(READABLE, deadline, "UdpSocket::recv_from", |s| {
            s.recv_from(buf)
        })
    }

    /// Connects the socket to one peer, for [`send`](UdpSocket::send) and
    /// [`recv`](UdpSocket::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let b = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// a.connect(b.local_addr().unwrap()).unwrap();
    /// a.send(b"hi").unwrap();
    /// ```
    pub fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        each_addr(addr, |a| self.io.sock.connect(a))
    }

    /// Sends a datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// See [`connect`](UdpSocket::connect).
    #[track_caller]
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let deadline = self.io.deadline(WRITABLE);
        self.io
            .op(WRITABLE, deadline, "UdpSocket::send", |s| s.send(buf))
    }

    /// Receives a datagram from the connected peer.
    ///
    /// # Examples
    ///
    /// ```
    /// let a = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// let b = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// b.connect(a.local_addr().unwrap()).unwrap();
    /// a.send_to(b"hi", b.local_addr().unwrap()).unwrap();
    /// let mut buf = [0; 2];
    /// assert_eq!(b.recv(&mut buf).unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let deadline = self.io.deadline(READABLE);
        self.io
            .op(READABLE, deadline, "UdpSocket::recv", |s| s.recv(buf))
    }

    /// The local address.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(s.local_addr().unwrap().port() > 0);
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.sock.local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(s.peer_addr().is_err()); // not connected
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.sock.peer_addr()
    }

    /// Sets the read timeout (`None`: wait forever); zero is an error, as in std.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    /// assert_eq!(s.recv_from(&mut [0; 1]).unwrap_err().kind(), std::io::ErrorKind::TimedOut);
    /// ```
    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.io.read_timeout, timeout)
    }

    /// Sets the write timeout (`None`: wait forever); zero is an error, as in std.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert!(s.set_write_timeout(Some(std::time::Duration::ZERO)).is_err());
    /// ```
    pub fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        set_timeout(&self.io.write_timeout, timeout)
    }

    /// The read timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert_eq!(s.read_timeout().unwrap(), None);
    /// ```
    pub fn read_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(get_timeout(&self.io.read_timeout))
    }

    /// The write timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    /// assert_eq!(s.write_timeout().unwrap(), None);
    /// ```
    pub fn write_timeout(&self) -> io::Result<Option<Duration>> {
        Ok(get_timeout(&self.io.write_timeout))
    }
}

macro_rules! fd_impls {
    ($($t:ty),*) => {$(
        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                self.io.sock.as_raw_fd()
            }
        }

        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.sock.as_fd()
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &self.io.sock.as_raw_fd())
                    .field("local", &self.io.sock.local_addr().ok())
                    .finish_non_exhaustive()
            }
        }
    )*};
}

fd_impls!(TcpListener, TcpStream, UdpSocket);
