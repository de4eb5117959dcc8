//! The tracker optimizer's one-gradient step, which updates the estimate and the point in
//! one fused pass, against the estimator's `update` followed by the descent written here.

use median_conformance::{bits, random_vec, seeded_rng};
use median_core::online::{
    GeometricMedianTracker, HuberTracker, OnlineEstimator, StepSchedule,
    WeightedGeometricMedianTracker,
};
use median_linalg::VecBackend;
use median_linalg::kernels::PARALLEL_MIN_LEN;
use median_sgd::{GradientOracle, Optimizer, Schedule, SgdError, Tracker, rng_from_seed};
use rand::Rng;

type B = VecBackend<f64>;

/// An oracle that hands out stored gradients in turn, whatever the point.
struct Cycle {
    gradients: Vec<Vec<f64>>,
    next: usize,
}

impl Cycle {
    fn new(seed: u64, count: usize, dim: usize) -> Self {
        let mut rng = seeded_rng(seed);
        let gradients = (0..count)
            .map(|i| {
                let g = random_vec::<f64>(&mut rng, dim);
                // Gradient i is scaled by 4^i, so that some steps clip and some do not.
                g.iter().map(|v| v * 4f64.powi(i as i32 - 1)).collect()
            })
            .collect();
        Self { gradients, next: 0 }
    }
}

impl GradientOracle<f64> for Cycle {
    fn dim(&self) -> usize {
        self.gradients[0].len()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        _x: &[f64],
        out: &mut [f64],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        out.copy_from_slice(&self.gradients[self.next % self.gradients.len()]);
        self.next += 1;
        Ok(())
    }
}

/// Runs `steps` tracker steps and the same steps by hand (`update`, then
/// `x <- x - gamma m`) and checks that point and estimate agree bit for bit.
fn check_steps<E: OnlineEstimator<B> + Clone>(name: &str, estimator: E, dim: usize) {
    let gamma = 0.05;
    let mut optimizer = Tracker::new(estimator.clone(), Schedule::constant(gamma).unwrap());
    let mut by_hand = estimator;
    let mut oracle = Cycle::new(41, 3, dim);
    let mut reference_oracle = Cycle::new(41, 3, dim);
    let mut x = random_vec::<f64>(&mut seeded_rng(42), dim);
    let mut reference = x.clone();
    let mut rng = rng_from_seed(0);
    let mut g = vec![0.0; dim];
    for step in 0..6 {
        optimizer.step(&mut x, &mut oracle, &mut rng).unwrap();
        reference_oracle.draw(&reference, &mut g, &mut rng).unwrap();
        by_hand.update(&g).unwrap();
        for (xj, &mj) in reference.iter_mut().zip(by_hand.estimate()) {
            *xj -= gamma * mj;
        }
        assert_eq!(
            bits(&x),
            bits(&reference),
            "{name}: point after step {step}"
        );
        assert_eq!(
            bits(optimizer.estimator().estimate()),
            bits(by_hand.estimate()),
            "{name}: estimate after step {step}"
        );
    }
}

#[test]
fn fused_step_matches_update_then_descent() {
    for dim in [5, PARALLEL_MIN_LEN + 3] {
        let schedule = StepSchedule::constant(0.3 * (dim as f64).sqrt()).unwrap();
        check_steps("E2", GeometricMedianTracker::<B>::new(dim, schedule), dim);
        check_steps(
            "E2 averaged",
            GeometricMedianTracker::<B>::new(dim, schedule).with_averaging(),
            dim,
        );
        check_steps(
            "E6",
            HuberTracker::<B>::new(dim, 0.2, schedule).unwrap(),
            dim,
        );
        check_steps(
            "E8",
            WeightedGeometricMedianTracker::<B>::new(dim, &[1.0, 2.0], schedule).unwrap(),
            dim,
        );
    }
}

#[test]
fn non_finite_gradient_names_its_coordinate() {
    let dim = PARALLEL_MIN_LEN + 10;
    let mut oracle = Cycle::new(43, 1, dim);
    oracle.gradients[0][PARALLEL_MIN_LEN + 4] = f64::NEG_INFINITY;
    let schedule = StepSchedule::constant(1.0).unwrap();
    let mut optimizer = Tracker::new(
        GeometricMedianTracker::<B>::new(dim, schedule),
        Schedule::constant(0.1).unwrap(),
    );
    let mut x = vec![2.0; dim];
    let result = optimizer.step(&mut x, &mut oracle, &mut rng_from_seed(0));
    assert!(
        matches!(
            result,
            Err(SgdError::NonFinite { what: "gradient", index, value })
                if index == PARALLEL_MIN_LEN + 4 && value == f64::NEG_INFINITY
        ),
        "{result:?}"
    );
    assert_eq!(x, vec![2.0; dim]);
    assert_eq!(optimizer.iteration(), 0);
    assert!(optimizer.estimator().estimate().iter().all(|&m| m == 0.0));
}

#[test]
fn diverging_point_is_reported() {
    let dim = PARALLEL_MIN_LEN + 1;
    let mut oracle = Cycle::new(44, 1, dim);
    oracle.gradients[0].fill(1e300);
    let schedule = StepSchedule::constant(f64::INFINITY).unwrap();
    let mut optimizer = Tracker::new(
        GeometricMedianTracker::<B>::new(dim, schedule),
        Schedule::constant(1e10).unwrap(),
    );
    let mut x = vec![0.0; dim];
    let result = optimizer.step(&mut x, &mut oracle, &mut rng_from_seed(0));
    assert!(
        matches!(
            result,
            Err(SgdError::NonFinite {
                what: "point",
                index: 0,
                ..
            })
        ),
        "{result:?}"
    );
}
