//! Ten million standard Cauchy draws in `f32` and in `f64`: none infinite or NaN (the
//! sampler never meets the `tan` pole), the median near 0 and `P(|X| < 1)` near 1/2.

use median_conformance::seeded_rng;
use median_linalg::Scalar;
use median_noise::Cauchy;
use rand::RngExt;

const N: usize = 10_000_000;

/// Draws `N` standard Cauchy values of type `F` and checks them.
fn check_ten_million<F: Scalar>(seed: u64) {
    let cauchy = Cauchy::<F>::new(F::zero(), F::one()).unwrap();
    let mut rng = seeded_rng(seed);
    let mut values: Vec<f64> = (0..N)
        .map(|_| rng.sample::<F, _>(&cauchy).into_f64())
        .collect();

    let non_finite = values.iter().filter(|v| !v.is_finite()).count();
    assert_eq!(non_finite, 0, "{}: {non_finite} non-finite draws", F::NAME);

    // The standard error of P(|X| < 1) is 1.6e-4 and that of the median 5e-4.
    let inside = values.iter().filter(|v| v.abs() < 1.0).count() as f64 / N as f64;
    assert!(
        (inside - 0.5).abs() < 0.002,
        "{}: P(|X| < 1) = {inside}",
        F::NAME
    );

    let median = *values.select_nth_unstable_by(N / 2, f64::total_cmp).1;
    assert!(median.abs() < 0.002, "{}: median {median}", F::NAME);
}

#[test]
fn cauchy_ten_million_f64() {
    check_ten_million::<f64>(171);
}

#[test]
fn cauchy_ten_million_f32() {
    check_ten_million::<f32>(172);
}
