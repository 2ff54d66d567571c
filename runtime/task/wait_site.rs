//! [`WaitSite`]: what a parked task waits on, as the deadlock report shows it. The wait
//! protocol of every primitive records one, and the scheduler reads it back.

use std::panic::Location;

/// Where a task waits, for the deadlock report.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WaitSite {
    /// The primitive and operation, e.g. `Mutex::lock`.
    pub(crate) what: &'static str,
    /// The user's call site.
    pub(crate) location: &'static Location<'static>,
    /// The primitive can be released from outside the runtime: never a deadlock.
    pub(crate) outside: bool,
    /// The task holding the resource, where the primitive knows it (a mutex's owner, a
    /// joined task).
    pub(crate) owner: Option<u64>,
    /// When the wait began, in the worker's coarse milliseconds (`clock::coarse_millis`); stamped
    /// by `task::set_wait_site`, so whoever builds a site leaves it 0.
    pub(crate) since_ms: u32,
}
