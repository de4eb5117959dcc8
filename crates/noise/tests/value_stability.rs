//! Value-stability (regression) vectors: the first draws of every sampler from a fixed
//! seed, asserted exactly.
//!
//! The expected numbers are regression vectors. They were produced once by this crate's
//! samplers after the Kolmogorov-Smirnov tests of `median-stat-tests` had accepted them,
//! and they catch any later change of algorithm, of the order of random draws, or of the
//! generator. A deliberate change of algorithm must re-validate the samplers and then
//! update these vectors.

use median_conformance::seeded_rng;
use median_noise::{
    AlphaStable, Cauchy, Contaminated, Gaussian, Iid, Laplace, Lomax, MultivariateStudentT, Pareto,
    StudentT, SubGaussianStable, Symmetric, VectorNoise,
};
use rand::RngExt;
use rand::distr::Distribution;

const SEED: u64 = 2024;

/// Returns the first four draws from seed [`SEED`].
fn first_four<F, D: Distribution<F>>(distribution: &D) -> Vec<F> {
    let mut rng = seeded_rng(SEED);
    (0..4).map(|_| rng.sample(distribution)).collect()
}

/// Returns one vector draw of dimension 4 from seed [`SEED`].
fn first_vector<N: VectorNoise<f64>>(noise: &N) -> Vec<f64> {
    noise.sample_vec(&mut seeded_rng(SEED), 4)
}

#[test]
fn stability_gaussian() {
    let expected = [
        -0.3889887231267104,
        3.7684618712389053,
        1.8788624541828471,
        4.024723942189667,
    ];
    assert_eq!(first_four(&Gaussian::new(1.0, 2.0).unwrap()), expected);
    let expected32: [f32; 4] = [-0.38898873, 3.768462, 1.8788625, 4.024724];
    assert_eq!(first_four(&Gaussian::new(1.0f32, 2.0).unwrap()), expected32);
}

#[test]
fn stability_student_t() {
    let expected = [
        -0.46187184583439134,
        1.4569633425291093,
        -2.7564497491219058,
        1.2458859919004,
    ];
    assert_eq!(first_four(&StudentT::new(3.0).unwrap()), expected);
    let expected_inf = [
        -0.6944943615633552,
        1.3842309356194527,
        0.4394312270914235,
        1.5123619710948333,
    ];
    assert_eq!(
        first_four(&StudentT::new(f64::INFINITY).unwrap()),
        expected_inf
    );
}

#[test]
fn stability_cauchy() {
    let expected = [
        -1.727629788646001,
        18.14387486079177,
        0.6601047918360297,
        3.357667853109556,
    ];
    assert_eq!(first_four(&Cauchy::new(0.0, 1.0).unwrap()), expected);
    let expected32: [f32; 4] = [-1.7276298, 18.143875, 0.6601048, 3.357668];
    assert_eq!(first_four(&Cauchy::new(0.0f32, 1.0).unwrap()), expected32);
}

#[test]
fn stability_alpha_stable() {
    let expected = [
        -0.4856715858857812,
        0.22419715131752946,
        0.46467631788928365,
        -3.1905873393882414,
    ];
    assert_eq!(
        first_four(&AlphaStable::new(1.5, 0.5, 1.0, 0.0).unwrap()),
        expected
    );
    let expected_one = [
        -3.8988700108271503,
        -0.19839318259295616,
        0.44774315404242954,
        -13.697098741485265,
    ];
    assert_eq!(
        first_four(&AlphaStable::new(1.0, -0.5, 1.0, 0.0).unwrap()),
        expected_one
    );
}

#[test]
fn stability_pareto_and_lomax() {
    let expected_pareto = [
        2.1256168825384316,
        7.699627062582675,
        2.9416400399787896,
        4.428092192201705,
    ];
    assert_eq!(first_four(&Pareto::new(2.0, 3.0).unwrap()), expected_pareto);
    let expected_lomax = [
        0.12561688253843176,
        5.699627062582675,
        0.9416400399787895,
        2.4280921922017047,
    ];
    assert_eq!(first_four(&Lomax::new(2.0, 3.0).unwrap()), expected_lomax);
    let expected_symmetric = [
        -4.203094727023775,
        -0.9416400399787895,
        0.2716607932392996,
        -0.5146654241155743,
    ];
    let symmetric = Symmetric::new(Lomax::new(2.0, 3.0).unwrap());
    assert_eq!(first_four(&symmetric), expected_symmetric);
}

#[test]
fn stability_laplace() {
    let expected = [
        -1.0964995930698502,
        3.3509269605278593,
        0.4643130653952226,
        1.6913177824904364,
    ];
    assert_eq!(first_four(&Laplace::new(0.0, 1.0).unwrap()), expected);
}

#[test]
fn stability_contaminated() {
    let inlier = Gaussian::new(0.0, 1.0).unwrap();
    let outlier = Cauchy::new(0.0, 100.0).unwrap();
    let mixture = Contaminated::new(inlier, outlier, 0.5).unwrap();
    let expected = [
        1814.3874860791768,
        1.5123619710948333,
        -0.017469390248682926,
        -66.30237711902231,
    ];
    assert_eq!(first_four(&mixture), expected);
}

#[test]
fn stability_vector_noise() {
    let iid = Iid::new(Laplace::new(0.0, 1.0).unwrap());
    let expected_iid = [
        -1.0964995930698502,
        3.3509269605278593,
        0.4643130653952226,
        1.6913177824904364,
    ];
    assert_eq!(first_vector(&iid), expected_iid);

    let expected_t = [
        0.7154828980705398,
        2.462431113903248,
        0.60553709828956,
        -0.0284436999286181,
    ];
    assert_eq!(
        first_vector(&MultivariateStudentT::new(3.0, 1.0).unwrap()),
        expected_t
    );

    let expected_stable = [
        0.8516122167130863,
        2.9309385662040963,
        0.7207478920419156,
        -0.03385545959666552,
    ];
    assert_eq!(
        first_vector(&SubGaussianStable::new(1.5, 1.0).unwrap()),
        expected_stable
    );
}
