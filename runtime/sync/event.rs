//! A settable flag that tasks and threads wait for: Python's `threading.Event`.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::origin::Origin;
use super::plain_wait::{wait_handed, Waiters};
use super::wait::{self, WaitList};
use crate::loom::Lock;

/// A flag that starts clear: [`wait`](Event::wait) blocks until someone calls
/// [`set`](Event::set). A waiter woken by `set` returns `true` even if `clear` follows at
/// once (Python's rule).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle::sync::Event;
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// rt.block_on(|| {
///     let ev = Arc::new(Event::new());
///     let e2 = ev.clone();
///     let h = spindle::spawn(move || e2.wait());
///     ev.set();
///     assert!(h.join().unwrap());
/// });
/// ```
pub struct Event {
    state: Lock<State>,
    origin: Origin,
}

struct State {
    set: bool,
    waiters: WaitList,
}

impl Waiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

impl Event {
    /// A new, clear event.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!spindle::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: Lock::new(State {
                set: false,
                waiters: WaitList::new(),
            }),
            origin: Origin::new(),
        }
    }

    /// Sets the flag and wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle::sync::Event::new();
    /// e.set();
    /// assert!(e.is_set());
    /// ```
    pub fn set(&self) {
        crate::task::sched_point("Event::set");
        self.origin.touch();
        let all = {
            let mut st = self.state.lock();
            st.set = true;
            st.waiters.drain()
        };
        wait::wake_all(all);
    }

    /// Clears the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle::sync::Event::new();
    /// e.set();
    /// e.clear();
    /// assert!(!e.is_set());
    /// ```
    pub fn clear(&self) {
        crate::task::sched_point("Event::clear");
        self.origin.touch();
        self.state.lock().set = false;
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!spindle::sync::Event::new().is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.origin.touch();
        self.state.lock().set
    }

    /// How many waiters are registered (parked, or about to park) in `wait`. For tests that
    /// need to know every waiter is parked; not part of the API.
    #[doc(hidden)]
    pub fn waiter_count(&self) -> usize {
        self.origin.touch();
        self.state.lock().waiters.len()
    }

    /// Waits until the flag is set; returns `true`.
    ///
    /// # Examples
    ///
    /// ```
    /// let e = spindle::sync::Event::new();
    /// e.set();
    /// assert!(e.wait());
    /// ```
    #[track_caller]
    pub fn wait(&self) -> bool {
        self.wait_inner(None)
    }

    /// Waits at most `timeout` for the flag; returns whether it was set (`false`: timed
    /// out). A zero timeout just reads the flag.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// assert!(!spindle::sync::Event::new().wait_timeout(Duration::from_millis(5)));
    /// ```
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_inner(Some(crate::clock::deadline_after(timeout)))
    }

    /// The wait of both: for the flag, until `deadline`.
    #[track_caller]
    fn wait_inner(&self, deadline: Option<Instant>) -> bool {
        crate::task::sched_point("Event::wait");
        let location = Location::caller();
        self.origin.touch();
        let site = || self.origin.site("Event::wait", location);
        let mut attempt = |st: &mut State| st.set.then_some(());
        // Woken by `set`: true even if the flag was cleared since; nothing to pass on.
        wait_handed(&self.state, deadline, &site, &mut attempt, &|_| {})
    }
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish_non_exhaustive()
    }
}
