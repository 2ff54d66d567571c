//! The facade the synchronisation and scheduling code is written over, so that loom can
//! model-check it: atomics, an `UnsafeCell` whose accesses loom tracks, the short internal
//! lock of every primitive, OS-thread parking, and the clock of timed parks. Built with
//! `--cfg spindle_loom`, these are loom's; otherwise std's (and a spin lock), re-exported or
//! wrapped at no cost.
//!
//! Under loom no coroutine runs (loom models threads, not stack switches), so a primitive's
//! waiters are OS threads (`tests/loom_sync.rs`). The green-thread half of the protocols is
//! checked apart, by the library's `loom_*` unit tests (`cargo test --lib loom`), with loom
//! threads standing in for the workers and the wakers: the park/wake epoch state machine
//! (`task::park_state::ParkState`) and the join/complete hand-off (`Header::complete` and
//! `set_join_waiter`; the result slot and the joiner's waiter are this module's
//! `UnsafeCell`s, so loom checks them for data races).
//!
//! # Time under loom
//!
//! Loom has no time. Under `--cfg spindle_loom` the clock (`crate::clock::now`) stands still until the
//! model calls `pass_deadlines`, which moves it far past every deadline set so far and
//! unparks every thread in a timed park (`park_until`, which otherwise parks until
//! unparked). So "the deadline passed" is an event the model places, and loom explores every
//! interleaving of it with the other threads; a model that never calls it has no timeouts.

#[cfg(spindle_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, AtomicU8};
#[cfg(not(spindle_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8};

/// Under loom, loom's cell, which checks every access against the happens-before order.
#[cfg(spindle_loom)]
pub(crate) use loom::cell::UnsafeCell;

/// `std::cell::UnsafeCell` with loom's access API (`with`, `with_mut`): the pointer is handed
/// to a closure, so that under loom each access is checked. Without loom it is a transparent
/// wrapper and the closures inline away.
#[cfg(not(spindle_loom))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(std::cell::UnsafeCell<T>);

#[cfg(not(spindle_loom))]
impl<T> UnsafeCell<T> {
    #[inline(always)]
    pub(crate) const fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }
}

#[cfg(not(spindle_loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Reads through the pointer `f` is given (the caller's `unsafe` block justifies it).
    #[allow(dead_code)] // loom's API, kept whole; every access so far may write
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Writes through the pointer `f` is given (the caller's `unsafe` block justifies it).
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// A parked OS thread's handle.
#[cfg(spindle_loom)]
pub(crate) type Thread = loom::thread::Thread;
/// A parked OS thread's handle.
#[cfg(not(spindle_loom))]
pub(crate) type Thread = std::thread::Thread;

/// The calling thread's handle.
#[inline]
pub(crate) fn current_thread() -> Thread {
    #[cfg(spindle_loom)]
    return loom::thread::current();
    #[cfg(not(spindle_loom))]
    return std::thread::current();
}

/// Parks the calling OS thread (wake-ups may be spurious).
#[inline]
pub(crate) fn park() {
    #[cfg(spindle_loom)]
    loom::thread::park();
    #[cfg(not(spindle_loom))]
    std::thread::park();
}

/// Parks the calling OS thread until `deadline` at most (wake-ups may be spurious). Under
/// loom: parks until unparked, or until the model calls `pass_deadlines` (`crate::clock`).
#[inline]
pub(crate) fn park_until(deadline: std::time::Instant) {
    #[cfg(spindle_loom)]
    {
        if crate::clock::register_sleeper(deadline) {
            loom::thread::park();
        }
    }
    #[cfg(not(spindle_loom))]
    {
        let now = crate::clock::now();
        if now < deadline {
            std::thread::park_timeout(deadline - now);
        }
    }
}

/// The short lock guarding a primitive's state and wait lists. Critical sections are a few
/// dozen instructions and never block or switch, so a spin lock (with `yield_now` after a
/// while) serves better than a futex; under loom it is loom's `Mutex`.
#[cfg(not(spindle_loom))]
pub(crate) struct Lock<T> {
    locked: std::sync::atomic::AtomicBool,
    value: std::cell::UnsafeCell<T>,
}

// SAFETY: the lock gives one thread at a time access to the value, which must be `Send`.
#[cfg(not(spindle_loom))]
unsafe impl<T: Send> Sync for Lock<T> {}
// SAFETY: moving the lock moves the value.
#[cfg(not(spindle_loom))]
unsafe impl<T: Send> Send for Lock<T> {}

#[cfg(not(spindle_loom))]
impl<T> Lock<T> {
    pub(crate) const fn new(value: T) -> Lock<T> {
        Lock {
            locked: std::sync::atomic::AtomicBool::new(false),
            value: std::cell::UnsafeCell::new(value),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> LockGuard<'_, T> {
        use std::sync::atomic::Ordering;
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
        LockGuard { lock: self }
    }

    #[cold]
    fn lock_slow(&self) {
        use std::sync::atomic::Ordering;
        let mut spins = 0u32;
        loop {
            while self.locked.load(Ordering::Relaxed) {
                spins += 1;
                if spins < 64 {
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if self
                .locked
                .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
        }
    }
}

/// Access to a [`Lock`]'s value; unlocks on drop.
#[cfg(not(spindle_loom))]
pub(crate) struct LockGuard<'a, T> {
    lock: &'a Lock<T>,
}

#[cfg(not(spindle_loom))]
impl<T> std::ops::Deref for LockGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: holding the guard means holding the lock: no other reference exists.
        unsafe { &*self.lock.value.get() }
    }
}

#[cfg(not(spindle_loom))]
impl<T> std::ops::DerefMut for LockGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: holding the guard means holding the lock: no other reference exists.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(not(spindle_loom))]
impl<T> Drop for LockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock
            .locked
            .store(false, std::sync::atomic::Ordering::Release);
    }
}

/// Under loom, the internal lock is loom's mutex.
#[cfg(spindle_loom)]
pub(crate) struct Lock<T>(loom::sync::Mutex<T>);

#[cfg(spindle_loom)]
pub(crate) type LockGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

#[cfg(spindle_loom)]
impl<T> Lock<T> {
    pub(crate) fn new(value: T) -> Lock<T> {
        Lock(loom::sync::Mutex::new(value))
    }

    pub(crate) fn lock(&self) -> LockGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

/// Runs a loom model at the preemption bound every model of the crate uses (3).
#[cfg(all(test, spindle_loom))]
pub(crate) fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}
