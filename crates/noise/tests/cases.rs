//! Statistical checks of the samplers' edge cases: alpha-stable at alpha = 1 with skew,
//! classical Pareto against its closed forms, Student-t with infinite or huge `nu`, and the
//! Cauchy sampler at the ends of the uniform range.

use median_conformance::seeded_rng;
use median_noise::{
    AlphaStable, Cauchy, Lomax, MultivariateStudentT, NoiseError, Pareto, StudentT,
    SubGaussianStable, VectorNoise,
};
use rand::RngExt;
use rand::distr::Distribution;

/// Draws `n` values from `distribution` with a seeded generator.
fn draws<D: Distribution<f64>>(distribution: &D, seed: u64, n: usize) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    (0..n).map(|_| rng.sample(distribution)).collect()
}

/// Returns the fraction of `values` at or below `x`.
fn empirical_cdf(values: &[f64], x: f64) -> f64 {
    values.iter().filter(|&&v| v <= x).count() as f64 / values.len() as f64
}

/// Returns the sample median (the upper middle value for an even count).
fn median(values: &mut [f64]) -> f64 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f64::total_cmp).1
}

#[test]
fn stable_alpha_one_skewed_cdf() {
    // CDF of S(1, -0.5, 1, 0; 1) from scipy 1.17.1 `levy_stable.cdf` (S1, its default).
    // The formula with the factor 2 / pi on one term only gives 0.248, 0.592 and 0.931.
    let stable = AlphaStable::new(1.0, -0.5, 1.0, 0.0).unwrap();
    let values = draws(&stable, 14, 400_000);
    for (x, expected) in [(-2.0, 0.22106), (0.0, 0.56249), (2.0, 0.92499)] {
        let cdf = empirical_cdf(&values, x);
        assert!(
            (cdf - expected).abs() < 0.004,
            "F({x}) = {cdf}, expected {expected}"
        );
    }
}

#[test]
fn stable_alpha_one_scale_shifts_location() {
    // At alpha = 1, S(1, beta, gamma, 0; 1) is gamma X + (2 / pi) beta gamma ln gamma with X
    // standard, so the median moves by the log term as well as scaling.
    let (beta, gamma) = (0.8, 3.0);
    let standard = AlphaStable::new(1.0, beta, 1.0, 0.0).unwrap();
    let scaled = AlphaStable::new(1.0, beta, gamma, 0.0).unwrap();
    let mut rng_a = seeded_rng(3);
    let mut rng_b = seeded_rng(3);
    let shift = std::f64::consts::FRAC_2_PI * beta * gamma * gamma.ln();
    for _ in 0..100 {
        let x: f64 = rng_a.sample(standard);
        let y: f64 = rng_b.sample(scaled);
        assert!((y - (gamma * x + shift)).abs() <= 1e-12 * (1.0 + y.abs()));
    }
}

#[test]
fn pareto_classical_closed_forms() {
    // x_m = 2, alpha = 3: median 2 * 2^(1/3), mean 3, P(X <= 4) = 1 - (2/4)^3 = 0.875.
    let pareto = Pareto::new(2.0, 3.0).unwrap();
    let mut values = draws(&pareto, 15, 200_000);

    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    assert!(min >= 2.0, "min = {min}");

    let mean = values.iter().sum::<f64>() / values.len() as f64;
    assert!((mean - 3.0).abs() < 0.05, "mean = {mean}");

    let below_four = empirical_cdf(&values, 4.0);
    assert!(
        (below_four - 0.875).abs() < 0.004,
        "P(X <= 4) = {below_four}"
    );

    let med = median(&mut values);
    assert!((med - 2.5198420997897464).abs() < 0.01, "median = {med}");
}

#[test]
fn pareto_argument_order_is_scale_then_shape() {
    // Swapped arguments give x_m = 3, alpha = 2, whose median is 3 sqrt(2) = 4.2426.
    let swapped = Pareto::new(3.0, 2.0).unwrap();
    let mut values = draws(&swapped, 16, 200_000);
    let med = median(&mut values);
    assert!((med - 3.0 * 2f64.sqrt()).abs() < 0.02, "median = {med}");
}

#[test]
fn lomax_is_pareto_shifted_by_scale() {
    // With the same uniforms, Lomax(lambda, alpha) = Pareto(lambda, alpha) - lambda.
    let pareto = Pareto::new(2.0, 3.0).unwrap();
    let lomax = Lomax::new(2.0, 3.0).unwrap();
    let p = draws(&pareto, 17, 1000);
    let l = draws(&lomax, 17, 1000);
    for (a, b) in p.iter().zip(&l) {
        assert!((a - 2.0 - b).abs() <= 1e-13 * a, "{a} vs {b}");
    }
    let mut l = draws(&lomax, 18, 200_000);
    let med = median(&mut l);
    assert!((med - 0.5198420997897464).abs() < 0.01, "median = {med}");
}

#[test]
fn student_t_infinite_and_huge_nu_are_normal() {
    for nu in [f64::INFINITY, 1e300] {
        let t = StudentT::new(nu).unwrap();
        let values = draws(&t, 16, 100_000);
        assert!(values.iter().all(|v| v.is_finite()), "nu = {nu}");

        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!(
            (variance - 1.0).abs() < 0.03,
            "nu = {nu}: variance {variance}"
        );

        let inside = values.iter().filter(|v| v.abs() <= 1.959964).count() as f64 / n;
        assert!(
            (inside - 0.95).abs() < 0.005,
            "nu = {nu}: {inside} within 1.96"
        );
    }
}

#[test]
fn student_t_huge_nu_f32_not_nan() {
    let mut rng = seeded_rng(160);
    for nu in [f32::INFINITY, f32::MAX] {
        let t = StudentT::new(nu).unwrap();
        for _ in 0..10_000 {
            let x: f32 = rng.sample(t);
            assert!(x.is_finite(), "nu = {nu}");
        }
    }
}

#[test]
fn student_t_nu_340_density_at_zero() {
    let t = StudentT::new(340.0).unwrap();
    let relative: f64 = t.pdf(0.0) / 0.398649048731109 - 1.0;
    assert!(relative.abs() < 1e-12, "relative error {relative}");
}

#[test]
fn student_t_rejects_nan_nu() {
    assert!(matches!(
        StudentT::<f64>::new(f64::NAN),
        Err(NoiseError::InvalidParameter { name: "nu", .. })
    ));
}

#[test]
fn cauchy_quantile_near_zero_and_half() {
    let cauchy = Cauchy::new(0.0, 1.0).unwrap();
    let q = cauchy.quantile(2f64.powi(-53)).unwrap();
    assert!(q.is_finite(), "{q}");
    assert!(q < 0.0, "{q}");
    assert!((q / -2867080569611329.5 - 1.0).abs() < 0.01, "{q}");
    assert_eq!(cauchy.quantile(0.5).unwrap(), 0.0);
}

#[test]
fn cauchy_f32_draws_finite_with_both_signs() {
    let cauchy = Cauchy::new(0.0f32, 1.0).unwrap();
    let mut rng = seeded_rng(17);
    let values: Vec<f32> = (0..200_000).map(|_| rng.sample(cauchy)).collect();
    assert!(values.iter().all(|v| v.is_finite()));
    let negative = values.iter().filter(|v| **v < 0.0).count() as f64 / values.len() as f64;
    assert!((negative - 0.5).abs() < 0.005, "{negative}");
}

/// Asserts that `n` draws from the `f32` and the `f64` version of a sampler are all finite.
fn assert_finite_draws<S, D>(label: &str, single: &S, double: &D, n: usize)
where
    S: Distribution<f32>,
    D: Distribution<f64>,
{
    let mut rng = seeded_rng(19);
    for _ in 0..n {
        let x: f32 = single.sample(&mut rng);
        let y: f64 = double.sample(&mut rng);
        assert!(x.is_finite(), "{label}: f32 draw {x}");
        assert!(y.is_finite(), "{label}: f64 draw {y}");
    }
}

#[test]
fn tiny_shapes_draw_finite_values() {
    // Draws beyond the float range saturate at the largest finite value.
    let n = 100_000;
    let (t32, t64) = (StudentT::new(0.05f32), StudentT::new(0.05f64));
    assert_finite_draws("t(0.05)", &t32.unwrap(), &t64.unwrap(), n);
    let (p32, p64) = (Pareto::new(1.0f32, 0.02), Pareto::new(1.0f64, 0.02));
    assert_finite_draws("Pareto(1, 0.02)", &p32.unwrap(), &p64.unwrap(), n);
    let (l32, l64) = (Lomax::new(1.0f32, 0.02), Lomax::new(1.0f64, 0.02));
    assert_finite_draws("Lomax(1, 0.02)", &l32.unwrap(), &l64.unwrap(), n);
    let s32 = AlphaStable::new(0.05f32, 1.0, 1.0, 0.0).unwrap();
    let s64 = AlphaStable::new(0.05f64, 1.0, 1.0, 0.0).unwrap();
    assert_finite_draws("S(0.05, 1)", &s32, &s64, n);
    let wide32 = AlphaStable::new(0.1f32, 0.0, f32::MAX, 0.0).unwrap();
    let wide64 = AlphaStable::new(0.1f64, 0.0, f64::MAX, 0.0).unwrap();
    assert_finite_draws("S(0.1, 0, MAX)", &wide32, &wide64, n);

    let mut rng = seeded_rng(20);
    let t = MultivariateStudentT::new(0.05, 1.0).unwrap();
    let stable = SubGaussianStable::new(0.05, 1.0).unwrap();
    let mut out = [0.0f32; 4];
    for _ in 0..n / 4 {
        t.sample_into(&mut rng, &mut out);
        assert!(out.iter().all(|x| x.is_finite()), "multivariate t: {out:?}");
        stable.sample_into(&mut rng, &mut out);
        assert!(
            out.iter().all(|x| x.is_finite()),
            "sub-Gaussian stable: {out:?}"
        );
    }
}
