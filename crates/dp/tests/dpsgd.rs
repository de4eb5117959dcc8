//! The DP-SGD step: validation, the identity with the mini-batch SPP step, noise
//! calibration, the anchored variant and sampling.

use median_conformance::seeded_rng;
use median_core::online::{GeometricMedianTracker, OnlineEstimator, StepSchedule};
use median_dp::DpError;
use median_dp::accountant::SamplingScheme;
use median_dp::dpsgd::{
    AnchoredDpSgd, Clipping, DpConfig, DpGradient, fixed_size_sample, poisson_sample,
};
use median_linalg::{Backend, VecBackend};
use rand::RngExt;
use rand_distr::StandardNormal;

type B = VecBackend<f64>;

fn global(clip_norm: f64, sigma: f64, batch_size: f64) -> DpConfig {
    DpConfig {
        clipping: Clipping::Global { clip_norm },
        noise_multiplier: sigma,
        sampling: SamplingScheme::FixedSize,
        batch_size,
    }
}

fn invalid_name(result: Result<DpGradient<f64>, DpError>) -> &'static str {
    match result {
        Err(DpError::InvalidParameter { name, .. }) => name,
        other => panic!("expected an invalid parameter, got {other:?}"),
    }
}

#[test]
fn clip_norm_must_be_finite_and_positive() {
    for bad in [-1.0, f64::NAN, f64::INFINITY, 0.0] {
        assert_eq!(
            invalid_name(DpGradient::new(global(bad, 1.0, 4.0), 2)),
            "clip_norm"
        );
    }
}

#[test]
fn noise_multiplier_must_be_finite_and_nonnegative() {
    for bad in [-0.5, f64::NAN, f64::INFINITY] {
        assert_eq!(
            invalid_name(DpGradient::new(global(1.0, bad, 4.0), 2)),
            "noise_multiplier"
        );
    }
    assert!(DpGradient::<f64>::new(global(1.0, 0.0, 4.0), 2).is_ok());
}

#[test]
fn per_layer_needs_one_threshold_per_layer() {
    let config = DpConfig {
        clipping: Clipping::PerLayer {
            layer_sizes: vec![1, 1, 1],
            clip_norms: vec![1.0, 1.0],
        },
        noise_multiplier: 1.0,
        sampling: SamplingScheme::FixedSize,
        batch_size: 2.0,
    };
    match DpGradient::<f64>::new(config, 3) {
        Err(DpError::LayerMismatch {
            layers: 3,
            thresholds: 2,
        }) => {}
        other => panic!("expected a layer mismatch, got {other:?}"),
    }
}

#[test]
fn empty_batch_is_an_error() {
    let mut mechanism = DpGradient::<f64>::new(global(1.0, 1.0, 1.0), 3).unwrap();
    let batch = B::batch_from_rows(&[], 0, 3).unwrap();
    let result = mechanism.clipped_sum::<B>(&batch, &[0.0; 3]);
    assert_eq!(
        result.unwrap_err(),
        DpError::Core(median_core::Error::EmptyBatch)
    );
}

#[test]
fn mismatched_lengths_are_errors() {
    let ragged: [&[f64]; 3] = [&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], &[1.0, 2.0]];
    assert!(B::batch_from_gradients(&ragged).is_err());

    let mut mechanism = DpGradient::<f64>::new(global(1.0, 1.0, 2.0), 3).unwrap();
    let batch = B::batch_from_rows(&[1.0; 4], 2, 2).unwrap();
    match mechanism.clipped_sum::<B>(&batch, &[0.0; 3]) {
        Err(DpError::DimensionMismatch {
            what: "gradient",
            expected: 3,
            found: 2,
        }) => {}
        other => panic!("expected a dimension mismatch, got {other:?}"),
    }
}

#[test]
fn non_finite_sample_is_reported() {
    let mut mechanism = DpGradient::<f64>::new(global(1.0, 1.0, 2.0), 3).unwrap();
    let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 1.0, f64::INFINITY, 2.0], 2, 3).unwrap();
    match mechanism.clipped_sum::<B>(&batch, &[0.0; 3]) {
        Err(DpError::Core(median_core::Error::NonFinite {
            index: 1,
            coordinate: 1,
            ..
        })) => {}
        other => panic!("expected a non-finite error at gradient 1, got {other:?}"),
    }
}

#[test]
fn from_zero_equals_spp_step_plus_noise() {
    let (count, dim, clip_norm, sigma) = (8, 33, 0.7, 1.3);
    let mut rng = seeded_rng(21);
    let rows: Vec<f64> = (0..count * dim)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let batch = B::batch_from_rows(&rows, count, dim).unwrap();

    let mut mechanism = DpGradient::new(global(clip_norm, sigma, count as f64), dim).unwrap();
    let released = mechanism
        .privatize::<B, _>(&batch, &vec![0.0; dim], &mut seeded_rng(5))
        .unwrap();

    let mut tracker =
        GeometricMedianTracker::<B>::new(dim, StepSchedule::constant(clip_norm).unwrap());
    tracker.update_batch(&batch).unwrap();
    let mut noise_rng = seeded_rng(5);
    let std = sigma * clip_norm;
    for (j, (&found, &spp)) in released
        .as_slice()
        .iter()
        .zip(tracker.estimate())
        .enumerate()
    {
        let z: f64 = noise_rng.sample(StandardNormal);
        let expected = spp + (std * z) / count as f64;
        assert_eq!(found.to_bits(), expected.to_bits(), "coordinate {j}");
    }
}

/// Returns the sample standard deviation of the released gradients of an all-zero batch,
/// whose clipped sum is zero, so only noise remains.
fn released_noise_std(config: DpConfig, dim: usize, repetitions: usize) -> f64 {
    let count = config.batch_size as usize;
    let batch = B::batch_from_rows(&vec![0.0; count * dim], count, dim).unwrap();
    let mut mechanism = DpGradient::new(config, dim).unwrap();
    let mut rng = seeded_rng(33);
    let (mut sum, mut sum_sq, mut n) = (0.0, 0.0, 0.0);
    for _ in 0..repetitions {
        let released = mechanism
            .privatize::<B, _>(&batch, &vec![0.0; dim], &mut rng)
            .unwrap();
        for &v in released.as_slice() {
            sum += v;
            sum_sq += v * v;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum_sq / n - mean * mean).sqrt()
}

#[test]
fn noise_std_matches_global_calibration() {
    // 400 000 draws: the sample standard deviation is within 1% with overwhelming probability
    // (its relative standard error is 1/sqrt(2n) = 0.11%).
    let config = global(2.0, 1.5, 16.0);
    let expected = 1.5 * 2.0 / 16.0;
    let found = released_noise_std(config, 1000, 400);
    assert!(
        (found / expected - 1.0).abs() < 0.01,
        "std {found}, expected {expected}"
    );
}

#[test]
fn noise_std_matches_per_layer_calibration() {
    let config = DpConfig {
        clipping: Clipping::PerLayer {
            layer_sizes: vec![300, 700],
            clip_norms: vec![3.0, 4.0],
        },
        noise_multiplier: 0.8,
        sampling: SamplingScheme::Poisson,
        batch_size: 10.0,
    };
    // The sensitivity is sqrt(3^2 + 4^2) = 5.
    let expected = 0.8 * 5.0 / 10.0;
    let found = released_noise_std(config, 1000, 400);
    assert!(
        (found / expected - 1.0).abs() < 0.01,
        "std {found}, expected {expected}"
    );
}

#[test]
fn per_layer_clips_each_block() {
    let config = DpConfig {
        clipping: Clipping::PerLayer {
            layer_sizes: vec![2, 1],
            clip_norms: vec![1.0, 0.5],
        },
        noise_multiplier: 0.0,
        sampling: SamplingScheme::FixedSize,
        batch_size: 1.0,
    };
    let mut mechanism = DpGradient::new(config, 3).unwrap();
    let batch = B::batch_from_rows(&[3.0, 4.0, -2.0], 1, 3).unwrap();
    let sum = mechanism.clipped_sum::<B>(&batch, &[0.0; 3]).unwrap();
    // Block [3, 4] has norm 5, clipped to 1; block [-2] clipped to 0.5.
    for (found, expected) in sum.iter().zip([0.6, 0.8, -0.5]) {
        assert!((found - expected).abs() < 1e-15, "{found} vs {expected}");
    }
}

#[test]
fn poisson_divides_by_expected_batch_size() {
    let config = DpConfig {
        clipping: Clipping::Global { clip_norm: 10.0 },
        noise_multiplier: 0.0,
        sampling: SamplingScheme::Poisson,
        batch_size: 4.0,
    };
    let mut mechanism = DpGradient::new(config, 1).unwrap();
    let batch = B::batch_from_rows(&[1.0, 2.0], 2, 1).unwrap();
    let released = mechanism
        .privatize::<B, _>(&batch, &[0.0], &mut seeded_rng(1))
        .unwrap();
    assert_eq!(released.as_slice(), &[0.75]);
}

#[test]
fn fixed_size_rejects_other_batch_sizes() {
    let mut mechanism = DpGradient::new(global(1.0, 1.0, 3.0), 1).unwrap();
    let batch = B::batch_from_rows(&[1.0, 2.0], 2, 1).unwrap();
    let result = mechanism.privatize::<B, _>(&batch, &[0.0], &mut seeded_rng(1));
    assert!(matches!(result, Err(DpError::BatchSize { found: 2, .. })));
}

#[test]
fn anchored_step_moves_anchor_to_release() {
    let (count, dim) = (5, 7);
    let mut rng = seeded_rng(8);
    let mut anchored = AnchoredDpSgd::new(global(0.5, 1.0, count as f64), dim).unwrap();
    for _ in 0..3 {
        let rows: Vec<f64> = (0..count * dim)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        let batch = B::batch_from_rows(&rows, count, dim).unwrap();
        let released = anchored.step::<B, _>(&batch, &mut rng).unwrap();
        assert_eq!(anchored.anchor(), released.as_slice());
    }
}

#[test]
fn anchored_without_noise_is_spp_tracker() {
    let (count, dim, clip_norm) = (6, 9, 0.3);
    let mut rng = seeded_rng(9);
    let mut anchored = AnchoredDpSgd::new(global(clip_norm, 0.0, count as f64), dim).unwrap();
    let mut tracker =
        GeometricMedianTracker::<B>::new(dim, StepSchedule::constant(clip_norm).unwrap());
    for step in 0..5 {
        let rows: Vec<f64> = (0..count * dim)
            .map(|_| rng.random_range(-1.0..1.0) + 2.0)
            .collect();
        let batch = B::batch_from_rows(&rows, count, dim).unwrap();
        anchored.step::<B, _>(&batch, &mut seeded_rng(0)).unwrap();
        tracker.update_batch(&batch).unwrap();
        assert_eq!(anchored.anchor(), tracker.estimate(), "step {step}");
    }
}

#[test]
fn poisson_sample_has_rate_q() {
    let sample = poisson_sample(100_000, 0.03, &mut seeded_rng(4)).unwrap();
    let rate = sample.len() as f64 / 100_000.0;
    // Standard error sqrt(q (1 - q) / n) = 0.00054.
    assert!((rate - 0.03).abs() < 0.003, "rate {rate}");
    assert!(sample.windows(2).all(|w| w[0] < w[1]));
    assert!(poisson_sample(10, 1.5, &mut seeded_rng(4)).is_err());
}

#[test]
fn fixed_size_sample_is_distinct() {
    let mut sample = fixed_size_sample(50, 20, &mut seeded_rng(4)).unwrap();
    assert_eq!(sample.len(), 20);
    sample.sort_unstable();
    sample.dedup();
    assert_eq!(sample.len(), 20);
    assert!(sample.iter().all(|&i| i < 50));
    assert!(fixed_size_sample(5, 6, &mut seeded_rng(4)).is_err());
}

#[test]
fn dp_sgd_reports_epsilon_each_step() {
    use median_dp::accountant::RdpAccountant;
    use median_dp::dpsgd::{Anchor, DpSgd};

    let (count, dim, q) = (4, 3, 0.01);
    let config = DpConfig {
        clipping: Clipping::Global { clip_norm: 1.0 },
        noise_multiplier: 1.1,
        sampling: SamplingScheme::Poisson,
        batch_size: count as f64,
    };
    let mut optimizer = DpSgd::new(config, dim, Anchor::Zero, q).unwrap();
    let mut x = vec![1.0; dim];
    let batch = B::batch_from_rows(&[0.5; 12], count, dim).unwrap();
    let mut previous = 0.0;
    for step in 1..=5_u64 {
        optimizer
            .step::<B, _>(&mut x, 0.1, &batch, &mut seeded_rng(step))
            .unwrap();
        let epsilon = optimizer.epsilon(1e-5).unwrap();

        let mut reference = RdpAccountant::new();
        reference
            .compose(q, 1.1, step, SamplingScheme::Poisson)
            .unwrap();
        let expected = reference.epsilon(1e-5).unwrap().0;
        assert!((epsilon - expected).abs() < 1e-12 * expected, "step {step}");
        assert!(epsilon > previous, "epsilon must grow with the steps");
        previous = epsilon;
    }
}
