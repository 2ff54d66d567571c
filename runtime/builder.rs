//! The task-level API, the same on both backends: the task [`Builder`], and the free
//! functions [`spawn`], [`spawn_blocking`], [`yield_now`], [`sleep`], [`current`] and
//! [`try_current`], which act on the runtime of the calling task.

use std::io;
use std::time::Duration;

use crate::context::{self, Home};
use crate::stack::checked_size;
use crate::task::{JoinHandle, SpawnOptions, Task};
use crate::{coop, Runtime};

/// Configures one task before spawning it, as `std::thread::Builder` does a thread.
///
/// # Examples
///
/// ```
/// use spindle::{Builder, Runtime};
/// let rt = Runtime::cooperative().build().unwrap();
/// rt.block_on(|| {
///     let h = Builder::new().name("fetcher").stack_size(256 * 1024).spawn(|| 5)?;
///     assert_eq!(h.join().unwrap(), 5);
///     Ok::<(), std::io::Error>(())
/// }).unwrap();
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a builder does nothing until .spawn()"]
pub struct Builder {
    name: Option<String>,
    stack_size: Option<usize>,
    daemon: Option<bool>,
}

impl Builder {
    /// A builder with no name, the runtime's stack size, and the spawning task's daemon flag.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle::Builder::new();
    /// ```
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task (shown by [`Task::name`], the stall and overflow reports, and, on the
    /// preemptive runtime, the OS thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle::Builder::new().name("reader");
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// The task's stack size in bytes, instead of the runtime's.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| assert!(spindle::Builder::new().stack_size(0).spawn(|| ()).is_err()));
    /// ```
    pub fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// Whether the task is a daemon: `block_on` does not wait for daemons, and cancels those
    /// still running when it returns. By default a task is a daemon if the task spawning it
    /// is (Python's rule).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// rt.block_on(|| {
    ///     spindle::Builder::new().daemon(true).spawn(|| loop { spindle::yield_now() }).unwrap();
    /// }); // returns: the daemon does not keep it waiting
    /// ```
    pub fn daemon(mut self, daemon: bool) -> Builder {
        self.daemon = Some(daemon);
        self
    }

    /// Spawns the task on the runtime of the calling task.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a stack size out of bounds; the OS's error when no stack (memory,
    /// `vm.max_map_count`) or, on the preemptive runtime, no thread can be had.
    ///
    /// # Panics
    ///
    /// When called outside a runtime: run the code inside [`Runtime::block_on`](crate::Runtime::block_on).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = spindle::Runtime::preemptive().build().unwrap();
    /// let v = rt.block_on(|| spindle::Builder::new().spawn(|| 3).unwrap().join().unwrap());
    /// assert_eq!(v, 3);
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(self, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_as(f, "Builder::spawn")
    }

    /// Spawns the task on `rt` from anywhere: a plain thread, a task of another runtime.
    /// It is not a daemon unless the builder says so, and it counts as any task does: a
    /// `block_on` of `rt` waits for it if it is still running. Join it from wherever the
    /// handle goes (on a plain thread, `join` blocks the thread). On a deterministic runtime
    /// it waits for the next `block_on` to run.
    ///
    /// # Errors
    ///
    /// As [`Builder::spawn`].
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::{Builder, Runtime};
    /// let rt = Runtime::cooperative().workers(2).build()?;
    /// let h = Builder::new().name("from-outside").spawn_on(&rt, || 6 * 7)?;
    /// assert_eq!(h.join().unwrap(), 42); // joined from this plain thread
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn spawn_on<F, T>(self, rt: &Runtime, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.spawn_home(rt.home(), false, f)
    }

    /// [`Builder::spawn`], naming `what` in the outside-a-runtime panic.
    #[inline]
    #[track_caller]
    fn spawn_as<F, T>(self, f: F, what: &str) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let Some((home, parent_daemon)) = context::home() else {
            outside_runtime(what)
        };
        self.spawn_home(home, parent_daemon, f)
    }

    /// Spawns on `home`, the spawner a daemon or not.
    #[inline]
    fn spawn_home<F, T>(self, home: Home, parent_daemon: bool, f: F) -> io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let options = |default_size: usize| -> io::Result<SpawnOptions> {
            Ok(SpawnOptions {
                name: self.name,
                daemon: self.daemon.unwrap_or(parent_daemon),
                stack_size: match self.stack_size {
                    Some(s) => checked_size(s)?,
                    None => default_size,
                },
            })
        };
        home.spawn(f, options)
    }
}

#[cold]
#[track_caller]
fn outside_runtime(what: &str) -> ! {
    panic!(
        "spindle::{what} called outside a runtime: start one with Runtime::cooperative() or Runtime::preemptive() and run this code inside Runtime::block_on"
    )
}

/// Spawns a task on the runtime of the calling task and returns its [`JoinHandle`]: a green
/// thread on the cooperative runtime, an OS thread on the preemptive one.
///
/// # Panics
///
/// Outside a runtime (use [`Runtime::block_on`](crate::Runtime::block_on)), and when no stack or thread can be had
/// (use [`Builder::spawn`] to get that as an error).
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// let v = rt.block_on(|| spindle::spawn(|| "hi").join().unwrap());
/// assert_eq!(v, "hi");
/// ```
#[track_caller]
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn_as(f, "spawn") {
        Ok(h) => h,
        Err(e) => panic!("spindle::spawn failed: {e}"),
    }
}

/// Runs blocking work — a blocking system call, a `std` lock, a long computation — without
/// stalling other green threads: in a green thread, `f` runs on the runtime's pool of
/// blocking OS threads while the calling task is parked; anywhere else (a preemptive task, a
/// plain thread) `f` simply runs here. Returns `f`'s value; a panic in `f` continues in the
/// caller.
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let n = rt.block_on(|| spindle::spawn_blocking(|| {
///     std::thread::sleep(std::time::Duration::from_millis(10)); // blocks a pool thread only
///     42
/// }));
/// assert_eq!(n, 42);
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match context::green_runtime() {
        Some(shared) => coop::spawn_blocking(&shared, f),
        None => f(),
    }
}

/// Lets other tasks run: a green thread goes to the back of its worker's run queue; a
/// preemptive task or plain thread calls `std::thread::yield_now`.
///
/// # Examples
///
/// ```
/// spindle::yield_now(); // fine anywhere
/// ```
#[inline]
pub fn yield_now() {
    context::yield_now()
}

/// Sleeps for at least `d`: a green thread parks on its worker's timers (no thread per
/// sleeper), anything else calls `std::thread::sleep`. `sleep(Duration::ZERO)` just yields;
/// a huge duration sleeps (practically) forever.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// let t = Instant::now();
/// rt.block_on(|| spindle::sleep(Duration::from_millis(20)));
/// assert!(t.elapsed() >= Duration::from_millis(20));
/// ```
#[track_caller]
pub fn sleep(d: Duration) {
    context::sleep(d)
}

/// The task this code runs in.
///
/// # Panics
///
/// Outside a runtime's task; see [`try_current`].
///
/// # Examples
///
/// ```
/// let rt = spindle::Runtime::cooperative().build().unwrap();
/// assert_eq!(rt.block_on(|| spindle::current().name().map(String::from)).as_deref(), Some("main"));
/// ```
#[track_caller]
pub fn current() -> Task {
    match context::current_task() {
        Some(t) => t,
        None => outside_runtime("current"),
    }
}

/// The task this code runs in, or `None` on a plain thread outside any runtime.
///
/// # Examples
///
/// ```
/// assert!(spindle::try_current().is_none());
/// ```
pub fn try_current() -> Option<Task> {
    context::current_task()
}

/// The runtime's clock: virtual time on a deterministic runtime (it moves only when every
/// task is blocked and a timer is due; see
/// [`Runtime::deterministic`](crate::Runtime::deterministic)), `Instant::now()` everywhere
/// else. Measure the time a sleep or timeout took with it, and a program reads the same
/// times on every run of a seed.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let rt = spindle::Runtime::deterministic(1).build().unwrap();
/// let slept = rt.block_on(|| {
///     let t = spindle::now();
///     spindle::sleep(Duration::from_secs(60));
///     spindle::now() - t
/// });
/// assert_eq!(slept, Duration::from_secs(60)); // exactly, and at once
/// ```
pub fn now() -> std::time::Instant {
    crate::clock::now()
}
