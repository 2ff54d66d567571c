//! The reactor: readiness of sockets used by green threads, delivered through each worker's
//! `mio::Poll` — the same call in which an idle worker waits for timers and wake-ups.
//!
//! A socket is registered (edge-triggered, readable and writable) with the poll of the
//! worker whose green thread first waits on it. Each registration has a [`ScheduledIo`]:
//! readiness bits, a tick counting events, and the parked waiters. An operation that gets
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
    readers: Vec<Waiter>,
    writers: Vec<Waiter>,
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

    /// Whether `interest` is ready now.
    pub(crate) fn is_ready(&self, interest: u8) -> bool {
        self.state.lock().ready & interest != 0
    }

    /// Publishes a waiter for `interest`, or wakes it at once if that is ready already.
    pub(crate) fn register(&self, interest: u8, waiter: Waiter) {
        let mut st = self.state.lock();
        if st.ready & interest != 0 {
            drop(st);
            waiter.wake();
            return;
        }
        if interest & READABLE != 0 {
            st.readers.push(waiter);
        } else {
            st.writers.push(waiter);
        }
    }

    /// Records an event and wakes whoever waits for it.
    fn dispatch(&self, ready: u8) {
        let (readers, writers) = {
            let mut st = self.state.lock();
            st.ready |= ready;
            self.tick.fetch_add(1, Ordering::Release);
            let r = if ready & READABLE != 0 {
                std::mem::take(&mut st.readers)
            } else {
                Vec::new()
            };
            let w = if ready & WRITABLE != 0 {
                std::mem::take(&mut st.writers)
            } else {
                Vec::new()
            };
            (r, w)
        };
        for w in readers.into_iter().chain(writers) {
            w.wake();
        }
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
