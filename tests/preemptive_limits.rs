//! Running out of OS threads on the preemptive backend is a clear error that says so and
//! names the limits, from `Builder::spawn` (and `spawn` panics with it); nothing crashes.
//! (The limit is provoked in a child process: `RLIMIT_AS` caps the address space, so a
//! thread with a large stack cannot be started.)

mod support;

use spindle::{Builder, Runtime};

const CHILD: &str = "SPINDLE_THREAD_LIMIT_CHILD";

/// The process's current virtual size in bytes.
fn vm_size() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmSize in /proc/self/status");
    kib * 1024
}

fn child() {
    let rt = Runtime::preemptive().build().unwrap();
    // Leave room for ordinary work, not for a 512 MiB thread stack.
    let cap = vm_size() + 128 * 1024 * 1024;
    let lim = libc::rlimit {
        rlim_cur: cap,
        rlim_max: cap,
    };
    // SAFETY: `lim` is a valid `rlimit`.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);
    let (err, small) = rt.block_on(|| {
        let err = Builder::new()
            .stack_size(512 * 1024 * 1024)
            .spawn(|| ())
            .expect_err("a 512 MiB stack cannot fit under the cap");
        // The runtime goes on: a task with an ordinary stack still starts.
        let small = spindle::spawn(|| 7).join().unwrap();
        (err.to_string(), small)
    });
    println!("error: {err}");
    assert!(err.contains("could not start an OS thread"), "{err}");
    assert!(err.contains("RLIMIT_NPROC"), "{err}");
    assert!(err.contains("kernel.threads-max"), "{err}");
    assert_eq!(small, 7);
}

#[test]
fn out_of_threads_is_an_error_that_names_the_limits() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let out = support::rerun_alone(
        "out_of_threads_is_an_error_that_names_the_limits",
        CHILD,
        60,
    );
    assert!(out
        .stdout
        .contains("error: the preemptive runtime could not start"));
}
