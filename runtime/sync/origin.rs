//! [`Origin`]: which runtime a primitive belongs to — the one whose green threads made and
//! used it — or whether it was made, or ever used, outside that runtime; the deadlock report
//! trusts only waits on primitives that were not.

use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::task::{OriginWord, WaitSite, OUTSIDE};

/// Who has used a primitive: the *runtime key* (`task::runtime_key`: the address of the
/// runtime of a green thread) of every user so far, or [`OUTSIDE`] once it was made or used
/// by code on no green thread (a plain thread, a preemptive task, a blocking job) or by green
/// threads of two runtimes. A wait on a primitive used from outside its waiter's runtime can
/// be ended from there, so the deadlock report never counts it.
///
/// Every public operation of a primitive touches its origin, on every path (fast paths,
/// `try_*`, releases, queries): one thread-local read, one relaxed load and a compare once
/// the origin is settled; the word only ever moves from a runtime's key to [`OUTSIDE`], by
/// a plain store.
///
/// A std atomic even under loom: it is a hint for the deadlock report, not part of any
/// protocol loom checks.
#[derive(Debug)]
pub(crate) struct Origin {
    home: AtomicUsize,
}

impl Origin {
    /// Belongs to the caller's runtime (made on a green thread), or is outside from the start.
    #[inline]
    pub(crate) fn new() -> Origin {
        Origin {
            home: AtomicUsize::new(crate::task::runtime_key()),
        }
    }

    /// Notes a use by the caller.
    #[inline]
    pub(crate) fn touch(&self) {
        self.touch_from(crate::task::runtime_key());
    }

    /// Notes a use by code whose runtime key is `key` (from `task::runtime_key`): marks the
    /// primitive as reachable from outside if `key` is not the runtime it belongs to.
    #[inline]
    pub(crate) fn touch_from(&self, key: usize) {
        let home = self.home.load(Ordering::Relaxed);
        if home != key && home != OUTSIDE {
            self.home.store(OUTSIDE, Ordering::Relaxed);
        }
    }

    #[inline]
    pub(crate) fn is_outside(&self) -> bool {
        self.home.load(Ordering::Relaxed) == OUTSIDE
    }

    /// Describes a wait on this primitive for the deadlock report: `what` (e.g.
    /// `Event::wait`), called at `location`, with no known owner. The caller has touched the
    /// origin; the report reads it again (a use from outside after the park counts too).
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
            origin: Some(OriginWord::new(&self.home)),
            owner: None,
            since_ms: 0,
        }
    }
}
