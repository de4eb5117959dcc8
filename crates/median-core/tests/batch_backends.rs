//! The batch estimators on every backend and scalar type: the known cases in `f32` and
//! `f64`, and agreement with the `VecBackend<f64>` results on seeded random batches.

use median_conformance::{random_vec, seeded_rng};
use median_core::aggregate::Aggregator;
use median_core::batch::{
    CoordinateMedian, CoordinateQuantile, EvenRule, GeometricMedian, Mean, MedianOfMeans,
    StartPoint, StopReason, TrimmedMean, WeightedCoordinateMedian,
};
use median_core::{Error, NanPolicy};
use median_faer::FaerBackend;
use median_linalg::{Backend, Scalar, VecBackend};
use median_nalgebra::NalgebraBackend;

const NAN: f64 = f64::NAN;

/// Builds a batch of `B` from `f64` rows, converting each value.
fn batch<B: Backend>(rows: &[f64], count: usize, dim: usize) -> B::Batch {
    let values: Vec<B::Scalar> = rows.iter().map(|&v| B::Scalar::of_f64(v)).collect();
    B::batch_from_rows(&values, count, dim).unwrap()
}

fn to_f64<B: Backend>(v: &B::Vector) -> Vec<f64> {
    B::vector_as_slice(v).iter().map(|x| x.into_f64()).collect()
}

/// Relative tolerance for values computed with rounding: 1e-12 in `f64`, 1e-5 in `f32`.
fn tolerance<S: Scalar>() -> f64 {
    if S::NAME == "f64" { 1e-12 } else { 1e-5 }
}

fn assert_close_slices(actual: &[f64], expected: &[f64], relative: f64, what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(1e-300_f64, |m, v| m.max(v.abs()));
    for (j, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= relative * scale,
            "{what}: coordinate {j}: got {a}, expected {e}"
        );
    }
}

const PRICES: [f64; 15] = [
    850.0, 920.0, 980.0, 1050.0, 1120.0, 1180.0, 1250.0, 1320.0, 1400.0, 1480.0, 1550.0, 1700.0,
    1850.0, 2100.0, 8500.0,
];

fn median_nan_cases<B: Backend>() {
    let rows = [NAN, 0.0, 10.0, 0.0, 11.0, 0.0, 12.0, 0.0];
    let data = batch::<B>(&rows, 4, 2);
    let propagated = to_f64::<B>(&CoordinateMedian::new().estimate::<B>(&data).unwrap());
    assert!(propagated[0].is_nan());
    assert_eq!(propagated[1], 0.0);

    let mut skip = CoordinateMedian::new().with_nan_policy(NanPolicy::Skip);
    assert_eq!(
        to_f64::<B>(&skip.estimate::<B>(&data).unwrap()),
        vec![11.0, 0.0]
    );
    let cases: [(&[f64], f64); 2] = [(&[1.0, NAN, NAN, 2.0], 1.5), (&[NAN, NAN, 1.0], 1.0)];
    for (values, expected) in cases {
        let data = batch::<B>(values, values.len(), 1);
        assert_eq!(
            to_f64::<B>(&skip.estimate::<B>(&data).unwrap()),
            vec![expected]
        );
    }
    let all_nan = batch::<B>(&[NAN, NAN], 2, 1);
    assert_eq!(
        skip.estimate::<B>(&all_nan).unwrap_err(),
        Error::AllNan { coordinate: 0 }
    );
}

fn weighted_median_cases<B: Backend>() {
    let of = |w: &[f64]| w.iter().map(|&v| B::Scalar::of_f64(v)).collect::<Vec<_>>();
    let values = batch::<B>(&[1.0, 2.0, 3.0, 4.0, 5.0], 5, 1);
    let mut symmetric = WeightedCoordinateMedian::new(&of(&[10.0, 1.0, 1.0, 1.0, 10.0])).unwrap();
    assert_eq!(
        to_f64::<B>(&symmetric.estimate::<B>(&values).unwrap()),
        vec![3.0]
    );
    for (rule, expected) in [
        (EvenRule::Midpoint, 2.5),
        (EvenRule::Lower, 2.0),
        (EvenRule::Upper, 3.0),
    ] {
        let mut tie = WeightedCoordinateMedian::new(&of(&[10.0, 1.0, 1.0, 1.0, 9.0]))
            .unwrap()
            .with_even_rule(rule);
        assert_eq!(
            to_f64::<B>(&tie.estimate::<B>(&values).unwrap()),
            vec![expected]
        );
    }
    let points = batch::<B>(&[0.0, 0.0, 4.0, 0.0, 0.0, 3.0], 3, 2);
    let mut zero_weight = WeightedCoordinateMedian::new(&of(&[0.0, 1.0, 2.0])).unwrap();
    assert_eq!(
        to_f64::<B>(&zero_weight.estimate::<B>(&points).unwrap()),
        vec![0.0, 3.0]
    );
}

fn trimmed_mean_cases<B: Backend>() {
    let prices = batch::<B>(&PRICES, 15, 1);
    let tol = tolerance::<B::Scalar>();
    for (f, expected) in [
        (0, 1816.6666666666667),
        (1, 1376.923076923077),
        (2, 1352.7272727272727),
        (7, 1320.0),
    ] {
        let out = to_f64::<B>(&TrimmedMean::by_count(f).estimate::<B>(&prices).unwrap());
        assert_close_slices(&out, &[expected], tol, &format!("f = {f}"));
    }
    for (beta, expected) in [(0.05, 1499.0740740740741), (0.1, 1365.8333333333333)] {
        let out = to_f64::<B>(
            &TrimmedMean::by_fraction(beta)
                .unwrap()
                .estimate::<B>(&prices)
                .unwrap(),
        );
        assert_close_slices(&out, &[expected], tol, &format!("beta = {beta}"));
    }
    assert!(matches!(
        TrimmedMean::by_count(8).estimate::<B>(&prices),
        Err(Error::InadmissibleByzantineCount { n: 15, f: 8, .. })
    ));

    let with_nan = batch::<B>(
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, NAN, NAN, NAN],
        11,
        1,
    );
    for trim in [
        TrimmedMean::by_count(3),
        TrimmedMean::by_count(2),
        TrimmedMean::by_fraction(0.3).unwrap(),
        TrimmedMean::by_fraction(0.2).unwrap(),
    ] {
        let propagated = to_f64::<B>(&trim.clone().estimate::<B>(&with_nan).unwrap());
        assert!(propagated[0].is_nan());
        let skipped = trim
            .with_nan_policy(NanPolicy::Skip)
            .estimate::<B>(&with_nan)
            .unwrap();
        assert_close_slices(&to_f64::<B>(&skipped), &[3.5], tol, "skip");
    }
}

fn median_of_means_cases<B: Backend>() {
    let values = batch::<B>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1000.0], 8, 1);
    for (k, expected) in [(4, 4.5), (3, 5.0), (8, 4.5), (1, 128.5)] {
        let out = MedianOfMeans::new(k)
            .unwrap()
            .estimate::<B>(&values)
            .unwrap();
        assert_close_slices(
            &to_f64::<B>(&out),
            &[expected],
            tolerance::<B::Scalar>(),
            "k",
        );
    }
    assert!(
        MedianOfMeans::new(9)
            .unwrap()
            .estimate::<B>(&values)
            .is_err()
    );
    assert!(MedianOfMeans::<B::Scalar>::new(0).is_err());
}

fn geometric_median_cases<B: Backend>() {
    let identical = batch::<B>(&[700000.0, 700000.0, 700000.0, 700000.0], 2, 2);
    let (m, info) = GeometricMedian::new().solve::<B>(&identical).unwrap();
    assert_eq!(to_f64::<B>(&m), vec![700000.0, 700000.0]);
    assert_eq!(info.stop_reason, StopReason::AllPointsEqual);

    let copies = batch::<B>(&[1.5, -2.0, 3.0].repeat(4), 4, 3);
    let weights: Vec<B::Scalar> = [1.0, 2.0, 3.0, 4.0]
        .iter()
        .map(|&w| B::Scalar::of_f64(w))
        .collect();
    let (m, _) = GeometricMedian::new()
        .with_weights(&weights)
        .unwrap()
        .solve::<B>(&copies)
        .unwrap();
    assert_eq!(to_f64::<B>(&m), vec![1.5, -2.0, 3.0]);

    let square = batch::<B>(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 5.0, 5.0], 4, 2);
    let mut capped = GeometricMedian::new()
        .with_start(StartPoint::Mean)
        .with_max_iter(1);
    let (m, info) = capped.solve::<B>(&square).unwrap();
    assert!(!info.converged);
    assert!(info.objective <= 10.233345472033855);
    let one_step = 0.8474276507515124;
    assert_close_slices(
        &to_f64::<B>(&m),
        &[one_step, one_step],
        tolerance::<B::Scalar>(),
        "one step",
    );

    let (m, info) = GeometricMedian::new().solve::<B>(&square).unwrap();
    assert!(info.converged, "{info:?}");
    let accuracy = if B::Scalar::NAME == "f64" { 1e-9 } else { 1e-4 };
    assert_close_slices(&to_f64::<B>(&m), &[0.5, 0.5], accuracy, "converged");

    let triangle = batch::<B>(&[0.0, 0.0, 4.0, 0.0, 0.0, 3.0], 3, 2);
    let weights: Vec<B::Scalar> = [0.0, 1.0, 2.0]
        .iter()
        .map(|&w| B::Scalar::of_f64(w))
        .collect();
    let (m, _) = GeometricMedian::new()
        .with_weights(&weights)
        .unwrap()
        .solve::<B>(&triangle)
        .unwrap();
    assert_eq!(to_f64::<B>(&m), vec![0.0, 3.0]);
}

fn empty_and_mismatched_input<B: Backend>() {
    let empty = B::batch_from_rows(&[], 0, 2).unwrap();
    let points = batch::<B>(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, 2);
    let two = [B::Scalar::of_f64(1.0); 2];
    let mut estimators: Vec<Box<dyn Aggregator<B>>> = vec![
        Box::new(Mean::new()),
        Box::new(CoordinateMedian::new()),
        Box::new(CoordinateQuantile::new(0.25).unwrap()),
        Box::new(TrimmedMean::by_count(1)),
        Box::new(MedianOfMeans::new(2).unwrap()),
        Box::new(GeometricMedian::new()),
    ];
    for estimator in estimators.iter_mut() {
        assert_eq!(
            estimator.aggregate(&empty).unwrap_err(),
            Error::EmptyBatch,
            "{}",
            estimator.name()
        );
    }
    let mismatch = Error::DimensionMismatch {
        what: "weights",
        index: 0,
        expected: 3,
        found: 2,
    };
    let mut weighted = WeightedCoordinateMedian::new(&two).unwrap();
    assert_eq!(weighted.estimate::<B>(&points).unwrap_err(), mismatch);
    let mut geometric = GeometricMedian::new().with_weights(&two).unwrap();
    assert_eq!(geometric.solve::<B>(&points).unwrap_err(), mismatch);
}

/// An estimator on `B`, the same estimator on the `f64` reference backend, and the relative
/// tolerance between their results.
type EstimatorPair<B> = (
    Box<dyn Aggregator<B>>,
    Box<dyn Aggregator<VecBackend<f64>>>,
    f64,
);

/// Compares every estimator on a seeded random batch in `B` with the same batch, widened
/// to `f64`, on the `VecBackend`.
fn agrees_with_vec_f64<B: Backend>() {
    type R = VecBackend<f64>;
    let (count, dim) = (37, 300);
    let mut rng = seeded_rng(31);
    let values: Vec<B::Scalar> = random_vec(&mut rng, count * dim);
    let wide: Vec<f64> = values.iter().map(|v| v.into_f64()).collect();
    let data = B::batch_from_rows(&values, count, dim).unwrap();
    let reference_data = R::batch_from_rows(&wide, count, dim).unwrap();
    let weights_f64: Vec<f64> = (0..count).map(|i| 1.0 + (i % 5) as f64).collect();
    let weights: Vec<B::Scalar> = weights_f64.iter().map(|&w| B::Scalar::of_f64(w)).collect();
    let tol = tolerance::<B::Scalar>();

    let pairs: Vec<EstimatorPair<B>> = vec![
        (Box::new(Mean::new()), Box::new(Mean::new()), tol),
        (
            Box::new(CoordinateMedian::new()),
            Box::new(CoordinateMedian::new()),
            0.0,
        ),
        (
            Box::new(WeightedCoordinateMedian::new(&weights).unwrap()),
            Box::new(WeightedCoordinateMedian::new(&weights_f64).unwrap()),
            tol,
        ),
        (
            Box::new(CoordinateQuantile::new(0.3).unwrap()),
            Box::new(CoordinateQuantile::new(0.3).unwrap()),
            tol,
        ),
        (
            Box::new(TrimmedMean::by_count(5)),
            Box::new(TrimmedMean::by_count(5)),
            tol,
        ),
        (
            Box::new(TrimmedMean::by_fraction(0.15).unwrap()),
            Box::new(TrimmedMean::by_fraction(0.15).unwrap()),
            tol,
        ),
        (
            Box::new(MedianOfMeans::new(6).unwrap()),
            Box::new(MedianOfMeans::new(6).unwrap()),
            tol,
        ),
    ];
    for (mut estimator, mut reference, relative) in pairs {
        let out = to_f64::<B>(&estimator.aggregate(&data).unwrap());
        let expected = reference.aggregate(&reference_data).unwrap();
        // The median of an odd count picks an input value, so it agrees exactly. A
        // weighted median may take the midpoint at an exact half-weight tie.
        assert_close_slices(&out, &expected, relative, &estimator.name());
    }

    let (m, info) = GeometricMedian::new().solve::<B>(&data).unwrap();
    let (expected, _) = GeometricMedian::new().solve::<R>(&reference_data).unwrap();
    assert!(info.converged, "{info:?}");
    let accuracy = if B::Scalar::NAME == "f64" { 1e-9 } else { 1e-3 };
    assert_close_slices(&to_f64::<B>(&m), &expected, accuracy, "geometric median");
}

macro_rules! backend_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            #[test]
            fn median_nan_cases() {
                super::median_nan_cases::<$backend>();
            }

            #[test]
            fn weighted_median_cases() {
                super::weighted_median_cases::<$backend>();
            }

            #[test]
            fn trimmed_mean_cases() {
                super::trimmed_mean_cases::<$backend>();
            }

            #[test]
            fn median_of_means_cases() {
                super::median_of_means_cases::<$backend>();
            }

            #[test]
            fn geometric_median_cases() {
                super::geometric_median_cases::<$backend>();
            }

            #[test]
            fn empty_and_mismatched_input() {
                super::empty_and_mismatched_input::<$backend>();
            }

            #[test]
            fn agrees_with_vec_f64() {
                super::agrees_with_vec_f64::<$backend>();
            }
        }
    };
}

backend_tests!(vec_f32, super::VecBackend<f32>);
backend_tests!(vec_f64, super::VecBackend<f64>);
backend_tests!(nalgebra_f32, super::NalgebraBackend<f32>);
backend_tests!(nalgebra_f64, super::NalgebraBackend<f64>);
backend_tests!(faer_f32, super::FaerBackend<f32>);
backend_tests!(faer_f64, super::FaerBackend<f64>);
