//! A started green thread never changes OS thread (the soundness contract of `lib.rs`):
//! whoever wakes it — its own worker's timer, a task on the other worker, a plain
//! `std::thread` outside the runtime — it resumes on the thread it started on, with the same
//! thread-locals.
//!
//! Each of many tasks on a 2-worker runtime records its thread id and the address of a
//! `thread_local!`, then waits again and again: in `sleep` (fired by its own worker's timer,
//! timers living where they were set), in `Mutex::lock` on a mutex that a task on the
//! *other* worker (or a plain thread) holds and releases, and in `recv` on a rendezvous
//! channel that the other worker (or a plain thread) sends on. After every wait both must be
//! unchanged. The wakers make sure each wait really parked before they wake it
//! (`Mutex::has_waiters`; a rendezvous `try_send` succeeds only into a parked receiver) and
//! send back their thread id, which the task checks is another thread's, so the test cannot
//! pass without cross-thread wake-ups.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use spindle::channel::{self, Sender, TrySendError};
use spindle::sync::Mutex;
use spindle::{spawn, yield_now, Runtime};
use support::bounded;

const TASKS: usize = 200;
const ROUNDS: usize = 5;

std::thread_local!(static MARK: u8 = const { 0 });

/// A piece of work for a waker to run.
type Job = Box<dyn FnOnce() + Send>;

/// A waker: a long-lived task pinned (as every started task is) to one worker, or a plain
/// thread, running the jobs it is sent.
#[derive(Clone)]
struct Waker {
    jobs: Sender<Job>,
    thread: ThreadId,
}

/// Where the calling code runs: its OS thread and the address of its `MARK`.
fn here() -> (ThreadId, usize) {
    (
        thread::current().id(),
        MARK.with(|m| m as *const u8 as usize),
    )
}

/// The index `N` of the worker thread `spindle-worker-N` the caller runs on.
fn worker_index() -> usize {
    let t = thread::current();
    let name = t.name().expect("worker threads are named");
    name.strip_prefix("spindle-worker-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a worker thread: {name}"))
}

/// Polls `cond` until it holds, letting others run meanwhile (yields, then short naps). It
/// waits for a condition; it orders nothing by time.
fn wait_until(mut cond: impl FnMut() -> bool) {
    let mut tries = 0u32;
    while !cond() {
        tries += 1;
        if tries < 50 {
            yield_now();
        } else {
            spindle::sleep(Duration::from_micros(100));
        }
    }
}

/// Runs every job sent to `jobs`, checking that it itself never moves either; ends when
/// every sender is gone.
fn serve(jobs: channel::Receiver<Job>) {
    let start = here();
    for job in jobs.iter() {
        job();
        assert_eq!(here(), start, "a waker task changed thread");
    }
}

/// Parks the caller in `Mutex::lock` on a mutex that `waker` holds, and releases only once
/// the caller is queued. Returns the releasing thread's id.
fn lock_released_by(waker: &Waker) -> ThreadId {
    let m = Arc::new(Mutex::new(None));
    let locked = Arc::new(AtomicBool::new(false));
    let (m2, locked2) = (m.clone(), locked.clone());
    let job: Job = Box::new(move || {
        let mut g = m2.lock();
        locked2.store(true, Ordering::SeqCst);
        wait_until(|| m2.has_waiters());
        *g = Some(thread::current().id());
        drop(g); // hands the lock to the parked caller
    });
    waker.jobs.send(job).unwrap();
    wait_until(|| locked.load(Ordering::SeqCst));
    let g = m.lock();
    g.expect("the waker wrote its id before unlocking")
}

/// Parks the caller in `recv` on a rendezvous channel whose message `waker` sends once the
/// caller is parked (`try_send` on `bounded(0)` succeeds only into a parked receiver).
/// Returns the sending thread's id.
fn recv_sent_by(waker: &Waker) -> ThreadId {
    let (tx, rx) = channel::bounded::<ThreadId>(0);
    let job: Job = Box::new(move || {
        let mut msg = thread::current().id();
        wait_until(|| match tx.try_send(msg) {
            Ok(()) => true,
            Err(TrySendError::Full(m)) => {
                msg = m;
                false
            }
            Err(TrySendError::Disconnected(_)) => panic!("the receiver left"),
        });
    });
    waker.jobs.send(job).unwrap();
    rx.recv().expect("the waker sends")
}

#[test]
fn started_tasks_never_change_thread_whoever_wakes_them() {
    bounded(300, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        // The plain-thread waker, outside the runtime.
        let (ptx, prx) = channel::unbounded::<Job>();
        let plain_thread = thread::spawn(move || serve(prx));
        let plain = Waker {
            jobs: ptx,
            thread: plain_thread.thread().id(),
        };
        let from_other_worker = Arc::new(AtomicUsize::new(0));
        let from_plain_thread = Arc::new(AtomicUsize::new(0));
        let per_worker = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
        let (f_other, f_plain, per) = (
            from_other_worker.clone(),
            from_plain_thread.clone(),
            per_worker.clone(),
        );
        rt.block_on(move || {
            // One waker task on each worker: spawn probes until each worker has run one;
            // the first probe to start on a worker stays there as its waker.
            let slots: Arc<Mutex<[Option<Waker>; 2]>> = Arc::new(Mutex::new([None, None]));
            let mut probes = Vec::new();
            while slots.lock().iter().any(Option::is_none) {
                for _ in 0..4 {
                    let slots = slots.clone();
                    probes.push(spawn(move || {
                        let w = worker_index();
                        let (tx, rx) = channel::unbounded::<Job>();
                        {
                            let mut s = slots.lock();
                            if s[w].is_some() {
                                return;
                            }
                            s[w] = Some(Waker {
                                jobs: tx,
                                thread: thread::current().id(),
                            });
                        }
                        drop(slots); // (it holds our sender: the channel would never close)
                        serve(rx);
                    }));
                }
                spindle::sleep(Duration::from_millis(1));
            }
            let wakers: [Waker; 2] = slots.lock().each_mut().map(|w| w.take().unwrap());
            drop(slots);
            assert_ne!(wakers[0].thread, wakers[1].thread);

            // The waker tasks spawn the tasks in turn, so that both workers start some
            // (a task spawned by a worker's task goes to that worker's queue first).
            let (htx, hrx) = channel::unbounded();
            for i in 0..TASKS {
                let (wakers2, plain) = (wakers.clone(), plain.clone());
                let (f_other, f_plain, per) = (f_other.clone(), f_plain.clone(), per.clone());
                let body = move || {
                    let start = here();
                    let w = worker_index();
                    per[w].fetch_add(1, Ordering::SeqCst);
                    let other = &wakers2[1 - w];
                    assert_ne!(other.thread, start.0);
                    let check = |what: &str| {
                        assert_eq!(here(), start, "task {i} changed thread after {what}");
                    };
                    for _ in 0..ROUNDS {
                        spindle::sleep(Duration::from_micros(50 * (i % 7) as u64));
                        check("sleep");

                        let by = lock_released_by(other);
                        check("Mutex::lock released by the other worker");
                        assert_eq!(by, other.thread);
                        f_other.fetch_add(1, Ordering::SeqCst);

                        let by = recv_sent_by(other);
                        check("recv sent by the other worker");
                        assert_eq!(by, other.thread);
                        f_other.fetch_add(1, Ordering::SeqCst);

                        let by = lock_released_by(&plain);
                        check("Mutex::lock released by a plain thread");
                        assert_eq!(by, plain.thread);
                        f_plain.fetch_add(1, Ordering::SeqCst);

                        let by = recv_sent_by(&plain);
                        check("recv sent by a plain thread");
                        assert_eq!(by, plain.thread);
                        f_plain.fetch_add(1, Ordering::SeqCst);
                    }
                };
                let htx = htx.clone();
                let job: Job = Box::new(move || htx.send(spawn(body)).unwrap());
                wakers[i % 2].jobs.send(job).unwrap();
            }
            drop(htx);
            let tasks: Vec<_> = hrx.iter().collect();
            assert_eq!(tasks.len(), TASKS);
            for t in tasks {
                t.join().unwrap();
            }
            // The wakers' channels close: the waker tasks end.
            drop(wakers);
            drop(plain);
            for p in probes {
                p.join().unwrap();
            }
        });
        plain_thread.join().unwrap();
        // Every wait parked and was woken by another thread (the wakers check "parked").
        assert_eq!(from_other_worker.load(Ordering::SeqCst), TASKS * ROUNDS * 2);
        assert_eq!(from_plain_thread.load(Ordering::SeqCst), TASKS * ROUNDS * 2);
        let per: Vec<usize> = per_worker
            .iter()
            .map(|n| n.load(Ordering::SeqCst))
            .collect();
        eprintln!("tasks per worker: {per:?}");
        assert_eq!(per.iter().sum::<usize>(), TASKS, "{per:?}");
    });
}
