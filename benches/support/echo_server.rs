//! The echo server the TCP benches share (`tcp_echo`, `echo_vs_tokio`): on a spindle
//! runtime, a task per connection; on tokio, the same in async form. Included by each bench
//! with `#[path]` (benches are separate crates).

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;

use spindle::net::{TcpListener, TcpStream};
use spindle::{spawn, Runtime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Echoes what `conn` sends until EOF.
pub fn echo(mut conn: TcpStream) {
    conn.set_nodelay(true).expect("server: set_nodelay");
    let mut buf = [0; 4096];
    loop {
        match conn.read(&mut buf).expect("server: read") {
            0 => return,
            n => conn.write_all(&buf[..n]).expect("server: write"),
        }
    }
}

/// The tokio peer of [`echo`]: echoes what `conn` sends until EOF.
pub async fn echo_tokio(mut conn: tokio::net::TcpStream) {
    conn.set_nodelay(true).expect("server: set_nodelay");
    let mut buf = [0; 4096];
    loop {
        match conn.read(&mut buf).await.expect("server: read") {
            0 => return,
            n => conn.write_all(&buf[..n]).await.expect("server: write"),
        }
    }
}

/// The runtime an echo server runs on.
pub enum Backend {
    /// A spindle runtime (cooperative or preemptive).
    Spindle(Runtime),
    /// A tokio runtime, the peer for comparison.
    Tokio(tokio::runtime::Runtime),
}

/// An echo server running `block_on` on a thread of its own.
pub struct Server {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: thread::JoinHandle<()>,
}

impl Server {
    /// Starts the accept loop on `backend`, which the server thread owns from now on.
    pub fn start(name: &str, backend: Backend) -> Server {
        match backend {
            Backend::Spindle(rt) => Server::start_spindle(name, rt),
            Backend::Tokio(rt) => Server::start_tokio(name, rt),
        }
    }

    fn start_spindle(name: &str, rt: Runtime) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the echo server");
        let addr = listener.local_addr().expect("the echo server's address");
        Server::run(name, addr, move |stop| {
            rt.block_on(move || loop {
                let (conn, _) = listener.accept().expect("server: accept");
                if stop.load(Ordering::Acquire) {
                    return;
                }
                spawn(move || echo(conn));
            })
        })
    }

    /// Like [`Server::start_spindle`]; `block_on` returns once every connection task has
    /// returned, and the runtime is then dropped on the server thread.
    fn start_tokio(name: &str, rt: tokio::runtime::Runtime) -> Server {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind the echo server");
        let addr = listener.local_addr().expect("the echo server's address");
        Server::run(name, addr, move |stop| {
            rt.block_on(async move {
                let mut tasks = Vec::new();
                loop {
                    let (conn, _) = listener.accept().await.expect("server: accept");
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    tasks.push(tokio::spawn(echo_tokio(conn)));
                }
                for task in tasks {
                    task.await.expect("a tokio echo task panicked");
                }
            });
            drop(rt);
        })
    }

    /// Runs `serve` (an accept loop on `addr` that returns once it sees the stop flag) on a
    /// thread of its own.
    fn run(
        name: &str,
        addr: SocketAddr,
        serve: impl FnOnce(Arc<AtomicBool>) + Send + 'static,
    ) -> Server {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::Builder::new()
            .name(format!("{name} server"))
            .spawn(move || serve(flag))
            .expect("start the server thread");
        Server { addr, stop, thread }
    }

    /// Stops the accept loop (waking it with one last connection) and waits for `block_on`,
    /// which also waits for every connection task to see EOF (and, on tokio, for the runtime
    /// to shut down): close the clients first.
    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        drop(std::net::TcpStream::connect(self.addr).expect("wake the accept loop"));
        self.thread.join().expect("the echo server panicked");
    }
}
