//! The channel side of `select`: how a select's operations wait in a channel's wait lists next
//! to plain senders and receivers, and how every notifier treats them.
//!
//! # One context, an entry per operation
//!
//! A waiting select has one [`Ctx`] (an atomic `selected` slot) and, on the list of each
//! channel it waits on, one entry whose tag points at a registration ([`Reg`]) naming the
//! context and the operation's index. A notifier that pops such an entry must first *claim*
//! the context (a compare-and-swap from [`WAITING`] to the index): if the claim fails, the
//! select already chose another operation, the entry is dead, and the notifier moves on to the
//! next waiter, so no notification is ever lost to a select that does not use it.
//!
//! # A claim commits the operation
//!
//! Whoever claims a select completes (or reserves) its operation under the channel's lock, so
//! that the select never has to pass a notification on:
//!
//! * a sender hands its message into the registration's [`Slot`];
//! * a receiver that frees room in a bounded channel reserves that room for it (`reserved`);
//! * the last sender or receiver going away marks the operation disconnected;
//! * on a rendezvous channel, a receiver pairs with a select's send, and a select's send
//!   reserves a waiting receiver (plain or select): the receiver's slot is marked `pending`
//!   and the select writes the message there when the user completes the operation. A
//!   receiver whose slot is pending waits for that write (or for its withdrawal, if the
//!   selected operation is dropped) before it leaves, as crossbeam's receivers do.
//!
//! Entries of [`Select::ready`](super::Select::ready) are *observers*: claiming one only wakes
//! it ("look again") and the notifier goes on to the next waiter.

use std::cell::UnsafeCell;
use std::sync::atomic::Ordering;

use super::state::State;
use crate::loom::{AtomicBool, AtomicU64};
use crate::sync::wait::{Entry, WaitList};
use crate::task::Waiter;

/// `Ctx::selected` while the select waits.
pub(super) const WAITING: u64 = u64::MAX;
/// `Ctx::selected` once the select gave up this round (timed out, saw an operation ready, left).
pub(super) const ABORTED: u64 = u64::MAX - 1;
/// The tag bit of a select's entry: its tag is this bit and the registration's address
/// (user-space addresses never have the top bit set; tickets are counters far below it, and a
/// waiting sender's `u64::MAX` is told apart explicitly).
pub(super) const SELECT_TAG: u64 = 1 << 63;

/// One waiting select (a round of it): which operation was chosen.
pub(super) struct Ctx {
    selected: AtomicU64,
    /// `Select::ready`: notifications only say "look again".
    pub(super) observe: bool,
}

impl Ctx {
    pub(super) fn new(observe: bool) -> Ctx {
        Ctx {
            selected: AtomicU64::new(WAITING),
            observe,
        }
    }

    pub(super) fn selected(&self) -> u64 {
        self.selected.load(Ordering::Acquire)
    }

    /// Gives up unless an operation was chosen; returns the final `selected`.
    pub(super) fn abort(&self) -> u64 {
        match self
            .selected
            .compare_exchange(WAITING, ABORTED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => ABORTED,
            Err(s) => s,
        }
    }

    fn claim(&self, index: u64) -> bool {
        self.selected
            .compare_exchange(WAITING, index, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// Where a sender delivers a message to a waiting receiver: in a plain `recv`'s frame or in a
/// select's registration. Written under the channel's lock only, and only by whoever popped
/// the receiver's entry (in that lock section, or later if it set `pending`); the receiver
/// reads it once it has seen its entry popped and `pending` clear (see `handover::collect`).
/// Accessed field by field through raw pointers: the receiver may load `pending` while a
/// writer holds the lock.
pub(super) struct Slot<T> {
    pub(super) msg: Option<T>,
    /// A select's send reserved this receiver; its message (or a withdrawal) is coming. Set
    /// and cleared under the lock; clearing it (`Release`) is the writer's last touch.
    pub(super) pending: AtomicBool,
    /// The receiver's waiter while it waits for a pending message.
    pub(super) rewake: Option<Waiter>,
}

impl<T> Slot<T> {
    #[inline]
    pub(super) fn new() -> Slot<T> {
        Slot {
            msg: None,
            pending: AtomicBool::new(false),
            rewake: None,
        }
    }
}

/// What the entry of a select's operation points at (first, so that it can be read without
/// knowing `T`).
#[repr(C)]
pub(super) struct Header {
    pub(super) ctx: *const Ctx,
    pub(super) index: u64,
}

/// A select's registration on one channel of `T`, alive until its owner has removed the entry.
#[repr(C)]
pub(super) struct Reg<T> {
    pub(super) head: Header,
    pub(super) slot: UnsafeCell<Slot<T>>,
    pub(super) out: UnsafeCell<Option<Outcome<T>>>,
}

/// An operation committed for a select, waiting to be completed by the user.
pub(super) enum Outcome<T> {
    /// A received message.
    Msg(T),
    /// The other side is gone.
    Disconnected,
    /// Room to send (bounded: counted in `reserved`).
    Room { counted: bool },
    /// Rendezvous: this receiver is reserved; write into its slot, then wake it.
    Receiver {
        slot: *mut Slot<T>,
        waiter: Option<Waiter>,
    },
}

/// The header of a select's entry, if `e` is one. The reference is good while the caller
/// holds the channel's lock (not for as long as `e`: the entry may be moved out meanwhile).
fn header<'r>(e: &Entry) -> Option<&'r Header> {
    if e.tag == u64::MAX || e.tag & SELECT_TAG == 0 {
        return None;
    }
    // SAFETY: a select's entry is tagged with the address of its registration, whose first
    // field is the header; the registration lives until its owner has removed the entry (or
    // seen it popped), under the channel's lock, which the caller holds.
    Some(unsafe { &*((e.tag & !SELECT_TAG) as usize as *const Header) })
}

fn ctx_of<'r>(h: &Header) -> &'r Ctx {
    // SAFETY: the context outlives every registration of its select (see `header`).
    unsafe { &*h.ctx }
}

/// The registration behind a select's entry of a channel of `T` (good under the lock).
fn reg_of<'r, T>(e: &Entry) -> Option<&'r Reg<T>> {
    // SAFETY: entries in a `Chan<T>`'s lists belong to `Reg<T>`s; `Header` is its first field.
    header(e).map(|h| unsafe { &*(h as *const Header as *const Reg<T>) })
}

fn is_observer(e: &Entry) -> bool {
    header(e).is_some_and(|h| ctx_of(h).observe)
}

fn is_select(e: &Entry) -> bool {
    header(e).is_some_and(|h| !ctx_of(h).observe)
}

/// A select's entry (not `own`'s, not an observer) still waiting to be chosen.
fn is_live_peer(e: &Entry, own: *const Ctx) -> bool {
    header(e).is_some_and(|h| h.ctx != own && !ctx_of(h).observe && ctx_of(h).selected() == WAITING)
}

/// Waiters to wake once the lock is released: the first inline (a plain operation wakes
/// one, its counterpart), any more on the heap.
pub(super) struct Wakes {
    first: Option<Waiter>,
    /// Boxed: one word, null in the common case, so that making and moving a `Wakes` stays
    /// cheap on the plain paths.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<Waiter>>>,
}

impl Wakes {
    #[inline(always)]
    pub(super) const fn new() -> Wakes {
        Wakes {
            first: None,
            rest: None,
        }
    }

    #[inline(always)]
    pub(super) fn push(&mut self, w: Waiter) {
        if self.first.is_none() {
            self.first = Some(w);
        } else {
            self.push_rest(w);
        }
    }

    #[cold]
    fn push_rest(&mut self, w: Waiter) {
        self.rest.get_or_insert_with(Box::default).push(w);
    }

    #[inline(always)]
    pub(super) fn wake(self) {
        if let Some(w) = self.first {
            w.wake();
        }
        if let Some(rest) = self.rest {
            wake_rest(*rest);
        }
    }
}

#[cold]
fn wake_rest(rest: Vec<Waiter>) {
    for w in rest {
        w.wake();
    }
}

/// How a receiver's attempt went.
pub(super) enum Took<T> {
    Msg(T),
    Disconnected,
    /// Paired with a select's send (rendezvous): the message comes into the slot.
    Pending,
}

impl<T> State<T> {
    /// Whether a send may queue a message now (never, on a rendezvous channel).
    #[inline]
    pub(super) fn has_room(&self) -> bool {
        match self.cap {
            None => true,
            Some(0) => false,
            Some(cap) => self.buf.len() + self.reserved < cap,
        }
    }

    /// A sender's hand-over: gives `msg` to the first waiting receiver that takes it (a plain
    /// receiver, or a select it claims); observers on the way are woken.
    #[inline]
    pub(super) fn deliver(&mut self, msg: T, wakes: &mut Wakes) -> Result<(), T> {
        let mut msg = msg;
        while let Some(e) = self.recv_waiters.pop() {
            match reg_of::<T>(&e) {
                None => {
                    // SAFETY: a plain receiver's tag is the address of its slot, alive until
                    // it has seen its entry popped (under this lock, which we hold).
                    unsafe { (*(e.tag as usize as *mut Slot<T>)).msg = Some(msg) };
                    wakes.push(e.waiter);
                }
                Some(reg) => match offer(reg, e.waiter, msg, wakes) {
                    Ok(()) => {}
                    Err(m) => {
                        msg = m;
                        continue;
                    }
                },
            }
            self.pass_room_on(wakes);
            return Ok(());
        }
        Err(msg)
    }

    /// A sender's message, once it may go: handed to a waiting receiver (`None`), or else
    /// queued (`Some(ticket)`, see `enqueue`).
    #[inline]
    pub(super) fn send_now(&mut self, msg: T, wakes: &mut Wakes) -> Option<u64> {
        match self.deliver(msg, wakes) {
            Ok(()) => None,
            Err(msg) => Some(self.enqueue(msg, wakes)),
        }
    }

    /// Queues `msg` at the back, under a fresh ticket (returned), and tells a receiver.
    #[inline]
    pub(super) fn enqueue(&mut self, msg: T, wakes: &mut Wakes) -> u64 {
        let ticket = self.ticket();
        self.buf.push_back((ticket, msg));
        self.notify_recv(wakes);
        ticket
    }

    /// After a hand-over, which used no room: a sender told of room (or a select that had
    /// reserved it) did not need it, so the next waiting sender is told. (Without this, a
    /// sender could wait for room that is free while every receiver waits for a message.)
    #[inline]
    fn pass_room_on(&mut self, wakes: &mut Wakes) {
        if !self.send_waiters.is_empty() && self.cap != Some(0) && self.has_room() {
            self.notify_room(wakes);
        }
    }

    /// A receiver's attempt: takes the first message, or (rendezvous) pairs with a waiting
    /// select's send, writing `slot` as where its message must go.
    #[inline(always)]
    pub(super) fn take(&mut self, slot: *mut Slot<T>, wakes: &mut Wakes) -> Option<Took<T>> {
        if self.buf.is_empty() && self.senders != 0 && self.cap != Some(0) {
            return None; // the common wait, kept short
        }
        self.take_now(slot, wakes)
    }

    /// A plain receiver's attempt: `take`, and when that fails on a rendezvous channel (the
    /// receiver parks in this lock section, which makes sends ready), tells their observers.
    #[inline(always)]
    pub(super) fn take_or_park(
        &mut self,
        slot: *mut Slot<T>,
        wakes: &mut Wakes,
    ) -> Option<Took<T>> {
        if self.buf.is_empty() && self.senders != 0 && self.cap != Some(0) {
            return None; // the common wait, kept short
        }
        let took = self.take_now(slot, wakes);
        if took.is_none() && self.cap == Some(0) {
            self.wake_send_observers();
        }
        took
    }

    #[inline]
    fn take_now(&mut self, slot: *mut Slot<T>, wakes: &mut Wakes) -> Option<Took<T>> {
        if let Some((ticket, m)) = self.buf.pop_front() {
            if self.cap == Some(0) {
                if let Some(e) = self.send_waiters.pop_tag(ticket) {
                    wakes.push(e.waiter);
                }
            } else if !self.send_waiters.is_empty() {
                self.notify_room(wakes);
            }
            return Some(Took::Msg(m));
        }
        if self.senders == 0 {
            return Some(Took::Disconnected);
        }
        if self.cap == Some(0) && !self.send_waiters.is_empty() {
            return self.pair_with_select(slot, wakes);
        }
        None
    }

    /// Rendezvous, nothing queued: pairs with a waiting select's send, if any.
    #[cold]
    fn pair_with_select(&mut self, slot: *mut Slot<T>, wakes: &mut Wakes) -> Option<Took<T>> {
        while let Some(e) = self.send_waiters.pop_where(is_select) {
            let reg = reg_of::<T>(&e).expect("a select's entry");
            if !ctx_of(&reg.head).claim(reg.head.index) {
                continue;
            }
            let out = Outcome::Receiver { slot, waiter: None };
            // SAFETY: both are touched under the channel's lock only.
            unsafe {
                *reg.out.get() = Some(out);
                (*slot).pending.store(true, Ordering::Relaxed);
            }
            wakes.push(e.waiter);
            return Some(Took::Pending);
        }
        None
    }

    /// A select's send, now: commits it if it can go without waiting.
    pub(super) fn reserve(&mut self) -> Option<Outcome<T>> {
        if self.receivers == 0 {
            return Some(Outcome::Disconnected);
        }
        match self.cap {
            None => Some(Outcome::Room { counted: false }),
            Some(0) => {
                while let Some(e) = self.recv_waiters.pop_where(|e| !is_observer(e)) {
                    let slot = match reg_of::<T>(&e) {
                        None => e.tag as usize as *mut Slot<T>,
                        Some(reg) if ctx_of(&reg.head).claim(reg.head.index) => reg.slot.get(),
                        Some(_) => continue,
                    };
                    // SAFETY: the receiver's slot (see `deliver`), under the lock.
                    unsafe { (*slot).pending.store(true, Ordering::Relaxed) };
                    let waiter = Some(e.waiter);
                    return Some(Outcome::Receiver { slot, waiter });
                }
                None
            }
            Some(_) if self.has_room() => {
                self.reserved += 1;
                Some(Outcome::Room { counted: true })
            }
            Some(_) => None,
        }
    }

    /// Room was freed (bounded): tells the first sender waiting for it; a select is given
    /// the room itself.
    pub(super) fn notify_room(&mut self, wakes: &mut Wakes) {
        if self.cap == Some(0) {
            return; // no room to speak of; its senders wait for their tickets
        }
        let ready = self.has_room();
        if let Some(reg) = notify_first::<T>(&mut self.send_waiters, ready, wakes) {
            self.reserved += 1;
            // SAFETY: touched under the channel's lock only.
            unsafe { *reg.out.get() = Some(Outcome::Room { counted: true }) };
        }
    }

    /// A message may be waiting (queued, or put back): tells the first receiver; a select is
    /// given the message itself.
    pub(super) fn notify_recv(&mut self, wakes: &mut Wakes) {
        let ready = !self.buf.is_empty() || self.senders == 0;
        if let Some(reg) = notify_first::<T>(&mut self.recv_waiters, ready, wakes) {
            self.commit_recv(reg, wakes);
        }
    }

    /// Completes the receive of a claimed select when a message is queued or no sender is left.
    fn commit_recv(&mut self, reg: &Reg<T>, wakes: &mut Wakes) {
        // SAFETY: touched under the channel's lock only.
        unsafe {
            match self.take(reg.slot.get(), wakes) {
                Some(Took::Msg(m)) => (*reg.slot.get()).msg = Some(m),
                Some(Took::Disconnected) => *reg.out.get() = Some(Outcome::Disconnected),
                // (Not reached: callers check that a message or the disconnection is there.)
                // Pending: the slot waits for a select's send; nothing: the select looks again.
                Some(Took::Pending) | None => {}
            }
        }
    }

    /// A sender was dropped; the last one disconnects the receivers. Returns whom to wake.
    pub(super) fn sender_left(&mut self) -> Wakes {
        self.senders -= 1;
        if self.senders != 0 {
            return Wakes::new();
        }
        if self.recv_waiters.is_empty() {
            return Wakes::new();
        }
        // Every waiting receiver is told (a select drains what is left, then sees the
        // disconnection).
        let entries = self.recv_waiters.drain();
        self.disconnect(entries, State::commit_recv)
    }

    /// A receiver was dropped; the last one disconnects the senders. Returns whom to wake.
    pub(super) fn receiver_left(&mut self) -> Wakes {
        self.receivers -= 1;
        if self.receivers != 0 {
            return Wakes::new();
        }
        if self.send_waiters.is_empty() {
            return Wakes::new();
        }
        // Every waiting sender is told.
        let entries = self.send_waiters.drain();
        self.disconnect(entries, |_, reg, _| {
            // SAFETY: touched under the channel's lock only.
            unsafe { *reg.out.get() = Some(Outcome::Disconnected) };
        })
    }

    /// Wakes `entries` (a whole wait list, drained: the other side is gone); a select claimed
    /// on the way has its operation committed by `commit` first.
    fn disconnect(
        &mut self,
        entries: impl IntoIterator<Item = Entry>,
        commit: impl Fn(&mut State<T>, &Reg<T>, &mut Wakes),
    ) -> Wakes {
        let mut wakes = Wakes::new();
        for e in entries {
            match reg_of::<T>(&e) {
                None => wakes.push(e.waiter),
                Some(reg) if ctx_of(&reg.head).claim(reg.head.index) => {
                    if !ctx_of(&reg.head).observe {
                        commit(self, reg, &mut wakes);
                    }
                    wakes.push(e.waiter);
                }
                Some(_) => {}
            }
        }
        wakes
    }

    /// A plain receiver is about to park on a rendezvous channel, in this lock section: wakes
    /// the observers of its sends now (they look again once we unlock, and see it). Rare, so
    /// woken under the lock, where a failed attempt has no one else to hand them to.
    #[cold]
    fn wake_send_observers(&mut self) {
        let mut wakes = Wakes::new();
        wake_observers(&mut self.send_waiters, &mut wakes);
        wakes.wake();
    }

    pub(super) fn recv_ready(&self, own: *const Ctx) -> bool {
        !self.buf.is_empty()
            || self.senders == 0
            || (self.cap == Some(0) && self.send_waiters.any(|e| is_live_peer(e, own)))
    }

    pub(super) fn send_ready(&self, own: *const Ctx) -> bool {
        self.receivers == 0
            || match self.cap {
                Some(0) => self
                    .recv_waiters
                    .any(|e| header(e).is_none() || is_live_peer(e, own)),
                _ => self.has_room(),
            }
    }
}

/// A sender's hand-over to a select's receive (`reg`, whose entry was just popped): taken if
/// the select is claimed; an observer is woken and gives the message back, as a dead entry.
#[cold]
fn offer<T>(reg: &Reg<T>, waiter: Waiter, msg: T, wakes: &mut Wakes) -> Result<(), T> {
    let ctx = ctx_of(&reg.head);
    if !ctx.claim(reg.head.index) {
        return Err(msg); // dead: that select chose another operation
    }
    wakes.push(waiter);
    if ctx.observe {
        return Err(msg);
    }
    // SAFETY: the slot is touched under the channel's lock only.
    unsafe { (*reg.slot.get()).msg = Some(msg) };
    Ok(())
}

/// Pops the first waiter of `list` that a notification is for (any, if `ready`; else a plain
/// waiter, who looks again) and wakes it. A select's entry is claimed first, and skipped if the
/// select chose another operation; an observer is woken and the next waiter is told as well.
/// Returns the registration of a claimed select, whose operation the caller commits.
#[inline]
fn notify_first<'r, T>(list: &mut WaitList, ready: bool, wakes: &mut Wakes) -> Option<&'r Reg<T>> {
    loop {
        let e = if ready {
            list.pop()
        } else {
            list.pop_where(|e| header(e).is_none())
        }?;
        let Some(reg) = reg_of::<T>(&e) else {
            wakes.push(e.waiter);
            return None;
        };
        let ctx = ctx_of(&reg.head);
        if !ctx.claim(reg.head.index) {
            continue;
        }
        wakes.push(e.waiter);
        if !ctx.observe {
            return Some(reg);
        }
    }
}

/// Wakes the observers of a list (a rendezvous counterpart arrived).
pub(super) fn wake_observers(list: &mut WaitList, wakes: &mut Wakes) {
    while let Some(e) = list.pop_where(is_observer) {
        let h = header(&e).expect("a select's entry");
        if ctx_of(h).claim(h.index) {
            wakes.push(e.waiter);
        }
    }
}
