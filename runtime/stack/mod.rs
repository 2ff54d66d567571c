//! Guarded coroutine stacks, carved from large mappings and pooled for reuse.
//!
//! # Layout
//!
//! Stacks of one size class are carved from *chunks*: single anonymous mappings of about
//! 64 MiB (or one slot, for larger stacks). Each slot of a chunk is a guard followed by the
//! usable stack, which grows down towards the guard:
//!
//! ```text
//!  chunk base                                                          chunk end
//!  | guard | stack 0 ......... | guard | stack 1 ......... | guard | ...  |
//!            limit        base ^
//! ```
//!
//! The guard is [`DEFAULT_GUARD_SIZE`] (64 KiB) unless a runtime sets another
//! ([`RuntimeBuilder::guard_size`](crate::RuntimeBuilder::guard_size)): wide enough that a
//! frame much larger than the space left (C's `alloca`, a big unprobed array) lands in it
//! rather than in the stack below. A fault anywhere in a guard is reported as an overflow.
//! The pool's size classes are keyed by the pair (usable size, guard size), so
//! stacks with different guards never share a slot.
//!
//! On Linux ≥ 6.13 the guard is installed with `madvise(MADV_GUARD_INSTALL)`, which does not
//! split the mapping and commits no pages: a million stacks cost a few map entries. Elsewhere,
//! or on older kernels, the guard is an `mprotect(PROT_NONE)` range (address space only, never
//! committed), which costs two map entries per stack; running out of them
//! (`vm.max_map_count`) is an `io::Error`, never an abort.
//!
//! # Pool
//!
//! A finished stack goes back to a small per-thread cache ([`WARM_STACKS_PER_THREAD`]), then
//! to a shared list of warm stacks ([`WARM_STACKS_SHARED`], or as many as the size class had
//! out at once, up to [`WARM_STACKS_MAX_SHARED`]); beyond those bounds its pages are given
//! back to the OS (`MADV_DONTNEED`) and the empty slot is kept for reuse. Mappings are
//! never unmapped, so the overflow handler can read the chunk registry at any time.

// The files lie in layers; each imports only those above it in this list (and `overflow`,
// which imports none of them), never this file:
//   size, counters, overflow    sizes and bounds; the pool's counters; the overflow handler
//   guard                       installing guards
//   pool                        the shared pool of chunks and slots, per size class
//   cache                       each thread's warm stacks
//   stats, pooled               the public snapshot; a coroutine's stack
//   reservation                 a stack promised to a task that has not started

pub(crate) mod overflow;

mod cache;
mod counters;
mod guard;
mod pool;
mod pooled;
mod reservation;
mod size;
mod stats;

pub use guard::{force_mprotect_guards, guards_are_free};
pub use size::{
    DEFAULT_GUARD_SIZE, DEFAULT_STACK_SIZE, MAX_GUARD_SIZE, MAX_STACK_SIZE, MIN_STACK_SIZE,
    WARM_STACKS_MAX_SHARED, WARM_STACKS_PER_THREAD, WARM_STACKS_SHARED,
};
pub use stats::{stats, StackStats};

pub(crate) use overflow::TaskLabel;
pub(crate) use pooled::PooledStack;
pub(crate) use reservation::StackReservation;
pub(crate) use size::{checked_guard, checked_size, default_guard};
