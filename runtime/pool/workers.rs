//! A pool's shared state and its workers: what the [`Pool`](crate::Pool) handle and its
//! worker tasks share under one lock, the worker loop, and how the workers are started and
//! counted out.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use super::result::Job;
use crate::sync::{Condvar, Mutex};
use crate::Builder;

/// Where a pool is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    /// Takes new work.
    Running,
    /// `close()`d: the workers finish the queued work, then end.
    Closed,
    /// `terminate()`d (or dropped): the queued work was dropped; the workers end after
    /// their current job.
    Terminated,
}

/// Everything under the pool's lock.
pub(super) struct State {
    /// Jobs not yet taken by a worker.
    pub(super) jobs: VecDeque<Job>,
    pub(super) phase: Phase,
    /// Workers started and not yet ended. Once it reaches 0 no job can run again: new jobs
    /// are dropped at once (they report `Terminated`).
    pub(super) alive: usize,
    /// Workers the pool was made with.
    pub(super) workers: usize,
}

/// What the pool's handle and its workers share.
pub(super) struct Shared {
    pub(super) state: Mutex<State>,
    /// Idle workers wait here for a job, `close` or `terminate`.
    pub(super) work: Condvar,
    /// `join` waits here for the last worker to end.
    pub(super) ended: Condvar,
}

impl Shared {
    /// A running pool of `workers` workers, none started yet.
    pub(super) fn new(workers: usize) -> Shared {
        Shared {
            state: Mutex::new(State {
                jobs: VecDeque::new(),
                phase: Phase::Running,
                alive: 0,
                workers,
            }),
            work: Condvar::new(),
            ended: Condvar::new(),
        }
    }
}

/// Starts the pool's workers as daemon tasks on the runtime of the calling task, named
/// `pool-worker-1`, `pool-worker-2`, ...; stops at the first that cannot be started, and
/// returns its error (the workers already started end when the pool is terminated).
#[track_caller]
pub(super) fn spawn_workers(shared: &Arc<Shared>, workers: usize) -> io::Result<()> {
    for i in 1..=workers {
        // Counted in now, out by `Ended`'s drop: when the worker ends, or when its task
        // is dropped unrun (not spawned, or cancelled before it started).
        shared.state.lock().alive += 1;
        let ended = Ended(shared.clone());
        Builder::new()
            .name(format!("pool-worker-{i}"))
            .daemon(true)
            .spawn(move || work(ended))?;
    }
    Ok(())
}

/// A worker: takes jobs until the pool is closed and drained, or terminated.
fn work(ended: Ended) {
    let shared = &*ended.0;
    loop {
        let job = {
            let mut st = shared.state.lock();
            loop {
                if st.phase == Phase::Terminated {
                    return;
                }
                if let Some(job) = st.jobs.pop_front() {
                    break job;
                }
                if st.phase == Phase::Closed {
                    return;
                }
                st = shared.work.wait(st);
            }
        };
        job();
    }
}

/// Counts a worker out when it ends, by returning or by unwinding (cancelled at shutdown),
/// or when its task is dropped unrun. The last one out wakes `join`, and drops the jobs
/// nobody is left to run.
struct Ended(Arc<Shared>);

impl Drop for Ended {
    fn drop(&mut self) {
        let orphans = {
            let mut st = self.0.state.lock();
            st.alive -= 1;
            if st.alive > 0 {
                return;
            }
            std::mem::take(&mut st.jobs)
        };
        self.0.ended.notify_all();
        drop(orphans);
    }
}
