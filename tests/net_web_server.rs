//! The example web server (`examples/web_server/server.rs`) on a cooperative runtime, driven
//! by real and hostile clients: curl, malformed heads, a slowloris client, peers that reset
//! mid-response, half-closing clients, keep-alive and pipelining, and 1,000 concurrent
//! connections from green threads.

mod support;

#[path = "../examples/web_server/server.rs"]
mod server;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use server::{Config, Stats};
use spindle::Runtime;
use support::bounded;

/// The server's limits in these tests: short, so that timeouts can be watched.
fn test_config() -> Config {
    Config {
        header_timeout: Duration::from_secs(1),
        idle_timeout: Duration::from_secs(2),
        write_timeout: Duration::from_secs(2),
        max_header_bytes: 4096,
        ..Config::default()
    }
}

/// Starts a server with `cfg` on 127.0.0.1:0, on its own 2-worker cooperative runtime in a
/// background thread that lives as long as the test process. Returns its address and counters.
fn start(cfg: Config) -> (SocketAddr, Arc<Stats>) {
    let listener = spindle::net::TcpListener::bind("127.0.0.1:0").unwrap();
    raise_backlog(&listener);
    let addr = listener.local_addr().unwrap();
    let stats = Arc::clone(&cfg.stats);
    std::thread::Builder::new()
        .name("web-server".into())
        .spawn(move || {
            let rt = Runtime::cooperative().workers(2).build().unwrap();
            rt.block_on(move || server::serve(listener, cfg))
                .expect("the accept loop failed");
        })
        .unwrap();
    (addr, stats)
}

/// Raises the listen backlog from std's 128 to 1,024 (Linux lets `listen` be called again to
/// change it). With 128, a burst of 1,000 connects overflows the kernel's accept queue and the
/// overflowing handshakes are retried only after a 1 s SYN timeout.
fn raise_backlog(listener: &spindle::net::TcpListener) {
    // SAFETY: the descriptor is the open listening socket `listener` owns.
    let rc = unsafe { libc::listen(listener.as_raw_fd(), 1024) };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

/// A plain blocking client connection with a generous read timeout.
fn connect(addr: SocketAddr) -> std::net::TcpStream {
    let s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `request` on a new connection and reads until the server closes it.
fn exchange(addr: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut s = connect(addr);
    s.write_all(request).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    resp
}

/// A parsed response: status, headers (lower-case names) and body.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses one response from the front of `raw`; returns it and the bytes it took.
fn parse_response(raw: &[u8]) -> Option<(Resp, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut r = httparse::Response::new(&mut headers);
    let head = match r.parse(raw).expect("malformed response") {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return None,
    };
    let headers: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse().unwrap())
        .expect("every response has a Content-Length");
    if raw.len() < head + len {
        return None;
    }
    let resp = Resp {
        status: r.code.unwrap(),
        headers,
        body: raw[head..head + len].to_vec(),
    };
    Some((resp, head + len))
}

/// Reads exactly one response from a keep-alive connection.
fn read_one(s: &mut std::net::TcpStream, pending: &mut Vec<u8>) -> Resp {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some((resp, used)) = parse_response(pending) {
            pending.drain(..used);
            return resp;
        }
        let n = s.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed before a whole response");
        pending.extend_from_slice(&chunk[..n]);
    }
}

/// The whole of `raw` as exactly one response.
fn only_response(raw: &[u8]) -> Resp {
    let (resp, used) = parse_response(raw).expect("an incomplete response");
    assert_eq!(used, raw.len(), "bytes after the response");
    resp
}

/// `GET /` on a new connection succeeds.
fn assert_serves(addr: SocketAddr) {
    let resp = only_response(&exchange(
        addr,
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"Hello from spindle!\n");
}

/// Runs curl with `args` (no proxy, bounded) and returns (stdout, stderr).
fn curl(args: &[&str]) -> (String, String) {
    let out = Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--noproxy",
            "*",
            "--max-time",
            "10",
        ])
        .args(args)
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("this test needs the `curl` program: install it (e.g. `apt-get install curl`)")
        }
        Err(e) => panic!("could not run curl: {e}"),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "curl {args:?} failed: {stderr}");
    (stdout, stderr)
}

#[test]
fn curl_gets_pages_slow_pages_and_reuses_the_connection() {
    bounded(30, || {
        let (addr, stats) = start(test_config());
        let root = format!("http://{addr}/");

        let (out, _) = curl(&["-i", &root]);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("Content-Length: 20\r\n"), "{out}");
        assert!(out.ends_with("\r\n\r\nHello from spindle!\n"), "{out}");

        let t = Instant::now();
        let (out, _) = curl(&[&format!("http://{addr}/slow?ms=50")]);
        let took = t.elapsed();
        assert_eq!(out, "slept 50 ms\n");
        assert!(took >= Duration::from_millis(50), "{took:?}");

        // Two URLs on one command line: curl keeps the connection, the server serves both.
        // Reuse is checked on both ends, never in curl's wording: curl counts the new
        // connections each transfer made, and the server counts what it accepted.
        let before = stats.accepted.load(Ordering::Relaxed);
        let (out, _) = curl(&["-w", "[connects=%{num_connects}]\n", &root, &root]);
        assert_eq!(
            out,
            "Hello from spindle!\n[connects=1]\nHello from spindle!\n[connects=0]\n"
        );
        assert_eq!(stats.accepted.load(Ordering::Relaxed) - before, 1);

        let code =
            |args: &[&str]| curl(&[&["-o", "/dev/null", "-w", "%{http_code}"], args].concat()).0;
        assert_eq!(code(&[&format!("http://{addr}/nowhere")]), "404");
        assert_eq!(code(&["-X", "POST", "-d", "x=1", &root]), "405");
        assert_eq!(code(&[&format!("http://{addr}/slow?ms=soon")]), "400");
        assert_eq!(code(&["-I", &root]), "200");

        let (out, _) = curl(&["-i", "--http1.0", &root]);
        assert!(out.starts_with("HTTP/1.1 200 OK\r\n"), "{out}");
        assert!(out.contains("Connection: close\r\n"), "{out}");
    });
}

#[test]
fn malformed_heads_get_400_and_the_connection_closes() {
    bounded(30, || {
        let (addr, _) = start(test_config());
        let bad: [&[u8]; 5] = [
            b"NOT HTTP AT ALL\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost t\r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET / HTTP/7.0\r\n\r\n",
            b"GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        ];
        for req in bad {
            // `exchange` reads until the server closes: read returns 0 after the response.
            let resp = only_response(&exchange(addr, req));
            assert_eq!(resp.status, 400, "{:?}", String::from_utf8_lossy(req));
            assert_eq!(resp.header("connection"), Some("close"));
            assert_serves(addr);
        }

        // A head over max_header_bytes: 431, then close.
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        while big.len() < 5000 {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        big.extend_from_slice(b"\r\n");
        let resp = only_response(&exchange(addr, &big));
        assert_eq!(resp.status, 431);
        assert_eq!(resp.header("connection"), Some("close"));
        assert_serves(addr);
    });
}

#[test]
fn a_slowloris_client_is_cut_off_while_others_are_served() {
    // Its timing is measured in a process of its own, never beside the 1,000-connection
    // burst or the 32 MiB transfers of this binary's other tests.
    const CHILD: &str = "SPINDLE_SLOWLORIS_CHILD";
    if std::env::var_os(CHILD).is_none() {
        support::rerun_alone(
            "a_slowloris_client_is_cut_off_while_others_are_served",
            CHILD,
            90,
        );
        return;
    }
    bounded(60, || {
        // Only the header timeout is short: the idle and write timeouts, the server's other
        // ways to end a connection, are far beyond the bounds below.
        let (addr, _) = start(Config {
            header_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
            ..test_config()
        });
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        let loris = std::thread::spawn(move || {
            let mut s = connect(addr);
            let t = Instant::now();
            let mut head = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: ".to_vec();
            head.resize(head.len() + 100, b'a');
            // One byte every 300 ms; each wait is a read, so the close is seen at once.
            s.set_read_timeout(Some(Duration::from_millis(300)))
                .unwrap();
            for (i, byte) in head.into_iter().enumerate() {
                if s.write_all(&[byte]).is_err() {
                    return (t, t.elapsed(), "write failed");
                }
                if i == 0 {
                    started_tx.send(()).unwrap();
                }
                match s.read(&mut [0; 64]) {
                    Ok(0) => return (t, t.elapsed(), "closed"),
                    Ok(_) => return (t, t.elapsed(), "answered"),
                    Err(e)
                        if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::TimedOut => {
                    }
                    Err(_) => return (t, t.elapsed(), "reset"),
                }
            }
            (t, t.elapsed(), "never cut off")
        });
        // While the slowloris client holds its connection, ordinary requests are answered.
        started_rx.recv().unwrap();
        let mut served_at = Vec::new();
        for _ in 0..8 {
            assert_serves(addr);
            served_at.push(Instant::now());
            std::thread::sleep(Duration::from_millis(100));
        }
        let (loris_start, cut_after, how) = loris.join().unwrap();
        let cut_at = loris_start + cut_after;
        let during = served_at.iter().filter(|&&t| t < cut_at).count();
        eprintln!("slowloris {how} after {cut_after:?}; {during} of 8 requests served meanwhile");
        assert_eq!(how, "closed");
        // Not before the 1 s header timeout; the upper bound is a hang guard far below the
        // 60 s idle and write timeouts, so only the header timeout can have cut it off.
        assert!(
            cut_after >= Duration::from_millis(900) && cut_after < Duration::from_secs(20),
            "the 1 s header timeout cut the slowloris client off after {cut_after:?}"
        );
        assert!(
            during >= 1,
            "no ordinary request was served while the slowloris client was connected"
        );
    });
}

/// Makes `s` close with a reset (RST) instead of a FIN.
fn set_linger_zero(s: &std::net::TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY:
    // - the descriptor is an open socket owned by `s`;
    // - `linger` is a valid `struct linger` and the length passed is its size.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
}

#[test]
fn peers_that_reset_mid_response_end_only_their_connection() {
    bounded(30, || {
        let (addr, stats) = start(test_config());
        // Reset part-way through a 32 MiB body.
        let mut s = connect(addr);
        s.write_all(b"GET /big?kb=32768 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 1024];
        s.read_exact(&mut first).unwrap();
        assert!(first.starts_with(b"HTTP/1.1 200 OK\r\n"));
        set_linger_zero(&s);
        drop(s);
        // Reset while the server sleeps before answering.
        let s = connect(addr);
        (&s).write_all(b"GET /slow?ms=200 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        set_linger_zero(&s);
        drop(s);

        // Both connections' tasks end with an I/O error, and the server goes on.
        let t = Instant::now();
        while stats.connection_errors.load(Ordering::Relaxed) < 2 {
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "the server never saw both resets"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_serves(addr);
    });
}

#[test]
fn a_half_closed_client_still_gets_the_whole_response() {
    bounded(30, || {
        let (addr, _) = start(test_config());
        let mut s = connect(addr);
        s.write_all(b"GET /big?kb=1024 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let resp = only_response(&raw);
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.len(), 1024 * 1024);
        assert!(resp.body.iter().all(|&b| b == b'x'));
    });
}

#[test]
fn keep_alive_and_pipelining_on_one_connection() {
    bounded(30, || {
        let (addr, stats) = start(test_config());
        let mut s = connect(addr);
        let mut pending = Vec::new();
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        let a = read_one(&mut s, &mut pending);
        assert_eq!(
            (a.status, a.header("connection")),
            (200, Some("keep-alive"))
        );
        s.write_all(b"GET /slow?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n")
            .unwrap();
        let b = read_one(&mut s, &mut pending);
        assert_eq!((b.status, &b.body[..]), (200, &b"slept 10 ms\n"[..]));
        // Two requests in one write, the second asking to close; a body is skipped.
        s.write_all(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello\
              GET /slow?ms=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
        let c = read_one(&mut s, &mut pending);
        assert_eq!((c.status, c.header("allow")), (405, Some("GET, HEAD")));
        let d = read_one(&mut s, &mut pending);
        assert_eq!((d.status, d.header("connection")), (200, Some("close")));
        assert_eq!(s.read(&mut [0; 16]).unwrap(), 0, "closed after the last");
        assert!(pending.is_empty());
        assert_eq!(stats.accepted.load(Ordering::Relaxed), 1);
        assert_eq!(stats.requests.load(Ordering::Relaxed), 4);
    });
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    bounded(30, || {
        // Only the idle timeout is short, so only it can end the connection within the
        // (hang-guard) bound below.
        let (addr, _) = start(Config {
            idle_timeout: Duration::from_millis(300),
            header_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(60),
            ..test_config()
        });
        let mut s = connect(addr);
        let mut pending = Vec::new();
        s.write_all(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").unwrap();
        assert_eq!(read_one(&mut s, &mut pending).status, 200);
        let t = Instant::now();
        assert_eq!(s.read(&mut [0; 16]).unwrap(), 0);
        let idle = t.elapsed();
        assert!(
            idle >= Duration::from_millis(250) && idle < Duration::from_secs(20),
            "{idle:?}"
        );
    });
}

#[test]
fn a_thousand_concurrent_connections_are_all_served() {
    const CLIENTS: usize = 1000;
    bounded(60, || {
        // Early connections wait at the barrier for the last: give them time to send.
        let (addr, stats) = start(Config {
            header_timeout: Duration::from_secs(10),
            ..test_config()
        });
        let clients = Runtime::cooperative().workers(2).build().unwrap();
        let t = Instant::now();
        let ok = clients.block_on(move || {
            // Everyone connects before anyone sends: 1,000 connections open at once.
            let all_connected = Arc::new(spindle::sync::Barrier::new(CLIENTS));
            let tasks: Vec<_> = (0..CLIENTS)
                .map(|_| {
                    let all_connected = Arc::clone(&all_connected);
                    spindle::spawn(move || -> std::io::Result<u16> {
                        let mut s = spindle::net::TcpStream::connect(addr)?;
                        s.set_read_timeout(Some(Duration::from_secs(20)))?;
                        all_connected.wait();
                        s.write_all(
                            b"GET /slow?ms=20 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
                        )?;
                        let mut raw = Vec::new();
                        s.read_to_end(&mut raw)?;
                        let resp = only_response(&raw);
                        assert_eq!(resp.body, b"slept 20 ms\n");
                        Ok(resp.status)
                    })
                })
                .collect();
            let results: Vec<_> = tasks
                .into_iter()
                .map(|t| t.join().expect("a client panicked"))
                .collect();
            if let Some(bad) = results.iter().find(|r| !matches!(r, Ok(200))) {
                panic!("a client got {bad:?}");
            }
            results.len()
        });
        let took = t.elapsed();
        eprintln!("{CLIENTS} concurrent connections served in {took:?}");
        assert_eq!(ok, CLIENTS);
        assert_eq!(stats.accepted.load(Ordering::Relaxed), CLIENTS as u64);
    });
}
