//! [`Origin`]: whether a primitive was made, or ever used, outside the green threads of a
//! runtime; the deadlock report trusts only waits on primitives that were not.

use std::panic::Location;
use std::sync::atomic::Ordering;

use crate::loom::AtomicBool;
use crate::task::WaitSite;

/// Whether a primitive was made, or ever used, outside the green threads of a runtime. A
/// wait on such a primitive can be ended from outside, so the deadlock report never counts
/// it.
#[derive(Debug)]
pub(crate) struct Origin {
    outside: AtomicBool,
}

impl Origin {
    pub(crate) fn new() -> Origin {
        Origin {
            outside: AtomicBool::new(!crate::task::in_green_thread()),
        }
    }

    /// Notes a use; marks the primitive as reachable from outside if the caller is not a
    /// green thread.
    #[inline]
    pub(crate) fn touch(&self) {
        if !crate::task::in_green_thread() && !self.outside.load(Ordering::Relaxed) {
            self.outside.store(true, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn is_outside(&self) -> bool {
        self.outside.load(Ordering::Relaxed)
    }

    /// Describes a wait on this primitive for the deadlock report: `what` (e.g.
    /// `Event::wait`), called at `location`, with no known owner.
    #[inline]
    pub(crate) fn site(
        &self,
        what: &'static str,
        location: &'static Location<'static>,
    ) -> WaitSite {
        WaitSite {
            what,
            location,
            outside: self.is_outside(),
            owner: None,
            since_ms: 0,
        }
    }
}
