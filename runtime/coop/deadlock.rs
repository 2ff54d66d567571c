//! The deadlock detector: when every worker of a runtime sleeps with no timer, no queue holds
//! work and no blocking job is pending, it asks each worker for its parked tasks and, if
//! none of their waits can be ended from outside the runtime, formats the `deadlock:`
//! report that `block_on` panics with (each task, its wait and call site, and any cycle of
//! lock owners and joins).

use std::thread;
use std::time::Duration;

use super::registry;
use super::shared::Shared;
use crate::task::{TaskSnapshot, TaskState};

impl Shared {
    /// The deadlock report, if every task is blocked and nothing — no timer, no I/O, no
    /// thread outside the runtime, no blocking job — can wake any of them.
    pub(crate) fn detect_deadlock(&self) -> Option<String> {
        if !self.quiescent() || registry::another_is_running(self) {
            return None;
        }
        let before = self.total_switches();
        let answers = self.ask_snapshots(Duration::from_millis(500));
        if !answers.silent.is_empty() {
            return None;
        }
        let blocked = answers.tasks;
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
        if blocked
            .iter()
            .any(|b| b.state == TaskState::Runnable || b.site.is_none_or(|s| s.outside))
        {
            return None;
        }
        Some(deadlock_report(&blocked))
    }
}

/// Formats the deadlock report: each blocked task and what it waits on, then any cycle of
/// lock owners and joins.
pub(super) fn deadlock_report(blocked: &[TaskSnapshot]) -> String {
    use std::fmt::Write as _;
    let label = |id: u64| -> String {
        let name = blocked
            .iter()
            .find(|b| b.id == id)
            .and_then(|b| b.name.as_deref());
        crate::task::label(id, name)
    };
    let mut out = String::from(
        "deadlock: every task of the runtime is blocked and nothing can wake any of them:",
    );
    let mut sorted: Vec<&TaskSnapshot> = blocked.iter().collect();
    sorted.sort_by_key(|b| b.id);
    for b in &sorted {
        let site = b.site.expect("checked by the caller");
        let relation = site.owner.map(|owner| {
            let relation = if site.what == "JoinHandle::join" {
                "joining"
            } else {
                "held by"
            };
            format!("({relation} {})", label(owner))
        });
        let _ = write!(out, "\n  {}", b.line(relation.as_deref()));
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
