//! A small HTTP/1.1 server on spindle's green threads: one task per connection, requests
//! parsed with `httparse`, keep-alive, and the hardening a server facing the open network
//! needs. `main.rs` runs it; `examples/web_clients.rs` and the `net_web_server` and
//! `net_emfile` tests include this file as a module, so it depends on nothing in `main.rs`.
//!
//! Routes (`GET`, and `HEAD` for the same head without a body):
//! - `/` answers at once with a short text;
//! - `/slow?ms=N` answers after `spindle::sleep(N ms)` (N capped at [`MAX_SLOW_MS`]);
//! - `/big?kb=N` answers with N KiB of filler (N capped at [`MAX_BIG_KB`]), for clients that
//!   reset mid-response or read slowly.
//!
//! A bad `N` is `400`, an unknown path `404`, another method on a known path `405`.
//!
//! Hardening:
//! - a request head that `httparse` rejects gets `400 Bad Request` with `Connection: close`;
//!   one longer than [`Config::max_header_bytes`] (or with too many headers) gets `431`;
//! - the whole head must arrive within [`Config::header_timeout`] of its first byte (of the
//!   connection's start, for the first request): every read gets the time that is left as its
//!   read timeout, so a client that trickles one byte a second (slowloris) is cut off;
//! - between keep-alive requests a connection may idle for [`Config::idle_timeout`], and a
//!   response must drain into a client within [`Config::write_timeout`];
//! - an I/O error (a peer that resets mid-response, say) ends that connection's task only;
//! - a client that half-closes after its request still gets the whole response;
//! - when `accept` fails for want of descriptors (`EMFILE`, `ENFILE`) or memory, the accept
//!   loop backs off with `spindle::sleep` (10 ms, doubling up to 1 s, reset by the next
//!   accepted connection) instead of retrying at once, which would spin at 100% CPU.
//!
//! Before closing a connection on its own initiative the server shuts down its write half
//! and drains what the client still sends for a moment ("lingering close"), so the kernel
//! does not answer unread data with a reset that could destroy the response in flight.

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::net::{TcpListener, TcpStream};

/// The longest `/slow` sleeps, in milliseconds; larger values are capped.
pub const MAX_SLOW_MS: u64 = 60_000;
/// The largest `/big` body, in KiB; larger values are capped.
pub const MAX_BIG_KB: u64 = 64 * 1024;

/// The most headers a request may have (more: `431`).
const MAX_HEADERS: usize = 64;
/// The largest request body that is read and discarded to keep the connection; a larger
/// (or chunked) body closes the connection after the response.
const MAX_DISCARD_BODY: u64 = 64 * 1024;
/// The first back-off after a failed accept.
const BACKOFF_START: Duration = Duration::from_millis(10);
/// The longest back-off after failed accepts.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// How long a lingering close drains the client at most, and how much.
const LINGER: Duration = Duration::from_secs(1);
const LINGER_MAX_BYTES: usize = 256 * 1024;

/// The server's limits and timeouts.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long a request head may take to arrive, from its first byte (from the
    /// connection's start for the first request). Default 5 s.
    pub header_timeout: Duration,
    /// How long a keep-alive connection may wait for the next request's first byte.
    /// Default 10 s.
    pub idle_timeout: Duration,
    /// How long one write of a response may wait for the client to read. Default 10 s.
    pub write_timeout: Duration,
    /// The longest request head, in bytes. Default 8 KiB.
    pub max_header_bytes: usize,
    /// Counters the server keeps; clone the `Arc` before handing the config over to watch them.
    pub stats: Arc<Stats>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            header_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            max_header_bytes: 8 * 1024,
            stats: Arc::default(),
        }
    }
}

/// What the server has done so far. Relaxed counters: each is exact, but two read one
/// after the other are not a snapshot.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections accepted.
    pub accepted: AtomicU64,
    /// Accepts that failed and made the loop back off.
    pub accept_errors: AtomicU64,
    /// The OS error number of the last such failure (0: none yet).
    pub last_accept_errno: AtomicI32,
    /// Requests answered (any status).
    pub requests: AtomicU64,
    /// Connections that ended with an I/O error (reset, broken pipe, write timeout).
    pub connection_errors: AtomicU64,
    /// Connections whose task has ended (and closed them), for any reason.
    pub closed: AtomicU64,
}

/// Accepts connections on `listener` forever, each served by its own green thread.
///
/// # Errors
///
/// Only when the listener itself is unusable (`EBADF`, `EINVAL`, `ENOTSOCK`, ...); failures
/// that pass — descriptors or memory running out, a connection aborted before it was
/// accepted — are waited out.
pub fn serve(listener: TcpListener, config: Config) -> io::Result<()> {
    let config = Arc::new(config);
    let mut backoff = BACKOFF_START;
    loop {
        let failure = match listener.accept() {
            Ok((conn, _peer)) => {
                backoff = BACKOFF_START;
                config.stats.accepted.fetch_add(1, Ordering::Relaxed);
                let cfg = Arc::clone(&config);
                let task = spindle::Builder::new().name("http-conn").spawn(move || {
                    if handle(conn, &cfg).is_err() {
                        cfg.stats.connection_errors.fetch_add(1, Ordering::Relaxed);
                    }
                    cfg.stats.closed.fetch_add(1, Ordering::Relaxed);
                });
                // No stack for the task: the connection was dropped (closed) with the
                // closure; wait as for a lack of descriptors.
                match task {
                    Ok(_detached) => continue,
                    Err(e) => e,
                }
            }
            Err(e) => match accept_error_kind(&e) {
                AcceptError::Retry => continue,
                AcceptError::Fatal => return Err(e),
                AcceptError::BackOff => e,
            },
        };
        config.stats.accept_errors.fetch_add(1, Ordering::Relaxed);
        config
            .stats
            .last_accept_errno
            .store(failure.raw_os_error().unwrap_or(-1), Ordering::Relaxed);
        if backoff == BACKOFF_START {
            eprintln!("web_server: accept failed ({failure}); backing off");
        }
        // Never retry at once: the condition (a full descriptor table) persists, and the
        // listener stays readable, so an immediate retry would spin (pitfall 10).
        spindle::sleep(backoff);
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// How the accept loop treats a failed `accept`.
enum AcceptError {
    /// That one connection is gone; the next accept may succeed at once.
    Retry,
    /// The listener is unusable.
    Fatal,
    /// A shortage (descriptors, memory, buffers) or something unknown: wait, then retry.
    BackOff,
}

fn accept_error_kind(e: &io::Error) -> AcceptError {
    match e.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted => return AcceptError::Retry,
        _ => {}
    }
    match e.raw_os_error() {
        Some(libc::EBADF | libc::EINVAL | libc::ENOTSOCK | libc::EOPNOTSUPP | libc::EFAULT) => {
            AcceptError::Fatal
        }
        _ => AcceptError::BackOff,
    }
}

/// Serves one connection until the client closes it, asks to close it, times out, breaks
/// the protocol, or fails with an I/O error (returned).
pub fn handle(conn: TcpStream, cfg: &Config) -> io::Result<()> {
    let started = Instant::now();
    // Responses go out whole; Nagle would only delay a keep-alive client's next answer.
    conn.set_nodelay(true)?;
    conn.set_write_timeout(Some(cfg.write_timeout))?;
    let mut buf = Vec::with_capacity(1024);
    let mut first = true;
    loop {
        let head_deadline = first.then(|| started + cfg.header_timeout);
        first = false;
        let (req, head_len) = match read_head(&conn, &mut buf, cfg, head_deadline)? {
            Head::Complete(req, len) => (req, len),
            // The client closed between requests, or took too long: close quietly.
            Head::Closed | Head::TimedOut => return Ok(()),
            Head::Rejected(status) => {
                let resp = Response::text(status, format!("{}\n", status.reason()));
                write_response(&conn, &resp, false, false)?;
                cfg.stats.requests.fetch_add(1, Ordering::Relaxed);
                linger_close(&conn, cfg);
                return Ok(());
            }
        };
        buf.drain(..head_len);
        let mut keep_alive = req.keep_alive;
        match req.body {
            Body::None => {}
            Body::Length(n) if n <= MAX_DISCARD_BODY => {
                if !discard_body(&conn, &mut buf, n, cfg)? {
                    return Ok(());
                }
            }
            // Too big to skip, or chunked: answer, then close.
            Body::Length(_) | Body::Chunked => keep_alive = false,
        }
        let resp = route(&req);
        let head_only = req.method == "HEAD";
        write_response(&conn, &resp, keep_alive, head_only)?;
        cfg.stats.requests.fetch_add(1, Ordering::Relaxed);
        if !keep_alive {
            linger_close(&conn, cfg);
            return Ok(());
        }
    }
}

/// A parsed request head, owned.
#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    keep_alive: bool,
    body: Body,
}

/// The body a request announces.
#[derive(Debug)]
enum Body {
    None,
    Length(u64),
    Chunked,
}

/// How reading a request head ended.
enum Head {
    /// A request and the length of its head in the buffer.
    Complete(Request, usize),
    /// The peer closed the connection (before a request, or part-way through one).
    Closed,
    /// The head (or, between requests, its first byte) did not arrive in time.
    TimedOut,
    /// A head that cannot be served: `400` or `431`, then close.
    Rejected(Status),
}

/// Reads until `buf` holds a complete request head. `deadline` bounds the whole head; `None`
/// means "header timeout from the first byte, idle timeout until then".
fn read_head(
    conn: &TcpStream,
    buf: &mut Vec<u8>,
    cfg: &Config,
    mut deadline: Option<Instant>,
) -> io::Result<Head> {
    let idle_deadline = Instant::now() + cfg.idle_timeout;
    if deadline.is_none() && !buf.is_empty() {
        // Pipelined bytes: the next head has begun.
        deadline = Some(Instant::now() + cfg.header_timeout);
    }
    let mut chunk = [0u8; 4096];
    loop {
        if !buf.is_empty() {
            match parse_head(buf, cfg.max_header_bytes) {
                Ok(Some((req, len))) => return Ok(Head::Complete(req, len)),
                Ok(None) if buf.len() >= cfg.max_header_bytes => {
                    return Ok(Head::Rejected(Status::HeaderTooLarge))
                }
                Ok(None) => {}
                Err(status) => return Ok(Head::Rejected(status)),
            }
        }
        let until = deadline.unwrap_or(idle_deadline);
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(Head::TimedOut);
        }
        conn.set_read_timeout(Some(left))?;
        match (&*conn).read(&mut chunk) {
            Ok(0) => return Ok(Head::Closed),
            Ok(n) => {
                if buf.is_empty() && deadline.is_none() {
                    deadline = Some(Instant::now() + cfg.header_timeout);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(Head::TimedOut),
            Err(e) => return Err(e),
        }
    }
}

/// Parses a request head: `Ok(None)` while incomplete, `Err` with the status to answer a
/// head that cannot be served.
fn parse_head(buf: &[u8], max_header_bytes: usize) -> Result<Option<(Request, usize)>, Status> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(Status::HeaderTooLarge),
        Err(_) => return Err(Status::BadRequest),
    };
    if len > max_header_bytes {
        return Err(Status::HeaderTooLarge);
    }
    // A complete parse fills in all three.
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Err(Status::BadRequest);
    };
    let mut close = false;
    let mut length: Option<u64> = None;
    let mut chunked = false;
    for h in parsed.headers.iter() {
        let value = std::str::from_utf8(h.value).map_err(|_| Status::BadRequest)?;
        if h.name.eq_ignore_ascii_case("connection") {
            for token in value.split(',').map(str::trim) {
                close |= token.eq_ignore_ascii_case("close");
            }
        } else if h.name.eq_ignore_ascii_case("content-length") {
            let n: u64 = value.trim().parse().map_err(|_| Status::BadRequest)?;
            // Two different lengths would let a proxy and us frame the body differently.
            if length.is_some_and(|m| m != n) {
                return Err(Status::BadRequest);
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = true;
        }
    }
    if chunked && length.is_some() {
        return Err(Status::BadRequest);
    }
    let body = match (chunked, length) {
        (true, _) => Body::Chunked,
        (false, Some(n)) if n > 0 => Body::Length(n),
        _ => Body::None,
    };
    // HTTP/1.1 keeps the connection unless asked not to; HTTP/1.0 closes.
    let keep_alive = version == 1 && !close;
    let req = Request {
        method: method.to_owned(),
        target: target.to_owned(),
        keep_alive,
        body,
    };
    Ok(Some((req, len)))
}

/// Reads and drops a body of `n` bytes (some may already be in `buf`). `Ok(false)`: the
/// client closed or stalled first.
fn discard_body(conn: &TcpStream, buf: &mut Vec<u8>, n: u64, cfg: &Config) -> io::Result<bool> {
    let have = buf.len().min(n as usize);
    buf.drain(..have);
    let mut left = n - have as u64;
    let mut chunk = [0u8; 4096];
    conn.set_read_timeout(Some(cfg.header_timeout))?;
    while left > 0 {
        let want = chunk.len().min(left as usize);
        match (&*conn).read(&mut chunk[..want]) {
            Ok(0) => return Ok(false),
            Ok(got) => left -= got as u64,
            Err(e) if e.kind() == io::ErrorKind::TimedOut => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// Shuts down the write half (the client sees the end of the response), then reads and
/// drops what the client still sends, for a moment, so that closing with unread data does
/// not make the kernel reset the connection under the response.
fn linger_close(conn: &TcpStream, cfg: &Config) {
    if conn.shutdown(Shutdown::Write).is_err() {
        return;
    }
    let until = Instant::now() + LINGER.min(cfg.header_timeout);
    let mut chunk = [0u8; 4096];
    let mut drained = 0;
    while drained < LINGER_MAX_BYTES {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            return;
        }
        match (&*conn).read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => drained += n,
        }
    }
}

/// The statuses the server answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Ok,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    HeaderTooLarge,
}

impl Status {
    fn code(self) -> u16 {
        match self {
            Status::Ok => 200,
            Status::BadRequest => 400,
            Status::NotFound => 404,
            Status::MethodNotAllowed => 405,
            Status::HeaderTooLarge => 431,
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::BadRequest => "Bad Request",
            Status::NotFound => "Not Found",
            Status::MethodNotAllowed => "Method Not Allowed",
            Status::HeaderTooLarge => "Request Header Fields Too Large",
        }
    }
}

/// A response body: text, or `n` bytes of filler written in chunks.
enum Payload {
    Text(String),
    Filler(u64),
}

struct Response {
    status: Status,
    payload: Payload,
    /// An `Allow` header, for `405`.
    allow: bool,
}

impl Response {
    fn text(status: Status, body: String) -> Response {
        Response {
            status,
            payload: Payload::Text(body),
            allow: false,
        }
    }

    fn len(&self) -> u64 {
        match &self.payload {
            Payload::Text(s) => s.len() as u64,
            Payload::Filler(n) => *n,
        }
    }
}

/// Picks the answer to a request (sleeping first, for `/slow`).
fn route(req: &Request) -> Response {
    let (path, query) = match req.target.split_once('?') {
        Some((p, q)) => (p, q),
        None => (req.target.as_str(), ""),
    };
    if !matches!(path, "/" | "/slow" | "/big") {
        return Response::text(Status::NotFound, format!("no page at {path}\n"));
    }
    if req.method != "GET" && req.method != "HEAD" {
        let mut resp = Response::text(
            Status::MethodNotAllowed,
            format!("{} is not allowed here; use GET\n", req.method),
        );
        resp.allow = true;
        return resp;
    }
    match path {
        "/slow" => match query_u64(query, "ms") {
            Some(ms) => {
                let ms = ms.min(MAX_SLOW_MS);
                spindle::sleep(Duration::from_millis(ms));
                Response::text(Status::Ok, format!("slept {ms} ms\n"))
            }
            None => Response::text(
                Status::BadRequest,
                "/slow needs ?ms=N, a whole number of milliseconds\n".into(),
            ),
        },
        "/big" => match query_u64(query, "kb") {
            Some(kb) => Response {
                status: Status::Ok,
                payload: Payload::Filler(kb.min(MAX_BIG_KB) * 1024),
                allow: false,
            },
            None => Response::text(
                Status::BadRequest,
                "/big needs ?kb=N, a whole number of KiB\n".into(),
            ),
        },
        _ => Response::text(Status::Ok, "Hello from spindle!\n".into()),
    }
}

/// The value of `key` in a query string, if it is a whole number.
fn query_u64(query: &str, key: &str) -> Option<u64> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// Writes the head and (unless `head_only`) the body of `resp`.
fn write_response(
    conn: &TcpStream,
    resp: &Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let content_type = match resp.payload {
        Payload::Text(_) => "text/plain; charset=utf-8",
        Payload::Filler(_) => "application/octet-stream",
    };
    let mut out = format!(
        "HTTP/1.1 {} {}\r\nServer: spindle-web\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: {}\r\n",
        resp.status.code(),
        resp.status.reason(),
        resp.len(),
        if keep_alive { "keep-alive" } else { "close" },
    );
    if resp.allow {
        out.push_str("Allow: GET, HEAD\r\n");
    }
    out.push_str("\r\n");
    let mut w = conn;
    match &resp.payload {
        Payload::Text(body) => {
            if !head_only {
                out.push_str(body);
            }
            w.write_all(out.as_bytes())
        }
        Payload::Filler(n) => {
            w.write_all(out.as_bytes())?;
            if head_only {
                return Ok(());
            }
            const FILLER: [u8; 16 * 1024] = [b'x'; 16 * 1024];
            let mut left = *n;
            while left > 0 {
                let part = FILLER.len().min(left as usize);
                w.write_all(&FILLER[..part])?;
                left -= part as u64;
            }
            Ok(())
        }
    }
}
