//! Every example runs, with small sizes, and prints its lesson.
//!
//! Each test runs one example binary (`target/<profile>/examples/NAME`, built once by this
//! file with `cargo build --example ...` in the same target directory and profile: a no-op
//! after `cargo test`, which builds the examples itself, and what makes
//! `cargo test --test examples_run` work alone) under a deadline that kills it and fails, with
//! `SPINDLE_EXAMPLE_SMALL=1` set, and checks the lines of its output that show what it
//! teaches. No check depends on timing: only on orders that the cooperative runtime with one
//! worker guarantees, and on counts.
//!
//! `every_example_is_covered` lists `examples/*.rs` and `examples/*/main.rs` and fails when
//! an example is neither run here ([`RUN_HERE`]) nor named in [`COVERED_ELSEWHERE`], so that
//! a new example cannot be forgotten.

mod support;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use support::output_within;

/// The examples the tests of this file run.
const RUN_HERE: &[&str] = &[
    "broadcast",
    "coroutine_send",
    "daemon",
    "deadlock",
    "echo_server",
    "explore_race",
    "hand_scheduler",
    "hello_threads",
    "integrate",
    "lock_stdout",
    "pipe",
    "pool",
    "prime_factors",
    "priority_queue",
    "queue_ord",
    "race",
    "semaphore",
    "thread_pool",
    "thread_subclass",
    "web_clients",
    "web_server",
];

/// Examples tested elsewhere, and where.
const COVERED_ELSEWHERE: &[(&str, &str)] = &[("compare", "tests/compare_cli.rs")];

/// How long one example may run before it is killed and its test fails: far beyond what any
/// takes (the slowest, `race`, runs 4-7 s in a debug build on a busy 2-core machine; the
/// whole file about 10 s).
const DEADLINE_S: u64 = 120;
/// How long building the examples may take (from scratch, in a debug build, about a minute).
const BUILD_DEADLINE_S: u64 = 900;

/// The crate's root.
fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds every example of [`RUN_HERE`] once, in this test binary's target directory and
/// profile; returns the directory the example binaries are in.
fn examples_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        // This binary is <target>/<profile>/deps/examples_run-HASH.
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .ok_or_else(|| format!("no profile directory above {}", exe.display()))?;
        let target_dir = profile_dir
            .parent()
            .ok_or_else(|| format!("no target directory above {}", profile_dir.display()))?;
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("odd profile directory {}", profile_dir.display()))?;

        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(manifest_dir())
            .arg("build")
            .arg("--manifest-path")
            .arg(manifest_dir().join("Cargo.toml"))
            .arg("--target-dir")
            .arg(target_dir);
        match profile {
            "debug" => {}
            "release" => {
                cmd.arg("--release");
            }
            other => {
                cmd.args(["--profile", other]);
            }
        }
        for name in RUN_HERE {
            cmd.args(["--example", name]);
        }
        let out = output_within(cmd, BUILD_DEADLINE_S);
        if !out.status.success() {
            return Err(format!(
                "building the examples failed ({}):\n{}",
                out.status, out.stderr
            ));
        }
        Ok(profile_dir.join("examples"))
    });
    match dir {
        Ok(dir) => dir,
        Err(e) => panic!("{e}"),
    }
}

/// The command that runs example `name` with small sizes.
fn example(name: &str) -> Command {
    assert!(
        RUN_HERE.contains(&name),
        "{name} is not in RUN_HERE, so it is not built"
    );
    let mut cmd = Command::new(examples_dir().join(name));
    cmd.current_dir(manifest_dir())
        .env("SPINDLE_EXAMPLE_SMALL", "1");
    cmd
}

/// Runs example `name` with `args` to its end, within [`DEADLINE_S`]; fails unless it exits
/// with success; returns its stdout.
#[track_caller]
fn run(name: &str, args: &[&str]) -> String {
    let mut cmd = example(name);
    cmd.args(args);
    let out = output_within(cmd, DEADLINE_S);
    assert!(
        out.status.success(),
        "example {name} {args:?} failed ({}).\nstdout:\n{}\nstderr:\n{}",
        out.status,
        out.stdout,
        out.stderr
    );
    out.stdout
}

/// The text of `out` from the line that starts with `from` (excluded) to the next line that
/// starts with `to` (excluded), or to the end if `to` is `None`.
#[track_caller]
fn section<'a>(out: &'a str, from: &str, to: Option<&str>) -> &'a str {
    let start = out
        .find(from)
        .unwrap_or_else(|| panic!("no {from:?} in:\n{out}"));
    let rest = &out[start..];
    let rest = rest.split_once('\n').map_or("", |(_, r)| r);
    match to {
        Some(to) => match rest.find(to) {
            Some(end) => &rest[..end],
            None => panic!("no {to:?} after {from:?} in:\n{out}"),
        },
        None => rest,
    }
}

/// Fails, showing the whole output, unless `out` contains `needle`.
#[track_caller]
fn expect(out: &str, needle: &str) {
    assert!(out.contains(needle), "no {needle:?} in:\n{out}");
}

/// The lines of `text` that contain `needle`, trimmed.
fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::trim)
        .collect()
}

/// The numbers `X` and `Y` of a line that says `expected X, got Y`.
#[track_caller]
fn expected_got(line: &str) -> (u64, u64) {
    let number = |key: &str| -> u64 {
        let at = line
            .find(key)
            .unwrap_or_else(|| panic!("no {key:?} in {line:?}"));
        line[at + key.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap_or_else(|e| panic!("no number after {key:?} in {line:?}: {e}"))
    };
    (number("expected "), number("got "))
}

// ---------------------------------------------------------------------------------------
// Coverage

/// The names of the examples in `examples/`: `NAME.rs` files and `NAME/main.rs` folders.
fn discovered_examples() -> BTreeSet<String> {
    let dir = manifest_dir().join("examples");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("read examples/") {
        let path = entry.expect("read examples/").path();
        let name = path.file_stem().and_then(|s| s.to_str()).map(String::from);
        let Some(name) = name else { continue };
        if path.is_dir() {
            if path.join("main.rs").is_file() {
                names.insert(name);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            names.insert(name);
        }
    }
    names
}

#[test]
fn every_example_is_covered() {
    let found = discovered_examples();
    let elsewhere: BTreeSet<&str> = COVERED_ELSEWHERE.iter().map(|&(n, _)| n).collect();
    let forgotten: Vec<&String> = found
        .iter()
        .filter(|n| !RUN_HERE.contains(&n.as_str()) && !elsewhere.contains(n.as_str()))
        .collect();
    assert!(
        forgotten.is_empty(),
        "examples that no test runs: {forgotten:?}; add a test to tests/examples_run.rs (and \
         the name to RUN_HERE), or name the test that covers it in COVERED_ELSEWHERE"
    );
    let gone: Vec<&&str> = RUN_HERE.iter().filter(|n| !found.contains(**n)).collect();
    assert!(gone.is_empty(), "RUN_HERE names missing examples: {gone:?}");
    for (name, test) in COVERED_ELSEWHERE {
        if found.contains(*name) {
            assert!(
                manifest_dir().join(test).is_file(),
                "example {name} is said to be covered by {test}, which does not exist"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// CPU-bound: integrate, prime_factors

/// The rows of the table that integrate and prime_factors print: one per variant.
fn variant_rows(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            ["sequential", "cooperative, ", "preemptive"]
                .iter()
                .any(|v| l.starts_with(v))
        })
        .collect()
}

/// Checks that the table has the four variants and that each agrees with the sequential run.
#[track_caller]
fn check_variants(out: &str) {
    let rows = variant_rows(out);
    assert_eq!(rows.len(), 4, "4 variants in:\n{out}");
    for (row, variant) in rows.iter().zip([
        "sequential",
        "cooperative, 1 worker",
        "cooperative, ",
        "preemptive",
    ]) {
        assert!(
            row.starts_with(variant),
            "{variant:?} expected, got {row:?} in:\n{out}"
        );
        assert!(
            row.trim_end().ends_with("yes"),
            "a variant disagrees: {row:?} in:\n{out}"
        );
    }
}

#[test]
fn integrate() {
    let out = run("integrate", &["0", "10", "1000000", "4"]);
    expect(&out, "N = 1000000, 4 chunks");
    check_variants(&out);
    // The left Riemann sum of x² over [0, 10] with a million points: about 1000/3.
    let sequential: f64 = variant_rows(&out)[0]
        .split_whitespace()
        .nth(1)
        .and_then(|r| r.parse().ok())
        .unwrap_or_else(|| panic!("no result in the sequential row of:\n{out}"));
    assert!(
        (sequential - 1000.0 / 3.0).abs() < 0.01,
        "sequential result {sequential}"
    );
}

#[test]
fn prime_factors() {
    let out = run("prime_factors", &[]);
    // The small numbers: a prime, and a product of two primes.
    expect(&out, "99999999977 = 99999999977");
    expect(&out, "90007200119 = 300007 × 300017");
    assert_eq!(
        lines_with(&out, " = ").len(),
        16,
        "16 factorisations in:\n{out}"
    );
    check_variants(&out);
}

// ---------------------------------------------------------------------------------------
// Threads: hello_threads, daemon, thread_subclass

/// The names in the `hello from thread NAME` lines of `text`, in order.
fn greeters(text: &str) -> Vec<&str> {
    text.lines()
        .filter_map(|l| l.strip_prefix("hello from thread "))
        .collect()
}

/// Checks the greetings of three tasks that each greet five times: strict round robin if
/// `round_robin` (the cooperative runtime, one worker), else just five of each.
#[track_caller]
fn check_greetings(text: &str, round_robin: bool) {
    let names = greeters(text);
    assert_eq!(names.len(), 15, "15 greetings in:\n{text}");
    for t in ["Thread-1", "Thread-2", "Thread-3"] {
        assert_eq!(
            names.iter().filter(|n| **n == t).count(),
            5,
            "{t} greets 5 times in:\n{text}"
        );
    }
    if round_robin {
        for (i, name) in names.iter().enumerate() {
            assert_eq!(
                *name,
                format!("Thread-{}", i % 3 + 1),
                "greeting {i} is not in round-robin order in:\n{text}"
            );
        }
    }
}

#[test]
fn hello_threads() {
    let out = run("hello_threads", &[]);
    check_greetings(section(&out, "== cooperative", Some("== preemptive")), true);
    check_greetings(section(&out, "== preemptive", Some("Cooperative:")), false);
}

#[test]
fn thread_subclass() {
    let out = run("thread_subclass", &[]);
    for (from, to, round_robin) in [
        ("== cooperative", Some("== preemptive"), true),
        ("== preemptive", None, false),
    ] {
        let part = section(&out, from, to);
        check_greetings(part, round_robin);
        assert_eq!(
            lines_with(part, "it greeted 5 times").len(),
            3,
            "each greeter's field counts 5 in:\n{part}"
        );
        expect(
            part,
            "0..1000 from the two threads' fields: 332833500 (expected 332833500)",
        );
    }
}

#[test]
fn daemon() {
    let out = run("daemon", &[]);
    let coop = section(&out, "== cooperative", Some("== preemptive"));
    let worker_done = coop.find("worker done").expect("the worker finishes");
    let returned = coop.find("block_on returned").expect("block_on returns");
    assert!(
        worker_done < returned,
        "block_on waits for the worker:\n{coop}"
    );
    expect(coop, "daemon cleaned up");
    expect(coop, "joining the daemon gives Err: ");
    let pre = section(&out, "== preemptive", None);
    expect(pre, "block_on returned");
    expect(pre, "left detached (finished: false)");
    assert!(
        !pre.contains("cleaned up"),
        "a detached daemon thread is not unwound:\n{pre}"
    );
    expect(pre, "main exits now");
}

// ---------------------------------------------------------------------------------------
// Shared resources: race, lock_stdout, deadlock, semaphore

#[test]
fn race() {
    let out = run("race", &[]);
    let race = section(&out, "== the race", Some("== the fix"));
    let coop = lines_with(race, "expected");
    let coop = coop
        .iter()
        .find(|l| l.starts_with("cooperative"))
        .unwrap_or_else(|| panic!("no cooperative result in:\n{out}"));
    let (expected, got) = expected_got(coop);
    assert!(
        got < expected,
        "cooperative with a yield between read and write loses updates: {coop:?}"
    );
    // The preemptive race loses updates by chance: its count is not checked.
    let fix = section(&out, "== the fix", None);
    let fixed = lines_with(fix, "expected");
    assert_eq!(fixed.len(), 2, "two fixed results in:\n{out}");
    for line in fixed {
        let (expected, got) = expected_got(line);
        assert_eq!(got, expected, "the Mutex loses no update: {line:?}");
        expect(line, "(0 lost)");
    }
}

#[test]
fn explore_race() {
    let out = run("explore_race", &[]);
    let ordinary = section(&out, "== 1.", Some("== 2."));
    expect(ordinary, "1000 runs, 0 with a lost update");
    let found = section(&out, "== 2.", Some("== 3."));
    expect(found, "lost update: the balance is");
    expect(found, "replay it with `spindle::check::replay(");
    expect(found, "gave way at Mutex::lock");
    let replayed = section(&out, "== 3.", Some("== 4."));
    expect(
        replayed,
        "10 replays out of 10 failed, each with the same schedule",
    );
    expect(replayed, "finished");
    let fixed = section(&out, "== 4.", None);
    expect(fixed, "all 1000 schedules pass");
}

#[test]
fn lock_stdout() {
    let out = run("lock_stdout", &[]);
    let whole = |l: &str| (1..=3).any(|t| l == format!("[task-{t}] the quick brown fox."));
    // One worker, no lock: the tasks take turns at every yield, so lines are jumbled.
    let jumbled = section(
        &out,
        "== no lock, cooperative",
        Some("== no lock, preemptive"),
    );
    assert!(
        jumbled.lines().any(|l| !l.is_empty() && !whole(l)),
        "no jumbled line without the lock:\n{jumbled}"
    );
    // With the lock every line comes out whole, on both backends.
    for (from, to) in [
        (
            "== Mutex<()> held around each line, cooperative",
            Some("== Mutex<()> held around each line, preemptive"),
        ),
        ("== Mutex<()> held around each line, preemptive", None),
    ] {
        let part = section(&out, from, to);
        let lines: Vec<&str> = part.lines().filter(|l| !l.is_empty()).collect();
        assert_eq!(lines.len(), 6, "3 tasks x 2 lines in:\n{part}");
        assert!(
            lines.iter().all(|l| whole(l)),
            "a jumbled line with the lock:\n{part}"
        );
    }
}

#[test]
fn deadlock() {
    let out = run("deadlock", &[]);
    let report = section(&out, "block_on panicked:", Some("== the fix"));
    expect(report, "deadlock:");
    expect(report, "'task-1'");
    expect(report, "'task-2'");
    expect(report, "Mutex::lock");
    let fix = section(&out, "== the fix", None);
    expect(fix, "task-1: holds a and b");
    expect(fix, "task-2: holds a and b");
    expect(fix, "both tasks finished");
}

#[test]
fn semaphore() {
    let out = run("semaphore", &[]);
    for (from, to) in [
        ("== cooperative", Some("== preemptive")),
        ("== preemptive", None),
    ] {
        let part = section(&out, from, to);
        assert_eq!(
            lines_with(part, " enters ").len(),
            6,
            "6 tasks enter in:\n{part}"
        );
        assert_eq!(
            lines_with(part, " leaves ").len(),
            6,
            "6 tasks leave in:\n{part}"
        );
        assert!(!part.contains("(3 inside)"), "3 inside at once:\n{part}");
        let most = lines_with(part, "tasks were inside at once");
        assert!(
            most.len() == 1 && (most[0].contains("at most 2 ") || most[0].contains("at most 1 ")),
            "at most 2 inside at once, in:\n{part}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Queues and pipes: queue_ord, priority_queue, pipe

#[test]
fn queue_ord() {
    let out = run("queue_ord", &[]);
    let orders = lines_with(&out, "consumed in this order: ");
    assert_eq!(orders.len(), 2, "one order per backend in:\n{out}");
    for line in orders {
        let list = line.split_once(": ").expect("a list").1;
        let mut got: Vec<u32> = list
            .trim_matches(|c| c == '[' || c == ']')
            .split(", ")
            .map(|n| n.parse().expect("an ordinal"))
            .collect();
        got.sort_unstable();
        // ord of a, l, p, h, a
        assert_eq!(got, [97, 97, 104, 108, 112], "in {line:?}");
    }
    assert_eq!(lines_with(&out, "consumer: got ").len(), 10, "in:\n{out}");
}

#[test]
fn priority_queue() {
    let out = run("priority_queue", &[]);
    let taken = lines_with(&out, "priorities taken: ");
    assert_eq!(
        taken, ["priorities taken: [1, 1, 2, 3, 4, 5]"; 2],
        "smallest first on both backends, in:\n{out}"
    );
}

#[test]
fn pipe() {
    let out = run("pipe", &[]);
    for (from, to) in [
        ("== cooperative", Some("== preemptive")),
        ("== preemptive", None),
    ] {
        let part = section(&out, from, to);
        for n in 1..=3 {
            expect(part, &format!("child  got \"ping {n}\""));
            expect(part, &format!("parent got \"pong {n}\""));
        }
        expect(part, "recv after the child hung up: Err(");
        expect(part, "send after the child hung up: Err(");
        expect(part, "message handed back: \"anyone there?\"");
    }
}

// ---------------------------------------------------------------------------------------
// Pools: pool, thread_pool

#[test]
fn pool() {
    let out = run("pool", &[]);
    for (from, to) in [
        ("== Pool:", Some("== ThreadPool:")),
        ("== ThreadPool:", None),
    ] {
        let part = section(&out, from, to);
        let lines: Vec<&str> = part.lines().map(str::trim).collect();
        // apply_async(f, (10,)).get(timeout=1), map, imap
        for want in [
            "100",
            "[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]",
            "0 1 4 9 16 25 36 49 64 81",
        ] {
            assert!(lines.contains(&want), "no line {want:?} in:\n{part}");
        }
        // The 10 s sleep's get(timeout=1) times out.
        assert!(
            lines.iter().any(|l| l.starts_with("TimeoutError after")),
            "no timeout in:\n{part}"
        );
    }
}

#[test]
fn thread_pool() {
    let out = run("thread_pool", &[]);
    expect(&out, "20 results collected through the Queue");
    for page in 0..20 {
        expect(
            &out,
            &format!("page {page:>2}: you asked for /page/{page}\n"),
        );
    }
    expect(&out, "(0 failed)");
}

// ---------------------------------------------------------------------------------------
// Networking: web_server, web_clients, echo_server

/// A child process killed when dropped.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request to `addr` on its own connection; the whole response.
fn http_get(addr: &str, path: &str) -> String {
    let mut conn = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.set_write_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap_or_else(|e| panic!("send GET {path}: {e}"));
    let mut response = String::new();
    conn.read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("read the answer to GET {path}: {e}"));
    response
}

/// web_server has no self-test mode: it serves until it is killed. Started on a free port,
/// it must announce its address, answer `GET /` and `GET /slow`, and 404 an unknown path.
#[test]
fn web_server() {
    let out_path = std::env::temp_dir().join(format!(
        "spindle-example-web-server-{}.out",
        std::process::id()
    ));
    let out_file = std::fs::File::create(&out_path).expect("create the server's stdout file");
    let child = example("web_server")
        .arg("127.0.0.1:0")
        .stdin(Stdio::null())
        .stdout(out_file)
        .stderr(Stdio::null())
        .spawn()
        .expect("start web_server");
    let mut server = KillOnDrop(child);

    let deadline = Instant::now() + Duration::from_secs(DEADLINE_S);
    let addr = loop {
        let out = std::fs::read_to_string(&out_path).unwrap_or_default();
        if let Some(rest) = out.split("listening on http://").nth(1) {
            if let Some(addr) = rest.split_whitespace().next() {
                break addr.to_string();
            }
        }
        if let Some(status) = server.0.try_wait().expect("wait for web_server") {
            panic!("web_server exited ({status}) before listening; stdout:\n{out}");
        }
        assert!(
            Instant::now() < deadline,
            "web_server did not say where it listens within {DEADLINE_S} s; stdout:\n{out}"
        );
        thread::sleep(Duration::from_millis(20));
    };
    let _ = std::fs::remove_file(&out_path);

    let root = http_get(&addr, "/");
    assert!(root.starts_with("HTTP/1.1 200 "), "GET /:\n{root}");
    let slow = http_get(&addr, "/slow?ms=10");
    assert!(
        slow.starts_with("HTTP/1.1 200 "),
        "GET /slow?ms=10:\n{slow}"
    );
    let missing = http_get(&addr, "/no-such-page");
    assert!(
        missing.starts_with("HTTP/1.1 404 "),
        "GET /no-such-page:\n{missing}"
    );
    assert!(
        server.0.try_wait().expect("wait for web_server").is_none(),
        "web_server exited while serving"
    );
}

#[test]
fn web_clients() {
    let out = run("web_clients", &[]);
    expect(&out, "20 requests to http://127.0.0.1:");
    for variant in [
        "(a) 20 green threads",
        "(b) 20 OS threads",
        "(c) ThreadPool",
        "(d) Pool",
    ] {
        let line = lines_with(&out, variant);
        assert!(
            line.len() == 1 && line[0].ends_with("(20 x 200 OK)"),
            "{variant}: every request answered 200, in:\n{out}"
        );
    }
}

#[test]
fn echo_server() {
    for args in [
        &["--selftest", "4"][..],
        &["--selftest", "4", "--preemptive"],
    ] {
        let out = run("echo_server", args);
        let line = lines_with(&out, "round trips in");
        assert_eq!(line.len(), 1, "one result line in:\n{out}");
        let trips: u64 = line[0]
            .strip_prefix("selftest: ")
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {:?}", line[0]));
        assert!(trips > 0, "{args:?}: no round trip in:\n{out}");
    }
}

// ---------------------------------------------------------------------------------------
// Coroutines: coroutine_send, broadcast, hand_scheduler

#[test]
fn coroutine_send() {
    let out = run("coroutine_send", &[]);
    let one = section(&out, "-- one coroutine", Some("-- broadcasting"));
    for x in 1..=3 {
        expect(one, &format!("coroutine(10) got {x}: n + x = {}", 10 + x));
    }
    expect(one, "coroutine(10) closed: GeneratorExit cleanup ran");
    expect(one, "done after close: true");
    // Broadcasting: for i in range(5): for target in targets: target.send(i), in that order.
    let broadcast = section(&out, "-- broadcasting", Some("-- a generator"));
    let got: Vec<&str> = lines_with(broadcast, " got ");
    let want: Vec<String> = (0..5)
        .flat_map(|i| [1, 10, 100].map(|n| format!("coroutine({n}) got {i}: n + x = {}", n + i)))
        .collect();
    assert_eq!(got, want, "in:\n{broadcast}");
    assert_eq!(lines_with(broadcast, "closed: GeneratorExit").len(), 3);
    expect(&out, "even squares below 36: [0, 4, 16]");
}

#[test]
fn broadcast() {
    let out = run("broadcast", &[]);
    let got: Vec<&str> = lines_with(&out, " got ");
    let want: Vec<String> = (0..5)
        .flat_map(|i| {
            let mut lines = vec![format!("printer(all) got {i}")];
            if i % 2 == 0 {
                lines.push(format!("printer(even) got {i}"));
            }
            lines
        })
        .collect();
    assert_eq!(got, want, "each item to every target, in order, in:\n{out}");
    let closing = section(&out, "close the broadcaster:", Some("done:"));
    for name in [
        "broadcast",
        "printer(all)",
        "only_even",
        "printer(even)",
        "total",
    ] {
        expect(closing, &format!("{name} closed"));
    }
    expect(&out, "done: done after close, total of 0..5 = 10");
}

/// Checks one scheduler's run of hand_scheduler's tasks.
#[track_caller]
fn check_schedule(part: &str) {
    // ping and pong only yield: they alternate, whoever the sleepers' timers interleave.
    let steps: Vec<&str> = part
        .lines()
        .filter(|l| l.contains(" step "))
        .map(|l| if l.contains("ping:") { "ping" } else { "pong" })
        .collect();
    assert_eq!(steps.len(), 8, "4 steps each in:\n{part}");
    assert!(
        steps.windows(2).all(|w| w[0] != w[1]),
        "ping and pong do not alternate:\n{part}"
    );
    for (name, naps) in [("sleeper", 2), ("ticker", 3)] {
        assert_eq!(
            lines_with(part, &format!("{name}: woke after")).len(),
            naps,
            "{name} wakes {naps} times in:\n{part}"
        );
    }
    for name in ["ping", "pong", "sleeper", "ticker"] {
        expect(part, &format!("{name}: done"));
    }
    expect(part, "all 4 tasks finished");
}

#[test]
fn hand_scheduler() {
    let out = run("hand_scheduler", &[]);
    check_schedule(section(
        &out,
        "== the hand-written scheduler",
        Some("== the same tasks"),
    ));
    check_schedule(section(&out, "== the same tasks", None));
}
