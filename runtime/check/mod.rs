//! Reproducible schedules: search a concurrent program's interleavings for one that fails,
//! and replay it.
//!
//! A cooperative scheduler owns every switch, so a seeded one ([`Runtime::deterministic`])
//! makes a run's schedule a function of its seed. [`explore`] runs a program (the body of a
//! `block_on`) under many seeds and stops at the first that panics, deadlocks or livelocks;
//! the [`Failure`] names the seed, what failed, the last steps of the schedule, and the line
//! that replays it ([`replay`]); [`trace`] gives a seed's schedule itself. Setting
//! `SPINDLE_SEED=<seed>` makes `explore` run just that seed.
//!
//! Every operation on a spindle primitive (a lock, a send, a receive, a notify, a spawn) is
//! a scheduling point where another task may run, as a preemptive thread could be
//! interrupted there; plain memory and atomics are not: put a [`yield_now`](crate::yield_now)
//! between a read and a write to let a search interleave them. Time is virtual: sleeps and
//! timeouts cost nothing. Work outside the runtime (plain threads, `spawn_blocking`,
//! sockets) is awaited in real time and is not reproducible.
//!
//! # Examples
//!
//! The lecture's lost update: two tasks read a shared counter, yield, and write back.
//!
//! ```
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::sync::Arc;
//! use spindle::{check, spawn, yield_now};
//!
//! fn body() {
//!     let counter = Arc::new(AtomicU32::new(0));
//!     let hs: Vec<_> = (0..2).map(|_| {
//!         let c = counter.clone();
//!         spawn(move || {
//!             let seen = c.load(Ordering::SeqCst); // read
//!             yield_now();                          // ... another task may run here
//!             c.store(seen + 1, Ordering::SeqCst);  // write back
//!         })
//!     }).collect();
//!     for h in hs { h.join().unwrap(); }
//!     assert_eq!(counter.load(Ordering::SeqCst), 2, "lost update");
//! }
//!
//! let failure = check::explore(100, body).unwrap_err();
//! assert!(failure.message().contains("lost update"));
//! // The same seed fails the same way, with the same schedule, every time.
//! let again = check::replay(failure.seed(), body).unwrap_err();
//! assert_eq!(again.trace(), failure.trace());
//! ```

mod config;
mod failure;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

pub use crate::coop::Trace;
pub use config::Config;
pub use failure::Failure;

use crate::coop::{DetEnd, Setup};
use crate::Runtime;

/// Runs `f` (the body of a `block_on`) under `iterations` seeds with the random scheduler,
/// from seed 0; stops at the first that panics (in any task), deadlocks or livelocks. Set
/// `SPINDLE_SEED=<seed>` to run just that seed.
///
/// # Panics
///
/// If no deterministic runtime can be built (the OS refuses a poller), or if called from a
/// task.
///
/// # Examples
///
/// ```
/// // A correct program passes every schedule tried.
/// let body = || {
///     let m = std::sync::Arc::new(spindle::sync::Mutex::new(0));
///     let hs: Vec<_> = (0..3).map(|_| { let m = m.clone(); spindle::spawn(move || *m.lock() += 1) }).collect();
///     for h in hs { h.join().unwrap(); }
///     assert_eq!(*m.lock(), 3);
/// };
/// assert!(spindle::check::explore(500, body).is_ok());
/// ```
pub fn explore<F>(iterations: u64, f: F) -> Result<(), Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    explore_with(Config::new().iterations(iterations), f)
}

/// [`explore`] as `config` says: iterations, first seed, scheduler (random or PCT), step
/// limit, determinism self-check.
///
/// # Panics
///
/// As [`explore`].
///
/// # Examples
///
/// ```
/// use spindle::check::{explore_with, Config};
/// use spindle::sync::Mutex;
/// use std::sync::Arc;
///
/// // ABBA: two tasks take two locks in opposite orders.
/// let body = || {
///     let (a, b) = (Arc::new(Mutex::new(())), Arc::new(Mutex::new(())));
///     let (a2, b2) = (a.clone(), b.clone());
///     let t = spindle::spawn(move || { let _x = b2.lock(); let _y = a2.lock(); });
///     { let _x = a.lock(); let _y = b.lock(); }
///     t.join().unwrap();
/// };
/// let failure = explore_with(Config::new().pct(2).iterations(1000), body).unwrap_err();
/// assert!(failure.message().starts_with("deadlock:"));
/// ```
pub fn explore_with<F>(config: Config, f: F) -> Result<(), Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    let explorer = Explorer::new(f);
    let mut config = config;
    let seeds = match seed_from_env() {
        Some(seed) => seed..seed.saturating_add(1),
        None => config.seed..config.seed.saturating_add(config.iterations),
    };
    if config.pct.is_some() && config.pct_steps.is_none() {
        // PCT draws its change points among the steps of a run: measure one.
        let calibration = Config::new().max_steps(config.max_steps);
        let (outcome, trace) = explorer.run(&calibration, config.seed);
        if let Some(message) = outcome {
            return Err(Failure::new(calibration, config.seed, message, trace, 0));
        }
        config.pct_steps = Some(trace.step_count.max(1));
    }
    for (tried, seed) in seeds.enumerate() {
        let (outcome, trace) = explorer.run(&config, seed);
        if let Some(message) = outcome {
            return Err(Failure::new(config, seed, message, trace, tried as u64));
        }
        if config.check_determinism {
            let (_, again) = explorer.run(&config, seed);
            if let Some((step, first, second)) = trace.first_difference(&again) {
                let message = format!(
                    "nondeterminism: two runs of seed {seed} took different schedules; they \
                     first differ at step {step}:\n  first run:  {first}\n  second run: \
                     {second}\n(does the program read real time, use a thread or a socket, \
                     or iterate a HashMap?)"
                );
                return Err(Failure::new(config, seed, message, trace, tried as u64));
            }
        }
    }
    Ok(())
}

/// Runs `f` once under the schedule of `seed` (as [`explore`] ran it): `Err` with the
/// failure if it fails.
///
/// # Examples
///
/// ```
/// assert!(spindle::check::replay(5, || assert_eq!(1 + 1, 2)).is_ok());
/// assert!(spindle::check::replay(5, || panic!("again")).is_err());
/// ```
pub fn replay<F>(seed: u64, f: F) -> Result<(), Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    replay_with(Config::new(), seed, f)
}

/// Runs `f` once under the schedule of `seed` with the scheduler of `config` (as a failure
/// found by [`explore_with`] prints it).
///
/// # Examples
///
/// ```
/// use spindle::check::{replay_with, Config};
/// assert!(replay_with(Config::new().pct(2).pct_steps(10), 3, || ()).is_ok());
/// ```
pub fn replay_with<F>(config: Config, seed: u64, f: F) -> Result<(), Failure>
where
    F: Fn() + Send + Sync + 'static,
{
    let explorer = Explorer::new(f);
    let (outcome, trace) = explorer.run(&config, seed);
    match outcome {
        Some(message) => Err(Failure::new(config, seed, message, trace, 0)),
        None => Ok(()),
    }
}

/// The schedule `f` follows under `seed` (whether it fails or not): print it to read it,
/// compare it to see whether two runs agree.
///
/// # Examples
///
/// ```
/// let t = spindle::check::trace(1, || { spindle::spawn(|| ()).join().unwrap(); });
/// println!("{t}");
/// assert_eq!(t, spindle::check::trace(1, || { spindle::spawn(|| ()).join().unwrap(); }));
/// ```
pub fn trace<F>(seed: u64, f: F) -> Trace
where
    F: Fn() + Send + Sync + 'static,
{
    trace_with(Config::new(), seed, f)
}

/// [`trace`] with the scheduler of `config`.
///
/// # Examples
///
/// ```
/// use spindle::check::{trace_with, Config};
/// let t = trace_with(Config::new().pct(2).pct_steps(5), 9, || ());
/// assert!(t.to_string().contains("task 0"));
/// ```
pub fn trace_with<F>(config: Config, seed: u64, f: F) -> Trace
where
    F: Fn() + Send + Sync + 'static,
{
    Explorer::new(f).run(&config, seed).1
}

/// `SPINDLE_SEED`, if set (decimal or `0x` hex).
fn seed_from_env() -> Option<u64> {
    let s = std::env::var("SPINDLE_SEED").ok()?;
    let s = s.trim();
    let parsed = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => s.parse(),
    };
    match parsed {
        Ok(seed) => Some(seed),
        Err(_) => panic!("SPINDLE_SEED={s:?}: not a seed (a decimal or 0x-hex u64)"),
    }
}

/// One deterministic runtime, reused for every run of one search.
struct Explorer<F> {
    rt: Runtime,
    f: Arc<F>,
}

impl<F: Fn() + Send + Sync + 'static> Explorer<F> {
    fn new(f: F) -> Explorer<F> {
        let rt = match Runtime::deterministic(0).stderr_reports(true).build() {
            Ok(rt) => rt,
            Err(e) => panic!("spindle::check: cannot build a deterministic runtime: {e}"),
        };
        Explorer { rt, f: Arc::new(f) }
    }

    /// Runs `f` once under `seed`: what failed, if anything, and the schedule.
    fn run(&self, config: &Config, seed: u64) -> (Option<String>, Trace) {
        let setup: Setup = config.setup(seed);
        let f = self.f.clone();
        crate::panic_report::start_capture();
        let ran = panic::catch_unwind(AssertUnwindSafe(|| {
            self.rt.block_on_det(setup, move || f())
        }));
        let first_panic = crate::panic_report::end_capture();
        match ran {
            Ok(Some((end, trace))) => {
                let message = match end {
                    DetEnd::Value(()) => first_panic,
                    DetEnd::Panicked(payload) => {
                        Some(first_panic.unwrap_or_else(|| payload_message(&*payload)))
                    }
                    DetEnd::Deadlock(report) => Some(match first_panic {
                        Some(p) => format!("{p}\nthen {report}"),
                        None => report,
                    }),
                    DetEnd::Aborted(why) => Some(why),
                };
                (message, trace)
            }
            Ok(None) => unreachable!("the explorer's runtime is deterministic"),
            Err(payload) => (
                Some(format!(
                    "spindle::check: the run failed: {}",
                    payload_message(&*payload)
                )),
                Trace::default(),
            ),
        }
    }
}

/// The message of a panic payload.
fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if payload.is::<crate::Cancelled>() {
        return "cancelled".to_string();
    }
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Box<dyn Any>".to_string())
}
