//! The cooperative runtime as its `Runtime` handle holds it: starting the workers (and the
//! stall watchdog), `block_on` (run the first task, wait for every non-daemon task, report a
//! deadlock, cancel the daemons left), and shutting down.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_deque::{Injector, Worker as Deque};
use crossbeam_queue::SegQueue;
use crossbeam_utils::CachePadded;

use super::blocking::{self, BlockingPool};
use super::det::Setup;
use super::det_run::DetEnd;
use super::names::Names;
use super::reactor::WAKE_TOKEN;
use super::registry;
use super::report;
use super::shared::{Config, Remote, Shared, LIVE_ALL, LIVE_NONDAEMON};
use super::spawn::spawn;
use super::trace::Trace;
use super::watchdog;
use super::worker::{self, Worker};
use crate::task::{FirstTaskGuard, JoinHandle, SpawnOptions};

/// The cooperative runtime as its `Runtime` handle holds it.
pub(crate) struct Coop {
    shared: Arc<Shared>,
    threads: Vec<thread::JoinHandle<()>>,
    watchdog: Option<thread::JoinHandle<()>>,
    stop_watchdog: Arc<watchdog::Stop>,
    /// `block_on` calls run one after another.
    serial: Mutex<()>,
    /// From [`Config::stuck_after`].
    stuck_after: Option<Duration>,
    /// A deterministic runtime's one worker (run by `block_on` on the caller's thread), and
    /// its seed.
    det: Option<Box<(Mutex<Worker>, u64)>>,
}

impl Coop {
    /// Starts `workers` worker threads.
    pub(crate) fn start(config: Config) -> io::Result<Coop> {
        let workers = config.workers;
        let mut locals = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let poll = mio::Poll::new()?;
            let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
            let fresh = Deque::new_fifo();
            let registry = poll.registry().try_clone()?;
            remotes.push(Remote {
                inbox: SegQueue::new(),
                fresh: fresh.stealer(),
                waker,
                registry,
                io: crate::loom::Lock::new(slab::Slab::new()),
                io_count: AtomicUsize::new(0),
                sleeping: CachePadded::new(AtomicBool::new(false)),
                counted_wakes: AtomicUsize::new(0),
                switches: AtomicU64::new(0),
                running: AtomicU64::new(0),
                forever: AtomicBool::new(false),
                snapshot_req: AtomicU64::new(0),
                snapshot: Mutex::new((0, Vec::new())),
                observed_ms: AtomicU64::new(0),
            });
            locals.push((poll, fresh));
        }
        let shared = Arc::new(Shared {
            workers: remotes.into_boxed_slice(),
            injector: Injector::new(),
            live: CachePadded::new(AtomicU64::new(0)),
            snapshot_round: AtomicU64::new(0),
            cancelling: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            quiet_lock: Mutex::new(()),
            quiet: Condvar::new(),
            stack_size: config.stack_size,
            guard_size: config.guard_size,
            blocking: Arc::new(BlockingPool::new(config.max_blocking_threads)),
            names: Names::default(),
            watch_names: config.stall_threshold.is_some(),
            stderr_reports: config.stderr_reports,
            spinners: CachePadded::new(AtomicUsize::new(0)),
            max_spinners: max_spinners(workers),
        });
        if let Some(seed) = config.deterministic {
            // One worker, no thread of its own, no watchdog (time is virtual), and not in the
            // registry of running runtimes: its schedule may not depend on theirs.
            let (poll, fresh) = locals
                .pop()
                .expect("a deterministic runtime has one worker");
            let worker = Worker::new(0, shared.clone(), poll, fresh, true);
            return Ok(Coop {
                shared,
                threads: Vec::new(),
                watchdog: None,
                stop_watchdog: Arc::new(watchdog::Stop::default()),
                serial: Mutex::new(()),
                stuck_after: config.stuck_after,
                det: Some(Box::new((Mutex::new(worker), seed))),
            });
        }
        registry::register(&shared);
        let mut coop = Coop {
            shared: shared.clone(),
            threads: Vec::with_capacity(workers),
            watchdog: None,
            stop_watchdog: Arc::new(watchdog::Stop::default()),
            serial: Mutex::new(()),
            stuck_after: config.stuck_after,
            det: None,
        };
        for (index, (poll, fresh)) in locals.into_iter().enumerate() {
            let shared = shared.clone();
            let t = thread::Builder::new()
                .name(format!("spindle-worker-{index}"))
                .spawn(move || Worker::new(index, shared, poll, fresh, false).run())?;
            coop.threads.push(t);
        }
        if let Some(threshold) = config.stall_threshold {
            coop.watchdog = Some(watchdog::start(
                shared,
                threshold,
                coop.stop_watchdog.clone(),
            )?);
        }
        Ok(coop)
    }

    /// Whether this is a deterministic runtime.
    pub(crate) fn is_deterministic(&self) -> bool {
        self.det.is_some()
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Runs `f` as the first task and waits for it and every non-daemon task, then cancels
    /// the daemons left and waits for them to unwind.
    #[track_caller]
    pub(crate) fn block_on<F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.refuse_own_threads();
        if let Some(det) = &self.det {
            return match self.block_on_det(Setup::random(det.1), f).0 {
                DetEnd::Value(v) => v,
                DetEnd::Panicked(payload) => std::panic::resume_unwind(payload),
                DetEnd::Deadlock(report) | DetEnd::Aborted(report) => panic!("{report}"),
            };
        }
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let options = SpawnOptions::first_task(self.shared.stack_size);
        let handle = JoinHandle::first_task(spawn(self.shared.clone(), f, options));
        let first = FirstTaskGuard(&handle);
        let mut stuck = StuckWatch::new(self.stuck_after);
        let report = loop {
            if self
                .shared
                .wait_zero_timeout(LIVE_NONDAEMON, Duration::from_millis(200))
            {
                break None;
            }
            if let Some(report) = self.shared.detect_deadlock() {
                break Some(report);
            }
            stuck.check(&self.shared);
        };
        if self.shared.live.load(Ordering::Acquire) != 0 {
            self.shared.cancelling.store(true, Ordering::SeqCst);
            self.shared.notify_all();
            self.shared.wait_zero(LIVE_ALL);
            self.shared.cancelling.store(false, Ordering::SeqCst);
        }
        // Every task has ended (the first one too: run, unwound or cancelled unstarted).
        drop(first);
        if let Some(report) = report {
            // Drop the first task's result here, not wherever its cell is dropped last.
            drop(handle.join());
            panic!("{report}");
        }
        handle.join_or_resume()
    }
}

impl Coop {
    /// Panics if called on a worker of any cooperative runtime or a blocking job of this
    /// one: its own worker would wait for itself (a `Drop` running on a worker), or the
    /// `block_on` in progress would wait for this job to end (`spawn_blocking`).
    #[track_caller]
    fn refuse_own_threads(&self) {
        if worker::current().is_some() || blocking::is_thread_of(&self.shared.blocking) {
            panic!(
                "spindle: Runtime::block_on called on a thread of a cooperative runtime (a \
                 worker, or a spawn_blocking job of this runtime), where it would wait \
                 forever; spawn the work and join it instead"
            );
        }
    }

    /// A deterministic runtime's `block_on` with the scheduler seeded by `setup`: how it
    /// ended, and the schedule it followed.
    ///
    /// # Panics
    ///
    /// If this runtime is not deterministic, or on a thread of a cooperative runtime.
    pub(crate) fn block_on_det<F, T>(&self, setup: Setup, f: F) -> (DetEnd<T>, Trace)
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.refuse_own_threads();
        let (worker, _) = &**self.det.as_ref().expect("a deterministic runtime");
        let _serial = self.serial.lock().unwrap_or_else(|e| e.into_inner());
        let worker = worker.lock().unwrap_or_else(|e| e.into_inner());
        worker.block_on_det(setup, self.stuck_after, f)
    }
}

/// How many idle workers may spin for work at once: half of the cores the workers can use,
/// at least one.
fn max_spinners(workers: usize) -> usize {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    (workers.min(cores) / 2).max(1)
}

impl Drop for Coop {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop_watchdog.stop();
        if let Some(t) = self.watchdog.take() {
            let _ = t.join();
        }
        self.shared.blocking.shutdown();
    }
}

/// The "possibly stuck" warning: when the runtime has been quiet — every worker asleep with
/// no timer, nothing queued, nothing switched — for `after`, on waits the deadlock detector
/// cannot prove (something outside the runtime could still end them), the task dump is
/// printed once, and `block_on` goes on waiting.
struct StuckWatch {
    after: Option<Duration>,
    /// Since when no task has run (the workers' switch count then).
    quiet_since: Option<(Instant, u64)>,
    warned: bool,
}

impl StuckWatch {
    fn new(after: Option<Duration>) -> StuckWatch {
        StuckWatch {
            after,
            quiet_since: None,
            warned: false,
        }
    }

    fn check(&mut self, shared: &Shared) {
        let Some(after) = self.after else { return };
        // Quiet means no task has run since: a worker woken only to answer a snapshot (the
        // deadlock detector asks every round) resumes no task and does not end it.
        let switches = shared.total_switches();
        let since = match self.quiet_since {
            Some((since, seen)) if seen == switches => since,
            _ => {
                self.quiet_since = Some((Instant::now(), switches));
                self.warned = false;
                return;
            }
        };
        // A pending timer or a runnable task is progress to come, not a stuck runtime.
        if self.warned || !shared.quiescent() || since.elapsed() < after {
            return;
        }
        self.warned = true;
        let dump = shared.dump();
        report::warn(
            report::Kind::Stuck,
            shared.stderr_reports,
            &format!(
                "possibly stuck: every task of the runtime has been blocked for {} s on \
                 waits that something outside the runtime could end; still waiting\n{dump}",
                since.elapsed().as_secs()
            ),
        );
    }
}
