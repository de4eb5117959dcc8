//! Checks of the vector noise laws: declared geometry against the joint tail behaviour,
//! in-place and allocating draws, scaled addition, and property tests of the scalar
//! samplers' pure functions.

use median_conformance::seeded_rng;
use median_noise::{
    Cauchy, Contaminated, Gaussian, Geometry, Iid, MultivariateStudentT, StudentT,
    SubGaussianStable, VectorNoise, stable_transform,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Returns `P(|X_1| > q and |X_2| > q)` and `P(|X_1| > q)` over `n` draws of dimension 2.
fn joint_and_marginal_exceedance<N: VectorNoise<f64>>(noise: &N, q: f64, n: usize) -> (f64, f64) {
    let mut rng = seeded_rng(31);
    let mut out = [0.0; 2];
    let (mut joint, mut marginal) = (0, 0);
    for _ in 0..n {
        noise.sample_into(&mut rng, &mut out);
        let first = out[0].abs() > q;
        marginal += usize::from(first);
        joint += usize::from(first && out[1].abs() > q);
    }
    (joint as f64 / n as f64, marginal as f64 / n as f64)
}

#[test]
fn radial_tails_are_joint_iid_tails_are_not() {
    // Cauchy marginals in both laws; P(|X_1| > 10) = 2 atan(1/10) / pi = 0.0635.
    let n = 200_000;
    let iid = Iid::new(Cauchy::new(0.0, 1.0).unwrap());
    let radial = MultivariateStudentT::new(1.0, 1.0).unwrap();
    assert_eq!(VectorNoise::<f64>::geometry(&iid), Geometry::Independent);
    assert_eq!(VectorNoise::<f64>::geometry(&radial), Geometry::Radial);

    let (iid_joint, iid_marginal) = joint_and_marginal_exceedance(&iid, 10.0, n);
    let (radial_joint, radial_marginal) = joint_and_marginal_exceedance(&radial, 10.0, n);
    for marginal in [iid_marginal, radial_marginal] {
        assert!((marginal - 0.0635).abs() < 0.003, "marginal {marginal}");
    }

    // Independence: joint = marginal^2 = 0.004. Radial: one large radius makes both
    // coordinates large together, so the joint exceedance is many times larger.
    assert!(
        (iid_joint - iid_marginal * iid_marginal).abs() < 0.001,
        "iid {iid_joint}"
    );
    assert!(
        radial_joint > 5.0 * radial_marginal * radial_marginal,
        "radial {radial_joint}"
    );
}

#[test]
fn sample_vec_matches_sample_into() {
    let noise = SubGaussianStable::new(1.2, 0.5).unwrap();
    let allocated = noise.sample_vec(&mut seeded_rng(8), 5);
    let mut in_place = [0.0; 5];
    noise.sample_into(&mut seeded_rng(8), &mut in_place);
    assert_eq!(allocated, in_place);
}

/// Asserts that `add_scaled_into` adds `scale` times the draw that `sample_into` writes
/// from the same generator state.
fn assert_adds_same_draw<N: VectorNoise<f64>>(label: &str, noise: &N) {
    let start = [1.0, -2.0, 0.5];
    let scale = 0.25;
    let mut draw = [0.0; 3];
    noise.sample_into(&mut seeded_rng(12), &mut draw);
    let mut sum = start;
    noise.add_scaled_into(&mut seeded_rng(12), scale, &mut sum);
    for i in 0..3 {
        assert_eq!(
            sum[i],
            start[i] + scale * draw[i],
            "{label}, coordinate {i}"
        );
    }
}

#[test]
fn add_scaled_into_adds_the_same_draw() {
    let t = MultivariateStudentT::new(2.5, 1.0).unwrap();
    assert_adds_same_draw("multivariate t", &t);
    let stable = SubGaussianStable::new(0.7, 1.0).unwrap();
    assert_adds_same_draw("sub-Gaussian stable", &stable);
    let iid = Iid::new(StudentT::new(4.0).unwrap());
    assert_adds_same_draw("iid t", &iid);
}

#[test]
fn contaminated_vector_switches_whole_vectors() {
    // eps = 1 always draws the contamination, eps = 0 never does.
    let inlier = Iid::new(Gaussian::new(0.0, 1e-6).unwrap());
    let outlier = Iid::new(Gaussian::new(1e6, 1.0).unwrap());
    let always = Contaminated::new(inlier, outlier, 1.0).unwrap();
    let never = Contaminated::new(inlier, outlier, 0.0).unwrap();
    assert_eq!(always.geometry(), Geometry::Mixture);
    let mut rng = seeded_rng(13);
    for _ in 0..100 {
        let contaminated: Vec<f64> = always.sample_vec(&mut rng, 3);
        let clean: Vec<f64> = never.sample_vec(&mut rng, 3);
        assert!(contaminated.iter().all(|x| *x > 1e5), "{contaminated:?}");
        assert!(clean.iter().all(|x| x.abs() < 1e-3), "{clean:?}");
    }
}

#[test]
fn multivariate_t_infinite_nu_is_gaussian() {
    // nu = inf draws exactly sigma times the standard normals of the same generator.
    let t = MultivariateStudentT::new(f64::INFINITY, 3.0).unwrap();
    let gaussian = Iid::new(Gaussian::new(0.0, 3.0).unwrap());
    assert_eq!(
        t.sample_vec(&mut seeded_rng(14), 6),
        gaussian.sample_vec(&mut seeded_rng(14), 6)
    );
}

fn config() -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        cases: 512,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn stable_transform_never_nan(
        alpha in 0.05f64..=2.0,
        beta in -1.0f64..=1.0,
        u in 1e-12f64..1.0,
        w in 1e-16f64..40.0,
    ) {
        let v = std::f64::consts::PI * (u - 0.5);
        prop_assert!(!stable_transform(alpha, beta, v, w).is_nan());
    }

    #[test]
    fn stable_transform_symmetric_odd_in_angle(
        alpha in 0.1f64..=2.0,
        v in -1.5f64..1.5,
        w in 0.01f64..10.0,
    ) {
        let plus = stable_transform(alpha, 0.0, v, w);
        let minus = stable_transform(alpha, 0.0, -v, w);
        prop_assert!((plus + minus).abs() <= 1e-12 * (1.0 + plus.abs()));
    }

    #[test]
    fn cauchy_quantile_monotone(p in 1e-15f64..0.999, step in 1e-9f64..1e-3) {
        let cauchy = Cauchy::new(0.0, 1.0).unwrap();
        let q = (p + step).min(1.0 - 1e-15);
        prop_assert!(cauchy.quantile(p).unwrap() <= cauchy.quantile(q).unwrap());
    }

    #[test]
    fn student_t_pdf_symmetric_and_finite(nu in 0.1f64..1e6, x in -1e3f64..1e3) {
        // The density may underflow to 0 far in a light tail (large nu), never below 0.
        let t = StudentT::new(nu).unwrap();
        let left = t.pdf(-x);
        let right = t.pdf(x);
        prop_assert!(right >= 0.0 && right.is_finite());
        prop_assert!(x.abs() > 30.0 || right > 0.0);
        prop_assert_eq!(left, right);
    }
}
