//! The park/wake state machine of a green thread (invariants 2 and 3 of the cooperative
//! backend, `coop/mod.rs`).
//!
//! One word, `epoch << 2 | state`, with the states [`SCHEDULED`], [`RUNNING`], [`PARKED`] and
//! [`DONE`]. The owning worker moves the task between states with plain stores (it alone
//! touches a running task); a waker moves it only from (epoch, `PARKED`) to (epoch,
//! `SCHEDULED`), by compare-and-swap, so of all the wakes racing for one park exactly one
//! reschedules it, and a waiter from an earlier park (another epoch) never does.
//!
//! Kept apart so that loom can check it (`cargo test --lib loom` under
//! `--cfg spindle_loom`), with loom threads standing in for the worker and the wakers.

use std::sync::atomic::Ordering;

use crate::loom::AtomicU64;

/// Queued or about to be: the next resume continues the task.
const SCHEDULED: u64 = 0;
/// Its worker is running it.
const RUNNING: u64 = 1;
/// Switched out in a park, waiting for a wake of the current epoch.
const PARKED: u64 = 2;
/// Finished (or cancelled before it started).
const DONE: u64 = 3;
const STATE_MASK: u64 = 3;
/// One park more, in the epoch bits.
const EPOCH_ONE: u64 = 4;

/// A task's scheduling state: `epoch << 2 | state`.
pub(crate) struct ParkState(AtomicU64);

impl ParkState {
    /// A task just spawned: scheduled, epoch 0.
    pub(crate) fn new() -> ParkState {
        ParkState(AtomicU64::new(SCHEDULED))
    }

    /// Its worker, about to resume the task it popped from a queue: marks it running and
    /// returns the epoch it runs in (that of the park it was woken from); `None` if the task
    /// has ended.
    #[inline]
    pub(crate) fn begin_run(&self) -> Option<u64> {
        let state = self.0.load(Ordering::Acquire);
        if state & STATE_MASK == DONE {
            return None;
        }
        let epoch = state & !STATE_MASK;
        self.0.store(epoch | RUNNING, Ordering::Relaxed);
        Some(epoch)
    }

    /// Its worker, after the task yielded: scheduled again in the same epoch.
    #[inline]
    pub(crate) fn yielded(&self, epoch: u64) {
        self.0.store(epoch | SCHEDULED, Ordering::Relaxed);
    }

    /// Its worker, after the task's coroutine switched out to park: enters the next park and
    /// returns its epoch. Only after this may the task's waiter be published (invariant 2): a
    /// wake for the new epoch that came before would find the task running and be lost.
    #[inline]
    pub(crate) fn park(&self, epoch: u64) -> u64 {
        let epoch = epoch.wrapping_add(EPOCH_ONE);
        self.0.store(epoch | PARKED, Ordering::Release);
        epoch
    }

    /// A wake for park `epoch`, from any thread: `true` if this call moved the task from that
    /// park to scheduled, and so must queue it. Of the wakes for one park, at most one
    /// returns `true`; a wake for an earlier park never does.
    #[inline]
    pub(crate) fn wake(&self, epoch: u64) -> bool {
        self.0
            .compare_exchange(
                epoch | PARKED,
                epoch | SCHEDULED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// Whether the task is still in park `epoch`.
    #[inline]
    pub(crate) fn is_parked_in(&self, epoch: u64) -> bool {
        self.0.load(Ordering::Acquire) == epoch | PARKED
    }

    /// Whether the task is parked (in any epoch).
    #[inline]
    pub(crate) fn is_parked(&self) -> bool {
        self.0.load(Ordering::Acquire) & STATE_MASK == PARKED
    }

    /// Its worker, cancelling: if the task is parked, reschedules it in a new epoch (so that
    /// the waiter it registered can no longer wake it); `true` if it did, and so must queue
    /// it. Races with wakes like a wake: exactly one of them wins.
    #[inline]
    pub(crate) fn cancel_park(&self) -> bool {
        let state = self.0.load(Ordering::Acquire);
        if state & STATE_MASK != PARKED {
            return false;
        }
        let next = (state & !STATE_MASK).wrapping_add(EPOCH_ONE) | SCHEDULED;
        self.0
            .compare_exchange(state, next, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    }

    /// Its worker: the task has ended.
    #[inline]
    pub(crate) fn finish(&self) {
        self.0.store(DONE, Ordering::Release);
    }

    /// Whether the task is scheduled in `epoch` (woken from that park, not yet run).
    #[cfg(all(test, spindle_loom))]
    fn is_scheduled_in(&self, epoch: u64) -> bool {
        self.0.load(Ordering::Acquire) == epoch | SCHEDULED
    }
}

/// Loom models of the park/wake protocol: the main loom thread is the task's worker, other
/// loom threads are wakers holding its waiter; a scheduled task goes onto a run queue the
/// worker blocks on. Run with
/// `RUSTFLAGS="--cfg spindle_loom" cargo test --release --lib loom`.
#[cfg(all(test, spindle_loom))]
mod loom_tests {
    use loom::sync::{Arc, Condvar, Mutex};
    use loom::thread;

    use super::{ParkState, EPOCH_ONE};

    use crate::loom::model;

    /// One task's state and its worker's run queue (how many times it was queued).
    struct Sim {
        ps: ParkState,
        runq: Mutex<usize>,
        queued: Condvar,
    }

    impl Sim {
        fn new() -> Arc<Sim> {
            Arc::new(Sim {
                ps: ParkState::new(),
                runq: Mutex::new(0),
                queued: Condvar::new(),
            })
        }

        /// `Waiter::wake`: reschedule if still in that park, then queue the task.
        fn wake(&self, epoch: u64) -> bool {
            let won = self.ps.wake(epoch);
            if won {
                self.schedule();
            }
            won
        }

        fn schedule(&self) {
            *self.runq.lock().unwrap() += 1;
            self.queued.notify_one();
        }

        /// The worker: waits until the task is queued, pops it and starts running it;
        /// returns the epoch it runs in.
        fn run_next(&self) -> u64 {
            let mut q = self.runq.lock().unwrap();
            while *q == 0 {
                q = self.queued.wait(q).unwrap();
            }
            *q -= 1;
            drop(q);
            self.ps.begin_run().expect("a queued task has not ended")
        }

        fn queued_now(&self) -> usize {
            *self.runq.lock().unwrap()
        }
    }

    /// Wake racing park, as the wait protocol does it (a semaphore's permit): the task
    /// fails its attempt, switches out; its worker marks it parked, then runs the register
    /// closure, which under the primitive's lock either finds the permit released meanwhile
    /// (and wakes the task itself) or publishes the waiter, which the releaser pops and
    /// wakes. No lost wake (the worker would block forever: loom reports a deadlock), no
    /// double schedule, and the task resumes in the epoch of its park.
    #[test]
    fn loom_wake_races_park() {
        model(|| {
            let sim = Sim::new();
            // (permit released, published waiter)
            let list = Arc::new(Mutex::new((false, None::<u64>)));
            let e0 = sim.ps.begin_run().unwrap();
            let releaser = {
                let (sim, list) = (sim.clone(), list.clone());
                thread::spawn(move || {
                    let waiter = {
                        let mut l = list.lock().unwrap();
                        let w = l.1.take();
                        if w.is_none() {
                            l.0 = true;
                        }
                        w
                    };
                    if let Some(epoch) = waiter {
                        assert!(sim.wake(epoch), "the wake of a published waiter was lost");
                    }
                })
            };
            // The task's attempt, under the lock.
            let fast = std::mem::take(&mut list.lock().unwrap().0);
            if !fast {
                // Switched out: the worker parks it, then runs the register closure.
                let e1 = sim.ps.park(e0);
                let self_wake = {
                    let mut l = list.lock().unwrap();
                    if std::mem::take(&mut l.0) {
                        true
                    } else {
                        l.1 = Some(e1);
                        false
                    }
                };
                if self_wake {
                    assert!(sim.wake(e1));
                }
                assert_eq!(sim.run_next(), e1);
            }
            releaser.join().unwrap();
            assert_eq!(sim.queued_now(), 0, "the task was queued twice");
            let l = list.lock().unwrap();
            assert!(
                !l.0 && l.1.is_none(),
                "the permit or the waiter was left behind"
            );
        });
    }

    /// Two wakers holding the same waiter (a notifier and a timer, say) race each other and
    /// the owning worker cancelling the park: exactly one of the three reschedules it, and
    /// the task runs in the epoch the winner chose (a cancellation's is a new one).
    #[test]
    fn loom_two_wakers_and_a_cancel_race_for_one_park() {
        model(|| {
            let sim = Sim::new();
            let e0 = sim.ps.begin_run().unwrap();
            let e1 = sim.ps.park(e0);
            let wakers: Vec<_> = (0..2)
                .map(|_| {
                    let sim = sim.clone();
                    thread::spawn(move || sim.wake(e1))
                })
                .collect();
            let cancelled = sim.ps.cancel_park();
            if cancelled {
                sim.schedule();
            }
            let epoch = sim.run_next();
            let woken = wakers
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&w| w)
                .count();
            assert_eq!(
                woken + usize::from(cancelled),
                1,
                "one park, one reschedule"
            );
            assert_eq!(sim.queued_now(), 0);
            let expected = if cancelled { e1 + EPOCH_ONE } else { e1 };
            assert_eq!(epoch, expected);
            assert!(!sim.ps.is_parked());
        });
    }

    /// A waiter from an earlier park never reschedules a later one: the task parks (epoch
    /// e1), is woken by one of two holders of its waiter, runs, and parks again (e2) with a
    /// new waiter; the slower holder of the e1 waiter may fire at any point and must not
    /// wake park e2, which only the e2 waiter ends.
    #[test]
    fn loom_stale_waiter_never_wakes_a_later_park() {
        model(|| {
            let sim = Sim::new();
            let e0 = sim.ps.begin_run().unwrap();
            let e1 = sim.ps.park(e0);
            let holders: Vec<_> = (0..2)
                .map(|_| {
                    let sim = sim.clone();
                    thread::spawn(move || sim.wake(e1))
                })
                .collect();
            assert_eq!(sim.run_next(), e1);
            let e2 = sim.ps.park(e1);
            assert_ne!(e2, e1);
            assert!(!sim.ps.is_parked_in(e1));
            let second = {
                let sim = sim.clone();
                thread::spawn(move || sim.wake(e2))
            };
            assert_eq!(sim.run_next(), e2);
            assert!(
                second.join().unwrap(),
                "park e2 was ended by a stale waiter"
            );
            let woken = holders
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|&w| w)
                .count();
            assert_eq!(woken, 1, "park e1 was rescheduled {woken} times");
            assert_eq!(sim.queued_now(), 0);
        });
    }

    /// The join hand-off with a green joiner: the joiner task sees its joinee unfinished,
    /// parks, and its worker registers the join waiter (a `Waiter::Task` for that park) with
    /// `set_join_waiter`; the joinee's runner (another thread) writes the result and calls
    /// `complete()`, whose wake goes through `Waiter::wake`. The joiner is rescheduled only
    /// after completion, exactly once, and reads the result (loom checks the result slot and
    /// the waiter slot for data races).
    #[test]
    fn loom_green_join_is_woken_after_complete() {
        use crate::task::body::Slot;
        use crate::task::cell::{CellRef, Header, TaskCell, TaskRef, TaskSched, Waiter};
        use crate::task::join::JoinHandle;
        model(|| {
            let joinee = CellRef::new(|| TaskCell {
                header: Header::new(None, false, TaskSched::new(None, None)),
                body: Slot::new(|| 42u32),
            });
            let joiner: TaskRef = CellRef::new(|| TaskCell {
                header: Header::new(None, false, TaskSched::new(None, None)),
                body: Slot::new(|| ()),
            })
            .into_task();
            let joinee_ref: TaskRef = joinee.clone().into_task();
            let runner = {
                let task: TaskRef = joinee.clone().into_task();
                thread::spawn(move || {
                    // SAFETY: this thread is the task's only runner.
                    unsafe { task.body.run() };
                    task.header.complete();
                })
            };
            let handle = JoinHandle::new(joinee.into_output());
            let ps = &joiner.header.sched.state;
            // The joiner's worker runs it; `JoinHandle::join`'s green path.
            let e0 = ps.begin_run().unwrap();
            if !handle.is_finished() {
                let e1 = ps.park(e0);
                let waiter = Waiter::Task {
                    task: joiner.clone(),
                    epoch: e1,
                };
                // SAFETY: the one join registration of this task.
                unsafe { joinee_ref.header.set_join_waiter(waiter) };
                // Until the wake reschedules it (`Scheduler::schedule` queues nothing for a task
                // without a runtime, so the worker watches the state).
                while !ps.is_scheduled_in(e1) {
                    thread::yield_now();
                }
                assert_eq!(ps.begin_run(), Some(e1));
                assert!(
                    handle.is_finished(),
                    "the joiner was woken before completion"
                );
            }
            assert_eq!(handle.join().unwrap(), 42);
            runner.join().unwrap();
            assert!(!ps.is_parked());
        });
    }
}
