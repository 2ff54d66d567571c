//! The selection loop behind [`Select`](super::Select): try every operation in a random
//! order; if none can go, register one entry per operation (all naming one context) and park
//! once; leave every list on waking, taking what the claimer committed; repeat.

#[cfg(not(spindle_loom))]
use std::cell::Cell;
use std::panic::Location;
use std::time::Instant;

use super::handles::{Completion, Handle, Registered};
use super::selected::SelectedOperation;
use super::waiters::{Ctx, WAITING};
use crate::task::WaitSite;
use crate::task::Waiter;

/// One operation of a select: its channel end and its index (its place among those added).
#[derive(Clone, Copy)]
pub(super) struct Op<'a> {
    pub(super) handle: &'a dyn Handle,
    pub(super) index: usize,
}

/// The select's wait site, for the deadlock report.
fn site(ops: &[Op<'_>], location: &'static Location<'static>) -> WaitSite {
    WaitSite {
        what: "select",
        location,
        outside: ops.iter().any(|op| op.handle.touch()),
        origin: None,
        owner: None,
        since_ms: 0,
    }
}

/// `select`, `select_timeout`, `try_select`: `None` once `deadline` passed.
pub(super) fn run<'a>(
    ops: &mut [Op<'a>],
    deadline: Option<Instant>,
    location: &'static Location<'static>,
) -> Option<SelectedOperation<'a>> {
    crate::task::sched_point("Select::select");
    for op in ops.iter() {
        op.handle.touch();
    }
    let chosen = |op: &Op<'a>, done: Box<dyn Completion + 'a>| SelectedOperation {
        index: op.index,
        chan: op.handle.chan_addr(),
        sender: op.handle.is_sender(),
        done: Some(done),
    };
    loop {
        shuffle(ops);
        for op in ops.iter() {
            if let Some(done) = op.handle.try_commit(&|| site(ops, location)) {
                return Some(chosen(op, done));
            }
        }
        if deadline.is_some_and(|d| crate::clock::now() >= d) {
            // A send and a receive racing the first pass can hide a ready operation from it
            // (as crossbeam does, look once more before giving up).
            shuffle(ops);
            return ops.iter().find_map(|op| {
                let done = op.handle.try_commit(&|| site(ops, location))?;
                Some(chosen(op, done))
            });
        }
        if let Some((i, done)) = wait_round(ops, deadline, false, location) {
            let op = ops
                .iter()
                .find(|op| op.index == i)
                .expect("a chosen operation");
            return Some(chosen(op, done.expect("a committed operation")));
        }
    }
}

/// `ready`, `ready_timeout`, `try_ready`: `None` once `deadline` passed.
pub(super) fn run_ready(
    ops: &mut [Op<'_>],
    deadline: Option<Instant>,
    location: &'static Location<'static>,
) -> Option<usize> {
    for op in ops.iter() {
        op.handle.touch();
    }
    loop {
        shuffle(ops);
        if let Some(op) = ops.iter().find(|op| op.handle.is_ready()) {
            return Some(op.index);
        }
        if deadline.is_some_and(|d| crate::clock::now() >= d) {
            shuffle(ops);
            return ops
                .iter()
                .find(|op| op.handle.is_ready())
                .map(|op| op.index);
        }
        // A notification only says "look again".
        wait_round(ops, deadline, true, location);
    }
}

/// A round's registrations; leaving (also when a cancelled task unwinds) aborts the context,
/// removes every entry, and takes what a claimer committed.
struct Round<'r, 'a> {
    ops: &'r [Op<'a>],
    ctx: &'r Ctx,
    regs: Vec<(usize, Registered)>,
    location: &'static Location<'static>,
    /// `ready`: a claim only says "look again"; nothing was committed.
    observe: bool,
    left: bool,
}

type Chosen<'a> = Option<(usize, Option<Box<dyn Completion + 'a>>)>;

impl<'a> Round<'_, 'a> {
    fn leave(&mut self) -> Chosen<'a> {
        self.left = true;
        let selected = self.ctx.abort();
        let mut chosen = None;
        let (ops, location) = (self.ops, self.location);
        // Every other list first: finishing may wait (for a promised message) and a
        // cancellation may unwind out of it, after which no entry may remain.
        for (pos, reg) in std::mem::take(&mut self.regs) {
            if ops[pos].index as u64 == selected && !self.observe {
                chosen = Some((pos, reg));
            } else {
                ops[pos].handle.unregister(reg);
            }
        }
        let (pos, reg) = chosen?;
        let op = &ops[pos];
        let done = op.handle.finish(reg, &|| site(ops, location))?;
        Some((op.index, Some(done)))
    }
}

impl Drop for Round<'_, '_> {
    fn drop(&mut self) {
        if !self.left {
            drop(self.leave()); // (a committed operation undoes itself)
        }
    }
}

/// Registers every operation and parks once; `Some` if a claimer committed one.
fn wait_round<'a>(
    ops: &[Op<'a>],
    deadline: Option<Instant>,
    observe: bool,
    location: &'static Location<'static>,
) -> Chosen<'a> {
    let ctx = Ctx::new(observe);
    let mut round = Round {
        ops,
        ctx: &ctx,
        regs: Vec::with_capacity(ops.len()),
        location,
        observe,
        left: false,
    };
    if crate::task::in_green_thread() {
        park_green(&mut round, deadline);
    } else {
        park_thread(&mut round, deadline);
    }
    round.leave()
}

/// Registers each operation unless one is ready (then the round is aborted and `true`:
/// wake up and try again) or the select was already chosen.
fn register_all(round: &mut Round<'_, '_>, waiter: &Waiter) -> bool {
    for (pos, op) in round.ops.iter().enumerate() {
        if round.ctx.selected() != WAITING {
            return false; // chosen meanwhile: the claimer wakes us
        }
        match op.handle.register(round.ctx, op.index, waiter) {
            Some(reg) => round.regs.push((pos, reg)),
            None => {
                round.ctx.abort(); // if a claim came first, its wake and ours race: harmless
                return true;
            }
        }
    }
    false
}

#[cfg(not(spindle_loom))]
fn park_green(round: &mut Round<'_, '_>, deadline: Option<Instant>) {
    let task = crate::task::running().expect("checked by the caller");
    crate::task::set_wait_site(task, Some(site(round.ops, round.location)));
    // Cancelled when the round ends, however it ends: a select chosen long before its
    // deadline leaves nothing in the worker's timers.
    let mut timer = crate::coop::WaitTimer::new();
    // Invariant 2: the entries are published by the worker, after the task switched out.
    let mut register = |w: Waiter| {
        if let Some(d) = deadline {
            timer.set(d, w.clone());
        }
        if register_all(round, &w) {
            w.wake();
        }
    };
    // SAFETY: `task` is the task running on this thread.
    unsafe { crate::task::park(task, &mut register) };
    timer.cancel();
    crate::task::set_wait_site(task, None);
}

#[cfg(spindle_loom)]
fn park_green(_: &mut Round<'_, '_>, _: Option<Instant>) {
    unreachable!("no green threads under loom")
}

fn park_thread(round: &mut Round<'_, '_>, deadline: Option<Instant>) {
    let waiter = Waiter::Thread(crate::loom::current_thread());
    register_all(round, &waiter);
    // Wake-ups may be spurious: the context says whether we were chosen.
    while round.ctx.selected() == WAITING {
        match deadline {
            None => crate::loom::park(),
            Some(d) if crate::clock::now() >= d => return,
            Some(d) => crate::loom::park_until(d),
        }
    }
}

/// Shuffles the operations (Fisher–Yates), so that a ready one is chosen uniformly. (Not
/// under loom, whose replays must make the same choices.)
#[cfg(spindle_loom)]
fn shuffle<T>(_: &mut [T]) {}

/// Shuffles the operations (Fisher–Yates), so that a ready one is chosen uniformly.
#[cfg(not(spindle_loom))]
fn shuffle<T>(v: &mut [T]) {
    for i in (1..v.len()).rev() {
        let j = (random() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// A per-thread xorshift64* generator, seeded from std's per-process random keys.
#[cfg(not(spindle_loom))]
fn random() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = const { Cell::new(0) };
    }
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            use std::hash::{BuildHasher, Hasher};
            x = std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
                | 1;
        }
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}
