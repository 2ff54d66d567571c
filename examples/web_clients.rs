//! The lecture's "threading versus multiprocessing, networking edition": make 100 concurrent
//! requests to a web service that takes 100 ms per answer, four ways, and compare:
//!
//! - (a) 100 green threads on the cooperative runtime;
//! - (b) 100 OS threads: the same code on the preemptive runtime;
//! - (c) a `spindle::Pool` of 10 workers on the preemptive runtime — Python's `ThreadPool` —
//!   with `pool.map(fetch, 0..100)`, which returns the answers in request order;
//! - (d) a `spindle::Pool` of 10 green threads whose jobs (`apply_async`) put what they get
//!   into a results `spindle::queue::Queue` — the lecture's exercise: "collect all the output
//!   from the pool into a single data structure using this Queue".
//!
//! The service is `examples/web_server/server.rs`, started in this process on its own
//! cooperative runtime. Every request is a fresh `spindle::net::TcpStream` sending
//! `GET /slow?ms=100` with `Connection: close` and reading the whole answer.
//! Expect about 0.1–0.2 s for (a) and (b) — the requests wait side by side — and about 1 s
//! for (c) and (d): ten rounds of ten.
//!
//! `SPINDLE_EXAMPLE_SMALL=1` (or `--small`) makes it 20 requests of 20 ms and pools of 4, for
//! the tests.
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
use spindle::{spawn, Pool, Runtime};

/// The sizes of a run.
#[derive(Clone, Copy)]
struct Sizes {
    /// How many requests each variant makes.
    requests: usize,
    /// The pool's workers in variants (c) and (d).
    pool_workers: usize,
    /// How long the service takes per request.
    slow_ms: u64,
}

/// The lecture's sizes.
const FULL: Sizes = Sizes {
    requests: 100,
    pool_workers: 10,
    slow_ms: 100,
};
/// `SPINDLE_EXAMPLE_SMALL=1` or `--small`: a quick run for the tests.
const SMALL: Sizes = Sizes {
    requests: 20,
    pool_workers: 4,
    slow_ms: 20,
};

/// Whether small sizes were asked for.
fn small() -> bool {
    std::env::args().any(|a| a == "--small")
        || std::env::var_os("SPINDLE_EXAMPLE_SMALL").is_some_and(|v| v != "0")
}

/// One request on its own connection; the response's body, if the status is 200.
fn fetch(addr: SocketAddr, slow_ms: u64) -> io::Result<String> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        conn,
        "GET /slow?ms={slow_ms} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
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

/// Checks every request's outcome, numbered in request order; how many got `200 OK`.
fn count_ok(outcomes: impl IntoIterator<Item = (usize, io::Result<String>)>) -> io::Result<usize> {
    let mut ok = 0;
    for (n, r) in outcomes {
        r.map_err(|e| io::Error::other(format!("request {n}: {e}")))?;
        ok += 1;
    }
    Ok(ok)
}

/// (a) and (b): one task per request, joined in order.
fn task_per_request(addr: SocketAddr, sizes: Sizes) -> io::Result<usize> {
    let tasks: Vec<_> = (0..sizes.requests)
        .map(|_| spawn(move || fetch(addr, sizes.slow_ms)))
        .collect();
    let outcomes = tasks
        .into_iter()
        .map(|t| t.join().expect("a client task panicked"));
    count_ok(outcomes.enumerate())
}

/// (c): a pool's `map` over the request numbers: the answers come back in request order.
fn pool_map(addr: SocketAddr, sizes: Sizes) -> io::Result<usize> {
    let pool = Pool::new(sizes.pool_workers)?;
    let slow_ms = sizes.slow_ms;
    let outcomes = pool
        .map(move |_n: usize| fetch(addr, slow_ms), 0..sizes.requests)
        .map_err(|e| io::Error::other(format!("pool.map: {e}")))?;
    pool.close();
    pool.join();
    count_ok(outcomes.into_iter().enumerate())
}

/// (d): one `apply_async` job per request; each job puts `(number, answer)` into `results`,
/// and the caller gathers all the pool's output from that Queue into one `Vec`.
fn pool_with_results_queue(addr: SocketAddr, sizes: Sizes) -> io::Result<usize> {
    let pool = Pool::new(sizes.pool_workers)?;
    let results: Queue<(usize, io::Result<String>)> = Queue::unbounded();
    for n in 0..sizes.requests {
        let results = results.clone();
        // The AsyncResult is not needed: the answer travels through the Queue.
        drop(pool.apply_async(move || results.put((n, fetch(addr, sizes.slow_ms)))));
    }
    pool.close();
    // One data structure with all the pool's output, gathered through the results Queue.
    let mut collected: Vec<(usize, io::Result<String>)> =
        (0..sizes.requests).map(|_| results.get()).collect();
    pool.join();
    collected.sort_by_key(|(n, _)| *n);
    count_ok(collected)
}

/// Prints one variant's line: its wall time and how many requests got `200 OK`.
fn report(name: &str, (ok, took): (io::Result<usize>, Duration)) -> io::Result<()> {
    println!(
        "  {name:<52} {:>7.3} s  ({} x 200 OK)",
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

fn try_main() -> Result<(), Box<dyn Error>> {
    let sizes = if small() { SMALL } else { FULL };
    let Sizes {
        requests,
        pool_workers,
        slow_ms,
    } = sizes;

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
    println!("{requests} requests to http://{addr}/slow?ms={slow_ms}, each on its own connection:");
    let a = timed(|| coop.block_on(move || task_per_request(addr, sizes)));
    report(
        &format!(
            "(a) {requests} green threads (cooperative, {} workers)",
            coop.workers()
        ),
        a,
    )?;
    let b = timed(|| pre.block_on(move || task_per_request(addr, sizes)));
    report(&format!("(b) {requests} OS threads (preemptive)"), b)?;
    let c = timed(|| pre.block_on(move || pool_map(addr, sizes)));
    report(
        &format!("(c) ThreadPool: Pool of {pool_workers} OS threads, map"),
        c,
    )?;
    let d = timed(|| coop.block_on(move || pool_with_results_queue(addr, sizes)));
    report(
        &format!("(d) Pool of {pool_workers} green threads + results Queue"),
        d,
    )?;
    Ok(())
}

/// Runs the example; an error is printed with `Display`, not `Debug`.
fn main() -> std::process::ExitCode {
    match try_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
