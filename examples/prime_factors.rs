//! The lecture's second CPU-bound problem: the prime factors of a list of large numbers, found
//! by trial division, one task per number.
//!
//! Sixteen numbers near 10¹⁵: eight primes and eight semiprimes whose two factors are both
//! near 3·10⁷, so that trial division runs up to about √n, some 3·10⁷ divisions per number
//! (tens of milliseconds each, about a second in all). The same work runs four ways, each timed
//! and compared with the plain loop:
//!
//! * `sequential`: `prime_factors(n)` called for each number in turn, the baseline;
//! * `cooperative, 1 worker`: one OS thread runs the green threads, and a task never yields,
//!   so the numbers are factored one at a time, as Python threads do under the GIL;
//! * `cooperative, all workers`: one worker per core (`Runtime::cooperative().build()`), so
//!   numbers are factored in parallel, as with `multiprocessing`;
//! * `preemptive`: every number gets an OS thread.
//!
//! Every factorisation is checked (the factors multiply back to the number, and each is prime
//! by a deterministic Miller–Rabin test, independent of trial division), and every variant
//! must give the same factors as the sequential one.
//!
//! `SPINDLE_EXAMPLE_SMALL=1` (or `--small`) factors sixteen numbers near 10¹¹ instead (some
//! 3·10⁵ divisions each), for the tests.
//!
//! Run with `cargo run --release --example prime_factors`.

use std::error::Error;
use std::hint::black_box;
use std::time::{Duration, Instant};

use spindle::{spawn, Runtime};

/// The numbers to factor: primes just below 10¹⁵ and products of two primes just above 3·10⁷.
const FULL: [u64; 16] = [
    999_999_999_999_989,
    30_000_001 * 30_000_023,
    999_999_999_999_947,
    30_000_037 * 30_000_041,
    999_999_999_999_883,
    30_000_049 * 30_000_059,
    999_999_999_999_877,
    30_000_071 * 30_000_079,
    999_999_999_999_827,
    30_000_083 * 30_000_109,
    999_999_999_999_809,
    30_000_133 * 30_000_137,
    999_999_999_999_659,
    30_000_149 * 30_000_163,
    999_999_999_999_643,
    30_000_167 * 30_000_169,
];

/// The small run's numbers: primes just below 10¹¹ and products of two primes just above
/// 3·10⁵.
const SMALL: [u64; 16] = [
    99_999_999_977,
    300_007 * 300_017,
    99_999_999_947,
    300_023 * 300_043,
    99_999_999_943,
    300_073 * 300_089,
    99_999_999_907,
    300_109 * 300_119,
    99_999_999_871,
    300_137 * 300_149,
    99_999_999_851,
    300_151 * 300_163,
    99_999_999_833,
    300_187 * 300_191,
    99_999_999_829,
    300_193 * 300_221,
];

/// [`SMALL`] if `SPINDLE_EXAMPLE_SMALL` is set (and not `0`) or `--small` was given, else
/// [`FULL`].
fn numbers() -> &'static [u64; 16] {
    let small = std::env::args().any(|a| a == "--small")
        || std::env::var_os("SPINDLE_EXAMPLE_SMALL").is_some_and(|v| v != "0");
    if small {
        &SMALL
    } else {
        &FULL
    }
}

/// The prime factors of `n` in ascending order, with repeats, by trial division: divide out
/// every `d = 2, 3, 4, …` while `d² ≤ n`; what is left above 1 is prime. Never inlined, so
/// every variant runs the very same machine code.
#[inline(never)]
fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut factors = Vec::new();
    let mut d = 2;
    while d * d <= n {
        while n % d == 0 {
            factors.push(d);
            n /= d;
        }
        d += 1;
    }
    if n > 1 {
        factors.push(n);
    }
    factors
}

/// `a·b mod m` without overflow.
fn mul_mod(a: u64, b: u64, m: u64) -> u64 {
    (u128::from(a) * u128::from(b) % u128::from(m)) as u64
}

/// `b^e mod m`.
fn pow_mod(mut b: u64, mut e: u64, m: u64) -> u64 {
    let mut r = 1 % m;
    b %= m;
    while e > 0 {
        if e & 1 == 1 {
            r = mul_mod(r, b, m);
        }
        b = mul_mod(b, b, m);
        e >>= 1;
    }
    r
}

/// Whether `n` is prime: Miller–Rabin with the first twelve primes as bases, which is exact
/// for every `n` below 3.3·10²⁴, so for every `u64`.
fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n % p == 0 {
            return n == p;
        }
    }
    // n - 1 = d·2^s with d odd.
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = mul_mod(x, x, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// Checks that `factors` is the prime factorisation of `n`.
fn check(n: u64, factors: &[u64]) -> Result<(), String> {
    let product = factors
        .iter()
        .try_fold(1u64, |p, &f| p.checked_mul(f))
        .ok_or_else(|| format!("{n}: the product of {factors:?} overflows"))?;
    if product != n {
        return Err(format!("{n}: {factors:?} multiply to {product}"));
    }
    if let Some(f) = factors.iter().find(|&&f| !is_prime(f)) {
        return Err(format!("{n}: factor {f} of {factors:?} is not prime"));
    }
    Ok(())
}

/// Every number of `numbers` factored in turn.
fn factor_all(numbers: &[u64]) -> Vec<Vec<u64>> {
    numbers
        .iter()
        .map(|&n| prime_factors(black_box(n)))
        .collect()
}

/// Every number of `numbers` factored by a task of its own, on the runtime `rt`.
fn factor_tasks(rt: &Runtime, numbers: &'static [u64]) -> Result<Vec<Vec<u64>>, String> {
    rt.block_on(|| {
        let handles: Vec<_> = numbers
            .iter()
            .map(|&n| spawn(move || prime_factors(black_box(n))))
            .collect();
        handles
            .into_iter()
            .zip(numbers)
            .map(|(h, n)| {
                h.join()
                    .map_err(|_| format!("the task factoring {n} panicked"))
            })
            .collect()
    })
}

/// One line of the table.
struct Row {
    name: String,
    factors: Vec<Vec<u64>>,
    time: Duration,
}

fn try_main() -> Result<(), Box<dyn Error>> {
    let numbers = numbers();
    // Each task computes without yielding, on purpose: the stall watchdog would report every
    // one of them ("running for 0.1 s without yielding, stalling worker 0"), so it is off.
    let coop1 = Runtime::cooperative()
        .workers(1)
        .stall_threshold(Duration::ZERO)
        .build()?;
    let coop_all = Runtime::cooperative()
        .stall_threshold(Duration::ZERO)
        .build()?;
    let pre = Runtime::preemptive().build()?;

    println!(
        "prime factors of {} numbers by trial division, one task per number, {} CPUs\n",
        numbers.len(),
        coop_all.workers()
    );

    let mut rows = Vec::new();
    let start = Instant::now();
    let factors = factor_all(numbers);
    rows.push(Row {
        name: "sequential".into(),
        factors,
        time: start.elapsed(),
    });
    let variants = [
        ("cooperative, 1 worker".to_string(), &coop1),
        (
            format!("cooperative, {} workers", coop_all.workers()),
            &coop_all,
        ),
        ("preemptive".to_string(), &pre),
    ];
    for (name, rt) in variants {
        let start = Instant::now();
        let factors = factor_tasks(rt, numbers)?;
        rows.push(Row {
            name,
            factors,
            time: start.elapsed(),
        });
    }

    // The factorisations themselves, checked once; the variants are compared with them.
    let reference = &rows[0].factors;
    for (&n, factors) in numbers.iter().zip(reference) {
        check(n, factors)?;
        let shown: Vec<String> = factors.iter().map(u64::to_string).collect();
        println!("{n:>16} = {}", shown.join(" × "));
    }
    println!();

    let baseline = rows[0].time.as_secs_f64();
    let mut disagree = Vec::new();
    println!(
        "{:<24} {:>8} {:>10} {:>8}  agrees",
        "variant", "primes", "time (ms)", "speedup"
    );
    for row in &rows {
        let agrees = row.factors == *reference;
        if !agrees {
            disagree.push(row.name.clone());
        }
        let primes = row.factors.iter().filter(|f| f.len() == 1).count();
        println!(
            "{:<24} {:>8} {:>10.1} {:>7.2}×  {}",
            row.name,
            primes,
            row.time.as_secs_f64() * 1e3,
            baseline / row.time.as_secs_f64(),
            if agrees { "yes" } else { "NO" }
        );
    }

    println!(
        "\nOne worker factors the numbers one after another, since a task never yields: \
         sixteen tasks\nbuy nothing, as Python threads gain nothing on a CPU-bound problem \
         under the GIL. With a worker\nper core, idle workers take the tasks nobody has \
         started, so numbers are factored in parallel\nand the time drops towards 1/cores \
         of the sequential one, as with multiprocessing; the preemptive\nruntime, an OS \
         thread per number, gets the same parallel speedup."
    );

    if disagree.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} disagree with the sequential factorisations",
            disagree.join(", ")
        )
        .into())
    }
}

/// Runs the example; an error is printed with `Display`, not `Debug`.
fn main() -> std::process::ExitCode {
    match try_main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
