//! The workload suite: what each workload does, the lesson of the lecture it measures, its
//! unit, and the function that runs it once on a backend. The functions live in `waiting.rs`,
//! `net.rs`, `cpu.rs` and `contention.rs`; this file holds the registry and the types they
//! share ([`Measurement`], [`Unit`], [`Ctx`]).

use std::time::Duration;

use hdrhistogram::Histogram;

use crate::backends::{Engine, Kind};
use crate::{contention, cpu, net, waiting};

/// The lesson of the lecture a workload measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lesson {
    /// Threads that mostly wait: the GIL is released, green threads park.
    Waiting,
    /// CPU-bound work split into chunks: only real parallelism helps.
    Cpu,
    /// A shared resource behind a lock.
    Contention,
}

impl Lesson {
    /// The lesson in words.
    pub fn label(self) -> &'static str {
        match self {
            Lesson::Waiting => "cost of waiting",
            Lesson::Cpu => "CPU parallelism",
            Lesson::Contention => "contention",
        }
    }
}

/// How a workload's samples are expressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Nanoseconds per operation (the operation named): elapsed ÷ operations.
    NsPer(&'static str),
    /// Milliseconds per run of the whole workload.
    MsPerRun,
    /// Operations (named) per second: operations ÷ elapsed; higher is better.
    PerSecond(&'static str),
}

impl Unit {
    /// The unit in words, as the table's header says it.
    pub fn label(self) -> String {
        match self {
            Unit::NsPer(op) => format!("ns per {op}"),
            Unit::MsPerRun => "ms per run".to_owned(),
            Unit::PerSecond(op) => format!("{op}/s"),
        }
    }

    /// Whether a smaller value is better.
    pub fn lower_is_better(self) -> bool {
        !matches!(self, Unit::PerSecond(_))
    }

    /// One sample's value in this unit.
    pub fn value(self, m: &Measurement) -> f64 {
        let secs = m.elapsed.as_secs_f64();
        match self {
            Unit::NsPer(_) => secs * 1e9 / m.ops.max(1) as f64,
            Unit::MsPerRun => secs * 1e3 / f64::from(m.runs.max(1)),
            Unit::PerSecond(_) => m.ops as f64 / secs.max(1e-12),
        }
    }
}

/// What one run (or several runs, merged into one sample) measured.
#[derive(Debug)]
pub struct Measurement {
    /// The time of the timed region.
    pub elapsed: Duration,
    /// The operations done in it (tasks, yields, round trips, items, points ...).
    pub ops: u64,
    /// How many runs of the workload this is.
    pub runs: u32,
    /// Per-operation latencies in nanoseconds, for the workloads that record them.
    pub latencies: Option<Histogram<u64>>,
    /// A remark on how this backend ran the workload (a smaller N, say).
    pub note: Option<String>,
}

impl Measurement {
    /// One run: `ops` operations in `elapsed`.
    pub fn new(elapsed: Duration, ops: u64) -> Measurement {
        Measurement {
            elapsed,
            ops,
            runs: 1,
            latencies: None,
            note: None,
        }
    }

    /// With a remark on this backend's variant.
    pub fn note(mut self, note: impl Into<String>) -> Measurement {
        self.note = Some(note.into());
        self
    }

    /// With latencies.
    pub fn latencies(mut self, h: Histogram<u64>) -> Measurement {
        self.latencies = Some(h);
        self
    }

    /// Adds another run of the same workload to this sample.
    pub fn merge(&mut self, other: Measurement) {
        self.elapsed += other.elapsed;
        self.ops += other.ops;
        self.runs += other.runs;
        if let (Some(a), Some(b)) = (&mut self.latencies, &other.latencies) {
            // Both histograms have the same bounds (`latency_histogram`); cannot fail.
            let _ = a.add(b);
        }
    }
}

/// A fresh histogram for latencies in nanoseconds: 1 ns to 10 min, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000_000, 3).expect("valid histogram bounds")
}

/// Why a cell has no samples.
#[derive(Debug, Clone)]
pub enum CellError {
    /// The workload means nothing on this backend.
    NotApplicable(String),
    /// It failed; the message says how.
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for CellError {
    fn from(e: E) -> CellError {
        CellError::Failed(e.to_string())
    }
}

/// One run's outcome.
pub type Outcome = Result<Measurement, CellError>;

/// What a workload run needs to know about where it runs.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    /// The backend's kind.
    pub kind: Kind,
    /// The number of tasks (connections ...) of a scaling run; `None` in the suite.
    pub n: Option<usize>,
}

/// Runs a workload once on an engine.
pub type RunFn = fn(&Engine, Ctx) -> Outcome;

/// A workload of the suite.
#[derive(Debug)]
pub struct Workload {
    /// The name on the command line (`--workload NAME`).
    pub name: &'static str,
    /// The name in the table.
    pub title: &'static str,
    /// The lesson it measures.
    pub lesson: Lesson,
    /// What it does, for `--list`.
    pub about: &'static str,
    /// The unit of its samples.
    pub unit: Unit,
    /// Whether a sample may be several runs (short workloads without latencies).
    pub batch: bool,
    /// Runs it once; the Python column goes through [`Workload::python`] instead.
    pub run: RunFn,
    /// The lecture's Python program for it, if there is one.
    pub python: Option<crate::python::Script>,
}

/// Every workload of the suite, in table order.
pub static SUITE: [Workload; 10] = [
    Workload {
        name: "spawn_join",
        title: "spawn + join",
        lesson: Lesson::Waiting,
        about: "spawn 10,000 empty tasks, then join them all (1,000 on OS threads)",
        unit: Unit::NsPer("task"),
        batch: true,
        run: waiting::spawn_join,
        python: None,
    },
    Workload {
        name: "yield",
        title: "yield",
        lesson: Lesson::Waiting,
        about: "2 tasks yield to each other 10,000 times each",
        unit: Unit::NsPer("yield"),
        batch: true,
        run: waiting::yields,
        python: None,
    },
    Workload {
        name: "pingpong",
        title: "channel ping-pong",
        lesson: Lesson::Waiting,
        about:
            "2 tasks pass a number back and forth over two bounded(1) channels, 10,000 round trips",
        unit: Unit::NsPer("round trip"),
        batch: true,
        run: waiting::ping_pong,
        python: None,
    },
    Workload {
        name: "sleepers",
        title: "10,000 sleepers",
        lesson: Lesson::Waiting,
        about: "10,000 tasks wait at a gate until all are spawned, then all sleep 10 ms at once",
        unit: Unit::MsPerRun,
        batch: false,
        run: waiting::sleepers,
        python: None,
    },
    Workload {
        name: "queue",
        title: "Queue producer/consumer",
        lesson: Lesson::Waiting,
        about: "4 producers and 4 consumers move 100,000 items through a Queue of 64 slots",
        unit: Unit::NsPer("item"),
        batch: true,
        run: waiting::queue,
        python: Some(crate::python::QUEUE),
    },
    Workload {
        name: "echo",
        title: "TCP echo, 100 connections",
        lesson: Lesson::Waiting,
        about: "100 connections to an in-process echo server, 100 round trips of 64 bytes each; \
                client and server on the backend",
        unit: Unit::PerSecond("round trips"),
        batch: false,
        run: net::echo,
        python: None,
    },
    Workload {
        name: "web",
        title: "100 web requests to /slow",
        lesson: Lesson::Waiting,
        about: "100 concurrent GET /slow?ms=100 to the example web server (in-process, \
                cooperative), one task and connection per request",
        unit: Unit::PerSecond("requests"),
        batch: false,
        run: net::web,
        python: Some(crate::python::WEB),
    },
    Workload {
        name: "integrate",
        title: "integrate x² (8 chunks)",
        lesson: Lesson::Cpu,
        about: "left Riemann sum of x² over [0, 10], 2·10⁷ points in 8 chunks, a task per chunk",
        unit: Unit::NsPer("point"),
        batch: true,
        run: cpu::integrate,
        python: Some(crate::python::INTEGRATE),
    },
    Workload {
        name: "primes",
        title: "prime factors (16 numbers)",
        lesson: Lesson::Cpu,
        about: "trial division of 16 numbers near 10¹¹ (8 primes, 8 semiprimes), a task per number",
        unit: Unit::NsPer("division"),
        batch: true,
        run: cpu::prime_factors_workload,
        python: Some(crate::python::PRIMES),
    },
    Workload {
        name: "mutex",
        title: "shared Mutex counter",
        lesson: Lesson::Contention,
        about: "100 tasks add 1 to one Mutex-protected counter 200 times each",
        unit: Unit::NsPer("increment"),
        batch: true,
        run: contention::mutex_counter,
        python: Some(crate::python::LOCK),
    },
];

/// The names of the suite's workloads, for the command line.
pub const NAMES: [&str; 10] = [
    "spawn_join",
    "yield",
    "pingpong",
    "sleepers",
    "queue",
    "echo",
    "web",
    "integrate",
    "primes",
    "mutex",
];

/// A workload of the scaling sweep (`--scale`): run at N tasks, reported per task.
#[derive(Debug)]
pub struct Sweep {
    /// Its name (the suite's workload it scales).
    pub name: &'static str,
    /// Its name in the table.
    pub title: &'static str,
    /// What one task does.
    pub about: &'static str,
    /// Runs it once with `ctx.n` tasks.
    pub run: RunFn,
}

/// The scaling sweep's workloads.
pub static SWEEPS: [Sweep; 3] = [
    Sweep {
        name: "spawn_join",
        title: "spawn + join",
        about: "spawn N empty tasks, join them all",
        run: waiting::spawn_join,
    },
    Sweep {
        name: "sleepers",
        title: "sleepers",
        about: "N tasks wait at a gate, then all sleep 10 ms",
        run: waiting::sleepers,
    },
    Sweep {
        name: "echo",
        title: "TCP echo",
        about: "N connections, 10 echo round trips each (connected before the clock starts)",
        run: net::echo,
    },
];

/// The task counts of the sweep; `--full` adds 1,000,000 (green threads and tokio).
pub const SCALE_NS: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];
/// The sweep's extra point with `--full`.
pub const SCALE_FULL_N: usize = 1_000_000;

/// Formats an integer with thousands separators.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_suite() {
        let names: Vec<_> = SUITE.iter().map(|w| w.name).collect();
        assert_eq!(names, NAMES);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
