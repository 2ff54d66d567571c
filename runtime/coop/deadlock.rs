//! The deadlock detector: when every worker of a runtime sleeps with no timer, no queue holds
//! work and no blocking job is pending, it asks each worker for its parked tasks and, if
//! none of their waits can be ended from outside the runtime, formats the `deadlock:`
//! report that `block_on` panics with (each task, its wait and call site, and any cycle of
//! lock owners and joins).

use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use super::shared::{Blocked, Shared};

impl Shared {
    /// The deadlock report, if every task is blocked and nothing — no timer, no I/O, no
    /// thread outside the runtime, no blocking job — can wake any of them.
    pub(crate) fn detect_deadlock(&self, round: u64) -> Option<String> {
        if !self.quiescent() {
            return None;
        }
        let before = self.total_switches();
        // Ask every worker for its parked tasks.
        for (i, r) in self.workers.iter().enumerate() {
            r.snapshot_req.store(round, Ordering::SeqCst);
            r.sleeping.store(true, Ordering::SeqCst);
            self.notify(i);
        }
        let asked = Instant::now();
        let mut blocked = Vec::new();
        for r in self.workers.iter() {
            loop {
                {
                    let snap = r.snapshot.lock().unwrap_or_else(|e| e.into_inner());
                    if snap.0 == round {
                        blocked.extend(snap.1.iter().cloned());
                        break;
                    }
                }
                if asked.elapsed() > Duration::from_millis(500) {
                    return None;
                }
                thread::sleep(Duration::from_millis(1));
            }
        }
        // Still quiet, and nothing ran meanwhile?
        let settled = (0..50).any(|_| {
            let q = self.quiescent();
            if !q {
                thread::sleep(Duration::from_millis(2));
            }
            q
        });
        if !settled || self.total_switches() != before || blocked.is_empty() {
            return None;
        }
        if blocked.iter().any(|b| b.site.is_none_or(|s| s.outside)) {
            return None;
        }
        Some(deadlock_report(&blocked))
    }
}

/// Formats the deadlock report: each blocked task and what it waits on, then any cycle of
/// lock owners and joins.
fn deadlock_report(blocked: &[Blocked]) -> String {
    use std::fmt::Write as _;
    let label = |id: u64| -> String {
        match blocked
            .iter()
            .find(|b| b.id == id)
            .and_then(|b| b.name.as_deref())
        {
            Some(name) => format!("task '{name}' (#{id})"),
            None => format!("task #{id}"),
        }
    };
    let mut out = String::from(
        "deadlock: every task of the runtime is blocked and nothing can wake any of them:",
    );
    let mut sorted: Vec<&Blocked> = blocked.iter().collect();
    sorted.sort_by_key(|b| b.id);
    for b in &sorted {
        let site = b.site.expect("checked by the caller");
        let _ = write!(
            out,
            "\n  {} waits in {} at {}",
            label(b.id),
            site.what,
            site.location
        );
        if let Some(owner) = site.owner {
            let relation = if site.what == "JoinHandle::join" {
                "joining"
            } else {
                "held by"
            };
            let _ = write!(out, " ({relation} {})", label(owner));
        }
    }
    // Cycles: follow "waits for" edges (lock owners, joined tasks) from each task.
    let next = |id: u64| -> Option<u64> { blocked.iter().find(|b| b.id == id)?.site?.owner };
    let mut reported: Vec<Vec<u64>> = Vec::new();
    for b in &sorted {
        let mut path = vec![b.id];
        let mut cur = b.id;
        while let Some(n) = next(cur) {
            if let Some(pos) = path.iter().position(|&p| p == n) {
                let mut cycle = path[pos..].to_vec();
                let min = cycle
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, v)| **v)
                    .map(|(i, _)| i)
                    .unwrap_or(0);
                cycle.rotate_left(min);
                if !reported.contains(&cycle) {
                    let names: Vec<String> = cycle
                        .iter()
                        .chain(cycle.first())
                        .map(|&id| label(id))
                        .collect();
                    let _ = write!(out, "\n  cycle: {}", names.join(" -> "));
                    reported.push(cycle);
                }
                break;
            }
            path.push(n);
            cur = n;
        }
    }
    out
}
