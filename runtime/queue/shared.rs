//! The queue all three kinds share, behind their handles' `Arc`: the store's counts or
//! items and the wait lists under one spin lock, and the waiting `put`, `get` and `join`.
//! User code never runs under the spin lock: a store whose order is the user's `Ord` keeps
//! its items outside it (`store::Outside`), and a `put` or `get` on it takes room or claims
//! an item under the lock, then stores or fetches the item outside, then settles under the
//! lock again (undoing the first step if the user's code panicked).

use std::panic::Location;
use std::time::Instant;

use super::error::{Empty, Full};
use super::store::{Outside, Settle, Store};
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

impl<S> State<S> {
    /// Whether a bounded queue has no room left for `room` (the store's `occupied`).
    fn full(&self, room: usize) -> bool {
        self.maxsize != 0 && room >= self.maxsize
    }
}

/// A `put` or `get` that went through: its value, and the waiter it took off the other
/// list, to be woken once the lock is released.
type Done<R> = (R, Option<Entry>);

/// The queue all three kinds share: `S` under the spin lock, `O` outside it.
pub(super) struct Core<T, S, O> {
    state: Lock<State<S>>,
    /// The items whose ordering runs user code (`()` for the kinds that keep them in `S`).
    outside: O,
    origin: Origin,
    _item: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, S: Store<T>, O: Outside<T>> Core<T, S, O> {
    pub(super) fn new(items: S, maxsize: usize) -> Core<T, S, O> {
        Core {
            state: Lock::new(State {
                items,
                maxsize,
                unfinished: 0,
                getters: WaitList::new(),
                putters: WaitList::new(),
                joiners: WaitList::new(),
            }),
            outside: O::default(),
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
        crate::task::sched_point("Queue::put");
        self.origin.touch();
        let mut item = Some(item);
        // `Err(item)`: room is taken for it, to be stored outside the lock. (Not the `Option`
        // that `get` has: `put` and `get` each get their own copy of `wait::wait`, inlined.)
        let mut attempt = |st: &mut State<S>| {
            if st.full(st.items.occupied()) {
                return None;
            }
            match st.items.push(item.take().expect("put once")) {
                None => {
                    st.unfinished += 1;
                    Some((Ok(()), st.getters.pop()))
                }
                Some(outside) => Some((Err(outside), None)),
            }
        };
        match self.wait_for(
            |st| &mut st.putters,
            deadline,
            "Queue::put",
            location,
            &mut attempt,
        ) {
            Some(Ok(())) => Ok(()),
            Some(Err(outside)) => {
                self.store_outside(outside);
                Ok(())
            }
            None => Err(Full(item.take().expect("not put"))),
        }
    }

    /// Gets an item, waiting while empty until `deadline`.
    pub(super) fn get(
        &self,
        deadline: Option<Instant>,
        location: &'static Location<'static>,
    ) -> Result<T, Empty> {
        crate::task::sched_point("Queue::get");
        self.origin.touch();
        // `None`: an item is claimed, to be fetched from outside the lock.
        let mut attempt = |st: &mut State<S>| match st.items.pop()? {
            Some(item) => Some((Some(item), st.putters.pop())),
            None => Some((None, None)),
        };
        match self.wait_for(
            |st| &mut st.getters,
            deadline,
            "Queue::get",
            location,
            &mut attempt,
        ) {
            Some(Some(item)) => Ok(item),
            Some(None) => Ok(self.fetch_outside()),
            None => Err(Empty),
        }
    }

    /// Stores an item that has room outside the lock, then counts it in and tells a getter;
    /// if the user's code panics, gives the room back (and tells a putter) as it unwinds.
    fn store_outside(&self, item: T) {
        let failed = Settling {
            core: self,
            how: Settle::StoreFailed,
            wake: |st| st.putters.pop(),
        };
        self.outside.store(item);
        std::mem::forget(failed);
        self.settle(Settle::Stored, |st| {
            st.unfinished += 1;
            st.getters.pop()
        });
    }

    /// Fetches a claimed item from outside the lock, then frees its room and tells a putter;
    /// if the user's code panics, the item is everyone's again (and a getter is told) as it
    /// unwinds.
    fn fetch_outside(&self) -> T {
        let failed = Settling {
            core: self,
            how: Settle::FetchFailed,
            wake: |st| st.getters.pop(),
        };
        let item = self.outside.fetch();
        std::mem::forget(failed);
        self.settle(Settle::Fetched, |st| st.putters.pop());
        item
    }

    /// Settles a trip outside the lock and wakes whom `wake` picks, once the lock is released.
    fn settle(&self, how: Settle, wake: impl FnOnce(&mut State<S>) -> Option<Entry>) {
        let next = {
            let mut st = self.state.lock();
            st.items.settle(how);
            wake(&mut st)
        };
        if let Some(e) = next {
            e.waiter.wake();
        }
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
        crate::task::sched_point("Queue::task_done");
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
        crate::task::sched_point("Queue::join");
        self.origin.touch();
        let site = || self.origin.site("Queue::join", location);
        let mut attempt = |st: &mut State<S>| (st.unfinished == 0).then_some(());
        let joiners: fn(&mut State<S>) -> &mut WaitList = |st| &mut st.joiners;
        // Woken by the last `task_done`: look again (more may have been put since).
        while wait_on(&self.state, joiners, None, &site, &mut attempt, &|_| {}).is_err() {}
    }

    pub(super) fn len(&self) -> usize {
        self.origin.touch();
        self.state.lock().items.len()
    }

    pub(super) fn is_full(&self) -> bool {
        self.origin.touch();
        let st = self.state.lock();
        st.full(st.items.occupied())
    }

    pub(super) fn maxsize(&self) -> usize {
        self.origin.touch();
        self.state.lock().maxsize
    }
}

impl<T, S, O> Core<T, S, O> {
    /// Notes a use of a handle (a clone; see `Origin`).
    pub(super) fn touch(&self) {
        self.origin.touch();
    }
}

/// Settles a trip outside the lock that the user's code ended by panicking, as the panic
/// unwinds through it (forgotten when the trip went well).
struct Settling<'a, T, S: Store<T>, O: Outside<T>> {
    core: &'a Core<T, S, O>,
    how: Settle,
    wake: fn(&mut State<S>) -> Option<Entry>,
}

impl<T, S: Store<T>, O: Outside<T>> Drop for Settling<'_, T, S, O> {
    fn drop(&mut self) {
        self.core.settle(self.how, self.wake);
    }
}
