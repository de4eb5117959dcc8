//! Tests of the clipping and projection operators: the shared contract (thresholds, zero
//! vectors, non-finite input, output lengths), the L1-ball projection against a sort-based
//! projection and its optimality conditions, and the Moreau decomposition of norm proxes.

use median_core::Error;
use median_core::clip::{
    L1Norm, L2Norm, LinfNorm, Norm, clip_coordinates, clip_coordinates_in_place,
    clip_coordinates_into, clip_coordinates_range, clip_coordinates_range_in_place,
    clip_coordinates_range_into, clip_norm, clip_norm_in_place, clip_norm_into,
    project_dual_ball_into, project_l1_ball, project_l1_ball_into, project_linf_ball,
    project_linf_ball_in_place, project_linf_ball_into, prox_norm, prox_norm_into,
};
use median_linalg::Scalar;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

type Op<S> = fn(&[S], S) -> Result<Vec<S>, Error>;

/// Returns every threshold operator in allocating form, with the name of its threshold.
fn operators<S: Scalar>() -> Vec<(&'static str, &'static str, Op<S>)> {
    vec![
        ("clip_norm", "max_norm", clip_norm::<S> as Op<S>),
        ("clip_coordinates", "tau", clip_coordinates::<S>),
        ("clip_coordinates_range", "lo", |v, t| {
            clip_coordinates_range(v, -t, t)
        }),
        ("project_l1_ball", "radius", project_l1_ball::<S>),
        ("project_linf_ball", "radius", project_linf_ball::<S>),
        ("prox_l2", "tau", |v, t| prox_norm(&L2Norm, v, t)),
    ]
}

fn seeded(seed: u64, cases: u32) -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        cases,
        ..ProptestConfig::default()
    }
}

// ---------------------------------------------------------------------------------------
// Norm clipping: values
// ---------------------------------------------------------------------------------------

#[test]
fn clip_norm_scales_to_threshold() {
    assert_eq!(clip_norm(&[6.0_f64, 8.0], 5.0).unwrap(), vec![3.0, 4.0]);
    let u = clip_norm(&[3.0_f64, 4.0], 1.0).unwrap();
    assert!((u[0] - 0.6).abs() <= 2.0 * f64::EPSILON, "{u:?}");
    assert!((u[1] - 0.8).abs() <= 2.0 * f64::EPSILON, "{u:?}");
    let v = clip_norm(&[3.0_f32, 4.0], 1.0).unwrap();
    assert!((v[0] - 0.6).abs() <= 2.0 * f32::EPSILON, "{v:?}");
    assert!((v[1] - 0.8).abs() <= 2.0 * f32::EPSILON, "{v:?}");
    assert_eq!(
        clip_norm(&[3.0_f64, 4.0], 5.0).unwrap(),
        vec![3.0, 4.0],
        "on the sphere: unchanged"
    );
}

#[test]
fn clip_norm_into_returns_norm_before_clipping() {
    let mut out = [0.0_f64; 2];
    assert_eq!(clip_norm_into(&[3.0, 4.0], 2.5, &mut out).unwrap(), 5.0);
    assert_eq!(out, [1.5, 2.0]);
    let mut v = [6.0_f64, 8.0];
    assert_eq!(clip_norm_in_place(&mut v, 5.0).unwrap(), 10.0);
    assert_eq!(v, [3.0, 4.0]);
}

#[test]
fn clip_norm_of_overflowing_norm_is_finite() {
    // ‖v‖ = sqrt(2) * 1e308 overflows f64 although every entry is finite.
    let v = clip_norm(&[1e308_f64, -1e308], 1.0).unwrap();
    let h = std::f64::consts::FRAC_1_SQRT_2;
    assert!((v[0] - h).abs() <= 4.0 * f64::EPSILON, "{v:?}");
    assert!((v[1] + h).abs() <= 4.0 * f64::EPSILON, "{v:?}");
    let w = clip_norm(&[f32::MAX, f32::MAX, f32::MAX, f32::MAX], 2.0).unwrap();
    assert!(
        w.iter().all(|&x| (x - 1.0).abs() <= 4.0 * f32::EPSILON),
        "{w:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Zero vectors (0/0 at the boundary)
// ---------------------------------------------------------------------------------------

#[test]
fn zero_gradient_stays_zero() {
    let zero = [0.0_f32; 3];
    assert_eq!(clip_norm(&zero, 0.0).unwrap(), vec![0.0; 3]);
    assert_eq!(clip_norm(&zero, 1.0).unwrap(), vec![0.0; 3]);
    assert_eq!(clip_norm(&[3.0_f32, 4.0], 0.0).unwrap(), vec![0.0, 0.0]);
}

#[test]
fn zero_vector_stays_zero_for_every_operator() {
    for (name, _, op) in operators::<f32>() {
        for tau in [0.0, 1.0, f32::INFINITY] {
            let out = op(&[0.0; 3], tau).unwrap();
            assert_eq!(out, vec![0.0; 3], "{name} with threshold {tau}");
        }
    }
}

#[test]
fn zero_threshold_maps_to_zero() {
    for (name, _, op) in operators::<f64>() {
        let out = op(&[3.0, -4.0, 0.5], 0.0).unwrap();
        if name == "prox_l2" {
            assert_eq!(
                out,
                vec![3.0, -4.0, 0.5],
                "the prox with tau = 0 is the identity"
            );
        } else {
            assert_eq!(out, vec![0.0; 3], "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Threshold validation
// ---------------------------------------------------------------------------------------

#[test]
fn negative_or_nan_threshold_is_rejected() {
    for (name, param, op) in operators::<f64>() {
        for tau in [-1.0, f64::NAN, f64::NEG_INFINITY] {
            let err = op(&[3.0, 4.0], tau).unwrap_err();
            match err {
                Error::InvalidParameter { name: p, value, .. } => {
                    assert_eq!(p, param, "{name}");
                    assert!(
                        value.is_nan() || value.abs() == tau.abs(),
                        "{name}: {value}"
                    );
                }
                other => panic!("{name} with threshold {tau}: {other:?}"),
            }
        }
    }
    let mut v = [3.0_f64, 4.0];
    assert!(clip_norm_in_place(&mut v, -1.0).is_err());
    assert_eq!(v, [3.0, 4.0], "never flipped to [-0.6, -0.8]");
}

#[test]
fn asymmetric_bounds_are_validated() {
    let err = clip_coordinates_range(&[1.0_f64], 0.5, 1.0).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "lo", value, .. } if value == 0.5));
    let err = clip_coordinates_range(&[1.0_f64], f64::NAN, 1.0).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "lo", .. }));
    let err = clip_coordinates_range(&[1.0_f64], -1.0, -0.5).unwrap_err();
    assert!(matches!(err, Error::InvalidParameter { name: "hi", .. }));
    assert_eq!(
        clip_coordinates_range(&[5.0_f64, -5.0, 0.5], f64::NEG_INFINITY, 1.0).unwrap(),
        vec![1.0, -5.0, 0.5]
    );
    assert_eq!(
        clip_coordinates_range(&[3.0_f64, -3.0], -1.0, 2.0).unwrap(),
        vec![2.0, -1.0]
    );
}

#[test]
fn infinite_threshold_is_identity() {
    assert_eq!(
        clip_norm(&[3.0_f64, 4.0], f64::INFINITY).unwrap(),
        vec![3.0, 4.0]
    );
    let v = [1e300_f64, -3.5, 2.0e-310, 7.25];
    for (name, _, op) in operators::<f64>() {
        let out = op(&v, f64::INFINITY).unwrap();
        if name == "prox_l2" {
            assert_eq!(out, vec![0.0; 4], "the prox with tau = inf is zero");
        } else {
            assert_eq!(out, v.to_vec(), "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Non-finite input
// ---------------------------------------------------------------------------------------

#[test]
fn non_finite_gradient_is_reported() {
    for bad in [[1.0_f32, f32::INFINITY, 2.0], [1.0, f32::NAN, 2.0]] {
        let err = clip_norm(&bad, 1.0).unwrap_err();
        assert!(
            matches!(
                err,
                Error::NonFinite {
                    index: 0,
                    coordinate: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let mut v = bad;
        assert!(clip_norm_in_place(&mut v, 1.0).is_err());
        assert_eq!(v[0], 1.0, "not rescaled");
        assert_eq!(v[2], 2.0, "not rescaled");
    }
}

#[test]
fn non_finite_input_is_rejected_by_every_operator() {
    for (name, _, op) in operators::<f64>() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let err = op(&[1.0, 2.0, bad], 1.0).unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::NonFinite {
                        index: 0,
                        coordinate: 2,
                        ..
                    }
                ),
                "{name}: {err:?}"
            );
        }
    }
    let mut v = [1.0_f64, f64::NAN];
    assert!(clip_coordinates_in_place(&mut v, 1.0).is_err());
    assert!(clip_coordinates_range_in_place(&mut v, -1.0, 1.0).is_err());
    assert!(project_linf_ball_in_place(&mut v, 1.0).is_err());
    assert_eq!(v[0], 1.0);
}

#[test]
fn output_of_wrong_length_is_rejected() {
    let v = [1.0_f64, 2.0, 3.0];
    let mut out = [0.0; 2];
    let expected = Error::DimensionMismatch {
        what: "output",
        index: 0,
        expected: 3,
        found: 2,
    };
    assert_eq!(clip_norm_into(&v, 1.0, &mut out).unwrap_err(), expected);
    assert_eq!(
        clip_coordinates_into(&v, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(
        clip_coordinates_range_into(&v, -1.0, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(
        project_l1_ball_into(&v, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(
        project_linf_ball_into(&v, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(
        prox_norm_into(&L1Norm, &v, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(
        project_dual_ball_into(&LinfNorm, &v, 1.0, &mut out).unwrap_err(),
        expected
    );
    assert_eq!(out, [0.0; 2], "nothing written");
}

// ---------------------------------------------------------------------------------------
// Coordinate clipping and the Linf ball
// ---------------------------------------------------------------------------------------

#[test]
fn coordinate_clipping_clamps_each_entry() {
    assert_eq!(
        clip_coordinates(&[3.0_f64, -0.5, -4.0, 1.0], 1.0).unwrap(),
        vec![1.0, -0.5, -1.0, 1.0]
    );
    assert_eq!(
        project_linf_ball(&[3.0_f64, -0.5, -4.0], 2.0).unwrap(),
        vec![2.0, -0.5, -2.0]
    );
    let out = clip_coordinates(&[-0.0_f64], 1.0).unwrap();
    assert!(
        out[0].is_sign_negative(),
        "entries inside are copied bit for bit"
    );
}

// ---------------------------------------------------------------------------------------
// L1-ball projection
// ---------------------------------------------------------------------------------------

/// Projects onto the L1 ball by a full sort of the magnitudes, in f64.
fn project_l1_by_sort(v: &[f64], radius: f64) -> Vec<f64> {
    let l1: f64 = v.iter().map(|x| x.abs()).sum();
    if l1 <= radius {
        return v.to_vec();
    }
    let mut u: Vec<f64> = v.iter().map(|x| x.abs()).collect();
    u.sort_by(|a, b| b.partial_cmp(a).unwrap());
    let mut cumulative = 0.0;
    let mut theta = 0.0;
    for (j, &uj) in u.iter().enumerate() {
        cumulative += uj;
        let candidate = (cumulative - radius) / (j + 1) as f64;
        if uj > candidate {
            theta = candidate;
        }
    }
    v.iter()
        .map(|x| (x.abs() - theta).max(0.0).copysign(*x))
        .collect()
}

#[test]
fn l1_projection_small_cases() {
    assert_eq!(
        project_l1_ball(&[3.0_f64, 1.0, -2.0], 3.0).unwrap(),
        vec![2.0, 0.0, -1.0]
    );
    assert_eq!(
        project_l1_ball(&[0.5_f64, -0.25], 1.0).unwrap(),
        vec![0.5, -0.25],
        "inside"
    );
    assert_eq!(
        project_l1_ball(&[2.0_f64, 2.0, 2.0], 3.0).unwrap(),
        vec![1.0, 1.0, 1.0],
        "ties"
    );
    assert_eq!(project_l1_ball::<f64>(&[], 1.0).unwrap(), Vec::<f64>::new());
    // The L1 norm 3 MAX overflows; theta = 2 MAX / 3 leaves MAX / 3 in each entry.
    let huge = project_l1_ball(&[f64::MAX, f64::MAX, -f64::MAX], f64::MAX).unwrap();
    let third = f64::MAX / 3.0;
    assert!(
        huge.iter()
            .all(|x| (x.abs() - third).abs() <= 1e-12 * third),
        "overflowing L1 norm: {huge:?}"
    );
    assert!(huge[2] < 0.0);
}

proptest! {
    #![proptest_config(seeded(0xc11b_0001, 256))]

    #[test]
    fn l1_projection_matches_sort(
        v in proptest::collection::vec(-10.0..10.0f64, 0..40),
        radius in 0.0..20.0f64,
    ) {
        let fast = project_l1_ball(&v, radius).unwrap();
        let slow = project_l1_by_sort(&v, radius);
        for (a, b) in fast.iter().zip(&slow) {
            prop_assert!((a - b).abs() <= 1e-12 * (1.0 + radius), "{:?} vs {:?}", fast, slow);
        }
    }

    #[test]
    fn l1_projection_satisfies_kkt(
        v in proptest::collection::vec(-10.0..10.0f64, 1..40),
        radius in 0.01..20.0f64,
    ) {
        let p = project_l1_ball(&v, radius).unwrap();
        let l1_v: f64 = v.iter().map(|x| x.abs()).sum();
        let l1_p: f64 = p.iter().map(|x| x.abs()).sum();
        if l1_v <= radius {
            prop_assert_eq!(&p, &v);
        } else {
            // On the sphere, and p = soft threshold of v at one theta > 0.
            prop_assert!((l1_p - radius).abs() <= 1e-12 * (1.0 + radius) * v.len() as f64);
            let support: Vec<f64> = v.iter().zip(&p).filter(|(_, p)| **p != 0.0).map(|(x, p)| x.abs() - p.abs()).collect();
            prop_assert!(!support.is_empty());
            let theta = support[0];
            prop_assert!(theta > 0.0);
            for (x, pj) in v.iter().zip(&p) {
                if *pj == 0.0 {
                    prop_assert!(x.abs() <= theta + 1e-12, "zeroed entry {} above theta {}", x, theta);
                } else {
                    prop_assert!((x.abs() - pj.abs() - theta).abs() <= 1e-12 * (1.0 + x.abs()));
                    prop_assert_eq!(x.signum(), pj.signum());
                }
            }
        }
    }

    #[test]
    fn l1_projection_f32_matches_sort(
        v in proptest::collection::vec(-10.0..10.0f64, 1..40),
        radius in 0.0..20.0f64,
    ) {
        let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
        let fast = project_l1_ball(&v32, radius as f32).unwrap();
        let slow = project_l1_by_sort(&v32.iter().map(|&x| f64::from(x)).collect::<Vec<_>>(), f64::from(radius as f32));
        for (a, b) in fast.iter().zip(&slow) {
            prop_assert!((f64::from(*a) - b).abs() <= 1e-4 * (1.0 + radius), "{:?} vs {:?}", fast, slow);
        }
    }

    #[test]
    fn moreau_decomposition_holds(
        v in proptest::collection::vec(-10.0..10.0f64, 1..20),
        tau in 0.0..10.0f64,
    ) {
        let norms: [(&str, &dyn Norm<f64>); 3] = [("L1", &L1Norm), ("L2", &L2Norm), ("Linf", &LinfNorm)];
        for (name, norm) in norms {
            let prox = prox_norm(norm, &v, tau).unwrap();
            let mut proj = vec![0.0; v.len()];
            project_dual_ball_into(norm, &v, tau, &mut proj).unwrap();
            for j in 0..v.len() {
                prop_assert!((prox[j] + proj[j] - v[j]).abs() <= 1e-12 * (1.0 + v[j].abs()), "{}: v = prox + proj", name);
            }
            prop_assert!(norm.dual_norm(&proj) <= tau * (1.0 + 1e-12) + 1e-300, "{}: projection inside the dual ball", name);
            // prox optimality: <v - prox, prox> = tau ‖prox‖ (the projection is a subgradient).
            let inner: f64 = proj.iter().zip(&prox).map(|(a, b)| a * b).sum();
            prop_assert!((inner - tau * norm.norm(&prox)).abs() <= 1e-9 * (1.0 + tau) * (1.0 + norm.norm(&prox)), "{}: subgradient", name);
        }
    }

    #[test]
    fn l2_clip_never_exceeds_threshold(
        v in proptest::collection::vec(-1e6..1e6f64, 1..20),
        tau in 0.0..100.0f64,
    ) {
        let c = clip_norm(&v, tau).unwrap();
        let n = c.iter().map(|x| x * x).sum::<f64>().sqrt();
        prop_assert!(n <= tau * (1.0 + 4.0 * f64::EPSILON * v.len() as f64));
    }
}

#[test]
fn l1_projection_large_input_matches_sort() {
    let mut rng = median_conformance::seeded_rng(31);
    for (len, radius) in [(20_000, 50.0), (20_000, 5_000.0), (5_001, 0.5)] {
        let v: Vec<f64> = median_conformance::random_vec(&mut rng, len);
        let fast = project_l1_ball(&v, radius).unwrap();
        let slow = project_l1_by_sort(&v, radius);
        for (j, (a, b)) in fast.iter().zip(&slow).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12,
                "length {len}, coordinate {j}: {a} vs {b}"
            );
        }
    }
}

#[test]
fn prox_of_norms_by_hand() {
    assert_eq!(
        prox_norm(&L1Norm, &[3.0_f64, -0.5, -2.0], 1.0).unwrap(),
        vec![2.0, 0.0, -1.0]
    );
    assert_eq!(
        prox_norm(&L2Norm, &[6.0_f64, 8.0], 5.0).unwrap(),
        vec![3.0, 4.0]
    );
    // Linf prox subtracts the L1-ball projection: [3, 1, -2] minus [2, 0, -1].
    assert_eq!(
        prox_norm(&LinfNorm, &[3.0_f64, 1.0, -2.0], 3.0).unwrap(),
        vec![1.0, 1.0, -1.0]
    );
}
