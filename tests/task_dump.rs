//! `Runtime::dump` lists every live task — id, name, state, what it waits on, the caller's
//! line, for how long — from any thread, on both backends, and on `SPINDLE_DUMP_SIGNAL`;
//! with no `tracing` subscriber, stall reports and the "possibly stuck" warning (which
//! prints the dump) go to stderr, and `stderr_reports(false)` silences them.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use spindle::sync::Mutex;
use spindle::{Builder, Runtime, TaskState};
use support::{bounded, rerun_alone_with};

/// How long the sleeping tasks of the dump test sleep: far longer than the dump takes to come
/// (300 ms after they start, plus at most 250 ms), even on a loaded machine.
const NAP: Duration = Duration::from_secs(3);

/// Runs `body` as `block_on` on its own thread, waits for `ready`, returns the dump taken
/// from this thread, then lets the body end.
fn dump_while<F>(rt: Runtime, body: F) -> spindle::TaskDump
where
    F: FnOnce(mpsc::Sender<()>, Arc<AtomicBool>) + Send + 'static,
{
    let rt = Arc::new(rt);
    let (ready_tx, ready_rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let (r, s) = (rt.clone(), stop.clone());
    let t = thread::spawn(move || r.block_on(move || body(ready_tx, s)));
    ready_rx.recv().unwrap();
    // Let the waits settle and age a little.
    thread::sleep(Duration::from_millis(300));
    let dump = rt.dump();
    stop.store(true, Ordering::SeqCst);
    t.join().unwrap();
    assert!(
        rt.dump().is_empty(),
        "nothing is live between block_on calls"
    );
    dump
}

#[test]
fn a_dump_names_each_task_its_state_its_wait_its_line_and_for_how_long() {
    for workers in [1, 2] {
        let dump = bounded(60, move || {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            dump_while(rt, |ready, stop| {
                let m = Arc::new(Mutex::new(()));
                let guard = m.lock();
                let m2 = m.clone();
                let locker = Builder::new()
                    .name("locker")
                    .spawn(move || drop(m2.lock()))
                    .unwrap();
                // One long sleep each (not a polling loop: a task whose timer just fired is
                // runnable, not sleeping, for the moment its worker answers the dump).
                let sleeper = Builder::new()
                    .name("sleeper")
                    .spawn(|| spindle::sleep(NAP))
                    .unwrap();
                let s3 = stop.clone();
                let blocker = Builder::new()
                    .name("blocker")
                    .spawn(move || {
                        spindle::spawn_blocking(move || {
                            while !s3.load(Ordering::SeqCst) {
                                thread::sleep(Duration::from_millis(5));
                            }
                        })
                    })
                    .unwrap();
                spindle::yield_now();
                ready.send(()).unwrap();
                spindle::sleep(NAP);
                drop(guard);
                locker.join().unwrap();
                sleeper.join().unwrap();
                blocker.join().unwrap();
            })
        });
        let find = |name: &str| {
            dump.iter()
                .find(|t| t.name() == Some(name))
                .unwrap_or_else(|| panic!("{name} not listed:\n{dump}"))
                .clone()
        };
        let locker = find("locker");
        assert_eq!(locker.state(), TaskState::Parked, "{dump}");
        assert_eq!(locker.waiting_on(), Some("Mutex::lock"), "{dump}");
        assert!(
            locker.location().unwrap().file().ends_with("task_dump.rs"),
            "{dump}"
        );
        assert!(locker.since() >= Duration::from_millis(150), "{dump}");
        assert_eq!(find("sleeper").state(), TaskState::Sleeping, "{dump}");
        assert_eq!(find("blocker").state(), TaskState::Blocking, "{dump}");
        assert_eq!(find("main").state(), TaskState::Sleeping, "{dump}");
        let text = dump.to_string();
        assert!(text.starts_with("spindle task dump: "), "{text}");
        assert!(
            text.contains("task 'locker' (#") && text.contains("waits in Mutex::lock at"),
            "{text}"
        );
        assert_eq!(dump.len(), dump.iter().count());
        assert_eq!((&dump).into_iter().count(), dump.into_iter().count());
    }
}

#[test]
fn a_task_that_never_yields_is_listed_as_running_on_its_silent_worker() {
    let dump = bounded(60, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        dump_while(rt, |ready, stop| {
            ready.send(()).unwrap();
            // Hogs the only worker: it cannot answer, so the dump lists what it runs.
            let start = Instant::now();
            while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(20) {
                std::hint::spin_loop();
            }
        })
    });
    let main = dump
        .iter()
        .find(|t| t.name() == Some("main"))
        .unwrap_or_else(|| panic!("main not listed:\n{dump}"));
    assert_eq!(main.state(), TaskState::Running, "{dump}");
    assert!(
        dump.to_string().contains("worker 0 did not answer"),
        "{dump}"
    );
}

#[test]
fn a_preemptive_dump_lists_its_threads() {
    let dump = bounded(60, || {
        let rt = Runtime::preemptive().build().unwrap();
        dump_while(rt, |ready, stop| {
            let s = stop.clone();
            let w = Builder::new()
                .name("thread-task")
                .spawn(move || {
                    while !s.load(Ordering::SeqCst) {
                        spindle::sleep(Duration::from_millis(5));
                    }
                })
                .unwrap();
            ready.send(()).unwrap();
            w.join().unwrap();
        })
    });
    let names: Vec<_> = dump.iter().filter_map(|t| t.name()).collect();
    assert!(
        names.contains(&"main") && names.contains(&"thread-task"),
        "{dump}"
    );
    assert!(
        dump.iter().all(|t| t.state() == TaskState::Running),
        "{dump}"
    );
}

/// Child side of the signal test: a runtime built with `SPINDLE_DUMP_SIGNAL=USR1` prints
/// its dump when the process gets SIGUSR1, and goes on.
#[test]
fn dump_on_signal_child() {
    if std::env::var_os("SPINDLE_TEST_DUMP_SIGNAL").is_none() {
        return;
    }
    let rt = Runtime::cooperative().workers(1).build().unwrap();
    let v = rt.block_on(|| {
        let h = Builder::new()
            .name("sleepy")
            .spawn(|| spindle::sleep(Duration::from_millis(400)))
            .unwrap();
        spindle::sleep(Duration::from_millis(50));
        // SAFETY: raise(3) with a signal whose disposition the runtime installed.
        unsafe { libc::raise(libc::SIGUSR1) };
        h.join().unwrap();
        7
    });
    assert_eq!(v, 7);
    // The printing thread may lag the signal a little.
    thread::sleep(Duration::from_millis(200));
}

#[test]
fn spindle_dump_signal_prints_the_dump_on_stderr_and_goes_on() {
    let out = rerun_alone_with(
        "dump_on_signal_child",
        "SPINDLE_TEST_DUMP_SIGNAL",
        &[("SPINDLE_DUMP_SIGNAL", "USR1")],
        60,
    );
    assert!(
        out.stderr.contains("spindle task dump:") && out.stderr.contains("task 'sleepy'"),
        "{}",
        out.stderr
    );
}

/// Child side: a bad `SPINDLE_DUMP_SIGNAL` is a clear `build()` error.
#[test]
fn bad_dump_signal_child() {
    if std::env::var_os("SPINDLE_TEST_BAD_SIGNAL").is_none() {
        return;
    }
    let err = Runtime::cooperative().build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("SPINDLE_DUMP_SIGNAL"), "{err}");
    let err = Runtime::preemptive().build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_bad_spindle_dump_signal_is_a_build_error() {
    rerun_alone_with(
        "bad_dump_signal_child",
        "SPINDLE_TEST_BAD_SIGNAL",
        &[("SPINDLE_DUMP_SIGNAL", "NOT-A-SIGNAL")],
        60,
    );
}

/// Child side: a task that hogs its worker is reported on stderr (no tracing subscriber
/// here), unless the runtime was built with `stderr_reports(false)`.
#[test]
fn stall_child() {
    if std::env::var_os("SPINDLE_TEST_STALL").is_none() {
        return;
    }
    for (quiet, name) in [(false, "loud-hog"), (true, "quiet-hog")] {
        let rt = Runtime::cooperative()
            .workers(1)
            .stall_threshold(Duration::from_millis(50))
            .stderr_reports(!quiet)
            .build()
            .unwrap();
        rt.block_on(move || {
            Builder::new()
                .name(name)
                .spawn(|| {
                    let start = Instant::now();
                    while start.elapsed() < Duration::from_millis(400) {
                        std::hint::spin_loop();
                    }
                })
                .unwrap()
                .join()
                .unwrap();
        });
    }
}

#[test]
fn with_no_subscriber_a_stall_is_reported_on_stderr_unless_silenced() {
    let out = rerun_alone_with("stall_child", "SPINDLE_TEST_STALL", &[], 60);
    assert!(
        out.stderr.contains("task 'loud-hog' (#") && out.stderr.contains("without yielding"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("quiet-hog"), "{}", out.stderr);
}

/// Child side: every task waits on a queue made outside `block_on` (the deadlock detector
/// cannot prove nobody will put), so after `stuck_warning` the dump is printed once, and the
/// runtime goes on waiting until a plain thread puts.
#[test]
fn stuck_child() {
    if std::env::var_os("SPINDLE_TEST_STUCK").is_none() {
        return;
    }
    let q = Arc::new(spindle::queue::Queue::<u32>::unbounded());
    let rt = Runtime::cooperative()
        .workers(2)
        .stuck_warning(Duration::from_millis(400))
        .build()
        .unwrap();
    let q2 = q.clone();
    let putter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(2000));
        q2.put(42);
    });
    let v = rt.block_on(move || {
        Builder::new()
            .name("consumer")
            .spawn(move || q.get())
            .unwrap()
            .join()
            .unwrap()
    });
    assert_eq!(v, 42);
    putter.join().unwrap();
}

#[test]
fn a_runtime_blocked_on_outside_waits_warns_once_with_its_dump_and_goes_on() {
    let out = rerun_alone_with("stuck_child", "SPINDLE_TEST_STUCK", &[], 60);
    assert_eq!(
        out.stderr.matches("possibly stuck").count(),
        1,
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("task 'consumer' (#") && out.stderr.contains("waits in Queue::get"),
        "{}",
        out.stderr
    );
}
