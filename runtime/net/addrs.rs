//! Address resolution as std's sockets do it: every address a `ToSocketAddrs` yields is tried
//! in turn until one works.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Tries each address in turn, as std does; the last error if none works.
pub(super) fn each_addr<A: ToSocketAddrs, T>(
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
