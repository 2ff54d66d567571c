//! A barrier for a fixed number of parties, following std's semantics.

use std::fmt;
use std::panic::Location;

use super::origin::Origin;
use super::plain_wait::{wait_handed, Waiters};
use super::wait::{self, WaitList};
use crate::loom::Lock;

/// Makes `n` tasks or threads wait until all `n` have called [`wait`](Barrier::wait), then
/// releases them together; one of them is told it is the leader. Reusable, as std's.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use spindle::sync::Barrier;
/// let rt = spindle::Runtime::cooperative().workers(1).build().unwrap();
/// let leaders = rt.block_on(|| {
///     let b = Arc::new(Barrier::new(3));
///     let hs: Vec<_> = (0..3).map(|_| { let b = b.clone(); spindle::spawn(move || b.wait().is_leader()) }).collect();
///     hs.into_iter().map(|h| h.join().unwrap()).filter(|&leader| leader).count()
/// });
/// assert_eq!(leaders, 1);
/// ```
pub struct Barrier {
    state: Lock<State>,
    origin: Origin,
}

struct State {
    parties: usize,
    arrived: usize,
    generation: u64,
    waiters: WaitList,
}

impl Waiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.waiters
    }
}

/// What [`Barrier::wait`] returns: whether this caller was the leader (the last to arrive).
///
/// # Examples
///
/// ```
/// assert!(spindle::sync::Barrier::new(1).wait().is_leader());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this caller was the leader; exactly one per generation is.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(spindle::sync::Barrier::new(1).wait().is_leader());
    /// ```
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` parties. As with std, `Barrier::new(0)` and `Barrier::new(1)` never
    /// wait: every caller is the leader.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = spindle::sync::Barrier::new(0);
    /// assert!(b.wait().is_leader());
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: Lock::new(State {
                parties: n,
                arrived: 0,
                generation: 0,
                waiters: WaitList::new(),
            }),
            origin: Origin::new(),
        }
    }

    /// Waits until all parties have arrived.
    ///
    /// # Examples
    ///
    /// See [`Barrier`].
    #[track_caller]
    pub fn wait(&self) -> BarrierWaitResult {
        crate::task::sched_point("Barrier::wait");
        // Taken here: inside the `site` closure below it would name this file.
        let location = Location::caller();
        self.origin.touch();
        let generation = {
            let mut st = self.state.lock();
            st.arrived += 1;
            if st.arrived >= st.parties {
                st.arrived = 0;
                st.generation += 1;
                let all = st.waiters.drain();
                drop(st);
                wait::wake_all(all);
                return BarrierWaitResult(true);
            }
            st.generation
        };
        let site = || self.origin.site("Barrier::wait", location);
        let mut attempt = |st: &mut State| (st.generation != generation).then_some(());
        // Released by the leader (our entry popped) or the generation moved on meanwhile.
        wait_handed(&self.state, None, &site, &mut attempt, &|_| {});
        BarrierWaitResult(false)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier").finish_non_exhaustive()
    }
}
