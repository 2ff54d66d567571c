//! The stall watchdog names a task that runs too long without yielding, through `tracing`.
//! (Its own test binary: it installs a global tracing subscriber.)

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use spindle::{spawn, yield_now, Builder, Runtime};
use support::bounded;
use tracing::field::{Field, Visit};
use tracing::{span, Event, Metadata, Subscriber};

/// Records every event as "target field=value ...".
struct Capture(Arc<Mutex<Vec<String>>>);

struct Fields(String);
impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut f = Fields(format!("{} ", event.metadata().target()));
        event.record(&mut f);
        self.0.lock().unwrap().push(f.0);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

/// The threshold of the watched runtime. Far above what an OS scheduler ever takes a busy
/// thread off its core on a loaded machine, so a task that yields often is never reported
/// just because its worker thread was descheduled for a while.
const THRESHOLD: Duration = Duration::from_millis(250);

fn stall_reports(log: &Mutex<Vec<String>>) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|e| e.starts_with("spindle::stall"))
        .cloned()
        .collect()
}

#[test]
fn a_task_that_never_yields_is_reported_by_name_and_id_and_yielders_are_not() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(events.clone())).unwrap();
    let log = events.clone();
    bounded(120, move || {
        let rt = Runtime::cooperative()
            .workers(2)
            .stall_threshold(THRESHOLD)
            .build()
            .unwrap();
        let seen = log.clone();
        let id = rt.block_on(move || {
            // A polite task: yields often, for several thresholds.
            let polite = Builder::new()
                .name("polite")
                .spawn(|| {
                    let t = Instant::now();
                    while t.elapsed() < THRESHOLD * 3 {
                        yield_now();
                    }
                })
                .unwrap();
            // A hog: spins without yielding until the watchdog has reported it (however
            // long a loaded machine makes that take; the test's bound is the hang guard).
            let hog = Builder::new()
                .name("cpu-hog")
                .spawn(move || {
                    let me = spindle::current().id().as_u64();
                    let mine = format!("task_id={me} ");
                    while !stall_reports(&seen).iter().any(|r| r.contains(&mine)) {
                        std::hint::spin_loop();
                    }
                })
                .unwrap();
            let id = hog.id();
            hog.join().unwrap();
            polite.join().unwrap();
            spawn(|| ()).join().unwrap();
            id
        });
        drop(rt);
        let stalls = stall_reports(&log);
        assert_eq!(
            stalls.len(),
            1,
            "exactly one stall report (the hog, once): {stalls:#?}"
        );
        let report = &stalls[0];
        assert!(report.contains("cpu-hog"), "{report}");
        assert!(
            report.contains(&format!("task_id={} ", id.as_u64())),
            "{report}"
        );
        assert!(!report.contains("polite"), "{report}");

        // The watchdog can be turned off: a run of several thresholds goes unreported.
        let before = log.lock().unwrap().len();
        let quiet = Runtime::cooperative()
            .workers(1)
            .stall_threshold(Duration::ZERO)
            .build()
            .unwrap();
        quiet.block_on(|| {
            let t = Instant::now();
            while t.elapsed() < THRESHOLD * 2 {
                std::hint::spin_loop();
            }
        });
        drop(quiet);
        let after = log.lock().unwrap().len();
        assert_eq!(
            after,
            before,
            "a disabled watchdog reported: {:#?}",
            &log.lock().unwrap()[before..]
        );
    });
}
