//! Kolmogorov-Smirnov tests of every sampler against its analytic CDF, with a million
//! seeded draws each, at significance 0.1%.
//!
//! Each test uses fixed seeds, so a pass or failure is reproducible. Over the choice of
//! seed, a correct sampler would fail a given KS test with probability 0.1%.

use median_conformance::seeded_rng;
use median_noise::{
    AlphaStable, Cauchy, Contaminated, Gaussian, Laplace, Lomax, MultivariateStudentT, Pareto,
    StudentT, SubGaussianStable, Symmetric, VectorNoise,
};
use median_stat_tests::{
    cauchy_cdf, ks_critical_value, ks_statistic, ks_two_sample_critical_value,
    ks_two_sample_statistic, laplace_cdf, levy_cdf, lomax_cdf, normal_cdf, pareto_cdf,
    student_t_cdf,
};
use rand::RngExt;
use rand::distr::Distribution;

const N: usize = 1_000_000;

/// Draws `n` values (converted to `f64`) and sorts them.
fn sorted_draws<F, D>(distribution: &D, seed: u64, n: usize) -> Vec<f64>
where
    F: Into<f64>,
    D: Distribution<F>,
{
    let mut rng = seeded_rng(seed);
    let mut values: Vec<f64> = (0..n).map(|_| rng.sample(distribution).into()).collect();
    values.sort_unstable_by(f64::total_cmp);
    values
}

/// Draws `n` vectors of dimension `dim` and returns their first coordinates, sorted.
fn sorted_first_coordinates<N: VectorNoise<f64>>(noise: &N, seed: u64, n: usize) -> Vec<f64> {
    let mut rng = seeded_rng(seed);
    let mut buffer = [0.0; 3];
    let mut values: Vec<f64> = (0..n)
        .map(|_| {
            noise.sample_into(&mut rng, &mut buffer);
            buffer[0]
        })
        .collect();
    values.sort_unstable_by(f64::total_cmp);
    values
}

/// Asserts that the KS statistic is below the 0.1% critical value.
fn assert_ks(label: &str, sorted: &[f64], cdf: impl Fn(f64) -> f64) {
    let statistic = ks_statistic(sorted, cdf);
    let critical = ks_critical_value(sorted.len());
    assert!(
        statistic < critical,
        "{label}: KS statistic {statistic:.3e} >= critical value {critical:.3e}"
    );
}

#[test]
fn ks_gaussian() {
    let values = sorted_draws(&Gaussian::new(1.0, 2.0).unwrap(), 101, N);
    assert_ks("N(1, 4) f64", &values, |x| normal_cdf((x - 1.0) / 2.0));
    let values = sorted_draws(&Gaussian::new(-1.0f32, 0.5).unwrap(), 102, N);
    assert_ks("N(-1, 0.25) f32", &values, |x| normal_cdf((x + 1.0) / 0.5));
}

#[test]
fn ks_student_t_several_nu() {
    for (seed, nu) in [(111, 0.5), (112, 1.0), (113, 2.5), (114, 5.0), (115, 30.0)] {
        let values = sorted_draws(&StudentT::new(nu).unwrap(), seed, N);
        assert_ks(&format!("t({nu})"), &values, |x| student_t_cdf(x, nu));
    }
}

#[test]
fn ks_student_t_f32() {
    let values = sorted_draws(&StudentT::new(3.0f32).unwrap(), 116, N);
    assert_ks("t(3) f32", &values, |x| student_t_cdf(x, 3.0));
}

#[test]
fn ks_cauchy() {
    let values = sorted_draws(&Cauchy::new(1.0, 2.0).unwrap(), 121, N);
    assert_ks("Cauchy(1, 2) f64", &values, |x| cauchy_cdf(x, 1.0, 2.0));
    let values = sorted_draws(&Cauchy::new(0.0f32, 1.0).unwrap(), 122, N);
    assert_ks("Cauchy(0, 1) f32", &values, |x| cauchy_cdf(x, 0.0, 1.0));
}

#[test]
fn ks_pareto_and_lomax() {
    let values = sorted_draws(&Pareto::new(2.0, 3.0).unwrap(), 131, N);
    assert_ks("Pareto(2, 3)", &values, |x| pareto_cdf(x, 2.0, 3.0));
    let values = sorted_draws(&Pareto::new(0.5, 0.8).unwrap(), 132, N);
    assert_ks("Pareto(0.5, 0.8)", &values, |x| pareto_cdf(x, 0.5, 0.8));
    let values = sorted_draws(&Lomax::new(1.5, 0.7).unwrap(), 133, N);
    assert_ks("Lomax(1.5, 0.7)", &values, |x| lomax_cdf(x, 1.5, 0.7));
}

#[test]
fn ks_symmetric_lomax() {
    // The symmetrised law has CDF 1/2 + sign(x) F(|x|) / 2.
    let values = sorted_draws(&Symmetric::new(Lomax::new(1.0, 2.0).unwrap()), 134, N);
    assert_ks("symmetric Lomax(1, 2)", &values, |x| {
        0.5 + 0.5 * x.signum() * lomax_cdf(x.abs(), 1.0, 2.0)
    });
}

#[test]
fn ks_laplace() {
    let values = sorted_draws(&Laplace::new(-1.0, 0.5).unwrap(), 141, N);
    assert_ks("Laplace(-1, 0.5)", &values, |x| laplace_cdf(x, -1.0, 0.5));
}

#[test]
fn ks_contaminated_gaussian_cauchy() {
    let inlier = Gaussian::new(0.0, 1.0).unwrap();
    let outlier = Cauchy::new(5.0, 10.0).unwrap();
    let mixture = Contaminated::new(inlier, outlier, 0.2).unwrap();
    let values = sorted_draws(&mixture, 151, N);
    assert_ks("0.8 N(0, 1) + 0.2 Cauchy(5, 10)", &values, |x| {
        0.8 * normal_cdf(x) + 0.2 * cauchy_cdf(x, 5.0, 10.0)
    });
}

#[test]
fn ks_stable_alpha_one_symmetric_is_cauchy() {
    let stable = AlphaStable::new(1.0, 0.0, 1.5, -0.5).unwrap();
    let values = sorted_draws(&stable, 161, N);
    assert_ks("S(1, 0, 1.5, -0.5)", &values, |x| cauchy_cdf(x, -0.5, 1.5));
}

#[test]
fn ks_stable_alpha_two_is_normal_variance_two() {
    // alpha = 2 with scale gamma is N(delta, 2 gamma^2), whatever beta.
    let stable = AlphaStable::new(2.0, 0.7, 1.0, 0.0).unwrap();
    let values = sorted_draws(&stable, 162, N);
    assert_ks("S(2, 0.7, 1, 0)", &values, |x| normal_cdf(x / 2f64.sqrt()));
}

#[test]
fn ks_stable_levy() {
    // S(1/2, 1, gamma, delta; 1) is the Levy law with CDF erfc(sqrt(gamma / (2 (x - delta)))).
    let stable = AlphaStable::new(0.5, 1.0, 2.0, 1.0).unwrap();
    let values = sorted_draws(&stable, 163, N);
    assert_ks("S(1/2, 1, 2, 1)", &values, |x| levy_cdf(x, 2.0, 1.0));
}

/// Asserts that the empirical CDF of sorted draws is within `0.002` of tabulated values.
/// At a million draws the standard error of each empirical value is below 5e-4.
fn assert_tabulated_cdf(label: &str, sorted: &[f64], table: &[(f64, f64)]) {
    for &(x, expected) in table {
        let below = sorted.partition_point(|&v| v <= x) as f64 / sorted.len() as f64;
        assert!(
            (below - expected).abs() < 0.002,
            "{label}: F({x}) = {below}, expected {expected}"
        );
    }
}

#[test]
fn stable_alpha_one_skewed_tabulated_cdf() {
    // CDF of S(1, -0.5, 1, 0; 1) from scipy 1.17.1 `levy_stable.cdf` (S1, its default).
    // The formula with the factor 2 / pi on one term only gives 0.248, 0.592 and 0.931.
    let stable = AlphaStable::new(1.0, -0.5, 1.0, 0.0).unwrap();
    let values = sorted_draws(&stable, 164, N);
    let table = [(-2.0, 0.22106401), (0.0, 0.56248852), (2.0, 0.92498880)];
    assert_tabulated_cdf("S(1, -0.5)", &values, &table);
}

#[test]
fn stable_skewed_tabulated_cdf() {
    // CDFs of S(alpha, beta, 1, 0; 1) from scipy 1.17.1 `levy_stable.cdf` (S1, its default),
    // at x = -2, -0.5, 0, 1 and 3. These check the skew constants for alpha != 1.
    let cases = [
        (
            1.5,
            0.5,
            [0.11629980, 0.46218656, 0.59838908, 0.79678069, 0.93901648],
        ),
        (
            0.7,
            -0.3,
            [0.28367321, 0.56885597, 0.74197508, 0.85343181, 0.91032128],
        ),
        (
            1.2,
            1.0,
            [0.62750244, 0.80111457, 0.83333333, 0.87760142, 0.92425213],
        ),
    ];
    for (seed, (alpha, beta, cdf)) in (167..).zip(cases) {
        let stable = AlphaStable::new(alpha, beta, 1.0, 0.0).unwrap();
        let values = sorted_draws(&stable, seed, N);
        let table: Vec<(f64, f64)> = [-2.0, -0.5, 0.0, 1.0, 3.0].into_iter().zip(cdf).collect();
        assert_tabulated_cdf(&format!("S({alpha}, {beta})"), &values, &table);
    }
}

#[test]
fn ks_stable_f32_matches_f64_draws() {
    // f32 draws are the rounded f64 draws, so the two samples agree in distribution.
    let stable32 = AlphaStable::new(1.3f32, 0.4, 1.0, 0.0).unwrap();
    let stable64 = AlphaStable::new(1.3f64, 0.4, 1.0, 0.0).unwrap();
    let a = sorted_draws(&stable32, 165, 200_000);
    let b = sorted_draws(&stable64, 166, 200_000);
    let statistic = ks_two_sample_statistic(&a, &b);
    let critical = ks_two_sample_critical_value(a.len(), b.len());
    assert!(statistic < critical, "{statistic:.3e} >= {critical:.3e}");
}

#[test]
fn ks_multivariate_t_marginal() {
    // Each coordinate of the multivariate t with scale sigma is sigma times a t(nu) variable.
    let noise = MultivariateStudentT::new(3.0, 2.0).unwrap();
    let values = sorted_first_coordinates(&noise, 171, N);
    assert_ks("multivariate t(3) marginal", &values, |x| {
        student_t_cdf(x / 2.0, 3.0)
    });
}

#[test]
fn ks_sub_gaussian_stable_alpha_one_marginal_is_cauchy() {
    let noise = SubGaussianStable::new(1.0, 1.5).unwrap();
    let values = sorted_first_coordinates(&noise, 172, N);
    assert_ks("sub-Gaussian 1-stable marginal", &values, |x| {
        cauchy_cdf(x, 0.0, 1.5)
    });
}

#[test]
fn ks_sub_gaussian_stable_alpha_two_marginal_is_normal() {
    let noise = SubGaussianStable::new(2.0, 1.5).unwrap();
    let values = sorted_first_coordinates(&noise, 173, N);
    let std_dev = 2f64.sqrt() * 1.5;
    assert_ks("sub-Gaussian 2-stable marginal", &values, |x| {
        normal_cdf(x / std_dev)
    });
}

#[test]
fn ks_sub_gaussian_stable_marginal_matches_scalar_stable() {
    // The marginal of the sub-Gaussian alpha-stable vector is S(alpha, 0, gamma, 0; 1).
    for (seed, alpha) in [(174, 1.5), (176, 0.8)] {
        let noise = SubGaussianStable::new(alpha, 0.7).unwrap();
        let marginal = sorted_first_coordinates(&noise, seed, 300_000);
        let scalar = AlphaStable::new(alpha, 0.0, 0.7, 0.0).unwrap();
        let reference = sorted_draws(&scalar, seed + 1, 300_000);
        let statistic = ks_two_sample_statistic(&marginal, &reference);
        let critical = ks_two_sample_critical_value(marginal.len(), reference.len());
        assert!(
            statistic < critical,
            "alpha {alpha}: {statistic:.3e} >= {critical:.3e}"
        );
    }
}
