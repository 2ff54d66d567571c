//! Panic messages that name the task, not the worker thread it happens to run on.
//!
//! std's panic hook prints `thread 'spindle-worker-0' panicked at ...`: true, and useless
//! when a thousand green threads share that worker. The first runtime built installs a hook
//! that, for a panic inside a task of either backend, prints
//! `task 'name' (#id) on thread 'spindle-worker-0' panicked at file:line:col:` and the
//! message (and a backtrace when `RUST_BACKTRACE` asks for one), in std's layout; every other
//! panic goes to the hook that was installed before. A hook the program installs later
//! replaces this one, as hooks do; one installed earlier still gets every panic outside
//! tasks. Panics that cancel tasks (`resume_unwind`) run no hook, so they print nothing.

use std::backtrace::{Backtrace, BacktraceStatus};
use std::cell::RefCell;
use std::panic::{self, PanicHookInfo};
use std::sync::Once;

thread_local! {
    /// While a schedule explorer runs a program on this thread: the first panic seen
    /// (`Some(None)` until one is), recorded instead of printed.
    static CAPTURE: RefCell<Option<Option<String>>> = const { RefCell::new(None) };
}

/// Starts capturing the panics of this thread (its tasks' too, when a deterministic runtime
/// runs them here): the first is kept for [`end_capture`], none is printed.
pub(crate) fn start_capture() {
    CAPTURE.with(|c| *c.borrow_mut() = Some(None));
}

/// Ends the capture started by [`start_capture`]: the first panic's message, with its task
/// and place, if any happened.
pub(crate) fn end_capture() -> Option<String> {
    CAPTURE.with(|c| c.borrow_mut().take().flatten())
}

/// Records the panic if this thread captures panics; returns whether it did.
fn captured(info: &PanicHookInfo<'_>) -> bool {
    CAPTURE.with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return false;
        };
        let Some(first) = c.as_mut() else {
            return false;
        };
        if first.is_none() {
            let who = match crate::context::current_task() {
                Some(task) => format!("task '{}'", task.name().unwrap_or("<unnamed>")),
                None => "the caller".to_string(),
            };
            let location = info
                .location()
                .map_or_else(String::new, |l| format!(" at {l}"));
            *first = Some(format!("{who} panicked{location}:\n{}", message(info)));
        }
        true
    })
}

fn message<'a>(info: &'a PanicHookInfo<'_>) -> &'a str {
    let payload = info.payload();
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("Box<dyn Any>")
}

/// Installs the hook, once per process.
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if captured(info) {
                return;
            }
            match crate::context::current_task() {
                Some(task) => report(&task, info),
                None => previous(info),
            }
        }));
    });
}

/// Prints the panic of `task` in std's layout, naming the task.
fn report(task: &crate::Task, info: &PanicHookInfo<'_>) {
    let message = message(info);
    let name = task.name().unwrap_or("<unnamed>");
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("<unnamed>");
    let location = info
        .location()
        .map_or_else(String::new, |l| format!(" at {l}"));
    let backtrace = Backtrace::capture();
    let tail = match backtrace.status() {
        BacktraceStatus::Captured => format!("stack backtrace:\n{backtrace}"),
        _ => "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace"
            .to_string(),
    };
    // One call, so that lines of concurrent panics do not interleave.
    eprintln!(
        "task '{name}' ({}) on thread '{thread}' panicked{location}:\n{message}\n{tail}",
        task.id()
    );
}
