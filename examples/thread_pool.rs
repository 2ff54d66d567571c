//! The lecture's `ThreadPool` exercise: a pool of 4 OS threads fetches 20 pages from a web
//! service, and the results of all the jobs are collected into one data structure through a
//! results `Queue` that every job puts into.
//!
//! `from multiprocessing.pool import ThreadPool; pool = ThreadPool(processes=4)` is
//! `spindle::Pool::new(4)` on the preemptive runtime, where each worker is an OS thread.
//! The service is a stand-in for the lecture's gunicorn app, started in this process: a
//! `std::net` listener on a plain thread that answers each request on its own thread after
//! 100 ms. Requests are real TCP connections (`spindle::net::TcpStream`, which blocks its OS
//! thread here, as urllib does in Python). Expect about 0.5 s: 20 requests, 4 at a time.
//!
//! Run with `cargo run --release --example thread_pool`.

use std::error::Error;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::{Duration, Instant};

use spindle::net::TcpStream;
use spindle::queue::Queue;
use spindle::{Pool, Runtime};

/// Workers in the pool, as in the lecture.
const WORKERS: usize = 4;
/// Pages to fetch.
const REQUESTS: usize = 20;
/// How long the service takes per answer.
const DELAY: Duration = Duration::from_millis(100);

/// Starts the stand-in service on a free port; it runs until the process ends.
fn start_service() -> io::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    thread::Builder::new()
        .name("service".into())
        .spawn(move || {
            for conn in listener.incoming().flatten() {
                thread::spawn(move || answer(conn));
            }
        })?;
    Ok(addr)
}

/// Reads one request's head and answers it, slowly, with the path it asked for.
fn answer(mut conn: std::net::TcpStream) -> io::Result<()> {
    let mut request_line = String::new();
    let mut reader = BufReader::new(&conn);
    reader.read_line(&mut request_line)?;
    let mut line = String::new();
    while reader.read_line(&mut line)? > 2 {
        line.clear();
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
    thread::sleep(DELAY);
    let body = format!("you asked for {path}");
    write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// One request on its own connection; the body of a `200 OK` answer.
fn fetch(addr: SocketAddr, page: usize) -> io::Result<String> {
    let mut conn = TcpStream::connect(addr)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        conn,
        "GET /page/{page} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = String::new();
    conn.read_to_string(&mut raw)?;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of head in the answer"))?;
    if !head.starts_with("HTTP/1.1 200 ") {
        return Err(io::Error::other(format!("unexpected answer {head:?}")));
    }
    Ok(body.to_owned())
}

/// The exercise: every job puts `(page, result)` into `results`; once the pool is joined,
/// the Queue holds the output of all of them.
fn crawl(addr: SocketAddr) -> io::Result<Vec<(usize, io::Result<String>)>> {
    let pool = Pool::new(WORKERS)?;
    let results = Queue::unbounded();
    for page in 0..REQUESTS {
        let results = results.clone();
        // The AsyncResult is not needed: the value travels through the Queue.
        drop(pool.apply_async(move || results.put((page, fetch(addr, page)))));
    }
    pool.close();
    pool.join();
    let mut collected = Vec::with_capacity(REQUESTS);
    while let Ok(item) = results.try_get() {
        collected.push(item);
    }
    Ok(collected)
}

/// Starts the service, crawls it with the pool, and prints what the Queue collected.
fn run() -> Result<(), Box<dyn Error>> {
    let addr = start_service()?;
    let rt = Runtime::preemptive().build()?;
    let t = Instant::now();
    let mut collected = rt.block_on(move || crawl(addr))?;
    let took = t.elapsed();
    println!(
        "{} results collected through the Queue, in completion order: {:?}",
        collected.len(),
        collected.iter().map(|(page, _)| *page).collect::<Vec<_>>()
    );
    collected.sort_by_key(|(page, _)| *page);
    let mut failed = 0;
    for (page, result) in &collected {
        match result {
            Ok(body) => println!("  page {page:>2}: {body}"),
            Err(e) => {
                failed += 1;
                println!("  page {page:>2}: error: {e}");
            }
        }
    }
    println!(
        "{REQUESTS} requests, {WORKERS} OS threads: {:.2} s ({failed} failed)",
        took.as_secs_f64()
    );
    if failed > 0 {
        return Err(format!("{failed} of {REQUESTS} requests failed").into());
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
