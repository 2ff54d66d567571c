//! A task that overflows its stack is reported by name, id and size, and the process aborts,
//! also when its frame jumps far below the stack pointer without touching the pages between
//! (the 64 KiB guard catches it; a one-page guard would not). The overflow runs in a child
//! process (this test binary, re-run with an env var).

mod support;

use std::process::Command;
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use std::sync::Arc;

use spindle::coroutine::{Coroutine, Yielder};
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
use spindle::sync::Event;
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
        "task-after-discard" => overflow_in_a_discarded_slot(),
        "task-after-discard-mprotect" => {
            spindle::stack::force_mprotect_guards();
            overflow_in_a_discarded_slot();
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
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        "wide-guard-jump" => jump::wide_guard_child(),
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        "wide-mprotect-guard-jump" => {
            // As on kernels before 6.13: the 64 KiB guard is one PROT_NONE range.
            spindle::stack::force_mprotect_guards();
            jump::wide_guard_child();
        }
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        "narrow-guard-jump" => jump::narrow_guard_child(),
        _ => unreachable!(),
    }
}

/// In the child: 5,000 tasks alive at once, then gone, so that stacks past the 4,096 kept
/// warm have their pages discarded, in batches whose `madvise` ranges run over the guards
/// of adjacent slots; then, with every warm stack held by a parked task, an overflow on a
/// stack from those discarded slots must still hit its guard.
fn overflow_in_a_discarded_slot() {
    const STACK: usize = 64 * 1024;
    let rt = Runtime::cooperative().workers(1).build().unwrap();
    rt.block_on(|| {
        let park_many = |n: usize, ev: &std::sync::Arc<spindle::sync::Event>| {
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    let ev = ev.clone();
                    Builder::new()
                        .stack_size(STACK)
                        .spawn(move || {
                            ev.wait();
                        })
                        .unwrap()
                })
                .collect();
            while ev.waiter_count() < n {
                spindle::yield_now();
            }
            hs
        };
        let first = std::sync::Arc::new(spindle::sync::Event::new());
        let hs = park_many(5_000, &first);
        first.set();
        for h in hs {
            h.join().unwrap();
        }
        // More than the warm and not yet discarded stacks: the last ones, and the diver's,
        // come from discarded slots.
        let hold = std::sync::Arc::new(spindle::sync::Event::new());
        let _held = park_many(4_700, &hold);
        let h = Builder::new()
            .name("deep-diver")
            .stack_size(STACK)
            .spawn(|| recurse(0))
            .unwrap();
        h.join().ok();
    });
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
fn overflow_on_a_stack_whose_pages_were_discarded_hits_its_guard() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    for mode in ["task-after-discard", "task-after-discard-mprotect"] {
        let (stderr, signal) = run_child(
            "overflow_on_a_stack_whose_pages_were_discarded_hits_its_guard",
            mode,
        );
        assert!(
            stderr.contains("task 'deep-diver' (#")
                && stderr.contains(") overflowed its 64 KiB stack"),
            "{mode}: stderr: {stderr}"
        );
        assert_eq!(signal, Some(libc_sigabrt()), "{mode}: stderr: {stderr}");
    }
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

/// A frame that reaches [`JUMP`](jump::JUMP) bytes below the stack pointer in one step and
/// touches only that one word, as C code with a large `alloca` or an unprobed 32 KiB array
/// does, run on a task whose stack is nearly used up.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod jump {
    use super::*;

    /// How far below its stack pointer the frame of [`far_store`] reaches.
    pub const JUMP: usize = 32 * 1024;
    /// The stack of the jumping task (and of its neighbour): one size class of their own.
    const STACK: usize = 64 * 1024;
    /// How much of its stack the jumping task leaves unused before it jumps (less the
    /// frames above its first local, which are well under 4 KiB): a few KiB, far less than
    /// [`JUMP`], so the store lands 24 to 28 KiB below the stack.
    const LEFT: usize = 8 * 1024;
    /// What the far store writes.
    const MARK: u64 = 0x5EED_F00D_DEAD_BEEF;

    /// Moves the stack pointer `JUMP` bytes down, stores `value` there, moves it back, and
    /// returns the address written.
    ///
    /// This is the overflow under test, run in a child process only. The stack pointer is
    /// restored before the asm block ends, and nothing else uses the stack while it is moved
    /// (no call; without `nostack` the compiler keeps nothing in the red zone across the
    /// block). The one word written lies either in the guard (the process dies with the
    /// overflow report before anything runs on) or, in the one-page-guard child, inside the
    /// neighbouring task's canary array, which exists to receive it and is read only through
    /// atomics.
    #[cfg(target_arch = "x86_64")]
    #[inline(never)]
    fn far_store(value: u64) -> usize {
        let addr: usize;
        // SAFETY: the stack pointer is restored, and the word lands in a guard or in the
        // canary made to receive it (see above), no other memory.
        unsafe {
            core::arch::asm!(
                "sub rsp, {jump}",
                "mov qword ptr [rsp], {value}",
                "mov {addr}, rsp",
                "add rsp, {jump}",
                jump = const JUMP,
                value = in(reg) value,
                addr = out(reg) addr,
            );
        }
        addr
    }

    /// As the x86_64 one (AArch64 has no red zone; `sp` stays 16-byte aligned: `JUMP` is a
    /// multiple of 16).
    #[cfg(target_arch = "aarch64")]
    #[inline(never)]
    fn far_store(value: u64) -> usize {
        let addr: usize;
        // SAFETY: as for the x86_64 version: `sp` is restored, and the word lands in a guard
        // or in the neighbour's canary.
        unsafe {
            core::arch::asm!(
                "sub sp, sp, #{jump}",
                "str {value}, [sp]",
                "mov {addr}, sp",
                "add sp, sp, #{jump}",
                jump = const JUMP,
                value = in(reg) value,
                addr = out(reg) addr,
            );
        }
        addr
    }

    /// Recurses in small frames until the stack pointer is below `floor`, then does the far
    /// store there; returns its address.
    #[inline(never)]
    fn descend_then_store(floor: usize) -> usize {
        let frame = [0u8; 256];
        let here = std::hint::black_box(&frame).as_ptr() as usize;
        if here <= floor {
            return far_store(MARK);
        }
        // Used after the call, so the recursion is not a loop.
        descend_then_store(floor) + std::hint::black_box(frame[9]) as usize
    }

    /// Runs on a task with a `STACK`-byte stack: uses all of it but about `LEFT` bytes, then
    /// jumps. The task's first local lies a few hundred bytes below its stack's base.
    fn nearly_full_then_jump() -> usize {
        let first = 0u8;
        let top = std::hint::black_box(&first) as *const u8 as usize;
        descend_then_store(top - STACK + LEFT)
    }

    /// In the child: the default 64 KiB guard catches the jump, and the report names the
    /// task.
    pub fn wide_guard_child() {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        rt.block_on(|| {
            let h = Builder::new()
                .name("alloca-like")
                .stack_size(STACK)
                .spawn(nearly_full_then_jump)
                .unwrap();
            let addr = h.join().unwrap_or(0);
            println!("the jump to {addr:#x} was not caught");
        });
    }

    /// In the child: with one-page guards the same jump is not caught: it writes into the
    /// live stack of the task whose slot lies below, unseen. Prints where the mark was found.
    pub fn narrow_guard_child() {
        let page = 4096;
        let rt = Runtime::cooperative()
            .workers(1)
            .guard_size(page)
            .build()
            .unwrap();
        rt.block_on(|| {
            // The neighbour is spawned first and holds its stack before the jumper is
            // spawned, so the jumper's slot is carved right above it: | guard | neighbour
            // stack | guard | jumper stack |. It parks with a 40 KiB canary on its stack.
            let started = Arc::new(Event::new());
            let release = Arc::new(Event::new());
            let canary_at = Arc::new(AtomicUsize::new(0));
            let (s, r, c) = (started.clone(), release.clone(), canary_at.clone());
            let neighbour = Builder::new()
                .name("neighbour")
                .stack_size(STACK)
                .spawn(move || {
                    let canary: [AtomicU64; 5 * 1024] = [const { AtomicU64::new(0) }; 5 * 1024];
                    c.store(canary.as_ptr() as usize, Ordering::SeqCst);
                    s.set();
                    r.wait();
                    canary.iter().position(|w| w.load(Ordering::SeqCst) == MARK)
                })
                .unwrap();
            started.wait();
            let jumper = Builder::new()
                .name("alloca-like")
                .stack_size(STACK)
                .spawn(nearly_full_then_jump)
                .unwrap();
            let addr = jumper
                .join()
                .expect("the one-page guard does not catch the jump");
            release.set();
            let found = neighbour.join().unwrap();
            let canary = canary_at.load(Ordering::SeqCst);
            println!(
                "mark stored at {addr:#x}; neighbour's canary at {canary:#x}: found at {found:?}"
            );
            assert_eq!(
                found.map(|i| canary + 8 * i),
                Some(addr),
                "the jump landed in the neighbour's canary"
            );
        });
    }
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn a_frame_jumping_into_the_wide_guard_is_reported() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let (stderr, signal) = run_child(
        "a_frame_jumping_into_the_wide_guard_is_reported",
        "wide-guard-jump",
    );
    assert!(
        stderr.contains("task 'alloca-like' (#")
            && stderr.contains(
                ") overflowed its 64 KiB stack; raise Builder::stack_size or the runtime's stack_size"
            ),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("was not caught"), "stderr: {stderr}");
    assert_eq!(signal, Some(libc_sigabrt()), "stderr: {stderr}");
}

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn a_frame_jumping_into_a_wide_mprotect_guard_is_reported() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let (stderr, signal) = run_child(
        "a_frame_jumping_into_a_wide_mprotect_guard_is_reported",
        "wide-mprotect-guard-jump",
    );
    assert!(
        stderr.contains("task 'alloca-like' (#")
            && stderr.contains(") overflowed its 64 KiB stack"),
        "stderr: {stderr}"
    );
    assert_eq!(signal, Some(libc_sigabrt()), "stderr: {stderr}");
}

/// What the wide guard is for: with a one-page guard (configured) the same jump skips the
/// guard and silently writes into the neighbouring task's stack.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[test]
fn a_one_page_guard_lets_the_same_jump_corrupt_a_neighbour() {
    if let Ok(mode) = std::env::var(CHILD_ENV) {
        return child(&mode);
    }
    let name = "a_one_page_guard_lets_the_same_jump_corrupt_a_neighbour";
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "narrow-guard-jump")
        .env("RUST_BACKTRACE", "0");
    let out = support::output_within(cmd, 60);
    assert!(
        out.status.success() && out.stdout.contains("1 passed"),
        "child: {}\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    assert!(!out.stderr.contains("overflowed"), "{}", out.stderr);
    assert!(out.stdout.contains("found at Some("), "{}", out.stdout);
}
