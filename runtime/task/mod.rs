//! Tasks as both backends share them: the cell (header, scheduling state, [`Waiter`]), the
//! type-erased body and result slot, the join protocol, the public handles, and what a green
//! thread can do to itself (park, yield) — the interface between a task and whichever
//! backend runs it. Nothing here names a backend: a wake reaches the cooperative scheduler
//! through the [`Scheduler`] its task's header holds.
//!
//! Layers inside, from the ground up: `id`, `cancelled`, `wait_site`, `park_state`, `body`;
//! then `cell`; then `current`, `handle`, `join`.

mod body;
mod cancelled;
mod cell;
mod current;
mod handle;
mod id;
mod join;
mod options;
mod park_state;
mod snapshot;
mod wait_site;

pub(crate) use body::{Body, Slot};
pub use cancelled::Cancelled;
pub(crate) use cell::{
    CellRef, Header, Local, Resume, Scheduler, Suspend, TaskCell, TaskCoroutine, TaskRef,
    TaskSched, Waiter, UNBOUND,
};
pub(crate) use current::{
    in_green_thread, park, running, runtime_key, runtime_key_of, sched_point, set_coarse_millis,
    set_running, set_sched_hook, set_wait_site, shares_worker_with_running, yield_now,
};
pub use handle::Task;
pub use id::TaskId;
pub(crate) use join::FirstTaskGuard;
pub use join::JoinHandle;
pub(crate) use options::SpawnOptions;
pub(crate) use snapshot::label;
pub use snapshot::{TaskDump, TaskSnapshot, TaskState};
pub(crate) use wait_site::{OriginWord, WaitSite, OUTSIDE};
