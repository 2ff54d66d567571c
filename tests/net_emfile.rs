//! The example web server's accept loop when the process runs out of file descriptors
//! (pitfall 10): with `RLIMIT_NOFILE` lowered so that no descriptor can be had, clients
//! still connect (the kernel's backlog takes them) and every `accept` fails with `EMFILE`.
//! The loop must back off on a timer — little CPU, few retries — and must serve again once
//! descriptors are freed.
//!
//! One test only: it changes the limit for the whole process.

mod support;

#[path = "../examples/web_server/server.rs"]
mod server;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use server::Config;
use spindle::Runtime;
use support::bounded;

/// Client sockets made before the limit is lowered, connected after.
const CLIENTS: usize = 8;

/// Restores the descriptor limit it was made with when dropped (also on a failed assert).
struct RestoreLimit(libc::rlimit);

impl Drop for RestoreLimit {
    fn drop(&mut self) {
        set_nofile(self.0).expect("restore RLIMIT_NOFILE");
    }
}

fn nofile() -> libc::rlimit {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable `rlimit`.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(rc, 0, "{}", io::Error::last_os_error());
    lim
}

fn set_nofile(lim: libc::rlimit) -> io::Result<()> {
    // SAFETY: `lim` is a valid `rlimit`.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The lowest descriptor number not in use: the next one the kernel would hand out.
fn lowest_free_fd() -> libc::rlim_t {
    // SAFETY: duplicating stderr has no memory-safety obligations; the new descriptor is
    // owned by the `OwnedFd` at once.
    let fd = unsafe { libc::dup(2) };
    assert!(fd >= 0, "{}", io::Error::last_os_error());
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    drop(unsafe { OwnedFd::from_raw_fd(fd) });
    fd as libc::rlim_t
}

/// Process CPU time (user + system, all threads) so far.
fn cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `ru` is a valid, writable `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    assert_eq!(rc, 0, "{}", io::Error::last_os_error());
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// A TCP socket, not yet connected.
fn tcp_socket() -> OwnedFd {
    // SAFETY: no pointers are passed; the result is checked below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "{}", io::Error::last_os_error());
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Connects `sock` (blocking) to `addr`; needs no new descriptor.
fn connect_raw(sock: &OwnedFd, addr: SocketAddrV4) -> io::Result<()> {
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: addr.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*addr.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY:
    // - `sock` is an open socket;
    // - `sin` is a valid `sockaddr_in` and the length passed is its size.
    let rc = unsafe {
        libc::connect(
            sock.as_raw_fd(),
            (&sin as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// `GET /` with `Connection: close` on a new connection; the status line.
fn get_root(addr: SocketAddr) -> io::Result<String> {
    let mut s = std::net::TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    Ok(resp.lines().next().unwrap_or_default().to_owned())
}

/// Waits up to `limit` for `cond`, checking every 10 ms.
fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let t = Instant::now();
    while !cond() {
        assert!(t.elapsed() < limit, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn accept_backs_off_on_emfile_and_recovers() {
    bounded(60, || {
        let cfg = Config::default();
        let stats = cfg.stats.clone();
        let listener = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let SocketAddr::V4(addr4) = addr else {
            unreachable!("bound to 127.0.0.1")
        };
        std::thread::Builder::new()
            .name("web-server".into())
            .spawn(move || {
                let rt = Runtime::cooperative().workers(1).build().unwrap();
                rt.block_on(move || server::serve(listener, cfg))
                    .expect("the accept loop failed");
            })
            .unwrap();
        assert_eq!(get_root(addr).unwrap(), "HTTP/1.1 200 OK");
        // Its descriptor is closed once the connection's task has ended.
        wait_for(
            Duration::from_secs(5),
            "the first connection to close",
            || stats.closed.load(Ordering::Relaxed) == 1,
        );

        // Make the client sockets first, then lower the soft limit to the lowest free
        // descriptor number: from then on no new descriptor can be had, but the sockets we
        // hold can still connect.
        let socks: Vec<OwnedFd> = (0..CLIENTS).map(|_| tcp_socket()).collect();
        let original = nofile();
        let limit = lowest_free_fd();
        eprintln!(
            "soft RLIMIT_NOFILE {} -> {limit} ({CLIENTS} client sockets held)",
            original.rlim_cur
        );
        set_nofile(libc::rlimit {
            rlim_cur: limit,
            rlim_max: original.rlim_max,
        })
        .unwrap();
        let restore = RestoreLimit(original);
        assert_eq!(
            get_root(addr).unwrap_err().raw_os_error(),
            Some(libc::EMFILE),
            "no descriptor should be free for a new client"
        );

        // Clients keep connecting: the kernel's backlog takes them, the server cannot.
        let accepted_before = stats.accepted.load(Ordering::Relaxed);
        for s in &socks {
            connect_raw(s, addr4).unwrap();
        }
        wait_for(Duration::from_secs(5), "an accept to fail", || {
            stats.accept_errors.load(Ordering::Relaxed) > 0
        });
        assert_eq!(
            stats.last_accept_errno.load(Ordering::Relaxed),
            libc::EMFILE
        );

        // Starved: the loop must sleep, not spin.
        let (errors0, cpu0, t0) = (
            stats.accept_errors.load(Ordering::Relaxed),
            cpu_time(),
            Instant::now(),
        );
        std::thread::sleep(Duration::from_secs(1));
        let (errors1, cpu1, wall) = (
            stats.accept_errors.load(Ordering::Relaxed),
            cpu_time(),
            t0.elapsed(),
        );
        let share = (cpu1 - cpu0).as_secs_f64() / wall.as_secs_f64();
        let retries = errors1 - errors0;
        eprintln!(
            "starved for {wall:?}: {:.1}% of a core, {retries} accept retries",
            share * 100.0
        );
        // A spinning loop shows as ~100% of a core on an idle machine, and still as ~20%
        // when the machine is overloaded; the retry count catches it either way.
        assert!(
            share < 0.1,
            "{:.1}% CPU while starved: a busy loop",
            share * 100.0
        );
        assert!(
            retries <= 20,
            "{retries} accept retries in {wall:?}: no back-off"
        );
        assert_eq!(stats.accepted.load(Ordering::Relaxed), accepted_before);

        // Free the descriptors: the server accepts the waiting connections (now closed by
        // their clients) and serves new ones.
        drop(socks);
        let t = Instant::now();
        let status = loop {
            match get_root(addr) {
                Ok(status) => break status,
                // The server may hold the freed descriptors for a moment.
                Err(e) if e.raw_os_error() == Some(libc::EMFILE) => {
                    assert!(t.elapsed() < Duration::from_secs(10), "never served again");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("after freeing descriptors: {e}"),
            }
        };
        eprintln!("served again {:?} after freeing descriptors", t.elapsed());
        assert_eq!(status, "HTTP/1.1 200 OK");
        assert!(stats.accepted.load(Ordering::Relaxed) > accepted_before + CLIENTS as u64);

        drop(restore);
        assert_eq!(nofile().rlim_cur, original.rlim_cur);
        assert_eq!(get_root(addr).unwrap(), "HTTP/1.1 200 OK");
    });
}
