//! The plain wait most primitives make, over [`wait::wait`]: on one of their wait lists,
//! with no tag and nothing to do once registered; and its hand-over form, for primitives
//! with one wait list ([`Waiters`]) whose notifier gives the waiter what it waits for.

use std::time::Instant;

use super::wait::{self, Wait, WaitList, Woken};
use crate::loom::Lock;
use crate::task::WaitSite;

/// Blocks the caller on `list` until `attempt` succeeds under `lock` (`Ok`), a notifier
/// pops its entry (`Err(Notified)`), or `deadline` passes (`Err(TimedOut)`). `site`
/// describes the wait if the caller parks; `abandon` passes on a notification the caller
/// leaves without using (see [`wait::wait`]).
#[inline]
pub(crate) fn wait_on<S, R>(
    lock: &Lock<S>,
    list: fn(&mut S) -> &mut WaitList,
    deadline: Option<Instant>,
    site: &dyn Fn() -> WaitSite,
    attempt: &mut dyn FnMut(&mut S) -> Option<R>,
    abandon: &dyn Fn(u64),
) -> Result<R, Woken> {
    wait::wait(Wait {
        lock,
        list,
        tag: 0,
        deadline,
        site,
        attempt,
        after_register: None,
        abandon,
    })
}

/// The state of a primitive whose waiters all queue on one list.
pub(crate) trait Waiters {
    /// That list.
    fn waiters(&mut self) -> &mut WaitList;
}

/// A primitive whose lock guards nothing but its wait list (a mutex, a condvar).
impl Waiters for WaitList {
    fn waiters(&mut self) -> &mut WaitList {
        self
    }
}

/// [`wait_on`] the one wait list of a primitive whose notifier completes the operation for
/// the waiter it pops (hands over a lock or a permit, sets a flag, releases a barrier):
/// `true` once the caller's `attempt` succeeded or a notifier did it for the caller, `false`
/// if `deadline` passed first.
#[inline]
pub(crate) fn wait_handed<S: Waiters>(
    lock: &Lock<S>,
    deadline: Option<Instant>,
    site: &dyn Fn() -> WaitSite,
    attempt: &mut dyn FnMut(&mut S) -> Option<()>,
    abandon: &dyn Fn(u64),
) -> bool {
    match wait_on(lock, S::waiters, deadline, site, attempt, abandon) {
        Ok(()) | Err(Woken::Notified) => true,
        Err(Woken::TimedOut) => false,
    }
}
