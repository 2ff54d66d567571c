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

#[test]
fn a_task_that_never_yields_is_reported_by_name_and_id_and_yielders_are_not() {
    let events = Arc::new(Mutex::new(Vec::new()));
    tracing::subscriber::set_global_default(Capture(events.clone())).unwrap();
    let log = events.clone();
    bounded(60, move || {
        let rt = Runtime::cooperative()
            .workers(2)
            .stall_threshold(Duration::from_millis(50))
            .build()
            .unwrap();
        let id = rt.block_on(|| {
            // A polite task: yields often, for longer than the threshold.
            let polite = Builder::new()
                .name("polite")
                .spawn(|| {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_millis(200) {
                        yield_now();
                    }
                })
                .unwrap();
            let hog = Builder::new()
                .name("cpu-hog")
                .spawn(|| {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_millis(300) {
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
        let events = log.lock().unwrap().clone();
        let stalls: Vec<_> = events
            .iter()
            .filter(|e| e.starts_with("spindle::stall"))
            .collect();
        assert_eq!(stalls.len(), 1, "exactly one stall report: {events:#?}");
        let report = stalls[0];
        assert!(report.contains("cpu-hog"), "{report}");
        assert!(
            report.contains(&format!("task_id={}", id.as_u64())),
            "{report}"
        );
        assert!(!report.contains("polite"), "{report}");

        // The watchdog can be turned off.
        let before = events.len();
        let quiet = Runtime::cooperative()
            .workers(1)
            .stall_threshold(Duration::ZERO)
            .build()
            .unwrap();
        quiet.block_on(|| {
            let t = Instant::now();
            while t.elapsed() < Duration::from_millis(150) {
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
