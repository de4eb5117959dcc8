//! Heavy-tail sanity: for Cauchy samples the sample median concentrates as `n` grows while
//! the sample mean does not (the mean of `n` standard Cauchy draws is again standard
//! Cauchy, whatever `n`).

use median_conformance::seeded_rng;
use median_noise::Cauchy;
use rand::RngExt;

/// Returns the interquartile range of `values`.
fn interquartile_range(values: &mut [f64]) -> f64 {
    values.sort_unstable_by(f64::total_cmp);
    let n = values.len();
    values[3 * n / 4] - values[n / 4]
}

/// Returns the means and medians of `n` standard Cauchy draws for each of `seeds` seeds.
fn means_and_medians(n: usize, seeds: u64, seed_base: u64) -> (Vec<f64>, Vec<f64>) {
    let cauchy = Cauchy::new(0.0, 1.0).unwrap();
    let mut means = Vec::new();
    let mut medians = Vec::new();
    for seed in 0..seeds {
        let mut rng = seeded_rng(seed_base + seed);
        let mut sample: Vec<f64> = (0..n).map(|_| rng.sample(cauchy)).collect();
        means.push(sample.iter().sum::<f64>() / n as f64);
        medians.push(*sample.select_nth_unstable_by(n / 2, f64::total_cmp).1);
    }
    (means, medians)
}

#[test]
fn cauchy_median_converges_mean_does_not() {
    let seeds = 60;
    let (mut small_means, mut small_medians) = means_and_medians(1_000, seeds, 5_000);
    let (mut large_means, mut large_medians) = means_and_medians(100_000, seeds, 6_000);

    // The median's spread shrinks like 1 / sqrt(n): by 10 from n = 1e3 to n = 1e5.
    let small_median_iqr = interquartile_range(&mut small_medians);
    let large_median_iqr = interquartile_range(&mut large_medians);
    assert!(
        large_median_iqr < small_median_iqr / 5.0,
        "median IQR {small_median_iqr} -> {large_median_iqr}"
    );

    // The mean's spread stays that of a standard Cauchy (IQR 2) at both sizes.
    let small_mean_iqr = interquartile_range(&mut small_means);
    let large_mean_iqr = interquartile_range(&mut large_means);
    assert!(
        large_mean_iqr > small_mean_iqr / 2.0,
        "mean IQR {small_mean_iqr} -> {large_mean_iqr}"
    );
    for iqr in [small_mean_iqr, large_mean_iqr] {
        assert!(iqr > 1.0, "mean IQR {iqr} is far below the Cauchy IQR 2");
    }
}
