//! The lecture's `multiprocessing.Pipe()` for two-way communication, between two tasks:
//! `spindle::channel::pipe()` returns two connected ends, and what one end sends the other
//! receives.
//!
//! The parent task sends "ping <n>" and the child answers "pong <n>", for a few rounds; then
//! the child returns, dropping its end, and the parent sees the disconnection: `recv` gives
//! `Err(RecvError)`, and (once the child task has finished) `send` hands the message back in
//! a `SendError`. The same code runs on
//! the cooperative runtime (1 worker) and on the preemptive one.
//!
//! Run with `cargo run --release --example pipe`.

use std::io;

use spindle::channel::{pipe, Conn};
use spindle::{Builder, JoinHandle, Runtime};

/// Ping/pong rounds before the child hangs up.
const ROUNDS: u32 = 3;

/// Answers `ROUNDS` pings, then returns, dropping its end.
fn child(conn: Conn<String>) {
    for _ in 0..ROUNDS {
        let msg = conn.recv().expect("the parent hung up early");
        println!("  child  got {msg:?}");
        let reply = msg.replace("ping", "pong");
        conn.send(reply).expect("the parent hung up early");
    }
    println!("  child  hangs up");
}

/// Plays the parent's side; returns an error if the pipe misbehaves.
fn parent(conn: Conn<String>, child: JoinHandle<()>) -> io::Result<()> {
    for n in 1..=ROUNDS {
        conn.send(format!("ping {n}"))
            .map_err(|_| io::Error::other("child hung up early"))?;
        let reply = conn
            .recv()
            .map_err(|_| io::Error::other("child hung up early"))?;
        println!("  parent got {reply:?}");
    }
    match conn.recv() {
        Err(e) => println!("  parent: recv after the child hung up: Err({e})"),
        Ok(m) => return Err(io::Error::other(format!("unexpected message {m:?}"))),
    }
    // `recv` fails as soon as the child's sending half is gone; join the child so that its
    // whole end, receiving half included, is dropped before we try to send.
    child
        .join()
        .map_err(|_| io::Error::other("child panicked"))?;
    match conn.send("anyone there?".to_string()) {
        Err(e) => {
            println!("  parent: send after the child hung up: Err({e})");
            println!("  parent: message handed back: {:?}", e.into_inner());
        }
        Ok(()) => return Err(io::Error::other("send to a dropped end succeeded")),
    }
    Ok(())
}

fn run(rt: &Runtime) -> io::Result<()> {
    rt.block_on(|| {
        let (parent_conn, child_conn) = pipe();
        let c = Builder::new()
            .name("child")
            .spawn(move || child(child_conn))?;
        let p = Builder::new()
            .name("parent")
            .spawn(move || parent(parent_conn, c))?;
        p.join().map_err(|_| io::Error::other("parent panicked"))?
    })
}

fn try_main() -> io::Result<()> {
    println!("== cooperative runtime, 1 worker ==");
    run(&Runtime::cooperative().workers(1).build()?)?;
    println!("\n== preemptive runtime ==");
    run(&Runtime::preemptive().build()?)?;
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
