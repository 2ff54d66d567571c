//! A task that overflows its stack is reported by name, id and size, and the process aborts.
//! The overflow runs in a child process (this test binary, re-run with an env var).

mod support;

use std::process::Command;

use spindle::coroutine::{Coroutine, Yielder};
use spindle::{Builder, Runtime};

const CHILD_ENV: &str = "SPINDLE_OVERFLOW_CHILD";

#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let buf = [depth as u8; 512];
    std::hint::black_box(&buf);
    if depth == u64::MAX {
        return 0;
    }
    recurse(depth + 1) + std::hint::black_box(buf[7]) as u64
}

/// In the child: overflow in the way `mode` says.
fn child(mode: &str) {
    match mode {
        "task" => {
            let rt = Runtime::cooperative().workers(1).build().unwrap();
            rt.block_on(|| {
                let h = Builder::new()
                    .name("deep-diver")
                    .stack_size(64 * 1024)
                    .spawn(|| recurse(0))
                    .unwrap();
                h.join().ok();
            });
        }
        "coroutine" => {
            let mut co =
                Coroutine::with_stack_size(64 * 1024, |_y: &Yielder<(), ()>, ()| recurse(0))
                    .unwrap();
            co.resume(());
        }
        "thread" => {
            // Not ours: a plain thread's overflow must still get std's report.
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(|| {
                    // Make sure our handler is installed first.
                    drop(Coroutine::new(|y: &Yielder<(), ()>, ()| y.suspend(())));
                    recurse(0)
                })
                .unwrap()
                .join()
                .ok();
        }
        _ => unreachable!(),
    }
}

/// Runs this test binary as a child in `mode` and returns (stderr, signal). A child that
/// hangs instead of aborting is killed after 60 s and fails the test.
fn run_child(test: &str, mode: &str) -> (String, Option<i32>) {
    use std::os::unix::process::ExitStatusExt;
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, mode)
        .env("RUST_BACKTRACE", "0");
    let out = support::output_within(cmd, 60);
    (out.stderr, out.status.signal())
}

#[test]
fn task_overflow_is_reported_and_aborts() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let (stderr, signal) = run_child("task_overflow_is_reported_and_aborts", "task");
    assert!(
        stderr.contains(
            "task 'deep-diver' (#"
        ) && stderr.contains(") overflowed its 64 KiB stack; raise Builder::stack_size or the runtime's stack_size"),
        "stderr: {stderr}"
    );
    assert_eq!(signal, Some(libc_sigabrt()), "stderr: {stderr}");
}

#[test]
fn bare_coroutine_overflow_is_reported() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let (stderr, signal) = run_child("bare_coroutine_overflow_is_reported", "coroutine");
    assert!(
        stderr.contains("coroutine overflowed its 64 KiB stack"),
        "stderr: {stderr}"
    );
    assert_eq!(signal, Some(libc_sigabrt()), "stderr: {stderr}");
}

#[test]
fn thread_overflow_still_reaches_std() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let (stderr, signal) = run_child("thread_overflow_still_reaches_std", "thread");
    assert!(
        !stderr.contains("KiB stack; raise"),
        "not a spindle stack: {stderr}"
    );
    assert!(
        stderr.contains("has overflowed its stack"),
        "std's report: {stderr}"
    );
    assert!(signal.is_some(), "the process died of a signal");
}

fn libc_sigabrt() -> i32 {
    6
}
