//! A mutual-exclusion lock that parks green threads and blocks OS threads: barging with
//! eventual fairness, as parking_lot's, or FIFO hand-over on request.
//!
//! `state` holds two bits: `LOCKED`, and `PARKED` (someone waits). The fast paths are one
//! compare-and-swap each. `PARKED` is set and cleared only under the internal lock, so an
//! unlock that finds it set takes the slow path and pops the first waiter. Then either
//! - *barging* (the default): the unlock clears `LOCKED` and wakes the waiter, which tries
//!   again; whoever runs first takes the lock, so a busy lock is passed between running
//!   threads instead of through a chain of wake-ups (a convoy). A waiter that loses queues
//!   again at the back;
//! - or *hand-over*: the unlock keeps `LOCKED` and gives the lock to the waiter (noting its
//!   tag in `handed_to`), so nobody can take it in between. [`MutexGuard::unlock_fair`]
//!   asks for it; a slow unlock does it anyway once [`FAIR_EVERY`] has passed since the
//!   last one (no waiter starves), and for a green waiter of the unlocker's own worker,
//!   which could not compete before the unlocker parks or yields.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::origin::Origin;
use super::plain_wait::Waiters;
use super::wait::{self, Wait, WaitList, Woken};
use crate::loom::{AtomicU8, Lock};
use crate::task::{WaitSite, Waiter};

const LOCKED: u8 = 1;
const PARKED: u8 = 2;
/// A waiter was woken to compete and has not tried yet: unlocks wake nobody else meanwhile
/// (as Go's `mutexWoken`), so a busy lock does not wake a waiter per unlock.
const WOKEN: u8 = 4;
/// Rounds of spinning (with growing pauses) before a contended `lock` parks.
const SPIN_LIMIT: u32 = 10;
/// How often at least a slow unlock hands the lock over to the longest waiter (parking_lot
/// uses 0.5 ms too).
const FAIR_EVERY: Duration = Duration::from_micros(500);

/// Tags of lock waits, so that a hand-over names the wait it is for (0: none).
static NEXT_TAG: AtomicU64 = AtomicU64::new(1);

/// What the internal lock guards.
#[derive(Default)]
struct Waiting {
    list: WaitList,
    /// The tag of the wait the lock was handed to, until that waiter takes it (0: none).
    handed_to: u64,
    /// When a slow unlock next hands over instead of letting others barge.
    fair_at: Option<Instant>,
}

impl Waiters for Waiting {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.list
    }
}

/// A mutual-exclusion lock protecting a `T`, like `std::sync::Mutex` but without poisoning,
/// and parking a green thread instead of blocking its worker.
///
/// A contended lock goes to whichever thread asks first once it is free, as parking_lot's
/// and std's do: an unlock wakes the longest waiter, which competes with running threads
/// instead of being handed the lock, so a busy lock does not make every locker wait for a
/// wake-up. No waiter starves: at least every 0.5 ms an unlock hands the lock to the
/// longest waiter instead, and [`MutexGuard::unlock_fair`] does that whenever it is wanted.
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
    waiters: Lock<Waiting>,
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
            waiters: Lock::new(Waiting::default()),
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
        // Free, even with waiters queued (they were woken, or will be, and compete).
        let s = self.state.load(Ordering::Relaxed);
        (s & LOCKED == 0
            && self
                .state
                .compare_exchange(s, s | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                .is_ok())
        .then(|| self.acquired(task))
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
        !self.waiters.lock().list.is_empty()
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
        let tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
        let was_woken = std::cell::Cell::new(false);
        let mut attempt = |w: &mut Waiting| -> Option<()> {
            if w.handed_to == tag {
                // Handed over to this wait while it was queued: LOCKED stayed set for it.
                w.handed_to = 0;
                return Some(());
            }
            if was_woken.replace(false) {
                // Our try, as the woken waiter: the next unlock may wake another.
                self.state.fetch_and(!WOKEN, Ordering::Relaxed);
            }
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
        // A waiter that leaves after an unlock picked it (its task cancelled at shutdown)
        // passes on what it was given: the lock itself, or the wake-up to compete for it.
        let abandon = |tag: u64| self.abandoned(tag);
        let site = || WaitSite {
            owner: self.owner(),
            since_ms: 0,
            ..self.origin.site("Mutex::lock", location)
        };
        loop {
            let woken = wait::wait(Wait {
                lock: &self.waiters,
                list: Waiting::waiters,
                tag,
                deadline: None,
                site: &site,
                attempt: &mut attempt,
                after_register: None,
                abandon: &abandon,
            });
            match woken {
                Ok(()) => return,
                // Picked by an unlock: handed the lock (the next attempt takes it) or woken
                // to compete for it.
                Err(Woken::Notified) => was_woken.set(true),
                Err(Woken::TimedOut) => unreachable!("Mutex::lock has no deadline"),
            }
        }
    }

    /// Spins a little while the lock is held, for a holder on another thread to let go; on
    /// one worker nobody else runs meanwhile, so it does not spin there.
    fn spin(&self) -> bool {
        if !crate::context::spinning_helps() {
            return false;
        }
        for i in 0..SPIN_LIMIT {
            let s = self.state.load(Ordering::Relaxed);
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
        self.release(false);
    }

    /// Releases the lock; with waiters queued, hands it to the first if `fair` (see
    /// [`Mutex::unlock_slow`]).
    #[inline]
    fn release(&self, fair: bool) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow(fair);
        }
    }

    /// Releases the lock with waiters queued: wakes the first, and hands it the lock if
    /// `fair`, if it is a green thread of this worker, or if [`FAIR_EVERY`] has passed since
    /// the last hand-over.
    #[cold]
    fn unlock_slow(&self, fair: bool) {
        let mut w = self.waiters.lock();
        let s = self.state.load(Ordering::Relaxed);
        if s & WOKEN != 0 && !fair {
            // A woken waiter is on its way to compete: let it.
            self.state.fetch_and(!LOCKED, Ordering::Release);
            return;
        }
        let Some(next) = w.list.pop() else {
            // Nobody queued (the last waiter left, cancelled): a stale `PARKED` would send
            // every later unlock down this path.
            self.state.fetch_and(!(LOCKED | PARKED), Ordering::Release);
            return;
        };
        let now = crate::clock::now();
        let fair_at = *w.fair_at.get_or_insert(now + FAIR_EVERY);
        let parked = if w.list.is_empty() { 0 } else { PARKED };
        // A green waiter on this worker cannot compete before we park or yield: woken only,
        // it would find the lock taken again for as long as we keep relocking it.
        let here = matches!(&next.waiter, Waiter::Task { task, .. }
            if crate::task::shares_worker_with_running(task));
        if fair || here || now >= fair_at {
            w.fair_at = Some(now + FAIR_EVERY);
            w.handed_to = next.tag;
            // Still LOCKED: it now belongs to `next`.
            self.state
                .store(LOCKED | parked | (s & WOKEN), Ordering::Release);
        } else {
            self.state.store(WOKEN | parked, Ordering::Release);
        }
        drop(w);
        next.waiter.wake();
    }

    /// A waiter picked by an unlock left without taking what it was given.
    fn abandoned(&self, tag: u64) {
        let mut w = self.waiters.lock();
        if w.handed_to == tag {
            w.handed_to = 0;
            drop(w);
            // The lock was ours: pass it on.
            self.unlock_slow(true);
            return;
        }
        // We were woken to compete: wake the next waiter instead, if the lock is free.
        let s = self.state.fetch_and(!WOKEN, Ordering::Relaxed);
        if s & LOCKED == 0 {
            if let Some(next) = w.list.pop() {
                let parked = if w.list.is_empty() { 0 } else { PARKED };
                self.state.fetch_or(WOKEN, Ordering::Relaxed);
                if parked == 0 {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
                drop(w);
                next.waiter.wake();
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

impl<T: ?Sized> MutexGuard<'_, T> {
    /// Unlocks, handing the lock to the longest waiter if there is one: nobody else can take
    /// it in between, not even this thread right after. Strict first come, first served,
    /// for where fairness matters more than throughput (a plain drop lets running threads
    /// take a free lock before a woken waiter gets to it).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use spindle::sync::{Mutex, MutexGuard};
    ///
    /// let rt = spindle::Runtime::cooperative().build().unwrap();
    /// let turns = rt.block_on(|| {
    ///     let m = Arc::new(Mutex::new(Vec::new()));
    ///     let g = m.lock();
    ///     let m2 = m.clone();
    ///     let waiter = std::thread::spawn(move || m2.lock().push("waiter"));
    ///     while !m.has_waiters() {
    ///         spindle::sleep(std::time::Duration::from_millis(1));
    ///     }
    ///     MutexGuard::unlock_fair(g); // the waiter's now: this lock queues behind it
    ///     m.lock().push("me");
    ///     waiter.join().unwrap();
    ///     let turns = m.lock().clone();
    ///     turns
    /// });
    /// assert_eq!(turns, ["waiter", "me"]);
    /// ```
    pub fn unlock_fair(guard: Self) {
        let mutex = guard.mutex;
        std::mem::forget(guard);
        mutex.release(true);
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

#[cfg(all(test, not(spindle_loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A waiter that leaves the queue cancelled takes `PARKED` with it once the lock is let
    /// go, so later unlocks take the fast path again.
    #[test]
    fn a_cancelled_waiter_leaves_no_parked_bit() {
        let rt = crate::Runtime::cooperative().workers(1).build().unwrap();
        let m = Arc::new(Mutex::new(0));
        let m2 = m.clone();
        rt.block_on(move || {
            // Held past the end of `block_on`, so the waiter is cancelled still queued.
            std::mem::forget(m2.lock());
            let m3 = m2.clone();
            crate::Builder::new()
                .daemon(true)
                .spawn(move || *m3.lock() += 1)
                .unwrap();
            while !m2.has_waiters() {
                crate::yield_now();
            }
        });
        assert!(!m.has_waiters(), "the cancelled waiter left the queue");
        assert_eq!(m.state.load(Ordering::Relaxed), LOCKED | PARKED);
        m.unlock();
        assert_eq!(m.state.load(Ordering::Relaxed), 0, "a stale PARKED bit");
        assert_eq!(*m.lock(), 0);
    }
}
