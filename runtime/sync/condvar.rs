//! A condition variable over [`Mutex`](super::Mutex), following std's semantics.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use super::mutex::MutexGuard;
use super::origin::Origin;
use super::wait::{self, Wait, WaitList, Woken};
use crate::loom::Lock;

/// Waits for a condition under a [`Mutex`](super::Mutex), as `std::sync::Condvar` does. A
/// waiter joins the condvar's queue *before* the mutex is released, so a notification sent
/// after that release is never lost. Spurious wake-ups are possible (as with std): wait in a
/// loop that checks the condition.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle::sync::{Condvar, Mutex};
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// rt.block_on(|| {
///     let pair = Arc::new((Mutex::new(false), Condvar::new()));
///     let p2 = pair.clone();
///     spindle::spawn(move || { *p2.0.lock() = true; p2.1.notify_one(); });
///     let (lock, cv) = &*pair;
///     let mut ready = lock.lock();
///     while !*ready { ready = cv.wait(ready); }
/// });
/// ```
pub struct Condvar {
    waiters: Lock<WaitList>,
    origin: Origin,
}

impl Condvar {
    /// A condvar with no waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// let cv = spindle::sync::Condvar::new();
    /// cv.notify_all(); // nobody waits: nothing happens
    /// ```
    pub fn new() -> Condvar {
        Condvar {
            waiters: Lock::new(WaitList::new()),
            origin: Origin::new(),
        }
    }

    /// Releases the guard's mutex, waits for a notification, and locks the mutex again.
    ///
    /// # Examples
    ///
    /// See [`Condvar`].
    #[track_caller]
    pub fn wait<'a, T: ?Sized>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait_inner(guard, None, Location::caller()).0
    }

    /// Like [`wait`](Condvar::wait), but gives up after `timeout`; the flag says whether it
    /// timed out. A zero timeout releases and re-takes the mutex without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use spindle::sync::{Condvar, Mutex};
    /// let (m, cv) = (Mutex::new(()), Condvar::new());
    /// let (_g, timed_out) = cv.wait_timeout(m.lock(), Duration::from_millis(10));
    /// assert!(timed_out);
    /// ```
    #[track_caller]
    pub fn wait_timeout<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        timeout: Duration,
    ) -> (MutexGuard<'a, T>, bool) {
        let deadline = crate::clock::deadline_after(timeout);
        let (g, woken) = self.wait_inner(guard, Some(deadline), Location::caller());
        (g, woken == Woken::TimedOut)
    }

    fn wait_inner<'a, T: ?Sized>(
        &self,
        guard: MutexGuard<'a, T>,
        deadline: Option<std::time::Instant>,
        location: &'static Location<'static>,
    ) -> (MutexGuard<'a, T>, Woken) {
        crate::task::sched_point("Condvar::wait");
        self.origin.touch();
        let mutex = guard.mutex;
        // The mutex is released once our entry is queued (`after_register`), not by the guard.
        std::mem::forget(guard);
        let mut unlock = Some(|| mutex.unlock());
        let mut after = || {
            if let Some(u) = unlock.take() {
                u();
            }
        };
        let abandon = |_tag: u64| self.notify_one();
        let mut attempt = |_: &mut WaitList| -> Option<()> { None };
        let site = || self.origin.site("Condvar::wait", location);
        let woken = match wait::wait(Wait {
            lock: &self.waiters,
            list: |l| l,
            tag: 0,
            deadline,
            site: &site,
            attempt: &mut attempt,
            after_register: Some(&mut after),
            abandon: &abandon,
        }) {
            Ok(()) => Woken::Notified,
            Err(w) => w,
        };
        // A zero or past deadline returns before registering: release the mutex anyway.
        after();
        (mutex.lock(), woken)
    }

    /// Wakes one waiter, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// spindle::sync::Condvar::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        crate::task::sched_point("Condvar::notify_one");
        self.origin.touch();
        let next = self.waiters.lock().pop();
        if let Some(e) = next {
            e.waiter.wake();
        }
    }

    /// Wakes every waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// spindle::sync::Condvar::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        crate::task::sched_point("Condvar::notify_all");
        self.origin.touch();
        let all = self.waiters.lock().drain();
        wait::wake_all(all);
    }
}

impl Default for Condvar {
    fn default() -> Condvar {
        Condvar::new()
    }
}

impl fmt::Debug for Condvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condvar").finish_non_exhaustive()
    }
}
