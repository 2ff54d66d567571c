//! The columns of the comparison: spindle's cooperative runtime with one worker (the lecture's
//! GIL: one OS thread runs every green thread), the cooperative runtime with a worker per core,
//! the preemptive runtime (an OS thread per task), tokio's multi-thread runtime as a peer,
//! and, with `--python`, the lecture's own Python programs run by `python3`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use clap::ValueEnum;
use spindle::Runtime;

/// A backend, as `--backends` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, ValueEnum)]
pub enum Kind {
    /// Cooperative, 1 worker: the lecture's GIL.
    Coop1,
    /// Cooperative, a worker per core (or `--workers N`).
    Coop,
    /// Preemptive: an OS thread per task.
    Preemptive,
    /// tokio's multi-thread runtime with as many workers as `coop`.
    Tokio,
    /// The lecture's Python programs under `python3` (threads, with the GIL).
    Python,
}

impl Kind {
    /// Every kind, in column order.
    pub const ALL: [Kind; 5] = [
        Kind::Coop1,
        Kind::Coop,
        Kind::Preemptive,
        Kind::Tokio,
        Kind::Python,
    ];

    /// The name on the command line and in the JSON.
    pub fn key(self) -> &'static str {
        match self {
            Kind::Coop1 => "coop1",
            Kind::Coop => "coop",
            Kind::Preemptive => "preemptive",
            Kind::Tokio => "tokio",
            Kind::Python => "python",
        }
    }

    /// The column's header.
    pub fn header(self, workers: usize) -> String {
        match self {
            Kind::Coop1 => "cooperative\n1 worker (GIL)".to_owned(),
            Kind::Coop => format!("cooperative\n{workers} workers"),
            Kind::Preemptive => "preemptive\nOS threads".to_owned(),
            Kind::Tokio => format!("tokio\n{workers} workers"),
            Kind::Python => "python3\nthreads (GIL)".to_owned(),
        }
    }

    /// The column's header on one line.
    pub fn label(self, workers: usize) -> String {
        self.header(workers).replace('\n', ", ")
    }

    /// How many OS threads run its tasks in parallel at most, for the speedup per worker;
    /// `None` for Python (its threads hold the GIL to compute).
    pub fn parallelism(self, workers: usize, cores: usize) -> Option<usize> {
        match self {
            Kind::Coop1 => Some(1),
            Kind::Coop | Kind::Tokio => Some(workers),
            Kind::Preemptive => Some(cores),
            Kind::Python => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// What runs a backend's workloads. Cloning shares it.
#[derive(Clone)]
pub enum Engine {
    /// A spindle runtime, cooperative or preemptive.
    Spindle(Arc<Runtime>),
    /// A tokio multi-thread runtime.
    Tokio(Arc<tokio::runtime::Runtime>),
    /// The `python3` interpreter and the folder the lecture's scripts were written to.
    Python {
        /// The interpreter.
        python: PathBuf,
        /// Where the scripts are.
        scripts: PathBuf,
    },
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::Spindle(rt) => write!(f, "{rt:?}"),
            Engine::Tokio(_) => f.write_str("tokio"),
            Engine::Python { python, .. } => write!(f, "python ({})", python.display()),
        }
    }
}

/// Builds the engine of `kind` with `workers` workers (where that applies).
///
/// # Errors
///
/// The OS's error when a runtime cannot start; for Python, why `python3` is not usable.
pub fn build(kind: Kind, workers: usize, scripts: &std::path::Path) -> Result<Engine, String> {
    // The CPU workloads compute without yielding by design; the stall watchdog would report
    // them between the table's lines (and tokio has no watchdog thread): off.
    let spindle = |b: spindle::RuntimeBuilder| {
        b.stall_threshold(std::time::Duration::ZERO)
            .build()
            .map(|rt| Engine::Spindle(Arc::new(rt)))
            .map_err(|e| format!("cannot start the runtime: {e}"))
    };
    match kind {
        Kind::Coop1 => spindle(Runtime::cooperative().workers(1)),
        Kind::Coop => spindle(Runtime::cooperative().workers(workers)),
        Kind::Preemptive => spindle(Runtime::preemptive()),
        Kind::Tokio => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .map(|rt| Engine::Tokio(Arc::new(rt)))
            .map_err(|e| format!("cannot start tokio: {e}")),
        Kind::Python => {
            let python = crate::python::find()?;
            crate::python::install(scripts)?;
            Ok(Engine::Python {
                python,
                scripts: scripts.to_owned(),
            })
        }
    }
}

/// The number of CPUs this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Raises this process's limit on open descriptors as far as it goes (both ends of every
/// echo connection live here: 10,000 connections need 20,000 descriptors); returns the limit
/// now in force.
pub fn raise_fd_limit() -> libc::rlim_t {
    let current = fd_limit();
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return current;
    }
    // Root may raise the hard limit up to fs.nr_open; anyone may raise the soft one to the
    // hard one.
    let nr_open: libc::rlim_t = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);
    for target in [nr_open.min(1 << 20), lim.rlim_max] {
        if target <= lim.rlim_cur {
            continue;
        }
        let want = libc::rlimit {
            rlim_cur: target,
            rlim_max: target.max(lim.rlim_max),
        };
        // SAFETY: `want` is a valid rlimit; a refusal leaves the limit as it was.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
            return target;
        }
    }
    current
}

/// This process's limit on open descriptors (0 if unknown).
pub fn fd_limit() -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit for getrlimit to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        lim.rlim_cur
    } else {
        0
    }
}

/// Memory areas an OS thread maps: its stack and guard page, and the signal stack that Rust's
/// std gives every thread, with its own guard page.
const MAPS_PER_THREAD: usize = 4;
/// Threads spawned between two looks at the process's thread count.
const GUARD_EVERY: usize = 64;
/// PIDs left to the rest of the machine.
const SPARE_PIDS: usize = 4096;

/// Keeps the preemptive backend's spawn loops short of the limits whose exhaustion aborts the
/// whole process instead of failing `Builder::spawn`: a new thread whose signal stack cannot
/// be mapped (`vm.max_map_count` spent) panics inside std before any Rust frame can catch it,
/// and the process aborts. So, every 64 spawns, the loop checks that 2 × 64 more threads
/// (the echo server spawns as its clients do) still fit under `vm.max_map_count`, and that
/// 4,096 PIDs stay free for the rest of the machine (`kernel.pid_max`). A loop that stops
/// here reports why, as it reports an OS error from `Builder::spawn`.
#[derive(Debug)]
pub struct ThreadGuard {
    max_maps: usize,
    base_maps: usize,
    pid_max: usize,
    spawned: usize,
}

/// Reads a number from a file of /proc.
fn proc_number(path: &str) -> Option<usize> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// This process's thread count.
fn threads_now() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Threads:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(1)
}

/// The machine's thread count (the 4th field of /proc/loadavg, "running/total").
fn machine_threads() -> Option<usize> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    s.split_whitespace().nth(3)?.split('/').nth(1)?.parse().ok()
}

impl ThreadGuard {
    /// A guard for one spawn loop (Linux; elsewhere it never stops a loop).
    pub fn new() -> ThreadGuard {
        let maps = std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count());
        ThreadGuard {
            max_maps: proc_number("/proc/sys/vm/max_map_count").unwrap_or(usize::MAX),
            base_maps: maps.saturating_sub(MAPS_PER_THREAD * threads_now()),
            pid_max: proc_number("/proc/sys/kernel/pid_max").unwrap_or(usize::MAX),
            spawned: 0,
        }
    }

    /// Call before each spawn; `Err` says why the loop must stop.
    pub fn check(&mut self) -> Result<(), String> {
        self.spawned += 1;
        if self.spawned % GUARD_EVERY != 1 {
            return Ok(());
        }
        let ahead = 2 * GUARD_EVERY;
        let threads = threads_now() + ahead;
        let maps = self.base_maps + MAPS_PER_THREAD * threads + 1024;
        if maps > self.max_maps {
            return Err(format!(
                "stopped at {} OS threads: vm.max_map_count = {} would run out (4 maps a \
                 thread: stack, signal stack, guard pages), and a thread that cannot map its \
                 signal stack aborts the process",
                crate::workloads::thousands(threads_now() as u64),
                crate::workloads::thousands(self.max_maps as u64)
            ));
        }
        if let Some(all) = machine_threads() {
            if all + ahead + SPARE_PIDS > self.pid_max {
                return Err(format!(
                    "stopped at {} OS threads: kernel.pid_max = {} is nearly spent \
                     ({} threads on the machine; 4,096 PIDs are left to the rest)",
                    crate::workloads::thousands(threads_now() as u64),
                    crate::workloads::thousands(self.pid_max as u64),
                    crate::workloads::thousands(all as u64)
                ));
            }
        }
        Ok(())
    }
}
