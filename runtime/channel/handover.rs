//! The receiving side of the hand-over: a receiver collecting the message a sender put in its
//! slot (waiting first for one a select's send has promised), and what a cancelled waiter
//! gives back: a message it was handed goes back to the front of the channel, a notification
//! it was sent goes on to the next waiter. The sending side is `State::deliver` (`waiters`).

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic;
use std::sync::atomic::Ordering;

use super::state::Chan;
use super::waiters::{Slot, Wakes};
use crate::task::WaitSite;
use crate::task::Waiter;

/// The message a receiver was given in `slot` once its wait ended (popped, or paired with a
/// select's send), waiting first for a pending one; `None`: only "look again".
///
/// The caller has seen its entry leave the list (woken by the notifier that popped it, or
/// under the lock): whatever that notifier wrote, `pending` included, happened before.
#[inline]
pub(super) fn collect<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Option<T> {
    if is_pending(slot) {
        return collect_pending(chan, slot, site);
    }
    // SAFETY: no write is pending (see `is_pending`): no one touches the slot any more.
    unsafe { (*slot.get()).msg.take() }
}

/// Whether a select's send still has to write `slot`; once it reads `false`, the slot is
/// ours alone: every write to it happened before (the one that cleared `pending` last).
#[inline]
fn is_pending<T>(slot: &UnsafeCell<Slot<T>>) -> bool {
    // SAFETY: the slot is alive (the caller's); an atomic, read without the lock.
    unsafe { (*slot.get()).pending.load(Ordering::Acquire) }
}

#[cold]
fn collect_pending<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Option<T> {
    let mut unwound = None;
    let msg = loop {
        if !is_pending(slot) {
            // SAFETY: as in `collect`.
            break unsafe { (*slot.get()).msg.take() };
        }
        if let Err(p) = wait_pending(chan, slot, site) {
            unwound.get_or_insert(p);
        }
    };
    if let Some(p) = unwound {
        // Cancelled while a select's message was on its way: it goes back to the channel.
        if let Some(m) = msg {
            put_back(chan, m);
        }
        panic::resume_unwind(p);
    }
    msg
}

/// Parks until `slot` is no longer pending (the writer wakes `rewake`). A cancellation that
/// unwinds out of the park is caught and returned: the slot must outlive the write.
fn wait_pending<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    if crate::task::in_green_thread() {
        return wait_pending_green(chan, slot, site);
    }
    {
        let _st = chan.state.lock();
        if !is_pending(slot) {
            return Ok(());
        }
        // SAFETY: under the channel's lock, while the writer is still to come.
        unsafe { (*slot.get()).rewake = Some(Waiter::Thread(crate::loom::current_thread())) };
    }
    crate::loom::park(); // wake-ups may be spurious: the caller checks again
    Ok(())
}

#[cfg(not(spindle_loom))]
fn wait_pending_green<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    let task = crate::task::running().expect("checked by the caller");
    crate::task::set_wait_site(task, Some(site()));
    let mut register = |w: Waiter| {
        let st = chan.state.lock();
        if is_pending(slot) {
            // SAFETY: under the channel's lock, while the writer is still to come.
            unsafe { (*slot.get()).rewake = Some(w) };
        } else {
            drop(st);
            w.wake();
        }
    };
    // SAFETY: `task` is the task running on this thread.
    let r = panic::catch_unwind(panic::AssertUnwindSafe(|| unsafe {
        crate::task::park(task, &mut register)
    }));
    crate::task::set_wait_site(task, None);
    r
}

#[cfg(spindle_loom)]
fn wait_pending_green<T>(
    _: &Chan<T>,
    _: &UnsafeCell<Slot<T>>,
    _: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    unreachable!("no green threads under loom")
}

/// Puts a message taken but not used back at the front of the channel, for the next receiver.
pub(super) fn put_back<T>(chan: &Chan<T>, msg: T) {
    let mut wakes = Wakes::new();
    {
        let mut st = chan.state.lock();
        let ticket = st.ticket();
        st.buf.push_front((ticket, msg));
        st.notify_recv(&mut wakes);
    }
    wakes.wake();
}

/// A plain receiver cancelled after its entry was popped: the message it was given goes back,
/// and the notification to the next receiver.
pub(super) fn abandon_recv<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) {
    match collect(chan, slot, site) {
        Some(m) => put_back(chan, m),
        None => {
            let mut wakes = Wakes::new();
            chan.state.lock().notify_recv(&mut wakes);
            wakes.wake();
        }
    }
}

/// A plain sender cancelled after it was told of room: the next one is told.
pub(super) fn abandon_send<T>(chan: &Chan<T>) {
    let mut wakes = Wakes::new();
    chan.state.lock().notify_room(&mut wakes);
    wakes.wake();
}
