//! The one clock the scheduler reads. Every deadline and timer goes through [`now`], so a
//! virtual clock replaces it in one place: under `--cfg spindle_loom` the model's (below);
//! on the thread of a deterministic runtime, the virtual time that runtime sets
//! ([`set_virtual`]) while it runs.
//!
//! This file is the ground floor: it imports nothing of the crate.
//!
//! What reads `Instant::now()` elsewhere does so on purpose: the supervisors that watch the
//! runtime from outside it in real time (the stall watchdog, `block_on`'s stuck warning, the
//! patience of a snapshot request) must not stop when a virtual clock does.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

thread_local! {
    /// The virtual time of the deterministic runtime running on this thread, if one is.
    static VIRTUAL: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// The current time as the scheduler sees it.
#[inline]
pub(crate) fn now() -> Instant {
    // Under loom, the model's virtual clock.
    #[cfg(spindle_loom)]
    return virtual_clock::CLOCK.lock().unwrap().now();
    #[cfg(not(spindle_loom))]
    match VIRTUAL.with(Cell::get) {
        Some(t) => t,
        None => Instant::now(),
    }
}

/// Where virtual time starts: a fixed instant of the process, so every run of a
/// deterministic runtime starts at the same `now()` and differences compare across runs.
pub(crate) fn virtual_epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// Sets (or, with `None`, ends) the virtual time [`now`] reads on this thread.
pub(crate) fn set_virtual(t: Option<Instant>) {
    VIRTUAL.with(|v| v.set(t));
}

/// The coarse clock that says how long a task has waited: milliseconds of
/// `CLOCK_MONOTONIC_COARSE` (a few milliseconds of resolution, a fraction of the cost of
/// [`now`]), wrapping every 2^32 ms (49 days); compare two readings with `wrapping_sub`.
/// Under loom, the model's clock.
#[inline]
pub(crate) fn coarse_millis() -> u32 {
    #[cfg(spindle_loom)]
    {
        static ORIGIN: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let t = now();
        let origin = *ORIGIN.get_or_init(|| t);
        return t.saturating_duration_since(origin).as_millis() as u32;
    }
    #[cfg(not(spindle_loom))]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE needs nothing else.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
        (ts.tv_sec as u64)
            .wrapping_mul(1000)
            .wrapping_add(ts.tv_nsec as u64 / 1_000_000) as u32
    }
}

/// The deadline `d` from [`now`], saturating 100 years ahead (a timeout of `Duration::MAX`
/// waits "forever" without overflowing `Instant`).
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Under loom, for a thread about to park until `deadline`: `false` if the deadline has
/// already passed (do not park), else records the thread so that the next
/// [`pass_deadlines`] unparks it, and returns `true`.
#[cfg(spindle_loom)]
pub(crate) fn register_sleeper(deadline: Instant) -> bool {
    let mut clock = virtual_clock::CLOCK.lock().unwrap();
    if clock.now() >= deadline {
        return false;
    }
    clock.sleepers.push(loom::thread::current());
    true
}

/// Under loom, makes every deadline set so far pass: the clock jumps far ahead (past
/// `deadline_after`'s saturation too) and every thread in a timed park is unparked (it
/// then sees its deadline passed). Deadlines set after the call pass at the next one. Loom
/// has no time of its own: "the deadline passed" is an event the model places, and loom
/// explores every interleaving of it with the other threads.
#[cfg(spindle_loom)]
pub fn pass_deadlines() {
    let sleepers = {
        let mut clock = virtual_clock::CLOCK.lock().unwrap();
        clock.jumps += 1;
        std::mem::take(&mut clock.sleepers)
    };
    for t in sleepers {
        t.unpark();
    }
}

#[cfg(spindle_loom)]
mod virtual_clock {
    use std::time::{Duration, Instant};

    /// How far each [`pass_deadlines`](super::pass_deadlines) moves the clock: more than any
    /// timeout (`deadline_after` saturates at 100 years).
    const JUMP: Duration = Duration::from_secs(1000 * 365 * 24 * 3600);

    /// The model's clock, fresh in every loom execution.
    #[derive(Default)]
    pub(super) struct Clock {
        /// How many times the model passed the deadlines.
        pub(super) jumps: u32,
        /// Threads in a timed park since the last jump.
        pub(super) sleepers: Vec<loom::thread::Thread>,
    }

    impl Clock {
        pub(super) fn now(&self) -> Instant {
            static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
            *BASE.get_or_init(Instant::now) + JUMP * self.jumps
        }
    }

    loom::lazy_static! {
        pub(super) static ref CLOCK: loom::sync::Mutex<Clock> = loom::sync::Mutex::new(Clock::default());
    }
}
