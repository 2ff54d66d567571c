//! The cost of waiting: workloads whose tasks mostly wait for one another or for a timer.
//! The lecture's point is that Python threads do fine here (the GIL is released while a thread
//! waits); these measure what a wait, a switch and a task cost on each backend.
//!
//! Each function runs its workload once, inside one `block_on` of the backend's runtime, and
//! times the whole `block_on` (spawns and joins included) unless it says otherwise.

use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::queue::Queue;
use spindle::sync::Event;
use spindle::{channel, spawn, yield_now, Builder, JoinHandle};

use crate::backends::{Engine, Kind, ThreadGuard};
use crate::workloads::{thousands, CellError, Ctx, Measurement, Outcome};

/// Tasks of the spawn + join workload; [`SPAWN_JOIN_OS`] on OS threads.
const SPAWN_JOIN: usize = 10_000;
/// Tasks of the spawn + join workload on OS threads (a thread costs tens of µs).
const SPAWN_JOIN_OS: usize = 1_000;
/// Yields per task of the yield workload.
const YIELDS: u64 = 10_000;
/// Round trips of the ping-pong workload.
const ROUND_TRIPS: u64 = 10_000;
/// Sleepers of the sleepers workload.
const SLEEPERS: usize = 10_000;
/// How long each sleeper sleeps.
const NAP: Duration = Duration::from_millis(10);
/// Items, producers, consumers and slots of the Queue workload.
const ITEMS: u64 = 100_000;
const PRODUCERS: u64 = 4;
const CONSUMERS: u64 = 4;
const SLOTS: usize = 64;

/// A task's panic, in words.
pub fn panic_text(what: &str) -> String {
    format!("{what} panicked: {}", crate::runner::last_panic())
}

/// A task's panic, as a cell error.
pub fn panicked(what: &str) -> CellError {
    CellError::Failed(panic_text(what))
}

/// Joins every handle, reporting the first panic.
fn join_all<T>(handles: Vec<JoinHandle<T>>, what: &str) -> Result<Vec<T>, CellError> {
    let mut out = Vec::with_capacity(handles.len());
    let mut failed = None;
    for h in handles {
        match h.join() {
            Ok(v) => out.push(v),
            Err(_) => failed = failed.or_else(|| Some(panicked(what))),
        }
    }
    failed.map_or(Ok(out), Err)
}

/// A tokio join error, as a cell error.
fn tokio_failed(e: tokio::task::JoinError) -> CellError {
    CellError::Failed(format!("a tokio task failed: {e}"))
}

/// Spawn `n` empty tasks (`ctx.n`, or 10,000; 1,000 on OS threads), then join them all.
pub fn spawn_join(engine: &Engine, ctx: Ctx) -> Outcome {
    let n = ctx.n.unwrap_or(if ctx.kind == Kind::Preemptive {
        SPAWN_JOIN_OS
    } else {
        SPAWN_JOIN
    });
    let start = Instant::now();
    match engine {
        Engine::Spindle(rt) => {
            let mut guard = (!rt.is_cooperative()).then(ThreadGuard::new);
            rt.block_on(move || -> Result<(), CellError> {
                let mut handles = Vec::with_capacity(n);
                let mut failure = None;
                for i in 0..n {
                    if let Some(Err(e)) = guard.as_mut().map(ThreadGuard::check) {
                        failure = Some(e);
                        break;
                    }
                    match Builder::new().spawn(|| ()) {
                        Ok(h) => handles.push(h),
                        Err(e) => {
                            failure = Some(format!(
                                "spawn of task {} failed: {e}",
                                thousands(i as u64 + 1)
                            ));
                            break;
                        }
                    }
                }
                join_all(handles, "an empty task")?;
                failure.map_or(Ok(()), |f| Err(CellError::Failed(f)))
            })?
        }
        Engine::Tokio(rt) => rt.block_on(async move {
            let handles: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
            for h in handles {
                h.await.map_err(tokio_failed)?;
            }
            Ok::<(), CellError>(())
        })?,
        Engine::Python { .. } => return Err(no_python()),
    }
    let m = Measurement::new(start.elapsed(), n as u64);
    Ok(if ctx.n.is_none() && ctx.kind == Kind::Preemptive {
        m.note(format!("N = {}", thousands(n as u64)))
    } else {
        m
    })
}

/// Two tasks, 10,000 yields each.
pub fn yields(engine: &Engine, _ctx: Ctx) -> Outcome {
    let start = Instant::now();
    match engine {
        Engine::Spindle(rt) => rt.block_on(|| {
            let a = spawn(|| (0..YIELDS).for_each(|_| yield_now()));
            let b = spawn(|| (0..YIELDS).for_each(|_| yield_now()));
            join_all(vec![a, b], "a yielding task")
        })?,
        Engine::Tokio(rt) => rt.block_on(async {
            let one = || async {
                for _ in 0..YIELDS {
                    tokio::task::yield_now().await;
                }
            };
            let (a, b) = (tokio::spawn(one()), tokio::spawn(one()));
            a.await.map_err(tokio_failed)?;
            b.await.map_err(tokio_failed)?;
            Ok::<_, CellError>(Vec::new())
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    Ok(Measurement::new(start.elapsed(), 2 * YIELDS))
}

/// A sends 0..10,000 to B over a bounded(1) channel, B sends each back over another.
pub fn ping_pong(engine: &Engine, _ctx: Ctx) -> Outcome {
    let start = Instant::now();
    match engine {
        Engine::Spindle(rt) => rt.block_on(|| {
            let (to_b, from_a) = channel::bounded::<u64>(1);
            let (to_a, from_b) = channel::bounded::<u64>(1);
            let b = spawn(move || {
                for _ in 0..ROUND_TRIPS {
                    let v = from_a.recv().expect("A hung up");
                    to_a.send(v).expect("A hung up");
                }
            });
            let a = spawn(move || {
                for i in 0..ROUND_TRIPS {
                    to_b.send(i).expect("B hung up");
                    assert_eq!(from_b.recv().expect("B hung up"), i);
                }
            });
            join_all(vec![a, b], "a ping-pong task")
        })?,
        Engine::Tokio(rt) => rt.block_on(async {
            let (to_b, mut from_a) = tokio::sync::mpsc::channel::<u64>(1);
            let (to_a, mut from_b) = tokio::sync::mpsc::channel::<u64>(1);
            let b = tokio::spawn(async move {
                for _ in 0..ROUND_TRIPS {
                    let v = from_a.recv().await.expect("A hung up");
                    to_a.send(v).await.expect("A hung up");
                }
            });
            let a = tokio::spawn(async move {
                for i in 0..ROUND_TRIPS {
                    to_b.send(i).await.expect("B hung up");
                    assert_eq!(from_b.recv().await.expect("B hung up"), i);
                }
            });
            a.await.map_err(tokio_failed)?;
            b.await.map_err(tokio_failed)?;
            Ok::<_, CellError>(Vec::new())
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    Ok(Measurement::new(start.elapsed(), ROUND_TRIPS))
}

/// `n` tasks (`ctx.n`, or 10,000) wait at a gate until all are spawned, then each sleeps
/// 10 ms; so all `n` are waiting at once. A spawn that fails opens the gate, joins the tasks
/// already spawned, and reports the OS's error.
pub fn sleepers(engine: &Engine, ctx: Ctx) -> Outcome {
    let n = ctx.n.unwrap_or(SLEEPERS);
    let start = Instant::now();
    match engine {
        Engine::Spindle(rt) => {
            let mut guard = (!rt.is_cooperative()).then(ThreadGuard::new);
            rt.block_on(move || -> Result<(), CellError> {
                let gate = Arc::new(Event::new());
                let mut handles = Vec::with_capacity(n);
                let mut failure = None;
                for i in 0..n {
                    if let Some(Err(e)) = guard.as_mut().map(ThreadGuard::check) {
                        failure = Some(e);
                        break;
                    }
                    let gate = gate.clone();
                    match Builder::new().spawn(move || {
                        gate.wait();
                        spindle::sleep(NAP);
                    }) {
                        Ok(h) => handles.push(h),
                        Err(e) => {
                            failure = Some(format!(
                                "spawn of sleeper {} failed: {e}",
                                thousands(i as u64 + 1)
                            ));
                            break;
                        }
                    }
                }
                gate.set();
                join_all(handles, "a sleeper")?;
                failure.map_or(Ok(()), |f| Err(CellError::Failed(f)))
            })?
        }
        Engine::Tokio(rt) => rt.block_on(async move {
            let (open, gate) = tokio::sync::watch::channel(false);
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    let mut gate = gate.clone();
                    tokio::spawn(async move {
                        // The sender outlives every sleeper: `wait_for` cannot fail.
                        let _ = gate.wait_for(|open| *open).await;
                        tokio::time::sleep(NAP).await;
                    })
                })
                .collect();
            open.send_replace(true);
            for h in handles {
                h.await.map_err(tokio_failed)?;
            }
            Ok::<(), CellError>(())
        })?,
        Engine::Python { .. } => return Err(no_python()),
    }
    Ok(Measurement::new(start.elapsed(), n as u64))
}

/// 4 producers put 0..100,000 into a bounded Queue of 64 slots, 4 consumers take 25,000
/// items each; the sum checks that every item arrived once. On tokio: a bounded `mpsc`
/// channel whose receiver the consumers share behind an async mutex (tokio has no
/// multi-consumer queue).
pub fn queue(engine: &Engine, _ctx: Ctx) -> Outcome {
    let start = Instant::now();
    let sum: u64 = match engine {
        Engine::Spindle(rt) => rt.block_on(|| -> Result<u64, CellError> {
            let q = Queue::bounded(SLOTS);
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let q = q.clone();
                    spawn(move || {
                        (p..ITEMS)
                            .step_by(PRODUCERS as usize)
                            .for_each(|i| q.put(i))
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let q = q.clone();
                    spawn(move || (0..ITEMS / CONSUMERS).map(|_| q.get()).sum::<u64>())
                })
                .collect();
            join_all(producers, "a producer")?;
            Ok(join_all(consumers, "a consumer")?.into_iter().sum())
        })?,
        Engine::Tokio(rt) => rt.block_on(async {
            let (tx, rx) = tokio::sync::mpsc::channel::<u64>(SLOTS);
            let rx = Arc::new(tokio::sync::Mutex::new(rx));
            let producers: Vec<_> = (0..PRODUCERS)
                .map(|p| {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        for i in (p..ITEMS).step_by(PRODUCERS as usize) {
                            tx.send(i).await.expect("the consumers hung up");
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let rx = rx.clone();
                    tokio::spawn(async move {
                        let mut sum = 0;
                        for _ in 0..ITEMS / CONSUMERS {
                            sum += rx.lock().await.recv().await.expect("the producers hung up");
                        }
                        sum
                    })
                })
                .collect();
            for p in producers {
                p.await.map_err(tokio_failed)?;
            }
            let mut sum = 0;
            for c in consumers {
                sum += c.await.map_err(tokio_failed)?;
            }
            Ok::<u64, CellError>(sum)
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    let elapsed = start.elapsed();
    if sum != ITEMS * (ITEMS - 1) / 2 {
        return Err(CellError::Failed(format!(
            "the items sum to {sum}: lost or doubled"
        )));
    }
    Ok(Measurement::new(elapsed, ITEMS))
}

/// The error of a Python cell that reached a Rust workload (the runner sends Python cells to
/// the scripts): a workload with no Python program.
pub fn no_python() -> CellError {
    CellError::NotApplicable("no Python program for it".to_owned())
}
