//! The lecture's `coroutine(n)`: "with `send()`, a generator becomes a coroutine".
//!
//! * a [`Coroutine`] whose resume input is the value sent in; it prints `n + x` for each `x`,
//! * broadcasting: `for i in range(5): for target in targets: target.send(i)`,
//! * `close()` unwinding the coroutine's stack, so a guard's `Drop` runs where Python would
//!   run the `except GeneratorExit:` branch,
//! * a [`Generator`] used as an `Iterator`.
//!
//! Run with `cargo run --release --example coroutine_send`.

use spindle::coroutine::{Coroutine, Generator, Yielder};

/// Runs its `Drop` when the coroutine is closed: the lecture's `except GeneratorExit:`.
struct OnClose {
    n: i32,
}

impl Drop for OnClose {
    fn drop(&mut self) {
        println!("coroutine({}) closed: GeneratorExit cleanup ran", self.n);
    }
}

/// ```python
/// def coroutine(n):
///     try:
///         while True:
///             x = (yield)
///             print n+x
///     except GeneratorExit:
///         pass
/// ```
///
/// No priming `next()` is needed: the first `resume(x)` starts the body with `x`.
fn coroutine(n: i32) -> Coroutine<i32, (), ()> {
    Coroutine::new(move |y: &Yielder<i32, ()>, first: i32| {
        let _on_close = OnClose { n };
        let mut x = first;
        loop {
            println!("coroutine({n}) got {x}: n + x = {}", n + x);
            x = y.suspend(()); // x = (yield)
        }
    })
}

/// Python's `target.send(x)`.
fn send(target: &mut Coroutine<i32, (), ()>, x: i32) {
    // The body loops forever, so every send ends at the next `(yield)`.
    let yielded = target.resume(x).into_yield();
    debug_assert!(yielded.is_some(), "coroutine returned instead of yielding");
}

fn main() {
    println!("-- one coroutine fed with send() --");
    let mut c = coroutine(10);
    for x in [1, 2, 3] {
        send(&mut c, x);
    }
    c.close();
    println!("done after close: {}", c.is_done());

    println!("\n-- broadcasting to several targets --");
    let mut targets = [coroutine(1), coroutine(10), coroutine(100)];
    for i in 0..5 {
        for target in &mut targets {
            send(target, i);
        }
    }
    for target in &mut targets {
        target.close();
    }

    println!("\n-- a generator is an iterator --");
    let squares = Generator::new(|y: &Yielder<(), u64>| {
        for i in 0..6 {
            y.suspend(i * i); // yield i * i
        }
    });
    let evens: Vec<u64> = squares.filter(|s| s % 2 == 0).collect();
    println!("even squares below 36: {evens:?}");
}
