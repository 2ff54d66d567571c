//! Cancelled at every yield point: a daemon that holds a semaphore permit and a mutex guard
//! and waits, in turn, on every kind of primitive is cancelled at each of its [`POINTS`]
//! yield points (by `block_on` ending while it still runs: the first task returns, or
//! panics; and then with the runtime dropped). Afterwards nothing is left behind: every
//! permit is back, every mutex is free, no stale waiter is left on a condvar, queue or
//! channel (a stale waiter would swallow the next notification, or let a rendezvous
//! `try_send` "succeed" into a dead task), and no stack is in use.
//!
//! On 1 and 2 workers. (Its own test binary: the stack pool's counters are process-wide,
//! and the tests here take turns through [`SERIAL`].)

mod support;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::channel::{self, select, Receiver, Sender, TryRecvError, TrySendError};
use spindle::queue::Queue;
use spindle::sync::{Barrier, Condvar, Event, Mutex, Semaphore};
use spindle::{spawn, yield_now, Builder, Cancelled, JoinHandle, Runtime};
use support::bounded;

/// The daemon's yield points, in its order (see [`daemon`]).
const POINTS: usize = 15;
/// What each point is, for messages; the last: the daemon ran to its end, not cancelled
/// (the control: the same runs, nothing stopped).
const POINT_NAMES: [&str; POINTS + 1] = [
    "yield_now, holding nothing",
    "sleep, holding nothing",
    "yield_now, holding a permit",
    "sleep, holding a permit and the mutex",
    "Condvar::wait (the mutex released meanwhile)",
    "Queue::get on an empty queue",
    "recv on a rendezvous channel",
    "send on a full bounded channel",
    "Mutex::lock, held by another daemon",
    "Semaphore::acquire, every permit held by another daemon",
    "Event::wait",
    "JoinHandle::join of a daemon that waits",
    "Queue::get_timeout (a waiter and a timer)",
    "Barrier::wait",
    "select! over a recv and a rendezvous send",
    "the end (not cancelled)",
];
/// The last point at which the holder daemon still holds something (then it has ended).
const HOLDER_LAST: usize = 9;
/// The permits of the semaphore the daemon holds one of.
const PERMITS: usize = 2;

/// The primitives, shared by every run of one test: damage left by one cancellation would
/// show in the checks after it, or in a later run.
struct Prims {
    /// The daemon holds one permit from point 2 on.
    sem: Semaphore,
    /// The daemon holds it from point 3 on (released while it waits on `cv`).
    mx: Mutex<u64>,
    cv: Condvar,
    q: Queue<u64>,
    /// Rendezvous: the daemon receives at point 6.
    rv: (Sender<u64>, Receiver<u64>),
    /// Capacity 1: the daemon fills it, then waits to send at point 7.
    full: (Sender<u64>, Receiver<u64>),
    /// Held by the holder daemon while the daemon waits for it (point 8).
    cmx: Mutex<()>,
    /// Its one permit held by the holder daemon while the daemon waits (point 9).
    csem: Semaphore,
    /// Point 14: the daemon selects a recv from `sel` and a send to the rendezvous `sel_rv`.
    sel: (Sender<u64>, Receiver<u64>),
    sel_rv: (Sender<u64>, Receiver<u64>),
}

impl Prims {
    fn new() -> Prims {
        Prims {
            sem: Semaphore::new(PERMITS),
            mx: Mutex::new(0),
            cv: Condvar::new(),
            q: Queue::unbounded(),
            rv: channel::bounded(0),
            full: channel::bounded(1),
            cmx: Mutex::new(()),
            csem: Semaphore::new(1),
            sel: channel::unbounded(),
            sel_rv: channel::bounded(0),
        }
    }
}

/// One run's progress and the things only it uses.
struct Run {
    prims: Arc<Prims>,
    /// The point the daemon has reached (stored just before it waits there).
    reached: AtomicUsize,
    /// The daemon may leave point `i` once `go > i` (points 0 to 4).
    go: AtomicUsize,
    release_cmx: Event,
    release_csem: Event,
    ev: Event,
    child_ev: Event,
    barrier: Barrier,
    /// Whether the holder daemon holds `cmx` and `csem`.
    holding: AtomicBool,
}

impl Run {
    fn at(&self, point: usize) {
        self.reached.store(point, Ordering::SeqCst);
    }

    fn gone_past(&self, point: usize) -> bool {
        self.go.load(Ordering::SeqCst) > point
    }
}

/// Holds `cmx` and the one permit of `csem` until released, each by its own event.
fn holder(run: Arc<Run>) {
    let p = &run.prims;
    let guard = p.cmx.lock();
    let permit = p.csem.acquire();
    run.holding.store(true, Ordering::SeqCst);
    run.release_cmx.wait();
    drop(guard);
    run.release_csem.wait();
    drop(permit);
}

/// The daemon: goes through its [`POINTS`] yield points in order, waiting at each until the
/// first task lets it go on.
fn daemon(run: Arc<Run>) {
    let p = &run.prims;
    run.at(0);
    while !run.gone_past(0) {
        yield_now();
    }
    run.at(1);
    while !run.gone_past(1) {
        spindle::sleep(Duration::from_millis(1));
    }
    let _permit = p.sem.acquire();
    run.at(2);
    while !run.gone_past(2) {
        yield_now();
    }
    let mut guard = p.mx.lock();
    *guard += 1;
    run.at(3);
    while !run.gone_past(3) {
        spindle::sleep(Duration::from_millis(1));
    }
    run.at(4);
    while !run.gone_past(4) {
        guard = p.cv.wait(guard);
    }
    run.at(5);
    assert_eq!(p.q.get(), 5);
    run.at(6);
    assert_eq!(p.rv.1.recv().unwrap(), 6);
    p.full.0.send(70).unwrap();
    run.at(7);
    p.full.0.send(71).unwrap();
    run.at(8);
    drop(p.cmx.lock());
    run.at(9);
    drop(p.csem.acquire());
    run.at(10);
    run.ev.wait();
    let child = {
        let run = run.clone();
        // A daemon: spawned by one.
        spawn(move || {
            run.child_ev.wait();
            11
        })
    };
    run.at(11);
    assert_eq!(child.join().unwrap(), 11);
    run.at(12);
    assert_eq!(p.q.get_timeout(Duration::from_secs(3600)), Ok(12));
    run.at(13);
    run.barrier.wait();
    run.at(14);
    select! {
        recv(p.sel.1) -> msg => assert_eq!(msg, Ok(14)),
        send(p.sel_rv.0, 140) -> _ => unreachable!("nobody receives on sel_rv"),
    }
    run.at(POINTS);
    drop(guard);
}

/// Waits (yielding) until the daemon has reached `point` and, where that can be observed,
/// is parked there.
fn wait_for(run: &Run, point: usize) {
    let p = &run.prims;
    let parked = || match point {
        8 => p.cmx.has_waiters(),
        9 => p.csem.has_waiters(),
        10 => run.ev.waiter_count() == 1,
        _ => true,
    };
    while run.reached.load(Ordering::SeqCst) < point || !parked() {
        yield_now();
    }
}

/// Lets the daemon go on from `point`.
fn pass(run: &Run, point: usize) {
    let p = &run.prims;
    match point {
        0..=3 => run.go.store(point + 1, Ordering::SeqCst),
        4 => {
            // The daemon holds the mutex until its wait has registered and released it.
            let g = p.mx.lock();
            run.go.store(point + 1, Ordering::SeqCst);
            p.cv.notify_all();
            drop(g);
        }
        5 => p.q.put(5),
        // Succeeds only into a parked receiver.
        6 => loop {
            match p.rv.0.try_send(6) {
                Ok(()) => break,
                Err(TrySendError::Full(_)) => yield_now(),
                Err(e) => panic!("{e}"),
            }
        },
        7 => {
            assert_eq!(p.full.1.recv().unwrap(), 70);
            assert_eq!(p.full.1.recv().unwrap(), 71);
        }
        8 => run.release_cmx.set(),
        9 => run.release_csem.set(),
        10 => run.ev.set(),
        11 => run.child_ev.set(),
        12 => p.q.put(12),
        13 => {
            run.barrier.wait();
        }
        14 => p.sel.0.send(14).unwrap(),
        _ => unreachable!(),
    }
}

/// How a run ends while the daemon waits at its point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ending {
    /// The first task returns; the runtime runs the checks in a second `block_on`.
    Returns,
    /// The first task panics (`block_on` re-raises it); then the checks as for `Returns`.
    Panics,
    /// The first task returns and the runtime is dropped; the checks run on a new one.
    Dropped,
}

/// One run: a fresh `block_on` whose first task starts the holder and the daemon, lets the
/// daemon through points `0..stop`, waits until it is at `stop`, and ends as `ending` says.
/// Returns the daemons' handles when the first task returns.
fn run_to(
    rt: &Runtime,
    prims: &Arc<Prims>,
    stop: usize,
    ending: Ending,
) -> Option<[JoinHandle<()>; 2]> {
    let run = Arc::new(Run {
        prims: prims.clone(),
        reached: AtomicUsize::new(0),
        go: AtomicUsize::new(0),
        release_cmx: Event::new(),
        release_csem: Event::new(),
        ev: Event::new(),
        child_ev: Event::new(),
        barrier: Barrier::new(2),
        holding: AtomicBool::new(false),
    });
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(move || {
            let daemon_builder = || Builder::new().daemon(true);
            let holder = {
                let run = run.clone();
                daemon_builder()
                    .name("holder")
                    .spawn(move || holder(run))
                    .unwrap()
            };
            while !run.holding.load(Ordering::SeqCst) {
                yield_now();
            }
            let d = {
                let run = run.clone();
                daemon_builder()
                    .name("daemon")
                    .spawn(move || daemon(run))
                    .unwrap()
            };
            for point in 0..stop {
                wait_for(&run, point);
                pass(&run, point);
            }
            wait_for(&run, stop);
            if ending == Ending::Panics {
                // Without the panic hook's message.
                panic::resume_unwind(Box::new("the first task ends in a panic"));
            }
            [d, holder]
        })
    }));
    match (ending, result) {
        (Ending::Panics, Err(_)) => None,
        (Ending::Panics, Ok(_)) => panic!("block_on returned, though its first task panicked"),
        (_, Ok(handles)) => Some(handles),
        (_, Err(p)) => panic::resume_unwind(p),
    }
}

/// Everything is back after the daemon was cancelled at `stop`: run in a green thread.
fn check(p: &Arc<Prims>, stop: usize) {
    let at = POINT_NAMES[stop];
    // Permits and locks.
    assert_eq!(p.sem.available_permits(), PERMITS, "{at}: permits");
    assert_eq!(p.csem.available_permits(), 1, "{at}: contended permit");
    assert!(!p.sem.has_waiters() && !p.csem.has_waiters(), "{at}");
    assert!(!p.mx.has_waiters() && !p.cmx.has_waiters(), "{at}");
    assert!(
        p.cmx.try_lock().is_some(),
        "{at}: contended mutex still held"
    );
    assert!(p.mx.try_lock().is_some(), "{at}: mutex still held");

    // The condvar: one notify_one must reach a real waiter, not a stale entry.
    {
        let ready = Arc::new(AtomicBool::new(false));
        let flag = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (p, ready, flag) = (p.clone(), ready.clone(), flag.clone());
            spawn(move || {
                let mut g = p.mx.lock();
                ready.store(true, Ordering::SeqCst);
                while !flag.load(Ordering::SeqCst) {
                    g = p.cv.wait(g);
                }
            })
        };
        loop {
            // The waiter sets `ready` under the mutex and keeps it until its wait has
            // registered.
            let g = p.mx.lock();
            if ready.load(Ordering::SeqCst) {
                flag.store(true, Ordering::SeqCst);
                p.cv.notify_one();
                break;
            }
            drop(g);
            yield_now();
        }
        waiter.join().unwrap();
    }

    // The queue: empty, and a put reaches a getter.
    assert!(p.q.is_empty(), "{at}: queue has {} items", p.q.len());
    let getter = {
        let p = p.clone();
        spawn(move || p.q.get())
    };
    yield_now();
    p.q.put(1);
    assert_eq!(getter.join().unwrap(), 1, "{at}");
    p.q.put(2);
    assert_eq!(p.q.get(), 2, "{at}");

    // The rendezvous channels: no receiver or sender is parked, so try_send and try_recv
    // fail; a real receiver gets the message.
    for (name, (tx, rx)) in [("rv", &p.rv), ("sel_rv", &p.sel_rv)] {
        assert!(
            matches!(tx.try_send(9), Err(TrySendError::Full(9))),
            "{at}: {name}: a stale receiver"
        );
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty), "{at}: {name}");
        let receiver = {
            let rx = rx.clone();
            spawn(move || rx.recv().unwrap())
        };
        while let Err(e) = tx.try_send(3) {
            assert!(e.is_full(), "{at}: {name}: {e}");
            yield_now();
        }
        assert_eq!(receiver.join().unwrap(), 3, "{at}: {name}");
    }

    // The bounded channel: what the daemon sent and nobody received is there (its blocked,
    // cancelled send is not); then it works.
    let left: Vec<u64> = p.full.1.try_iter().collect();
    let want: &[u64] = if stop == 7 { &[70] } else { &[] };
    assert_eq!(left, want, "{at}: left in the bounded channel");
    p.full.0.try_send(4).unwrap();
    assert_eq!(p.full.1.recv(), Ok(4));
    assert_eq!(p.sel.1.try_recv(), Err(TryRecvError::Empty), "{at}");
}

/// The stack pool's in-use and reserved counts, which must come back to where they were.
fn stacks() -> (usize, usize) {
    let s = spindle::stack::stats();
    (s.in_use, s.reserved)
}

/// For every point and every ending, on `workers` workers.
fn every_point(workers: usize) {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    bounded(120, move || {
        let build = || Runtime::cooperative().workers(workers).build().unwrap();
        let start = stacks();
        for ending in [Ending::Returns, Ending::Panics, Ending::Dropped] {
            let prims = Arc::new(Prims::new());
            let mut rt = build();
            // Every point, then the end (`stop == POINTS`: nothing stopped).
            for (stop, name) in POINT_NAMES.iter().enumerate() {
                let handles = run_to(&rt, &prims, stop, ending);
                let at = format!("{workers} workers, {ending:?}, at {name}");
                if ending == Ending::Dropped {
                    drop(rt);
                    assert_eq!(stacks(), start, "stacks after the drop, {at}");
                    rt = build();
                }
                assert_eq!(stacks(), start, "stacks in use and reserved, {at}");
                if let Some([d, holder]) = handles {
                    let cancelled = |h: JoinHandle<()>, who: &str, want: bool| match h.join() {
                        Ok(()) => assert!(!want, "{at}: the {who} was not cancelled"),
                        Err(e) => {
                            assert!(want, "{at}: the {who} was cancelled");
                            assert!(e.is::<Cancelled>(), "{at}: the {who} panicked");
                        }
                    };
                    cancelled(d, "daemon", stop < POINTS);
                    cancelled(holder, "holder", stop <= HOLDER_LAST);
                }
                let p = prims.clone();
                rt.block_on(move || check(&p, stop));
                assert_eq!(stacks(), start, "stacks after the checks, {at}");
            }
        }
    });
}

/// The tests of this binary take turns: the stack pool's counters are process-wide.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn cancelled_at_every_yield_point_leaks_nothing_one_worker() {
    every_point(1);
}

#[test]
fn cancelled_at_every_yield_point_leaks_nothing_two_workers() {
    every_point(2);
}
