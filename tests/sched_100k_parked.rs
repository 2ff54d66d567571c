//! 100,000 tasks alive at once, parked in `sleep`, on the default `vm.max_map_count`: guard
//! pages must not cost a memory map each. (Its own test binary: it measures the process.)

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::{sleep, spawn, Runtime};
use support::bounded;

fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps")
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
fn hundred_thousand_parked_tasks_fit_in_the_default_map_count() {
    bounded(180, || {
        const N: usize = 100_000;
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let maps_before = map_count();
        let rss_before = rss_kib();
        let parked = Arc::new(AtomicUsize::new(0));
        let p = parked.clone();
        let (maps_during, rss_during, woke) = rt.block_on(move || {
            let hs: Vec<_> = (0..N)
                .map(|_| {
                    let p = p.clone();
                    spawn(move || {
                        p.fetch_add(1, Ordering::SeqCst);
                        sleep(Duration::from_millis(1500));
                        1usize
                    })
                })
                .collect();
            while p.load(Ordering::SeqCst) < N {
                sleep(Duration::from_millis(20));
            }
            // All N are alive and parked now.
            let maps = map_count();
            let rss = rss_kib();
            let woke: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
            (maps, rss, woke)
        });
        assert_eq!(woke, N);
        let max_maps: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(65_530);
        let per_task = (rss_during.saturating_sub(rss_before)) * 1024 / N;
        eprintln!(
            "{N} parked tasks: maps {maps_before} -> {maps_during} (limit {max_maps}), RSS +{} KiB ({per_task} B per task), guards free: {:?}",
            rss_during.saturating_sub(rss_before),
            spindle::stack::guards_are_free()
        );
        assert!(maps_during < max_maps, "{maps_during} maps");
        if spindle::stack::guards_are_free() == Some(true) {
            assert!(
                maps_during - maps_before.min(maps_during) < 1_000,
                "guards cost maps: {maps_before} -> {maps_during}"
            );
        }
    });
}
