//! What a new user meets first: `block_on` takes a closure that borrows from the caller,
//! and a panic on misuse points at the user's own line, not at spindle's source.

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex as StdMutex};

use spindle::coroutine::Coroutine;
use spindle::queue::Queue;
use spindle::{spawn, Runtime};
use support::{bounded, panic_message, runtimes};

#[test]
fn block_on_borrows_from_its_caller() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let mut log: Vec<String> = vec!["start".into()];
            let greeting = String::from("hello");
            let n = rt.block_on(|| {
                // Reads and writes the caller's locals; spawned tasks still take 'static.
                let h = spawn(|| 20);
                log.push(format!("{greeting} from {name}"));
                h.join().unwrap() + greeting.len()
            });
            assert_eq!(n, 25, "{name}");
            assert_eq!(log, ["start".to_string(), format!("hello from {name}")]);

            // A panicking closure: the borrow ends before the panic reaches the caller.
            let mut touched = 0;
            let r = panic::catch_unwind(AssertUnwindSafe(|| {
                rt.block_on(|| {
                    touched += 1;
                    panic!("boom in {name}");
                })
            }));
            assert_eq!(panic_message(&*r.unwrap_err()), format!("boom in {name}"));
            assert_eq!(touched, 1, "{name}");
        }
    });
}

#[test]
fn a_deadlocked_borrowing_closure_is_unwound_before_the_report() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        // The closure holds a borrow of `guard_dropped` in a value it drops while unwinding.
        struct SetOnDrop<'a>(&'a mut bool);
        impl Drop for SetOnDrop<'_> {
            fn drop(&mut self) {
                *self.0 = true;
            }
        }
        let mut guard_dropped = false;
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(|| {
                let _g = SetOnDrop(&mut guard_dropped);
                let m = spindle::sync::Mutex::new(());
                let _a = m.lock();
                let _b = m.lock(); // deadlock: reported, and this task is unwound
            })
        }));
        let msg = panic_message(&*r.unwrap_err());
        assert!(msg.starts_with("deadlock:"), "{msg}");
        assert!(
            guard_dropped,
            "the closure's locals were dropped before block_on returned"
        );
    });
}

/// Runs `f`, which must panic, and returns the file of the panic's location.
fn panic_file(f: impl FnOnce()) -> String {
    let seen: Arc<StdMutex<Option<String>>> = Arc::new(StdMutex::new(None));
    let s = seen.clone();
    let me = std::thread::current().id();
    let prev = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == me {
            *s.lock().unwrap() = info.location().map(|l| l.file().to_string());
        }
    }));
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    panic::set_hook(prev);
    assert!(r.is_err(), "expected a panic");
    let file = seen.lock().unwrap().clone();
    file.expect("the panic had a location")
}

/// One test: it swaps the process's panic hook.
#[test]
fn misuse_panics_point_at_the_callers_line() {
    bounded(30, || {
        let here = file!();
        assert_eq!(
            panic_file(|| drop(spawn(|| ()))),
            here,
            "spawn outside a runtime"
        );
        assert_eq!(
            panic_file(|| drop(spindle::Builder::new().spawn(|| ()))),
            here,
            "Builder::spawn outside a runtime"
        );
        assert_eq!(panic_file(|| drop(spindle::current())), here, "current()");
        let mut co = Coroutine::new(|_y: &spindle::coroutine::Yielder<(), ()>, ()| ());
        co.resume(());
        assert_eq!(
            panic_file(|| {
                let _ = co.resume(());
            }),
            here,
            "resume after the end"
        );
        let q: Queue<u8> = Queue::unbounded();
        assert_eq!(panic_file(|| q.task_done()), here, "task_done too many");
        assert_eq!(
            panic_file(|| drop(Queue::<u8>::bounded(0))),
            here,
            "Queue::bounded(0)"
        );
        // block_on from inside a task: the panic is caught in the task and comes back
        // through its join; its location is the task's call of block_on, in this file.
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let inner = Runtime::cooperative().workers(1).build().unwrap();
        let file = rt.block_on(move || {
            let seen: Arc<StdMutex<Option<String>>> = Arc::new(StdMutex::new(None));
            let s = seen.clone();
            let prev = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                *s.lock().unwrap() = info.location().map(|l| l.file().to_string());
            }));
            let r = panic::catch_unwind(AssertUnwindSafe(|| inner.block_on(|| ())));
            panic::set_hook(prev);
            assert!(r.is_err());
            let f = seen.lock().unwrap().clone();
            f
        });
        assert_eq!(file.as_deref(), Some(here), "block_on inside a task");
    });
}

/// In a child process (it looks at the process's stderr): a task's panic message names the
/// task and the thread it ran on; a plain thread's panic keeps std's message.
#[test]
fn a_tasks_panic_message_names_the_task() {
    const CHILD: &str = "SPINDLE_PANIC_MESSAGE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        for rt in [
            Runtime::cooperative().workers(1).build().unwrap(),
            Runtime::preemptive().build().unwrap(),
        ] {
            rt.block_on(|| {
                let h = spindle::Builder::new()
                    .name("worker-7")
                    .spawn(|| panic!("boom in a task"))
                    .unwrap();
                assert!(h.join().is_err());
            });
        }
        let plain = std::thread::Builder::new()
            .name("plain-one".into())
            .spawn(|| panic!("boom on a plain thread"))
            .unwrap();
        assert!(plain.join().is_err());
        return;
    }
    let out = support::rerun_alone_with(
        "a_tasks_panic_message_names_the_task",
        CHILD,
        &[("RUST_BACKTRACE", "0")],
        60,
    );
    let err = &out.stderr;
    let here = file!();
    let green = format!("on thread 'spindle-worker-0' panicked at {here}:");
    let task_lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("task 'worker-7' (#"))
        .collect();
    assert_eq!(task_lines.len(), 2, "one per backend: {err}");
    assert!(task_lines[0].contains(&green), "{err}");
    assert!(
        task_lines[1].contains(&format!("on thread 'worker-7' panicked at {here}:")),
        "{err}"
    );
    assert_eq!(err.matches("\nboom in a task\n").count(), 2, "{err}");
    assert!(
        !err.lines().any(|l| l.starts_with("thread 'spindle-worker")),
        "std's wording for a green thread: {err}"
    );
    assert!(
        err.lines()
            .any(|l| l.starts_with("thread 'plain-one'") && l.contains("panicked at"))
            && err.contains("boom on a plain thread"),
        "a plain thread keeps std's message: {err}"
    );
}
