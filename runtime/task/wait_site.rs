//! [`WaitSite`]: what a parked task waits on, as the deadlock report shows it. The wait
//! protocol of every primitive records one, and the scheduler reads it back.
//!
//! Also the words a primitive keeps to tell whether it can be released from outside the
//! runtime of a task waiting on it: the *runtime key* of the code that uses it (the address
//! of the running green thread's runtime, or [`OUTSIDE`] elsewhere), and the primitive's
//! [`OriginWord`], which a wait site holds to read it again when the report is made.

use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The runtime key of code that runs on no green thread (a plain thread, a preemptive task,
/// a blocking job); and the value of a primitive's origin word once code of two runtimes, or
/// code outside any, has used it. Never the address of a runtime (those are aligned).
pub(crate) const OUTSIDE: usize = 1;

/// Where a primitive records who uses it (`sync::Origin`): the runtime key of every user so
/// far, or [`OUTSIDE`]. A wait site holds it to read it again when the deadlock detector asks:
/// a use from outside after the task parked counts too.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OriginWord(NonNull<AtomicUsize>);

// SAFETY: the word is an atomic, and it is only read through `WaitSite::resolved`, whose
// contract keeps the primitive alive; the pointer itself is plain data.
unsafe impl Send for OriginWord {}
// SAFETY: as above.
unsafe impl Sync for OriginWord {}

impl OriginWord {
    #[inline]
    pub(crate) fn new(word: &AtomicUsize) -> OriginWord {
        OriginWord(NonNull::from(word))
    }
}

/// Where a task waits, for the deadlock report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitSite {
    /// The primitive and operation, e.g. `Mutex::lock`.
    pub(crate) what: &'static str,
    /// The user's call site.
    pub(crate) location: &'static Location<'static>,
    /// The primitive can be released from outside the runtime: never a deadlock.
    pub(crate) outside: bool,
    /// The primitive's origin word, if it has one, to read `outside` again later (see
    /// [`resolved`](WaitSite::resolved)).
    pub(crate) origin: Option<OriginWord>,
    /// The task holding the resource, where the primitive knows it (a mutex's owner, a
    /// joined task).
    pub(crate) owner: Option<u64>,
    /// When the wait began, in the worker's coarse milliseconds (`clock::coarse_millis`); stamped
    /// by `task::set_wait_site`, so whoever builds a site leaves it 0.
    pub(crate) since_ms: u32,
}

impl WaitSite {
    /// The site with `outside` brought up to date from the primitive's origin word (and the
    /// word dropped: the result may travel and outlive the wait).
    ///
    /// # Safety
    /// - the task that recorded this site is still parked in the wait that recorded it, so
    ///   the primitive is alive: every wait that records an origin word clears the site
    ///   before it returns or unwinds.
    pub(crate) unsafe fn resolved(self) -> WaitSite {
        let outside = self.outside
            || self.origin.is_some_and(|o| {
                // SAFETY: the primitive is alive (the caller's contract).
                unsafe { o.0.as_ref() }.load(Ordering::Relaxed) == OUTSIDE
            });
        WaitSite {
            outside,
            origin: None,
            ..self
        }
    }
}
