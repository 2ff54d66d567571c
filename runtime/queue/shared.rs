//! The queue all three kinds share, behind their handles' `Arc`: the items and the wait
//! lists under one lock, and the waiting `put`, `get` and `join`.

use std::panic::Location;
use std::time::Instant;

use super::error::{Empty, Full};
use super::store::Store;
use crate::loom::Lock;
use crate::sync::plain_wait::wait_on;
use crate::sync::wait::{self, Entry, WaitList, Woken};
use crate::sync::Origin;

/// Everything under the queue's lock.
struct State<S> {
    items: S,
    /// 0: unbounded.
    maxsize: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    getters: WaitList,
    putters: WaitList,
    joiners: WaitList,
}

/// A `put` or `get` that went through: its value, and the waiter it took off the other
/// list, to be woken once the lock is released.
type Done<R> = (R, Option<Entry>);

/// The queue all three kinds share.
pub(super) struct Core<T, S> {
    state: Lock<State<S>>,
    origin: Origin,
    _item: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, S: Store<T>> Core<T, S> {
    pub(super) fn new(items: S, maxsize: usize) -> Core<T, S> {
        Core {
            state: Lock::new(State {
                items,
                maxsize,
                unfinished: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
            origin: Origin::new(),
            _item: std::marker::PhantomData,
        }
    }

    /// Puts `item`, waiting while full until `deadline`.
    pub(super) fn put(
        &self,
        item: T,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<(), Full<T>> {
        self.origin.touch();
        let mut item = Some(item);
        let mut attempt = |st: &mut State<S>| {
            if st.maxsize != 0 && st.items.len() >= st.maxsize {
                return None;
            }
            st.items.push(item.take().expect("put once"));
            st.unfinished += 1;
            Some(((), st.getters.pop()))
        };
        match self.wait_for(
            |st| &mut st.putters,
            deadline,
            "Queue::put",
            location,
            &mut attempt,
        ) {
            Some(()) => Ok(()),
            None => Err(Full(item.take().expect("not put"))),
        }
    }

    /// Gets an item, waiting while empty until `deadline`.
    pub(super) fn get(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<T, Empty> {
        self.origin.touch();
        let mut attempt = |st: &mut State<S>| {
            let item = st.items.pop()?;
            Some((item, st.putters.pop()))
        };
        self.wait_for(
            |st| &mut st.getters,
            deadline,
            "Queue::get",
            location,
            &mut attempt,
        )
        .ok_or(Empty)
    }

    /// The wait of `put` and `get`: on `list` until `attempt` goes through (`Some`) or
    /// `deadline` passes (`None`). A notification only says that room or an item was made:
    /// look again.
    #[inline]
    fn wait_for<R>(
        &self,
        list: fn(&mut State<S>) -> &mut WaitList,
        deadline: Option<Instant>,
        what: &'static str,
        location: &'static Location<'static>,
        attempt: &mut dyn FnMut(&mut State<S>) -> Option<Done<R>>,
    ) -> Option<R> {
        let site = || self.origin.site(what, location);
        let abandon = |_tag: u64| self.pass_on(list);
        loop {
            match wait_on(&self.state, list, deadline, &site, attempt, &abandon) {
                Ok((r, wake)) => {
                    if let Some(e) = wake {
                        e.waiter.wake();
                    }
                    return Some(r);
                }
                Err(Woken::Notified) => continue,
                Err(Woken::TimedOut) => return None,
            }
        }
    }

    /// Hands a notification that a cancelled waiter swallowed to the next waiter.
    fn pass_on(&self, list: fn(&mut State<S>) -> &mut WaitList) {
        let next = list(&mut self.state.lock()).pop();
        if let Some(e) = next {
            e.waiter.wake();
        }
    }

    #[track_caller]
    pub(super) fn task_done(&self) {
        self.origin.touch();
        let all = {
            let mut st = self.state.lock();
            if st.unfinished == 0 {
                drop(st);
                panic!("task_done() called more times than there were items put in the queue");
            }
            st.unfinished -= 1;
            if st.unfinished != 0 {
                return;
            }
            st.joiners.drain()
        };
        wait::wake_all(all);
    }

    pub(super) fn join(&self, location: &'static Location<'static>) {
        self.origin.touch();
        let site = || self.origin.site("Queue::join", location);
        let mut attempt = |st: &mut State<S>| (st.unfinished == 0).then_some(());
        let joiners: fn(&mut State<S>) -> &mut WaitList = |st| &mut st.joiners;
        // Woken by the last `task_done`: look again (more may have been put since).
        while wait_on(&self.state, joiners, None, &site, &mut attempt, &|_| {}).is_err() {}
    }

    pub(super) fn len(&self) -> usize {
        self.state.lock().items.len()
    }

    pub(super) fn is_full(&self) -> bool {
        let st = self.state.lock();
        st.maxsize != 0 && st.items.len() >= st.maxsize
    }

    pub(super) fn maxsize(&self) -> usize {
        self.state.lock().maxsize
    }
}
