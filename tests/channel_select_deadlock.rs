//! The deadlock report for `select`: a green select that can never complete is reported as
//! waiting in `select`, at the user's call site; a select over many channels is one blocked
//! task (it parks once, with no task per branch); and a select on a channel reachable from
//! outside the runtime is never reported.

mod support;

use std::time::Duration;

use spindle::channel::{bounded, select, unbounded, Select};
use spindle::{Builder, Runtime};
use support::{bounded as within, deadlock_report_of as report_of};

#[test]
fn a_select_that_can_never_fire_is_reported() {
    within(30, || {
        let msg = report_of(|| {
            let (_tx1, rx1) = unbounded::<u32>();
            let (tx2, _rx2) = bounded::<u32>(0);
            select! {
                recv(rx1) -> _ => {}
                send(tx2, 1) -> _ => {}
            }
        });
        assert!(msg.contains("task 'main'"), "{msg}");
        assert!(
            msg.contains("waits in select at tests/channel_select_deadlock.rs"),
            "{msg}"
        );
    });
}

/// Two tasks each select on channels only the other could serve, while being blocked.
#[test]
fn two_selects_waiting_on_each_other() {
    within(30, || {
        let msg = report_of(|| {
            let (ta, ra) = bounded::<u32>(0);
            let (tb, rb) = bounded::<u32>(0);
            let left = Builder::new()
                .name("left")
                .spawn(move || {
                    let _keep = tb; // would send on b, but waits on a first
                    select! { recv(ra) -> _ => {} }
                })
                .unwrap();
            let right = Builder::new()
                .name("right")
                .spawn(move || {
                    let _keep = ta;
                    let mut sel = Select::new();
                    sel.recv(&rb);
                    let _ = sel.select().recv(&rb);
                })
                .unwrap();
            left.join().unwrap();
            right.join().unwrap();
        });
        assert!(msg.contains("task 'left'"), "{msg}");
        assert!(msg.contains("task 'right'"), "{msg}");
        assert_eq!(msg.matches("waits in select").count(), 2, "{msg}");
    });
}

/// A select over 100 channels is one parked task, not one per branch.
#[test]
fn a_select_over_many_channels_is_one_blocked_task() {
    within(30, || {
        let msg = report_of(|| {
            let chans: Vec<_> = (0..100).map(|_| bounded::<u32>(0)).collect();
            let mut sel = Select::new();
            for (_, r) in &chans {
                sel.recv(r);
            }
            let _ = sel.select();
            unreachable!();
        });
        assert_eq!(msg.matches(" waits in ").count(), 1, "{msg}");
        assert!(msg.contains("task 'main' (#"), "{msg}");
        assert!(msg.contains("waits in select"), "{msg}");
    });
}

/// A channel made (or used) outside the runtime may be served from there: no report, and the
/// select completes when a plain thread sends.
#[test]
fn no_report_for_a_channel_reachable_from_outside() {
    within(60, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let (tx, rx) = bounded::<u32>(0);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(700));
            tx.send(3).unwrap();
        });
        let got = rt.block_on(move || {
            let (_idle_tx, idle) = unbounded::<u32>(); // made inside
            select! {
                recv(idle) -> _ => unreachable!(),
                recv(rx) -> m => m.unwrap(),
            }
        });
        assert_eq!(got, 3);
        t.join().unwrap();
        // Made inside, but used by a plain thread before the select waits.
        let (tx, rx) = rt.block_on(|| bounded::<u32>(0));
        let (touched_tx, touched) = std::sync::mpsc::channel();
        let t = std::thread::spawn(move || {
            assert!(tx.try_send(0).unwrap_err().is_full()); // nobody receives yet
            touched_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(700));
            tx.send(4).unwrap();
        });
        touched.recv().unwrap();
        let got = rt.block_on(move || select! { recv(rx) -> m => m.unwrap() });
        assert_eq!(got, 4);
        t.join().unwrap();
    });
}
