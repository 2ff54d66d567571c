//! The facade the synchronisation code is written over, so that loom can model-check it:
//! atomics, the short internal lock of every primitive, and OS-thread parking. Built with
//! `--cfg spindle_loom`, these are loom's; otherwise std's (and a spin lock).
//!
//! Under loom only the OS-thread path of each primitive runs (loom models threads, not
//! coroutines); the green-thread path differs only in how a waiter parks, which the
//! scheduler's own tests cover.

#[cfg(spindle_loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8};
#[cfg(not(spindle_loom))]
pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8};

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

/// Parks the calling OS thread for at most `d` (loom has no time: it parks).
#[inline]
pub(crate) fn park_timeout(d: std::time::Duration) {
    #[cfg(spindle_loom)]
    {
        let _ = d;
        loom::thread::park();
    }
    #[cfg(not(spindle_loom))]
    std::thread::park_timeout(d);
}

/// Whether the caller runs in a green thread (never, under loom).
#[inline]
pub(crate) fn in_green_thread() -> bool {
    #[cfg(spindle_loom)]
    return false;
    #[cfg(not(spindle_loom))]
    return crate::coop::running().is_some();
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
