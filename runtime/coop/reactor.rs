//! The reactor: readiness of sockets used by green threads, delivered through each worker's
//! `mio::Poll` — the same call in which an idle worker waits for timers and wake-ups.
//!
//! A socket is registered (edge-triggered, readable and writable) with the poll of the
//! worker whose green thread last waited on it (`registration.rs`). Each socket has a
//! [`ScheduledIo`], kept across registrations: readiness bits, a tick counting events, and
//! the parked waiters (each removes itself if its wait ends without an event, so timed-out
//! waits leave nothing behind). An operation that gets
//! `WouldBlock` clears the bit it observed — unless an event arrived meanwhile (the tick
//! moved) — and parks; its waiter is published after the switch, and re-checks the bits
//! under the same lock the event handler sets them under, so no edge is lost (pitfall 9).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use slab::Slab;

use crate::loom::Lock;
use crate::task::Waiter;

/// The token of each worker's `mio::Waker` (no socket has it).
pub(crate) const WAKE_TOKEN: mio::Token = mio::Token(usize::MAX);

/// Readable (or read-closed, or error).
pub(crate) const READABLE: u8 = 1;
/// Writable (or write-closed, or error).
pub(crate) const WRITABLE: u8 = 2;

/// One socket's readiness and waiters.
pub(crate) struct ScheduledIo {
    state: Lock<IoState>,
    /// Events seen so far. Changed only under `state`'s lock (with the readiness bits);
    /// read without it before every socket operation, which is why it is an atomic.
    tick: AtomicU64,
}

impl Default for ScheduledIo {
    fn default() -> ScheduledIo {
        ScheduledIo {
            state: Lock::new(IoState::default()),
            tick: AtomicU64::new(0),
        }
    }
}

#[derive(Default)]
struct IoState {
    ready: u8,
    readers: Parked,
    writers: Parked,
}

/// The waiters of one direction. An event takes them all; a wait that ends otherwise (its
/// deadline, a cancellation) removes its own, so that none stays behind.
#[derive(Default)]
struct Parked {
    waiters: Slab<Waiter>,
    /// Bumped each time an event takes the waiters: a key of an earlier round names a waiter
    /// already taken (its slot may hold another by now).
    round: u64,
}

/// Where a parked waiter is, to remove it when its wait ends without an event.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitKey {
    interest: u8,
    round: u64,
    slot: usize,
}

impl Parked {
    /// Moves every waiter to `woken`, keeping the slab's memory for the next ones.
    fn drain_into(&mut self, woken: &mut Woken) {
        if self.waiters.is_empty() {
            return;
        }
        self.round += 1;
        for w in self.waiters.drain() {
            woken.push(w);
        }
    }
}

/// The waiters an event takes, to wake once the lock is released: the first inline (the
/// common case: one task waits on a socket), any more on the heap.
#[derive(Default)]
struct Woken {
    first: Option<Waiter>,
    rest: Vec<Waiter>,
}

impl Woken {
    fn push(&mut self, w: Waiter) {
        if self.first.is_none() {
            self.first = Some(w);
        } else {
            self.rest.push(w);
        }
    }

    fn wake(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        for w in self.rest {
            w.wake();
        }
    }
}

impl IoState {
    fn parked(&mut self, interest: u8) -> &mut Parked {
        if interest & READABLE != 0 {
            &mut self.readers
        } else {
            &mut self.writers
        }
    }
}

impl ScheduledIo {
    /// The event tick now (read before an operation that may hit `WouldBlock`).
    #[inline]
    pub(crate) fn tick(&self) -> u64 {
        self.tick.load(Ordering::Acquire)
    }

    /// Clears `interest` after an operation found it not ready — unless an event arrived
    /// since `tick` was read.
    pub(crate) fn clear(&self, interest: u8, tick: u64) {
        let mut st = self.state.lock();
        if self.tick.load(Ordering::Relaxed) == tick {
            st.ready &= !interest;
        }
    }

    /// Publishes a waiter for `interest` and returns where it is, or wakes it at once (and
    /// returns `None`) if that is ready already.
    pub(crate) fn register(&self, interest: u8, waiter: Waiter) -> Option<WaitKey> {
        let mut st = self.state.lock();
        if st.ready & interest != 0 {
            drop(st);
            waiter.wake();
            return None;
        }
        let parked = st.parked(interest);
        Some(WaitKey {
            interest,
            round: parked.round,
            slot: parked.waiters.insert(waiter),
        })
    }

    /// Removes a waiter whose wait ended without an event taking it (nothing if one did).
    pub(crate) fn unregister(&self, key: WaitKey) {
        let waiter = {
            let mut st = self.state.lock();
            let parked = st.parked(key.interest);
            if parked.round == key.round {
                parked.waiters.try_remove(key.slot)
            } else {
                None
            }
        };
        // Dropped without the lock: it may free a task.
        drop(waiter);
    }

    /// Records an event and wakes whoever waits for it.
    fn dispatch(&self, ready: u8) {
        let mut woken = Woken::default();
        {
            let mut st = self.state.lock();
            st.ready |= ready;
            self.tick.fetch_add(1, Ordering::Release);
            if ready & READABLE != 0 {
                st.readers.drain_into(&mut woken);
            }
            if ready & WRITABLE != 0 {
                st.writers.drain_into(&mut woken);
            }
        }
        woken.wake();
    }
}

/// A worker's table of registrations, by token.
pub(crate) type IoTable = Lock<Slab<Arc<ScheduledIo>>>;

/// Hands the events of one poll to their sockets.
pub(crate) fn dispatch(table: &IoTable, events: &mio::Events) {
    for ev in events.iter() {
        let token = ev.token().0;
        if token == WAKE_TOKEN.0 {
            continue;
        }
        let mut ready = 0;
        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
            ready |= READABLE;
        }
        if ev.is_writable() || ev.is_write_closed() || ev.is_error() {
            ready |= WRITABLE;
        }
        let io = table.lock().get(token).cloned();
        if let Some(io) = io {
            io.dispatch(ready);
        }
    }
}
