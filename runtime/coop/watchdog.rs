//! The stall watchdog: a thread that notices a green thread running too long without
//! yielding — which stalls every other task on its worker — and reports it through the
//! `tracing` facade (target `spindle::stall`) or, with no subscriber installed, on stderr
//! (`report.rs`). It also notes when it last saw each worker switch, for the task dump.
//!
//! Each worker bumps a switch counter and publishes the running task's id around every
//! resume (relaxed stores, no fences); the watchdog samples them a few times per threshold.
//! A worker whose counter has not moved while a task runs has been stuck in that one run.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::report;
use super::shared::Shared;
use crate::task::{TaskSnapshot, TaskState};

/// Tells the watchdog thread to stop.
#[derive(Default)]
pub(crate) struct Stop {
    stopped: Mutex<bool>,
    cv: Condvar,
}

impl Stop {
    pub(crate) fn stop(&self) {
        *self.stopped.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Waits up to `d`; returns whether the watchdog should stop.
    fn wait(&self, d: Duration) -> bool {
        let g = self.stopped.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self
            .cv
            .wait_timeout_while(g, d, |stopped| !*stopped)
            .unwrap_or_else(|e| e.into_inner());
        *g
    }
}

/// What the watchdog last saw of one worker.
#[derive(Clone, Copy)]
struct Seen {
    switches: u64,
    since: Instant,
    reported: bool,
}

/// Starts the watchdog thread for `shared`, reporting runs longer than `threshold`.
pub(crate) fn start(
    shared: Arc<Shared>,
    threshold: Duration,
    stop: Arc<Stop>,
) -> std::io::Result<thread::JoinHandle<()>> {
    let period = (threshold / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));
    thread::Builder::new()
        .name("spindle-watchdog".into())
        .spawn(move || {
            let now = Instant::now();
            let mut seen: Vec<Seen> = shared
                .workers
                .iter()
                .map(|r| Seen {
                    switches: r.switches.load(Ordering::Relaxed),
                    since: now,
                    reported: false,
                })
                .collect();
            while !stop.wait(period) {
                let now = Instant::now();
                for (i, (remote, seen)) in shared.workers.iter().zip(seen.iter_mut()).enumerate() {
                    let switches = remote.switches.load(Ordering::Relaxed);
                    let running = remote.running.load(Ordering::Relaxed);
                    if running == 0 || switches != seen.switches {
                        *seen = Seen {
                            switches,
                            since: now,
                            reported: false,
                        };
                        let ms = u64::from(crate::clock::coarse_millis()).max(1);
                        remote.observed_ms.store(ms, Ordering::Relaxed);
                        continue;
                    }
                    let stuck = now - seen.since;
                    if !seen.reported && stuck >= threshold {
                        seen.reported = true;
                        let name = shared.names.get(running);
                        let shown = name.as_deref().unwrap_or("<unnamed>");
                        let line = TaskSnapshot::new(
                            running,
                            name.as_deref().map(String::from),
                            TaskState::Running,
                            None,
                            stuck,
                        )
                        .line(None);
                        let message = format!(
                            "{line} without yielding, stalling worker {i}; yield_now() in long \
                             loops, or move blocking work to spawn_blocking"
                        );
                        if tracing::dispatcher::has_been_set() {
                            tracing::warn!(
                                target: "spindle::stall",
                                task_id = running,
                                task_name = shown,
                                worker = i,
                                ms = stuck.as_millis() as u64,
                                "{message}"
                            );
                        } else {
                            report::warn(report::Kind::Stall, shared.stderr_reports, &message);
                        }
                    }
                }
            }
        })
}
