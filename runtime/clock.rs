//! The one clock the scheduler reads. Every deadline and timer goes through [`now`], so a
//! virtual clock (for the deterministic mode) can replace it in one place.

use std::time::Instant;

/// The current time as the scheduler sees it.
#[inline]
pub(crate) fn now() -> Instant {
    // Under loom, the model's virtual clock (see `crate::loom`).
    #[cfg(spindle_loom)]
    return crate::loom::now();
    #[cfg(not(spindle_loom))]
    Instant::now()
}
