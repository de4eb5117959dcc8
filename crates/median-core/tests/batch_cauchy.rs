//! The variance of the median of `n` standard Cauchy samples, by seeded Monte Carlo through
//! the coordinate-wise median.
//!
//! The exact variances are 1.22125 (n = 5), 0.61208 (7), 0.40866 (9) and 0.30680 (11).
//! The plain sample mean of `med^2` converges slowly for small `n`, because `med^2` itself
//! has an infinite variance for n = 5 and 7. The test therefore uses a control variate with
//! a known mean: with `b = 1/2 + atan(med) / pi`, which follows a Beta(k+1, k+1) law for
//! `n = 2k + 1`, `med^2 = 1 / sin^2(pi b) - 1`, and
//! `w = 1 / (pi b)^2 + 1 / (pi (1 - b))^2` has the same poles and the mean
//! `2 (2a - 1)(2a - 2) / ((a - 1)(a - 2) pi^2)` with `a = k + 1`. The estimate
//! `mean(med^2 - w) + E[w]` has a bounded summand. A wrong order statistic changes the law
//! of `b`, so the check still fails for a wrong median.

use median_conformance::seeded_rng;
use median_core::batch::CoordinateMedian;
use median_linalg::{Backend, VecBackend};
use rand::RngExt;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

type B = VecBackend<f64>;

/// Number of independent medians per sample size: each is one coordinate of the batch.
const REPLICATES: usize = 100_000;

#[test]
fn median_of_cauchy_samples_has_known_variance() {
    let mut rng = seeded_rng(21);
    for (n, expected) in [(5, 1.22125), (7, 0.61208), (9, 0.40866), (11, 0.30680)] {
        // Row i contains the i-th draw of every replicate, so the coordinate-wise median of
        // the batch gives REPLICATES independent medians of n draws.
        let rows: Vec<f64> = (0..n * REPLICATES)
            .map(|_| {
                let numerator: f64 = rng.sample(StandardNormal);
                let denominator: f64 = rng.sample(StandardNormal);
                numerator / denominator
            })
            .collect();
        let batch = B::batch_from_rows(&rows, n, REPLICATES).unwrap();
        let medians = CoordinateMedian::new().estimate::<B>(&batch).unwrap();

        let a = (n / 2 + 1) as f64;
        let control_mean =
            2.0 * (2.0 * a - 1.0) * (2.0 * a - 2.0) / ((a - 1.0) * (a - 2.0) * PI * PI);
        let residual_sum: f64 = medians
            .iter()
            .map(|&m| {
                let b = 0.5 + m.atan() / PI;
                let control = 1.0 / (PI * b).powi(2) + 1.0 / (PI * (1.0 - b)).powi(2);
                m * m - control
            })
            .sum();
        let estimate = residual_sum / REPLICATES as f64 + control_mean;

        let relative_error = (estimate - expected).abs() / expected;
        assert!(
            relative_error <= 0.02,
            "n = {n}: estimate {estimate}, expected {expected}, relative error {relative_error}"
        );
    }
}
