//! Coroutines that yield and accept values, like a Python generator driven by `send()`, each
//! on its own guarded stack. No scheduler is needed: the caller drives a coroutine with
//! [`Coroutine::resume`].
//!
//! ```
//! use spindle::coroutine::{Coroutine, CoroutineResult, Generator, Yielder};
//!
//! // Coroutine<Input, Yield, Return>: each resume(input) runs it to its next suspend or its end.
//! let mut co = Coroutine::new(|y: &Yielder<i32, i32>, first: i32| {
//!     let mut n = first;
//!     while n >= 0 { n = y.suspend(n * 2); }   // suspend hands a value out, returns the next input
//!     "done"
//! });
//! assert_eq!(co.resume(1), CoroutineResult::Yield(2));
//! assert_eq!(co.resume(-1), CoroutineResult::Return("done"));
//! assert!(co.is_done());
//!
//! // Generator<Y>: a Coroutine<(), Y, ()> that is an Iterator.
//! let squares: Vec<u64> = Generator::new(|y: &Yielder<(), u64>| for i in 0..4 { y.suspend(i * i); }).collect();
//! assert_eq!(squares, [0, 1, 4, 9]);
//! ```
//!
//! A coroutine is `!Send`: once made, it stays on its thread, so thread-locals and `!Send`
//! values on its stack stay sound.
//!
//! ```compile_fail
//! let g = spindle::coroutine::Generator::new(|y| y.suspend(1u8));
//! std::thread::spawn(move || drop(g)); // a coroutine cannot change thread
//! ```

use std::fmt;
use std::io;

use crate::stack::{default_guard, PooledStack, DEFAULT_STACK_SIZE};

/// What one [`Coroutine::resume`] produced: a value passed to [`Yielder::suspend`], or the
/// coroutine's return value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoroutineResult<Y, R> {
    /// The coroutine suspended itself with this value.
    Yield(Y),
    /// The coroutine finished and returned this value.
    Return(R),
}

impl<Y, R> CoroutineResult<Y, R> {
    /// The yielded value, if this is a `Yield`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::CoroutineResult;
    /// assert_eq!(CoroutineResult::<u8, ()>::Yield(3).into_yield(), Some(3));
    /// ```
    pub fn into_yield(self) -> Option<Y> {
        match self {
            CoroutineResult::Yield(y) => Some(y),
            CoroutineResult::Return(_) => None,
        }
    }

    /// The returned value, if this is a `Return`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::CoroutineResult;
    /// assert_eq!(CoroutineResult::<(), u8>::Return(3).into_return(), Some(3));
    /// ```
    pub fn into_return(self) -> Option<R> {
        match self {
            CoroutineResult::Yield(_) => None,
            CoroutineResult::Return(r) => Some(r),
        }
    }
}

/// The handle a coroutine body uses to suspend itself: [`suspend`](Yielder::suspend) hands a
/// value out to the code that resumed it and returns the next value sent in.
///
/// A `Yielder` is only reachable as a reference passed to the coroutine's body, and it is
/// `!Send`.
#[repr(transparent)]
pub struct Yielder<I, Y> {
    inner: corosensei::Yielder<I, Y>,
}

impl<I, Y> Yielder<I, Y> {
    fn wrap(inner: &corosensei::Yielder<I, Y>) -> &Yielder<I, Y> {
        // SAFETY: `Yielder` is a `repr(transparent)` wrapper around `corosensei::Yielder`,
        // so the two references have the same layout and the lifetime is carried over.
        unsafe { &*(inner as *const corosensei::Yielder<I, Y> as *const Yielder<I, Y>) }
    }

    /// Suspends the coroutine, handing `value` to the caller of [`Coroutine::resume`], and
    /// returns the input of the next `resume`.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::{Coroutine, CoroutineResult};
    /// let mut co = Coroutine::new(|y, a: u32| y.suspend(a + 1) * 10);
    /// assert_eq!(co.resume(1), CoroutineResult::Yield(2));
    /// assert_eq!(co.resume(5), CoroutineResult::Return(50));
    /// ```
    #[inline]
    pub fn suspend(&self, value: Y) -> I {
        self.inner.suspend(value)
    }
}

impl<I, Y> fmt::Debug for Yielder<I, Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yielder").finish_non_exhaustive()
    }
}

/// A stackful coroutine taking `I` on each resume, yielding `Y`, and returning `R`.
///
/// * A panic inside propagates out of the [`resume`](Coroutine::resume) that ran it; the
///   coroutine is then done.
/// * [`close`](Coroutine::close) — and dropping — unwinds a suspended coroutine's stack, so
///   its destructors run (Python's `generator.close()`). With `panic = "abort"` a suspended
///   coroutine cannot be unwound; dropping one then aborts.
/// * Resuming a finished coroutine panics.
/// * Coroutines nest: a coroutine (or a green thread) may drive coroutines of its own.
///
/// # Examples
///
/// The lecture's `coroutine(n)`, fed with `send()`:
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use spindle::coroutine::Coroutine;
/// let out = Rc::new(RefCell::new(Vec::new()));
/// let sink = out.clone();
/// // def coroutine(n): while True: x = (yield); print(n + x)
/// let mut target = Coroutine::new(move |y, mut x: i32| loop {
///     sink.borrow_mut().push(10 + x);
///     x = y.suspend(());
/// });
/// for i in 0..3 { target.resume(i); }   // target.send(i)
/// assert_eq!(*out.borrow(), [10, 11, 12]);
/// ```
pub struct Coroutine<I, Y, R> {
    inner: corosensei::Coroutine<I, Y, R, PooledStack>,
    stack_size: usize,
}

impl<I, Y, R> Coroutine<I, Y, R> {
    /// Makes a coroutine that will run `f` on a fresh stack of
    /// [`DEFAULT_STACK_SIZE`] bytes. Nothing runs until
    /// the first [`resume`](Coroutine::resume), whose input becomes `f`'s second argument.
    ///
    /// # Panics
    ///
    /// If no stack can be had (memory or `vm.max_map_count` exhausted); use
    /// [`with_stack_size`](Coroutine::with_stack_size) to handle that as an error.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::{Coroutine, CoroutineResult};
    /// let mut co = Coroutine::new(|_y: &_, x: u8| -> u8 { x + 1 });
    /// assert_eq!(co.resume(1), CoroutineResult::<(), u8>::Return(2));
    /// ```
    #[track_caller]
    pub fn new<F>(f: F) -> Coroutine<I, Y, R>
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
        I: 'static,
        Y: 'static,
        R: 'static,
    {
        match Coroutine::with_stack_size(DEFAULT_STACK_SIZE, f) {
            Ok(co) => co,
            Err(e) => panic!("spindle: cannot make a coroutine: {e}"),
        }
    }

    /// Makes a coroutine on a stack of at least `bytes` bytes, rounded up to whole pages,
    /// with a guard of [`DEFAULT_GUARD_SIZE`](crate::stack::DEFAULT_GUARD_SIZE) below it.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a size below [`MIN_STACK_SIZE`](crate::stack::MIN_STACK_SIZE) or
    /// above [`MAX_STACK_SIZE`](crate::stack::MAX_STACK_SIZE); the OS's error when no
    /// stack can be mapped.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::Coroutine;
    /// let co = Coroutine::with_stack_size(1 << 20, |y, ()| y.suspend(1u8)).unwrap();
    /// assert!(!co.is_done());
    /// assert!(Coroutine::with_stack_size(0, |y, ()| y.suspend(1u8)).is_err());
    /// ```
    pub fn with_stack_size<F>(bytes: usize, f: F) -> io::Result<Coroutine<I, Y, R>>
    where
        F: FnOnce(&Yielder<I, Y>, I) -> R + 'static,
        I: 'static,
        Y: 'static,
        R: 'static,
    {
        let stack = PooledStack::new(bytes, default_guard())?;
        let stack_size = stack.usable();
        let inner =
            corosensei::Coroutine::with_stack(stack, move |y, input| f(Yielder::wrap(y), input));
        Ok(Coroutine { inner, stack_size })
    }

    /// Runs the coroutine until it next suspends or returns, passing `input` in: the first
    /// `resume` passes it as the body's argument, later ones as the value returned by
    /// [`Yielder::suspend`].
    ///
    /// # Panics
    ///
    /// If the coroutine has finished (returned, panicked or been closed), and whenever the
    /// body panics (the panic continues in the caller).
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::{Coroutine, CoroutineResult};
    /// let mut co = Coroutine::new(|y, ()| { y.suspend('a'); 'z' });
    /// assert_eq!(co.resume(()), CoroutineResult::Yield('a'));
    /// assert_eq!(co.resume(()), CoroutineResult::Return('z'));
    /// ```
    #[inline]
    #[track_caller]
    pub fn resume(&mut self, input: I) -> CoroutineResult<Y, R> {
        if self.inner.done() {
            resumed_finished();
        }
        match self.inner.resume(input) {
            corosensei::CoroutineResult::Yield(y) => CoroutineResult::Yield(y),
            corosensei::CoroutineResult::Return(r) => CoroutineResult::Return(r),
        }
    }

    /// Whether the coroutine has finished: returned, panicked, or been closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::Coroutine;
    /// let mut co = Coroutine::new(|_y: &spindle::coroutine::Yielder<(), ()>, ()| ());
    /// assert!(!co.is_done());
    /// co.resume(());
    /// assert!(co.is_done());
    /// ```
    #[inline]
    pub fn is_done(&self) -> bool {
        self.inner.done()
    }

    /// Whether the coroutine has been resumed at least once.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::Coroutine;
    /// let mut co = Coroutine::new(|y, ()| y.suspend(()));
    /// assert!(!co.is_started());
    /// co.resume(());
    /// assert!(co.is_started());
    /// ```
    pub fn is_started(&self) -> bool {
        self.inner.started()
    }

    /// The usable size of this coroutine's stack in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use spindle::coroutine::Coroutine;
    /// let co = Coroutine::with_stack_size(64 * 1024, |y, ()| y.suspend(())).unwrap();
    /// assert_eq!(co.stack_size(), 64 * 1024);
    /// ```
    pub fn stack_size(&self) -> usize {
        self.stack_size
    }

    /// Ends a suspended coroutine by unwinding its stack, so that its destructors run
    /// (Python's `generator.close()`). A coroutine never started just drops its closure; a
    /// finished one is left as it is. Afterwards the coroutine is done.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// use spindle::coroutine::Coroutine;
    /// let alive = Rc::new(());
    /// let held = alive.clone();
    /// let mut co = Coroutine::new(move |y, ()| { let _h = held; loop { y.suspend(()); } });
    /// co.resume(());
    /// assert_eq!(Rc::strong_count(&alive), 2);
    /// co.close();
    /// assert_eq!(Rc::strong_count(&alive), 1);
    /// assert!(co.is_done());
    /// ```
    pub fn close(&mut self) {
        self.inner.force_unwind();
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn resumed_finished() -> ! {
    panic!("spindle: resumed a coroutine that has already finished (it returned, panicked or was closed)")
}

impl<I, Y, R> fmt::Debug for Coroutine<I, Y, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coroutine")
            .field("started", &self.inner.started())
            .field("done", &self.inner.done())
            .field("stack_size", &self.stack_size)
            .finish()
    }
}

/// A coroutine that takes nothing and yields `Y`: a Python generator, as an [`Iterator`].
///
/// Iteration ends when the body returns; a panic in the body propagates out of `next`.
///
/// # Examples
///
/// ```
/// use spindle::coroutine::{Generator, Yielder};
/// let fib = Generator::new(|y: &Yielder<(), u64>| {
///     let (mut a, mut b) = (0, 1);
///     loop { y.suspend(a); (a, b) = (b, a + b); }
/// });
/// let first: Vec<u64> = fib.take(8).collect();
/// assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13]);
/// ```
pub struct Generator<Y> {
    co: Coroutine<(), Y, ()>,
}

impl<Y: 'static> Generator<Y> {
    /// Makes a generator that runs `f` lazily, one `next` at a time.
    ///
    /// # Panics
    ///
    /// If no stack can be had; see [`Generator::with_stack_size`].
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = spindle::coroutine::Generator::new(|y| y.suspend("once"));
    /// assert_eq!(g.next(), Some("once"));
    /// assert_eq!(g.next(), None);
    /// ```
    #[track_caller]
    pub fn new<F>(f: F) -> Generator<Y>
    where
        F: FnOnce(&Yielder<(), Y>) + 'static,
    {
        Generator {
            co: Coroutine::new(move |y, ()| f(y)),
        }
    }

    /// Makes a generator on a stack of at least `bytes` bytes.
    ///
    /// # Errors
    ///
    /// As [`Coroutine::with_stack_size`].
    ///
    /// # Examples
    ///
    /// ```
    /// let g = spindle::coroutine::Generator::with_stack_size(256 * 1024, |y| y.suspend(1)).unwrap();
    /// assert_eq!(g.sum::<i32>(), 1);
    /// ```
    pub fn with_stack_size<F>(bytes: usize, f: F) -> io::Result<Generator<Y>>
    where
        F: FnOnce(&Yielder<(), Y>) + 'static,
    {
        Ok(Generator {
            co: Coroutine::with_stack_size(bytes, move |y, ()| f(y))?,
        })
    }
}

impl<Y> Generator<Y> {
    /// Whether the generator has finished.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = spindle::coroutine::Generator::new(|_y: &spindle::coroutine::Yielder<(), u8>| {});
    /// assert_eq!(g.next(), None);
    /// assert!(g.is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.co.is_done()
    }

    /// Ends the generator, unwinding its stack so that its destructors run.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut g = spindle::coroutine::Generator::new(|y| loop { y.suspend(0u8) });
    /// g.next();
    /// g.close();
    /// assert_eq!(g.next(), None);
    /// ```
    pub fn close(&mut self) {
        self.co.close();
    }
}

impl<Y> Iterator for Generator<Y> {
    type Item = Y;

    #[inline]
    fn next(&mut self) -> Option<Y> {
        if self.co.is_done() {
            return None;
        }
        self.co.resume(()).into_yield()
    }
}

impl<Y> std::iter::FusedIterator for Generator<Y> {}

impl<Y> fmt::Debug for Generator<Y> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generator").field("co", &self.co).finish()
    }
}
