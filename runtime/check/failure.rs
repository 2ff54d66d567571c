//! [`Failure`]: a failing schedule found by [`explore`](super::explore), with what failed
//! and how to run it again.

use std::fmt;

use super::config::Config;
use super::Trace;

/// How many steps of the schedule a [`Failure`] shows.
const TAIL: usize = 20;

/// A failing schedule: the seed that gives it, what failed (a panic, a `deadlock:` report,
/// a livelock, or two runs of one seed that differ), the schedule, and — in its
/// [`Display`](fmt::Display) — the exact line that replays it.
///
/// # Examples
///
/// ```
/// use spindle::check;
///
/// let failure = check::explore(100, || {
///     let h = spindle::spawn(|| panic!("boom"));
///     let _ = h.join();
/// }).unwrap_err();
/// assert!(failure.message().contains("boom"));
/// assert!(check::replay(failure.seed(), || {
///     let h = spindle::spawn(|| panic!("boom"));
///     let _ = h.join();
/// }).is_err());
/// assert!(failure.to_string().contains(&format!("check::replay({}", failure.seed())));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Failure(Box<Found>);

/// What a [`Failure`] holds (boxed: an `Err` stays one pointer wide).
#[derive(Clone, PartialEq, Eq)]
struct Found {
    seed: u64,
    message: String,
    trace: Trace,
    config: Config,
    /// How many seeds ran before this one.
    tried: u64,
}

impl Failure {
    pub(crate) fn new(
        config: Config,
        seed: u64,
        message: String,
        trace: Trace,
        tried: u64,
    ) -> Failure {
        Failure(Box::new(Found {
            seed,
            message,
            trace,
            config,
            tried,
        }))
    }

    /// The seed of the failing schedule.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = spindle::check::explore(10, || panic!("always")).unwrap_err();
    /// assert_eq!(f.seed(), 0); // the first seed already fails
    /// ```
    pub fn seed(&self) -> u64 {
        self.0.seed
    }

    /// What failed: the first panic (with its task and place), or the `deadlock:` report, or
    /// the livelock or nondeterminism found.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = spindle::check::explore(10, || panic!("always")).unwrap_err();
    /// assert!(f.message().contains("always"));
    /// ```
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The schedule that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// let f = spindle::check::explore(10, || panic!("always")).unwrap_err();
    /// assert!(!f.trace().is_empty());
    /// ```
    pub fn trace(&self) -> &Trace {
        &self.0.trace
    }

    /// The config it was found under ([`replay_with`](super::replay_with) takes it).
    ///
    /// # Examples
    ///
    /// ```
    /// let f = spindle::check::explore(10, || panic!("always")).unwrap_err();
    /// assert_eq!(f.config(), &spindle::check::Config::new().iterations(10));
    /// ```
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The line that replays this failure.
    fn replay_line(&self) -> String {
        if self.0.config.replays_as_default() {
            format!("spindle::check::replay({}, body)", self.0.seed)
        } else {
            format!(
                "spindle::check::replay_with({}, {}, body)",
                self.0.config, self.0.seed
            )
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheduler = match self.0.config.pct {
            Some(d) => format!("PCT depth {d}"),
            None => "random scheduler".to_string(),
        };
        writeln!(
            f,
            "spindle::check: seed {} fails (after {} passing seeds, {scheduler}):",
            self.0.seed, self.0.tried
        )?;
        writeln!(f, "{}", self.0.message.trim_end())?;
        writeln!(
            f,
            "the schedule's last steps (of {}; virtual time, task by order of spawning):",
            self.0.trace.len()
        )?;
        write!(f, "{}", self.0.trace.tail(TAIL))?;
        write!(
            f,
            "replay it with `{}`, or run the test with SPINDLE_SEED={} to explore that seed alone",
            self.replay_line(),
            self.0.seed
        )
    }
}

/// As [`Display`](fmt::Display), so that `explore(..).unwrap()` prints the whole story.
impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}
