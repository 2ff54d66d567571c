//! CPU parallelism: the lecture's two CPU-bound problems, split into tasks that never yield.
//! On one worker (the GIL column) the tasks run one after another; with a worker per core,
//! OS threads or tokio's workers they run in parallel. The table reports each backend's
//! speedup over the one-worker column, and that speedup per worker.
//!
//! * **integrate**: the left Riemann sum of x² over [0, 10] with N = 2·10⁷ points in 8
//!   chunks, a task per chunk (as `examples/integrate.rs`); the result is checked against
//!   the sequential sum. Unit: ns per point.
//! * **prime factors**: trial division of 16 numbers, a task per number: the 8 largest primes
//!   below 10¹¹ and 8 products of two primes just above √10¹¹, so every number takes about
//!   √10¹¹ ≈ 316,000 divisions (as `examples/prime_factors.rs`, with smaller numbers). The
//!   divisions are counted once, so the unit is ns per trial division, which also makes the
//!   Python column (smaller numbers, the same loop) comparable.

use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Instant;

use spindle::Builder;

use crate::backends::Engine;
use crate::waiting::{no_python, panicked};
use crate::workloads::{CellError, Ctx, Measurement, Outcome};

/// Points and chunks of the integral.
pub const POINTS: u64 = 20_000_000;
pub const CHUNKS: u64 = 8;
/// The interval.
const A: f64 = 0.0;
const B: f64 = 10.0;

/// The sum of `f(a + i·dx)` for `i` in `lo..hi`, f(x) = x²; never inlined, so every backend
/// runs the same machine code.
#[inline(never)]
fn sum_chunk(a: f64, dx: f64, lo: u64, hi: u64) -> f64 {
    let mut s = 0.0;
    for i in lo..hi {
        let x = a + i as f64 * dx;
        s += x * x;
    }
    s
}

/// The index range of chunk `k`.
fn chunk(k: u64) -> (u64, u64) {
    (k * POINTS / CHUNKS, (k + 1) * POINTS / CHUNKS)
}

/// The sequential integral, computed once, that every backend must agree with.
fn expected_integral() -> f64 {
    static EXPECTED: OnceLock<f64> = OnceLock::new();
    *EXPECTED.get_or_init(|| {
        let dx = (B - A) / POINTS as f64;
        (0..CHUNKS)
            .map(|k| {
                let (lo, hi) = chunk(k);
                sum_chunk(A, dx, lo, hi)
            })
            .sum::<f64>()
            * dx
    })
}

/// The integral, a task per chunk.
pub fn integrate(engine: &Engine, _ctx: Ctx) -> Outcome {
    let expected = expected_integral();
    let dx = (B - A) / POINTS as f64;
    let start = Instant::now();
    let sums: Vec<f64> = match engine {
        Engine::Spindle(rt) => rt.block_on(move || -> Result<Vec<f64>, CellError> {
            let mut tasks = Vec::new();
            for k in 0..CHUNKS {
                let (lo, hi) = chunk(k);
                tasks.push(Builder::new().spawn(move || sum_chunk(black_box(A), dx, lo, hi))?);
            }
            tasks
                .into_iter()
                .map(|t| t.join().map_err(|_| panicked("a chunk")))
                .collect()
        })?,
        Engine::Tokio(rt) => rt.block_on(async move {
            let tasks: Vec<_> = (0..CHUNKS)
                .map(|k| {
                    let (lo, hi) = chunk(k);
                    tokio::spawn(async move { sum_chunk(black_box(A), dx, lo, hi) })
                })
                .collect();
            let mut sums = Vec::new();
            for t in tasks {
                sums.push(
                    t.await
                        .map_err(|e| CellError::Failed(format!("a chunk: {e}")))?,
                );
            }
            Ok::<_, CellError>(sums)
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    let elapsed = start.elapsed();
    let got = sums.iter().sum::<f64>() * dx;
    if ((got - expected) / expected).abs() > 1e-9 {
        return Err(CellError::Failed(format!(
            "the integral {got} differs from the sequential {expected}"
        )));
    }
    Ok(Measurement::new(elapsed, POINTS))
}

/// The prime factors of `n` by trial division, and how many divisors `d` were tried.
#[inline(never)]
pub fn prime_factors(mut n: u64) -> (Vec<u64>, u64) {
    let mut factors = Vec::new();
    let mut tried = 0;
    let mut d = 2;
    while d * d <= n {
        tried += 1;
        while n % d == 0 {
            factors.push(d);
            n /= d;
        }
        d += 1;
    }
    if n > 1 {
        factors.push(n);
    }
    (factors, tried)
}

/// `b^e mod m`.
fn pow_mod(mut b: u64, mut e: u64, m: u64) -> u64 {
    let mul = |a: u64, b: u64| (u128::from(a) * u128::from(b) % u128::from(m)) as u64;
    let mut r = 1 % m;
    b %= m;
    while e > 0 {
        if e & 1 == 1 {
            r = mul(r, b);
        }
        b = mul(b, b);
        e >>= 1;
    }
    r
}

/// Whether `n` is prime: Miller–Rabin with the first twelve primes as bases, exact for u64.
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    if let Some(&p) = BASES.iter().find(|&&p| n % p == 0) {
        return n == p;
    }
    let s = (n - 1).trailing_zeros();
    let d = (n - 1) >> s;
    'bases: for a in BASES {
        let mut x = pow_mod(a, d, n);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = pow_mod(x, 2, n);
            if x == n - 1 {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// 16 numbers that each need about √`limit` trial divisions: the 8 largest primes below
/// `limit`, then 8 products of consecutive pairs of the 16 smallest primes above √`limit`.
pub fn numbers(limit: u64) -> Vec<u64> {
    let primes_below = (1..limit).rev().filter(|&n| is_prime(n)).take(8);
    let root = (limit as f64).sqrt() as u64;
    let above: Vec<u64> = (root..).filter(|&n| is_prime(n)).take(16).collect();
    primes_below
        .chain(above.chunks(2).map(|p| p[0] * p[1]))
        .collect()
}

/// The suite's numbers with their factors (by a sequential run) and the total divisions.
fn suite_numbers() -> &'static (Vec<u64>, Vec<Vec<u64>>, u64) {
    static NUMBERS: OnceLock<(Vec<u64>, Vec<Vec<u64>>, u64)> = OnceLock::new();
    NUMBERS.get_or_init(|| {
        let ns = numbers(100_000_000_000);
        let (factors, tried): (Vec<_>, Vec<_>) = ns.iter().map(|&n| prime_factors(n)).unzip();
        (ns, factors, tried.iter().sum())
    })
}

/// The trial divisions needed to factor each of `ns`, in all.
pub fn divisions(ns: &[u64]) -> u64 {
    ns.iter().map(|&n| prime_factors(n).1).sum()
}

/// Every number factored by a task of its own; checked against the sequential factors.
pub fn prime_factors_workload(engine: &Engine, _ctx: Ctx) -> Outcome {
    let (ns, expected, tried) = suite_numbers();
    let start = Instant::now();
    let factors: Vec<Vec<u64>> = match engine {
        Engine::Spindle(rt) => {
            let ns = ns.clone();
            rt.block_on(move || -> Result<Vec<Vec<u64>>, CellError> {
                let mut tasks = Vec::new();
                for n in ns {
                    tasks.push(Builder::new().spawn(move || prime_factors(black_box(n)).0)?);
                }
                tasks
                    .into_iter()
                    .map(|t| t.join().map_err(|_| panicked("a factoring task")))
                    .collect()
            })?
        }
        Engine::Tokio(rt) => rt.block_on(async move {
            let tasks: Vec<_> = ns
                .iter()
                .map(|&n| tokio::spawn(async move { prime_factors(black_box(n)).0 }))
                .collect();
            let mut out = Vec::new();
            for t in tasks {
                out.push(
                    t.await
                        .map_err(|e| CellError::Failed(format!("a factoring task: {e}")))?,
                );
            }
            Ok::<_, CellError>(out)
        })?,
        Engine::Python { .. } => return Err(no_python()),
    };
    let elapsed = start.elapsed();
    if &factors != expected {
        return Err(CellError::Failed(
            "factors differ from the sequential ones".into(),
        ));
    }
    Ok(Measurement::new(elapsed, *tried))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_primes_and_semiprimes_of_similar_cost() {
        let ns = numbers(10_000_000_000);
        assert_eq!(ns.len(), 16);
        for &n in &ns[..8] {
            assert!(is_prime(n) && n < 10_000_000_000);
        }
        for &n in &ns[8..] {
            let (f, tried) = prime_factors(n);
            assert_eq!(f.len(), 2, "{n} = {f:?}");
            assert!(f.iter().all(|&p| is_prime(p)));
            assert!(
                (99_000..=101_000).contains(&tried),
                "{n}: {tried} divisions"
            );
        }
    }

    #[test]
    fn factors_multiply_back() {
        for n in [2, 12, 97, 1001, 600_851_475_143] {
            let (f, _) = prime_factors(n);
            assert_eq!(f.iter().product::<u64>(), n);
            assert!(f.iter().all(|&p| is_prime(p)));
        }
    }
}
