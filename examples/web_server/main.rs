//! A small HTTP/1.1 web service on spindle's green threads: one task per connection on a
//! cooperative runtime, keep-alive, and the hardening of `server.rs` (header and idle
//! timeouts against slowloris clients, `400`/`431` for bad heads, back-off when `accept`
//! runs out of descriptors). It is the service the lecture's "networking edition" makes 100
//! concurrent requests to; `examples/web_clients.rs` does that.
//!
//! Run with `cargo run --release --example web_server [-- ADDR]` (default `127.0.0.1:8080`),
//! then try:
//!
//! ```text
//! curl -i http://127.0.0.1:8080/
//! curl -i 'http://127.0.0.1:8080/slow?ms=500'
//! curl -s -o /dev/null -w '%{size_download} bytes\n' 'http://127.0.0.1:8080/big?kb=1024'
//! curl -v http://127.0.0.1:8080/ http://127.0.0.1:8080/   # one connection, two requests
//! curl -i -X POST http://127.0.0.1:8080/                   # 405
//! printf 'NOT HTTP\r\n\r\n' | nc 127.0.0.1 8080             # 400, then the server closes
//! ```

mod server;

use std::error::Error;

use spindle::net::TcpListener;
use spindle::Runtime;

fn try_main() -> Result<(), Box<dyn Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listener = TcpListener::bind(&addr)?;
    let rt = Runtime::cooperative().build()?;
    println!(
        "listening on http://{} ({} worker threads); Ctrl-C stops",
        listener.local_addr()?,
        rt.workers()
    );
    rt.block_on(move || server::serve(listener, server::Config::default()))?;
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
