//! The lecture's "threading versus multiprocessing, networking edition": make 100 concurrent
//! requests to a web service that takes 100 ms per answer, three ways, and compare:
//!
//! - (a) 100 green threads on the cooperative runtime;
//! - (b) 100 OS threads: the same code on the preemptive runtime;
//! - (c) a pool of 10 workers (green threads) that take request numbers from a
//!   `spindle::queue::Queue` and put what they get into a second, results `Queue` — the
//!   lecture's exercise of collecting a pool's output through a Queue.
//!
//! The service is `examples/web_server/server.rs`, started in this process on its own
//! cooperative runtime. Every request is a fresh `spindle::net::TcpStream` sending
//! `GET /slow?ms=100` with `Connection: close` and reading the whole answer.
//! Expect about 0.1–0.2 s for (a) and (b) — the requests wait side by side — and about 1 s
//! for (c): ten rounds of ten.
//!
//! Run with `cargo run --release --example web_clients`.

#[path = "web_server/server.rs"]
mod server;

use std::error::Error;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use spindle::net::{TcpListener, TcpStream};
use spindle::queue::Queue;
use spindle::{spawn, Runtime};

/// How many requests each variant makes.
const REQUESTS: usize = 100;
/// The pool's workers in variant (c).
const POOL_WORKERS: usize = 10;
/// How long the service takes per request.
const SLOW_MS: u64 = 100;

/// One request on its own connection; the response's body, if the status is 200.
fn fetch(addr: SocketAddr) -> io::Result<String> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        conn,
        "GET /slow?ms={SLOW_MS} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw)?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of head in the response"))?;
    let status = head.lines().next().unwrap_or_default();
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(io::Error::other(format!(
            "unexpected status line {status:?}"
        )));
    }
    Ok(body.to_owned())
}

/// (a) and (b): one task per request, joined in order.
fn task_per_request(addr: SocketAddr) -> io::Result<usize> {
    let tasks: Vec<_> = (0..REQUESTS).map(|_| spawn(move || fetch(addr))).collect();
    let mut ok = 0;
    for t in tasks {
        t.join().expect("a client task panicked")?;
        ok += 1;
    }
    Ok(ok)
}

/// (c): `POOL_WORKERS` tasks take request numbers from `jobs` (`None`: stop) and put
/// `(number, result)` into `results`; the caller collects all results from that Queue.
fn pool_with_results_queue(addr: SocketAddr) -> io::Result<usize> {
    let jobs: Queue<Option<usize>> = Queue::unbounded();
    let results: Queue<(usize, io::Result<String>)> = Queue::unbounded();
    let workers: Vec<_> = (0..POOL_WORKERS)
        .map(|_| {
            let (jobs, results) = (jobs.clone(), results.clone());
            spawn(move || {
                while let Some(n) = jobs.get() {
                    results.put((n, fetch(addr)));
                }
            })
        })
        .collect();
    for n in 0..REQUESTS {
        jobs.put(Some(n));
    }
    for _ in 0..POOL_WORKERS {
        jobs.put(None);
    }
    // One data structure with all the pool's output, gathered through the results Queue.
    let mut collected: Vec<(usize, io::Result<String>)> =
        (0..REQUESTS).map(|_| results.get()).collect();
    for w in workers {
        w.join().expect("a pool worker panicked");
    }
    collected.sort_by_key(|(n, _)| *n);
    let mut ok = 0;
    for (n, r) in collected {
        r.map_err(|e| io::Error::other(format!("request {n}: {e}")))?;
        ok += 1;
    }
    Ok(ok)
}

/// Prints one variant's line: its wall time and how many requests got `200 OK`.
fn report(name: &str, (ok, took): (io::Result<usize>, Duration)) -> io::Result<()> {
    println!(
        "  {name:<48} {:>7.3} s  ({} x 200 OK)",
        took.as_secs_f64(),
        ok?
    );
    Ok(())
}

/// Runs `f` and returns its value with the wall time it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

fn main() -> Result<(), Box<dyn Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let server_rt = Runtime::cooperative().build()?;
    // The server runs until the process ends; this thread is never joined.
    std::thread::Builder::new()
        .name("web-server".into())
        .spawn(move || {
            server_rt.block_on(move || server::serve(listener, server::Config::default()))
        })?;

    let coop = Runtime::cooperative().build()?;
    let pre = Runtime::preemptive().build()?;
    println!("{REQUESTS} requests to http://{addr}/slow?ms={SLOW_MS}, each on its own connection:");
    let a = timed(|| coop.block_on(move || task_per_request(addr)));
    report(
        &format!(
            "(a) {REQUESTS} green threads (cooperative, {} workers)",
            coop.workers()
        ),
        a,
    )?;
    let b = timed(|| pre.block_on(move || task_per_request(addr)));
    report(&format!("(b) {REQUESTS} OS threads (preemptive)"), b)?;
    let c = timed(|| coop.block_on(move || pool_with_results_queue(addr)));
    report(
        &format!("(c) pool of {POOL_WORKERS} green threads + results Queue"),
        c,
    )?;
    Ok(())
}
