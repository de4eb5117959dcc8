//! Known methods as special cases of the median tracker, on `VecBackend<f32>` and
//! `VecBackend<f64>`. With the geometric-median step E2 (`m + clip_tau(g - m)`): SGD at
//! `tau = inf`, clipped SGD with the anchor reset to zero. With the mean step E1: EMA
//! momentum. With the coordinate-median step E3 from zero: coordinate clipping and scaled
//! signSGD.

use median_core::online::{
    CoordinateMedianTracker, EmaTracker, GeometricMedianTracker, StepSchedule,
};
use median_linalg::{Backend, Float, Scalar, VecBackend};
use median_noise::Iid;
use median_sgd::{
    ClipKind, ClippedSgd, ExactGradient, Momentum, MomentumForm, Optimizer, Quadratic, ScaleSource,
    Schedule, Sgd, SignSgd, StateDependentNoise, Tracker, rng_from_seed,
};
use rand_distr::{Distribution, StandardNormal};

const DIM: usize = 5;
const STEPS: usize = 60;

/// Builds the noisy quadratic that every case runs on: eigenvalues 1 to 100, minimiser
/// (1, ..., 1), Gaussian noise of scale 0.5 + 0.2 ||x||.
fn oracle<S: Scalar>() -> StateDependentNoise<ExactGradient<Quadratic<S>>, Iid<StandardNormal>>
where
    StandardNormal: Distribution<S>,
{
    let problem = Quadratic::logspace(DIM, 0.0, 2.0, vec![S::one(); DIM]).unwrap();
    let noise = Iid::new(StandardNormal);
    let inner = ExactGradient::new(problem);
    StateDependentNoise::new(inner, noise, ScaleSource::Iterate, 0.5, 0.2).unwrap()
}

/// Runs `STEPS` steps from x_0 = 0 with seed 17 and returns every iterate.
fn iterates<S: Scalar, O: Optimizer<S>>(optimizer: &mut O) -> Vec<Vec<S>>
where
    StandardNormal: Distribution<S>,
{
    let mut oracle = oracle::<S>();
    let mut rng = rng_from_seed(17);
    let mut x = vec![S::zero(); DIM];
    let mut out = Vec::with_capacity(STEPS);
    for _ in 0..STEPS {
        optimizer.step(&mut x, &mut oracle, &mut rng).unwrap();
        out.push(x.clone());
    }
    out
}

fn assert_bitwise<S: Scalar>(case: &str, left: &[Vec<S>], right: &[Vec<S>]) {
    for (t, (a, b)) in left.iter().zip(right).enumerate() {
        for j in 0..DIM {
            assert_eq!(
                a[j].into_f64().to_bits(),
                b[j].into_f64().to_bits(),
                "{case} ({}): step {t}, coordinate {j}: {} != {}",
                S::NAME,
                a[j],
                b[j]
            );
        }
    }
}

fn gamma() -> Schedule {
    Schedule::constant(0.005).unwrap()
}

fn tracker_at_infinite_tau_is_sgd<B: Backend>()
where
    StandardNormal: Distribution<B::Scalar>,
{
    let schedule = StepSchedule::constant(B::Scalar::infinity()).unwrap();
    let mut tracker = Tracker::new(GeometricMedianTracker::<B>::new(DIM, schedule), gamma());
    let mut sgd = Sgd::<B::Scalar>::new(gamma());
    assert_bitwise(
        "E2 at tau = inf vs SGD",
        &iterates(&mut tracker),
        &iterates(&mut sgd),
    );
}

#[test]
fn tracker_at_infinite_tau_is_sgd_f32() {
    tracker_at_infinite_tau_is_sgd::<VecBackend<f32>>();
}

#[test]
fn tracker_at_infinite_tau_is_sgd_f64() {
    tracker_at_infinite_tau_is_sgd::<VecBackend<f64>>();
}

fn tracker_with_reset_is_clipped_sgd<B: Backend>()
where
    StandardNormal: Distribution<B::Scalar>,
{
    // tau = 2 clips the early gradients (norm near 100) and leaves many late ones alone.
    let tau = 2.0;
    let schedule = StepSchedule::constant(B::Scalar::of_f64(tau)).unwrap();
    let mut tracker = Tracker::new(GeometricMedianTracker::<B>::new(DIM, schedule), gamma())
        .with_anchor_reset(true);
    let mut clipped = ClippedSgd::<B::Scalar>::new(gamma(), tau, ClipKind::Norm).unwrap();
    assert_bitwise(
        "E2 with anchor reset vs clipped SGD",
        &iterates(&mut tracker),
        &iterates(&mut clipped),
    );
}

#[test]
fn tracker_with_reset_is_clipped_sgd_f32() {
    tracker_with_reset_is_clipped_sgd::<VecBackend<f32>>();
}

#[test]
fn tracker_with_reset_is_clipped_sgd_f64() {
    tracker_with_reset_is_clipped_sgd::<VecBackend<f64>>();
}

fn coordinate_tracker_with_reset_is_coordinate_clipping<B: Backend>()
where
    StandardNormal: Distribution<B::Scalar>,
{
    let tau = 1.5;
    let schedule = StepSchedule::constant(B::Scalar::of_f64(tau)).unwrap();
    let mut tracker = Tracker::new(CoordinateMedianTracker::<B>::new(DIM, schedule), gamma())
        .with_anchor_reset(true);
    let mut clipped = ClippedSgd::<B::Scalar>::new(gamma(), tau, ClipKind::Coordinate).unwrap();
    assert_bitwise(
        "E3 with anchor reset vs coordinate clipping",
        &iterates(&mut tracker),
        &iterates(&mut clipped),
    );
}

#[test]
fn coordinate_tracker_with_reset_is_coordinate_clipping_f32() {
    coordinate_tracker_with_reset_is_coordinate_clipping::<VecBackend<f32>>();
}

#[test]
fn coordinate_tracker_with_reset_is_coordinate_clipping_f64() {
    coordinate_tracker_with_reset_is_coordinate_clipping::<VecBackend<f64>>();
}

fn coordinate_tracker_below_gradients_is_sign_sgd<B: Backend>()
where
    StandardNormal: Distribution<B::Scalar>,
{
    // Powers of two make gamma * tau exact, so the two updates round identically. With
    // tau = 2^-20 every gradient coordinate of this run is larger than tau in magnitude.
    let (gamma_value, tau) = (0.5, 2f64.powi(-20));
    let schedule = StepSchedule::constant(B::Scalar::of_f64(tau)).unwrap();
    let mut tracker = Tracker::new(
        CoordinateMedianTracker::<B>::new(DIM, schedule),
        Schedule::constant(gamma_value).unwrap(),
    )
    .with_anchor_reset(true);
    let mut sign = SignSgd::<B::Scalar>::new(Schedule::constant(gamma_value * tau).unwrap());
    let sign_iterates = iterates(&mut sign);
    assert_bitwise(
        "E3 from zero vs scaled signSGD",
        &iterates(&mut tracker),
        &sign_iterates,
    );

    // The check is not vacuous: signSGD moves every coordinate by gamma tau per step.
    for j in 0..DIM {
        assert_eq!(sign_iterates[0][j].abs().into_f64(), gamma_value * tau);
    }
}

#[test]
fn coordinate_tracker_below_gradients_is_sign_sgd_f32() {
    coordinate_tracker_below_gradients_is_sign_sgd::<VecBackend<f32>>();
}

#[test]
fn coordinate_tracker_below_gradients_is_sign_sgd_f64() {
    coordinate_tracker_below_gradients_is_sign_sgd::<VecBackend<f64>>();
}

fn mean_tracker_is_ema_momentum<B: Backend>()
where
    StandardNormal: Distribution<B::Scalar>,
{
    // beta = 1 / (1 + tau) = 0.2 for tau = 4.
    let tau = 4.0;
    let schedule = StepSchedule::constant(B::Scalar::of_f64(tau)).unwrap();
    let mut tracker = Tracker::new(EmaTracker::<B>::new(DIM, schedule), gamma());
    let mut momentum =
        Momentum::<B::Scalar>::new(gamma(), 1.0 / (1.0 + tau), MomentumForm::Ema).unwrap();
    let (left, right) = (iterates(&mut tracker), iterates(&mut momentum));

    // The two forms m + tau/(1+tau) (g - m) and beta m + (1 - beta) g round differently;
    // the difference stays at a few units in the last place of the iterates.
    let tolerance = 1e3 * B::Scalar::epsilon().into_f64();
    for (t, (a, b)) in left.iter().zip(&right).enumerate() {
        for j in 0..DIM {
            let (a, b) = (a[j].into_f64(), b[j].into_f64());
            assert!(
                (a - b).abs() <= tolerance * (1.0 + b.abs()),
                "E1 vs EMA ({}): step {t}, coordinate {j}: {a} vs {b}",
                B::Scalar::NAME
            );
        }
    }
    assert_ne!(left[STEPS - 1][0].into_f64(), 0.0);
}

#[test]
fn mean_tracker_is_ema_momentum_f32() {
    mean_tracker_is_ema_momentum::<VecBackend<f32>>();
}

#[test]
fn mean_tracker_is_ema_momentum_f64() {
    mean_tracker_is_ema_momentum::<VecBackend<f64>>();
}
