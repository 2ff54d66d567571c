//! A socket's registration with the poll of the worker whose green thread first waits on
//! it, and the park until it is ready (readiness itself is `reactor.rs`'s).

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use mio::unix::SourceFd;

use super::reactor::ScheduledIo;
use super::shared::Shared;
use super::{current, worker};
use crate::task::{WaitSite, Waiter};

/// A socket's registration with one worker's poll.
pub(crate) struct Registration {
    pub(crate) io: Arc<ScheduledIo>,
    shared: Arc<Shared>,
    worker: usize,
    token: usize,
    fd: RawFd,
}

impl Registration {
    /// Registers `fd` with the poll of the worker running the calling green thread.
    pub(crate) fn new(fd: RawFd) -> io::Result<Registration> {
        let worker = worker::current()
            .ok_or_else(|| io::Error::other("spindle: socket registration outside a worker"))?;
        let shared = worker.shared.clone();
        let remote = &shared.workers[worker.index];
        let io = Arc::new(ScheduledIo::default());
        let token = remote.io.lock().insert(io.clone());
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = remote
            .registry
            .register(&mut SourceFd(&fd), mio::Token(token), interest)
        {
            remote.io.lock().remove(token);
            return Err(e);
        }
        remote.io_count.fetch_add(1, Ordering::Relaxed);
        Ok(Registration {
            io,
            worker: worker.index,
            shared,
            token,
            fd,
        })
    }

    /// Parks the calling green thread until `interest` is ready or `deadline` passes.
    /// Returns whether it is ready.
    #[track_caller]
    pub(crate) fn wait(&self, interest: u8, deadline: Option<Instant>, what: &'static str) -> bool {
        let task = crate::task::running().expect("called from a green thread");
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
        let io = &*self.io;
        let mut register = |w: Waiter| {
            if let Some(d) = deadline {
                current::add_timer(d, w.clone());
            }
            io.register(interest, w);
        };
        // SAFETY: `task` is the task running on this thread.
        unsafe { crate::task::park(task, &mut register) };
        crate::task::set_wait_site(task, None);
        self.io.is_ready(interest)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let remote = &self.shared.workers[self.worker];
        let _ = remote.registry.deregister(&mut SourceFd(&self.fd));
        remote.io.lock().try_remove(self.token);
        remote.io_count.fetch_sub(1, Ordering::Relaxed);
    }
}
