//! TCP and UDP sockets that follow their caller: in a green thread, an operation that would
//! block suspends the task and the worker's mio reactor resumes it when the socket is ready;
//! on a plain thread or in a preemptive task, the same operation blocks the thread, as
//! std's do. Names and signatures copy `std::net`.
//!
//! Sockets are always non-blocking underneath. A green thread that meets `WouldBlock`
//! registers the socket with its worker's poll (moving it there if another worker, or another
//! runtime, had it) and parks; an OS thread waits in `poll(2)` on the one descriptor. Read,
//! write and connect timeouts work in both worlds and fail with `ErrorKind::TimedOut`.
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

mod addrs;
mod fd;
mod readiness;
mod tcp_listener;
mod tcp_stream;
mod timeout;
mod udp;

pub use tcp_listener::{Incoming, TcpListener};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
