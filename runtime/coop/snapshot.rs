//! Pictures of a runtime's tasks: each worker lists its started tasks when asked (between
//! two tasks, or before it sleeps), and [`Shared::dump`] puts the lists together — what
//! `Runtime::dump`, the deadlock report and the "possibly stuck" warning show.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use super::shared::{Shared, LIVE_ALL};
use crate::task::{TaskDump, TaskRef, TaskSnapshot, TaskState};

/// What the workers answered: their tasks, and the workers that did not answer in time.
pub(crate) struct Answers {
    pub(crate) tasks: Vec<TaskSnapshot>,
    pub(crate) silent: Vec<usize>,
}

impl Shared {
    /// Asks every worker for a list of its started tasks and waits up to `patience` for the
    /// answers. A busy worker answers between two tasks; one running a task that does not
    /// yield cannot, and is named in `silent`.
    pub(crate) fn ask_snapshots(&self, patience: Duration) -> Answers {
        let round = self.snapshot_round.fetch_add(1, Ordering::SeqCst) + 1;
        for (i, r) in self.workers.iter().enumerate() {
            r.snapshot_req.store(round, Ordering::SeqCst);
            // Make `notify` wake it even if it is about to sleep, so it answers now.
            r.sleeping.store(true, Ordering::SeqCst);
            self.notify(i);
        }
        let asked = Instant::now();
        let mut tasks = Vec::new();
        let mut silent = Vec::new();
        for (i, r) in self.workers.iter().enumerate() {
            loop {
                {
                    let snap = r.snapshot.lock().unwrap_or_else(|e| e.into_inner());
                    // A later round (another asker's) is as fresh as ours.
                    if snap.0 >= round {
                        tasks.extend(snap.1.iter().cloned());
                        break;
                    }
                }
                if asked.elapsed() > patience {
                    silent.push(i);
                    break;
                }
                thread::sleep(Duration::from_millis(1));
            }
        }
        Answers { tasks, silent }
    }

    /// Every live task of the runtime, as `Runtime::dump` returns it.
    pub(crate) fn dump(&self) -> TaskDump {
        let Answers { mut tasks, silent } = self.ask_snapshots(Duration::from_millis(250));
        let now = crate::clock::coarse_millis();
        // A silent worker is running one task: list that one.
        for &w in &silent {
            let remote = &self.workers[w];
            let id = remote.running.load(Ordering::Relaxed);
            if id == 0 {
                continue;
            }
            let seen = remote.observed_ms.load(Ordering::Relaxed);
            let since = if seen == 0 {
                Duration::ZERO
            } else {
                Duration::from_millis(u64::from(now.wrapping_sub(seen as u32)))
            };
            let name = self.names.get(id).map(String::from);
            tasks.push(TaskSnapshot::new(id, name, TaskState::Running, None, since));
        }
        let live = ((self.live.load(Ordering::Acquire) & LIVE_ALL) >> 32) as usize;
        let unlisted = live.saturating_sub(tasks.len());
        TaskDump::new(tasks, unlisted, silent)
    }
}

/// A started task as a dump shows it: parked (in a state its wait names) or runnable.
pub(super) fn snapshot(t: &TaskRef, now_ms: u32) -> TaskSnapshot {
    let sched = &t.header.sched;
    let name = t.header.name().map(String::from);
    if !sched.state.is_parked() {
        return TaskSnapshot::new(
            t.header.label.id,
            name,
            TaskState::Runnable,
            None,
            Duration::ZERO,
        );
    }
    // SAFETY: the task is parked, in the wait that recorded its site (every wait clears its
    // site before it returns or unwinds), and only this worker could resume it.
    let site = sched.wait_site.get().map(|s| unsafe { s.resolved() });
    let state = match site.map(|s| s.what) {
        Some("sleep") => TaskState::Sleeping,
        Some("spawn_blocking") => TaskState::Blocking,
        _ => TaskState::Parked,
    };
    let since = site.map_or(0, |s| now_ms.wrapping_sub(s.since_ms));
    let since = Duration::from_millis(u64::from(since));
    TaskSnapshot::new(t.header.label.id, name, state, site, since)
}
