//! Running one cell (one workload on one backend) the way hyperfine runs a command: warm-up
//! runs first (at least one, at most `--warmup`, and no more once a second of warm-up has
//! passed), then the samples. A short workload is batched, as criterion does: the last
//! warm-up run sets how many runs make one sample so that a sample lasts at least
//! `min_sample` (10 ms; 5 ms with `--quick`), and the sample is their total divided by the
//! total operations (or by the runs).
//!
//! Every cell runs on a thread of its own. The caller waits for each message from it (a
//! warm-up done, a sample, a failure) at most `timeout`; past that the cell fails with a
//! time-out, its thread is abandoned with the runtime it holds, and the caller builds that
//! backend afresh. A panic in a workload fails its cell only: a panic hook records the
//! message (and keeps it off the terminal, where the progress bar is) instead of printing it.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::backends::Engine;
use crate::workloads::{CellError, Ctx, Measurement, RunFn};

/// How a cell is sampled.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Warm-up runs, at most.
    pub warmup: usize,
    /// Samples.
    pub samples: usize,
    /// The shortest sample a batched workload aims for.
    pub min_sample: Duration,
    /// How long to wait for any one message of the cell (a warm-up run, a sample).
    pub timeout: Duration,
}

/// Warm-up stops once this much time has gone into it (after the first run).
const WARMUP_CAP: Duration = Duration::from_secs(1);
/// The most runs batched into one sample.
const MAX_BATCH: f64 = 10_000.0;

/// What a cell's thread tells the caller.
pub enum Msg {
    /// Warm-up run `i` (from 0) is done.
    Warm(usize),
    /// A sample.
    Sample(Measurement),
    /// The cell failed or does not apply.
    Error(CellError),
    /// All samples sent.
    Done,
}

/// How a cell ended.
#[derive(Debug)]
pub struct CellRun {
    /// Its samples, or why there are none.
    pub result: Result<Vec<Measurement>, CellError>,
    /// Whether it ran past its time limit (its backend must be rebuilt).
    pub timed_out: bool,
}

/// The message of the last panic, recorded by the hook of [`install_panic_hook`].
static LAST_PANIC: Mutex<String> = Mutex::new(String::new());

/// The text of a panic payload.
pub fn payload_text(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a non-string panic payload)".to_owned())
}

/// Replaces the panic hook: a panic on the main thread prints as usual; any other (a
/// workload's, a task's) is recorded for [`last_panic`] and not printed.
pub fn install_panic_hook() {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some("main") {
            default(info);
            return;
        }
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let text = format!("{}{location}", payload_text(info.payload()));
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = text;
        }
    }));
}

/// The message of the last recorded panic.
pub fn last_panic() -> String {
    LAST_PANIC
        .lock()
        .map(|s| s.clone())
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

/// Runs a Rust workload's cell on `engine`; `progress` hears "warm-up i/n" and "sample i/n".
pub fn run_cell(
    engine: &Engine,
    run: RunFn,
    ctx: Ctx,
    batch: bool,
    plan: &Plan,
    progress: &dyn Fn(String),
) -> CellRun {
    let (tx, rx) = mpsc::channel();
    let (engine2, plan2) = (engine.clone(), plan.clone());
    let spawned = std::thread::Builder::new()
        .name("compare-cell".into())
        .spawn(move || {
            let body = panic::catch_unwind(AssertUnwindSafe(|| {
                cell_body(&engine2, run, ctx, batch, &plan2, &tx)
            }));
            if let Err(p) = body {
                let _ = tx.send(Msg::Error(CellError::Failed(format!(
                    "panicked: {}",
                    payload_text(p.as_ref())
                ))));
            }
        });
    let thread = match spawned {
        Ok(t) => t,
        Err(e) => {
            return CellRun {
                result: Err(CellError::Failed(format!(
                    "cannot start the cell's thread: {e}"
                ))),
                timed_out: false,
            }
        }
    };
    let run = collect(&rx, plan, progress);
    if !run.timed_out {
        let _ = thread.join();
    }
    run
}

/// Receives a cell's messages until it is done, fails, or runs past the time limit.
pub fn collect(rx: &mpsc::Receiver<Msg>, plan: &Plan, progress: &dyn Fn(String)) -> CellRun {
    let mut samples = Vec::with_capacity(plan.samples);
    let mut warm = 0;
    loop {
        let msg = match rx.recv_timeout(plan.timeout) {
            Ok(msg) => msg,
            Err(RecvTimeoutError::Timeout) => {
                let stage = if samples.is_empty() && warm < plan.warmup {
                    format!("warm-up run {}", warm + 1)
                } else {
                    format!("sample {} of {}", samples.len() + 1, plan.samples)
                };
                return CellRun {
                    result: Err(CellError::Failed(format!(
                        "timed out: {stage} took more than {} s (the backend was restarted)",
                        plan.timeout.as_secs()
                    ))),
                    timed_out: true,
                };
            }
            Err(RecvTimeoutError::Disconnected) => {
                return CellRun {
                    result: Err(CellError::Failed("the cell ended without a result".into())),
                    timed_out: false,
                }
            }
        };
        match msg {
            Msg::Warm(i) => {
                warm = i + 1;
                progress(format!("warm-up {}", i + 1));
            }
            Msg::Sample(m) => {
                samples.push(m);
                progress(format!("sample {}/{}", samples.len(), plan.samples));
            }
            Msg::Error(e) => {
                return CellRun {
                    result: Err(e),
                    timed_out: false,
                }
            }
            Msg::Done => {
                return CellRun {
                    result: Ok(samples),
                    timed_out: false,
                }
            }
        }
    }
}

/// The cell's thread: warm-up, batch size, samples.
fn cell_body(
    engine: &Engine,
    run: RunFn,
    ctx: Ctx,
    batch: bool,
    plan: &Plan,
    tx: &mpsc::Sender<Msg>,
) {
    let once = || run(engine, ctx);
    let started = Instant::now();
    let mut last = None;
    for i in 0..plan.warmup {
        if i > 0 && started.elapsed() > WARMUP_CAP {
            break;
        }
        match once() {
            Ok(m) => last = Some(m.elapsed),
            Err(e) => {
                let _ = tx.send(Msg::Error(e));
                return;
            }
        }
        if tx.send(Msg::Warm(i)).is_err() {
            return;
        }
    }
    let per_sample = match last {
        Some(t) if batch && !t.is_zero() => (plan.min_sample.as_secs_f64() / t.as_secs_f64())
            .ceil()
            .clamp(1.0, MAX_BATCH) as usize,
        _ => 1,
    };
    for _ in 0..plan.samples {
        let mut sample: Option<Measurement> = None;
        for _ in 0..per_sample {
            match once() {
                Ok(m) => match &mut sample {
                    Some(s) => s.merge(m),
                    None => sample = Some(m),
                },
                Err(e) => {
                    let _ = tx.send(Msg::Error(e));
                    return;
                }
            }
        }
        if let Some(s) = sample {
            if tx.send(Msg::Sample(s)).is_err() {
                return;
            }
        }
    }
    let _ = tx.send(Msg::Done);
}
