//! Tests of the online SPP trackers E1 to E8: the exact oracles of the update rules, the
//! special cases (EMA, clipped SGD, tau = inf), errors, and equivariance properties.
//!
//! Every test is generic over the backend and instantiated for each backend and scalar by
//! `all_backends!`, so that a test's path names both (`vec_f64::geometric_...`).

use median_conformance::{random_vec, seeded_rng};
use median_core::Error;
use median_core::clip::{L1Norm, L2Norm, LinfNorm};
use median_core::online::{
    CoordinateMedianTracker, EmaTracker, GeometricMedianTracker, HuberTracker, LinfMedianTracker,
    NormMedianTracker, OnlineEstimator, QuantileTracker, StepSchedule,
    WeightedGeometricMedianTracker, huber_to_momentum, momentum_to_huber,
};
use median_linalg::{Backend, Scalar};
use num_traits::Float;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed, TestRunner};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn sc<S: Scalar>(x: f64) -> S {
    S::of_f64(x)
}

fn vs<S: Scalar>(xs: &[f64]) -> Vec<S> {
    xs.iter().map(|&x| S::of_f64(x)).collect()
}

fn constant<S: Scalar>(tau: f64) -> StepSchedule<S> {
    StepSchedule::constant(S::of_f64(tau)).expect("valid constant step")
}

/// Returns the relative tolerance for a few dozen roundings in the scalar type.
fn tol<S: Scalar>() -> f64 {
    64.0 * S::epsilon().into_f64()
}

/// Asserts `|a_j - b_j| <= rel * max(1, |b_j|)` for every coordinate.
fn assert_close<S: Scalar>(a: &[S], b: &[S], rel: f64, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (j, (&x, &y)) in a.iter().zip(b).enumerate() {
        let (x, y) = (x.into_f64(), y.into_f64());
        let bound = rel * y.abs().max(1.0);
        assert!(
            (x - y).abs() <= bound,
            "{what}: coordinate {j}: {x} vs {y} (tolerance {bound})"
        );
    }
}

fn norm_f64<S: Scalar>(v: &[S]) -> f64 {
    v.iter().map(|x| x.into_f64().powi(2)).sum::<f64>().sqrt()
}

/// Clips to L2 norm `tau` in f64, independently of the crate, for expected values.
fn clip_f64(r: &[f64], tau: f64) -> Vec<f64> {
    let n = r.iter().map(|x| x * x).sum::<f64>().sqrt();
    if n <= tau {
        r.to_vec()
    } else {
        r.iter().map(|x| x * tau / n).collect()
    }
}

fn to_f64<S: Scalar>(v: &[S]) -> Vec<f64> {
    v.iter().map(|x| x.into_f64()).collect()
}

/// Creates one instance of each tracker, with constant step `tau`.
fn all_trackers<B: Backend>(dim: usize, tau: f64) -> Vec<Box<dyn OnlineEstimator<B>>> {
    let s = constant::<B::Scalar>(tau);
    vec![
        Box::new(EmaTracker::<B>::new(dim, s)),
        Box::new(GeometricMedianTracker::<B>::new(dim, s)),
        Box::new(CoordinateMedianTracker::<B>::new(dim, s)),
        Box::new(LinfMedianTracker::<B>::new(dim, s)),
        Box::new(NormMedianTracker::<B, L2Norm>::new(dim, L2Norm, s)),
        Box::new(HuberTracker::<B>::new(dim, sc(0.5), s).unwrap()),
        Box::new(QuantileTracker::<B>::new(dim, sc(0.3), s).unwrap()),
        Box::new(WeightedGeometricMedianTracker::<B>::new(dim, &vs(&[1.0, 2.0, 3.0]), s).unwrap()),
    ]
}

fn proptest_config(seed: u64, cases: u32) -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        cases,
        ..ProptestConfig::default()
    }
}

fn batch_of<B: Backend>(rows: &[Vec<B::Scalar>]) -> B::Batch {
    let refs: Vec<&[B::Scalar]> = rows.iter().map(|r| r.as_slice()).collect();
    B::batch_from_gradients(&refs).unwrap()
}

// ---------------------------------------------------------------------------------------
// Exact oracles of the update rules
// ---------------------------------------------------------------------------------------

/// In one dimension E2 and E3 are both `m + clamp(g - m, -tau, tau)`.
fn one_dimension_geometric_equals_clamp<B: Backend>() {
    let mut rng = seeded_rng(11);
    for tau in [0.1, 0.7, 3.0] {
        for _ in 0..50 {
            let m: Vec<B::Scalar> = random_vec::<f64>(&mut rng, 1)
                .iter()
                .map(|x| sc(5.0 * x))
                .collect();
            let g: Vec<B::Scalar> = random_vec::<f64>(&mut rng, 1)
                .iter()
                .map(|x| sc(5.0 * x))
                .collect();
            let r = g[0] - m[0];
            let t = sc::<B::Scalar>(tau);
            let expected = if r.abs() <= t {
                g[0]
            } else {
                m[0] + t.copysign(r)
            };

            let mut e2 = GeometricMedianTracker::<B>::new(1, constant(tau));
            e2.reset_to(&m).unwrap();
            e2.update(&g).unwrap();
            let mut e3 = CoordinateMedianTracker::<B>::new(1, constant(tau));
            e3.reset_to(&m).unwrap();
            e3.update(&g).unwrap();

            assert_eq!(e3.estimate(), &[expected], "E3 at m = {:?}, g = {:?}", m, g);
            assert_close(
                e2.estimate(),
                &[expected],
                tol::<B::Scalar>(),
                "E2 in one dimension",
            );
        }
    }
}

/// E2 lands on g when `‖g - m‖ <= tau`, and otherwise moves by exactly tau towards g.
fn geometric_lands_on_gradient_or_moves_tau<B: Backend>() {
    let mut rng = seeded_rng(12);
    let mut jumps = 0;
    let mut moves = 0;
    for tau in [0.3, 1.0, 4.0] {
        for _ in 0..40 {
            let m = random_vec::<B::Scalar>(&mut rng, 5);
            let g: Vec<B::Scalar> = random_vec::<B::Scalar>(&mut rng, 5)
                .iter()
                .map(|&x| x * sc(3.0))
                .collect();
            let mut e2 = GeometricMedianTracker::<B>::new(5, constant(tau));
            e2.reset_to(&m).unwrap();
            e2.update(&g).unwrap();
            let next = e2.estimate();

            let r: Vec<f64> = g
                .iter()
                .zip(&m)
                .map(|(a, b)| a.into_f64() - b.into_f64())
                .collect();
            let rn = r.iter().map(|x| x * x).sum::<f64>().sqrt();
            if rn <= tau * (1.0 - 1e-3) {
                jumps += 1;
                assert_eq!(
                    next,
                    g.as_slice(),
                    "inside the ball the estimate is g exactly"
                );
            } else if rn > tau * (1.0 + 1e-3) {
                moves += 1;
                let step: Vec<f64> = next
                    .iter()
                    .zip(&m)
                    .map(|(a, b)| a.into_f64() - b.into_f64())
                    .collect();
                let sn = step.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert!(
                    (sn - tau).abs() <= 16.0 * tol::<B::Scalar>() * tau,
                    "step norm {sn} vs tau {tau}"
                );
                // On the segment [m, g]: step = (tau/‖r‖) r.
                let t = tau / rn;
                let expected: Vec<f64> = r.iter().map(|x| t * x).collect();
                assert_close(
                    &step,
                    &expected,
                    16.0 * tol::<B::Scalar>(),
                    "step along the segment",
                );
            }
        }
    }
    assert!(
        jumps > 10 && moves > 10,
        "both branches exercised: {jumps} jumps, {moves} moves"
    );
}

/// E2 solves the prox problem: `(m - m+)/tau = (m+ - g)/‖m+ - g‖` when `m+ != g`.
fn geometric_satisfies_prox_optimality<B: Backend>() {
    let mut rng = seeded_rng(13);
    for _ in 0..40 {
        let tau = 0.5;
        let m = random_vec::<B::Scalar>(&mut rng, 4);
        let g: Vec<B::Scalar> = random_vec::<B::Scalar>(&mut rng, 4)
            .iter()
            .map(|&x| x * sc(4.0) + sc(2.0))
            .collect();
        let mut e2 = GeometricMedianTracker::<B>::new(4, constant(tau));
        e2.reset_to(&m).unwrap();
        e2.update(&g).unwrap();
        let next = to_f64(e2.estimate());
        if next == to_f64(&g) {
            continue;
        }
        let (m, g) = (to_f64(&m), to_f64(&g));
        let d: Vec<f64> = next.iter().zip(&g).map(|(a, b)| a - b).collect();
        let dn = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        let lhs: Vec<f64> = m.iter().zip(&next).map(|(a, b)| (a - b) / tau).collect();
        let rhs: Vec<f64> = d.iter().map(|x| x / dn).collect();
        assert_close(&lhs, &rhs, 16.0 * tol::<B::Scalar>(), "prox optimality");
    }
}

/// E6 with delta = 0 is E2 bit for bit, and approaches E2 as delta shrinks.
fn huber_tends_to_geometric<B: Backend>() {
    let mut rng = seeded_rng(14);
    let tau = 0.4;
    let gradients: Vec<Vec<B::Scalar>> = (0..30)
        .map(|_| random_vec::<B::Scalar>(&mut rng, 3))
        .collect();

    let mut e2 = GeometricMedianTracker::<B>::new(3, constant(tau));
    let mut exact = HuberTracker::<B>::new(3, sc(0.0), constant(tau)).unwrap();
    let mut near = HuberTracker::<B>::new(3, sc(1e-5), constant(tau)).unwrap();
    for g in &gradients {
        e2.update(g).unwrap();
        exact.update(g).unwrap();
        near.update(g).unwrap();
        assert_eq!(exact.estimate(), e2.estimate(), "delta = 0 is E2");
        assert_close(
            near.estimate(),
            e2.estimate(),
            1e-4,
            "small delta is close to E2",
        );
    }
}

/// E6 is the EMA step `tau/(tau + delta) (g - m)` when `‖g - m‖ <= tau + delta`.
fn huber_within_threshold_is_ema<B: Backend>() {
    let mut rng = seeded_rng(15);
    let (tau, delta) = (0.75, 3.0);
    for _ in 0..40 {
        let m = random_vec::<B::Scalar>(&mut rng, 3);
        let g = random_vec::<B::Scalar>(&mut rng, 3);
        let mut e6 = HuberTracker::<B>::new(3, sc(delta), constant(tau)).unwrap();
        e6.reset_to(&m).unwrap();
        e6.update(&g).unwrap();
        let (mf, gf) = (to_f64(&m), to_f64(&g));
        assert!(
            norm_f64(&g) + norm_f64(&m) <= tau + delta,
            "test input inside the threshold"
        );
        let c = tau / (tau + delta);
        let expected: Vec<f64> = mf.iter().zip(&gf).map(|(a, b)| a + c * (b - a)).collect();
        assert_close(
            &to_f64(e6.estimate()),
            &expected,
            tol::<B::Scalar>(),
            "Huber inside the threshold",
        );
    }
}

/// The (beta, c) constructor is "EMA with clipped innovation" `m + (1 - beta) clip_c(g - m)`.
fn huber_momentum_form_matches<B: Backend>() {
    let mut rng = seeded_rng(16);
    for (beta, c) in [(0.9, 0.5), (0.5, 2.0), (0.0, 1.0), (0.99, 10.0)] {
        let mut e6 = HuberTracker::<B>::from_momentum(4, sc(beta), sc(c)).unwrap();
        let mut m = vec![0.0; 4];
        for _ in 0..30 {
            let g: Vec<B::Scalar> = random_vec::<B::Scalar>(&mut rng, 4)
                .iter()
                .map(|&x| x * sc(3.0))
                .collect();
            e6.update(&g).unwrap();
            let r: Vec<f64> = to_f64(&g).iter().zip(&m).map(|(a, b)| a - b).collect();
            let step = clip_f64(&r, c);
            for (mj, sj) in m.iter_mut().zip(&step) {
                *mj += (1.0 - beta) * sj;
            }
            assert_close(
                &to_f64(e6.estimate()),
                &m,
                16.0 * tol::<B::Scalar>(),
                "momentum form",
            );
        }
    }
}

/// E7 with q = 1/2 and step 2 tau is E3 with step tau, bit for bit.
fn quantile_half_equals_coordinate_median<B: Backend>() {
    let mut rng = seeded_rng(17);
    let tau = 0.3;
    let mut e3 = CoordinateMedianTracker::<B>::new(6, constant(tau));
    let mut e7 = QuantileTracker::<B>::new(6, sc(0.5), constant(2.0 * tau)).unwrap();
    for _ in 0..50 {
        let g = random_vec::<B::Scalar>(&mut rng, 6);
        e3.update(&g).unwrap();
        e7.update(&g).unwrap();
        assert_eq!(e7.estimate(), e3.estimate());
    }
}

/// E7 moves up by at most tau q and down by at most tau (1 - q).
fn quantile_step_bounds<B: Backend>() {
    let mut e7 = QuantileTracker::<B>::new(3, sc(0.75), constant(2.0)).unwrap();
    e7.update(&vs(&[10.0, -10.0, 0.5])).unwrap();
    assert_eq!(e7.estimate(), vs::<B::Scalar>(&[1.5, -0.5, 0.5]).as_slice());
}

/// E1 is the EMA `beta m + (1 - beta) g` with `beta = 1/(1 + tau)`.
fn ema_equals_momentum<B: Backend>() {
    let mut rng = seeded_rng(18);
    for tau in [0.1, 1.0, 9.0] {
        let beta = 1.0 / (1.0 + tau);
        let mut e1 = EmaTracker::<B>::new(3, constant(tau));
        let mut from_beta = EmaTracker::<B>::from_momentum(3, sc(beta)).unwrap();
        let mut m = vec![0.0; 3];
        for _ in 0..30 {
            let g = random_vec::<B::Scalar>(&mut rng, 3);
            e1.update(&g).unwrap();
            from_beta.update(&g).unwrap();
            for (mj, gj) in m.iter_mut().zip(to_f64(&g)) {
                *mj = beta * *mj + (1.0 - beta) * gj;
            }
            assert_close(
                &to_f64(e1.estimate()),
                &m,
                tol::<B::Scalar>(),
                "E1 from tau",
            );
            assert_close(
                &to_f64(from_beta.estimate()),
                &m,
                tol::<B::Scalar>(),
                "E1 from beta",
            );
        }
    }
}

/// E5 with the L2, L1 and Linf norms is E2, E3 and E4, bit for bit.
fn norm_tracker_matches_special_cases<B: Backend>() {
    let mut rng = seeded_rng(19);
    let sched = StepSchedule::inverse_sqrt(sc::<B::Scalar>(0.8)).unwrap();
    let mut e2 = GeometricMedianTracker::<B>::new(5, sched);
    let mut e3 = CoordinateMedianTracker::<B>::new(5, sched);
    let mut e4 = LinfMedianTracker::<B>::new(5, sched);
    let mut l2 = NormMedianTracker::<B, L2Norm>::new(5, L2Norm, sched);
    let mut l1 = NormMedianTracker::<B, L1Norm>::new(5, L1Norm, sched);
    let mut linf = NormMedianTracker::<B, LinfNorm>::new(5, LinfNorm, sched);
    for _ in 0..40 {
        let g = random_vec::<B::Scalar>(&mut rng, 5);
        for t in [
            &mut e2 as &mut dyn OnlineEstimator<B>,
            &mut e3,
            &mut e4,
            &mut l2,
            &mut l1,
            &mut linf,
        ] {
            t.update(&g).unwrap();
        }
        assert_eq!(l2.estimate(), e2.estimate(), "L2 norm median is E2");
        assert_eq!(l1.estimate(), e3.estimate(), "L1 norm median is E3");
        assert_eq!(linf.estimate(), e4.estimate(), "Linf norm median is E4");
    }
}

/// E4's step is the L1-ball projection: L1 norm tau when the innovation is outside.
fn linf_step_has_l1_norm_tau<B: Backend>() {
    let mut rng = seeded_rng(20);
    let tau = 0.5;
    for _ in 0..40 {
        let g: Vec<B::Scalar> = random_vec::<B::Scalar>(&mut rng, 6)
            .iter()
            .map(|&x| x * sc(2.0))
            .collect();
        let mut e4 = LinfMedianTracker::<B>::new(6, constant(tau));
        e4.update(&g).unwrap();
        let l1_g: f64 = g.iter().map(|x| x.into_f64().abs()).sum();
        let l1_step: f64 = e4.estimate().iter().map(|x| x.into_f64().abs()).sum();
        if l1_g <= tau {
            assert_eq!(e4.estimate(), g.as_slice());
        } else {
            assert!(
                (l1_step - tau).abs() <= 16.0 * tol::<B::Scalar>(),
                "L1 norm of the step {l1_step}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Special cases: tau = inf, clipped SGD, averaging, batches, schedules
// ---------------------------------------------------------------------------------------

/// With tau = inf every tracker returns the gradient bit for bit (SGD).
fn infinite_step_returns_gradient<B: Backend>() {
    let mut rng = seeded_rng(21);
    for mut tracker in all_trackers::<B>(3, f64::INFINITY) {
        tracker.reset_to(&vs(&[0.1, -0.7, 0.3])).unwrap();
        for _ in 0..10 {
            let g: Vec<B::Scalar> = random_vec::<B::Scalar>(&mut rng, 3)
                .iter()
                .map(|&x| x * sc(1e3))
                .collect();
            tracker.update(&g).unwrap();
            assert_eq!(tracker.estimate(), g.as_slice(), "{}", tracker.name());
        }
    }
}

/// Resetting the anchor to zero before each update turns E2 into clipped SGD.
fn anchor_reset_gives_clipped_sgd<B: Backend>() {
    let mut rng = seeded_rng(22);
    let tau = 0.6;
    let mut e2 = GeometricMedianTracker::<B>::new(4, constant(tau));
    for _ in 0..30 {
        let g = random_vec::<B::Scalar>(&mut rng, 4);
        e2.reset();
        e2.update(&g).unwrap();
        let expected = clip_f64(&to_f64(&g), tau);
        assert_close(
            &to_f64(e2.estimate()),
            &expected,
            4.0 * tol::<B::Scalar>(),
            "clipped SGD",
        );
    }
}

/// A batch of one gradient is the plain update, bit for bit, for every tracker.
fn single_gradient_batch_equals_update<B: Backend>() {
    let mut rng = seeded_rng(23);
    let mut by_update = all_trackers::<B>(4, 0.5);
    let mut by_batch = all_trackers::<B>(4, 0.5);
    for _ in 0..20 {
        let g = random_vec::<B::Scalar>(&mut rng, 4);
        let batch = batch_of::<B>(std::slice::from_ref(&g));
        for (a, b) in by_update.iter_mut().zip(by_batch.iter_mut()) {
            if a.name().starts_with("E8") {
                // E8 batches hold one gradient per sample; it is tested separately.
                continue;
            }
            a.update(&g).unwrap();
            b.update_batch(&batch).unwrap();
            assert_eq!(a.estimate(), b.estimate(), "{}", a.name());
        }
    }
}

/// The E2 mini-batch step is `m + (1/b) sum_i clip_tau(g_i - m)`; from zero it is the
/// averaged per-sample clipping of DP-SGD.
fn geometric_batch_averages_clipped_steps<B: Backend>() {
    let mut rng = seeded_rng(24);
    let tau = 0.7;
    let mut e2 = GeometricMedianTracker::<B>::new(3, constant(tau));
    let mut m = vec![0.0; 3];
    for _ in 0..10 {
        let rows: Vec<Vec<B::Scalar>> = (0..5)
            .map(|_| {
                random_vec::<B::Scalar>(&mut rng, 3)
                    .iter()
                    .map(|&x| x * sc(2.0))
                    .collect()
            })
            .collect();
        e2.update_batch(&batch_of::<B>(&rows)).unwrap();
        let mut sum = [0.0; 3];
        for row in &rows {
            let r: Vec<f64> = to_f64(row).iter().zip(&m).map(|(a, b)| a - b).collect();
            for (s, x) in sum.iter_mut().zip(clip_f64(&r, tau)) {
                *s += x;
            }
        }
        for (mj, s) in m.iter_mut().zip(sum) {
            *mj += s / 5.0;
        }
        assert_close(
            &to_f64(e2.estimate()),
            &m,
            16.0 * tol::<B::Scalar>(),
            "mini-batch step",
        );
    }
}

/// E8's batch is the full surrogate step over the n samples, gradient i as sample i.
fn weighted_batch_uses_sample_thresholds<B: Backend>() {
    let tau = 0.5;
    let weights = [1.0, 3.0];
    let mut e8 = WeightedGeometricMedianTracker::<B>::new(2, &vs(&weights), constant(tau)).unwrap();
    let rows = vec![vs::<B::Scalar>(&[3.0, 4.0]), vs::<B::Scalar>(&[0.0, -8.0])];
    e8.update_batch(&batch_of::<B>(&rows)).unwrap();
    // Thresholds tau n w_i / sum w = 0.25 and 0.75.
    let expected = [(0.6 * 0.25 + 0.0) / 2.0, (0.8 * 0.25 - 0.75) / 2.0];
    assert_close(
        &to_f64(e8.estimate()),
        &expected,
        tol::<B::Scalar>(),
        "E8 batch",
    );
}

/// With averaging on, the estimate is the mean of the iterates since the last reset.
fn averaging_returns_mean_of_iterates<B: Backend>() {
    let mut rng = seeded_rng(25);
    let sched = StepSchedule::power_law(sc::<B::Scalar>(1.0), sc(0.7)).unwrap();
    let mut plain = GeometricMedianTracker::<B>::new(3, sched);
    let mut averaged = GeometricMedianTracker::<B>::new(3, sched).with_averaging();
    assert!(averaged.averaging());
    let mut sum = [0.0; 3];
    for k in 1..=40 {
        let g = random_vec::<B::Scalar>(&mut rng, 3);
        plain.update(&g).unwrap();
        averaged.update(&g).unwrap();
        assert_eq!(
            averaged.iterate(),
            plain.estimate(),
            "the iterates do not depend on averaging"
        );
        for (s, x) in sum.iter_mut().zip(to_f64(plain.estimate())) {
            *s += x;
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / k as f64).collect();
        assert_close(
            &to_f64(averaged.estimate()),
            &mean,
            16.0 * tol::<B::Scalar>(),
            "running average",
        );
    }
}

/// Averaging switched on midway averages only the iterates produced after the switch.
fn averaging_switched_on_midway<B: Backend>() {
    let mut e3 = CoordinateMedianTracker::<B>::new(1, constant(1.0));
    e3.update(&vs(&[10.0])).unwrap();
    e3.set_averaging(true);
    assert_eq!(
        e3.estimate(),
        &[sc::<B::Scalar>(1.0)],
        "the current iterate until the next update"
    );
    e3.update(&vs(&[10.0])).unwrap();
    e3.update(&vs(&[10.0])).unwrap();
    assert_eq!(e3.iterate(), &[sc::<B::Scalar>(3.0)]);
    assert_eq!(
        e3.estimate(),
        &[sc::<B::Scalar>(2.5)],
        "mean of the iterates 2 and 3"
    );
    e3.set_averaging(false);
    assert!(!e3.averaging());
    assert_eq!(e3.estimate(), &[sc::<B::Scalar>(3.0)]);
}

/// A reset restarts the schedule: the next update uses tau_0 again.
fn reset_restarts_schedule<B: Backend>() {
    let sched = StepSchedule::inverse_sqrt(sc::<B::Scalar>(2.0)).unwrap();
    let mut e3 = CoordinateMedianTracker::<B>::new(1, sched);
    for _ in 0..3 {
        e3.update(&vs(&[100.0])).unwrap();
    }
    assert_eq!(e3.steps(), 3);
    let expected = 2.0 + 2.0 / 2f64.sqrt() + 2.0 / 3f64.sqrt();
    assert_close(
        &to_f64(e3.estimate()),
        &[expected],
        tol::<B::Scalar>(),
        "three decreasing steps",
    );

    e3.reset();
    assert_eq!(e3.steps(), 0);
    assert_eq!(e3.estimate(), &[sc::<B::Scalar>(0.0)]);
    e3.update(&vs(&[100.0])).unwrap();
    assert_eq!(e3.estimate(), &[sc::<B::Scalar>(2.0)]);

    e3.reset_to(&vs(&[-1.0])).unwrap();
    e3.update(&vs(&[100.0])).unwrap();
    assert_eq!(e3.estimate(), &[sc::<B::Scalar>(1.0)]);
}

/// Uniform weights give E2 bit for bit (the threshold factors are exactly 1).
fn weighted_uniform_equals_geometric<B: Backend>() {
    let mut rng = seeded_rng(26);
    let mut e2 = GeometricMedianTracker::<B>::new(3, constant(0.4));
    let mut e8 =
        WeightedGeometricMedianTracker::<B>::new(3, &vs(&[2.0; 5]), constant(0.4)).unwrap();
    assert_eq!(
        e8.threshold_factors(),
        vs::<B::Scalar>(&[1.0; 5]).as_slice()
    );
    for _ in 0..30 {
        let g = random_vec::<B::Scalar>(&mut rng, 3);
        e2.update(&g).unwrap();
        e8.update(&g).unwrap();
        assert_eq!(e8.estimate(), e2.estimate());
    }
}

/// E8 clips sample i at tau n w_i (weights normalised to sum 1).
fn weighted_threshold_scales_with_weight<B: Backend>() {
    let mut e8 =
        WeightedGeometricMedianTracker::<B>::new(2, &vs(&[1.0, 3.0]), constant(0.5)).unwrap();
    assert_eq!(e8.sample_count(), 2);
    e8.update_sample(1, &vs(&[30.0, 40.0])).unwrap();
    assert_close(
        &to_f64(e8.estimate()),
        &[0.45, 0.6],
        tol::<B::Scalar>(),
        "threshold 0.75",
    );
    e8.update_sample(0, &vs(&[0.45, 100.0])).unwrap();
    assert_close(
        &to_f64(e8.estimate()),
        &[0.45, 0.85],
        tol::<B::Scalar>(),
        "threshold 0.25",
    );

    let mut zero_weight =
        WeightedGeometricMedianTracker::<B>::new(1, &vs(&[0.0, 1.0]), constant(f64::INFINITY))
            .unwrap();
    zero_weight.update_sample(0, &vs(&[5.0])).unwrap();
    assert_eq!(
        zero_weight.estimate(),
        &[sc::<B::Scalar>(0.0)],
        "a zero weight never moves"
    );
}

/// E8's trait update sweeps the samples cyclically: update k uses sample k mod n.
fn weighted_update_cycles_samples<B: Backend>() {
    let mut e8 =
        WeightedGeometricMedianTracker::<B>::new(1, &vs(&[1.0, 3.0]), constant(0.5)).unwrap();
    e8.update(&vs(&[10.0])).unwrap();
    assert_eq!(
        e8.estimate(),
        &[sc::<B::Scalar>(0.25)],
        "sample 0: threshold 0.25"
    );
    e8.update(&vs(&[10.0])).unwrap();
    assert_eq!(
        e8.estimate(),
        &[sc::<B::Scalar>(1.0)],
        "sample 1: threshold 0.75"
    );
    e8.update(&vs(&[10.0])).unwrap();
    assert_eq!(e8.estimate(), &[sc::<B::Scalar>(1.25)], "sample 0 again");
}

/// A cloned tracker continues from the same state, independently of the original.
fn clone_continues_independently<B: Backend>() {
    let mut rng = seeded_rng(27);
    let mut original = HuberTracker::<B>::new(3, sc(0.2), constant(0.5))
        .unwrap()
        .with_averaging();
    for _ in 0..5 {
        original
            .update(&random_vec::<B::Scalar>(&mut rng, 3))
            .unwrap();
    }
    let mut copy = original.clone();
    assert_eq!(copy.estimate(), original.estimate());
    assert_eq!(copy.steps(), original.steps());

    let g = random_vec::<B::Scalar>(&mut rng, 3);
    copy.update(&g).unwrap();
    assert_eq!(original.steps(), 5, "the original is untouched");
    original.update(&g).unwrap();
    assert_eq!(copy.estimate(), original.estimate());
    assert!(format!("{copy:?}").contains("HuberTracker"));
}

/// An innovation g - m that overflows is handled by halving, never NaN.
fn overflowing_innovation_stays_finite<B: Backend>() {
    let max = B::Scalar::max_value();
    let mut e1 = EmaTracker::<B>::new(1, constant(1.0));
    e1.reset_to(&[-max]).unwrap();
    e1.update(&[max]).unwrap();
    assert_eq!(
        e1.estimate(),
        &[sc::<B::Scalar>(0.0)],
        "E1 halfway between -max and max"
    );

    let mut e2 = GeometricMedianTracker::<B>::new(2, constant(f64::INFINITY));
    e2.reset_to(&[-max, max]).unwrap();
    e2.update(&[max, -max]).unwrap();
    assert_eq!(e2.estimate(), &[max, -max], "E2 with tau = inf jumps to g");

    let mut e3 =
        CoordinateMedianTracker::<B>::new(1, StepSchedule::constant(max / sc(4.0)).unwrap());
    e3.reset_to(&[-max]).unwrap();
    e3.update(&[max]).unwrap();
    let expected = -0.75 * max.into_f64();
    assert_close(
        &to_f64(e3.estimate()),
        &[expected],
        tol::<B::Scalar>(),
        "E3 moves by max/4",
    );

    for mut tracker in all_trackers::<B>(2, 1.0) {
        tracker.reset_to(&[-max, max]).unwrap();
        tracker.update(&[max, -max]).unwrap();
        assert!(
            tracker.estimate().iter().all(|x| x.is_finite()),
            "{}: {:?}",
            tracker.name(),
            tracker.estimate()
        );
    }
}

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// A non-finite gradient is NonFinite with its coordinate; the estimate is unchanged.
fn non_finite_gradient_keeps_estimate<B: Backend>() {
    let nan = B::Scalar::nan();
    let inf = B::Scalar::infinity();
    for mut tracker in all_trackers::<B>(3, 0.5) {
        tracker.update(&vs(&[1.0, 2.0, 3.0])).unwrap();
        let before = tracker.estimate().to_vec();
        let mut with_nan = vs::<B::Scalar>(&[1.0, 2.0, 3.0]);
        with_nan[1] = nan;
        let mut with_inf = vs::<B::Scalar>(&[1.0, 2.0, 3.0]);
        with_inf[2] = -inf;
        for bad in [with_nan, with_inf] {
            let err = tracker.update(&bad).unwrap_err();
            let coordinate = bad.iter().position(|x| !x.is_finite()).unwrap();
            assert!(
                matches!(err, Error::NonFinite { index: 0, coordinate: c, .. } if c == coordinate),
                "{}: {err:?}",
                tracker.name()
            );
            assert_eq!(tracker.estimate(), before.as_slice(), "{}", tracker.name());
        }
    }
}

/// In a batch, the error names the gradient and coordinate, and nothing changes.
fn batch_with_non_finite_gradient_names_index<B: Backend>() {
    for mut tracker in all_trackers::<B>(2, 0.5) {
        let rows = vec![
            vs::<B::Scalar>(&[1.0, 2.0]),
            vs(&[3.0, 4.0]),
            vec![sc(5.0), B::Scalar::nan()],
        ];
        let before = tracker.estimate().to_vec();
        let err = tracker.update_batch(&batch_of::<B>(&rows)).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFinite {
                    index: 2,
                    coordinate: 1,
                    ..
                } | Error::DimensionMismatch { .. }
            ),
            "{}: {err:?}",
            tracker.name()
        );
        if !tracker.name().starts_with("E8") {
            assert!(
                matches!(err, Error::NonFinite { .. }),
                "{}: {err:?}",
                tracker.name()
            );
        }
        assert_eq!(tracker.estimate(), before.as_slice());
    }
}

/// Gradients, batches and anchors of the wrong length are rejected, naming the lengths.
fn mismatched_dimensions_are_rejected<B: Backend>() {
    for mut tracker in all_trackers::<B>(3, 0.5) {
        // Gradients [1, 2, 3] then [4, 5]: the second is rejected, never truncated or padded.
        tracker.update(&vs(&[1.0, 2.0, 3.0])).unwrap();
        let before = tracker.estimate().to_vec();
        let err = tracker.update(&vs(&[4.0, 5.0])).unwrap_err();
        assert_eq!(
            err,
            Error::DimensionMismatch {
                what: "gradient",
                index: 0,
                expected: 3,
                found: 2
            },
            "{}",
            tracker.name()
        );
        let err = tracker
            .update_batch(&batch_of::<B>(&[
                vs(&[4.0, 5.0]),
                vs(&[6.0, 7.0]),
                vs(&[1.0, 1.0]),
            ]))
            .unwrap_err();
        assert_eq!(
            err,
            Error::DimensionMismatch {
                what: "gradient",
                index: 0,
                expected: 3,
                found: 2
            }
        );
        let err = tracker.reset_to(&vs(&[1.0, 2.0, 3.0, 4.0])).unwrap_err();
        assert_eq!(
            err,
            Error::DimensionMismatch {
                what: "anchor",
                index: 0,
                expected: 3,
                found: 4
            }
        );
        assert_eq!(tracker.estimate(), before.as_slice(), "{}", tracker.name());
    }

    // Three weights but a batch of two gradients.
    let mut e8 =
        WeightedGeometricMedianTracker::<B>::new(2, &vs(&[1.0, 1.0, 1.0]), constant(1.0)).unwrap();
    let err = e8
        .update_batch(&batch_of::<B>(&[vs(&[1.0, 2.0]), vs(&[3.0, 4.0])]))
        .unwrap_err();
    assert_eq!(
        err,
        Error::DimensionMismatch {
            what: "batch",
            index: 0,
            expected: 3,
            found: 2
        }
    );
}

/// An empty batch is EmptyBatch for every tracker.
fn empty_batch_is_rejected<B: Backend>() {
    for mut tracker in all_trackers::<B>(2, 0.5) {
        let empty = B::batch_from_rows(&[], 0, 2).unwrap();
        assert_eq!(
            tracker.update_batch(&empty).unwrap_err(),
            Error::EmptyBatch,
            "{}",
            tracker.name()
        );
    }
}

/// Invalid weights, q, delta, beta and sample indices are rejected with the value.
fn invalid_parameters_are_rejected<B: Backend>() {
    let s = constant::<B::Scalar>(1.0);
    for weights in [
        vec![1.0, -1.0],
        vec![f64::NAN],
        vec![1.0, f64::INFINITY],
        vec![0.0, 0.0],
        vec![],
    ] {
        let err = WeightedGeometricMedianTracker::<B>::new(2, &vs(&weights), s).unwrap_err();
        assert!(
            matches!(err, Error::InvalidWeights { .. }),
            "{weights:?}: {err:?}"
        );
    }
    for q in [0.0, 1.0, -0.5, f64::NAN] {
        let err = QuantileTracker::<B>::new(2, sc(q), s).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "q", .. }),
            "{q}: {err:?}"
        );
    }
    for delta in [-1.0, f64::NAN, f64::INFINITY] {
        let err = HuberTracker::<B>::new(2, sc(delta), s).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "delta", .. }),
            "{delta}: {err:?}"
        );
    }
    for beta in [1.0, -0.1, f64::NAN] {
        let err = EmaTracker::<B>::from_momentum(2, sc(beta)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "beta", .. }),
            "{beta}: {err:?}"
        );
        let err = HuberTracker::<B>::from_momentum(2, sc(beta), sc(1.0)).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "beta", .. }),
            "{beta}: {err:?}"
        );
    }
    let mut e8 = WeightedGeometricMedianTracker::<B>::new(1, &vs(&[1.0, 1.0]), s).unwrap();
    let err = e8.update_sample(2, &vs(&[1.0])).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "sample", value, .. } if value == 2.0));
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// E2 never moves the estimate by more than tau.
fn geometric_step_norm_at_most_tau<B: Backend>() {
    let mut runner = TestRunner::new(proptest_config(0x5eed_0001, 64));
    let strategy = (
        proptest::collection::vec(-1e3..1e3f64, 4),
        proptest::collection::vec(-1e3..1e3f64, 4),
        1e-3..1e2f64,
    );
    runner
        .run(&strategy, |(m, g, tau)| {
            let mut e2 = GeometricMedianTracker::<B>::new(4, constant(tau));
            e2.reset_to(&vs(&m)).unwrap();
            e2.update(&vs(&g)).unwrap();
            let m_s = vs::<B::Scalar>(&m);
            let step: Vec<f64> = e2
                .estimate()
                .iter()
                .zip(&m_s)
                .map(|(a, b)| a.into_f64() - b.into_f64())
                .collect();
            let sn = step.iter().map(|x| x * x).sum::<f64>().sqrt();
            // Rounding of m + step in the scalar type adds up to eps |m| per coordinate.
            let slack = 4.0 * tol::<B::Scalar>() * (tau + norm_f64(&m_s));
            prop_assert!(sn <= tau + slack, "step norm {} > tau {}", sn, tau);
            Ok(())
        })
        .unwrap();
}

/// Moving m and g by the same vector moves every tracker's next estimate by it.
fn trackers_are_translation_equivariant<B: Backend>() {
    let mut runner = TestRunner::new(proptest_config(0x5eed_0002, 32));
    let strategy = (
        proptest::collection::vec(-10.0..10.0f64, 3),
        proptest::collection::vec(-10.0..10.0f64, 3),
        proptest::collection::vec(-10.0..10.0f64, 3),
        0.1..5.0f64,
    );
    runner
        .run(&strategy, |(m, g, shift, tau)| {
            let mut base = all_trackers::<B>(3, tau);
            let mut moved = all_trackers::<B>(3, tau);
            let add =
                |a: &[f64]| -> Vec<f64> { a.iter().zip(&shift).map(|(x, s)| x + s).collect() };
            for (a, b) in base.iter_mut().zip(moved.iter_mut()) {
                a.reset_to(&vs(&m)).unwrap();
                b.reset_to(&vs(&add(&m))).unwrap();
                a.update(&vs(&g)).unwrap();
                b.update(&vs(&add(&g))).unwrap();
                let expected = add(&to_f64(a.estimate()));
                let got = to_f64(b.estimate());
                for (x, y) in got.iter().zip(&expected) {
                    prop_assert!(
                        (x - y).abs() <= tol::<B::Scalar>() * 30.0,
                        "{}: {:?} vs {:?}",
                        a.name(),
                        got,
                        expected
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

/// Scaling m, g and tau (and delta) by a > 0 scales the next estimate by a; EMA keeps tau.
fn trackers_are_scale_equivariant<B: Backend>() {
    let mut runner = TestRunner::new(proptest_config(0x5eed_0003, 32));
    let strategy = (
        proptest::collection::vec(-10.0..10.0f64, 3),
        proptest::collection::vec(-10.0..10.0f64, 3),
        0.1..5.0f64,
        0.05..20.0f64,
    );
    runner
        .run(&strategy, |(m, g, tau, a)| {
            let scaled = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| a * x).collect() };
            let make = |t: f64, dl: f64| -> Vec<Box<dyn OnlineEstimator<B>>> {
                let s = constant::<B::Scalar>(t);
                vec![
                    Box::new(GeometricMedianTracker::<B>::new(3, s)),
                    Box::new(CoordinateMedianTracker::<B>::new(3, s)),
                    Box::new(LinfMedianTracker::<B>::new(3, s)),
                    Box::new(HuberTracker::<B>::new(3, sc(dl), s).unwrap()),
                    Box::new(QuantileTracker::<B>::new(3, sc(0.3), s).unwrap()),
                ]
            };
            let mut base = make(tau, 0.5);
            let mut big = make(a * tau, a * 0.5);
            base.push(Box::new(EmaTracker::<B>::new(3, constant(tau))));
            big.push(Box::new(EmaTracker::<B>::new(3, constant(tau))));
            for (x, y) in base.iter_mut().zip(big.iter_mut()) {
                x.reset_to(&vs(&m)).unwrap();
                y.reset_to(&vs(&scaled(&m))).unwrap();
                x.update(&vs(&g)).unwrap();
                y.update(&vs(&scaled(&g))).unwrap();
                let expected = scaled(&to_f64(x.estimate()));
                let got = to_f64(y.estimate());
                for (p, q) in got.iter().zip(&expected) {
                    prop_assert!(
                        (p - q).abs() <= tol::<B::Scalar>() * (a * 20.0),
                        "{}: {:?} vs {:?}",
                        x.name(),
                        got,
                        expected
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Instantiation for every backend and scalar
// ---------------------------------------------------------------------------------------

macro_rules! instantiate {
    ($module:ident, $backend:ty; $($test:ident),* $(,)?) => {
        mod $module {
            $(
                #[test]
                fn $test() {
                    super::$test::<$backend>();
                }
            )*
        }
    };
}

macro_rules! all_backends {
    ($($test:ident),* $(,)?) => {
        instantiate!(vec_f32, median_linalg::VecBackend<f32>; $($test),*);
        instantiate!(vec_f64, median_linalg::VecBackend<f64>; $($test),*);
        instantiate!(nalgebra_f32, median_nalgebra::NalgebraBackend<f32>; $($test),*);
        instantiate!(nalgebra_f64, median_nalgebra::NalgebraBackend<f64>; $($test),*);
        instantiate!(faer_f32, median_faer::FaerBackend<f32>; $($test),*);
        instantiate!(faer_f64, median_faer::FaerBackend<f64>; $($test),*);
    };
}

all_backends!(
    one_dimension_geometric_equals_clamp,
    geometric_lands_on_gradient_or_moves_tau,
    geometric_satisfies_prox_optimality,
    huber_tends_to_geometric,
    huber_within_threshold_is_ema,
    huber_momentum_form_matches,
    quantile_half_equals_coordinate_median,
    quantile_step_bounds,
    ema_equals_momentum,
    norm_tracker_matches_special_cases,
    linf_step_has_l1_norm_tau,
    infinite_step_returns_gradient,
    anchor_reset_gives_clipped_sgd,
    single_gradient_batch_equals_update,
    geometric_batch_averages_clipped_steps,
    weighted_batch_uses_sample_thresholds,
    averaging_returns_mean_of_iterates,
    averaging_switched_on_midway,
    reset_restarts_schedule,
    weighted_uniform_equals_geometric,
    weighted_threshold_scales_with_weight,
    weighted_update_cycles_samples,
    clone_continues_independently,
    overflowing_innovation_stays_finite,
    non_finite_gradient_keeps_estimate,
    batch_with_non_finite_gradient_names_index,
    mismatched_dimensions_are_rejected,
    empty_batch_is_rejected,
    invalid_parameters_are_rejected,
    geometric_step_norm_at_most_tau,
    trackers_are_translation_equivariant,
    trackers_are_scale_equivariant,
);

// ---------------------------------------------------------------------------------------
// Scalar-level tests (no backend)
// ---------------------------------------------------------------------------------------

#[test]
fn schedule_step_sizes() {
    let c = StepSchedule::constant(0.5_f64).unwrap();
    assert_eq!(c.step_size(0), 0.5);
    assert_eq!(c.step_size(1000), 0.5);
    let s = StepSchedule::inverse_sqrt(3.0_f64).unwrap();
    assert_eq!(s.step_size(0), 3.0);
    assert_eq!(s.step_size(8), 1.0);
    let p = StepSchedule::power_law(2.0_f64, 1.0).unwrap();
    assert_eq!(p.step_size(3), 0.5);
    let q = StepSchedule::power_law(1.0_f32, 0.5).unwrap();
    assert!((q.step_size(15) - 0.25).abs() < 1e-6);
    assert_eq!(
        StepSchedule::constant(f64::INFINITY).unwrap().step_size(7),
        f64::INFINITY
    );
}

#[test]
fn schedule_rejects_invalid_parameters() {
    for tau in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
        let err = StepSchedule::constant(tau).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "tau", .. }),
            "{tau}: {err:?}"
        );
        let err = StepSchedule::inverse_sqrt(tau).unwrap_err();
        assert!(
            matches!(err, Error::InvalidParameter { name: "tau0", .. }),
            "{tau}: {err:?}"
        );
    }
    for p in [0.0, -0.5, 1.5, f64::NAN] {
        let err = StepSchedule::power_law(1.0, p).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidParameter {
                    name: "exponent",
                    ..
                }
            ),
            "{p}: {err:?}"
        );
    }
}

#[test]
fn huber_momentum_conversions_round_trip() {
    assert_eq!(momentum_to_huber(0.75_f64, 4.0).unwrap(), (1.0, 3.0));
    assert_eq!(huber_to_momentum(1.0_f64, 3.0).unwrap(), (0.75, 4.0));
    for (beta, c) in [(0.9_f64, 0.3), (0.0, 2.0), (0.37, 11.0)] {
        let (tau, delta) = momentum_to_huber(beta, c).unwrap();
        let (b2, c2) = huber_to_momentum(tau, delta).unwrap();
        assert!((b2 - beta).abs() <= 4.0 * f64::EPSILON, "{beta} -> {b2}");
        assert!((c2 - c).abs() <= 4.0 * f64::EPSILON * c, "{c} -> {c2}");
    }
    assert!(matches!(
        momentum_to_huber(0.5_f64, 0.0),
        Err(Error::InvalidParameter { name: "c", .. })
    ));
    assert!(matches!(
        huber_to_momentum(f64::INFINITY, 1.0),
        Err(Error::InvalidParameter { name: "tau", .. })
    ));
    assert!(matches!(
        huber_to_momentum(1.0_f64, -1.0),
        Err(Error::InvalidParameter { name: "delta", .. })
    ));
}

#[test]
fn tracker_names_are_distinct() {
    let names: Vec<String> = all_trackers::<median_linalg::VecBackend<f64>>(1, 1.0)
        .iter()
        .map(|t| t.name())
        .collect();
    assert_eq!(names[1], "E2-geometric");
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "{names:?}");
}
