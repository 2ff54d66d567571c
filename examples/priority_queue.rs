//! The lecture's `PriorityQueue` pattern: put entries of the form `(priority_number, data)`
//! and the lowest-valued entry comes out first (tuples compare by their first field, then
//! the next).
//!
//! Three client tasks put jobs with priorities on a `spindle::queue::PriorityQueue`. Once
//! they have all finished, the main task puts a stop entry with the largest priority and
//! starts one worker, which takes the jobs smallest priority first and prints them until it
//! reaches the stop entry. The order the jobs were put in depends on the scheduler; the
//! order they are taken in does not. Runs on the cooperative runtime (1 worker) and on the
//! preemptive one.
//!
//! Run with `cargo run --release --example priority_queue`.

use std::io;

use spindle::queue::PriorityQueue;
use spindle::{Builder, Runtime};

/// An entry: `(priority, data)`, smallest priority first.
type Job = (u32, String);

/// The jobs each client puts.
const CLIENTS: [(&str, &[(u32, &str)]); 3] = [
    ("alice", &[(3, "write report"), (1, "fix outage")]),
    ("bob", &[(5, "tidy desk"), (2, "review patch")]),
    ("carol", &[(4, "update docs"), (1, "restart server")]),
];
/// The stop entry's priority: larger than any job's.
const STOP: u32 = u32::MAX;

/// Puts the jobs and runs the worker; returns the priorities in the order taken.
fn run(rt: &Runtime) -> io::Result<Vec<u32>> {
    rt.block_on(|| {
        let q: PriorityQueue<Job> = PriorityQueue::unbounded();
        let clients = CLIENTS
            .iter()
            .map(|&(name, jobs)| {
                let q = q.clone();
                Builder::new().name(name).spawn(move || {
                    for &(priority, what) in jobs {
                        println!("{name} puts ({priority}, {what:?})");
                        q.put((priority, format!("{what} (from {name})")));
                        spindle::yield_now();
                    }
                })
            })
            .collect::<io::Result<Vec<_>>>()?;
        for c in clients {
            c.join().map_err(|_| io::Error::other("client panicked"))?;
        }
        q.put((STOP, "stop".into()));

        let worker = Builder::new().name("worker").spawn(move || {
            let mut order = Vec::new();
            loop {
                let (priority, what) = q.get();
                if priority == STOP {
                    break order;
                }
                println!("worker takes ({priority}, {what:?})");
                order.push(priority);
            }
        })?;
        worker
            .join()
            .map_err(|_| io::Error::other("worker panicked"))
    })
}

fn try_main() -> io::Result<()> {
    let backends = [
        (
            "cooperative runtime, 1 worker",
            Runtime::cooperative().workers(1).build()?,
        ),
        ("preemptive runtime", Runtime::preemptive().build()?),
    ];
    for (name, rt) in &backends {
        println!("== {name} ==");
        let order = run(rt)?;
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "smallest first");
        println!("priorities taken: {order:?}\n");
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
