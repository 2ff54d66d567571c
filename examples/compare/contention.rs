//! Contention: the lecture's race condition, solved with a lock. 100 tasks add 1 to one
//! shared counter 200 times each, every addition under the lock (`spindle::sync::Mutex` on
//! both spindle backends, `tokio::sync::Mutex` on tokio, `threading.Lock` in Python); the
//! total is checked.
//!
//! On one worker a green thread never gives up the CPU between two increments, so nobody
//! else ever holds the lock: no contention at all, only the lock's own cost. With a worker
//! per core the tasks really run at once and meet at the lock; on OS threads every hand-over
//! of a contended lock is a sleep and a wake-up in the kernel.

use std::sync::Arc;
use std::time::Instant;

use spindle::sync::Mutex;
use spindle::Builder;

use crate::backends::Engine;
use crate::waiting::{no_python, panicked};
use crate::workloads::{CellError, Ctx, Measurement, Outcome};

/// Tasks, and increments per task.
pub const TASKS: u64 = 100;
pub const EACH: u64 = 200;

/// The shared counter.
pub fn mutex_counter(engine: &Engine, _ctx: Ctx) -> Outcome {
    let start = Instant::now();
    let total = match engine {
        Engine::Spindle(rt) => rt.block_on(|| -> Result<u64, CellError> {
            let counter = Arc::new(Mutex::new(0u64));
            let mut tasks = Vec::new();
            for _ in 0..TASKS {
                let counter = counter.clone();
                tasks.push(Builder::new().spawn(move || {
                    for _ in 0..EACH {
                        *counter.lock() += 1;
                    }
                })?);
            }
            for t in tasks {
                t.join().map_err(|_| panicked("an incrementing task"))?;
            }
            let total = *counter.lock();
            Ok(total)
        })?,
        Engine::Tokio(rt) => rt.block_on(async {
            let counter = Arc::new(tokio::sync::Mutex::new(0u64));
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let counter = counter.clone();
                    tokio::spawn(async move {
                        for _ in 0..EACH {
                            *counter.lock().await += 1;
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await
                    .map_err(|e| CellError::Failed(format!("an incrementing task: {e}")))?;
            }
            let total = *counter.lock().await;
            Ok::<u64, CellError>(total)
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    let elapsed = start.elapsed();
    if total != TASKS * EACH {
        return Err(CellError::Failed(format!(
            "the counter reads {total}, not {}: a lost update",
            TASKS * EACH
        )));
    }
    Ok(Measurement::new(elapsed, TASKS * EACH))
}
