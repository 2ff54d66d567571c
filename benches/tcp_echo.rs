//! 64-byte request/response round trips over loopback TCP, with 100 and with 1,000
//! concurrent connections, against an echo server on each spindle backend, and on tokio for
//! comparison:
//!
//! | id                      | server                                           | one connection is          |
//! |-------------------------|--------------------------------------------------|----------------------------|
//! | `cooperative_2_workers` | spindle, `Runtime::cooperative().workers(2)`     | a green thread             |
//! | `preemptive`            | spindle, `Runtime::preemptive()`                 | an OS thread               |
//! | `tokio_2_workers`       | tokio, multi-thread runtime, 2 worker threads    | a `tokio::spawn`ed future  |
//!
//! each measured at `100_connections` and `1000_connections` (six cases in all). A read or
//! write that would block parks the green thread on its worker's reactor (cooperative), blocks
//! the OS thread in `poll(2)` (preemptive), or returns `Pending` to tokio's scheduler, which
//! polls the task again when tokio's reactor reports the socket ready (tokio).
//!
//! `tokio_2_workers` is not a spindle backend: it is a peer, the same server written the
//! usual way on the usual async runtime, so the spindle numbers have a reference point. It
//! shares everything else with the spindle variants: the client, the connections, the timed
//! region.
//!
//! The spindle server is the same code on both backends: an accept loop in `block_on`, on a
//! thread of its own, spawning one task per connection that reads up to 4 KiB and writes back
//! what it read, until EOF. The tokio server is that code in async form: an accept loop in the
//! runtime's `block_on`, on a thread of its own, over a `tokio::net::TcpListener` (backlog
//! 1,024, as spindle's), `tokio::spawn`ing one task per connection that reads up to 4 KiB and
//! `write_all`s it back, until EOF. Each server's runtime is built once per variant; the
//! server runs through both connection counts, and when its cases are done it stops its
//! accept loop, waits for every connection task to see EOF, and drops its runtime.
//!
//! The client is the same for all variants and lives in the same process: its own
//! `Runtime::cooperative().workers(1)`, one green thread per connection. The connections are
//! opened once per case, outside the timed region (`TCP_NODELAY` on both ends; one at a time,
//! each checked by a round trip), and stay open across iterations. One measured iteration is
//! one `block_on` on the client runtime that spawns one task per connection; each task does
//! `ROUND_TRIPS / connections` round trips (write 64 bytes, `read_exact` the 64 echoed,
//! compare; the payload changes every time), and the tasks are joined. An iteration is thus
//! 10,000 round trips in all (100 per connection at 100 connections, 10 at 1,000), plus the
//! spawns and joins of the client tasks, and takes ~50-250 ms on a 2-core machine. The client
//! shares the CPUs with the server: its one worker runs beside the server's 2 workers
//! (cooperative, tokio), or beside its 100 or 1,000 threads (preemptive). The client is a
//! spindle runtime against every server, tokio's included.
//!
//! Criterion prints the time of one iteration and, from `Throughput::Elements(10_000)`,
//! round trips per second.
//!
//! File descriptors: both ends of every connection are in this process, so 1,000
//! connections need 2,000 descriptors (plus a few for the listener and the pollers); the
//! cases run one after another and close their connections when done. Raise `ulimit -n`
//! above ~2,100 if it is lower (the common default, 1,024, is too low); a failed connect says
//! so.
//!
//! Run with `cargo bench --bench tcp_echo`.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use spindle::net::TcpStream;
use spindle::{spawn, Runtime};

#[path = "support/echo_server.rs"]
mod echo_server;
use echo_server::{Backend, Server};

/// Bytes per request (and per echo).
const MSG_LEN: usize = 64;
/// Round trips per iteration, over all connections.
const ROUND_TRIPS: usize = 10_000;
/// The numbers of concurrent connections measured.
const CONNECTIONS: [usize; 2] = [100, 1_000];

fn build<R>(name: &str, rt: io::Result<R>) -> R {
    rt.unwrap_or_else(|e| panic!("cannot build the {name} runtime: {e}"))
}

/// Opens `n` client connections to `addr` from a task of `client`, so that their sockets
/// register with its one worker. One at a time, each checked with a round trip, so the server
/// has accepted it before the next: a burst of connects could overflow the listen queue
/// (1,024 on spindle's and tokio's listeners) and leave connections waiting on TCP's
/// retransmission timeouts.
fn connect(client: &Runtime, addr: SocketAddr, n: usize) -> Arc<Vec<TcpStream>> {
    let conns = client.block_on(move || {
        (0..n)
            .map(|i| {
                let conn = TcpStream::connect(addr).unwrap_or_else(|e| {
                    panic!(
                        "cannot open connection {i} of {n}: {e} (each needs 2 descriptors \
                         in this process; see `ulimit -n`)"
                    )
                });
                conn.set_nodelay(true).expect("client: set_nodelay");
                round_trips(&conn, i, 1);
                conn
            })
            .collect()
    });
    Arc::new(conns)
}

/// `trips` round trips on one connection, checking every echo.
fn round_trips(conn: &TcpStream, id: usize, trips: usize) {
    let mut conn = conn;
    let mut msg = [0; MSG_LEN];
    msg[..8].copy_from_slice(&(id as u64).to_le_bytes());
    let mut back = [0; MSG_LEN];
    for t in 0..trips {
        msg[8..16].copy_from_slice(&(t as u64).to_le_bytes());
        conn.write_all(&msg).expect("client: write");
        conn.read_exact(&mut back).expect("client: read");
        assert!(
            back == msg,
            "connection {id}: round trip {t} echoed other bytes"
        );
    }
}

/// One iteration: a task per connection, `trips` round trips each, joined.
fn iteration(client: &Runtime, conns: &Arc<Vec<TcpStream>>, trips: usize) {
    let conns = conns.clone();
    client.block_on(move || {
        let handles: Vec<_> = (0..conns.len())
            .map(|id| {
                let conns = conns.clone();
                spawn(move || round_trips(&conns[id], id, trips))
            })
            .collect();
        for h in handles {
            h.join().expect("a client task panicked");
        }
    });
}

fn tcp_echo(c: &mut Criterion) {
    let client = build("client", Runtime::cooperative().workers(1).build());
    let servers = [
        (
            "cooperative_2_workers",
            Backend::Spindle(build(
                "cooperative 2 workers",
                Runtime::cooperative().workers(2).build(),
            )),
        ),
        (
            "preemptive",
            Backend::Spindle(build("preemptive", Runtime::preemptive().build())),
        ),
        (
            "tokio_2_workers",
            Backend::Tokio(build(
                "tokio 2 workers",
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_io()
                    .build(),
            )),
        ),
    ];

    let mut group = c.benchmark_group("tcp_echo");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat) // an iteration takes ~100 ms or more
        .throughput(Throughput::Elements(ROUND_TRIPS as u64));

    for (name, rt) in servers {
        let server = Server::start(name, rt);
        for n in CONNECTIONS {
            let conns = connect(&client, server.addr, n);
            let trips = ROUND_TRIPS / n;
            let id = BenchmarkId::new(name, format!("{n}_connections"));
            group.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        iteration(&client, &conns, trips);
                    }
                    start.elapsed()
                })
            });
            // Closing the client ends lets the server's connection tasks finish.
            drop(conns);
        }
        server.stop();
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    tcp_echo(&mut c);
    c.final_summary();
}
