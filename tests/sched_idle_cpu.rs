//! Idle workers sleep in their poller instead of spinning. (Its own test binary: it measures
//! the whole process's CPU time.)

mod support;

use std::time::Duration;

use spindle::Runtime;
use support::bounded;

fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass; RUSAGE_SELF is valid.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut ru), 0);
        ru
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// One test, so nothing else in this binary runs while it measures the process.
#[test]
fn idle_and_sleeping_runtimes_use_almost_no_cpu() {
    bounded(30, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        // Do some work first, so the workers have run and gone back to sleep.
        rt.block_on(|| {
            let hs: Vec<_> = (0..100).map(|i| spindle::spawn(move || i * 2)).collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<i32>()
        });
        std::thread::sleep(Duration::from_millis(100));
        let before = cpu_time();
        std::thread::sleep(Duration::from_secs(1));
        let used = cpu_time() - before;
        assert!(
            used < Duration::from_millis(20),
            "an idle runtime used {used:?} of CPU in one second (over 2% of a core)"
        );

        // Sleeping tasks cost no CPU either: their workers wait in one poll with a timeout.
        let before = cpu_time();
        rt.block_on(|| {
            let hs: Vec<_> = (0..1000)
                .map(|_| spindle::spawn(|| spindle::sleep(Duration::from_secs(1))))
                .collect();
            for h in hs {
                h.join().unwrap();
            }
        });
        let used = cpu_time() - before;
        assert!(
            used < Duration::from_millis(200),
            "1,000 sleepers for 1 s used {used:?} of CPU"
        );
    });
}
