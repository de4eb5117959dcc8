//! The fused, parallel paths of the clipping operators and of the norm-clipping trackers
//! (E2, E6, E8) against plain sequential references written here. They must agree bit for
//! bit at lengths around the chunk and parallel boundaries, on 1 and 4 threads, and report
//! the same errors for non-finite input.

use median_conformance::{bits, on_threads, random_vec, seeded_rng};
use median_core::Error;
use median_core::clip::{
    clip_coordinates_in_place, clip_coordinates_into, clip_coordinates_range_into,
    clip_norm_in_place, clip_norm_into,
};
use median_core::online::{
    CoordinateMedianTracker, GeometricMedianTracker, HuberTracker, OnlineEstimator, StepSchedule,
    WeightedGeometricMedianTracker,
};
use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use median_linalg::{Scalar, VecBackend};

/// Lengths next to the lane, chunk and parallel boundaries.
const LENGTHS: [usize; 9] = [
    1,
    9,
    CHUNK - 1,
    CHUNK + 1,
    PARALLEL_MIN_LEN - 1,
    PARALLEL_MIN_LEN,
    PARALLEL_MIN_LEN + 7,
    2 * PARALLEL_MIN_LEN + CHUNK / 3,
    3 * PARALLEL_MIN_LEN + 1,
];

// ---------------------------------------------------------------------------------------
// Clipping operators
// ---------------------------------------------------------------------------------------

/// Returns the L2 clip by its definition: `v` if `‖v‖ <= t`, zero if `t = 0`, else
/// `v (t / ‖v‖)`.
fn reference_clip_norm<S: Scalar>(v: &[S], t: S) -> Vec<S> {
    let norm = kernels::norm(v);
    if norm <= t {
        return v.to_vec();
    }
    if t == S::zero() {
        return vec![S::zero(); v.len()];
    }
    let factor = t / norm;
    v.iter().map(|&x| x * factor).collect()
}

fn check_clip_norm<S: Scalar>(seed: u64) {
    let mut rng = seeded_rng(seed);
    for len in LENGTHS {
        let v = random_vec::<S>(&mut rng, len);
        let norm = kernels::norm(&v);
        for t in [0.0, 0.5, 1e9, f64::INFINITY] {
            let t = S::of_f64(t) * if t < 1.0 { norm } else { S::one() };
            let expected = reference_clip_norm(&v, t);
            let mut out = vec![S::zero(); len];
            let returned = clip_norm_into(&v, t, &mut out).unwrap();
            assert_eq!(bits(&[returned]), bits(&[norm]), "norm at {len}");
            assert_eq!(
                bits(&out),
                bits(&expected),
                "clip_norm_into at {len}, t {t:?}"
            );
            let mut in_place = v.clone();
            clip_norm_in_place(&mut in_place, t).unwrap();
            assert_eq!(bits(&in_place), bits(&expected), "in place at {len}");
        }
    }
}

#[test]
fn clip_norm_matches_reference_f64() {
    check_clip_norm::<f64>(21);
}

#[test]
fn clip_norm_matches_reference_f32() {
    check_clip_norm::<f32>(22);
}

#[test]
fn clip_norm_of_overflowing_long_vector() {
    // ‖v‖ = 1e307 sqrt(len) overflows although every entry is finite.
    let len = PARALLEL_MIN_LEN + 3;
    let v = vec![-1e307_f64; len];
    let mut out = vec![0.0; len];
    assert_eq!(clip_norm_into(&v, 2.0, &mut out).unwrap(), f64::INFINITY);
    let expected = -2.0 / (len as f64).sqrt();
    for &o in &out {
        assert!((o / expected - 1.0).abs() < 1e-14, "{o} != {expected}");
    }
}

/// Clamps by the definition, keeping coordinates inside `[lo, hi]` untouched.
fn reference_clamp<S: Scalar>(v: &[S], lo: S, hi: S) -> Vec<S> {
    v.iter()
        .map(|&x| {
            if x > hi {
                hi
            } else if x < lo {
                lo
            } else {
                x
            }
        })
        .collect()
}

fn check_clip_coordinates<S: Scalar>(seed: u64) {
    let mut rng = seeded_rng(seed);
    for len in LENGTHS {
        let mut v = random_vec::<S>(&mut rng, len);
        // Signed zeros and values on the bounds must come through unchanged.
        v[0] = -S::zero();
        v[len / 2] = S::of_f64(0.5);
        let tau = S::of_f64(0.5);
        let mut out = vec![S::zero(); len];
        clip_coordinates_into(&v, tau, &mut out).unwrap();
        assert_eq!(
            bits(&out),
            bits(&reference_clamp(&v, -tau, tau)),
            "len {len}"
        );
        let (lo, hi) = (S::of_f64(-0.25), S::of_f64(0.75));
        clip_coordinates_range_into(&v, lo, hi, &mut out).unwrap();
        assert_eq!(
            bits(&out),
            bits(&reference_clamp(&v, lo, hi)),
            "range {len}"
        );
        let mut in_place = v.clone();
        clip_coordinates_in_place(&mut in_place, tau).unwrap();
        assert_eq!(bits(&in_place), bits(&reference_clamp(&v, -tau, tau)));
    }
}

#[test]
fn clip_coordinates_matches_reference_f64() {
    check_clip_coordinates::<f64>(23);
}

#[test]
fn clip_coordinates_matches_reference_f32() {
    check_clip_coordinates::<f32>(24);
}

#[test]
fn non_finite_entry_reports_first_coordinate() {
    let len = 2 * PARALLEL_MIN_LEN + 5;
    for (first, second) in [
        (3, len - 1),
        (PARALLEL_MIN_LEN + 1, len - 2),
        (len - 1, len - 1),
    ] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut v = vec![0.25_f64; len];
            v[first] = bad;
            v[second] = f64::NAN;
            let expected = |e: &Error| matches!(e, Error::NonFinite { index: 0, coordinate, .. } if *coordinate == first);
            let mut out = vec![0.0; len];
            let err = clip_norm_into(&v, 1.0, &mut out).unwrap_err();
            assert!(expected(&err), "clip_norm_into: {err:?}");
            let err = clip_coordinates_into(&v, 1.0, &mut out).unwrap_err();
            assert!(expected(&err), "clip_coordinates_into: {err:?}");

            let mut in_place = v.clone();
            let err = clip_norm_in_place(&mut in_place, 1e-3).unwrap_err();
            assert!(expected(&err), "clip_norm_in_place: {err:?}");
            assert_eq!(
                bits(&in_place),
                bits(&v),
                "clip_norm_in_place changed its input"
            );
            let err = clip_coordinates_in_place(&mut in_place, 0.1).unwrap_err();
            assert!(expected(&err), "clip_coordinates_in_place: {err:?}");
            assert_eq!(bits(&in_place), bits(&v), "clamp changed its input");
        }
    }
}

#[test]
fn non_finite_input_is_reported_before_output_length() {
    let v = [1.0_f64, f64::NAN];
    let mut out = [0.0; 3];
    assert!(matches!(
        clip_coordinates_into(&v, 1.0, &mut out),
        Err(Error::NonFinite { coordinate: 1, .. })
    ));
    assert!(matches!(
        clip_norm_into(&v, 1.0, &mut out),
        Err(Error::NonFinite { coordinate: 1, .. })
    ));
    assert!(matches!(
        clip_coordinates_into(&[1.0, 2.0], 1.0, &mut out),
        Err(Error::DimensionMismatch { what: "output", .. })
    ));
}

#[test]
fn clips_do_not_depend_on_thread_count() {
    let v = random_vec::<f32>(&mut seeded_rng(25), 3 * PARALLEL_MIN_LEN + 11);
    let run = || {
        let mut out = vec![0.0; v.len()];
        clip_norm_into(&v, 3.0, &mut out).unwrap();
        let mut clamped = vec![0.0; v.len()];
        clip_coordinates_into(&v, 0.3, &mut clamped).unwrap();
        out.extend(clamped);
        out
    };
    assert_eq!(bits(&on_threads(1, run)), bits(&on_threads(4, run)));
}

// ---------------------------------------------------------------------------------------
// Trackers
// ---------------------------------------------------------------------------------------

/// Applies one SPP step by the definition, on scratch vectors: `r = g - m`,
/// `s = (clip_threshold(r)) * coefficient`, and `m+ = g` where `s == r`, `m + s` elsewhere.
fn reference_step<S: Scalar>(m: &mut [S], g: &[S], threshold: S, coefficient: S) {
    let r: Vec<S> = g.iter().zip(m.iter()).map(|(&gj, &mj)| gj - mj).collect();
    let mut s = reference_clip_norm(&r, threshold);
    if coefficient != S::one() {
        for sj in s.iter_mut() {
            *sj = *sj * coefficient;
        }
    }
    for j in 0..m.len() {
        m[j] = if s[j] == r[j] { g[j] } else { m[j] + s[j] };
    }
}

/// Returns three gradients: two far apart, so that steps clip, and one close to the
/// second, so that the step after it lands on it.
fn gradients<S: Scalar>(seed: u64, len: usize) -> Vec<Vec<S>> {
    let mut rng = seeded_rng(seed);
    let far = random_vec::<S>(&mut rng, len);
    let near = random_vec::<S>(&mut rng, len);
    let nearer: Vec<S> = near
        .iter()
        .zip(random_vec::<S>(&mut rng, len))
        .map(|(&a, b)| a + b * S::of_f64(1e-6))
        .collect();
    vec![far, near, nearer]
}

/// Returns the threshold for a step: a fraction of the typical innovation norm.
fn threshold_for<S: Scalar>(len: usize) -> S {
    S::of_f64(0.3 * (len as f64).sqrt())
}

fn check_geometric_tracker<S: Scalar>(seed: u64) {
    for len in LENGTHS {
        // The large threshold lands every step on its gradient, where m + (g - m) would
        // round differently from g.
        for scale in [1.0, 1e3] {
            let tau = threshold_for::<S>(len) * S::of_f64(scale);
            let schedule = StepSchedule::constant(tau).unwrap();
            let mut tracker = GeometricMedianTracker::<VecBackend<S>>::new(len, schedule);
            let mut m = vec![S::zero(); len];
            for (k, g) in gradients::<S>(seed, len).iter().cycle().take(5).enumerate() {
                tracker.update(g).unwrap();
                reference_step(&mut m, g, tau, S::one());
                assert_eq!(bits(tracker.estimate()), bits(&m), "E2 step {k} at {len}");
            }
        }
    }
}

#[test]
fn geometric_tracker_matches_reference_f64() {
    check_geometric_tracker::<f64>(31);
}

#[test]
fn geometric_tracker_matches_reference_f32() {
    check_geometric_tracker::<f32>(32);
}

#[test]
fn huber_and_weighted_trackers_match_reference() {
    for len in [9, PARALLEL_MIN_LEN + 7] {
        let (tau, delta) = (threshold_for::<f64>(len), 0.5 * threshold_for::<f64>(len));
        let schedule = StepSchedule::constant(tau).unwrap();
        let mut huber = HuberTracker::<VecBackend<f64>>::new(len, delta, schedule).unwrap();
        let weights = [1.0, 3.0];
        let mut weighted =
            WeightedGeometricMedianTracker::<VecBackend<f64>>::new(len, &weights, schedule)
                .unwrap();
        let (mut m_huber, mut m_weighted) = (vec![0.0; len], vec![0.0; len]);
        for (k, g) in gradients::<f64>(33, len).iter().cycle().take(5).enumerate() {
            huber.update(g).unwrap();
            reference_step(&mut m_huber, g, tau + delta, tau / (tau + delta));
            assert_eq!(
                bits(huber.estimate()),
                bits(&m_huber),
                "E6 step {k} at {len}"
            );

            // Update k steps on sample k mod 2, clipped at tau n w_i / sum w.
            weighted.update(g).unwrap();
            let factor = weighted.threshold_factors()[k % 2];
            reference_step(&mut m_weighted, g, tau * factor, 1.0);
            assert_eq!(bits(weighted.estimate()), bits(&m_weighted), "E8 step {k}");
        }
    }
}

/// Checks `update_and_descend` against `update` followed by `x + (-gamma) m`, bit for bit,
/// and the returned finiteness.
fn check_descend_matches<E: OnlineEstimator<VecBackend<f64>> + Clone>(name: &str, estimator: E) {
    let len = estimator.estimate().len();
    let gamma = 0.125;
    let mut fused = estimator.clone();
    let mut separate = estimator;
    let mut x_fused = random_vec::<f64>(&mut seeded_rng(34), len);
    let mut x_separate = x_fused.clone();
    for (k, g) in gradients::<f64>(35, len).iter().cycle().take(4).enumerate() {
        let finite = fused.update_and_descend(g, gamma, &mut x_fused).unwrap();
        separate.update(g).unwrap();
        kernels::axpy(-gamma, separate.estimate(), &mut x_separate);
        assert!(finite, "{name} step {k}");
        assert_eq!(
            bits(fused.estimate()),
            bits(separate.estimate()),
            "{name} {k}"
        );
        assert_eq!(bits(&x_fused), bits(&x_separate), "{name} point, step {k}");
    }
}

#[test]
fn update_and_descend_matches_update_then_axpy() {
    for len in [9, CHUNK + 1, 2 * PARALLEL_MIN_LEN + 3] {
        let tau = threshold_for::<f64>(len);
        let schedule = StepSchedule::constant(tau).unwrap();
        check_descend_matches("E2", GeometricMedianTracker::new(len, schedule));
        check_descend_matches(
            "E2 averaged",
            GeometricMedianTracker::new(len, schedule).with_averaging(),
        );
        check_descend_matches(
            "E2 tau inf",
            GeometricMedianTracker::new(len, StepSchedule::constant(f64::INFINITY).unwrap()),
        );
        check_descend_matches("E6", HuberTracker::new(len, 0.1, schedule).unwrap());
        check_descend_matches(
            "E8",
            WeightedGeometricMedianTracker::new(len, &[2.0, 0.0, 1.0], schedule).unwrap(),
        );
        check_descend_matches("E3", CoordinateMedianTracker::new(len, schedule));
    }
}

#[test]
fn update_and_descend_reports_non_finite_point() {
    let mut tracker = GeometricMedianTracker::<VecBackend<f64>>::new(
        PARALLEL_MIN_LEN + 1,
        StepSchedule::constant(f64::INFINITY).unwrap(),
    );
    let g = vec![1e300; PARALLEL_MIN_LEN + 1];
    let mut x = vec![0.0; PARALLEL_MIN_LEN + 1];
    // x - 1e10 * 1e300 overflows to -inf.
    assert!(!tracker.update_and_descend(&g, 1e10, &mut x).unwrap());
    assert_eq!(x[0], f64::NEG_INFINITY);
}

#[test]
fn update_and_descend_rejects_bad_input_unchanged() {
    let len = PARALLEL_MIN_LEN + 9;
    let schedule = StepSchedule::constant(1.0).unwrap();
    let mut tracker = GeometricMedianTracker::<VecBackend<f64>>::new(len, schedule);
    tracker.update(&vec![0.5; len]).unwrap();
    let before = tracker.estimate().to_vec();
    let mut x = vec![1.0; len];

    let mut g = vec![0.25; len];
    g[PARALLEL_MIN_LEN + 2] = f64::NAN;
    g[len - 1] = f64::INFINITY;
    let err = tracker.update_and_descend(&g, 0.1, &mut x).unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { index: 0, coordinate, .. } if coordinate == PARALLEL_MIN_LEN + 2),
        "{err:?}"
    );
    let err = tracker
        .update_and_descend(&vec![0.25; len], 0.1, &mut x[1..])
        .unwrap_err();
    assert!(
        matches!(err, Error::DimensionMismatch { what: "point", .. }),
        "{err:?}"
    );
    assert_eq!(bits(tracker.estimate()), bits(&before));
    assert_eq!(x, vec![1.0; len]);
    assert_eq!(tracker.steps(), 1);
}

#[test]
fn overflowing_innovation_takes_checked_path() {
    // g - m overflows: the tracker halves both, as `update` does.
    let len = PARALLEL_MIN_LEN + 1;
    let schedule = StepSchedule::constant(1e308).unwrap();
    let start = GeometricMedianTracker::<VecBackend<f64>>::new(len, schedule);
    let mut fused = start.clone();
    let mut separate = start;
    for g in [vec![1.5e308; len], vec![-1.5e308; len]] {
        let mut x = vec![0.0; len];
        fused.update_and_descend(&g, 1e-300, &mut x).unwrap();
        separate.update(&g).unwrap();
        assert_eq!(bits(fused.estimate()), bits(separate.estimate()));
        assert!(fused.estimate().iter().all(|m| m.is_finite()));
    }
}

#[test]
fn tracker_updates_do_not_depend_on_thread_count() {
    let len = 3 * PARALLEL_MIN_LEN + 5;
    let gradients = gradients::<f32>(36, len);
    let run = || {
        let tau = threshold_for::<f32>(len);
        let schedule = StepSchedule::constant(tau).unwrap();
        let mut tracker = GeometricMedianTracker::<VecBackend<f32>>::new(len, schedule);
        let mut coordinate = CoordinateMedianTracker::<VecBackend<f32>>::new(len, schedule);
        let mut x = vec![0.5_f32; len];
        for g in &gradients {
            tracker.update_and_descend(g, 0.25, &mut x).unwrap();
            coordinate.update(g).unwrap();
        }
        x.extend_from_slice(tracker.estimate());
        x.extend_from_slice(coordinate.estimate());
        x
    };
    assert_eq!(bits(&on_threads(1, run)), bits(&on_threads(4, run)));
}
