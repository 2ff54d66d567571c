//! The cost of one context switch round trip: `resume` into a coroutine that does nothing but
//! `suspend` back, for spindle's [`Coroutine`] (pooled, guarded stack; a finished-check on
//! each resume) and for raw `corosensei` on its `DefaultStack`. The coroutine is made once,
//! outside the timed loop; only `resume` is timed.
//!
//! Run with `cargo bench --bench switch`.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use spindle::coroutine::Coroutine;

fn switch(c: &mut Criterion) {
    let mut group = c.benchmark_group("switch");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1)); // one resume + suspend round trip

    let mut co = Coroutine::<(), (), ()>::new(|y, ()| loop {
        y.suspend(());
    });
    group.bench_function("spindle_coroutine", |b| b.iter(|| co.resume(())));

    let mut raw = corosensei::Coroutine::<(), (), ()>::new(|y, ()| loop {
        y.suspend(());
    });
    group.bench_function("corosensei_raw", |b| b.iter(|| raw.resume(())));

    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    switch(&mut c);
    c.final_summary();
}
