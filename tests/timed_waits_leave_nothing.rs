//! Timed waits leave nothing behind, and sockets follow the green threads that use them.
//!
//! * Every timed wait — a socket read with a timeout, `recv_timeout`, `send_timeout`, a
//!   select with a timeout, `Queue::get_timeout`, `Semaphore::acquire_timeout`,
//!   `Condvar::wait_timeout`, `Event::wait_timeout` — many times over, in green threads: some
//!   time out, some are ended early by another task (their timer's deadline is an hour
//!   away). Nothing may stay behind: neither the waiter in the primitive's (or the socket's)
//!   list nor the timer in the worker's heap. Checked by the process's RSS (flat within
//!   10 MiB between the first and the last tenth) and by the tasks being freed: each returns
//!   a value nobody joins, which is dropped only when the last reference to the task goes.
//!   These tests measure the process, so each runs again alone in a child process.
//! * A socket used in a green thread of a runtime, then in one of another runtime — after
//!   the first was dropped, or while the first one's worker is busy — still wakes its readers;
//!   and sockets read and written at once by tasks on two workers (so that each wait moves
//!   the socket's registration while the other task is parked on it) lose no wake-up.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use spindle::channel::{self, Receiver, Select, Sender};
use spindle::net::TcpStream;
use spindle::queue::Queue;
use spindle::sync::{Condvar, Event, Mutex, Semaphore};
use spindle::{spawn, Runtime};
use support::{bounded, rerun_alone};

/// Set in the child process that does a measuring test's work.
const ALONE: &str = "SPINDLE_TIMED_WAITS_ALONE";

/// The timeout of the waits that time out: long enough that every wait parks (the deadline
/// has not passed when it registers), short enough to run many.
const SHORT: Duration = Duration::from_millis(1);

/// The timeout of the waits another task ends early: far beyond the test.
const LONG: Duration = Duration::from_secs(3600);

/// RSS may not grow more than this between the first tenth and the end.
const RSS_SLACK: usize = 10 << 20;

/// How many waits, in how many tasks: `ROUNDS` rounds of `tasks` tasks at once, each making
/// `timeouts` waits that time out and `early` waits that another task ends early.
#[derive(Clone, Copy)]
struct Plan {
    tasks: usize,
    timeouts: usize,
    early: usize,
}

const ROUNDS: usize = 10;

/// 100,000 timeouts and 10,000 early ends by default: about 1.5 s each in a debug build.
/// `SPINDLE_TIMED_WAITS_PER_TASK=1000` makes it 1,000,000 timeouts per primitive (about 15 s
/// each), which `.ci/run` runs; the socket reads always do 1,000,000, in about 5 s.
fn primitive_plan() -> Plan {
    let timeouts = std::env::var("SPINDLE_TIMED_WAITS_PER_TASK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    Plan {
        tasks: 100,
        timeouts,
        early: 10,
    }
}

/// 1,000,000 timed-out reads.
const SOCKET: Plan = Plan {
    tasks: 500,
    timeouts: 200,
    early: 4,
};

/// Bumps a counter when dropped: the result of each task, never joined, so it goes only when
/// the task's last reference does.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Tells the test a task has ended, and whether it succeeded (also when it panics).
struct Done(Sender<bool>);

impl Drop for Done {
    fn drop(&mut self) {
        let _ = self.0.send(!thread::panicking());
    }
}

/// The process's resident set in bytes (`/proc/self/statm`, in pages).
fn rss_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("statm's resident field");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
    pages * page
}

/// Runs `body` in this process if it is the child of [`rerun_alone`], else runs the test
/// `name` again, alone, in a child process.
fn alone(name: &str, body: impl FnOnce()) {
    if std::env::var_os(ALONE).is_some() {
        body();
    } else {
        let out = rerun_alone(name, ALONE, 600);
        for line in out
            .stderr
            .lines()
            .filter(|l| l.starts_with("leaves nothing"))
        {
            eprintln!("{line}");
        }
    }
}

/// The measuring test of one kind of timed wait: on a one-worker runtime, `ROUNDS` rounds of
/// `plan.tasks` tasks at once, each calling `timed_out` (a wait on `p` that must time out)
/// `plan.timeouts` times and `early` (a wait on `p` that another task ends long before its
/// deadline) `plan.early` times, and returning a [`Counted`] that nobody joins. Then checks
/// that RSS stayed flat and that every task was freed, while `p` and the runtime are alive.
fn leaves_nothing<P: Send + Sync + 'static>(
    what: &'static str,
    plan: Plan,
    p: P,
    timed_out: fn(&P),
    early: fn(&Arc<P>),
) {
    bounded(480, move || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let freed = Arc::new(AtomicUsize::new(0));
        let total = ROUNDS * plan.tasks;
        let f = freed.clone();
        let started = Instant::now();
        let (first, last, freed_then) = rt.block_on(move || {
            let p = Arc::new(p);
            let (done_tx, done_rx) = channel::unbounded::<bool>();
            let mut rss = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                for _ in 0..plan.tasks {
                    let (p, f, done) = (p.clone(), f.clone(), done_tx.clone());
                    // Detached: its result stays in the task until the task is freed.
                    drop(spawn(move || {
                        let _done = Done(done);
                        for _ in 0..plan.timeouts {
                            timed_out(&p);
                        }
                        for _ in 0..plan.early {
                            early(&p);
                        }
                        Counted(f)
                    }));
                }
                for _ in 0..plan.tasks {
                    assert!(done_rx.recv().unwrap(), "{what}: a task failed");
                }
                rss.push(rss_bytes());
            }
            // Every task has ended; each is freed once its worker lets go of it, unless a
            // waiter or a timer still holds it.
            let deadline = Instant::now() + Duration::from_secs(10);
            while f.load(Ordering::SeqCst) < total && Instant::now() < deadline {
                spindle::sleep(Duration::from_millis(10));
            }
            let freed_then = f.load(Ordering::SeqCst);
            drop(p);
            (rss[0], rss[ROUNDS - 1], freed_then)
        });
        eprintln!(
            "leaves nothing: {what}: {} timeouts and {} early ends in {total} tasks, {:.1} s; \
             RSS after the first tenth {} KiB, at the end {} KiB; tasks freed {freed_then}/{total}",
            ROUNDS * plan.tasks * plan.timeouts,
            ROUNDS * plan.tasks * plan.early,
            started.elapsed().as_secs_f64(),
            first >> 10,
            last >> 10,
        );
        assert!(
            last <= first + RSS_SLACK,
            "{what}: RSS grew from {} KiB to {} KiB",
            first >> 10,
            last >> 10
        );
        assert_eq!(
            freed_then, total,
            "{what}: tasks still held (by a waiter or a timer) after they ended"
        );
        drop(rt);
    });
}

/// A connected pair: our socket and the peer's std one.
fn tcp_pair() -> (TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ours = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (peer, _) = listener.accept().unwrap();
    (TcpStream::from_std(ours).unwrap(), peer)
}

/// An idle socket whose reads time out, and a fed one whose reads get a byte the helper
/// writes.
struct Sockets {
    idle: TcpStream,
    _idle_peer: std::net::TcpStream,
    fed: TcpStream,
    fed_peer: std::net::TcpStream,
}

#[test]
fn timed_out_socket_reads_leave_nothing() {
    alone("timed_out_socket_reads_leave_nothing", || {
        let (idle, _idle_peer) = tcp_pair();
        idle.set_read_timeout(Some(SHORT)).unwrap();
        let (fed, fed_peer) = tcp_pair();
        fed.set_read_timeout(Some(LONG)).unwrap();
        let sockets = Sockets {
            idle,
            _idle_peer,
            fed,
            fed_peer,
        };
        leaves_nothing(
            "socket read",
            SOCKET,
            sockets,
            |s| {
                let err = (&s.idle).read(&mut [0; 8]).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::TimedOut);
            },
            |s| {
                let s2 = s.clone();
                let h = spawn(move || (&s2.fed_peer).write_all(&[7]).unwrap());
                let mut b = [0; 1];
                (&s.fed).read_exact(&mut b).unwrap();
                assert_eq!(b, [7]);
                h.join().unwrap();
            },
        );
    });
}

/// An empty channel (its sender kept) and one the helpers send on.
struct Chans {
    idle_tx: Sender<u8>,
    idle_rx: Receiver<u8>,
    fed_tx: Sender<u8>,
    fed_rx: Receiver<u8>,
}

fn chans() -> Chans {
    let (idle_tx, idle_rx) = channel::unbounded();
    let (fed_tx, fed_rx) = channel::unbounded();
    Chans {
        idle_tx,
        idle_rx,
        fed_tx,
        fed_rx,
    }
}

#[test]
fn recv_timeout_leaves_nothing() {
    alone("recv_timeout_leaves_nothing", || {
        leaves_nothing(
            "Receiver::recv_timeout",
            primitive_plan(),
            chans(),
            |c| assert!(c.idle_rx.recv_timeout(SHORT).unwrap_err().is_timeout()),
            |c| {
                let c2 = c.clone();
                let h = spawn(move || c2.fed_tx.send(1).unwrap());
                assert_eq!(c.fed_rx.recv_timeout(LONG), Ok(1));
                h.join().unwrap();
            },
        );
    });
}

#[test]
fn select_timeout_leaves_nothing() {
    alone("select_timeout_leaves_nothing", || {
        leaves_nothing(
            "Select::select_timeout",
            primitive_plan(),
            chans(),
            |c| {
                let mut sel = Select::new();
                sel.recv(&c.idle_rx);
                assert!(sel.select_timeout(SHORT).is_err());
            },
            |c| {
                let c2 = c.clone();
                let h = spawn(move || c2.fed_tx.send(1).unwrap());
                let mut sel = Select::new();
                sel.recv(&c.fed_rx);
                let op = sel.select_timeout(LONG).expect("the helper sends");
                assert_eq!(op.recv(&c.fed_rx), Ok(1));
                h.join().unwrap();
            },
        );
    });
}

/// Two full one-slot channels: one nobody receives from, one the helpers receive from.
#[test]
fn send_timeout_leaves_nothing() {
    alone("send_timeout_leaves_nothing", || {
        let (idle_tx, idle_rx) = channel::bounded(1);
        idle_tx.send(0).unwrap();
        let (fed_tx, fed_rx) = channel::bounded(1);
        fed_tx.send(0).unwrap();
        let c = Chans {
            idle_tx,
            idle_rx,
            fed_tx,
            fed_rx,
        };
        leaves_nothing(
            "Sender::send_timeout",
            primitive_plan(),
            c,
            |c| assert!(c.idle_tx.send_timeout(1, SHORT).unwrap_err().is_timeout()),
            |c| {
                let c2 = c.clone();
                let h = spawn(move || c2.fed_rx.recv().unwrap());
                c.fed_tx.send_timeout(1, LONG).unwrap();
                h.join().unwrap();
            },
        );
    });
}

#[test]
fn queue_get_timeout_leaves_nothing() {
    alone("queue_get_timeout_leaves_nothing", || {
        leaves_nothing(
            "Queue::get_timeout",
            primitive_plan(),
            (Queue::<u8>::unbounded(), Queue::<u8>::unbounded()),
            |(idle, _)| assert!(idle.get_timeout(SHORT).is_err()),
            |q| {
                let q2 = q.clone();
                let h = spawn(move || q2.1.put(1));
                assert_eq!(q.1.get_timeout(LONG).ok(), Some(1));
                h.join().unwrap();
            },
        );
    });
}

#[test]
fn acquire_timeout_leaves_nothing() {
    alone("acquire_timeout_leaves_nothing", || {
        leaves_nothing(
            "Semaphore::acquire_timeout",
            primitive_plan(),
            (Semaphore::new(0), Semaphore::new(0)),
            |(idle, _)| assert!(idle.acquire_timeout(SHORT).is_none()),
            |s| {
                let s2 = s.clone();
                let h = spawn(move || s2.1.release());
                s.1.acquire_timeout(LONG)
                    .expect("the helper releases")
                    .forget();
                h.join().unwrap();
            },
        );
    });
}

#[test]
fn condvar_wait_timeout_leaves_nothing() {
    alone("condvar_wait_timeout_leaves_nothing", || {
        leaves_nothing(
            "Condvar::wait_timeout",
            primitive_plan(),
            [
                (Mutex::new(()), Condvar::new()),
                (Mutex::new(()), Condvar::new()),
            ],
            |[(m, cv), _]| {
                let (_g, timed_out) = cv.wait_timeout(m.lock(), SHORT);
                assert!(timed_out);
            },
            |p| {
                let p2 = p.clone();
                // Takes the mutex first: it is ours until our wait is queued (and handed over
                // in order), so the notification cannot come before the wait.
                let h = spawn(move || {
                    let (m, cv) = &p2[1];
                    let _g = m.lock();
                    cv.notify_one();
                });
                let (m, cv) = &p[1];
                let (g, timed_out) = cv.wait_timeout(m.lock(), LONG);
                assert!(!timed_out);
                drop(g);
                h.join().unwrap();
            },
        );
    });
}

#[test]
fn event_wait_timeout_leaves_nothing() {
    alone("event_wait_timeout_leaves_nothing", || {
        leaves_nothing(
            "Event::wait_timeout",
            primitive_plan(),
            (Event::new(), Event::new()),
            |(idle, _)| assert!(!idle.wait_timeout(SHORT)),
            |e| {
                let e2 = e.clone();
                let h = spawn(move || e2.1.set());
                assert!(e.1.wait_timeout(LONG));
                e.1.clear();
                h.join().unwrap();
            },
        );
    });
}

/// Reads one byte that a plain thread writes `delay` from now, so the read parks first.
fn read_later(sock: &TcpStream, peer: &std::net::TcpStream, byte: u8, delay: Duration) {
    let mut peer = peer.try_clone().unwrap();
    let writer = thread::spawn(move || {
        thread::sleep(delay);
        peer.write_all(&[byte]).unwrap();
    });
    let mut b = [0; 1];
    (&*sock).read_exact(&mut b).unwrap();
    assert_eq!(b, [byte]);
    writer.join().unwrap();
}

#[test]
fn a_socket_outlives_the_runtime_it_was_first_used_in() {
    bounded(60, || {
        let (sock, peer) = tcp_pair();
        let (sock, peer) = (Arc::new(sock), Arc::new(peer));
        // Each runtime is dropped before the next uses the socket.
        for (round, workers) in [1, 2, 1, 2].into_iter().enumerate() {
            let rt = Runtime::cooperative().workers(workers).build().unwrap();
            let (s, p) = (sock.clone(), peer.clone());
            rt.block_on(move || {
                for i in 0..3 {
                    read_later(&s, &p, (round * 3 + i) as u8, Duration::from_millis(30));
                }
            });
            drop(rt);
        }
    });
}

#[test]
fn a_socket_alternates_between_two_live_runtimes() {
    bounded(60, || {
        let (sock, peer) = tcp_pair();
        let (sock, peer) = (Arc::new(sock), Arc::new(peer));
        // Turns pass between the two runtimes over plain channels. A runtime waiting for its
        // turn blocks its one worker's thread: it is busy, and polls nothing, while the other
        // runtime reads.
        let (to_a, a_turn) = mpsc::channel::<()>();
        let (to_b, b_turn) = mpsc::channel::<()>();
        let rounds = 4;
        let player =
            |name: &'static str, turn: mpsc::Receiver<()>, next: mpsc::Sender<()>, first: u8| {
                let (s, p) = (sock.clone(), peer.clone());
                thread::spawn(move || {
                    let rt = Runtime::cooperative()
                        .workers(1)
                        .stall_threshold(Duration::ZERO)
                        .build()
                        .unwrap();
                    rt.block_on(move || {
                        for r in 0..rounds {
                            turn.recv().unwrap();
                            read_later(&s, &p, first + 2 * r, Duration::from_millis(30));
                            let _ = next.send(());
                        }
                    });
                    name
                })
            };
        let a = player("a", a_turn, to_b, 0);
        let b = player("b", b_turn, to_a.clone(), 1);
        to_a.send(()).unwrap();
        assert_eq!(a.join().unwrap(), "a");
        assert_eq!(b.join().unwrap(), "b");
    });
}

#[test]
fn a_socket_waited_on_from_two_workers_at_once_loses_no_wake_up() {
    bounded(120, || {
        // Each socket has a reader and a writer task, spawned apart so that they tend to run
        // on different workers: when both wait (the peer's buffer full, nothing to read),
        // each wait moves the socket to its own worker while the other is parked on it.
        const BYTES: usize = 16 << 20;
        const PAIRS: usize = 16;
        // Byte `o` of each stream is `o % 251`; a chunk is a whole number of periods.
        let pattern: Arc<Vec<u8>> = Arc::new((0..251 * 262).map(|i| (i % 251) as u8).collect());
        let chunk = 251 * 261;
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let moved = rt.block_on(move || {
            let mut hs = Vec::new();
            for _ in 0..PAIRS {
                let (a, b) = tcp_pair();
                let b = TcpStream::from_std(b).unwrap();
                // Small buffers: both sides wait often.
                small_buffers(&a);
                small_buffers(&b);
                let (a, b) = (Arc::new(a), Arc::new(b));
                for (from, to) in [(a.clone(), b.clone()), (b, a)] {
                    let p = pattern.clone();
                    hs.push(spawn(move || {
                        let mut sent = 0;
                        while sent < BYTES {
                            let n = chunk.min(BYTES - sent);
                            (&*from).write_all(&p[..n]).unwrap();
                            sent += n;
                        }
                        sent
                    }));
                    let p = pattern.clone();
                    hs.push(spawn(move || {
                        let mut buf = vec![0u8; chunk];
                        let mut got = 0;
                        while got < BYTES {
                            let n = (&*to).read(&mut buf).unwrap();
                            assert!(n > 0, "early end of stream");
                            let at = got % 251;
                            assert!(buf[..n] == p[at..at + n], "corrupt stream");
                            got += n;
                        }
                        got
                    }));
                }
            }
            hs.into_iter().map(|h| h.join().unwrap()).sum::<usize>()
        });
        assert_eq!(moved, 2 * PAIRS * 2 * BYTES);
    });
}

/// Shrinks a socket's kernel buffers to 32 KiB (much less stalls loopback TCP itself).
fn small_buffers(s: &TcpStream) {
    use std::os::fd::AsRawFd;
    let size: libc::c_int = 32 << 10;
    for opt in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        // SAFETY: a valid descriptor, and a pointer to a c_int of the size passed.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "setsockopt: {}", std::io::Error::last_os_error());
    }
}
