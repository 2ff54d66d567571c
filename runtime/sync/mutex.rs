//! A mutual-exclusion lock that parks green threads and blocks OS threads, handing over in
//! FIFO order.
//!
//! `state` holds two bits: `LOCKED`, and `PARKED` (someone waits). The fast paths are one
//! compare-and-swap each. `PARKED` is set and cleared only under the internal lock, so an
//! unlock that finds it set takes the slow path, pops the first waiter and hands the lock to
//! it without ever clearing `LOCKED`: no barging, no starvation.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};

use super::origin::Origin;
use super::plain_wait::wait_handed;
use super::wait::WaitList;
use crate::loom::{AtomicU8, Lock};
use crate::task::WaitSite;

const LOCKED: u8 = 1;
const PARKED: u8 = 2;
/// Rounds of spinning (with growing pauses) before a contended `lock` parks.
const SPIN_LIMIT: u32 = 10;

/// A mutual-exclusion lock protecting a `T`, like `std::sync::Mutex` but without poisoning,
/// and parking a green thread instead of blocking its worker.
///
/// Waiters are served first come, first served.
///
/// # Examples
///
/// ```
/// use spindle::sync::Mutex;
/// let m = Mutex::new(vec![1]);
/// m.lock().push(2);
/// assert_eq!(*m.lock(), [1, 2]);
/// assert_eq!(m.into_inner(), [1, 2]);
/// ```
pub struct Mutex<T: ?Sized> {
    /// `LOCKED | PARKED` bits.
    state: AtomicU8,
    /// Id of the task that last acquired the lock (0: not a task), for the deadlock report.
    owner: AtomicU64,
    origin: Origin,
    waiters: Lock<WaitList>,
    value: UnsafeCell<T>,
}

// SAFETY: the lock gives one thread at a time access to `value`; `T: Send` lets it be used
// from whichever thread holds the lock.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: shared references only reach `value` through the lock.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Holds a [`Mutex`] locked; unlocks it when dropped. Dereferences to the protected value.
///
/// # Examples
///
/// ```
/// let m = spindle::sync::Mutex::new(1);
/// let mut g = m.lock();
/// *g += 1;
/// drop(g);
/// assert_eq!(*m.lock(), 2);
/// ```
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    pub(crate) mutex: &'a Mutex<T>,
    /// `!Send`, like std's guard.
    _not_send: PhantomData<*const ()>,
}

// SAFETY: a shared guard only gives `&T`, which is fine to share when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = spindle::sync::Mutex::new(0);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            state: AtomicU8::new(0),
            owner: AtomicU64::new(0),
            origin: Origin::new(),
            waiters: Lock::new(WaitList::new()),
            value: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex and returns the value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(spindle::sync::Mutex::new(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting (parking the green thread, or blocking the OS thread) while
    /// another holds it.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = spindle::sync::Mutex::new(1);
    /// *m.lock() += 1;
    /// ```
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> MutexGuard<'_, T> {
        crate::task::sched_point("Mutex::lock");
        let task = self.touch();
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow(Location::caller());
        }
        self.acquired(task)
    }

    /// Locks the mutex if it is free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let m = spindle::sync::Mutex::new(1);
    /// let g = m.lock();
    /// assert!(m.try_lock().is_none());
    /// drop(g);
    /// assert!(m.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        crate::task::sched_point("Mutex::try_lock");
        let task = self.touch();
        self.state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .ok()
            .map(|_| self.acquired(task))
    }

    /// A mutable reference to the value; no locking needed, the borrow proves exclusivity.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut m = spindle::sync::Mutex::new(1);
    /// *m.get_mut() = 3;
    /// assert_eq!(*m.lock(), 3);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// Notes the caller's use in the origin (before trying for the lock, so that a waiter
    /// that finds the lock taken sees the holder's mark too); returns the caller's task id
    /// (0: none), from the same look at the running task. `unlock` needs no touch: the guard
    /// is `!Send`, so whoever unlocks is whoever locked, and touched it then.
    #[inline]
    fn touch(&self) -> u64 {
        let (task, key) = crate::context::caller();
        self.origin.touch_from(key);
        task
    }

    #[inline]
    fn acquired(&self, task: u64) -> MutexGuard<'_, T> {
        self.owner.store(task, Ordering::Relaxed);
        MutexGuard {
            mutex: self,
            _not_send: PhantomData,
        }
    }

    /// Whether a waiter is queued for the lock: registered in the wait list, so the next
    /// unlock hands the lock to it. For tests that need to know a waiter is parked; not part
    /// of the API.
    #[doc(hidden)]
    pub fn has_waiters(&self) -> bool {
        self.origin.touch();
        !self.waiters.lock().is_empty()
    }

    /// The id of the task holding the lock, if a task holds it.
    pub(crate) fn owner(&self) -> Option<u64> {
        let locked = self.state.load(Ordering::Relaxed) & LOCKED != 0;
        let owner = self.owner.load(Ordering::Relaxed);
        (locked && owner != 0).then_some(owner)
    }

    #[cold]
    fn lock_slow(&self, location: &'static Location<'static>) {
        if self.spin() {
            return;
        }
        let mut attempt = |_: &mut WaitList| -> Option<()> {
            let mut s = self.state.load(Ordering::Relaxed);
            loop {
                let (new, acquire) = if s & LOCKED == 0 {
                    (s | LOCKED, true)
                } else if s & PARKED == 0 {
                    (s | PARKED, false)
                } else {
                    return None;
                };
                match self
                    .state
                    .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
                {
                    Ok(_) => return acquire.then_some(()),
                    Err(now) => s = now,
                }
            }
        };
        // A cancelled waiter that was handed the lock passes it on.
        let abandon = |_tag: u64| self.unlock_slow();
        let site = || WaitSite {
            owner: self.owner(),
            since_ms: 0,
            ..self.origin.site("Mutex::lock", location)
        };
        // Acquired ourselves, or handed over by the previous holder.
        if !wait_handed(&self.waiters, None, &site, &mut attempt, &abandon) {
            unreachable!("Mutex::lock has no deadline");
        }
    }

    /// Spins briefly for a lock held only for a moment, as long as nobody is queued (queued
    /// waiters are served first: spinning then would barge). Pointless for a green thread
    /// on a one-worker runtime, whose holder cannot run until it parks.
    fn spin(&self) -> bool {
        if !crate::context::spinning_helps() {
            return false;
        }
        for i in 0..SPIN_LIMIT {
            let s = self.state.load(Ordering::Relaxed);
            if s & PARKED != 0 {
                return false;
            }
            if s & LOCKED == 0
                && self
                    .state
                    .compare_exchange_weak(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return true;
            }
            for _ in 0..(1 << i.min(4)) {
                std::hint::spin_loop();
            }
        }
        false
    }

    /// Releases the lock (the guard's drop).
    #[inline]
    pub(crate) fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    /// Hands the lock to the first waiter, or frees it if none is left.
    #[cold]
    fn unlock_slow(&self) {
        let mut list = self.waiters.lock();
        match list.pop() {
            Some(next) => {
                if list.is_empty() {
                    // Still LOCKED: it now belongs to `next`.
                    self.state.store(LOCKED, Ordering::Release);
                }
                drop(list);
                next.waiter.wake();
            }
            None => {
                self.state.store(0, Ordering::Release);
            }
        }
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(g) => d.field("data", &&*g),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish_non_exhaustive()
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the guard proves we hold the lock, so no `&mut` to the value exists.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard proves we hold the lock, and `&mut self` that we are its only user.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.mutex.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
