//! A worker's timers: a heap of deadlines, each with the waiter it wakes, earliest first.
//! Only the worker's own thread touches them.

use std::cell::{Cell, RefCell};
use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::time::Instant;

use crate::task::Waiter;

/// A pending wake-up at a deadline. Ordered so that `BinaryHeap` pops the earliest first.
struct Timer {
    deadline: Instant,
    seq: u64,
    waiter: Waiter,
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

/// The pending timers of one worker's tasks.
#[derive(Default)]
pub(crate) struct Timers {
    heap: RefCell<BinaryHeap<Timer>>,
    seq: Cell<u64>,
}

impl Timers {
    /// Adds a timer that wakes `waiter` at `deadline`.
    pub(crate) fn add(&self, deadline: Instant, waiter: Waiter) {
        let seq = self.seq.get();
        self.seq.set(seq + 1);
        self.heap.borrow_mut().push(Timer {
            deadline,
            seq,
            waiter,
        });
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.heap.borrow().is_empty()
    }

    /// Wakes every waiter whose deadline is not after `now`.
    pub(crate) fn fire(&self, now: Instant) {
        loop {
            let due = {
                let mut heap = self.heap.borrow_mut();
                match heap.peek() {
                    Some(t) if t.deadline <= now => heap.pop(),
                    _ => None,
                }
            };
            match due {
                Some(t) => t.waiter.wake(),
                None => break,
            }
        }
    }

    /// The earliest deadline, if any.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.borrow().peek().map(|t| t.deadline)
    }

    /// Drops timers at the top of the heap whose wait already ended (the task was woken
    /// another way): their wake would do nothing, and they would keep the worker from
    /// sleeping without a deadline (which the deadlock check looks for).
    pub(crate) fn drop_stale(&self) {
        let mut heap = self.heap.borrow_mut();
        while heap.peek().is_some_and(|t| t.waiter.is_stale()) {
            heap.pop();
        }
    }

    /// Drops every timer (their waiters may hold tasks long finished).
    pub(crate) fn clear(&mut self) {
        self.heap.get_mut().clear();
    }
}
