//! Sockets in green threads (parked on the worker's reactor), in preemptive tasks and on
//! plain threads: echo, many connections on one worker, timeouts, errors, half-close, UDP.

mod support;

use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use spindle::net::{TcpListener, TcpStream, UdpSocket};
use spindle::{spawn, Runtime};
use support::{bounded, runtimes};

/// An echo server for `conns` connections of `msgs` 64-byte messages, and as many clients.
fn echo_round(conns: usize, msgs: usize) -> usize {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = spawn(move || {
        let hs: Vec<_> = (0..conns)
            .map(|_| {
                let (mut s, _) = listener.accept().unwrap();
                spawn(move || {
                    let mut buf = [0u8; 64];
                    loop {
                        match s.read_exact(&mut buf) {
                            Ok(()) => s.write_all(&buf).unwrap(),
                            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return,
                            Err(e) => panic!("server read: {e}"),
                        }
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
    });
    let clients: Vec<_> = (0..conns)
        .map(|c| {
            spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                let mut ok = 0;
                for m in 0..msgs {
                    let msg = [(c + m) as u8; 64];
                    s.write_all(&msg).unwrap();
                    let mut back = [0u8; 64];
                    s.read_exact(&mut back).unwrap();
                    if back == msg {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let ok = clients.into_iter().map(|h| h.join().unwrap()).sum();
    server.join().unwrap();
    ok
}

#[test]
fn echo_on_every_backend() {
    bounded(60, || {
        for (name, rt) in runtimes() {
            let ok = rt.block_on(|| echo_round(20, 50));
            assert_eq!(ok, 20 * 50, "{name}");
        }
    });
}

#[test]
fn five_hundred_connections_on_one_worker() {
    bounded(60, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        assert_eq!(rt.block_on(|| echo_round(500, 4)), 2000);
    });
}

#[test]
fn read_timeout_in_a_green_thread_does_not_block_the_worker() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(1).build().unwrap();
        let (err, progress) = rt.block_on(|| {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let ticks = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let ticker = {
                let (ticks, stop) = (ticks.clone(), stop.clone());
                spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        spindle::sleep(Duration::from_millis(5));
                        ticks.fetch_add(1, Ordering::SeqCst);
                    }
                })
            };
            let mut s = TcpStream::connect(addr).unwrap();
            let _peer = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            // The ticker is in its loop, parked in a 5 ms sleep that ends before the read's
            // 100 ms timeout: on this one worker it can only tick while the read waits if
            // the read parks the task rather than blocking the worker's thread.
            while ticks.load(Ordering::SeqCst) == 0 {
                spindle::sleep(Duration::from_millis(1));
            }
            let before = ticks.load(Ordering::SeqCst);
            let t = Instant::now();
            let err = s.read(&mut [0; 8]).unwrap_err();
            let progress = ticks.load(Ordering::SeqCst) - before;
            assert!(t.elapsed() >= Duration::from_millis(100));
            stop.store(true, Ordering::SeqCst);
            ticker.join().unwrap();
            (err.kind(), progress)
        });
        assert_eq!(err, ErrorKind::TimedOut);
        assert!(
            progress >= 1,
            "the other task made no progress while the read waited: the worker was blocked"
        );
    });
}

#[test]
fn os_errors_keep_their_kinds() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            rt.block_on(move || {
                // Refused.
                let free = std::net::TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap();
                let e = TcpStream::connect(free).unwrap_err();
                assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{name}");
                // Reset: the peer closes with unread data (RST), our next read fails.
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let mut c = TcpStream::connect(addr).unwrap();
                let (s, _) = listener.accept().unwrap();
                c.write_all(b"unread").unwrap();
                spindle::sleep(Duration::from_millis(20));
                drop(s); // closes with unread data: RST
                spindle::sleep(Duration::from_millis(20));
                let mut buf = [0; 16];
                let r = c
                    .read(&mut buf)
                    .and_then(|_| c.write_all(&[0; 1024]))
                    .and_then(|_| c.read(&mut buf));
                let e = r.expect_err("a reset connection must give an error");
                assert!(
                    matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe),
                    "{name}: {e:?}"
                );
                // Zero timeouts are errors, as in std.
                assert_eq!(
                    c.set_read_timeout(Some(Duration::ZERO)).unwrap_err().kind(),
                    ErrorKind::InvalidInput
                );
                assert_eq!(
                    TcpStream::connect_timeout(&addr, Duration::ZERO)
                        .unwrap_err()
                        .kind(),
                    ErrorKind::InvalidInput
                );
            });
        }
    });
}

#[test]
fn half_close_still_gets_the_full_response() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let got = rt.block_on(|| {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let server = spawn(move || {
                    let (mut s, _) = listener.accept().unwrap();
                    let mut req = Vec::new();
                    s.read_to_end(&mut req).unwrap(); // until the client's FIN
                    let reply: Vec<u8> = req.iter().rev().cycle().take(200_000).copied().collect();
                    s.write_all(&reply).unwrap();
                });
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(b"abc").unwrap();
                c.shutdown(Shutdown::Write).unwrap();
                let mut resp = Vec::new();
                c.read_to_end(&mut resp).unwrap();
                server.join().unwrap();
                resp
            });
            assert_eq!(got.len(), 200_000, "{name}");
            assert_eq!(&got[..6], b"cbacba", "{name}");
        }
    });
}

#[test]
fn udp_in_green_threads_and_timeouts() {
    bounded(30, || {
        for (name, rt) in runtimes() {
            let got = rt.block_on(|| {
                let a = UdpSocket::bind("127.0.0.1:0").unwrap();
                let b = UdpSocket::bind("127.0.0.1:0").unwrap();
                let b_addr = b.local_addr().unwrap();
                let receiver = spawn(move || {
                    let mut buf = [0u8; 16];
                    let mut got = Vec::new();
                    for _ in 0..10 {
                        let (n, _) = b.recv_from(&mut buf).unwrap();
                        got.push(buf[..n].to_vec());
                    }
                    b.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
                    let e = b.recv_from(&mut buf).unwrap_err();
                    assert_eq!(e.kind(), ErrorKind::TimedOut);
                    got
                });
                for i in 0..10u8 {
                    spindle::sleep(Duration::from_millis(1));
                    a.send_to(&[i; 3], b_addr).unwrap();
                }
                receiver.join().unwrap()
            });
            assert_eq!(got.len(), 10, "{name}");
            assert_eq!(got[9], vec![9, 9, 9], "{name}");
        }
    });
}

#[test]
fn a_plain_thread_client_talks_to_a_green_server() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let client = std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.write_all(b"ping").unwrap();
            let mut buf = [0; 4];
            s.read_exact(&mut buf).unwrap();
            buf
        });
        rt.block_on(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0; 4];
            s.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"ping");
            s.write_all(b"pong").unwrap();
        });
        assert_eq!(&client.join().unwrap(), b"pong");
    });
}
