//! The lecture's queue exercise: producer tasks turn the letters of "alpha" into their
//! ordinals (Python's `ord(c)`, here `c as u32`: `ord('a') == 97`) and put them on a
//! `spindle::queue::Queue`; a single consumer task reads the queue and prints each value.
//!
//! As in Python, the consumer is a daemon that loops forever (`get`, print, `task_done`);
//! the main task joins the producers, then `join`s the queue, which returns once every item
//! put has been marked done, and finishes; the daemon consumer is then cancelled.
//!
//! Each producer takes every third letter, so the order the ordinals arrive in depends on the
//! scheduler; the consumer also collects them, and the example checks that all five came
//! through. Runs on the cooperative runtime (1 worker) and on the preemptive one.
//!
//! Run with `cargo run --release --example queue_ord`.

use std::io;
use std::sync::Arc;

use spindle::queue::Queue;
use spindle::sync::Mutex;
use spindle::{Builder, Runtime};

/// The lecture's `alpha` list.
const ALPHA: &str = "alpha";
/// How many producers share the letters.
const PRODUCERS: usize = 3;

/// Puts the ordinals of its share of the letters on the queue.
fn producer(q: Queue<u32>, first: usize) {
    let me = spindle::current().name().unwrap_or("?").to_string();
    for c in ALPHA.chars().skip(first).step_by(PRODUCERS) {
        println!("{me}: ord({c:?}) -> put {}", c as u32);
        q.put(c as u32);
        spindle::yield_now();
    }
}

/// Runs the producers and the consumer; returns the ordinals in the order consumed.
fn run(rt: &Runtime) -> io::Result<Vec<u32>> {
    rt.block_on(|| {
        let q = Queue::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));

        let consumer = {
            let (q, seen) = (q.clone(), seen.clone());
            move || loop {
                let n = q.get();
                println!("consumer: got {n}");
                seen.lock().push(n);
                q.task_done();
            }
        };
        Builder::new()
            .name("consumer")
            .daemon(true)
            .spawn(consumer)?;

        let producers = (0..PRODUCERS)
            .map(|i| {
                let q = q.clone();
                Builder::new()
                    .name(format!("producer-{i}"))
                    .spawn(move || producer(q, i))
            })
            .collect::<io::Result<Vec<_>>>()?;
        for p in producers {
            p.join()
                .map_err(|_| io::Error::other("producer panicked"))?;
        }
        q.join(); // every ordinal put has been printed and marked done
        let seen = seen.lock().clone();
        Ok(seen)
    })
}

fn try_main() -> io::Result<()> {
    let mut expected: Vec<u32> = ALPHA.chars().map(|c| c as u32).collect();
    expected.sort_unstable();
    let backends = [
        (
            "cooperative runtime, 1 worker",
            Runtime::cooperative().workers(1).build()?,
        ),
        ("preemptive runtime", Runtime::preemptive().build()?),
    ];
    for (name, rt) in &backends {
        println!("== {name} ==");
        let mut got = run(rt)?;
        println!("consumed in this order: {got:?}");
        got.sort_unstable();
        assert_eq!(got, expected, "every ordinal of {ALPHA:?} once");
        println!();
    }
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
