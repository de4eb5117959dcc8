//! Statistical tests of the `median-noise` samplers: Kolmogorov-Smirnov tests against
//! analytic CDFs, run by `cargo test -p median-stat-tests`. The tests live in `tests/`.
//!
//! This library contains what those tests need and that must not come from the crate under
//! test: the special functions behind the reference CDFs (log-gamma, `erfc`, the
//! regularised incomplete beta function), the reference CDFs themselves, and the one- and
//! two-sample Kolmogorov-Smirnov statistics with their critical values.
//!
//! The special functions are accurate to about 1e-13 absolute in the ranges the tests use,
//! far below the smallest critical value (about 2e-3 at a million samples). The unit tests
//! below check them against closed forms and published values.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

/// The asymptotic Kolmogorov critical constant `c` with `P(sqrt(n) D_n > c) = 0.001`:
/// `sqrt(ln(2 / 0.001) / 2)`.
pub const KS_CONSTANT_0_1_PERCENT: f64 = 1.9494746035204051;

/// Returns the critical value of the one-sample KS statistic at significance 0.1% for `n`
/// samples, from the asymptotic Kolmogorov distribution (accurate for `n` above a few
/// thousand).
pub fn ks_critical_value(n: usize) -> f64 {
    KS_CONSTANT_0_1_PERCENT / (n as f64).sqrt()
}

/// Returns the critical value of the two-sample KS statistic at significance 0.1% for
/// samples of sizes `n` and `m`.
pub fn ks_two_sample_critical_value(n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    KS_CONSTANT_0_1_PERCENT * ((n + m) / (n * m)).sqrt()
}

/// Returns the one-sample KS statistic `sup_x |F_n(x) - F(x)|` of sorted samples against
/// the CDF `cdf`.
///
/// # Panics
///
/// Panics if `sorted` is empty or not sorted (a bug in the calling test).
pub fn ks_statistic(sorted: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    assert!(!sorted.is_empty(), "ks_statistic: no samples");
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "ks_statistic: samples not sorted"
    );
    let n = sorted.len() as f64;
    let mut statistic: f64 = 0.0;
    for (i, &x) in sorted.iter().enumerate() {
        let f = cdf(x);
        let below = i as f64 / n;
        let at_or_below = (i + 1) as f64 / n;
        statistic = statistic.max(f - below).max(at_or_below - f);
    }
    statistic
}

/// Returns the two-sample KS statistic `sup_x |F_n(x) - G_m(x)|` of two sorted samples.
///
/// # Panics
///
/// Panics if either sample is empty.
pub fn ks_two_sample_statistic(a: &[f64], b: &[f64]) -> f64 {
    assert!(
        !a.is_empty() && !b.is_empty(),
        "ks_two_sample_statistic: empty sample"
    );
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut statistic: f64 = 0.0;
    while i < a.len() && j < b.len() {
        // Step past every copy of the smaller value in both samples before comparing.
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        statistic = statistic.max((i as f64 / n - j as f64 / m).abs());
    }
    statistic
}

/// Returns `ln Gamma(x)` for `x > 0`, by shifting the argument to at least 10 with
/// `Gamma(x + 1) = x Gamma(x)` and applying Stirling's series.
pub fn ln_gamma(x: f64) -> f64 {
    let mut z = x;
    let mut log_product = 0.0;
    while z < 10.0 {
        log_product += z.ln();
        z += 1.0;
    }
    let r = z.recip();
    let r2 = r * r;
    let series = r
        * (1.0 / 12.0
            - r2 * (1.0 / 360.0
                - r2 * (1.0 / 1260.0
                    - r2 * (1.0 / 1680.0
                        - r2 * (1.0 / 1188.0 - r2 * (691.0 / 360_360.0 - r2 / 156.0))))));
    (z - 0.5) * z.ln() - z + 0.5 * (2.0 * PI).ln() + series - log_product
}

/// Returns the complementary error function `erfc(x) = 1 - erf(x)`.
///
/// For `|x| < 3` it sums the series `erf(x) = (2 / sqrt(pi)) exp(-x^2) sum_n 2^n x^(2n+1) /
/// (1 * 3 * ... * (2n + 1))`, whose terms are all positive. For `x >= 3` it evaluates the
/// continued fraction `erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) /
/// (x + ...))))` backwards from a fixed depth; `erfc(-x) = 2 - erfc(x)`.
pub fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    if x < 3.0 {
        return 1.0 - erf_series(x);
    }
    if x > 27.0 {
        return 0.0;
    }

    let mut tail = x;
    for k in (1..=80).rev() {
        tail = x + 0.5 * k as f64 / tail;
    }
    (-x * x).exp() / (PI.sqrt() * tail)
}

/// Returns `erf(x)` for `0 <= x < 3` by its positive-term series.
fn erf_series(x: f64) -> f64 {
    let x2 = x * x;
    let mut term = x;
    let mut sum = x;
    let mut n = 0.0;
    while term > 1e-17 * sum {
        n += 1.0;
        term *= 2.0 * x2 / (2.0 * n + 1.0);
        sum += term;
    }
    2.0 / PI.sqrt() * (-x2).exp() * sum
}

/// Returns the standard normal CDF `Phi(x) = erfc(-x / sqrt(2)) / 2`.
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x * FRAC_1_SQRT_2)
}

/// Returns the regularised incomplete beta function `I_x(a, b)` for `a, b > 0`, given both
/// `x` and `y = 1 - x` (the caller may know `y` more precisely than `1 - x`).
///
/// Uses the continued fraction of `I_x(a, b)` (modified Lentz) when `x < (a + 1) / (a + b +
/// 2)`, where it converges fast, and `1 - I_y(b, a)` otherwise.
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64, y: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if y <= 0.0 {
        return 1.0;
    }
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - regularized_incomplete_beta(b, a, y, x);
    }
    let log_front = a * x.ln() + b * y.ln() - (ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b));
    log_front.exp() / a * beta_continued_fraction(a, b, x)
}

/// Evaluates the continued fraction `1 / (1 + d_1 / (1 + d_2 / (1 + ...)))` of the
/// incomplete beta function by the modified Lentz method.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 / (1.0 - (a + b) * x / (a + 1.0)).max(TINY);
    let mut result = d;
    for m in 1..10_000 {
        let m = m as f64;

        // Even step: d_2m = m (b - m) x / ((a + 2m - 1)(a + 2m)).
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = lentz_guard(1.0 + even * d).recip();
        c = lentz_guard(1.0 + even / c);
        result *= d * c;

        // Odd step: d_2m+1 = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)).
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = lentz_guard(1.0 + odd * d).recip();
        c = lentz_guard(1.0 + odd / c);
        let step = d * c;
        result *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    result
}

/// Replaces a value too close to zero by a tiny one, as the Lentz method requires.
fn lentz_guard(value: f64) -> f64 {
    if value.abs() < 1e-300 { 1e-300 } else { value }
}

/// Returns the CDF of Student's t with `nu` degrees of freedom at `t`.
///
/// `F(t) = 1 - I_x(nu / 2, 1 / 2) / 2` for `t > 0`, with `x = nu / (nu + t^2)`, and
/// `F(-t) = 1 - F(t)`.
pub fn student_t_cdf(t: f64, nu: f64) -> f64 {
    let t2 = t * t;
    let (x, y) = if t2.is_finite() {
        (nu / (nu + t2), t2 / (nu + t2))
    } else {
        (0.0, 1.0)
    };
    let tail = 0.5 * regularized_incomplete_beta(0.5 * nu, 0.5, x, y);
    if t > 0.0 { 1.0 - tail } else { tail }
}

/// Returns the CDF of the Cauchy law with location `x0` and scale `gamma`.
pub fn cauchy_cdf(x: f64, x0: f64, gamma: f64) -> f64 {
    0.5 + ((x - x0) / gamma).atan() / PI
}

/// Returns the CDF of the Levy law `S(1/2, 1, gamma, delta; 1)`: `erfc(sqrt(gamma / (2 (x -
/// delta))))` for `x > delta`, 0 otherwise.
pub fn levy_cdf(x: f64, gamma: f64, delta: f64) -> f64 {
    if x <= delta {
        0.0
    } else {
        erfc((gamma / (2.0 * (x - delta))).sqrt())
    }
}

/// Returns the CDF of the Laplace law with location `mu` and scale `b`.
pub fn laplace_cdf(x: f64, mu: f64, b: f64) -> f64 {
    let z = (x - mu) / b;
    if z < 0.0 {
        0.5 * z.exp()
    } else {
        1.0 - 0.5 * (-z).exp()
    }
}

/// Returns the CDF of the classical Pareto law with scale `x_m` and shape `alpha`.
pub fn pareto_cdf(x: f64, x_m: f64, alpha: f64) -> f64 {
    if x < x_m {
        0.0
    } else {
        1.0 - (x_m / x).powf(alpha)
    }
}

/// Returns the CDF of the Lomax law with scale `lambda` and shape `alpha`.
pub fn lomax_cdf(x: f64, lambda: f64, alpha: f64) -> f64 {
    if x < 0.0 {
        0.0
    } else {
        -(alpha * (-(x / lambda).ln_1p())).exp_m1()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn ln_gamma_known_values() {
        // Gamma(1/2) = sqrt(pi) and Gamma(5) = 24; Gamma(0.1) and ln Gamma(100) from mpmath.
        assert!(close(ln_gamma(0.5), 0.5 * PI.ln(), 1e-14));
        assert!(close(ln_gamma(5.0), 24f64.ln(), 1e-14));
        assert!(close(ln_gamma(0.1), 9.513507698668732f64.ln(), 1e-13));
        assert!(close(ln_gamma(1.0), 0.0, 1e-14));
        assert!(close(ln_gamma(100.0), 359.1342053695754, 1e-11));
    }

    #[test]
    fn erfc_known_values() {
        // Reference values from mpmath at 40 digits.
        assert!(close(erfc(0.0), 1.0, 1e-16));
        assert!(close(1.0 - erfc(1.0), 0.8427007929497149, 1e-15));
        assert!(close(erfc(2.0), 0.004677734981047266, 1e-15));
        assert!(close(erfc(3.0) / 2.209049699858544e-5, 1.0, 1e-12));
        assert!(close(erfc(5.0) / 1.537459794428035e-12, 1.0, 1e-12));
        assert!(close(erfc(-1.0), 1.842700792949715, 1e-15));
        assert!(close(normal_cdf(1.959963984540054), 0.975, 1e-14));
    }

    #[test]
    fn erfc_continuous_at_three() {
        let below = erfc(3.0 - 1e-12);
        let above = erfc(3.0);
        assert!((below / above - 1.0).abs() < 1e-10, "{below} vs {above}");
    }

    #[test]
    fn student_t_cdf_closed_forms() {
        // nu = 1: Cauchy; nu = 2: 1/2 + t / (2 sqrt(2 + t^2)); nu = 3: 1/2 + (atan(t /
        // sqrt(3)) + sqrt(3) t / (3 + t^2)) / pi.
        for t in [-30.0, -2.0, -0.5, 0.0, 0.1, 1.0, 4.0, 1e6] {
            let cauchy = cauchy_cdf(t, 0.0, 1.0);
            let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
            let s3 = 3f64.sqrt();
            let three = 0.5 + ((t / s3).atan() + s3 * t / (3.0 + t * t)) / PI;
            assert!(close(student_t_cdf(t, 1.0), cauchy, 1e-13), "nu 1, t {t}");
            assert!(close(student_t_cdf(t, 2.0), two, 1e-13), "nu 2, t {t}");
            assert!(close(student_t_cdf(t, 3.0), three, 1e-13), "nu 3, t {t}");
        }
    }

    #[test]
    fn student_t_cdf_large_nu_is_normal() {
        for t in [-2.0, 0.3, 1.5] {
            let t_cdf = student_t_cdf(t, 1e7);
            assert!(close(t_cdf, normal_cdf(t), 1e-7), "t {t}");
        }
        // t_{0.975} with 30 degrees of freedom is 2.0422724563012378 (scipy 1.17.1).
        assert!(close(student_t_cdf(2.0422724563012378, 30.0), 0.975, 1e-12));
    }

    #[test]
    fn incomplete_beta_symmetric_and_uniform_cases() {
        // I_x(1, 1) = x; I_x(a, b) = 1 - I_(1-x)(b, a); I_x(2, 3) = polynomial.
        for x in [0.05, 0.3, 0.5, 0.9] {
            assert!(close(
                regularized_incomplete_beta(1.0, 1.0, x, 1.0 - x),
                x,
                1e-14
            ));
            let poly = 6.0 * x * x - 8.0 * x.powi(3) + 3.0 * x.powi(4);
            assert!(close(
                regularized_incomplete_beta(2.0, 3.0, x, 1.0 - x),
                poly,
                1e-14
            ));
            let a = regularized_incomplete_beta(0.7, 4.5, x, 1.0 - x);
            let b = regularized_incomplete_beta(4.5, 0.7, 1.0 - x, x);
            assert!(close(a + b, 1.0, 1e-13));
        }
    }

    #[test]
    fn ks_statistic_of_grid_is_half_step() {
        // The grid (i + 1/2) / n against the uniform CDF has D = 1 / (2n).
        let n = 100;
        let grid: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
        let d = ks_statistic(&grid, |x| x.clamp(0.0, 1.0));
        assert!(close(d, 0.5 / n as f64, 1e-15));
        assert_eq!(ks_two_sample_statistic(&grid, &grid), 0.0);
    }

    #[test]
    fn ks_two_sample_disjoint_is_one() {
        assert_eq!(ks_two_sample_statistic(&[1.0, 2.0], &[3.0, 4.0, 5.0]), 1.0);
    }

    #[test]
    fn ks_constant_matches_definition() {
        let c = ((2.0f64 / 0.001).ln() / 2.0).sqrt();
        assert!(close(KS_CONSTANT_0_1_PERCENT, c, 1e-15));
    }
}
