//! 100,000 tasks alive at once, parked in `sleep`, on the default `vm.max_map_count`: guard
//! pages must not cost a memory map each. (Its own test binary: it measures the process.)

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use spindle::coroutine::{Generator, Yielder};
use spindle::sync::Event;
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

/// What the README promises a parked task costs, at most.
const MAX_BYTES_PER_TASK: usize = 5 * 1024;

#[test]
fn hundred_thousand_parked_tasks_fit_in_the_default_map_count() {
    bounded(180, || {
        // Learn the guard mode first: it decides how many stacks the map table can hold.
        drop(Generator::new(|y: &Yielder<(), u8>| y.suspend(0)));
        let guards_free = spindle::stack::guards_are_free().expect("known once a stack exists");
        let max_maps: usize = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(65_530);
        // With MADV_GUARD_INSTALL a guard costs no map: 100,000 tasks fit. With the mprotect
        // fallback each live stack splits its mapping (about 2 maps a stack): stay well
        // inside the limit and check that stacks do cost maps there.
        let n: usize = if guards_free {
            100_000
        } else {
            (max_maps / 4).min(100_000)
        };
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let maps_before = map_count();
        let rss_before = rss_kib();
        let parked = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Event::new());
        let (p, g) = (parked.clone(), gate.clone());
        let (maps_during, rss_during, woke) = rt.block_on(move || {
            let hs: Vec<_> = (0..n)
                .map(|_| {
                    let (p, g) = (p.clone(), g.clone());
                    spawn(move || {
                        p.fetch_add(1, Ordering::SeqCst);
                        g.wait();
                        1usize
                    })
                })
                .collect();
            while p.load(Ordering::SeqCst) < n {
                sleep(Duration::from_millis(20));
            }
            // All n are alive (none can finish before the gate opens) and have run.
            let maps = map_count();
            let rss = rss_kib();
            g.set();
            let woke: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
            (maps, rss, woke)
        });
        assert_eq!(woke, n);
        let rss_growth = rss_during.saturating_sub(rss_before);
        let per_task = rss_growth * 1024 / n;
        let map_growth = maps_during.saturating_sub(maps_before);
        eprintln!(
            "{n} parked tasks: maps {maps_before} -> {maps_during} (limit {max_maps}), \
             RSS +{rss_growth} KiB ({per_task} B per task), guards free: {guards_free}"
        );
        assert!(
            per_task <= MAX_BYTES_PER_TASK,
            "a parked task costs {per_task} B of RSS (promised: at most {MAX_BYTES_PER_TASK})"
        );
        if guards_free {
            assert!(
                map_growth < 1_000,
                "guards cost maps: {maps_before} -> {maps_during}"
            );
        } else {
            assert!(
                map_growth >= n,
                "mprotect guards should split mappings: {maps_before} -> {maps_during} for {n} stacks"
            );
        }
    });
}
