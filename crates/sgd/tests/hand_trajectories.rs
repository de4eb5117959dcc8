//! The first steps of momentum, Nesterov, Adam and Clip21 against trajectories worked out
//! by hand (or by scalar arithmetic written out in the test), on small problems with exact
//! gradients.

use approx::assert_relative_eq;
use median_sgd::{
    Adam, Clip21, Dataset, ExactGradient, LeastSquares, Momentum, MomentumForm, Nesterov,
    Optimizer, Quadratic, Schedule, WorkerShards, rng_from_seed,
};

/// f(x) = (x_1^2 + 4 x_2^2) / 2, so grad f(x) = (x_1, 4 x_2).
fn oracle<S: median_linalg::Scalar>() -> ExactGradient<Quadratic<S>> {
    let problem = Quadratic::new(vec![S::one(), S::of_f64(4.0)], vec![S::zero(); 2]).unwrap();
    ExactGradient::new(problem)
}

/// Runs `expected.len()` steps from `x0` and checks every iterate.
fn check<O: Optimizer<f64>>(optimizer: &mut O, x0: [f64; 2], expected: &[[f64; 2]]) {
    let mut oracle = oracle::<f64>();
    let mut rng = rng_from_seed(0);
    let mut x = x0;
    for (t, want) in expected.iter().enumerate() {
        optimizer.step(&mut x, &mut oracle, &mut rng).unwrap();
        for j in 0..2 {
            assert!(
                (x[j] - want[j]).abs() <= 1e-12,
                "{}: step {t}, coordinate {j}: got {}, expected {}",
                optimizer.name(),
                x[j],
                want[j]
            );
        }
    }
}

#[test]
fn heavy_ball_matches_hand_trajectory() {
    // beta = 0.5, gamma = 0.1 from (1, 1):
    // g = (1, 4),      m = (1, 4),       x = (0.9, 0.6)
    // g = (0.9, 2.4),  m = (1.4, 4.4),   x = (0.76, 0.16)
    // g = (0.76, 0.64), m = (1.46, 2.84), x = (0.614, -0.124)
    let mut opt = Momentum::new(
        Schedule::constant(0.1).unwrap(),
        0.5,
        MomentumForm::HeavyBall,
    )
    .unwrap();
    check(
        &mut opt,
        [1.0, 1.0],
        &[[0.9, 0.6], [0.76, 0.16], [0.614, -0.124]],
    );
}

#[test]
fn ema_momentum_matches_hand_trajectory() {
    // beta = 0.5, gamma = 0.1 from (1, 1):
    // g = (1, 4),     m = (0.5, 2),     x = (0.95, 0.8)
    // g = (0.95, 3.2), m = (0.725, 2.6), x = (0.8775, 0.54)
    let mut opt = Momentum::new(Schedule::constant(0.1).unwrap(), 0.5, MomentumForm::Ema).unwrap();
    check(&mut opt, [1.0, 1.0], &[[0.95, 0.8], [0.8775, 0.54]]);
}

#[test]
fn nesterov_matches_hand_trajectory() {
    // beta = 0.5, gamma = 0.1 from (1, 1):
    // g = (1, 4),      m = (1, 4),     d = g + 0.5 m = (1.5, 6),     x = (0.85, 0.4)
    // g = (0.85, 1.6), m = (1.35, 3.6), d = (1.525, 3.4),            x = (0.6975, 0.06)
    let mut opt = Nesterov::new(Schedule::constant(0.1).unwrap(), 0.5).unwrap();
    check(&mut opt, [1.0, 1.0], &[[0.85, 0.4], [0.6975, 0.06]]);
}

#[test]
fn adam_first_step_moves_by_gamma() {
    // At t = 1 the bias-corrected moments are g and g^2, so the step is
    // gamma g / (|g| + eps): from (1, -2) with g = (1, -8) that is (0.9, -1.9) up to eps.
    let mut opt = Adam::new(Schedule::constant(0.1).unwrap(), 0.9, 0.999, 1e-8).unwrap();
    let mut oracle = oracle::<f64>();
    let mut x = [1.0, -2.0];
    opt.step(&mut x, &mut oracle, &mut rng_from_seed(0))
        .unwrap();
    assert_relative_eq!(x[0], 0.9, epsilon = 1e-8);
    assert_relative_eq!(x[1], -1.9, epsilon = 1e-8);
}

#[test]
fn adam_matches_scalar_recurrence() {
    // The recurrence written out per coordinate, independently of the optimizer's loop.
    let (gamma, beta1, beta2, eps) = (0.05, 0.8, 0.99, 1e-3);
    let curvature = [1.0, 4.0];
    let mut expected = [1.0f64, -2.0];
    let (mut m, mut v) = ([0.0f64; 2], [0.0f64; 2]);
    let mut opt = Adam::new(Schedule::constant(gamma).unwrap(), beta1, beta2, eps).unwrap();
    let mut oracle = oracle::<f64>();
    let mut rng = rng_from_seed(0);
    let mut x = expected;
    for t in 1..=5 {
        for j in 0..2 {
            let g = curvature[j] * expected[j];
            m[j] = beta1 * m[j] + (1.0 - beta1) * g;
            v[j] = beta2 * v[j] + (1.0 - beta2) * g * g;
            let m_hat = m[j] / (1.0 - beta1.powi(t));
            let v_hat = v[j] / (1.0 - beta2.powi(t));
            expected[j] -= gamma * m_hat / (v_hat.sqrt() + eps);
        }
        opt.step(&mut x, &mut oracle, &mut rng).unwrap();
        for j in 0..2 {
            assert_relative_eq!(x[j], expected[j], epsilon = 1e-14, max_relative = 1e-13);
        }
    }
}

#[test]
fn adam_f32_tracks_f64() {
    let mut opt64 = Adam::new(Schedule::constant(0.05).unwrap(), 0.9, 0.999, 1e-8).unwrap();
    let mut opt32 = Adam::new(Schedule::constant(0.05).unwrap(), 0.9, 0.999, 1e-8).unwrap();
    let (mut oracle64, mut oracle32) = (oracle::<f64>(), oracle::<f32>());
    let mut rng = rng_from_seed(0);
    let (mut x64, mut x32) = ([1.0f64, -2.0], [1.0f32, -2.0]);
    for _ in 0..10 {
        opt64.step(&mut x64, &mut oracle64, &mut rng).unwrap();
        opt32.step(&mut x32, &mut oracle32, &mut rng).unwrap();
    }
    for j in 0..2 {
        assert_relative_eq!(f64::from(x32[j]), x64[j], epsilon = 1e-5);
    }
}

/// Two workers with local objectives (x - 2)^2 / 2 and (x + 4)^2 / 2: local gradients
/// x - 2 and x + 4, global minimiser x = -1.
fn two_workers() -> WorkerShards<LeastSquares<f64>, f64> {
    let data = Dataset::new(vec![1.0, 1.0], 1, vec![2.0, -4.0]).unwrap();
    WorkerShards::new(LeastSquares::least_squares(data, 0.0).unwrap(), 2).unwrap()
}

#[test]
fn clip21_matches_hand_trajectory() {
    // tau = 1, gamma = 0.5, x_0 = 0. Worker states (v_0, v_1) and mean:
    // step 0: g = (-2, 4),       v = (-1, 1),       mean 0,    x = 0
    // step 1: g = (-2, 4),       v = (-2, 2),       mean 0,    x = 0
    // step 2: g = (-2, 4),       v = (-2, 3),       mean 0.5,  x = -0.25
    // step 3: g = (-2.25, 3.75), v = (-2.25, 3.75), mean 0.75, x = -0.625
    let mut opt = Clip21::new(Schedule::constant(0.5).unwrap(), 1.0, 2).unwrap();
    let mut oracle = two_workers();
    let mut rng = rng_from_seed(0);
    let mut x = [0.0];
    let expected = [0.0, 0.0, -0.25, -0.625];
    for (t, &want) in expected.iter().enumerate() {
        opt.step(&mut x, &mut oracle, &mut rng).unwrap();
        assert_eq!(x[0], want, "step {t}");
    }
    assert_eq!(opt.states(), &[vec![-2.25], vec![3.75]]);
}

#[test]
fn clip21_converges_where_clipped_mean_stalls() {
    // Clipping each worker's gradient to norm 1 and averaging gives 0 at x = 0 forever;
    // Clip21's error feedback reaches the minimiser -1.
    let mut opt = Clip21::new(Schedule::constant(0.5).unwrap(), 1.0, 2).unwrap();
    let mut oracle = two_workers();
    let mut rng = rng_from_seed(0);
    let mut x = [0.0];
    for _ in 0..200 {
        opt.step(&mut x, &mut oracle, &mut rng).unwrap();
    }
    assert_relative_eq!(x[0], -1.0, epsilon = 1e-9);
}
