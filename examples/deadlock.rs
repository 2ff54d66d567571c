//! The lecture's deadlock: "two or more competing actions are each waiting for the other to
//! finish, and thus neither ever does". Two tasks take two `spindle::sync::Mutex`es in
//! opposite order, sleeping between the first lock and the second, so each ends up holding
//! one lock and waiting for the other.
//!
//! On the cooperative runtime every task is then blocked and nothing (no timer, no I/O, no
//! thread outside the runtime) can wake any, so `block_on` panics with a report that begins
//! `deadlock:` and names each blocked task and what it waits on. The example catches that
//! panic with `catch_unwind` and prints the report. `block_on` runs on a helper thread and
//! the main thread waits at most 5 seconds for it: if no report arrives (a runtime without
//! the deadlock detector would hang for ever), the example says so and exits with status 1.
//!
//! Then the fix: both tasks take the locks in the same order, and the program finishes.
//!
//! Run with `cargo run --release --example deadlock`.

use std::any::Any;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use spindle::sync::Mutex;
use spindle::{Builder, Runtime};

/// How long each task holds its first lock before taking the second.
const PAUSE: Duration = Duration::from_millis(50);

/// Takes `first`, sleeps, takes `second`, and reports.
fn take_both(first: (&str, &Mutex<()>), second: (&str, &Mutex<()>)) {
    let me = spindle::current().name().unwrap_or("?").to_string();
    let _a = first.1.lock();
    println!("{me}: holds {}, wants {}", first.0, second.0);
    spindle::sleep(PAUSE);
    let _b = second.1.lock();
    println!("{me}: holds {} and {}", first.0, second.0);
}

/// Two tasks take locks `a` and `b`: task-1 in the order a, b; task-2 in the order b, a if
/// `opposite`, else a, b too.
fn two_tasks(opposite: bool) {
    // Made inside the runtime, so the detector knows no outside thread can release them.
    let a = Arc::new(Mutex::new(()));
    let b = Arc::new(Mutex::new(()));
    let t1 = {
        let (a, b) = (a.clone(), b.clone());
        Builder::new()
            .name("task-1")
            .spawn(move || take_both(("a", &a), ("b", &b)))
            .expect("cannot spawn task-1")
    };
    let t2 = Builder::new()
        .name("task-2")
        .spawn(move || {
            if opposite {
                take_both(("b", &b), ("a", &a));
            } else {
                take_both(("a", &a), ("b", &b));
            }
        })
        .expect("cannot spawn task-2");
    t1.join().expect("task-1 panicked");
    t2.join().expect("task-2 panicked");
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

fn try_main() -> io::Result<()> {
    println!("== locks taken in opposite order (cooperative runtime, 1 worker) ==");
    // The report is printed below; keep the default hook from printing it a second time.
    let default_hook = Arc::new(panic::take_hook());
    {
        let default_hook = default_hook.clone();
        panic::set_hook(Box::new(move |info| {
            if !panic_message(info.payload()).starts_with("deadlock:") {
                default_hook(info);
            }
        }));
    }

    // The runtime moves to the helper thread: if it hangs, main still goes on.
    let rt = Runtime::cooperative().workers(1).build()?;
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name("block_on".into())
        .spawn(move || {
            let outcome = panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(|| two_tasks(true))));
            let _ = tx.send(outcome.map_err(|p| panic_message(&*p)));
        })?;
    match rx.recv_timeout(Duration::from_secs(5)) {
        Ok(Err(report)) => println!("block_on panicked:\n{report}"),
        Ok(Ok(())) => println!("unexpected: the tasks finished"),
        Err(_) => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "no deadlock report within 5 s: the detector missed this deadlock",
            ));
        }
    }

    println!("\n== the fix: both tasks take a, then b ==");
    let rt = Runtime::cooperative().workers(1).build()?;
    rt.block_on(|| two_tasks(false));
    println!("both tasks finished");
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
