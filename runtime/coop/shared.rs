//! What the threads of a cooperative runtime share: [`Shared`] (the injector, the live-task
//! count `block_on` waits on, the blocking pool, shutdown flags) and, per worker, the
//! [`Remote`] half that other threads touch (its inbox, the stealing end of its deque, its
//! waker and poll registry, the counters the watchdog and the deadlock detector read); and
//! how to wake a sleeping worker.

use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crossbeam_deque::{Injector, Stealer};
use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

use super::blocking::BlockingPool;
use super::names::Names;
use super::reactor::IoTable;
use crate::task::{Header, TaskRef, TaskSnapshot};

/// What other threads may touch of one worker.
pub(crate) struct Remote {
    /// Started tasks woken by other threads, waiting to rejoin this worker's run queue.
    pub(crate) inbox: SegQueue<TaskRef>,
    /// The stealing end of the worker's deque of unstarted tasks (the worker owns the other
    /// end); idle workers steal half from here.
    pub(crate) fresh: Stealer<TaskRef>,
    /// Wakes the worker out of its `mio::Poll`.
    pub(crate) waker: mio::Waker,
    /// Registers sockets with the worker's poll (from any thread).
    pub(crate) registry: mio::Registry,
    /// The sockets registered with the worker's poll, by token.
    pub(crate) io: IoTable,
    /// How many sockets are registered (the worker polls for I/O while busy only if any).
    pub(crate) io_count: AtomicUsize,
    /// Set by the worker (SeqCst) just before it sleeps; cleared by whoever wakes it. Every
    /// spawn reads it of each other worker (whether one needs waking): on a cache line of its
    /// own, not beside `switches` and `running`, which the worker writes on every resume.
    pub(crate) sleeping: CachePadded<AtomicBool>,
    /// Wakes by [`Shared::wake_to_look`] that counted this worker in [`Shared::spinners`]
    /// and that it has not yet taken back ([`Shared::awake`]).
    pub(crate) counted_wakes: AtomicUsize,
    /// Resumes so far (relaxed; read by the stall watchdog).
    pub(crate) switches: AtomicU64,
    /// Id of the task running now, or 0 (relaxed; read by the stall watchdog).
    pub(crate) running: AtomicU64,
    /// Set while the worker sleeps with no timer pending: only a wake from elsewhere can
    /// end that sleep (read by the deadlock detector).
    pub(crate) forever: AtomicBool,
    /// The deadlock detector's latest request for a list of this worker's parked tasks.
    pub(crate) snapshot_req: AtomicU64,
    /// The answer: the request it answers, and the worker's parked tasks.
    pub(crate) snapshot: Mutex<(u64, Vec<TaskSnapshot>)>,
    /// When the stall watchdog last saw this worker switch (`clock::coarse_millis`; 0: never).
    pub(crate) observed_ms: AtomicU64,
}

/// The runtime state shared by its workers, its handle and every task.
pub(crate) struct Shared {
    pub(crate) workers: Box<[Remote]>,
    /// Unstarted tasks spawned from outside the workers.
    pub(crate) injector: Injector<TaskRef>,
    /// Tasks spawned and not yet finished: all of them in the high 32 bits ([`LIVE_ALL`]),
    /// the non-daemon ones in the low 32 bits ([`LIVE_NONDAEMON`]). One atomic for both, so a
    /// spawn or a finish costs one read-modify-write. On a cache line of its own: every spawn
    /// and every finish writes it, from whichever thread, and nothing read often should miss
    /// because of that (the spinners' reads of `shutdown`, say).
    pub(crate) live: CachePadded<AtomicU64>,
    /// The last snapshot round asked of the workers (by the deadlock detector or a dump).
    pub(crate) snapshot_round: AtomicU64,
    /// Set while `block_on` cancels the daemons left after its last non-daemon task.
    pub(crate) cancelling: AtomicBool,
    /// Set when the `Runtime` is dropped: workers exit.
    pub(crate) shutdown: AtomicBool,
    /// `block_on` sleeps here until a live count it waits on reaches zero.
    pub(crate) quiet_lock: Mutex<()>,
    pub(crate) quiet: Condvar,
    /// Default stack size of tasks.
    pub(crate) stack_size: usize,
    /// The guard below each task's stack (checked: whole pages).
    pub(crate) guard_size: usize,
    /// Threads for `spawn_blocking`.
    pub(crate) blocking: Arc<BlockingPool>,
    /// Names of named live tasks, for the stall watchdog (kept only when it runs).
    pub(crate) names: Names,
    pub(crate) watch_names: bool,
    /// From [`Config::stderr_reports`].
    pub(crate) stderr_reports: bool,
    /// Workers looking for work now: spinning (`Worker::spin_for_work`, at most
    /// `max_spinners` at once), or woken to look and not yet back from their sleep
    /// ([`Shared::wake_to_look`]).
    /// Its own cache line too: idle workers write it, every spawn reads it.
    pub(crate) spinners: CachePadded<AtomicUsize>,
    pub(crate) max_spinners: usize,
}

/// How to build a cooperative runtime.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) workers: usize,
    pub(crate) stack_size: usize,
    pub(crate) guard_size: usize,
    /// Report runs longer than this; `None` turns the watchdog off.
    pub(crate) stall_threshold: Option<Duration>,
    pub(crate) max_blocking_threads: usize,
    /// Warn once when every task has been blocked this long on waits the deadlock detector
    /// cannot prove; `None` turns the warning off.
    pub(crate) stuck_after: Option<Duration>,
    /// Whether stall and stuck reports go to stderr when no `tracing` subscriber is set.
    pub(crate) stderr_reports: bool,
    /// A deterministic runtime with this seed: one worker, run by `block_on` on its caller's
    /// thread under a seeded scheduler and a virtual clock.
    pub(crate) deterministic: Option<u64>,
}

impl Shared {
    /// Wakes worker `w` if it sleeps (call after publishing work for it).
    pub(crate) fn notify(&self, w: usize) {
        fence(Ordering::SeqCst);
        let remote = &self.workers[w];
        if remote.sleeping.load(Ordering::SeqCst) && remote.sleeping.swap(false, Ordering::SeqCst) {
            // A failed wake leaves the worker to its next timer; nothing better can be done.
            let _ = remote.waker.wake();
        }
    }

    /// Wakes one sleeping worker other than `me` so it can steal what `me` just spawned. Only
    /// a hint, so no fence: `me` runs the task itself if nobody comes.
    pub(crate) fn hint_idle_worker(&self, me: usize) {
        // A worker spinning for work (or woken to look) will find the task without another
        // system call on either side.
        if self.spinners.load(Ordering::Relaxed) != 0 {
            return;
        }
        for (i, remote) in self.workers.iter().enumerate() {
            if i != me && remote.sleeping.load(Ordering::Relaxed) && self.wake_to_look(i) {
                return;
            }
        }
    }

    /// Wakes one sleeping worker other than `except`, if any sleeps.
    pub(crate) fn notify_one_except(&self, except: usize) {
        fence(Ordering::SeqCst);
        // A worker spinning for work checks the injector (and, before it sleeps, announces
        // `sleeping` and looks again after a SeqCst fence): it will take the task. So will
        // one woken to look, which is counted as spinning until it is back from its sleep.
        if self.spinners.load(Ordering::SeqCst) != 0 {
            return;
        }
        for (i, remote) in self.workers.iter().enumerate() {
            if i != except && remote.sleeping.load(Ordering::SeqCst) && self.wake_to_look(i) {
                return;
            }
        }
    }

    /// Wakes worker `i` if it sleeps, counting it in `spinners` until it is back from its
    /// sleep ([`Shared::awake`]): the spawns right after then wake no other worker for what
    /// this one is about to take (as tokio counts a woken worker as searching). Without it, a
    /// burst of spawns woke every sleeping worker, a system call on each side per wake:
    /// `ping_pong` of tokio's benchmarks at 4 workers on 2 vCPUs slept and was woken 21
    /// times per round, against 5 at 2 workers.
    ///
    /// Each count is taken back exactly once: by the worker ([`Shared::awake`] takes all its
    /// counts), or here if the claim fails and the worker has not taken it already.
    fn wake_to_look(&self, i: usize) -> bool {
        let remote = &self.workers[i];
        // Counted before the claim, so that the worker can never take a count back before it
        // was added.
        self.spinners.fetch_add(1, Ordering::SeqCst);
        remote.counted_wakes.fetch_add(1, Ordering::SeqCst);
        if remote.sleeping.swap(false, Ordering::SeqCst) {
            let _ = remote.waker.wake();
            return true;
        }
        // Not asleep after all: take our count back, unless the worker already took it.
        let ours = remote
            .counted_wakes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if ours {
            self.spinners.fetch_sub(1, Ordering::SeqCst);
        }
        false
    }

    /// Worker `i` is back from a sleep (or from going to sleep): it stops being announced as
    /// sleeping and takes back the counts of the wakes that counted it as looking for work.
    /// Every way out of a sleep goes through here.
    pub(crate) fn awake(&self, i: usize) {
        self.workers[i].sleeping.store(false, Ordering::SeqCst);
        self.uncount_wakes(i);
    }

    /// Takes back the counts of wakes that counted worker `i` as looking for work. Also
    /// called on every maintenance pass: a wake can count a worker that was not asleep (the
    /// deadlock detector announces a running worker as sleeping, to be sure to wake it), and
    /// its count must not outlast a few ticks there.
    #[inline]
    pub(crate) fn uncount_wakes(&self, i: usize) {
        let remote = &self.workers[i];
        if remote.counted_wakes.load(Ordering::Relaxed) == 0 {
            return;
        }
        let counted = remote.counted_wakes.swap(0, Ordering::SeqCst);
        if counted != 0 {
            self.spinners.fetch_sub(counted, Ordering::SeqCst);
        }
    }

    pub(crate) fn notify_all(&self) {
        fence(Ordering::SeqCst);
        for remote in self.workers.iter() {
            remote.sleeping.store(false, Ordering::SeqCst);
            let _ = remote.waker.wake();
        }
    }

    /// Accounts for a finished (or cancelled) task and tells `block_on` when a count it
    /// waits on reaches zero.
    pub(crate) fn task_finished(&self, header: &Header) {
        if self.watch_names && header.name().is_some() {
            self.names.remove(header.label.id);
        }
        let daemon = header.daemon;
        let delta = live_delta(daemon);
        let now = self.live.fetch_sub(delta, Ordering::AcqRel) - delta;
        let quiet = now & LIVE_ALL == 0 || (!daemon && now & LIVE_NONDAEMON == 0);
        if quiet {
            let _g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
            self.quiet.notify_all();
        }
    }

    /// Blocks the calling (non-worker) thread until the `mask` bits of `live` read zero.
    pub(crate) fn wait_zero(&self, mask: u64) {
        let mut g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        while self.live.load(Ordering::Acquire) & mask != 0 {
            g = self.quiet.wait(g).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Like `wait_zero`, for at most `d`; returns whether the bits read zero.
    pub(crate) fn wait_zero_timeout(&self, mask: u64, d: Duration) -> bool {
        let g = self.quiet_lock.lock().unwrap_or_else(|e| e.into_inner());
        let (_g, _) = self
            .quiet
            .wait_timeout_while(g, d, |_| self.live.load(Ordering::Acquire) & mask != 0)
            .unwrap_or_else(|e| e.into_inner());
        self.live.load(Ordering::Acquire) & mask == 0
    }

    /// Whether nothing can run: every worker sleeps with no timer, no queue holds work, and
    /// no blocking job is pending.
    pub(crate) fn quiescent(&self) -> bool {
        self.workers
            .iter()
            .all(|r| r.forever.load(Ordering::SeqCst) && r.inbox.is_empty() && r.fresh.is_empty())
            && self.injector.is_empty()
            && self.blocking.is_idle()
    }

    pub(crate) fn total_switches(&self) -> u64 {
        self.workers
            .iter()
            .map(|r| r.switches.load(Ordering::SeqCst))
            .sum()
    }
}

/// The high half of [`Shared::live`]: every live task.
pub(crate) const LIVE_ALL: u64 = !0 << 32;
/// The low half of [`Shared::live`]: live non-daemon tasks.
pub(crate) const LIVE_NONDAEMON: u64 = !0 >> 32;

/// What one task adds to [`Shared::live`].
#[inline]
pub(crate) fn live_delta(daemon: bool) -> u64 {
    (1 << 32) | u64::from(!daemon)
}

#[cfg(all(test, not(spindle_loom)))]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::Runtime;

    /// Every count a wake added to `spinners` is taken back: after bursts of spawns from
    /// outside and from tasks, with task dumps in between (which announce running workers
    /// as sleeping), the runtime at rest has no worker counted as looking for work. A count
    /// left behind would keep every later spawn from waking a sleeping worker.
    /// (A leaked count hangs the joins below instead: run bounded, so it fails.)
    #[test]
    fn counted_wakes_are_all_taken_back() {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            bursts();
            let _ = tx.send(());
        });
        // Dropped on timeout: the thread is left behind, the test fails.
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(()) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("hung: a spawn from outside woke no worker")
            }
            Err(e) => panic!("the test body panicked ({e})"),
        }
    }

    fn bursts() {
        let rt = Runtime::cooperative().workers(4).build().unwrap();
        let shared = rt.coop_shared().expect("a cooperative runtime").clone();
        let at_rest = || {
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let sleeping = shared
                    .workers
                    .iter()
                    .all(|r| r.sleeping.load(Ordering::SeqCst));
                let spinners = shared.spinners.load(Ordering::SeqCst);
                let counted: usize = (shared.workers.iter())
                    .map(|r| r.counted_wakes.load(Ordering::SeqCst))
                    .sum();
                if sleeping && spinners == 0 && counted == 0 {
                    return;
                }
                assert!(
                    Instant::now() < deadline,
                    "not at rest: {spinners} counted as looking, {counted} wakes not taken back"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        at_rest();
        for round in 0..50 {
            let hs: Vec<_> = (0..200).map(|i| rt.spawn(move || i)).collect();
            if round % 5 == 0 {
                let _ = rt.dump();
            }
            for (i, h) in hs.into_iter().enumerate() {
                assert_eq!(h.join().unwrap(), i);
            }
            rt.block_on(|| {
                let hs: Vec<_> = (0..200).map(|i| crate::spawn(move || i * 2)).collect();
                for (i, h) in hs.into_iter().enumerate() {
                    assert_eq!(h.join().unwrap(), i * 2);
                }
            });
        }
        at_rest();
    }
}
