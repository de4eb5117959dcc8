//! Sample Median GD against mini-batch SGD: on a quadratic with state-dependent Cauchy noise,
//! and on least squares with corrupted targets.

use median_conformance::{random_vec, seeded_rng};
use median_core::batch::{GeometricMedian, Mean};
use median_linalg::VecBackend;
use median_noise::{Cauchy, Iid};
use median_sgd::{
    Dataset, ExactGradient, LeastSquares, MiniBatch, NoObserver, Problem, Quadratic,
    SampleMedianGd, Sampling, ScaleSource, Schedule, StateDependentNoise, run,
};

type B = VecBackend<f64>;

const DIM: usize = 10;
const SAMPLES: usize = 5;
const ITERATIONS: usize = 600;
const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Returns the final suboptimality `f(x_T) - f*` for the given aggregator and seed.
fn final_suboptimality<A>(aggregator: A, seed: u64) -> f64
where
    A: median_core::aggregate::Aggregator<B>,
{
    // A = diag(logspace(0, 2, 10)), minimiser (1, ..., 1), noise (1 + 0.1 ||x||) Cauchy(0, 1)
    // per coordinate; gamma lambda_max = 0.5.
    let problem = Quadratic::logspace(DIM, 0.0, 2.0, vec![1.0; DIM]).unwrap();
    let noise = Iid::new(Cauchy::new(0.0, 1.0).unwrap());
    let inner = ExactGradient::new(problem.clone());
    let mut oracle =
        StateDependentNoise::new(inner, noise, ScaleSource::Iterate, 1.0, 0.1).unwrap();
    let schedule = Schedule::constant(0.005).unwrap();
    let mut optimizer = SampleMedianGd::<B, A>::new(aggregator, schedule, SAMPLES).unwrap();
    let trajectory = run(
        &problem,
        &mut optimizer,
        &mut oracle,
        &[0.0; DIM],
        ITERATIONS,
        seed,
        &mut NoObserver,
    )
    .unwrap();
    trajectory.final_loss() - problem.optimal_loss().unwrap()
}

#[test]
fn geometric_median_beats_mean_under_cauchy_noise() {
    let mut median_runs: Vec<f64> = SEEDS
        .iter()
        .map(|&seed| final_suboptimality(GeometricMedian::<f64>::new(), seed))
        .collect();
    let mut mean_runs: Vec<f64> = SEEDS
        .iter()
        .map(|&seed| final_suboptimality(Mean::<f64>::new(), seed))
        .collect();
    let (median_gd, mean_sgd) = (median(&mut median_runs), median(&mut mean_runs));
    assert!(
        10.0 * median_gd <= mean_sgd,
        "median over seeds: Sample Median GD {median_gd}, mean-of-{SAMPLES} SGD {mean_sgd}"
    );
}

/// Returns `||w_T - w*||` after Sample Median GD with `aggregator` on least squares where
/// every tenth target is replaced by 1000.
fn outlier_error<A>(aggregator: A, seed: u64) -> f64
where
    A: median_core::aggregate::Aggregator<B>,
{
    let truth = [1.0, -2.0, 0.5];
    let mut rng = seeded_rng(seed);
    let features = random_vec::<f64>(&mut rng, 200 * 3);
    let noise = random_vec::<f64>(&mut rng, 200);
    let targets: Vec<f64> = (0..200)
        .map(|i| {
            let row = &features[3 * i..3 * i + 3];
            let clean = row[0] * truth[0] + row[1] * truth[1] + row[2] * truth[2];
            if i % 10 == 0 {
                1000.0
            } else {
                clean + 0.01 * noise[i]
            }
        })
        .collect();
    let problem =
        LeastSquares::least_squares(Dataset::new(features, 3, targets).unwrap(), 0.0).unwrap();

    // Per-sample gradients of 9 distinct samples per step.
    let mut oracle = MiniBatch::new(problem.clone(), 1, Sampling::WithoutReplacement).unwrap();
    let schedule = Schedule::constant(0.1).unwrap();
    let mut optimizer = SampleMedianGd::<B, A>::new(aggregator, schedule, 9).unwrap();
    let trajectory = run(
        &problem,
        &mut optimizer,
        &mut oracle,
        &[0.0; 3],
        300,
        seed,
        &mut NoObserver,
    )
    .unwrap();
    median_linalg::kernels::distance(&trajectory.point, &truth)
}

#[test]
fn geometric_median_resists_corrupted_targets() {
    let mut median_errors: Vec<f64> = SEEDS
        .iter()
        .map(|&seed| outlier_error(GeometricMedian::<f64>::new(), seed))
        .collect();
    let mut mean_errors: Vec<f64> = SEEDS
        .iter()
        .map(|&seed| outlier_error(Mean::<f64>::new(), seed))
        .collect();
    let (median_gd, mean_sgd) = (median(&mut median_errors), median(&mut mean_errors));
    assert!(
        10.0 * median_gd <= mean_sgd,
        "median over seeds of ||w - w*||: Sample Median GD {median_gd}, mean-of-9 SGD {mean_sgd}"
    );
}
