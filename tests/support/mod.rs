//! Helpers shared by the integration tests: time bounds and the runtimes to test on.
#![allow(dead_code)]

use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use spindle::Runtime;

/// Runs `f` on its own thread and fails the test if it takes longer than `secs` seconds: a
/// hang must fail, not stall CI. A panic in `f` is re-raised here.
#[track_caller]
pub fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let h = thread::Builder::new()
        .name("bounded-test-body".into())
        .spawn(move || {
            let r = panic::catch_unwind(AssertUnwindSafe(f));
            let _ = tx.send(r);
        })
        .expect("spawn test thread");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => {
            let _ = h.join();
            v
        }
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(_) => panic!("test did not finish within {secs} s (hang?)"),
    }
}

/// Every backend configuration the behaviour tests run on.
pub fn runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "cooperative/1",
            Runtime::cooperative().workers(1).build().unwrap(),
        ),
        (
            "cooperative/2",
            Runtime::cooperative().workers(2).build().unwrap(),
        ),
        ("preemptive", Runtime::preemptive().build().unwrap()),
    ]
}

/// The panic message carried by a payload, if it is a string.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string payload>")
    }
}
