//! The statistics of one cell (one workload on one backend): mean, sample standard deviation,
//! a 95% confidence interval for the mean from Student's t distribution, min, max, median,
//! and the checks that say when the samples should not be trusted as they stand:
//!
//! * **noisy**: the coefficient of variation (standard deviation ÷ mean) is above 10%;
//! * **outliers**: samples outside `[Q1 − 1.5·IQR, Q3 + 1.5·IQR]` (Tukey's fences, the
//!   quartiles interpolated linearly as R's type 7), with at least 4 samples;
//! * **bimodal**: both of these, with at least 6 samples:
//!   - the bimodality coefficient `BC = (g² + 1) / (k + 3(n−1)² / ((n−2)(n−3)))`, from the
//!     bias-corrected skewness `g` and excess kurtosis `k`, is above 5/9 (the value of a
//!     uniform distribution; a normal one gives 1/3);
//!   - a gap test: the widest gap between neighbouring sorted samples leaves at least
//!     `max(2, n/5)` samples on each side and is wider than both sides' ranges, so the
//!     samples fall in two clusters. BC alone also fires on a skewed sample or a single
//!     outlier; the gap test keeps those for the outlier warning.
//!
//! The t quantile is computed, not looked up: Student's t CDF through the regularized
//! incomplete beta function (Lentz's continued fraction, Lanczos' log-gamma), inverted by
//! bisection. The tests check it against published table values.

/// The confidence level of every interval.
pub const CONFIDENCE: f64 = 0.95;
/// Above this coefficient of variation a cell is flagged as noisy.
pub const NOISY_CV: f64 = 0.10;
/// Above this bimodality coefficient (with the gap test) a cell is flagged as bimodal.
pub const BIMODAL_BC: f64 = 5.0 / 9.0;

/// What one cell's samples say.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The number of samples.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1 in the denominator); 0 for one sample.
    pub sd: f64,
    /// Half the width of the 95% confidence interval of the mean; 0 for one sample.
    pub ci95: f64,
    /// The smallest and largest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
    /// The median.
    pub median: f64,
    /// Samples outside Tukey's fences.
    pub outliers: usize,
    /// The bimodality coefficient, from 4 samples on.
    pub bc: Option<f64>,
    /// Whether the samples look bimodal (BC and the gap test agree).
    pub bimodal: bool,
}

impl Summary {
    /// Summarises `xs`; `None` when it is empty or holds a non-finite value.
    pub fn of(xs: &[f64]) -> Option<Summary> {
        if xs.is_empty() || xs.iter().any(|x| !x.is_finite()) {
            return None;
        }
        let n = xs.len();
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        let mean = mean(xs);
        let sd = std_dev(xs);
        let ci95 = if n >= 2 {
            t_quantile(0.5 + CONFIDENCE / 2.0, (n - 1) as f64) * sd / (n as f64).sqrt()
        } else {
            0.0
        };
        let bc = bimodality_coefficient(xs);
        let bimodal = n >= 6 && bc.is_some_and(|b| b > BIMODAL_BC) && gap_split(&sorted).is_some();
        Some(Summary {
            n,
            mean,
            sd,
            ci95,
            min: sorted[0],
            max: sorted[n - 1],
            median: quantile(&sorted, 0.5),
            outliers: iqr_outliers(&sorted),
            bc,
            bimodal,
        })
    }

    /// The coefficient of variation (0 when the mean is 0).
    pub fn cv(&self) -> f64 {
        if self.mean == 0.0 {
            0.0
        } else {
            self.sd / self.mean.abs()
        }
    }

    /// The warnings for this cell, in a few words each; empty when the samples look sound.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if self.n < 2 {
            w.push("1 sample: no CI".to_owned());
        }
        if self.cv() > NOISY_CV {
            w.push(format!("noisy (CV {:.0}%)", self.cv() * 100.0));
        }
        if self.outliers > 0 {
            let s = if self.outliers == 1 { "" } else { "s" };
            w.push(format!("{} outlier{s} (IQR)", self.outliers));
        }
        if self.bimodal {
            w.push(format!("bimodal (BC {:.2})", self.bc.unwrap_or(0.0)));
        }
        w
    }
}

/// The arithmetic mean of a non-empty slice.
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample standard deviation (Bessel's n − 1); 0 below 2 samples.
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

/// The `q` quantile of sorted samples, interpolating linearly between order statistics
/// (Hyndman and Fan's type 7, R's and NumPy's default).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The number of sorted samples outside Tukey's fences `[Q1 − 1.5·IQR, Q3 + 1.5·IQR]`; 0
/// below 4 samples.
pub fn iqr_outliers(sorted: &[f64]) -> usize {
    if sorted.len() < 4 {
        return 0;
    }
    let (q1, q3) = (quantile(sorted, 0.25), quantile(sorted, 0.75));
    let iqr = q3 - q1;
    let (lo, hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    sorted.iter().filter(|&&x| x < lo || x > hi).count()
}

/// The central moments m2, m3, m4 (divided by n).
fn moments(xs: &[f64]) -> (f64, f64, f64) {
    let m = mean(xs);
    let n = xs.len() as f64;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for x in xs {
        let d = x - m;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    (m2 / n, m3 / n, m4 / n)
}

/// The bias-corrected sample skewness G1; `None` below 3 samples or with no spread.
pub fn skewness(xs: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let (m2, m3, _) = moments(xs);
    if xs.len() < 3 || m2 == 0.0 {
        return None;
    }
    let g1 = m3 / m2.powf(1.5);
    Some(g1 * (n * (n - 1.0)).sqrt() / (n - 2.0))
}

/// The bias-corrected sample excess kurtosis G2; `None` below 4 samples or with no spread.
pub fn excess_kurtosis(xs: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let (m2, _, m4) = moments(xs);
    if xs.len() < 4 || m2 == 0.0 {
        return None;
    }
    let g2 = m4 / (m2 * m2) - 3.0;
    Some((n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * g2 + 6.0))
}

/// The bimodality coefficient `(G1² + 1) / (G2 + 3(n−1)²/((n−2)(n−3)))` (SAS's
/// definition); above 5/9 suggests two modes. `None` below 4 samples or with no spread.
pub fn bimodality_coefficient(xs: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let g = skewness(xs)?;
    let k = excess_kurtosis(xs)?;
    Some((g * g + 1.0) / (k + 3.0 * (n - 1.0).powi(2) / ((n - 2.0) * (n - 3.0))))
}

/// The gap test on sorted samples: the index `i` where the widest gap
/// `sorted[i] − sorted[i−1]` splits them into two clusters of at least `max(2, n/5)` samples
/// each, when that gap is wider than the range of either cluster; `None` otherwise.
pub fn gap_split(sorted: &[f64]) -> Option<usize> {
    let n = sorted.len();
    let side = 2.max(n.div_ceil(5));
    if n < 2 * side {
        return None;
    }
    let i = (side..=n - side)
        .max_by(|&a, &b| (sorted[a] - sorted[a - 1]).total_cmp(&(sorted[b] - sorted[b - 1])))?;
    let gap = sorted[i] - sorted[i - 1];
    let left = sorted[i - 1] - sorted[0];
    let right = sorted[n - 1] - sorted[i];
    (gap > left && gap > right && gap > 0.0).then_some(i)
}

/// The natural log of Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; ~15 digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x)Γ(1−x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (Lentz's method).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..=300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function I_x(a, b).
pub fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Student's t cumulative distribution function with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (`0.5 < p < 1`), by
/// bisection on [`t_cdf`].
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The half-width of the confidence interval of the ratio `a / b` of two means, by first-order
/// error propagation: `r·√((ca/a)² + (cb/b)²)`.
pub fn ratio_ci(a: f64, ca: f64, b: f64, cb: f64) -> f64 {
    let r = a / b;
    r * ((ca / a).powi(2) + (cb / b).powi(2)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_the_tables() {
        // Two-sided 95% critical values, t(0.975, df).
        let table = [
            (1.0, 12.706),
            (2.0, 4.303),
            (3.0, 3.182),
            (4.0, 2.776),
            (9.0, 2.262),
            (19.0, 2.093),
            (29.0, 2.045),
            (120.0, 1.980),
            (1e6, 1.960),
        ];
        for (df, want) in table {
            let got = t_quantile(0.975, df);
            assert!(close(got, want, 5e-4), "df {df}: {got} != {want}");
        }
        assert!(close(t_quantile(0.995, 9.0), 3.250, 5e-4));
    }

    #[test]
    fn t_cdf_is_symmetric_and_half_at_zero() {
        assert!(close(t_cdf(0.0, 5.0), 0.5, 1e-12));
        assert!(close(t_cdf(1.3, 7.0) + t_cdf(-1.3, 7.0), 1.0, 1e-12));
        // Cauchy (df = 1): F(1) = 3/4.
        assert!(close(t_cdf(1.0, 1.0), 0.75, 1e-10));
    }

    #[test]
    fn confidence_interval_of_known_samples() {
        // mean 5, sd √(32/7) ≈ 2.138; ci = 2.365 · 2.138 / √8 ≈ 1.787.
        let s = Summary::of(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!(close(s.mean, 5.0, 1e-12));
        assert!(close(s.sd, (32.0_f64 / 7.0).sqrt(), 1e-12));
        assert!(close(s.ci95, 1.7875, 1e-3), "{}", s.ci95);
        assert_eq!((s.min, s.max, s.median), (2.0, 9.0, 4.5));
        let one = Summary::of(&[3.0]).unwrap();
        assert_eq!((one.ci95, one.sd), (0.0, 0.0));
        assert!(Summary::of(&[]).is_none());
        assert!(Summary::of(&[1.0, f64::NAN]).is_none());
    }

    #[test]
    fn quantiles_interpolate_like_r_type_7() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert!(close(quantile(&xs, 0.25), 1.75, 1e-12));
        assert!(close(quantile(&xs, 0.5), 2.5, 1e-12));
        assert!(close(quantile(&xs, 1.0), 4.0, 1e-12));
    }

    #[test]
    fn outliers_by_the_iqr_rule() {
        let mut xs = vec![10.0, 10.1, 10.2, 9.9, 9.8, 10.0, 10.1, 9.9, 10.0, 30.0];
        xs.sort_by(f64::total_cmp);
        assert_eq!(iqr_outliers(&xs), 1);
        let s = Summary::of(&xs).unwrap();
        assert!(!s.bimodal, "one outlier is not a second mode");
        assert!(s.warnings().iter().any(|w| w.contains("outlier")));
    }

    #[test]
    fn moments_match_known_values() {
        // Symmetric: no skew. Uniform-ish 1..=5: G2 = −1.2.
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!(close(skewness(&xs).unwrap(), 0.0, 1e-12));
        assert!(close(excess_kurtosis(&xs).unwrap(), -1.2, 1e-12));
        // By hand: m2 = 12.5, m3 = 45, g1 = 45 / 12.5^1.5, G1 = g1·√12 / 2 = 1.7636 (Excel SKEW).
        assert!(close(
            skewness(&[1.0, 2.0, 3.0, 10.0]).unwrap(),
            1.7636,
            1e-3
        ));
    }

    #[test]
    fn bimodality_flags_two_clusters_only() {
        let two: Vec<f64> = (0..6)
            .map(|i| 10.0 + 0.01 * f64::from(i))
            .chain((0..6).map(|i| 20.0 + 0.01 * f64::from(i)))
            .collect();
        let s = Summary::of(&two).unwrap();
        assert!(s.bc.unwrap() > BIMODAL_BC, "bc {}", s.bc.unwrap());
        assert!(s.bimodal);
        assert!(s.warnings().iter().any(|w| w.starts_with("bimodal")));

        // Roughly normal: a deterministic sample of the normal quantiles.
        let normal =
            [-1.5, -1.0, -0.7, -0.45, -0.2, 0.0, 0.2, 0.45, 0.7, 1.0, 1.5].map(|z| 100.0 + z);
        let s = Summary::of(&normal).unwrap();
        assert!(s.bc.unwrap() < BIMODAL_BC);
        assert!(!s.bimodal);
        assert!(s.warnings().is_empty(), "{:?}", s.warnings());
    }

    #[test]
    fn gap_test_needs_two_real_clusters() {
        assert_eq!(gap_split(&[1.0, 1.1, 1.2, 5.0, 5.1, 5.2]), Some(3));
        assert_eq!(gap_split(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), None);
        // A lone high sample is an outlier, not a cluster.
        assert_eq!(gap_split(&[1.0, 1.1, 1.2, 1.3, 1.4, 9.0]), None);
    }

    #[test]
    fn noisy_samples_are_flagged() {
        let s = Summary::of(&[10.0, 14.0, 8.0, 12.0, 6.0]).unwrap();
        assert!(s.cv() > NOISY_CV);
        assert!(s.warnings().iter().any(|w| w.starts_with("noisy")));
    }

    #[test]
    fn ratio_confidence_propagates_relative_errors() {
        // 3% and 4% relative errors: 5% on the ratio.
        let h = ratio_ci(200.0, 6.0, 100.0, 4.0);
        assert!(close(h, 2.0 * 0.05, 1e-12));
    }
}
