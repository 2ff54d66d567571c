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

/// What a child process left: its stderr and how it ended.
pub struct ChildOutput {
    pub stdout: String,
    pub stderr: String,
    pub status: std::process::ExitStatus,
}

/// Runs `cmd` to its end with its output captured, killing it and failing the test if it
/// has not ended within `secs` seconds: a child that hangs must fail, not stall CI. The
/// output goes to temporary files (no pipe to drain, no helper thread: this works even when
/// the process is out of memory maps, as the mprotect-fallback test leaves it).
#[track_caller]
pub fn output_within(mut cmd: std::process::Command, secs: u64) -> ChildOutput {
    use std::fs::File;
    use std::process::Stdio;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Instant;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let base = std::env::temp_dir().join(format!(
        "spindle-test-child-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let (out_path, err_path) = (base.with_extension("out"), base.with_extension("err"));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("create the child's stdout file"))
        .stderr(File::create(&err_path).expect("create the child's stderr file"))
        .spawn()
        .expect("start the child process");
    let read = |p: &std::path::Path| {
        let text = std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let _ = std::fs::remove_file(p);
        text
    };
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the child") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let _ = read(&out_path);
            let stderr = read(&err_path);
            panic!("child process did not end within {secs} s (killed); its stderr:\n{stderr}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    ChildOutput {
        stdout: read(&out_path),
        stderr: read(&err_path),
        status,
    }
}

/// Runs the test `name` of this test binary again, alone, in a child process with `env`
/// set to `1` (the test sees it and does its work), under a deadline of `secs` seconds;
/// fails unless the child's test passed. For tests that measure the process (maps, RSS,
/// threads, stderr) and must not share it with the other tests of their binary.
#[track_caller]
pub fn rerun_alone(name: &str, env: &str, secs: u64) -> ChildOutput {
    rerun_alone_with(name, env, &[], secs)
}

/// [`rerun_alone`], with more environment variables for the child.
#[track_caller]
pub fn rerun_alone_with(name: &str, env: &str, vars: &[(&str, &str)], secs: u64) -> ChildOutput {
    let mut cmd = std::process::Command::new(std::env::current_exe().expect("test binary"));
    cmd.args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, "1")
        .envs(vars.iter().copied());
    let out = output_within(cmd, secs);
    assert!(
        out.status.success() && out.stdout.contains("1 passed"),
        "child {name}: {}\n{}\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    out
}

/// Runs `f` on a fresh 2-worker cooperative runtime and returns the deadlock report it must
/// end in; checks that the runtime survives its deadlock (the blocked tasks were cancelled).
pub fn deadlock_report_of(f: impl FnOnce() + Send + 'static) -> String {
    let rt = Runtime::cooperative().workers(2).build().unwrap();
    let err = panic::catch_unwind(AssertUnwindSafe(|| rt.block_on(f)))
        .expect_err("expected a deadlock report");
    let msg = panic_message(&*err);
    assert!(msg.starts_with("deadlock:"), "{msg}");
    assert_eq!(rt.block_on(|| spindle::spawn(|| 5).join().unwrap()), 5);
    msg
}
