//! An idle worker's spin for work before it sleeps: bounded in time and in how many workers
//! spin at once.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::shared::Remote;
use super::worker::Worker;

/// How long an idle worker of a multi-worker runtime spins for work before it sleeps.
const IDLE_SPIN: Duration = Duration::from_micros(20);

impl Worker {
    /// Before sleeping, spins a few microseconds for work from another thread: a wake-up that
    /// finds the worker spinning costs no system call on either side (with one worker there
    /// is nobody else to produce work, so no spin). At most [`Shared::max_spinners`](super::shared::Shared::max_spinners) spin at
    /// once (half the cores the workers can have), as tokio bounds its searching workers: a
    /// spinner takes a core from the thread producing the work it waits for.
    pub(super) fn spin_for_work(&self) -> bool {
        let remote = &self.shared.workers[self.index];
        // Not with timers or sockets pending: their events arrive only through the poll.
        if self.shared.workers.len() < 2
            || !self.timers.is_empty()
            || remote.io_count.load(Ordering::Relaxed) != 0
        {
            return false;
        }
        let spinners = &self.shared.spinners;
        if spinners.fetch_add(1, Ordering::AcqRel) >= self.shared.max_spinners {
            spinners.fetch_sub(1, Ordering::AcqRel);
            return false;
        }
        let found = self.spin(remote);
        spinners.fetch_sub(1, Ordering::AcqRel);
        found
    }

    fn spin(&self, remote: &Remote) -> bool {
        let start = crate::clock::now();
        loop {
            for _ in 0..64 {
                if !remote.inbox.is_empty() || !self.shared.injector.is_empty() {
                    return true;
                }
                std::hint::spin_loop();
            }
            // Unstarted tasks of another worker to steal (a spinner is why a spawn need not
            // wake a sleeping worker: `Shared::hint_idle_worker`).
            if self.shared.workers.iter().any(|r| !r.fresh.is_empty()) {
                return true;
            }
            if self.shared.shutdown.load(Ordering::Relaxed)
                || self.shared.cancelling.load(Ordering::Relaxed)
            {
                return true;
            }
            if crate::clock::now().duration_since(start) > IDLE_SPIN {
                return false;
            }
        }
    }
}
