//! The lecture's coroutine broadcast: one value sent in, delivered to every target.
//!
//! ```python
//! def broadcast(targets):
//!     while True:
//!         item = (yield)
//!         for target in targets:
//!             target.send(item)
//! ```
//!
//! `broadcast(targets)` is itself a coroutine: sending it an item sends the item on to each
//! of its targets in turn, and a target may be a filter that passes some items on to targets
//! of its own, so coroutines chain into a tree (a pipeline with branches). Everything runs on
//! the caller's thread, with no scheduler: each `send` returns once the item has gone through
//! the whole tree, in the targets' order.
//!
//! The tree here:
//!
//! ```text
//! source ──> broadcast ─┬─> printer("all")
//!                       ├─> only_even ──> printer("even")
//!                       └─> total         (keeps a running sum)
//! ```
//!
//! The broadcaster owns its targets. Closing it unwinds its stack, which drops (and so
//! closes) each target in turn: every coroutine's `Drop` guard prints that it was closed,
//! where Python runs `except GeneratorExit:`.
//!
//! Run with `cargo run --release --example broadcast`.

use std::cell::Cell;
use std::rc::Rc;

use spindle::coroutine::{Coroutine, Yielder};

/// A coroutine that takes items with `send` and yields nothing back.
type Target = Coroutine<i64, (), ()>;

/// Prints `<name> closed` when dropped: when its coroutine is closed.
struct OnClose(String);

impl Drop for OnClose {
    fn drop(&mut self) {
        println!("  {} closed", self.0);
    }
}

/// Python's `target.send(item)`.
fn send(target: &mut Target, item: i64) {
    // Every target loops forever, so each send ends at its next `(yield)`.
    let yielded = target.resume(item).into_yield();
    debug_assert!(yielded.is_some(), "a target returned instead of yielding");
}

/// Prints every item it is sent.
fn printer(name: &'static str) -> Target {
    Coroutine::new(move |y: &Yielder<i64, ()>, mut item: i64| {
        let _closed = OnClose(format!("printer({name})"));
        loop {
            println!("  printer({name}) got {item}");
            item = y.suspend(());
        }
    })
}

/// Passes the even items on to `target`, drops the others.
fn only_even(mut target: Target) -> Target {
    Coroutine::new(move |y: &Yielder<i64, ()>, mut item: i64| {
        let _closed = OnClose("only_even".into());
        loop {
            if item % 2 == 0 {
                send(&mut target, item);
            }
            item = y.suspend(());
        }
    })
}

/// Adds every item it is sent to `sum`, which the caller can read at any time.
fn total(sum: Rc<Cell<i64>>) -> Target {
    Coroutine::new(move |y: &Yielder<i64, ()>, mut item: i64| {
        let _closed = OnClose("total".into());
        loop {
            sum.set(sum.get() + item);
            item = y.suspend(());
        }
    })
}

/// The lecture's `broadcast(targets)`: sends each item to every target, in order.
fn broadcast(mut targets: Vec<Target>) -> Target {
    Coroutine::new(move |y: &Yielder<i64, ()>, mut item: i64| {
        let _closed = OnClose("broadcast".into());
        loop {
            for target in &mut targets {
                send(target, item);
            }
            item = y.suspend(());
        }
    })
}

fn main() {
    let sum = Rc::new(Cell::new(0));
    let mut tree = broadcast(vec![
        printer("all"),
        only_even(printer("even")),
        total(sum.clone()),
    ]);

    // The source: `for i in range(5): b.send(i)`.
    for i in 0..5 {
        println!("send({i}):");
        send(&mut tree, i);
        println!("  running total: {}", sum.get());
    }

    println!("close the broadcaster:");
    tree.close();
    println!(
        "done: {} after close, total of 0..5 = {}",
        if tree.is_done() { "done" } else { "NOT done" },
        sum.get()
    );
}
