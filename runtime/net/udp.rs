//! [`UdpSocket`]: a UDP socket whose sends and receives suspend a green thread (or block an
//! OS thread) until the socket is ready, with std's timeouts.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use super::addrs::each_addr;
use super::fd::fd_impls;
use super::readiness::{Io, READABLE, WRITABLE};

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
        self.io.into_std(std::net::UdpSocket::set_nonblocking)
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
        self.io
            .blocking(READABLE, "UdpSocket::recv_from", |s| s.recv_from(buf))
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
        self.io
            .blocking(WRITABLE, "UdpSocket::send", |s| s.send(buf))
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
        self.io
            .blocking(READABLE, "UdpSocket::recv", |s| s.recv(buf))
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
        self.io.read_timeout.set(timeout)
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
        self.io.write_timeout.set(timeout)
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
        Ok(self.io.read_timeout.get())
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
        Ok(self.io.write_timeout.get())
    }
}

fd_impls!(UdpSocket);
