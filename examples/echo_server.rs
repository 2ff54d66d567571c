//! A TCP echo server on spindle: an accept loop that spawns one task per connection; each
//! task reads into a buffer and writes back everything it read, until the client closes its
//! side (EOF).
//!
//! The same code runs on the cooperative runtime (the default: green threads on one worker
//! per CPU, each `read`, `write` and `accept` that would block parks only its task) and, with
//! `--preemptive`, on the preemptive runtime (a thread per connection; the same calls block
//! their thread).
//!
//! Run with `cargo run --release --example echo_server [-- ADDR] [--preemptive]` (default
//! address `127.0.0.1:7878`), then try it with `nc 127.0.0.1 7878`.
//!
//! `cargo run --release --example echo_server -- --selftest N [--preemptive]` checks it
//! without a second terminal: it starts the server on `127.0.0.1:0`, opens `N` client
//! connections in the same runtime (one task each), lets every client do 64-byte round trips
//! (write 64 bytes, read the 64 echoed back, compare) for about a second, prints the round
//! trips per second and exits. Each connection needs two file descriptors in this process.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::net::{TcpListener, TcpStream};
use spindle::sync::{Barrier, Semaphore};
use spindle::{Builder, Runtime};

/// Where the server listens unless an address is given.
const DEFAULT_ADDR: &str = "127.0.0.1:7878";
/// The size of one self-test request (and of its echo).
const MSG_LEN: usize = 64;
/// At most this many self-test clients open their connections at once.
const CONNECTING: usize = 32;
/// How long the self-test's clients run.
const SELFTEST_TIME: Duration = Duration::from_secs(1);

const USAGE: &str = "usage: echo_server [ADDR] [--preemptive] [--selftest N]";

/// Echoes everything read from `conn` back to it, until the peer closes its write half.
fn echo(mut conn: TcpStream) -> io::Result<()> {
    // Small replies go out at once, not after Nagle's delay.
    conn.set_nodelay(true)?;
    let mut buf = [0; 4096];
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        conn.write_all(&buf[..n])?;
    }
}

/// Accepts connections forever, one task per connection.
fn serve(listener: TcpListener) -> io::Result<()> {
    loop {
        let (conn, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors, a connection reset before it was accepted, ...: the
                // server goes on; the pause keeps a persistent error from spinning.
                eprintln!("accept: {e}");
                spindle::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let task = Builder::new().name(format!("echo {peer}")).spawn(move || {
            if let Err(e) = echo(conn) {
                eprintln!("{peer}: {e}");
            }
        });
        if let Err(e) = task {
            eprintln!("{peer}: cannot start a task for it: {e}");
        }
    }
}

/// One 64-byte round trip: sends `msg` (its bytes 8..16 set to `trip`, so that a stale or
/// misrouted echo cannot pass) and checks the echo.
fn round_trip(mut conn: &TcpStream, msg: &mut [u8; MSG_LEN], trip: u64) -> io::Result<()> {
    msg[8..16].copy_from_slice(&trip.to_le_bytes());
    conn.write_all(msg)?;
    let mut back = [0; MSG_LEN];
    conn.read_exact(&mut back)?;
    if back != *msg {
        return Err(io::Error::other(format!(
            "round trip {trip} echoed different bytes"
        )));
    }
    Ok(())
}

/// Connects and does one round trip, so that the server has accepted the connection.
fn open(addr: SocketAddr, msg: &mut [u8; MSG_LEN]) -> io::Result<TcpStream> {
    let conn = TcpStream::connect(addr)?;
    conn.set_nodelay(true)?;
    round_trip(&conn, msg, u64::MAX)?;
    Ok(conn)
}

/// One self-test client: connects (holding a `connecting` permit), waits at `start` for the
/// others, then does round trips until `stop`; returns how many it did.
fn client(
    addr: SocketAddr,
    id: usize,
    connecting: &Semaphore,
    start: &Barrier,
    stop: &AtomicBool,
) -> io::Result<u64> {
    let mut msg = [0; MSG_LEN];
    msg[..8].copy_from_slice(&(id as u64).to_le_bytes());
    let conn = {
        let _permit = connecting.acquire();
        open(addr, &mut msg)
    };
    // Wait even after a failed connect, so that the others (and `selftest`) are not stuck.
    start.wait();
    let conn = conn.map_err(|e| io::Error::new(e.kind(), format!("client {id}: {e}")))?;
    let mut trips = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round_trip(&conn, &mut msg, trips)
            .map_err(|e| io::Error::new(e.kind(), format!("client {id}: {e}")))?;
        trips += 1;
    }
    Ok(trips)
}

/// Starts the server and `conns` clients in `rt`; prints the round trips per second.
fn selftest(rt: &Runtime, backend: &str, conns: usize) -> io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    println!("echo server ({backend}) listening on {addr}");
    println!(
        "selftest: {conns} connections, {MSG_LEN}-byte round trips for {:?}",
        SELFTEST_TIME
    );
    let (trips, elapsed) = rt.block_on(move || -> io::Result<(u64, Duration)> {
        // A daemon: `block_on` does not wait for the endless accept loop.
        Builder::new()
            .name("accept")
            .daemon(true)
            .spawn(move || serve(listener))?;
        // A few handshakes at a time: more could overflow the listen queue (std's backlog is
        // 128) while the server is busy, and the kernel would then drop handshakes and leave
        // their clients waiting on TCP's retransmission timeouts, for seconds.
        let connecting = Arc::new(Semaphore::new(CONNECTING));
        let start = Arc::new(Barrier::new(conns + 1));
        let stop = Arc::new(AtomicBool::new(false));
        let clients = (0..conns)
            .map(|id| {
                let (connecting, start, stop) = (connecting.clone(), start.clone(), stop.clone());
                Builder::new()
                    .name(format!("client {id}"))
                    .spawn(move || client(addr, id, &connecting, &start, &stop))
            })
            .collect::<io::Result<Vec<_>>>()?;
        // Every client is connected, and accepted, once the barrier opens.
        start.wait();
        let t0 = Instant::now();
        spindle::sleep(SELFTEST_TIME);
        stop.store(true, Ordering::Relaxed);
        let mut trips = 0;
        for c in clients {
            trips += c
                .join()
                .map_err(|_| io::Error::other("a client panicked"))??;
        }
        Ok((trips, t0.elapsed()))
    })?;
    println!(
        "selftest: {trips} round trips in {:.2} s: {:.0} round trips/s",
        elapsed.as_secs_f64(),
        trips as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}

fn try_main() -> io::Result<()> {
    let mut addr = DEFAULT_ADDR.to_string();
    let mut preemptive = false;
    let mut selftest_conns = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--preemptive" => preemptive = true,
            "--selftest" => {
                let n = args.next().and_then(|n| n.parse::<usize>().ok());
                match n {
                    Some(n) if n > 0 => selftest_conns = Some(n),
                    _ => {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("--selftest needs a number of connections\n{USAGE}"),
                        ))
                    }
                }
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            flag if flag.starts_with('-') => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unknown option {flag}\n{USAGE}"),
                ))
            }
            _ => addr = arg,
        }
    }

    let (rt, backend) = if preemptive {
        let rt = Runtime::preemptive().build()?;
        (
            rt,
            "preemptive runtime, a thread per connection".to_string(),
        )
    } else {
        let rt = Runtime::cooperative().build()?;
        let backend = format!("cooperative runtime, {} workers", rt.workers());
        (rt, backend)
    };

    if let Some(conns) = selftest_conns {
        return selftest(&rt, &backend, conns);
    }
    // Bound here, on the main thread, where resolving a host name may block.
    let listener = TcpListener::bind(&addr)?;
    println!(
        "echo server ({backend}) listening on {}",
        listener.local_addr()?
    );
    rt.block_on(move || serve(listener))
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
