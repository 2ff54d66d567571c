//! [`Config`]: how [`explore_with`](super::explore_with) searches, and how a failing
//! schedule it found is replayed.

use std::fmt;

use crate::coop::{Policy, Setup, DEFAULT_MAX_STEPS};

/// How [`explore_with`](super::explore_with) searches for a failing schedule: how many
/// seeds, from which, with which scheduler; and how [`replay_with`](super::replay_with)
/// runs one again.
///
/// Two schedulers, as shuttle has them:
/// - [`random`](Config::random) (the default): at every scheduling point, every choice is
///   uniform among the runnable tasks;
/// - [`pct`](Config::pct) (probabilistic concurrency testing): random task priorities, the
///   highest runnable task always runs, and at `depth - 1` random steps the running task
///   drops below all others. A bug that needs `depth` orderings to happen is found in each
///   run with probability at least `1 / (tasks × steps^(depth - 1))`. A task that calls
///   `yield_now` drops below all others too, so spinning tasks let the rest run.
///
/// # Examples
///
/// ```
/// use spindle::check::{explore_with, Config};
///
/// let config = Config::new().iterations(200).pct(2).seed(1000).check_determinism();
/// assert!(explore_with(config, || {
///     let h = spindle::spawn(|| 1);
///     assert_eq!(h.join().unwrap(), 1);
/// }).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[must_use = "a Config does nothing until given to explore_with or replay_with"]
pub struct Config {
    pub(crate) iterations: u64,
    pub(crate) seed: u64,
    pub(crate) pct: Option<u32>,
    pub(crate) pct_steps: Option<u64>,
    pub(crate) max_steps: u64,
    pub(crate) check_determinism: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// 1,000 iterations from seed 0, with the random scheduler.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new();
    /// assert_eq!(c, spindle::check::Config::default());
    /// ```
    pub fn new() -> Config {
        Config {
            iterations: 1000,
            seed: 0,
            pct: None,
            pct_steps: None,
            max_steps: DEFAULT_MAX_STEPS,
            check_determinism: false,
        }
    }

    /// How many seeds to run (each a different schedule).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().iterations(10);
    /// assert!(spindle::check::explore_with(c, || ()).is_ok());
    /// ```
    pub fn iterations(mut self, n: u64) -> Config {
        self.iterations = n;
        self
    }

    /// The first seed; iteration `i` runs seed `start + i` (default 0, so that a search is
    /// the same on every run; vary it to search elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().seed(1 << 40).iterations(5);
    /// assert!(spindle::check::explore_with(c, || ()).is_ok());
    /// ```
    pub fn seed(mut self, start: u64) -> Config {
        self.seed = start;
        self
    }

    /// The PCT scheduler, aimed at bugs of depth `depth` (≥ 1; 2 or 3 find most bugs). The
    /// change points are drawn among as many steps as the program's first run took, unless
    /// [`pct_steps`](Config::pct_steps) says.
    ///
    /// # Panics
    ///
    /// If `depth` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().pct(3).iterations(10);
    /// assert!(spindle::check::explore_with(c, || ()).is_ok());
    /// ```
    pub fn pct(mut self, depth: u32) -> Config {
        assert!(
            depth >= 1,
            "Config::pct(0): the depth of a PCT search is at least 1"
        );
        self.pct = Some(depth);
        self
    }

    /// The number of steps PCT draws its change points among (a failure found by PCT
    /// names it, so that its replay is exact).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().pct(2).pct_steps(50).iterations(10);
    /// assert!(spindle::check::explore_with(c, || ()).is_ok());
    /// ```
    pub fn pct_steps(mut self, steps: u64) -> Config {
        self.pct_steps = Some(steps.max(1));
        self
    }

    /// The random scheduler (the default).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().pct(2).random();
    /// assert_eq!(c, spindle::check::Config::new());
    /// ```
    pub fn random(mut self) -> Config {
        self.pct = None;
        self.pct_steps = None;
        self
    }

    /// The most scheduling steps one run may take (default 10,000,000); a run that takes
    /// more fails as a livelock.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::check::{explore_with, Config};
    /// let spin = || loop { spindle::yield_now() };
    /// let failure = explore_with(Config::new().max_steps(1000).iterations(1), spin).unwrap_err();
    /// assert!(failure.message().contains("livelock"));
    /// ```
    pub fn max_steps(mut self, n: u64) -> Config {
        self.max_steps = n.max(1);
        self
    }

    /// Runs every seed twice and fails, naming the first step where the two schedules
    /// differ, if they are not the same (the program depends on something outside the
    /// scheduler's control: real time, a thread, an address, a `HashMap`'s order).
    ///
    /// # Examples
    ///
    /// ```
    /// let c = spindle::check::Config::new().iterations(20).check_determinism();
    /// assert!(spindle::check::explore_with(c, || { spindle::spawn(|| ()).join().unwrap(); }).is_ok());
    /// ```
    pub fn check_determinism(mut self) -> Config {
        self.check_determinism = true;
        self
    }

    /// The scheduler setup of one run with `seed`.
    pub(crate) fn setup(&self, seed: u64) -> Setup {
        let policy = match self.pct {
            Some(depth) => Policy::Pct {
                depth,
                steps: self.pct_steps.unwrap_or(1),
            },
            None => Policy::Random,
        };
        Setup {
            seed,
            policy,
            max_steps: self.max_steps,
        }
    }

    /// Whether a run under this config is a run of the default one (`replay` replays it).
    pub(crate) fn replays_as_default(&self) -> bool {
        self.pct.is_none() && self.max_steps == DEFAULT_MAX_STEPS
    }
}

/// The expression that builds the config's scheduler, to paste into a replay:
/// `Config::new().pct(3).pct_steps(120)`.
impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Config::new()")?;
        if let Some(depth) = self.pct {
            write!(f, ".pct({depth})")?;
        }
        if let Some(steps) = self.pct_steps {
            write!(f, ".pct_steps({steps})")?;
        }
        if self.max_steps != DEFAULT_MAX_STEPS {
            write!(f, ".max_steps({})", self.max_steps)?;
        }
        Ok(())
    }
}
