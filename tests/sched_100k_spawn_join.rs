//! 100,000 tasks spawned and joined; afterwards the stack pool keeps no more warm stacks than
//! its bound and no stack is left in use. (Its own test binary: the pool's counters are
//! process-wide.)

mod support;

use spindle::{spawn, Runtime};
use support::bounded;

#[test]
fn hundred_thousand_tasks_spawned_and_joined_leave_the_pool_within_bounds() {
    bounded(120, || {
        let rt = Runtime::cooperative().workers(2).build().unwrap();
        let sum = rt.block_on(|| {
            let hs: Vec<_> = (0..100_000u64).map(|i| spawn(move || i)).collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
        });
        assert_eq!(sum, 100_000 * 99_999 / 2);
        let s = spindle::stack::stats();
        assert_eq!(s.in_use, 0, "{s:?}");
        assert!(
            s.warm <= s.warm_limit(),
            "warm stacks above the pool's bound: {s:?}"
        );
        assert_eq!(s.reserved, 0, "{s:?}");

        // Spawned and joined one at a time, stacks are reused: no new mapping.
        let mapped = s.mapped_bytes;
        rt.block_on(|| {
            for i in 0..100_000u64 {
                assert_eq!(spawn(move || i + 1).join().unwrap(), i + 1);
            }
        });
        let s = spindle::stack::stats();
        assert_eq!(s.mapped_bytes, mapped, "{s:?}");
        assert!(s.warm <= s.warm_limit(), "{s:?}");
    });
}
