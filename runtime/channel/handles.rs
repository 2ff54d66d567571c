//! The select-aware ends of the channel protocol in `waiters`: a receiver collecting what it
//! was given (waiting for a message a select's send has promised), putting back what a
//! cancelled waiter took, and the [`Handle`] through which a `Select` tries, registers,
//! finishes and completes an operation on a channel of any message type.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;

use super::waiters::{wake_observers, Ctx, Header, Outcome, Reg, Slot, Took, Wakes, SELECT_TAG};
use super::{Chan, Receiver, RecvError, SendError, Sender, State};
use crate::sync::wait::{WaitList, WaitSite};
use crate::task::Waiter;

/// The message a receiver was given in `slot` once its wait ended (popped, or paired with a
/// select's send), waiting first for a pending one; `None`: only "look again".
///
/// The caller has seen its entry leave the list (woken by the notifier that popped it, or
/// under the lock): whatever that notifier wrote, `pending` included, happened before.
#[inline]
pub(super) fn collect<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Option<T> {
    if is_pending(slot) {
        return collect_pending(chan, slot, site);
    }
    // SAFETY: no write is pending (see `is_pending`): no one touches the slot any more.
    unsafe { (*slot.get()).msg.take() }
}

/// Whether a select's send still has to write `slot`; once it reads `false`, the slot is
/// ours alone: every write to it happened before (the one that cleared `pending` last).
#[inline]
fn is_pending<T>(slot: &UnsafeCell<Slot<T>>) -> bool {
    // SAFETY: the slot is alive (the caller's); an atomic, read without the lock.
    unsafe { (*slot.get()).pending.load(Ordering::Acquire) }
}

#[cold]
fn collect_pending<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Option<T> {
    let mut unwound = None;
    let msg = loop {
        if !is_pending(slot) {
            // SAFETY: as in `collect`.
            break unsafe { (*slot.get()).msg.take() };
        }
        if let Err(p) = wait_pending(chan, slot, site) {
            unwound.get_or_insert(p);
        }
    };
    if let Some(p) = unwound {
        // Cancelled while a select's message was on its way: it goes back to the channel.
        if let Some(m) = msg {
            put_back(chan, m);
        }
        panic::resume_unwind(p);
    }
    msg
}

/// Parks until `slot` is no longer pending (the writer wakes `rewake`). A cancellation that
/// unwinds out of the park is caught and returned: the slot must outlive the write.
fn wait_pending<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    if crate::loom::in_green_thread() {
        return wait_pending_green(chan, slot, site);
    }
    {
        let _st = chan.state.lock();
        if !is_pending(slot) {
            return Ok(());
        }
        // SAFETY: under the channel's lock, while the writer is still to come.
        unsafe { (*slot.get()).rewake = Some(Waiter::Thread(crate::loom::current_thread())) };
    }
    crate::loom::park(); // wake-ups may be spurious: the caller checks again
    Ok(())
}

#[cfg(not(spindle_loom))]
fn wait_pending_green<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    let task = crate::coop::running().expect("checked by the caller");
    crate::coop::set_wait_site(task, Some(site()));
    let mut register = |w: Waiter| {
        let st = chan.state.lock();
        if is_pending(slot) {
            // SAFETY: under the channel's lock, while the writer is still to come.
            unsafe { (*slot.get()).rewake = Some(w) };
        } else {
            drop(st);
            w.wake();
        }
    };
    // SAFETY: `task` is the task running on this thread.
    let r = panic::catch_unwind(panic::AssertUnwindSafe(|| unsafe {
        crate::coop::park(task, &mut register)
    }));
    crate::coop::set_wait_site(task, None);
    r
}

#[cfg(spindle_loom)]
fn wait_pending_green<T>(
    _: &Chan<T>,
    _: &UnsafeCell<Slot<T>>,
    _: &dyn Fn() -> WaitSite,
) -> Result<(), Box<dyn Any + Send>> {
    unreachable!("no green threads under loom")
}

/// Puts a message taken but not used back at the front of the channel, for the next receiver.
pub(super) fn put_back<T>(chan: &Chan<T>, msg: T) {
    let mut wakes = Wakes::new();
    {
        let mut st = chan.state.lock();
        let ticket = st.next_ticket;
        st.next_ticket += 1;
        st.buf.push_front((ticket, msg));
        st.notify_recv(&mut wakes);
    }
    wakes.wake();
}

/// A plain receiver cancelled after its entry was popped: the message it was given goes back,
/// and the notification to the next receiver.
pub(super) fn abandon_recv<T>(
    chan: &Chan<T>,
    slot: &UnsafeCell<Slot<T>>,
    site: &dyn Fn() -> WaitSite,
) {
    match collect(chan, slot, site) {
        Some(m) => put_back(chan, m),
        None => {
            let mut wakes = Wakes::new();
            chan.state.lock().notify_recv(&mut wakes);
            wakes.wake();
        }
    }
}

/// A plain sender cancelled after it was told of room: the next one is told.
pub(super) fn abandon_send<T>(chan: &Chan<T>) {
    let mut wakes = Wakes::new();
    chan.state.lock().notify_room(&mut wakes);
    wakes.wake();
}

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
                    if let Err(m) = st.deliver(msg, &mut wakes) {
                        let ticket = st.next_ticket;
                        st.next_ticket += 1;
                        st.buf.push_back((ticket, m));
                        st.notify_recv(&mut wakes);
                    }
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

/// Registers `reg` on `list` of `chan` unless `ready`; wakes the other side's observers.
fn register_on<T>(
    chan: &Chan<T>,
    ctx: &Ctx,
    index: usize,
    waiter: &Waiter,
    ready: fn(&State<T>, *const Ctx) -> bool,
    lists: fn(&mut State<T>) -> (&mut WaitList, &mut WaitList),
) -> Option<Registered> {
    let reg = new_reg::<T>(ctx, index);
    let tag = SELECT_TAG | reg.as_ptr() as usize as u64;
    debug_assert_ne!(tag, u64::MAX);
    let mut wakes = Wakes::new();
    let id = {
        let mut st = chan.state.lock();
        if ready(&st, ctx) {
            None
        } else {
            let rendezvous = st.cap == Some(0);
            let (mine, theirs) = lists(&mut *st);
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

/// Removes the entry of `reg` (if still listed) and takes its outcome.
fn leave<T>(
    chan: &Chan<T>,
    reg: Registered,
    list: fn(&mut State<T>) -> &mut WaitList,
    site: &dyn Fn() -> WaitSite,
    collect_msg: bool,
) -> Option<Outcome<T>> {
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
    let reg_box = Free(reg.reg.cast::<Reg<T>>());
    // SAFETY: alive until `reg_box` is dropped, at the end of this function.
    let r = unsafe { reg_box.0.as_ref() };
    let out = {
        let mut st = chan.state.lock();
        list(&mut *st).remove(reg.id);
        // SAFETY: touched under the channel's lock only; the entry is gone now.
        unsafe { (*r.out.get()).take() }
    };
    match out {
        Some(out) => Some(out),
        None if collect_msg => collect(chan, &r.slot, site).map(Outcome::Msg),
        None => None,
    }
}

fn no_site() -> WaitSite {
    unreachable!("a withdrawn registration never waits")
}

impl<T> Handle for Receiver<T> {
    fn chan_addr(&self) -> *const () {
        std::sync::Arc::as_ptr(&self.chan) as *const ()
    }
    fn is_sender(&self) -> bool {
        false
    }
    fn touch(&self) -> bool {
        self.chan.origin.touch();
        self.chan.origin.is_outside()
    }
    fn try_commit<'a>(&'a self, site: &dyn Fn() -> WaitSite) -> Option<Box<dyn Completion + 'a>> {
        let slot = UnsafeCell::new(Slot::new());
        let mut wakes = Wakes::new();
        let took = self.chan.state.lock().take(slot.get(), &mut wakes);
        wakes.wake();
        let outcome = match took? {
            Took::Msg(m) => Outcome::Msg(m),
            Took::Disconnected => Outcome::Disconnected,
            Took::Pending => Outcome::Msg(collect(&self.chan, &slot, site)?),
        };
        Some(Done::boxed(&self.chan, outcome))
    }
    fn is_ready(&self) -> bool {
        self.chan.state.lock().recv_ready(std::ptr::null())
    }
    fn register(&self, ctx: &Ctx, index: usize, waiter: &Waiter) -> Option<Registered> {
        register_on(&self.chan, ctx, index, waiter, State::recv_ready, |st| {
            (&mut st.recv_waiters, &mut st.send_waiters)
        })
    }
    fn unregister(&self, reg: Registered) {
        leave(&self.chan, reg, |st| &mut st.recv_waiters, &no_site, false);
    }
    fn finish<'a>(
        &'a self,
        reg: Registered,
        site: &dyn Fn() -> WaitSite,
    ) -> Option<Box<dyn Completion + 'a>> {
        let outcome = leave(&self.chan, reg, |st| &mut st.recv_waiters, site, true)?;
        Some(Done::boxed(&self.chan, outcome))
    }
}

impl<T> Handle for Sender<T> {
    fn chan_addr(&self) -> *const () {
        std::sync::Arc::as_ptr(&self.chan) as *const ()
    }
    fn is_sender(&self) -> bool {
        true
    }
    fn touch(&self) -> bool {
        self.chan.origin.touch();
        self.chan.origin.is_outside()
    }
    fn try_commit<'a>(&'a self, _: &dyn Fn() -> WaitSite) -> Option<Box<dyn Completion + 'a>> {
        let outcome = self.chan.state.lock().reserve()?;
        Some(Done::boxed(&self.chan, outcome))
    }
    fn is_ready(&self) -> bool {
        self.chan.state.lock().send_ready(std::ptr::null())
    }
    fn register(&self, ctx: &Ctx, index: usize, waiter: &Waiter) -> Option<Registered> {
        register_on(&self.chan, ctx, index, waiter, State::send_ready, |st| {
            (&mut st.send_waiters, &mut st.recv_waiters)
        })
    }
    fn unregister(&self, reg: Registered) {
        leave(&self.chan, reg, |st| &mut st.send_waiters, &no_site, false);
    }
    fn finish<'a>(
        &'a self,
        reg: Registered,
        _: &dyn Fn() -> WaitSite,
    ) -> Option<Box<dyn Completion + 'a>> {
        let outcome = leave(&self.chan, reg, |st| &mut st.send_waiters, &no_site, false)?;
        Some(Done::boxed(&self.chan, outcome))
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
