//! The one blocking routine every primitive uses, over the parker abstraction: a green
//! thread parks its coroutine (and registers only after it has switched out), an OS thread
//! parks itself. Both sides see the same protocol.
//!
//! # Protocol
//!
//! A primitive keeps its state and its [`WaitList`]s under one short [`Lock`]. To wait:
//!
//! 1. under the lock, `attempt` the operation; done if it succeeds;
//! 2. else push an [`Entry`] (the waiter, a unique id and a tag) onto the list, and (green
//!    threads) a timer for the deadline, which the waiter cancels once it is woken;
//! 3. park; wake-ups come from a notifier that *pops* the entry (then wakes it, after
//!    unlocking) or from the timer;
//! 4. on waking, under the lock: entry gone means **notified**; entry still there means the
//!    deadline passed (or the wake was spurious: park again).
//!
//! "Notified" means what the primitive says: a mutex or semaphore notifier hands ownership
//! over with the pop (FIFO, no barging); a queue or channel notifier only says "look again".
//! A waiter that is notified but leaves without using it (its task is cancelled while
//! parked) calls the primitive's `abandon`, which passes ownership or the notification on.

use std::fmt;
#[cfg(not(spindle_loom))]
use std::ptr::NonNull;
use std::time::Instant;

use crate::coop::WaitTimer;
use crate::inline_deque::InlineDeque;
use crate::loom::{Lock, LockGuard};
#[cfg(not(spindle_loom))]
use crate::task::{Body, TaskCell};
use crate::task::{WaitSite, Waiter};

/// One parked waiter.
pub(crate) struct Entry {
    /// Unique within its list.
    pub(crate) id: u64,
    /// What the primitive wants to remember about this waiter (a ticket, a count).
    pub(crate) tag: u64,
    pub(crate) waiter: Waiter,
}

/// A FIFO of parked waiters, kept under its primitive's lock. The first entry is kept
/// inline ([`InlineDeque`]): most waits have one waiter at a time (a ping-pong's receiver, a
/// joiner), and a list that never holds two allocates nothing.
#[derive(Default)]
pub(crate) struct WaitList {
    entries: InlineDeque<Entry>,
    next_id: u64,
}

impl fmt::Debug for WaitList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitList")
            .field("waiting", &self.len())
            .finish()
    }
}

impl WaitList {
    pub(crate) const fn new() -> WaitList {
        WaitList {
            entries: InlineDeque::new(),
            next_id: 0,
        }
    }

    /// Queues `waiter` at the back with `tag`; returns its entry's id (for `remove`).
    pub(crate) fn push(&mut self, waiter: Waiter, tag: u64) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push_back(Entry { id, tag, waiter });
        id
    }

    /// Takes the front entry.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        self.entries.pop_front()
    }

    /// Takes the first entry with `tag`.
    pub(crate) fn pop_tag(&mut self, tag: u64) -> Option<Entry> {
        self.pop_where(|e| e.tag == tag)
    }

    /// Takes the first entry for which `f` holds.
    pub(crate) fn pop_where(&mut self, f: impl FnMut(&Entry) -> bool) -> Option<Entry> {
        let i = self.entries.iter().position(f)?;
        self.entries.remove(i)
    }

    /// Whether any entry satisfies `f`.
    pub(crate) fn any(&self, f: impl FnMut(&Entry) -> bool) -> bool {
        self.entries.iter().any(f)
    }

    /// Takes every entry, in order.
    pub(crate) fn drain(&mut self) -> Drained {
        std::mem::take(&mut self.entries)
    }

    /// Removes the entry `id`; returns whether it was there.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        self.pop_where(|e| e.id == id).is_some()
    }

    fn contains(&self, id: u64) -> bool {
        self.any(|e| e.id == id)
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// The entries of a drained [`WaitList`], in order (an iterator).
pub(crate) type Drained = InlineDeque<Entry>;

/// Wakes every entry (call after releasing the lock).
pub(crate) fn wake_all(entries: Drained) {
    for e in entries {
        e.waiter.wake();
    }
}

/// How a wait ended without its `attempt` succeeding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Woken {
    /// A notifier popped our entry.
    Notified,
    /// The deadline passed first.
    TimedOut,
}

/// What [`wait`] needs to know about one wait.
#[cfg_attr(spindle_loom, allow(dead_code))]
pub(crate) struct Wait<'a, S, R> {
    pub(crate) lock: &'a Lock<S>,
    /// Which of the state's lists to wait on.
    pub(crate) list: fn(&mut S) -> &mut WaitList,
    pub(crate) tag: u64,
    pub(crate) deadline: Option<Instant>,
    /// Describes the wait for the deadlock report; called only if the caller parks.
    pub(crate) site: &'a dyn Fn() -> WaitSite,
    /// Tries the operation under the lock. It runs under the primitive's spin lock and, in a
    /// green thread's registration, on the worker's own stack: it must not block, yield or
    /// run user code (an `Ord`, a `Drop`, a closure), which could do either or panic.
    pub(crate) attempt: &'a mut dyn FnMut(&mut S) -> Option<R>,
    /// Runs once the entry is registered, without the lock (a condvar releases its mutex).
    pub(crate) after_register: Option<&'a mut dyn FnMut()>,
    /// Called (without the lock) when a notified waiter leaves without using it.
    pub(crate) abandon: &'a dyn Fn(u64),
}

/// Blocks the caller until `attempt` succeeds (`Ok`), a notifier pops its entry
/// (`Err(Notified)`), or the deadline passes (`Err(TimedOut)`).
#[inline]
pub(crate) fn wait<S, R>(mut w: Wait<'_, S, R>) -> Result<R, Woken> {
    {
        let mut g = w.lock.lock();
        if let Some(r) = (w.attempt)(&mut g) {
            return Ok(r);
        }
        if w.deadline.is_some_and(|d| crate::clock::now() >= d) {
            return Err(Woken::TimedOut);
        }
    }
    if crate::task::in_green_thread() {
        wait_green(w)
    } else {
        wait_thread(&mut w)
    }
}

/// Removes a registered entry if the waiter leaves by unwinding (a cancelled task), and
/// passes on a notification it would otherwise swallow.
#[cfg_attr(spindle_loom, allow(dead_code))]
struct Unregister<'a, S> {
    lock: &'a Lock<S>,
    list: fn(&mut S) -> &mut WaitList,
    id: Option<u64>,
    abandon: &'a dyn Fn(u64),
    tag: u64,
    /// The deadline's timer, cancelled once the wait is over, however it ends.
    timer: WaitTimer,
}

impl<S> Drop for Unregister<'_, S> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            let removed = (self.list)(&mut self.lock.lock()).remove(id);
            if !removed {
                (self.abandon)(self.tag);
            }
        }
    }
}

/// Clears the running task's wait site when its wait ends, also by unwinding (a cancelled
/// task): the site refers to the primitive (its origin word), which may not outlive the wait.
#[cfg(not(spindle_loom))]
struct ClearSite(NonNull<TaskCell<dyn Body>>);

#[cfg(not(spindle_loom))]
impl Drop for ClearSite {
    #[inline]
    fn drop(&mut self) {
        crate::task::set_wait_site(self.0, None);
    }
}

#[cfg(not(spindle_loom))]
#[inline]
fn wait_green<S, R>(w: Wait<'_, S, R>) -> Result<R, Woken> {
    let task = crate::task::running().expect("checked by the caller");
    let mut guard = Unregister {
        lock: w.lock,
        list: w.list,
        id: None,
        abandon: w.abandon,
        tag: w.tag,
        timer: WaitTimer::new(),
    };
    let mut result = None;
    let mut after = w.after_register;
    let attempt = w.attempt;
    crate::task::set_wait_site(task, Some((w.site)()));
    let _site = ClearSite(task);
    loop {
        {
            let (result, id, timer) = (&mut result, &mut guard.id, &mut guard.timer);
            let mut register = |waiter: Waiter| {
                let mut g = w.lock.lock();
                if let Some(r) = attempt(&mut g) {
                    *result = Some(r);
                    drop(g);
                    waiter.wake();
                    return;
                }
                if let Some(deadline) = w.deadline {
                    timer.set(deadline, waiter.clone());
                }
                *id = Some((w.list)(&mut g).push(waiter, w.tag));
                drop(g);
                if let Some(after) = after.take() {
                    after();
                }
            };
            // SAFETY: `task` is the task running on this thread.
            unsafe { crate::task::park(task, &mut register) };
        }
        // Woken: the timer has fired or is of no more use (a wait ended long before its
        // deadline must not leave it, and the task it holds, in the worker's heap).
        guard.timer.cancel();
        if let Some(r) = result.take() {
            return Ok(r);
        }
        let id = guard.id.take().expect("registered when the attempt failed");
        // Wakes are exact: without a deadline, only a notifier's pop can have woken us —
        // unless a cancellation resumed a task that is already unwinding (then check).
        if w.deadline.is_none() && !std::thread::panicking() {
            return Err(Woken::Notified);
        }
        let mut g = w.lock.lock();
        if !(w.list)(&mut g).remove(id) {
            drop(g);
            return Err(Woken::Notified);
        }
        let timed_out = w.deadline.is_some_and(|d| crate::clock::now() >= d);
        if timed_out {
            drop(g);
            return Err(Woken::TimedOut);
        }
        // Woken early without a notification (a cancellation that could not unwind):
        // register again, unless the operation can now go through.
        if let Some(r) = attempt(&mut g) {
            drop(g);
            return Ok(r);
        }
    }
}

#[cfg(spindle_loom)]
fn wait_green<S, R>(_w: Wait<'_, S, R>) -> Result<R, Woken> {
    unreachable!("no green threads under loom")
}

fn wait_thread<S, R>(w: &mut Wait<'_, S, R>) -> Result<R, Woken> {
    let id = {
        let mut g = w.lock.lock();
        if let Some(r) = (w.attempt)(&mut g) {
            return Ok(r);
        }
        (w.list)(&mut g).push(Waiter::Thread(crate::loom::current_thread()), w.tag)
    };
    if let Some(after) = w.after_register.as_mut() {
        after();
    }
    loop {
        match w.deadline {
            None => crate::loom::park(),
            Some(d) => crate::loom::park_until(d),
        }
        let mut g: LockGuard<'_, S> = w.lock.lock();
        if !(w.list)(&mut g).contains(id) {
            return Err(Woken::Notified);
        }
        if w.deadline.is_some_and(|d| crate::clock::now() >= d) {
            (w.list)(&mut g).remove(id);
            return Err(Woken::TimedOut);
        }
    }
}
