//! Optimizer contracts: parameter validation, typed errors, reproducible runs, the observer
//! hook, the tracker's options, and training on a classification problem.

use approx::assert_relative_eq;
use median_core::batch::{CoordinateMedian, Mean};
use median_core::online::{GeometricMedianTracker, OnlineEstimator, StepSchedule};
use median_linalg::VecBackend;
use median_sgd::{
    Adam, Classifier, Clip21, ClipKind, ClippedSgd, Dataset, ExactGradient, GradientOracle,
    Initialization, IterationRecord, LeastSquares, LogisticRegression, MiniBatch, Momentum,
    MomentumForm, Nesterov, NoObserver, NormalizedSgd, Optimizer, Problem, Quadratic,
    SampleMedianGd, Sampling, Schedule, Sgd, SgdError, SoftmaxRegression, Tracker, WorkerShards,
    rng_from_seed, run,
};
use rand::{Rng, RngExt};

type B = VecBackend<f64>;

fn gamma(value: f64) -> Schedule {
    Schedule::constant(value).unwrap()
}

fn quadratic() -> Quadratic<f64> {
    Quadratic::logspace(3, 0.0, 1.0, vec![1.0, -1.0, 2.0]).unwrap()
}

#[test]
fn constructors_reject_invalid_hyperparameters() {
    let cases: Vec<(&str, Result<(), SgdError>)> = vec![
        (
            "beta",
            Momentum::<f64>::new(gamma(0.1), 1.0, MomentumForm::Ema).map(|_| ()),
        ),
        (
            "beta",
            Momentum::<f64>::new(gamma(0.1), -0.1, MomentumForm::HeavyBall).map(|_| ()),
        ),
        (
            "beta",
            Nesterov::<f64>::new(gamma(0.1), f64::NAN).map(|_| ()),
        ),
        (
            "tau",
            ClippedSgd::<f64>::new(gamma(0.1), 0.0, ClipKind::Norm).map(|_| ()),
        ),
        (
            "tau",
            ClippedSgd::<f64>::new(gamma(0.1), f64::INFINITY, ClipKind::Coordinate).map(|_| ()),
        ),
        (
            "beta1",
            Adam::<f64>::new(gamma(0.1), 1.0, 0.999, 1e-8).map(|_| ()),
        ),
        (
            "beta2",
            Adam::<f64>::new(gamma(0.1), 0.9, 1.5, 1e-8).map(|_| ()),
        ),
        (
            "eps",
            Adam::<f64>::new(gamma(0.1), 0.9, 0.999, 0.0).map(|_| ()),
        ),
        ("tau", Clip21::<f64>::new(gamma(0.1), -1.0, 2).map(|_| ())),
        (
            "workers",
            Clip21::<f64>::new(gamma(0.1), 1.0, 0).map(|_| ()),
        ),
        (
            "samples",
            SampleMedianGd::<B, _>::new(Mean::<f64>::new(), gamma(0.1), 0).map(|_| ()),
        ),
    ];
    for (expected, result) in cases {
        match result {
            Err(SgdError::InvalidParameter { name, .. }) => assert_eq!(name, expected),
            other => panic!("{expected}: expected InvalidParameter, got {other:?}"),
        }
    }
    let schedule = StepSchedule::constant(1.0).unwrap();
    let tracker = Tracker::new(GeometricMedianTracker::<B>::new(3, schedule), gamma(0.1));
    assert!(matches!(
        tracker.with_batch(0),
        Err(SgdError::InvalidParameter { name: "batch", .. })
    ));
}

#[test]
fn step_rejects_wrong_dimension() {
    let mut oracle = ExactGradient::new(quadratic());
    let mut x = [0.0; 2];
    let result = Sgd::new(gamma(0.1)).step(&mut x, &mut oracle, &mut rng_from_seed(0));
    assert!(matches!(
        result,
        Err(SgdError::DimensionMismatch {
            expected: 3,
            found: 2,
            ..
        })
    ));
    assert_eq!(x, [0.0; 2]);
}

#[test]
fn step_reports_divergence_as_non_finite() {
    // Eigenvalue 1e300 and step 1e10 overflow the point on the first step.
    let problem = Quadratic::new(vec![1e300], vec![0.0]).unwrap();
    let mut oracle = ExactGradient::new(problem);
    let mut x = [1.0];
    let result = Sgd::new(gamma(1e10)).step(&mut x, &mut oracle, &mut rng_from_seed(0));
    assert!(matches!(
        result,
        Err(SgdError::NonFinite { what: "point", .. })
    ));
}

/// An oracle whose second coordinate is NaN.
struct NanOracle;

impl GradientOracle<f64> for NanOracle {
    fn dim(&self) -> usize {
        2
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        _x: &[f64],
        out: &mut [f64],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        out.copy_from_slice(&[1.0, f64::NAN]);
        Ok(())
    }
}

#[test]
fn nan_gradient_is_an_error_and_leaves_point() {
    let mut rng = rng_from_seed(0);
    let mut x = [1.0, 2.0];
    let schedule = StepSchedule::constant(1.0).unwrap();
    let mut tracker = Tracker::new(GeometricMedianTracker::<B>::new(2, schedule), gamma(0.1));
    let mut median =
        SampleMedianGd::<B, _>::new(CoordinateMedian::<f64>::new(), gamma(0.1), 3).unwrap();
    let results = [
        Sgd::new(gamma(0.1)).step(&mut x, &mut NanOracle, &mut rng),
        Adam::new(gamma(0.1), 0.9, 0.999, 1e-8)
            .unwrap()
            .step(&mut x, &mut NanOracle, &mut rng),
        tracker.step(&mut x, &mut NanOracle, &mut rng),
        median.step(&mut x, &mut NanOracle, &mut rng),
        Clip21::new(gamma(0.1), 1.0, 2)
            .unwrap()
            .step(&mut x, &mut NanOracle, &mut rng),
    ];
    for result in results {
        assert!(
            matches!(
                result,
                Err(SgdError::NonFinite {
                    what: "gradient",
                    index: 1,
                    ..
                })
            ),
            "{result:?}"
        );
    }
    assert_eq!(x, [1.0, 2.0]);
}

#[test]
fn clip21_rejects_mismatched_worker_count() {
    let data = Dataset::new(vec![1.0; 4], 1, vec![0.0; 4]).unwrap();
    let mut oracle = WorkerShards::new(LeastSquares::least_squares(data, 0.0).unwrap(), 2).unwrap();
    let mut opt = Clip21::new(gamma(0.1), 1.0, 3).unwrap();
    let result = opt.step(&mut [0.0], &mut oracle, &mut rng_from_seed(0));
    assert!(matches!(
        result,
        Err(SgdError::WorkerCount {
            expected: 3,
            found: 2
        })
    ));
}

/// Builds a noisy least-squares problem and a mini-batch oracle on it.
fn noisy_least_squares() -> (LeastSquares<f64>, MiniBatch<LeastSquares<f64>, f64>) {
    let mut rng = median_conformance::seeded_rng(21);
    let features = median_conformance::random_vec::<f64>(&mut rng, 40 * 3);
    // Targets from the weights (1, -2, 0.5) plus noise uniform in [-0.1, 0.1).
    let noise = median_conformance::random_vec::<f64>(&mut rng, 40);
    let targets: Vec<f64> = (0..40)
        .map(|i| {
            let row = &features[3 * i..3 * i + 3];
            row[0] - 2.0 * row[1] + 0.5 * row[2] + 0.1 * noise[i]
        })
        .collect();
    let problem =
        LeastSquares::least_squares(Dataset::new(features, 3, targets).unwrap(), 0.01).unwrap();
    let oracle = MiniBatch::new(problem.clone(), 4, Sampling::WithReplacement).unwrap();
    (problem, oracle)
}

#[test]
fn run_is_a_function_of_its_seed() {
    let (problem, mut oracle) = noisy_least_squares();
    let mut sgd = Sgd::new(gamma(0.2));
    let first = run(
        &problem,
        &mut sgd,
        &mut oracle,
        &[0.0; 3],
        50,
        9,
        &mut NoObserver,
    )
    .unwrap();
    let again = run(
        &problem,
        &mut sgd,
        &mut oracle,
        &[0.0; 3],
        50,
        9,
        &mut NoObserver,
    )
    .unwrap();
    let other = run(
        &problem,
        &mut sgd,
        &mut oracle,
        &[0.0; 3],
        50,
        10,
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(first, again);
    assert_ne!(first.losses, other.losses);
    assert_eq!(first.losses.len(), 51);
    assert_eq!(first.gradients, 50);
}

#[test]
fn observer_sees_every_iteration() {
    let (problem, mut oracle) = noisy_least_squares();
    let mut opt = Momentum::new(
        Schedule::inv_sqrt(0.2).unwrap(),
        0.9,
        MomentumForm::HeavyBall,
    )
    .unwrap();
    let mut records: Vec<(usize, f64, f64, usize)> = Vec::new();
    let mut observer = |r: &IterationRecord<'_, f64>| {
        records.push((r.iteration, r.step_size, r.loss.unwrap(), r.gradients));
        assert_eq!(r.point.len(), 3);
    };
    let trajectory = run(
        &problem,
        &mut opt,
        &mut oracle,
        &[0.0; 3],
        20,
        3,
        &mut observer,
    )
    .unwrap();
    assert_eq!(records.len(), 20);
    for (t, &(iteration, step_size, loss, gradients)) in records.iter().enumerate() {
        assert_eq!(iteration, t);
        assert_eq!(step_size, 0.2 / ((t + 1) as f64).sqrt());
        assert_eq!(loss, trajectory.losses[t + 1]);
        assert_eq!(gradients, t + 1);
    }
}

#[test]
fn tracker_first_gradient_start_takes_sgd_step() {
    // With m_1 = g_0 the first step is the SGD step, whatever tau.
    let mut oracle = ExactGradient::new(quadratic());
    let schedule = StepSchedule::constant(1e-3).unwrap();
    let mut tracker = Tracker::new(GeometricMedianTracker::<B>::new(3, schedule), gamma(0.1))
        .with_initialization(Initialization::FirstGradient);
    let mut sgd = Sgd::new(gamma(0.1));
    let (mut x_tracker, mut x_sgd) = ([0.0; 3], [0.0; 3]);
    tracker
        .step(&mut x_tracker, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    sgd.step(&mut x_sgd, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    assert_eq!(x_tracker, x_sgd);

    // The second step moves the estimate by at most tau from g_0.
    let before = tracker.estimator().estimate().to_vec();
    tracker
        .step(&mut x_tracker, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    let moved = median_linalg::kernels::distance(&before, tracker.estimator().estimate());
    assert!(moved <= 1e-3 * (1.0 + 1e-12));
}

#[test]
fn tracker_batch_at_infinite_tau_is_minibatch_mean() {
    // The surrogate m + (1/b) sum (g_i - m) from m = 0 equals the mean of the b gradients
    // up to rounding.
    let (_, mut oracle_a) = noisy_least_squares();
    let (_, mut oracle_b) = noisy_least_squares();
    let schedule = StepSchedule::constant(f64::INFINITY).unwrap();
    let mut tracker = Tracker::new(GeometricMedianTracker::<B>::new(3, schedule), gamma(0.1))
        .with_anchor_reset(true)
        .with_batch(4)
        .unwrap();
    let mut mean = SampleMedianGd::<B, _>::new(Mean::<f64>::new(), gamma(0.1), 4).unwrap();
    let (mut rng_a, mut rng_b) = (rng_from_seed(4), rng_from_seed(4));
    let (mut x_a, mut x_b) = ([0.0; 3], [0.0; 3]);
    for _ in 0..20 {
        assert_eq!(
            tracker
                .step(&mut x_a, &mut oracle_a, &mut rng_a)
                .unwrap()
                .gradients,
            4
        );
        mean.step(&mut x_b, &mut oracle_b, &mut rng_b).unwrap();
    }
    for j in 0..3 {
        assert_relative_eq!(x_a[j], x_b[j], epsilon = 1e-12);
    }
}

#[test]
fn normalized_sgd_moves_by_gamma() {
    let mut oracle = ExactGradient::new(quadratic());
    let mut x = [0.0; 3];
    let mut opt = NormalizedSgd::new(gamma(0.25));
    opt.step(&mut x, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    assert_relative_eq!(median_linalg::kernels::norm(&x), 0.25, max_relative = 1e-15);

    // At the minimiser the gradient is zero and the point stays.
    let mut at_min = [1.0, -1.0, 2.0];
    opt.step(&mut at_min, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    assert_eq!(at_min, [1.0, -1.0, 2.0]);
}

#[test]
fn optimizers_decrease_the_loss_on_least_squares() {
    let (problem, mut oracle) = noisy_least_squares();
    let start = problem.loss(&[0.0; 3]).unwrap();
    let schedule = StepSchedule::constant(0.5).unwrap();
    let mut optimizers: Vec<(String, f64)> = Vec::new();
    macro_rules! check {
        ($opt:expr) => {{
            let mut opt = $opt;
            let t = run(
                &problem,
                &mut opt,
                &mut oracle,
                &[0.0; 3],
                300,
                5,
                &mut NoObserver,
            )
            .unwrap();
            optimizers.push((opt.name(), t.final_loss()));
        }};
    }
    check!(Sgd::new(gamma(0.1)));
    check!(Momentum::new(gamma(0.05), 0.5, MomentumForm::HeavyBall).unwrap());
    check!(Nesterov::new(gamma(0.05), 0.5).unwrap());
    check!(ClippedSgd::new(gamma(0.1), 0.5, ClipKind::Norm).unwrap());
    check!(NormalizedSgd::new(Schedule::inv_sqrt(0.1).unwrap()));
    check!(Adam::new(gamma(0.02), 0.9, 0.999, 1e-8).unwrap());
    check!(Tracker::new(
        GeometricMedianTracker::<B>::new(3, schedule),
        gamma(0.1)
    ));
    check!(SampleMedianGd::<B, _>::new(CoordinateMedian::<f64>::new(), gamma(0.1), 5).unwrap());
    for (name, loss) in optimizers {
        assert!(loss < 0.1 * start, "{name}: loss {loss} from {start}");
    }
}

#[test]
fn logistic_and_softmax_training_reach_high_accuracy() {
    // Three well-separated clusters at (2, 2), (-2, -2) and (2, -2). The binary task
    // separates the cluster at (-2, -2) from the other two.
    let mut rng = median_conformance::seeded_rng(33);
    let centers = [[2.0, 2.0], [-2.0, -2.0], [2.0, -2.0]];
    let mut features = Vec::new();
    let mut labels = Vec::new();
    for i in 0..90 {
        let c = i % 3;
        features.push(centers[c][0] + rng.random_range(-0.5..0.5));
        features.push(centers[c][1] + rng.random_range(-0.5..0.5));
        labels.push(c as f64);
    }
    let three = Dataset::new(features.clone(), 2, labels.clone()).unwrap();
    let softmax = SoftmaxRegression::new(three.clone(), 3, 1e-3).unwrap();
    let mut oracle = MiniBatch::new(softmax.clone(), 8, Sampling::WithoutReplacement).unwrap();
    let mut sgd = Sgd::new(gamma(0.5));
    let t = run(
        &softmax,
        &mut sgd,
        &mut oracle,
        &[0.0; 6],
        200,
        1,
        &mut NoObserver,
    )
    .unwrap();
    assert!(softmax.accuracy(&t.point, &three).unwrap() >= 0.95);

    let binary: Vec<f64> = labels
        .iter()
        .map(|&c| if c == 1.0 { 1.0 } else { 0.0 })
        .collect();
    let two = Dataset::new(features, 2, binary).unwrap();
    let logistic = LogisticRegression::logistic(two.clone(), 1e-3).unwrap();
    let mut oracle = MiniBatch::new(logistic.clone(), 8, Sampling::WithoutReplacement).unwrap();
    let t = run(
        &logistic,
        &mut sgd,
        &mut oracle,
        &[0.0; 2],
        200,
        2,
        &mut NoObserver,
    )
    .unwrap();
    assert!(logistic.accuracy(&t.point, &two).unwrap() >= 0.95);
}
