//! Analytic gradients of every problem against central finite differences, and the mean of
//! the per-sample gradients against the full gradient.

use approx::assert_relative_eq;
use median_conformance::{TestRng, random_vec, seeded_rng};
use median_sgd::{
    Dataset, HuberRegression, LeastSquares, LogisticRegression, Mlp, MlpOutput, Problem, Quadratic,
    SoftmaxRegression,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::RngExt;

const SAMPLES: usize = 7;
const FEATURES: usize = 3;

fn config() -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed_0001),
        failure_persistence: None,
        cases: 32,
        ..ProptestConfig::default()
    }
}

/// Returns random features in [-1, 1) scaled by 2, with the given targets.
fn dataset(rng: &mut TestRng, targets: Vec<f64>) -> Dataset<f64> {
    let features: Vec<f64> = random_vec::<f64>(rng, SAMPLES * FEATURES)
        .into_iter()
        .map(|v| 2.0 * v)
        .collect();
    Dataset::new(features, FEATURES, targets).unwrap()
}

fn regression_targets(rng: &mut TestRng) -> Vec<f64> {
    random_vec::<f64>(rng, SAMPLES)
        .into_iter()
        .map(|v| 3.0 * v)
        .collect()
}

fn labels(rng: &mut TestRng, classes: usize) -> Vec<f64> {
    (0..SAMPLES)
        .map(|_| rng.random_range(0..classes) as f64)
        .collect()
}

/// Builds one instance of every problem from a seed.
fn problems(seed: u64) -> Vec<Box<dyn Problem<f64>>> {
    let mut rng = seeded_rng(seed);
    let l2 = rng.random_range(0.0..0.5);
    let eigenvalues: Vec<f64> = (0..4).map(|_| rng.random_range(0.1..10.0)).collect();
    let minimizer = random_vec::<f64>(&mut rng, 4);
    let quadratic = Quadratic::new(eigenvalues, minimizer).unwrap();
    let targets = regression_targets(&mut rng);
    let least_squares = LeastSquares::least_squares(dataset(&mut rng, targets), l2).unwrap();
    let binary = labels(&mut rng, 2);
    let logistic = LogisticRegression::logistic(dataset(&mut rng, binary), l2).unwrap();
    let targets = regression_targets(&mut rng);
    let huber = HuberRegression::huber(dataset(&mut rng, targets), 0.7, l2).unwrap();
    let classes = labels(&mut rng, 3);
    let softmax = SoftmaxRegression::new(dataset(&mut rng, classes), 3, l2).unwrap();
    let targets = regression_targets(&mut rng);
    let mlp_squared = Mlp::new(dataset(&mut rng, targets), 4, MlpOutput::Squared, l2).unwrap();
    let binary = labels(&mut rng, 2);
    let mlp_logistic = Mlp::new(dataset(&mut rng, binary), 3, MlpOutput::Logistic, l2).unwrap();
    vec![
        Box::new(quadratic),
        Box::new(least_squares),
        Box::new(logistic),
        Box::new(huber),
        Box::new(softmax),
        Box::new(mlp_squared),
        Box::new(mlp_logistic),
    ]
}

/// Returns the central difference `(f(x + h e_j) - f(x - h e_j)) / 2h` for every `j`.
fn finite_difference(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    let h = 1e-6;
    (0..x.len())
        .map(|j| {
            let mut plus = x.to_vec();
            let mut minus = x.to_vec();
            plus[j] += h;
            minus[j] -= h;
            (f(&plus) - f(&minus)) / (2.0 * h)
        })
        .collect()
}

fn assert_close(name: &str, analytic: &[f64], numeric: &[f64]) {
    for (j, (&a, &n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 1e-6 * (1.0 + a.abs()),
            "{name}: coordinate {j}: analytic {a}, finite difference {n}"
        );
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn full_gradients_match_finite_differences(seed in any::<u64>()) {
        for problem in problems(seed) {
            let x = random_vec::<f64>(&mut seeded_rng(seed ^ 1), problem.dim());
            let mut analytic = vec![0.0; problem.dim()];
            problem.gradient(&x, &mut analytic).unwrap();
            let numeric = finite_difference(|y| problem.loss(y).unwrap(), &x);
            assert_close(&problem.name(), &analytic, &numeric);
        }
    }

    #[test]
    fn sample_gradients_match_finite_differences(seed in any::<u64>()) {
        for problem in problems(seed) {
            let x = random_vec::<f64>(&mut seeded_rng(seed ^ 2), problem.dim());
            let i = (seed % problem.num_samples() as u64) as usize;
            let mut analytic = vec![0.0; problem.dim()];
            problem.sample_gradient(i, &x, &mut analytic).unwrap();
            let numeric = finite_difference(|y| problem.sample_loss(i, y).unwrap(), &x);
            assert_close(&problem.name(), &analytic, &numeric);
        }
    }

    #[test]
    fn mean_of_sample_gradients_is_full_gradient(seed in any::<u64>()) {
        for problem in problems(seed) {
            let x = random_vec::<f64>(&mut seeded_rng(seed ^ 3), problem.dim());
            let n = problem.num_samples();
            let mut full = vec![0.0; problem.dim()];
            problem.gradient(&x, &mut full).unwrap();
            let mut mean = vec![0.0; problem.dim()];
            let mut one = vec![0.0; problem.dim()];
            let mut mean_loss = 0.0;
            for i in 0..n {
                problem.sample_gradient(i, &x, &mut one).unwrap();
                mean_loss += problem.sample_loss(i, &x).unwrap() / n as f64;
                for (m, g) in mean.iter_mut().zip(&one) {
                    *m += g / n as f64;
                }
            }
            assert_relative_eq!(mean_loss, problem.loss(&x).unwrap(), epsilon = 1e-12, max_relative = 1e-12);
            for j in 0..problem.dim() {
                assert_relative_eq!(mean[j], full[j], epsilon = 1e-12, max_relative = 1e-12);
            }
        }
    }
}

/// The f32 gradients agree with the f64 ones to single precision.
#[test]
fn f32_gradients_match_f64() {
    let mut rng = seeded_rng(11);
    let features = random_vec::<f64>(&mut rng, SAMPLES * FEATURES);
    let classes: Vec<f64> = (0..SAMPLES).map(|i| (i % 3) as f64).collect();
    let data64 = Dataset::new(features.clone(), FEATURES, classes.clone()).unwrap();
    let data32 = Dataset::new(
        features.iter().map(|&v| v as f32).collect(),
        FEATURES,
        classes.iter().map(|&v| v as f32).collect(),
    )
    .unwrap();
    let softmax64 = SoftmaxRegression::new(data64.clone(), 3, 0.1).unwrap();
    let softmax32 = SoftmaxRegression::new(data32.clone(), 3, 0.1).unwrap();
    let mlp64 = Mlp::new(data64, 2, MlpOutput::Squared, 0.1).unwrap();
    let mlp32 = Mlp::new(data32, 2, MlpOutput::Squared, 0.1).unwrap();

    let pairs: [(&dyn Problem<f64>, &dyn Problem<f32>); 2] =
        [(&softmax64, &softmax32), (&mlp64, &mlp32)];
    for (p64, p32) in pairs {
        let x64 = random_vec::<f64>(&mut rng, p64.dim());
        let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
        let mut g64 = vec![0.0; p64.dim()];
        let mut g32 = vec![0.0f32; p32.dim()];
        p64.gradient(&x64, &mut g64).unwrap();
        p32.gradient(&x32, &mut g32).unwrap();
        for j in 0..g64.len() {
            assert_relative_eq!(
                f64::from(g32[j]),
                g64[j],
                epsilon = 1e-5,
                max_relative = 1e-4
            );
        }
        assert_relative_eq!(
            f64::from(p32.loss(&x32).unwrap()),
            p64.loss(&x64).unwrap(),
            max_relative = 1e-5
        );
    }
}
