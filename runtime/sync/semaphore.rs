//! A counting semaphore with FIFO hand-over.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use super::origin::Origin;
use super::plain_wait::{wait_handed, Waiters};
use super::wait::WaitList;
use crate::loom::Lock;

/// A counting semaphore (Python's `threading.Semaphore`): `acquire` takes a permit, waiting
/// while there are none; dropping the [`SemaphorePermit`] gives it back. A released permit
/// goes straight to the longest waiter (FIFO, no barging).
///
/// # Examples
///
/// ```
/// use spindle::sync::Semaphore;
/// let s = Semaphore::new(2);
/// let a = s.acquire();
/// let b = s.acquire();
/// assert!(s.try_acquire().is_none());
/// drop(a);
/// assert_eq!(s.available_permits(), 1);
/// # drop(b);
/// ```
pub struct Semaphore {
    state: Lock<State>,
    origin: Origin,
}

struct State {
    permits: usize,
    waiters: WaitList,
}

impl Waiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

/// A permit from a [`Semaphore`], given back when dropped.
///
/// # Examples
///
/// ```
/// let s = spindle::sync::Semaphore::new(1);
/// {
///     let _p = s.acquire();
///     assert_eq!(s.available_permits(), 0);
/// }
/// assert_eq!(s.available_permits(), 1);
/// ```
#[must_use = "the permit is released when dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
}

impl Semaphore {
    /// A semaphore with `permits` permits (0 is allowed: every `acquire` waits for a
    /// `release`).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::sync::Semaphore::new(3).available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Lock::new(State {
                permits,
                waiters: WaitList::new(),
            }),
            origin: Origin::new(),
        }
    }

    /// Takes a permit, waiting for one.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::sync::Semaphore::new(1);
    /// let _p = s.acquire();
    /// ```
    #[track_caller]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        match self.acquire_inner(None) {
            Some(p) => p,
            None => unreachable!("acquire has no deadline"),
        }
    }

    /// Takes a permit if one is free right now (and nobody is queued for one).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::sync::Semaphore::new(0);
    /// assert!(s.try_acquire().is_none());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        crate::task::sched_point("Semaphore::try_acquire");
        self.origin.touch();
        let mut st = self.state.lock();
        take(&mut st).then(|| SemaphorePermit { sem: self })
    }

    /// Takes a permit, waiting at most `timeout`; `None` if none came in time. A zero
    /// timeout is [`try_acquire`](Semaphore::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let s = spindle::sync::Semaphore::new(0);
    /// assert!(s.acquire_timeout(Duration::from_millis(5)).is_none());
    /// ```
    #[track_caller]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.acquire_inner(Some(crate::clock::deadline_after(timeout)))
    }

    /// The wait of both: for a permit, until `deadline`.
    #[track_caller]
    fn acquire_inner(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        crate::task::sched_point("Semaphore::acquire");
        let location = Location::caller();
        self.origin.touch();
        let site = || self.origin.site("Semaphore::acquire", location);
        let mut attempt = |st: &mut State| take(st).then_some(());
        let abandon = |_tag: u64| self.release();
        // Took one, or one was handed to us.
        wait_handed(&self.state, deadline, &site, &mut attempt, &abandon)
            .then(|| SemaphorePermit { sem: self })
    }

    /// Adds a permit: hands it to the longest waiter, or keeps it.
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::sync::Semaphore::new(0);
    /// s.release();
    /// assert_eq!(s.available_permits(), 1);
    /// ```
    pub fn release(&self) {
        crate::task::sched_point("Semaphore::release");
        self.origin.touch();
        let mut st = self.state.lock();
        match st.waiters.pop() {
            Some(next) => {
                drop(st);
                next.waiter.wake();
            }
            None => st.permits += 1,
        }
    }

    /// Permits free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::sync::Semaphore::new(2).available_permits(), 2);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.origin.touch();
        self.state.lock().permits
    }

    /// Whether a waiter is queued for a permit: registered in the wait list, so the next
    /// release hands its permit to it. For tests that need to know a waiter is parked; not
    /// part of the API.
    #[doc(hidden)]
    pub fn has_waiters(&self) -> bool {
        self.origin.touch();
        !self.state.lock().waiters.is_empty()
    }
}

/// Takes a permit if one is free and nobody is queued ahead.
fn take(st: &mut State) -> bool {
    if st.permits > 0 && st.waiters.is_empty() {
        st.permits -= 1;
        true
    } else {
        false
    }
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken for good (it is not given back).
    ///
    /// # Examples
    ///
    /// ```
    /// let s = spindle::sync::Semaphore::new(1);
    /// s.acquire().forget();
    /// assert_eq!(s.available_permits(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release();
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}
