//! A socket's readiness and its registration with the poll of the worker whose green thread
//! waits on it — which follows the green threads that use the socket, across workers and
//! runtimes — and the park until it is ready (readiness itself is `reactor.rs`'s).
//!
//! # Following the caller
//!
//! A socket is registered with one worker's poll at a time. A green thread that waits on it
//! from another worker — of the same runtime, of another one, or after the runtime it was
//! registered with was dropped — moves the registration to its own worker: it deregisters
//! the socket from the old poll, then registers it with its own (epoll, edge-triggered,
//! reports the readiness the socket already has when it is added, so no edge is lost in the
//! move). The readiness bits and the parked waiters ([`ScheduledIo`]) belong to the socket,
//! not to a registration: waiters parked before a move are woken by the events of the new
//! poll, wherever their tasks live.
//!
//! The common case, a wait from the worker the socket is registered with, costs a read of
//! the worker thread-local, one load of an atomic and a comparison: no lock, no system
//! call, no allocation. A move takes a lock and two system calls.
//!
//! A registration holds its runtime's [`Shared`], which holds a duplicate of the worker's
//! poll descriptor (`Remote::registry`): when the runtime is dropped, its poll stays open,
//! with the socket in it, until the socket moves or is dropped — and deregistering is then
//! still a plain call on an open descriptor.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use mio::unix::SourceFd;

use super::reactor::{ScheduledIo, WaitKey};
use super::shared::{Remote, Shared};
use super::wait_timer::WaitTimer;
use super::worker::{self, Worker};
use crate::task::{WaitSite, Waiter};

/// A socket's readiness, and its registration with the poll of the worker that last waited
/// on it (made the first time a green thread waits on it).
pub(crate) struct Registration {
    fd: RawFd,
    /// Readiness and parked waiters; made on the first registration, kept across moves.
    io: OnceLock<Arc<ScheduledIo>>,
    /// The address of the [`Remote`] of the worker whose poll the socket is registered with
    /// (0: none). Read without a lock by every wait; written under `poll`'s lock. The address
    /// cannot be reused while it is stored: the registration in `poll` keeps its runtime's
    /// `Shared` (and so that `Remote`) alive.
    at: AtomicUsize,
    /// The registration itself; its lock serialises moves.
    poll: Mutex<Option<PollEntry>>,
}

/// The socket's entry in one worker's poll and token table.
struct PollEntry {
    shared: Arc<Shared>,
    worker: usize,
    token: usize,
    fd: RawFd,
}

impl Registration {
    /// Not registered yet: that happens when a green thread first waits on `fd`.
    pub(crate) fn new(fd: RawFd) -> Registration {
        Registration {
            fd,
            io: OnceLock::new(),
            at: AtomicUsize::new(0),
            poll: Mutex::new(None),
        }
    }

    /// The event tick (see [`ScheduledIo::tick`]), once the socket has been registered.
    #[inline]
    pub(crate) fn tick(&self) -> Option<u64> {
        self.io.get().map(|io| io.tick())
    }

    /// Parks the calling green thread until `interest` is ready or `deadline` passes, first
    /// registering the socket with the caller's worker if it is not registered there, and
    /// clearing `interest` unless an event came since `tick` (read before the operation that
    /// found the socket not ready). On return nothing of the wait is left behind: neither
    /// its waiter among the socket's nor its timer.
    #[track_caller]
    pub(crate) fn wait(
        &self,
        interest: u8,
        deadline: Option<Instant>,
        tick: Option<u64>,
        what: &'static str,
    ) -> io::Result<()> {
        let task = crate::task::running().expect("called from a green thread");
        let worker = worker::current()
            .ok_or_else(|| io::Error::other("spindle: socket wait outside a worker"))?;
        let io = self.follow(worker)?;
        if let Some(tick) = tick {
            io.clear(interest, tick);
        }
        let location = std::panic::Location::caller();
        crate::task::set_wait_site(
            task,
            Some(WaitSite {
                what,
                location,
                // Readiness comes from outside the runtime.
                outside: true,
                origin: None,
                owner: None,
                since_ms: 0,
            }),
        );
        // Removes the waiter and cancels the timer when the wait ends, however it ends
        // (a cancelled task unwinds out of `park`).
        let mut left = Leave {
            io,
            key: None,
            timer: WaitTimer::new(),
        };
        let mut register = |w: Waiter| {
            if let Some(d) = deadline {
                left.timer.set(d, w.clone());
            }
            left.key = io.register(interest, w);
        };
        // SAFETY: `task` is the task running on this thread.
        unsafe { crate::task::park(task, &mut register) };
        crate::task::set_wait_site(task, None);
        Ok(())
    }

    /// The socket's readiness, registered with `worker`'s poll: at once if it is already
    /// (the common case), else after moving the registration there.
    #[inline]
    fn follow(&self, worker: &Worker) -> io::Result<&ScheduledIo> {
        let here = worker.remote() as *const Remote as usize;
        if self.at.load(Ordering::Acquire) == here {
            if let Some(io) = self.io.get() {
                return Ok(io);
            }
        }
        self.move_to(worker)
    }

    #[cold]
    fn move_to(&self, worker: &Worker) -> io::Result<&ScheduledIo> {
        let here = worker.remote() as *const Remote as usize;
        let mut poll = self.poll.lock().unwrap_or_else(|e| e.into_inner());
        let io = self.io.get_or_init(Arc::default);
        if self.at.load(Ordering::Relaxed) == here {
            return Ok(io);
        }
        // Out of the old poll first (dropping its entry deregisters it): the socket is then
        // in no poll until it is added to the new one, which reports its readiness then.
        self.at.store(0, Ordering::Relaxed);
        drop(poll.take());
        *poll = Some(PollEntry::new(self.fd, worker, io.clone())?);
        self.at.store(here, Ordering::Release);
        Ok(io)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // Deregisters (the socket's owner drops us before it closes the descriptor).
        drop(
            self.poll
                .get_mut()
                .unwrap_or_else(|e| e.into_inner())
                .take(),
        );
    }
}

/// A wait's traces, removed when it ends.
struct Leave<'a> {
    io: &'a ScheduledIo,
    key: Option<WaitKey>,
    timer: WaitTimer,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.io.unregister(key);
        }
        // `timer` cancels itself.
    }
}

impl PollEntry {
    /// Registers `fd` (edge-triggered, readable and writable) with `worker`'s poll.
    fn new(fd: RawFd, worker: &Worker, io: Arc<ScheduledIo>) -> io::Result<PollEntry> {
        let remote = worker.remote();
        let token = remote.io.lock().insert(io);
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = remote
            .registry
            .register(&mut SourceFd(&fd), mio::Token(token), interest)
        {
            remote.io.lock().remove(token);
            return Err(e);
        }
        remote.io_count.fetch_add(1, Ordering::Relaxed);
        Ok(PollEntry {
            shared: worker.shared.clone(),
            worker: worker.index,
            token,
            fd,
        })
    }
}

impl Drop for PollEntry {
    fn drop(&mut self) {
        let remote = &self.shared.workers[self.worker];
        // The poll's descriptor is open while `shared` lives, even if the runtime is gone.
        let _ = remote.registry.deregister(&mut SourceFd(&self.fd));
        remote.io.lock().try_remove(self.token);
        remote.io_count.fetch_sub(1, Ordering::Relaxed);
    }
}
