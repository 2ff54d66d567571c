//! The public runtime API, one face over two backends: [`Runtime`] and its builder (the
//! task-level API — `Builder`, `spawn`, `sleep`, `current` — is `builder.rs`'s).

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::context;
use crate::dump_signal::DumpOnSignal;
use crate::stack::{checked_guard, checked_size, DEFAULT_GUARD_SIZE, DEFAULT_STACK_SIZE};
use crate::task::TaskDump;
use crate::{coop, preempt};

/// A pointer that may cross into the first task of `block_on` (see there).
struct SendPtr<T>(*mut Option<T>);

// SAFETY: the pointee is written once, by the first task, while `block_on` waits and does
// not touch it; `T: Send` lets the value cross threads.
unsafe impl<T: Send> Send for SendPtr<T> {}

/// The most worker threads a cooperative runtime may have.
const MAX_WORKERS: usize = 1024;

/// A spindle runtime: green threads on worker OS threads ([`Runtime::cooperative`]) or one OS
/// thread per task ([`Runtime::preemptive`]), behind the same API.
///
/// A `Runtime` is `Send + Sync` and can run [`block_on`](Runtime::block_on) any number of
/// times; concurrent calls run one after another. Dropping it stops and joins its workers.
///
/// # Examples
///
/// ```
/// use spindle::{Runtime, spawn, yield_now};
///
/// let coop = Runtime::cooperative().workers(2).build()?;   // green threads on 2 OS threads
/// let pre  = Runtime::preemptive().build()?;               // every task is an OS thread
/// for rt in [&coop, &pre] {
///     let sum: u64 = rt.block_on(|| {
///         let hs: Vec<_> = (0..8u64).map(|i| spawn(move || { yield_now(); i })).collect();
///         hs.into_iter().map(|h| h.join().unwrap()).sum()
///     });
///     assert_eq!(sum, 28);
/// }
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Runtime {
    /// Declared first, so dropped before the workers stop.
    _dump_signal: Option<DumpOnSignal>,
    inner: Inner,
}

enum Inner {
    Coop(coop::Coop),
    Preempt(preempt::Preempt),
}

impl Runtime {
    /// The cooperative runtime's shared state, for the crate's own tests.
    #[cfg(test)]
    pub(crate) fn coop_shared(&self) -> Option<&std::sync::Arc<crate::coop::Shared>> {
        match &self.inner {
            Inner::Coop(c) => Some(c.shared()),
            Inner::Preempt(_) => None,
        }
    }
}

/// Which backend a [`RuntimeBuilder`] builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cooperative,
    Preemptive,
}

/// Configures a [`Runtime`]; from [`Runtime::cooperative`] or [`Runtime::preemptive`].
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).stack_size(256 * 1024).build().unwrap();
/// assert_eq!(rt.workers(), 1);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a builder does nothing until .build()"]
pub struct RuntimeBuilder {
    kind: Kind,
    workers: Option<usize>,
    stack_size: usize,
    guard_size: usize,
    stall_threshold: Duration,
    max_blocking_threads: usize,
    stuck_after: Duration,
    stderr_reports: bool,
    deterministic: Option<u64>,
}

/// The default of [`RuntimeBuilder::stuck_warning`].
const DEFAULT_STUCK_AFTER: Duration = Duration::from_secs(10);

/// The default of [`RuntimeBuilder::stall_threshold`].
const DEFAULT_STALL_THRESHOLD: Duration = Duration::from_millis(100);
/// The default of [`RuntimeBuilder::max_blocking_threads`].
const DEFAULT_MAX_BLOCKING_THREADS: usize = 512;

impl Runtime {
    /// A builder for the cooperative runtime: green threads over `workers` OS threads
    /// (default: the machine's available parallelism).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// assert!(rt.is_cooperative());
    /// ```
    pub fn cooperative() -> RuntimeBuilder {
        RuntimeBuilder {
            kind: Kind::Cooperative,
            workers: None,
            stack_size: DEFAULT_STACK_SIZE,
            guard_size: DEFAULT_GUARD_SIZE,
            stall_threshold: DEFAULT_STALL_THRESHOLD,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            stuck_after: DEFAULT_STUCK_AFTER,
            stderr_reports: true,
            deterministic: None,
        }
    }

    /// A builder for a deterministic cooperative runtime: one worker, which `block_on` runs on
    /// the calling thread; at every scheduling point (a spawn, a yield, a park, a wake, a
    /// timer, and before every operation on a spindle primitive: a lock, a send, a notify) the
    /// next task is chosen by a generator seeded with `seed`. Time is virtual: [`sleep`],
    /// every timeout and [`now`](crate::now) follow a clock that jumps to the next timer only
    /// when every task is blocked, so an hour of sleeps takes milliseconds. The same seed and
    /// the same program give the same schedule and the same output, run after run; each
    /// `block_on` starts again from `seed`.
    ///
    /// Work outside the runtime is allowed but not reproducible: a `spawn_blocking` job is
    /// awaited in real time before the clock moves; sockets are polled for readiness
    /// without waiting whenever no task can run; a task woken by a plain thread, a blocking
    /// job or a socket is named in the [`Trace`](crate::check::Trace) as woken from outside. When every task is
    /// blocked with no timer and nothing outside pending for 50 ms of real time, `block_on`
    /// panics with the `deadlock:` report (no detector thread, no 200 ms rounds). To search
    /// many seeds for a failing schedule, see [`check`](crate::check).
    ///
    /// [`sleep`]: crate::sleep
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::{Runtime, spawn, sleep, now};
    ///
    /// let rt = Runtime::deterministic(42).build()?;
    /// let order = |rt: &Runtime| rt.block_on(|| {
    ///     let start = now();
    ///     let hs: Vec<_> = (0..3).map(|i| spawn(move || { sleep(Duration::from_secs(3600)); i })).collect();
    ///     let order: Vec<i32> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    ///     assert_eq!(now() - start, Duration::from_secs(3600)); // virtual: no real hour passes
    ///     order
    /// });
    /// assert_eq!(order(&rt), order(&rt));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deterministic(seed: u64) -> RuntimeBuilder {
        RuntimeBuilder {
            workers: Some(1),
            stall_threshold: Duration::ZERO,
            deterministic: Some(seed),
            ..Runtime::cooperative()
        }
    }

    /// A builder for the preemptive runtime: every task is an OS thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::preemptive().build().unwrap();
    /// assert!(!rt.is_cooperative());
    /// ```
    pub fn preemptive() -> RuntimeBuilder {
        RuntimeBuilder {
            kind: Kind::Preemptive,
            workers: None,
            stack_size: DEFAULT_STACK_SIZE,
            guard_size: DEFAULT_GUARD_SIZE,
            stall_threshold: DEFAULT_STALL_THRESHOLD,
            max_blocking_threads: DEFAULT_MAX_BLOCKING_THREADS,
            stuck_after: DEFAULT_STUCK_AFTER,
            stderr_reports: true,
            deterministic: None,
        }
    }

    /// A deterministic runtime's `block_on` under `setup`: how it ended and its schedule.
    /// `None` if this runtime is not deterministic.
    pub(crate) fn block_on_det<F, T>(
        &self,
        setup: coop::Setup,
        f: F,
    ) -> Option<(coop::DetEnd<T>, coop::Trace)>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        match &self.inner {
            Inner::Coop(c) if c.is_deterministic() => Some(c.block_on_det(setup, f)),
            _ => None,
        }
    }

    /// Runs `f` as the runtime's first task (named `main`) and returns its value once `f` and
    /// every non-daemon task have finished. Daemon tasks still running then are cancelled:
    /// on the cooperative runtime their stacks are unwound (destructors run, and their
    /// `join` gives `Err` with [`Cancelled`](crate::Cancelled)); on the preemptive runtime
    /// their threads are left detached, as Python leaves daemon threads.
    ///
    /// `f` may borrow from the caller, as a closure passed to `std::thread::scope` may:
    /// `block_on` returns (or unwinds) only once `f` has run to its end or been unwound.
    /// Tasks it spawns still need `'static` closures.
    ///
    /// # Panics
    ///
    /// If `f` panics, the panic continues here once the other non-daemon tasks are done. If
    /// called from inside a task of any runtime (spawn and join instead). On the cooperative
    /// runtime, with a message that begins `deadlock:` when every task is blocked for good.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// assert_eq!(rt.block_on(|| 1 + 1), 2);
    /// let mut words = vec!["borrowed"];
    /// rt.block_on(|| words.push("from the caller"));
    /// assert_eq!(words.len(), 2);
    /// ```
    #[track_caller]
    pub fn block_on<'a, F, T>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'a,
        T: Send + 'a,
    {
        if context::current_task().is_some() {
            panic!(
                "spindle: Runtime::block_on called from inside a task; spawn the work and join it instead"
            );
        }
        let mut out: Option<T> = None;
        let slot = SendPtr(&mut out);
        let body: Box<dyn FnOnce() + Send + 'a> = Box::new(move || {
            let slot = slot;
            let value = f();
            // SAFETY: `out` lives in `block_on`'s frame, which outlasts this closure (see
            // below), and nothing else touches it until the backend has returned.
            unsafe { *slot.0 = Some(value) };
        });
        // Erasing `'a`: the backend's `block_on` returns or unwinds only after its first
        // task has completed, i.e. after this closure has run to its end or been dropped
        // (run, unwound or cancelled unstarted). The task's result slot holds `()`, so no
        // `'a` value outlives the call either (docs/unsafe.md, invariant 11).
        // SAFETY: by the above, nothing borrowed for `'a` is touched after `block_on` ends.
        let body: Box<dyn FnOnce() + Send + 'static> = unsafe { std::mem::transmute(body) };
        match &self.inner {
            Inner::Coop(c) => c.block_on(body),
            Inner::Preempt(p) => p.block_on(body),
        }
        out.expect("block_on's first task completed without a value or a panic")
    }

    /// Spawns a task on this runtime from anywhere — a plain thread, a task of another
    /// runtime — and returns its handle, which can be joined from anywhere (on a plain
    /// thread `join` blocks the thread). The task is not a daemon, so a `block_on` of this
    /// runtime waits for it while it runs; [`Builder::spawn_on`](crate::Builder::spawn_on)
    /// names it, sizes its stack or makes it a daemon. On a deterministic runtime it runs at
    /// the next `block_on`.
    ///
    /// # Panics
    ///
    /// When no stack or thread can be had (use `Builder::spawn_on` to get that as an error).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().workers(2).build()?;
    /// let hs: Vec<_> = (0..4u64).map(|i| rt.spawn(move || i * i)).collect();
    /// let sum: u64 = hs.into_iter().map(|h| h.join().unwrap()).sum();
    /// assert_eq!(sum, 14);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn<F, T>(&self, f: F) -> crate::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let spawned = self.home().spawn(f, |stack_size| {
            Ok(crate::task::SpawnOptions::plain(stack_size))
        });
        match spawned {
            Ok(h) => h,
            Err(e) => panic!("spindle: Runtime::spawn failed: {e}"),
        }
    }

    /// Where a task spawned on this runtime from outside goes.
    pub(crate) fn home(&self) -> context::Home {
        match &self.inner {
            Inner::Coop(c) => context::Home::Coop(c.shared().clone()),
            Inner::Preempt(p) => context::Home::Preempt(p.shared().clone()),
        }
    }

    /// Whether this is the cooperative (green-thread) runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::Runtime::cooperative().build().unwrap().is_cooperative());
    /// ```
    pub fn is_cooperative(&self) -> bool {
        matches!(self.inner, Inner::Coop(_))
    }

    /// Every live task of the runtime, from any thread, while it runs: id, name, state, what
    /// it waits on, the caller's `file:line`, and for how long — like Go's goroutine dump.
    /// Between `block_on` calls it is empty. On the cooperative runtime each worker lists
    /// its tasks between two of them, so the call waits a few milliseconds at most; a worker
    /// running one task without yielding for longer is listed with that task only. Tasks not
    /// started yet are counted, not listed. Preemptive tasks are OS threads, listed as
    /// running. Costs nothing when nobody asks.
    ///
    /// A runtime built while the environment variable `SPINDLE_DUMP_SIGNAL` names a signal
    /// (e.g. `USR1`) prints its dump on stderr whenever the process receives that signal.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let rt = Arc::new(spindle::Runtime::cooperative().workers(1).build().unwrap());
    /// let r = rt.clone();
    /// let t = std::thread::spawn(move || r.block_on(|| {
    ///     spindle::Builder::new().name("napper").spawn(|| spindle::sleep(Duration::from_millis(300)))
    ///         .unwrap().join().unwrap();
    /// }));
    /// std::thread::sleep(Duration::from_millis(100));
    /// let dump = rt.dump();
    /// let napper = dump.iter().find(|t| t.name() == Some("napper")).expect("listed");
    /// assert_eq!(napper.state(), spindle::TaskState::Sleeping);
    /// assert!(dump.to_string().contains("task 'napper'"));
    /// t.join().unwrap();
    /// ```
    pub fn dump(&self) -> TaskDump {
        match &self.inner {
            Inner::Coop(c) => c.shared().dump(),
            Inner::Preempt(p) => p.shared().dump(),
        }
    }

    /// The number of worker OS threads (cooperative), or 0 (preemptive: a thread per task).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::Runtime::cooperative().workers(3).build().unwrap().workers(), 3);
    /// assert_eq!(spindle::Runtime::preemptive().build().unwrap().workers(), 0);
    /// ```
    pub fn workers(&self) -> usize {
        match &self.inner {
            Inner::Coop(c) => c.shared().workers.len(),
            Inner::Preempt(_) => 0,
        }
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.is_cooperative() {
            "cooperative"
        } else {
            "preemptive"
        };
        f.debug_struct("Runtime")
            .field("kind", &kind)
            .field("workers", &self.workers())
            .finish()
    }
}

impl RuntimeBuilder {
    /// The number of worker OS threads of a cooperative runtime (default: the machine's
    /// available parallelism). Ignored by the preemptive runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = spindle::Runtime::cooperative().workers(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn workers(mut self, n: usize) -> RuntimeBuilder {
        self.workers = Some(n);
        self
    }

    /// The default stack size of the runtime's tasks, in bytes (default
    /// [`DEFAULT_STACK_SIZE`](crate::stack::DEFAULT_STACK_SIZE)).
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::Runtime::cooperative().stack_size(1).build().is_err());
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> RuntimeBuilder {
        self.stack_size = bytes;
        self
    }

    /// The guard below each task's stack, in bytes, rounded up to whole pages (default
    /// [`DEFAULT_GUARD_SIZE`](crate::stack::DEFAULT_GUARD_SIZE), 64 KiB). A frame that
    /// reaches below the stack by less than this (C code with `alloca`, a large unprobed
    /// array) faults in the guard, and the overflow is reported naming the task; one that
    /// reaches further lands in whatever lies below, possibly another task's stack, unseen.
    ///
    /// The guard costs no memory and no map entry with `MADV_GUARD_INSTALL` (Linux ≥ 6.13),
    /// only address space (and a page-table entry per guard page); with the `mprotect`
    /// fallback, address space only. Stacks are pooled process-wide by (stack size, guard
    /// size), so runtimes with different guards never share a stack: every task of this
    /// runtime gets exactly this guard. Bare coroutines (`spindle::coroutine`) always get the
    /// default. Cooperative runtime only: a preemptive task is an OS thread, guarded as the
    /// platform guards threads.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().guard_size(256 * 1024).build().unwrap();
    /// rt.block_on(|| spindle::spawn(|| ()).join().unwrap());
    /// let err = spindle::Runtime::cooperative().guard_size(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn guard_size(mut self, bytes: usize) -> RuntimeBuilder {
        self.guard_size = bytes;
        self
    }

    /// How long a green thread may run without yielding before the stall watchdog reports
    /// it — its name and id — as a `tracing` warning (target `spindle::stall`), or on stderr
    /// when no subscriber is installed (see [`stderr_reports`](Self::stderr_reports)).
    /// Default 100 ms; `Duration::ZERO` turns the watchdog off. Cooperative runtime only.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = spindle::Runtime::cooperative().stall_threshold(Duration::from_millis(250)).build();
    /// assert!(rt.is_ok());
    /// ```
    pub fn stall_threshold(mut self, d: Duration) -> RuntimeBuilder {
        self.stall_threshold = d;
        self
    }

    /// How long every task of a cooperative runtime may stay blocked, on waits that the
    /// deadlock detector cannot prove hopeless (something outside the runtime could still end
    /// them: a plain thread, a socket, another runtime), before the runtime prints its task
    /// dump once as a "possibly stuck" warning — through `tracing` (target `spindle::stuck`)
    /// if a subscriber is installed, else on stderr — and goes on waiting. Default 10 s;
    /// `Duration::ZERO` turns the warning off.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = spindle::Runtime::cooperative().stuck_warning(Duration::from_secs(30)).build();
    /// assert!(rt.is_ok());
    /// ```
    pub fn stuck_warning(mut self, after: Duration) -> RuntimeBuilder {
        self.stuck_after = after;
        self
    }

    /// Whether the runtime's warnings (a stalled task, a possibly stuck runtime) are printed
    /// on stderr when no `tracing` subscriber is installed to take them (default `true`).
    /// With a subscriber, they always go to it and never to stderr.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().stderr_reports(false).build();
    /// assert!(rt.is_ok());
    /// ```
    pub fn stderr_reports(mut self, on: bool) -> RuntimeBuilder {
        self.stderr_reports = on;
        self
    }

    /// The most OS threads [`spawn_blocking`](crate::spawn_blocking) may use at once (default 512; started on
    /// demand, ended after 10 s idle). Cooperative runtime only.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::Runtime::cooperative().max_blocking_threads(0).build().is_err());
    /// ```
    pub fn max_blocking_threads(mut self, n: usize) -> RuntimeBuilder {
        self.max_blocking_threads = n;
        self
    }

    /// Builds the runtime, starting its worker threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for `workers(0)`, more than 1,024 workers, `max_blocking_threads(0)`,
    /// a stack size outside
    /// [`MIN_STACK_SIZE`](crate::stack::MIN_STACK_SIZE)..=[`MAX_STACK_SIZE`](crate::stack::MAX_STACK_SIZE),
    /// or a guard size of 0 or above [`MAX_GUARD_SIZE`](crate::stack::MAX_GUARD_SIZE);
    /// the OS's error if a worker thread or its poller cannot be made.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().workers(2).build()?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn build(self) -> io::Result<Runtime> {
        let stack_size = checked_size(self.stack_size)?;
        let guard_size = checked_guard(self.guard_size)?;
        crate::panic_report::install();
        match self.kind {
            Kind::Cooperative => {
                let workers = match self.workers {
                    Some(n) => n,
                    None => std::thread::available_parallelism().map_or(1, |n| n.get()),
                };
                if workers == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "workers(0): a cooperative runtime needs at least one worker thread",
                    ));
                }
                if self.deterministic.is_some() && workers != 1 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "workers({workers}): a deterministic runtime has exactly one worker"
                        ),
                    ));
                }
                if workers > MAX_WORKERS {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("workers({workers}): at most {MAX_WORKERS} worker threads"),
                    ));
                }
                if self.max_blocking_threads == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "max_blocking_threads(0): spawn_blocking needs at least one thread",
                    ));
                }
                let config = coop::Config {
                    workers,
                    stack_size,
                    guard_size,
                    stall_threshold: (!self.stall_threshold.is_zero())
                        .then_some(self.stall_threshold),
                    max_blocking_threads: self.max_blocking_threads,
                    stuck_after: (!self.stuck_after.is_zero()).then_some(self.stuck_after),
                    stderr_reports: self.stderr_reports,
                    deterministic: self.deterministic,
                };
                let coop = coop::Coop::start(config)?;
                let shared = Arc::downgrade(coop.shared());
                Ok(Runtime {
                    _dump_signal: DumpOnSignal::from_env(move || {
                        shared.upgrade().map(|s| s.dump())
                    })?,
                    inner: Inner::Coop(coop),
                })
            }
            Kind::Preemptive => {
                let preempt = preempt::Preempt::new(stack_size);
                let shared = Arc::downgrade(preempt.shared());
                Ok(Runtime {
                    _dump_signal: DumpOnSignal::from_env(move || {
                        shared.upgrade().map(|s| s.dump())
                    })?,
                    inner: Inner::Preempt(preempt),
                })
            }
        }
    }
}
