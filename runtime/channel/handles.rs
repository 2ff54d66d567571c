//! The [`Handle`] through which a `Select` tries, registers, finishes and completes an
//! operation on a channel of any message type, and the [`Done`] operation it commits: one
//! implementation for both ends, over what tells a receive from a send ([`Side`]).

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::ends::{Receiver, Sender};
use super::errors::{RecvError, SendError};
use super::handover::{collect, put_back};
use super::state::{Chan, State};
use super::waiters::{wake_observers, Ctx, Header, Outcome, Reg, Slot, Took, Wakes, SELECT_TAG};
use crate::sync::wait::WaitList;
use crate::task::WaitSite;
use crate::task::Waiter;

/// A select's registration on one channel, type-erased.
pub(super) struct Registered {
    reg: NonNull<()>,
    id: u64,
}

/// An operation a select committed, until the user completes it; dropped uncompleted, it
/// gives back what it took: a message goes back to the front of its channel, a reserved room
/// or receiver is released.
pub(super) struct Done<'a, T> {
    chan: &'a Chan<T>,
    /// `None` once completed.
    outcome: Option<Outcome<T>>,
}

/// What a `SelectedOperation` holds, type-erased (dropping it undoes the operation).
pub(super) trait Completion {}

impl<T> Completion for Done<'_, T> {}

impl<'a, T> Done<'a, T> {
    fn boxed(chan: &'a Chan<T>, outcome: Outcome<T>) -> Box<dyn Completion + 'a> {
        let outcome = Some(outcome);
        Box::new(Done { chan, outcome })
    }

    pub(super) fn recv(mut self) -> Result<T, RecvError> {
        match self.outcome.take() {
            Some(Outcome::Msg(m)) => Ok(m),
            _ => Err(RecvError),
        }
    }

    pub(super) fn send(mut self, msg: T) -> Result<(), SendError<T>> {
        let mut wakes = Wakes::new();
        let result = match self.outcome.take().expect("completed once") {
            Outcome::Disconnected | Outcome::Msg(_) => Err(SendError(msg)),
            Outcome::Room { counted } => {
                let mut st = self.chan.state.lock();
                if counted {
                    st.reserved -= 1;
                }
                if st.receivers == 0 {
                    if counted {
                        st.notify_room(&mut wakes); // the room is free again
                    }
                    Err(SendError(msg))
                } else {
                    // A hand-over leaves the room free: `deliver` passes it on.
                    st.send_now(msg, &mut wakes);
                    Ok(())
                }
            }
            Outcome::Receiver { slot, waiter } => {
                let _st = self.chan.state.lock();
                // SAFETY: the reserved receiver waits for this (its slot is pending) before
                // it leaves; under the channel's lock.
                unsafe { release(slot, Some(msg), waiter, &mut wakes) };
                Ok(())
            }
        };
        wakes.wake();
        result
    }
}

impl<T> Drop for Done<'_, T> {
    fn drop(&mut self) {
        let mut wakes = Wakes::new();
        match self.outcome.take() {
            None | Some(Outcome::Disconnected) | Some(Outcome::Room { counted: false }) => {}
            Some(Outcome::Msg(m)) => put_back(self.chan, m),
            Some(Outcome::Room { counted: true }) => {
                let mut st = self.chan.state.lock();
                st.reserved -= 1;
                st.notify_room(&mut wakes);
            }
            Some(Outcome::Receiver { slot, waiter }) => {
                let _st = self.chan.state.lock();
                // SAFETY: as in `send`.
                unsafe { release(slot, None, waiter, &mut wakes) };
            }
        }
        wakes.wake();
    }
}

/// Ends the reservation of a receiver's pending `slot`: writes `msg` (none: withdrawn, "look
/// again") and wakes the receiver.
///
/// # Safety
/// - `slot` is pending, reserved by the caller, which holds the channel's lock.
unsafe fn release<T>(
    slot: *mut Slot<T>,
    msg: Option<T>,
    waiter: Option<Waiter>,
    wakes: &mut Wakes,
) {
    // SAFETY: forwarded from the caller: the receiver keeps the slot alive, and touches it
    // only under the lock, until `pending` is clear.
    unsafe {
        if msg.is_some() {
            (*slot).msg = msg;
        }
        if let Some(w) = (*slot).rewake.take() {
            wakes.push(w);
        }
        // The last touch: once it reads `pending` clear, the receiver may leave.
        (*slot).pending.store(false, Ordering::Release);
    }
    if let Some(w) = waiter {
        wakes.push(w);
    }
}

/// One operation of a select, over a channel of any message type.
pub(super) trait Handle {
    /// The channel, to check the handle a `SelectedOperation` is completed with.
    fn chan_addr(&self) -> *const ();
    fn is_sender(&self) -> bool;
    /// Notes the use (see `Origin`); whether the channel is reachable from outside.
    fn touch(&self) -> bool;
    /// Commits the operation if it can go now.
    fn try_commit<'a>(&'a self, site: &dyn Fn() -> WaitSite) -> Option<Box<dyn Completion + 'a>>;
    fn is_ready(&self) -> bool;
    /// Registers the operation for the select `ctx` unless it is ready now (`None`).
    fn register(&self, ctx: &Ctx, index: usize, waiter: &Waiter) -> Option<Registered>;
    /// Leaves the wait list (the operation was not chosen).
    fn unregister(&self, reg: Registered);
    /// Leaves, and takes what the claimer committed (`None`: withdrawn, look again).
    fn finish<'a>(
        &'a self,
        reg: Registered,
        site: &dyn Fn() -> WaitSite,
    ) -> Option<Box<dyn Completion + 'a>>;
}

/// A channel end as a select's operation: its channel, and whether it sends or receives;
/// what the operation does follows from that (`ready`, `lists`, `commit_now`).
pub(super) trait Side {
    type Msg;
    /// Whether the operation is a send.
    const SENDER: bool;
    fn chan(&self) -> &Chan<Self::Msg>;
}

/// Whether `S`'s operation would not wait (`own`: the asking select, whose entries don't count).
#[inline]
fn ready<S: Side>(st: &State<S::Msg>, own: *const Ctx) -> bool {
    if S::SENDER {
        st.send_ready(own)
    } else {
        st.recv_ready(own)
    }
}

/// The wait list of `S`'s operation, and the other side's.
#[inline]
fn lists<S: Side>(st: &mut State<S::Msg>) -> (&mut WaitList, &mut WaitList) {
    if S::SENDER {
        (&mut st.send_waiters, &mut st.recv_waiters)
    } else {
        (&mut st.recv_waiters, &mut st.send_waiters)
    }
}

/// Commits `S`'s operation if it can go now (`Handle::try_commit`): a send reserves room (or
/// a rendezvous receiver); a receive takes a message, or sees the channel disconnected.
fn commit_now<S: Side>(
    chan: &Chan<S::Msg>,
    site: &dyn Fn() -> WaitSite,
) -> Option<Outcome<S::Msg>> {
    if S::SENDER {
        return chan.state.lock().reserve();
    }
    let slot = UnsafeCell::new(Slot::new());
    let mut wakes = Wakes::new();
    let took = chan.state.lock().take(slot.get(), &mut wakes);
    wakes.wake();
    Some(match took? {
        Took::Msg(m) => Outcome::Msg(m),
        Took::Disconnected => Outcome::Disconnected,
        Took::Pending => Outcome::Msg(collect(chan, &slot, site)?),
    })
}

fn new_reg<T>(ctx: &Ctx, index: usize) -> NonNull<Reg<T>> {
    let reg = Box::new(Reg {
        head: Header {
            ctx,
            index: index as u64,
        },
        slot: UnsafeCell::new(Slot::new()),
        out: UnsafeCell::new(None),
    });
    NonNull::from(Box::leak(reg))
}

/// Registers `S`'s operation on its list of `chan` unless it is ready; wakes the other side's
/// observers.
fn register_on<S: Side>(
    chan: &Chan<S::Msg>,
    ctx: &Ctx,
    index: usize,
    waiter: &Waiter,
) -> Option<Registered> {
    let reg = new_reg::<S::Msg>(ctx, index);
    let tag = SELECT_TAG | reg.as_ptr() as usize as u64;
    debug_assert_ne!(tag, u64::MAX);
    let mut wakes = Wakes::new();
    let id = {
        let mut st = chan.state.lock();
        if ready::<S>(&st, ctx) {
            None
        } else {
            let rendezvous = st.cap == Some(0);
            let (mine, theirs) = lists::<S>(&mut st);
            let id = mine.push(waiter.clone(), tag);
            if rendezvous && !ctx.observe {
                wake_observers(theirs, &mut wakes);
            }
            Some(id)
        }
    };
    wakes.wake();
    match id {
        Some(id) => Some(Registered {
            reg: reg.cast(),
            id,
        }),
        None => {
            // SAFETY: never published: ours alone.
            drop(unsafe { Box::from_raw(reg.as_ptr()) });
            None
        }
    }
}

/// Removes the entry of `reg` (if still listed) from `S`'s list and takes its outcome; with
/// `site`, a message a sender wrote into the registration's slot (a receive).
fn leave<S: Side>(
    chan: &Chan<S::Msg>,
    reg: Registered,
    site: Option<&dyn Fn() -> WaitSite>,
) -> Option<Outcome<S::Msg>> {
    /// Frees the registration when `leave` ends, even by unwinding out of `collect` (which
    /// returns or unwinds only once no write is pending).
    struct Free<T>(NonNull<Reg<T>>);
    impl<T> Drop for Free<T> {
        fn drop(&mut self) {
            // SAFETY: the entry is off the list and no writer is pending: no one else refers
            // to the registration any more.
            drop(unsafe { Box::from_raw(self.0.as_ptr()) });
        }
    }
    let reg_box = Free(reg.reg.cast::<Reg<S::Msg>>());
    // SAFETY: alive until `reg_box` is dropped, at the end of this function.
    let r = unsafe { reg_box.0.as_ref() };
    let out = {
        let mut st = chan.state.lock();
        lists::<S>(&mut st).0.remove(reg.id);
        // SAFETY: touched under the channel's lock only; the entry is gone now.
        unsafe { (*r.out.get()).take() }
    };
    match (out, site) {
        (Some(out), _) => Some(out),
        (None, Some(site)) => collect(chan, &r.slot, site).map(Outcome::Msg),
        (None, None) => None,
    }
}

impl<S: Side> Handle for S {
    fn chan_addr(&self) -> *const () {
        self.chan() as *const Chan<S::Msg> as *const ()
    }
    fn is_sender(&self) -> bool {
        S::SENDER
    }
    fn touch(&self) -> bool {
        self.chan().origin.touch();
        self.chan().origin.is_outside()
    }
    fn try_commit<'a>(&'a self, site: &dyn Fn() -> WaitSite) -> Option<Box<dyn Completion + 'a>> {
        let outcome = commit_now::<S>(self.chan(), site)?;
        Some(Done::boxed(self.chan(), outcome))
    }
    fn is_ready(&self) -> bool {
        ready::<S>(&self.chan().state.lock(), std::ptr::null())
    }
    fn register(&self, ctx: &Ctx, index: usize, waiter: &Waiter) -> Option<Registered> {
        register_on::<S>(self.chan(), ctx, index, waiter)
    }
    fn unregister(&self, reg: Registered) {
        leave::<S>(self.chan(), reg, None);
    }
    fn finish<'a>(
        &'a self,
        reg: Registered,
        site: &dyn Fn() -> WaitSite,
    ) -> Option<Box<dyn Completion + 'a>> {
        // A receive collects what a sender wrote into its slot; a send has no slot.
        let site = if S::SENDER { None } else { Some(site) };
        let outcome = leave::<S>(self.chan(), reg, site)?;
        Some(Done::boxed(self.chan(), outcome))
    }
}

impl<T> Side for Receiver<T> {
    type Msg = T;
    const SENDER: bool = false;
    fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

impl<T> Side for Sender<T> {
    type Msg = T;
    const SENDER: bool = true;
    fn chan(&self) -> &Chan<T> {
        &self.chan
    }
}

/// Completes a committed operation as the user's `recv`/`send` (the caller checked the type).
///
/// # Safety
/// - `done` was made by the `Handle` of a `Receiver<T>` or `Sender<T>` (this `T`).
pub(super) unsafe fn downcast<'a, T>(done: Box<dyn Completion + 'a>) -> Box<Done<'a, T>> {
    // SAFETY: forwarded from the caller: the object is a `Done<'a, T>`.
    unsafe { Box::from_raw(Box::into_raw(done) as *mut Done<'a, T>) }
}
