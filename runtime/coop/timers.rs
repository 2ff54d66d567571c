//! A worker's timers: a heap of deadlines, earliest first, and by its side the waiter each
//! live timer wakes. Only the worker's own thread touches them.
//!
//! A timed wait that ends before its deadline (notified, ready, cancelled) cancels its timer
//! ([`Timers::cancel`]): the waiter — and the task it holds — goes at once; the heap entry,
//! a deadline and two numbers, stays until it comes to the top or until dead entries are
//! more than half the heap, when they are all swept out. So the heap never holds more than
//! twice its live timers (plus a small floor), whatever the deadlines.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::time::Instant;

use slab::Slab;

use crate::task::Waiter;

/// Below this many entries the heap is not swept (a sweep would cost more than it saves).
const SWEEP_FLOOR: usize = 64;

/// A deadline in the heap. Ordered so that `BinaryHeap` pops the earliest first.
struct Timer {
    deadline: Instant,
    /// Unique per timer: tells a live timer from a cancelled one whose slot was reused.
    seq: u64,
    /// Its waiter's slot in [`Timers::live`].
    slot: usize,
}

impl PartialEq for Timer {
    fn eq(&self, other: &Timer) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Timer {}
impl PartialOrd for Timer {
    fn partial_cmp(&self, other: &Timer) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Timer {
    fn cmp(&self, other: &Timer) -> CmpOrdering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

/// A timer as its wait holds it, to cancel it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TimerKey {
    seq: u64,
    slot: usize,
}

/// The pending timers of one worker's tasks.
#[derive(Default)]
pub(crate) struct Timers {
    heap: RefCell<BinaryHeap<Timer>>,
    /// The waiter of each live timer (neither fired nor cancelled), with its `seq`.
    live: RefCell<Slab<(u64, Waiter)>>,
    seq: Cell<u64>,
}

impl Timers {
    /// Adds a timer that wakes `waiter` at `deadline`.
    pub(crate) fn add(&self, deadline: Instant, waiter: Waiter) -> TimerKey {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        let slot = self.live.borrow_mut().insert((seq, waiter));
        self.heap.borrow_mut().push(Timer {
            deadline,
            seq,
            slot,
        });
        TimerKey { seq, slot }
    }

    /// Cancels a timer whose wait ended: drops its waiter now (a no-op if it already fired).
    pub(crate) fn cancel(&self, key: TimerKey) {
        let waiter = {
            let mut live = self.live.borrow_mut();
            match live.get(key.slot) {
                Some(&(seq, _)) if seq == key.seq => Some(live.remove(key.slot)),
                _ => None,
            }
        };
        // Dropped outside the borrow: it may free a task.
        drop(waiter);
        self.sweep_if_mostly_dead();
    }

    /// Whether no timer is live.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.live.borrow().is_empty()
    }

    /// Wakes every live waiter whose deadline is not after `now`.
    pub(crate) fn fire(&self, now: Instant) {
        loop {
            let due = {
                let mut heap = self.heap.borrow_mut();
                match heap.peek() {
                    Some(t) if t.deadline <= now => heap.pop(),
                    _ => None,
                }
            };
            let Some(t) = due else { break };
            if let Some(waiter) = self.take(&t) {
                waiter.wake();
            }
        }
    }

    /// The earliest deadline, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.borrow().peek().map(|t| t.deadline)
    }

    /// Drops timers at the top of the heap that were cancelled or whose wait already ended
    /// (the task was woken another way): their wake would do nothing, and they would keep
    /// the worker from sleeping without a deadline (which the deadlock check looks for).
    pub(crate) fn drop_stale(&self) {
        loop {
            let top = {
                let mut heap = self.heap.borrow_mut();
                let live = self.live.borrow();
                let dead = heap.peek().is_some_and(|t| {
                    !live
                        .get(t.slot)
                        .is_some_and(|(seq, w)| *seq == t.seq && !w.is_stale())
                });
                if dead {
                    heap.pop()
                } else {
                    None
                }
            };
            let Some(t) = top else { break };
            drop(self.take(&t));
        }
    }

    /// Drops every timer (their waiters may hold tasks long finished).
    pub(crate) fn clear(&mut self) {
        self.heap.get_mut().clear();
        self.live.get_mut().clear();
    }

    /// Drops every timer, through a shared reference (a deterministic runtime's `block_on`
    /// ends with none left, so that the next run starts from the same state).
    pub(crate) fn reset(&self) {
        self.heap.borrow_mut().clear();
        let live = std::mem::take(&mut *self.live.borrow_mut());
        // Dropped outside the borrow: a waiter may free a task.
        drop(live);
    }

    /// Takes the waiter of a timer popped from the heap, if it is still live.
    fn take(&self, t: &Timer) -> Option<Waiter> {
        let mut live = self.live.borrow_mut();
        match live.get(t.slot) {
            Some(&(seq, _)) if seq == t.seq => Some(live.remove(t.slot).1),
            _ => None,
        }
    }

    /// Sweeps the cancelled entries out of the heap once they are more than half of it: each
    /// sweep at least halves the heap, so its cost is paid for by the cancels before it.
    fn sweep_if_mostly_dead(&self) {
        let mut heap = self.heap.borrow_mut();
        let live = self.live.borrow();
        if heap.len() > SWEEP_FLOOR && heap.len() > 2 * live.len() {
            heap.retain(|t| live.get(t.slot).is_some_and(|&(seq, _)| seq == t.seq));
        }
    }
}
