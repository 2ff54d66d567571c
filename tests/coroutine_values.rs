//! Coroutines without a scheduler: values in and out, generators, panics, close and drop,
//! nesting, stack sizes.

mod support;

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use spindle::coroutine::{Coroutine, CoroutineResult, Generator, Yielder};
use support::{bounded, panic_message};

#[test]
fn values_flow_both_ways() {
    bounded(10, || {
        let mut co = Coroutine::new(|y: &Yielder<i32, i32>, first: i32| {
            let mut n = first;
            while n >= 0 {
                n = y.suspend(n * 2);
            }
            "done"
        });
        assert!(!co.is_started());
        assert_eq!(co.resume(1), CoroutineResult::Yield(2));
        assert_eq!(co.resume(7), CoroutineResult::Yield(14));
        assert_eq!(co.resume(-1), CoroutineResult::Return("done"));
        assert!(co.is_done());
    });
}

#[test]
fn lecture_send_coroutine_and_broadcast() {
    bounded(10, || {
        // coroutine(n): x = (yield); print n + x — here collected instead of printed.
        let out = Rc::new(RefCell::new(Vec::new()));
        let make = |n: i32| {
            let out = out.clone();
            Coroutine::new(move |y: &Yielder<i32, ()>, mut x: i32| loop {
                out.borrow_mut().push(n + x);
                x = y.suspend(());
            })
        };
        let mut targets = [make(10), make(20), make(30)];
        for i in 0..5 {
            for t in targets.iter_mut() {
                assert_eq!(t.resume(i), CoroutineResult::Yield(()));
            }
        }
        let got = out.borrow().clone();
        let want: Vec<i32> = (0..5).flat_map(|i| [10 + i, 20 + i, 30 + i]).collect();
        assert_eq!(got, want);
    });
}

#[test]
fn generator_is_an_iterator() {
    bounded(10, || {
        let squares: Vec<u64> = Generator::new(|y: &Yielder<(), u64>| {
            for i in 0..4 {
                y.suspend(i * i);
            }
        })
        .collect();
        assert_eq!(squares, [0, 1, 4, 9]);
        let mut g = Generator::new(|y: &Yielder<(), u8>| y.suspend(1));
        assert_eq!(g.next(), Some(1));
        assert_eq!(g.next(), None);
        assert_eq!(g.next(), None, "a finished generator stays finished");
        assert!(g.is_done());
    });
}

#[test]
fn a_panic_propagates_out_of_resume_and_ends_the_coroutine() {
    bounded(10, || {
        let mut co = Coroutine::new(|y: &Yielder<(), ()>, ()| {
            y.suspend(());
            panic!("inside the coroutine");
        });
        co.resume(());
        let err = panic::catch_unwind(AssertUnwindSafe(|| co.resume(()))).unwrap_err();
        assert_eq!(panic_message(&*err), "inside the coroutine");
        assert!(co.is_done());
    });
}

#[test]
fn resuming_a_finished_coroutine_panics_clearly() {
    bounded(10, || {
        let mut co = Coroutine::new(|_y: &Yielder<(), ()>, ()| 5);
        assert_eq!(co.resume(()), CoroutineResult::Return(5));
        let err = panic::catch_unwind(AssertUnwindSafe(|| co.resume(()))).unwrap_err();
        let msg = panic_message(&*err);
        assert!(msg.contains("already finished"), "message: {msg}");
    });
}

/// Counts drops, to prove destructors on a coroutine's stack run.
struct Guard(Rc<RefCell<Vec<&'static str>>>, &'static str);
impl Drop for Guard {
    fn drop(&mut self) {
        self.0.borrow_mut().push(self.1);
    }
}

#[test]
fn close_unwinds_the_stack_and_runs_destructors() {
    bounded(10, || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let mut co = Coroutine::new(move |y: &Yielder<(), u32>, ()| {
            let _outer = Guard(l.clone(), "outer");
            let _inner = Guard(l, "inner");
            loop {
                y.suspend(1);
            }
        });
        co.resume(());
        assert!(log.borrow().is_empty());
        co.close();
        assert_eq!(*log.borrow(), ["inner", "outer"]);
        assert!(co.is_done());
        co.close(); // closing twice is harmless
    });
}

#[test]
fn drop_unwinds_a_suspended_coroutine() {
    bounded(10, || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let mut g = Generator::new(move |y: &Yielder<(), ()>| {
            let _g = Guard(l, "dropped");
            loop {
                y.suspend(());
            }
        });
        g.next();
        drop(g);
        assert_eq!(*log.borrow(), ["dropped"]);
    });
}

#[test]
fn closing_an_unstarted_coroutine_drops_its_closure() {
    bounded(10, || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let guard = Guard(log.clone(), "closure");
        let mut co = Coroutine::new(move |_y: &Yielder<(), ()>, ()| drop(guard));
        co.close();
        assert_eq!(*log.borrow(), ["closure"]);
        assert!(co.is_done());
    });
}

#[test]
fn coroutines_nest() {
    bounded(10, || {
        let mut outer = Generator::new(|y: &Yielder<(), u32>| {
            let inner = Generator::new(|yi: &Yielder<(), u32>| {
                for i in 0..3 {
                    yi.suspend(i);
                }
            });
            for v in inner {
                y.suspend(v * 10);
            }
        });
        assert_eq!(outer.by_ref().collect::<Vec<_>>(), [0, 10, 20]);
    });
}

#[test]
fn stack_sizes_are_checked() {
    bounded(10, || {
        let err =
            Coroutine::with_stack_size(0, |y: &Yielder<(), ()>, ()| y.suspend(())).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("minimum"), "{err}");
        let err = Coroutine::with_stack_size(usize::MAX, |y: &Yielder<(), ()>, ()| y.suspend(()))
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        // A big stack really is usable: touch most of 1 MiB.
        let mut co = Coroutine::with_stack_size(1 << 20, |_y: &Yielder<(), ()>, ()| {
            let buf = [7u8; 900 * 1024];
            std::hint::black_box(&buf)
                .iter()
                .map(|&b| b as u64)
                .sum::<u64>()
        })
        .unwrap();
        assert_eq!(co.stack_size(), 1 << 20);
        assert_eq!(co.resume(()), CoroutineResult::Return(7 * 900 * 1024));
    });
}

#[test]
fn many_coroutines_reuse_pooled_stacks() {
    // Mapped bytes are process-wide and the other tests of this binary map stacks of their
    // own, so the measurement runs in a child process of this binary, alone.
    const CHILD: &str = "SPINDLE_REUSE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let run = |i: u32| {
            let mut co = Coroutine::new(move |y: &Yielder<(), u32>, ()| {
                y.suspend(i);
                i + 1
            });
            assert_eq!(co.resume(()), CoroutineResult::Yield(i));
            assert_eq!(co.resume(()), CoroutineResult::Return(i + 1));
        };
        run(0);
        let mapped = spindle::stack::stats().mapped_bytes;
        assert!(mapped > 0, "a stack was mapped");
        for i in 1..20_000u32 {
            run(i);
        }
        let s = spindle::stack::stats();
        assert_eq!(
            s.mapped_bytes, mapped,
            "20,000 coroutines one after another reused their stack: {s:?}"
        );
        assert!(s.warm <= s.warm_limit(), "{s:?}");
        return;
    }
    support::rerun_alone("many_coroutines_reuse_pooled_stacks", CHILD, 60);
}
