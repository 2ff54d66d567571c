//! The blocking pool: OS threads that run `spawn_blocking` calls so that a green thread can
//! wait for blocking work without stalling its worker.
//!
//! Threads are started on demand, up to a bound, and exit after sitting idle for
//! [`IDLE_TIMEOUT`]; the runtime joins the rest when it is dropped.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// A unit of blocking work.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// How long an idle blocking thread waits for work before it exits.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);

thread_local! {
    /// On a blocking thread, the address of its pool (0 elsewhere).
    static POOL_OF_THREAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Whether the calling thread is one of `pool`'s.
pub(crate) fn is_thread_of(pool: &BlockingPool) -> bool {
    POOL_OF_THREAD.with(|p| p.get()) == pool as *const BlockingPool as usize
}

/// The pool of one runtime.
pub(crate) struct BlockingPool {
    state: Mutex<State>,
    work: Condvar,
    max_threads: usize,
}

/// Everything under the pool's lock.
struct State {
    queue: VecDeque<Job>,
    /// Threads waiting for work.
    idle: usize,
    /// Threads alive.
    threads: usize,
    shutdown: bool,
    handles: Vec<thread::JoinHandle<()>>,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                idle: 0,
                threads: 0,
                shutdown: false,
                handles: Vec::new(),
            }),
            work: Condvar::new(),
            max_threads,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `job`, starting a thread for it if none is idle. Gives the job back if the
    /// pool is shut down or no thread can be started while none exists.
    pub(crate) fn submit(self: &Arc<BlockingPool>, job: Job) -> Result<(), Job> {
        let mut st = self.lock();
        if st.shutdown {
            return Err(job);
        }
        st.queue.push_back(job);
        if st.idle > 0 {
            self.work.notify_one();
            return Ok(());
        }
        if st.threads < self.max_threads {
            st.handles.retain(|h| !h.is_finished());
            let pool = self.clone();
            match thread::Builder::new()
                .name("spindle-blocking".into())
                .spawn(move || pool.thread_main())
            {
                Ok(h) => {
                    st.threads += 1;
                    st.handles.push(h);
                }
                Err(_) if st.threads == 0 => {
                    let job = st.queue.pop_back().expect("just pushed");
                    return Err(job);
                }
                // Existing threads will get to it.
                Err(_) => {}
            }
        }
        Ok(())
    }

    fn thread_main(&self) {
        POOL_OF_THREAD.with(|p| p.set(self as *const BlockingPool as usize));
        let mut st = self.lock();
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job();
                st = self.lock();
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let (g, timeout) = self
                .work
                .wait_timeout(st, IDLE_TIMEOUT)
                .unwrap_or_else(|e| e.into_inner());
            st = g;
            st.idle -= 1;
            if timeout.timed_out() && st.queue.is_empty() {
                break;
            }
        }
        st.threads -= 1;
    }

    /// Whether no job is queued or running.
    pub(crate) fn is_idle(&self) -> bool {
        let st = self.lock();
        st.queue.is_empty() && st.idle == st.threads
    }

    /// Stops the pool once its queue is drained and joins its threads.
    pub(crate) fn shutdown(&self) {
        let handles = {
            let mut st = self.lock();
            st.shutdown = true;
            self.work.notify_all();
            std::mem::take(&mut st.handles)
        };
        for h in handles {
            let _ = h.join();
        }
    }
}
