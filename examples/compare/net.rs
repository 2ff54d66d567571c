//! The cost of waiting, on sockets: a TCP echo over loopback, and the lecture's "networking
//! edition", 100 concurrent requests to a web service that takes 100 ms per answer.
//!
//! **Echo.** Client and server both run on the backend under test, in one `block_on`: an
//! accept loop spawns a task per connection that echoes until EOF; a client task per
//! connection connects (at most 64 connecting at once, so the listen queue never overflows),
//! checks one round trip, waits at a gate until every client is connected, then does its
//! round trips (64 bytes out, the same 64 back, compared), timing each. The clock runs from
//! the gate's opening to the last client's end, so connection set-up is not timed. Then the
//! accept loop is stopped (a flag, and one more connection to wake it).
//!
//! **Web.** The service is `examples/web_server/server.rs` (the example web server), started
//! once per process on its own cooperative runtime on 127.0.0.1:0. A sample is 100 tasks on
//! the backend, each a fresh connection sending `GET /slow?ms=100` with `Connection: close`
//! and reading the whole answer (status 200 checked), each request timed.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use spindle::net::{TcpListener, TcpStream};
use spindle::sync::{Event, Semaphore};
use spindle::{Builder, JoinHandle, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::backends::{Engine, ThreadGuard};
use crate::waiting::{no_python, panic_text, panicked};
use crate::workloads::{latency_histogram, thousands, CellError, Ctx, Measurement, Outcome};

/// Connections and round trips per connection of the suite's echo workload.
const CONNECTIONS: usize = 100;
const TRIPS: usize = 100;
/// Round trips per connection in the scaling sweep.
const SCALE_TRIPS: usize = 10;
/// Bytes per message.
const MSG: usize = 64;
/// Clients connecting at once, at most.
const CONNECT_SLOTS: usize = 64;
/// How long a client waits for an echo or an answer before giving up.
const IO_TIMEOUT: Duration = Duration::from_secs(20);
/// Requests of the web workload, and how long the service takes for each.
pub const REQUESTS: usize = 100;
pub const SLOW_MS: u64 = 100;

/// TCP echo: `ctx.n` connections with 10 round trips each (scaling, per connection), or 100
/// connections with 100 round trips each (round trips per second).
pub fn echo(engine: &Engine, ctx: Ctx) -> Outcome {
    let (conns, trips) = ctx.n.map_or((CONNECTIONS, TRIPS), |n| (n, SCALE_TRIPS));
    let outcome = match engine {
        Engine::Spindle(rt) => {
            let os_threads = !rt.is_cooperative();
            rt.block_on(move || spindle_echo(conns, trips, os_threads))
        }
        Engine::Tokio(rt) => rt.block_on(tokio_echo(conns, trips)),
        Engine::Python { .. } => return Err(no_python()),
    };
    let (elapsed, hist) = outcome.map_err(|e| match e {
        CellError::Failed(m) if m.contains("os error 24") => CellError::Failed(format!(
            "{m}: {} connections need {} descriptors here (both ends), the limit is {}",
            thousands(conns as u64),
            thousands(2 * conns as u64),
            thousands(crate::backends::fd_limit())
        )),
        e => e,
    })?;
    let ops = if ctx.n.is_some() {
        conns
    } else {
        conns * trips
    };
    Ok(Measurement::new(elapsed, ops as u64).latencies(hist))
}

/// The message of round trip `t` on connection `id`.
fn message(id: usize, t: usize) -> [u8; MSG] {
    let mut msg = [0u8; MSG];
    msg[..8].copy_from_slice(&(id as u64).to_le_bytes());
    msg[8..16].copy_from_slice(&(t as u64).to_le_bytes());
    msg
}

/// Echoes what `conn` sends until EOF or an error.
fn echo_conn(mut conn: TcpStream) {
    let _ = conn.set_nodelay(true);
    let mut buf = [0; 4096];
    while let Ok(n @ 1..) = conn.read(&mut buf) {
        if conn.write_all(&buf[..n]).is_err() {
            return;
        }
    }
}

/// One round trip on a spindle stream, checked.
fn round_trip(conn: &mut TcpStream, id: usize, t: usize) -> io::Result<()> {
    let msg = message(id, t);
    conn.write_all(&msg)?;
    let mut back = [0u8; MSG];
    conn.read_exact(&mut back)?;
    if back != msg {
        return Err(io::Error::other(format!(
            "connection {id}: round trip {t} echoed other bytes"
        )));
    }
    Ok(())
}

/// Connects and checks one round trip.
fn connect_checked(addr: SocketAddr, id: usize) -> io::Result<TcpStream> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    round_trip(&mut conn, id, usize::MAX)?;
    Ok(conn)
}

/// Which error to report: the first of spawn failure, client error, server error.
fn first_error(errors: impl IntoIterator<Item = Option<String>>) -> Result<(), CellError> {
    match errors.into_iter().flatten().next() {
        Some(e) => Err(CellError::Failed(e)),
        None => Ok(()),
    }
}

/// The echo workload inside a spindle task.
fn spindle_echo(
    conns: usize,
    trips: usize,
    os_threads: bool,
) -> Result<(Duration, Histogram<u64>), CellError> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let server = Builder::new().name("echo-accept").spawn(move || {
        let mut handlers: Vec<JoinHandle<()>> = Vec::new();
        let mut guard = os_threads.then(ThreadGuard::new);
        let failure = loop {
            let conn = match listener.accept() {
                Ok((conn, _)) => conn,
                Err(e) => break Some(format!("server: accept failed: {e}")),
            };
            if flag.load(Ordering::Acquire) {
                break None;
            }
            if let Some(Err(e)) = guard.as_mut().map(ThreadGuard::check) {
                break Some(format!("server: {e}"));
            }
            match Builder::new().spawn(move || echo_conn(conn)) {
                Ok(h) => handlers.push(h),
                Err(e) => break Some(format!("server: spawn of a handler failed: {e}")),
            }
        };
        // Connections still queued are reset, so no client waits for an echo forever.
        drop(listener);
        for h in handlers {
            let _ = h.join();
        }
        failure
    })?;

    let ready = Arc::new(Semaphore::new(0));
    let slots = Arc::new(Semaphore::new(CONNECT_SLOTS));
    let gate = Arc::new(Event::new());
    let mut clients = Vec::with_capacity(conns);
    let mut spawn_failure = None;
    let mut guard = os_threads.then(ThreadGuard::new);
    for id in 0..conns {
        if let Some(Err(e)) = guard.as_mut().map(ThreadGuard::check) {
            spawn_failure = Some(e);
            break;
        }
        let (ready, slots, gate) = (ready.clone(), slots.clone(), gate.clone());
        let client = Builder::new().spawn(move || -> Result<Histogram<u64>, String> {
            let conn = {
                let _slot = slots.acquire();
                let conn = connect_checked(addr, id);
                ready.release();
                conn
            };
            gate.wait();
            let mut conn = conn.map_err(|e| {
                format!(
                    "connection {} of {}: {e}",
                    thousands(id as u64 + 1),
                    thousands(conns as u64)
                )
            })?;
            let mut hist = latency_histogram();
            for t in 0..trips {
                let start = Instant::now();
                round_trip(&mut conn, id, t).map_err(|e| format!("connection {id}: {e}"))?;
                hist.saturating_record(start.elapsed().as_nanos() as u64);
            }
            Ok(hist)
        });
        match client {
            Ok(h) => clients.push(h),
            Err(e) => {
                spawn_failure = Some(format!(
                    "spawn of client {} failed: {e}",
                    thousands(id as u64 + 1)
                ));
                break;
            }
        }
    }
    for _ in 0..clients.len() {
        ready.acquire().forget();
    }
    let start = Instant::now();
    gate.set();
    let mut hist = latency_histogram();
    let mut client_failure = None;
    for c in clients {
        match c.join() {
            Ok(Ok(h)) => {
                let _ = hist.add(&h);
            }
            Ok(Err(e)) => client_failure = client_failure.or(Some(e)),
            Err(_) => client_failure = client_failure.or(Some(panic_text("a client"))),
        }
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Release);
    let woke = TcpStream::connect(addr);
    let server_failure = match server.join() {
        Ok(f) => f,
        Err(_) => Some(panic_text("the accept loop")),
    };
    drop(woke);
    first_error([spawn_failure, server_failure, client_failure])?;
    Ok((elapsed, hist))
}

/// The echo workload on tokio: the same steps with tokio's sockets and primitives.
async fn tokio_echo(conns: usize, trips: usize) -> Result<(Duration, Histogram<u64>), CellError> {
    use tokio::net::{TcpListener, TcpStream};
    use tokio::time::timeout;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let server = tokio::spawn(async move {
        let mut handlers = Vec::new();
        let failure = loop {
            let mut conn = match listener.accept().await {
                Ok((conn, _)) => conn,
                Err(e) => break Some(format!("server: accept failed: {e}")),
            };
            if flag.load(Ordering::Acquire) {
                break None;
            }
            handlers.push(tokio::spawn(async move {
                let _ = conn.set_nodelay(true);
                let mut buf = [0; 4096];
                while let Ok(n @ 1..) = conn.read(&mut buf).await {
                    if conn.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            }));
        };
        drop(listener);
        for h in handlers {
            let _ = h.await;
        }
        failure
    });

    async fn trip(conn: &mut TcpStream, id: usize, t: usize) -> io::Result<()> {
        let msg = message(id, t);
        conn.write_all(&msg).await?;
        let mut back = [0u8; MSG];
        timeout(IO_TIMEOUT, conn.read_exact(&mut back))
            .await
            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
        if back != msg {
            return Err(io::Error::other(format!(
                "round trip {t} echoed other bytes"
            )));
        }
        Ok(())
    }

    let ready = Arc::new(tokio::sync::Semaphore::new(0));
    let slots = Arc::new(tokio::sync::Semaphore::new(CONNECT_SLOTS));
    let (open, gate) = tokio::sync::watch::channel(false);
    let clients: Vec<_> = (0..conns)
        .map(|id| {
            let (ready, slots, mut gate) = (ready.clone(), slots.clone(), gate.clone());
            tokio::spawn(async move {
                let conn = {
                    let _slot = slots.acquire().await;
                    let conn = async {
                        let mut c = TcpStream::connect(addr).await?;
                        c.set_nodelay(true)?;
                        trip(&mut c, id, usize::MAX).await?;
                        Ok::<_, io::Error>(c)
                    }
                    .await;
                    ready.add_permits(1);
                    conn
                };
                let _ = gate.wait_for(|open| *open).await;
                let mut conn = conn.map_err(|e| {
                    format!(
                        "connection {} of {}: {e}",
                        thousands(id as u64 + 1),
                        thousands(conns as u64)
                    )
                })?;
                let mut hist = latency_histogram();
                for t in 0..trips {
                    let start = Instant::now();
                    trip(&mut conn, id, t)
                        .await
                        .map_err(|e| format!("connection {id}: {e}"))?;
                    hist.saturating_record(start.elapsed().as_nanos() as u64);
                }
                Ok::<_, String>(hist)
            })
        })
        .collect();
    let n = u32::try_from(conns).map_err(|_| CellError::Failed("too many connections".into()))?;
    ready
        .acquire_many(n)
        .await
        .map_err(|e| CellError::Failed(e.to_string()))?
        .forget();
    let start = Instant::now();
    open.send_replace(true);
    let mut hist = latency_histogram();
    let mut client_failure = None;
    for c in clients {
        match c.await {
            Ok(Ok(h)) => {
                let _ = hist.add(&h);
            }
            Ok(Err(e)) => client_failure = client_failure.or(Some(e)),
            Err(e) => client_failure = client_failure.or(Some(format!("a client failed: {e}"))),
        }
    }
    let elapsed = start.elapsed();
    stop.store(true, Ordering::Release);
    let woke = TcpStream::connect(addr).await;
    let server_failure = server
        .await
        .unwrap_or_else(|e| Some(format!("accept loop: {e}")));
    drop(woke);
    first_error([server_failure, client_failure])?;
    Ok((elapsed, hist))
}

#[path = "../web_server/server.rs"]
mod server;

/// The web server's address, started on first use and kept for the rest of the process.
pub fn web_server() -> Result<SocketAddr, CellError> {
    static WEB: OnceLock<Result<SocketAddr, String>> = OnceLock::new();
    WEB.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("web server: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("web server: {e}"))?;
        let rt = Runtime::cooperative()
            .build()
            .map_err(|e| format!("web server: {e}"))?;
        // Serves until the process ends; never joined.
        std::thread::Builder::new()
            .name("web-server".into())
            .spawn(move || rt.block_on(move || server::serve(listener, server::Config::default())))
            .map_err(|e| format!("web server thread: {e}"))?;
        Ok(addr)
    })
    .clone()
    .map_err(CellError::Failed)
}

/// The request every web client sends.
fn request(addr: SocketAddr) -> String {
    format!("GET /slow?ms={SLOW_MS} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
}

/// Checks a whole response: status 200.
fn check_response(raw: &[u8]) -> io::Result<()> {
    let status = raw.split(|&b| b == b'\r').next().unwrap_or_default();
    if status.starts_with(b"HTTP/1.1 200 ") {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "unexpected status line {:?}",
            String::from_utf8_lossy(status)
        )))
    }
}

/// One request on its own spindle connection; its latency in nanoseconds.
fn fetch(addr: SocketAddr) -> io::Result<u64> {
    let start = Instant::now();
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(IO_TIMEOUT))?;
    conn.write_all(request(addr).as_bytes())?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    check_response(&raw)?;
    Ok(start.elapsed().as_nanos() as u64)
}

/// 100 concurrent requests to `/slow?ms=100`, a task each.
pub fn web(engine: &Engine, _ctx: Ctx) -> Outcome {
    let addr = web_server()?;
    let start = Instant::now();
    let latencies: Vec<io::Result<u64>> = match engine {
        Engine::Spindle(rt) => rt.block_on(move || -> Result<_, CellError> {
            let mut tasks = Vec::with_capacity(REQUESTS);
            for _ in 0..REQUESTS {
                tasks.push(Builder::new().spawn(move || fetch(addr))?);
            }
            let mut out = Vec::with_capacity(REQUESTS);
            for t in tasks {
                out.push(t.join().map_err(|_| panicked("a client"))?);
            }
            Ok(out)
        })?,
        Engine::Tokio(rt) => rt.block_on(async move {
            let tasks: Vec<_> = (0..REQUESTS)
                .map(|_| {
                    tokio::spawn(async move {
                        let start = Instant::now();
                        let mut conn = tokio::net::TcpStream::connect(addr).await?;
                        conn.write_all(request(addr).as_bytes()).await?;
                        let mut raw = Vec::new();
                        tokio::time::timeout(IO_TIMEOUT, conn.read_to_end(&mut raw))
                            .await
                            .map_err(|_| io::Error::from(io::ErrorKind::TimedOut))??;
                        check_response(&raw)?;
                        Ok(start.elapsed().as_nanos() as u64)
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(REQUESTS);
            for t in tasks {
                out.push(
                    t.await
                        .map_err(|e| CellError::Failed(format!("a client failed: {e}")))?,
                );
            }
            Ok::<_, CellError>(out)
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    let elapsed = start.elapsed();
    let mut hist = latency_histogram();
    for (i, l) in latencies.into_iter().enumerate() {
        let ns = l.map_err(|e| CellError::Failed(format!("request {}: {e}", i + 1)))?;
        hist.saturating_record(ns);
    }
    Ok(Measurement::new(elapsed, REQUESTS as u64).latencies(hist))
}
