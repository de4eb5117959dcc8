//! Known hard inputs for the batch estimators: NaN handling, ties, trimming rules, block
//! rules, degenerate geometric medians, empty and ragged input.

use median_core::aggregate::Aggregator;
use median_core::batch::{
    CoordinateMedian, CoordinateQuantile, EvenRule, GeometricMedian, GeometricMedianSolver, Mean,
    MedianOfMeans, StartPoint, StopReason, TrimmedMean, WeightedCoordinateMedian,
    aggregate_gradients,
};
use median_core::{Error, NanPolicy};
use median_linalg::{Backend, LinalgError, RowBatch, VecBackend};

type B = VecBackend<f64>;

const NAN: f64 = f64::NAN;

/// Returns a batch of one-dimensional gradients.
fn column(values: &[f64]) -> RowBatch<f64> {
    B::batch_from_rows(values, values.len(), 1).unwrap()
}

fn batch(rows: &[&[f64]]) -> RowBatch<f64> {
    B::batch_from_gradients(rows).unwrap()
}

fn assert_close(actual: f64, expected: f64) {
    let tolerance = 1e-12 * expected.abs().max(1e-300);
    assert!(
        (actual - expected).abs() <= tolerance,
        "got {actual:?}, expected {expected:?}"
    );
}

fn median_of(values: &[f64], policy: NanPolicy) -> Result<f64, Error> {
    let mut median = CoordinateMedian::new().with_nan_policy(policy);
    median.estimate::<B>(&column(values)).map(|v| v[0])
}

const PRICES: [f64; 15] = [
    850.0, 920.0, 980.0, 1050.0, 1120.0, 1180.0, 1250.0, 1320.0, 1400.0, 1480.0, 1550.0, 1700.0,
    1850.0, 2100.0, 8500.0,
];

#[test]
fn median_nan_propagates() {
    let out = CoordinateMedian::new()
        .estimate::<B>(&batch(&[
            &[NAN, 0.0],
            &[10.0, 0.0],
            &[11.0, 0.0],
            &[12.0, 0.0],
        ]))
        .unwrap();
    assert!(out[0].is_nan());
    assert_eq!(out[1], 0.0);
}

#[test]
fn median_nan_skip_counts_after_removal() {
    let out = CoordinateMedian::new()
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&batch(&[
            &[NAN, 0.0],
            &[10.0, 0.0],
            &[11.0, 0.0],
            &[12.0, 0.0],
        ]))
        .unwrap();
    assert_eq!(out, vec![11.0, 0.0]);
    assert_eq!(median_of(&[1.0, NAN, NAN, 2.0], NanPolicy::Skip), Ok(1.5));
    assert_eq!(median_of(&[NAN, NAN, 1.0], NanPolicy::Skip), Ok(1.0));
}

#[test]
fn median_all_nan_skip_is_error() {
    assert_eq!(
        median_of(&[NAN, NAN], NanPolicy::Skip),
        Err(Error::AllNan { coordinate: 0 })
    );
}

#[test]
fn median_nan_error_policy_names_position() {
    let err = CoordinateMedian::new()
        .with_nan_policy(NanPolicy::Error)
        .estimate::<B>(&batch(&[&[1.0, 2.0], &[3.0, NAN]]))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            index: 1,
            coordinate: 1,
            ..
        }
    ));
}

#[test]
fn median_even_rules() {
    let values = [4.0, 1.0, 3.0, 2.0];
    for (rule, expected) in [
        (EvenRule::Midpoint, 2.5),
        (EvenRule::Lower, 2.0),
        (EvenRule::Upper, 3.0),
    ] {
        let mut median = CoordinateMedian::new().with_even_rule(rule);
        assert_eq!(
            median.estimate::<B>(&column(&values)).unwrap(),
            vec![expected]
        );
    }
}

#[test]
fn median_midpoint_of_huge_values_is_finite() {
    assert_eq!(
        median_of(&[1e308, 1.5e308], NanPolicy::Propagate),
        Ok(1.25e308)
    );
    assert_eq!(
        median_of(&[-1.7e308, 1.7e308], NanPolicy::Propagate),
        Ok(0.0)
    );
}

#[test]
fn weighted_median_symmetric_weights() {
    let values = column(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let mut median = WeightedCoordinateMedian::new(&[10.0, 1.0, 1.0, 1.0, 10.0]).unwrap();
    assert_eq!(median.estimate::<B>(&values).unwrap(), vec![3.0]);
}

#[test]
fn weighted_median_half_weight_tie() {
    let values = column(&[1.0, 2.0, 3.0, 4.0, 5.0]);
    let weights = [10.0, 1.0, 1.0, 1.0, 9.0];
    for (rule, expected) in [
        (EvenRule::Midpoint, 2.5),
        (EvenRule::Lower, 2.0),
        (EvenRule::Upper, 3.0),
    ] {
        let mut median = WeightedCoordinateMedian::new(&weights)
            .unwrap()
            .with_even_rule(rule);
        assert_eq!(
            median.estimate::<B>(&values).unwrap(),
            vec![expected],
            "{rule:?}"
        );
    }
}

#[test]
fn weighted_median_equal_weights_match_unweighted() {
    let values = column(&[2.0, 4.0]);
    let mut weighted = WeightedCoordinateMedian::new(&[1.0, 1.0]).unwrap();
    let unweighted = CoordinateMedian::new().estimate::<B>(&values).unwrap();
    assert_eq!(weighted.estimate::<B>(&values).unwrap(), unweighted);
    assert_eq!(unweighted, vec![3.0]);
}

#[test]
fn weighted_median_rejects_invalid_weights() {
    for weights in [
        [1.0, 1.0, -3.0],
        [1.0, -1.0, 0.0],
        [0.0, 0.0, 0.0],
        [1.0, NAN, 1.0],
    ] {
        let result = WeightedCoordinateMedian::new(&weights);
        assert!(
            matches!(result, Err(Error::InvalidWeights { .. })),
            "{weights:?}"
        );
    }
    assert!(matches!(
        WeightedCoordinateMedian::new(&[1.0, f64::INFINITY]),
        Err(Error::InvalidWeights { .. })
    ));
}

#[test]
fn weighted_median_zero_weight_does_not_pull() {
    let points = batch(&[&[0.0, 0.0], &[4.0, 0.0], &[0.0, 3.0]]);
    let mut median = WeightedCoordinateMedian::new(&[0.0, 1.0, 2.0]).unwrap();
    assert_eq!(median.estimate::<B>(&points).unwrap(), vec![0.0, 3.0]);
}

#[test]
fn weighted_median_wrong_weight_count() {
    let points = batch(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]);
    let mut median = WeightedCoordinateMedian::new(&[1.0, 1.0]).unwrap();
    assert_eq!(
        median.estimate::<B>(&points).unwrap_err(),
        Error::DimensionMismatch {
            what: "weights",
            index: 0,
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn weighted_median_huge_weights() {
    let values = column(&[1.0, 2.0, 3.0]);
    let mut median = WeightedCoordinateMedian::new(&[1e308, 1e308, 1.5e308]).unwrap();
    // Cumulative weights 1, 2 and 3.5 (in units of 1e308) against half of 3.5.
    assert_eq!(median.estimate::<B>(&values).unwrap(), vec![2.0]);
}

#[test]
fn quantile_matches_linear_rule() {
    let values = [7.0, 1.0, 3.0, 5.0, 9.0, 2.0];
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    for q in [0.0, 0.1, 0.25, 0.5, 0.8, 0.9, 1.0] {
        let h: f64 = q * 5.0;
        let k = h.floor() as usize;
        let expected = if k == 5 {
            sorted[5]
        } else {
            sorted[k] + (h - k as f64) * (sorted[k + 1] - sorted[k])
        };
        let mut quantile = CoordinateQuantile::new(q).unwrap();
        assert_close(
            quantile.estimate::<B>(&column(&values)).unwrap()[0],
            expected,
        );
    }
}

#[test]
fn quantile_rejects_q_outside_unit_interval() {
    for q in [-0.1, 1.5, NAN] {
        assert!(matches!(
            CoordinateQuantile::<f64>::new(q),
            Err(Error::InvalidParameter { name: "q", .. })
        ));
    }
}

#[test]
fn quantile_nan_skip() {
    let mut quantile = CoordinateQuantile::new(0.5)
        .unwrap()
        .with_nan_policy(NanPolicy::Skip);
    let out = quantile
        .estimate::<B>(&column(&[NAN, 10.0, 11.0, 12.0]))
        .unwrap();
    assert_eq!(out, vec![11.0]);
}

#[test]
fn trimmed_mean_by_count() {
    let values = column(&PRICES);
    for (f, expected) in [
        (0, 1816.6666666666667),
        (1, 1376.923076923077),
        (2, 1352.7272727272727),
        (7, 1320.0),
    ] {
        let out = TrimmedMean::by_count(f).estimate::<B>(&values).unwrap();
        assert_close(out[0], expected);
    }
}

#[test]
fn trimmed_mean_rejects_two_f_at_least_n() {
    let err = TrimmedMean::by_count(8)
        .estimate::<B>(&column(&PRICES))
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InadmissibleByzantineCount { n: 15, f: 8, .. }
    ));
}

#[test]
fn trimmed_mean_by_fraction_is_fractional() {
    let values = column(&PRICES);
    for (beta, expected) in [(0.05, 1499.0740740740741), (0.1, 1365.8333333333333)] {
        let out = TrimmedMean::by_fraction(beta)
            .unwrap()
            .estimate::<B>(&values)
            .unwrap();
        assert_close(out[0], expected);
    }
}

#[test]
fn trimmed_mean_rejects_fraction_out_of_range() {
    for beta in [-0.01, 0.5, 0.7, NAN] {
        assert!(matches!(
            TrimmedMean::<f64>::by_fraction(beta),
            Err(Error::InvalidParameter { name: "beta", .. })
        ));
    }
}

#[test]
fn trimmed_mean_nan_policies() {
    let values = column(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, NAN, NAN, NAN]);
    let trims = [
        TrimmedMean::by_count(3),
        TrimmedMean::by_count(2),
        TrimmedMean::by_fraction(0.3).unwrap(),
        TrimmedMean::by_fraction(0.2).unwrap(),
    ];
    for trim in trims {
        let propagated = trim.clone().estimate::<B>(&values).unwrap();
        assert!(propagated[0].is_nan(), "{:?}", trim.trim());
        let skipped = trim
            .clone()
            .with_nan_policy(NanPolicy::Skip)
            .estimate::<B>(&values)
            .unwrap();
        assert_close(skipped[0], 3.5);
        let rejected = trim
            .clone()
            .with_nan_policy(NanPolicy::Error)
            .estimate::<B>(&values);
        assert!(matches!(rejected, Err(Error::NonFinite { index: 8, .. })));
    }
}

#[test]
fn trimmed_mean_skip_checks_count_after_removal() {
    let values = column(&[1.0, 2.0, 3.0, NAN, NAN]);
    let err = TrimmedMean::by_count(2)
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&values)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InadmissibleByzantineCount { n: 3, f: 2, .. }
    ));
}

#[test]
fn median_of_means_block_rules() {
    let values = column(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1000.0]);
    for (k, expected) in [(4, 4.5), (3, 5.0), (8, 4.5), (1, 128.5)] {
        let out = MedianOfMeans::new(k)
            .unwrap()
            .estimate::<B>(&values)
            .unwrap();
        assert_close(out[0], expected);
    }
}

#[test]
fn median_of_means_rejects_bad_block_counts() {
    let values = column(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1000.0]);
    let err = MedianOfMeans::new(9)
        .unwrap()
        .estimate::<B>(&values)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidParameter { name: "blocks", .. }
    ));
    assert!(matches!(
        MedianOfMeans::<f64>::new(0),
        Err(Error::InvalidParameter { name: "blocks", .. })
    ));
}

#[test]
fn geometric_median_of_means_block_rules() {
    let rows: Vec<f64> = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1000.0]
        .iter()
        .flat_map(|&v| [v, -v])
        .collect();
    let points = B::batch_from_rows(&rows, 8, 2).unwrap();
    // The block means lie on a line, so the geometric median is their one-dimensional
    // median; for k = 4 every point between the middle two minimises, and the solver
    // starts at, and keeps, their midpoint.
    for (k, expected) in [(3, 5.0), (4, 4.5), (8, 4.5)] {
        let mut estimator = MedianOfMeans::new(k)
            .unwrap()
            .with_geometric_median(GeometricMedian::new().with_start(StartPoint::CoordinateMedian));
        let out = estimator.estimate::<B>(&points).unwrap();
        assert_close(out[0], expected);
        assert_close(out[1], -expected);
        assert!(estimator.geometric_info().unwrap().converged);
    }
    // From the default (reduced) start the solver keeps another minimiser on the segment.
    // The middle two block means are 3.5 and 5.5 for k = 4, and 4 and 5 for k = 8.
    for (k, low, high) in [(4, 3.5, 5.5), (8, 4.0, 5.0)] {
        let mut estimator = MedianOfMeans::new(k)
            .unwrap()
            .with_geometric_median(GeometricMedian::new());
        let out = estimator.estimate::<B>(&points).unwrap();
        assert!(
            (low..=high).contains(&out[0]) && out[1] == -out[0],
            "{k}: {out:?}"
        );
        assert!(estimator.geometric_info().unwrap().converged);
    }
    let mut too_many = MedianOfMeans::new(9)
        .unwrap()
        .with_geometric_median(GeometricMedian::new());
    assert!(matches!(
        too_many.estimate::<B>(&points),
        Err(Error::InvalidParameter { name: "blocks", .. })
    ));
}

#[test]
fn geometric_median_of_means_with_one_per_block() {
    let points = d02_points();
    let mut per_point = MedianOfMeans::new(4)
        .unwrap()
        .with_geometric_median(GeometricMedian::new());
    let (direct, _) = GeometricMedian::new().solve::<B>(&points).unwrap();
    assert_eq!(per_point.estimate::<B>(&points).unwrap(), direct);
}

#[test]
fn geometric_median_of_means_rejects_nan_block() {
    let points = batch(&[&[1.0, 0.0], &[2.0, NAN], &[3.0, 0.0], &[4.0, 0.0]]);
    let mut estimator = MedianOfMeans::new(2)
        .unwrap()
        .with_geometric_median(GeometricMedian::new());
    let err = estimator.estimate::<B>(&points).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            index: 0,
            coordinate: 1,
            ..
        }
    ));
}

#[test]
fn geometric_median_identical_points() {
    let points = batch(&[&[700000.0, 700000.0], &[700000.0, 700000.0]]);
    let mut median = GeometricMedian::new().with_tolerance(1e-7).unwrap();
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert_eq!(m, vec![700000.0, 700000.0]);
    assert_eq!(info.stop_reason, StopReason::AllPointsEqual);
    assert_eq!(info.iterations, 0);

    let row: &[f64] = &[1.5, -2.0, 3.0];
    let copies = batch(&[row; 4]);
    let mut weighted = GeometricMedian::new()
        .with_weights(&[1.0, 2.0, 3.0, 4.0])
        .unwrap();
    let (m, info) = weighted.solve::<B>(&copies).unwrap();
    assert_eq!(m, vec![1.5, -2.0, 3.0]);
    assert!(info.converged);
}

fn d02_points() -> RowBatch<f64> {
    batch(&[&[0.0, 0.0], &[1.0, 0.0], &[0.0, 1.0], &[5.0, 5.0]])
}

fn objective(points: &RowBatch<f64>, m: &[f64]) -> f64 {
    (0..B::batch_count(points))
        .map(|i| {
            let g = B::batch_gradient(points, i);
            ((g[0] - m[0]).powi(2) + (g[1] - m[1]).powi(2)).sqrt()
        })
        .sum()
}

#[test]
fn geometric_median_iteration_cap_returns_best() {
    let points = d02_points();
    let mut median = GeometricMedian::new()
        .with_start(StartPoint::Mean)
        .with_max_iter(1)
        .with_tolerance(1e-12)
        .unwrap();
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert!(m.iter().all(|v| v.is_finite()));
    assert!(!info.converged);
    assert_eq!(info.stop_reason, StopReason::MaxIterations);
    assert_eq!(info.iterations, 1);
    assert!(objective(&points, &m) <= 10.233345472033855);
    assert_close(m[0], 0.8474276507515124);
    assert_close(m[1], 0.8474276507515124);
    assert_close(info.objective, 8.793173435819395);
}

#[test]
fn geometric_median_converges_to_known_optimum() {
    let points = d02_points();
    let mut median = GeometricMedian::new()
        .with_start(StartPoint::Mean)
        .with_tolerance(1e-12)
        .unwrap();
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert_eq!(info.stop_reason, StopReason::Converged);
    assert!(info.certificate <= 1e-12);
    assert!(
        (m[0] - 0.5).abs() < 1e-11 && (m[1] - 0.5).abs() < 1e-11,
        "{m:?}"
    );
    assert_close(info.objective, 6.0 * 2f64.sqrt());
}

#[test]
fn geometric_median_spp_sweeps_approach_optimum() {
    let points = d02_points();
    let mut median = GeometricMedian::new()
        .with_solver(GeometricMedianSolver::SppSweeps)
        .with_start(StartPoint::Mean)
        .with_max_iter(2000);
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert!(info.iterations <= 2000);
    assert!(
        (m[0] - 0.5).abs() < 5e-3 && (m[1] - 0.5).abs() < 5e-3,
        "{m:?} {info:?}"
    );
    assert!(info.objective <= 6.0 * 2f64.sqrt() * (1.0 + 1e-4));
}

#[test]
fn geometric_median_spp_sweeps_respect_weights() {
    let points = d02_points();
    let weights = [1.0, 1.0, 1.0, 0.0];
    let (weiszfeld, _) = GeometricMedian::new()
        .with_weights(&weights)
        .unwrap()
        .solve::<B>(&points)
        .unwrap();
    let mut spp = GeometricMedian::new()
        .with_weights(&weights)
        .unwrap()
        .with_solver(GeometricMedianSolver::SppSweeps)
        .with_max_iter(2000);
    let (m, _) = spp.solve::<B>(&points).unwrap();
    // Without the point (5, 5), the median is the Fermat point of the right triangle,
    // (t, t) with t = (3 - sqrt(3)) / 6.
    let t = (3.0 - 3f64.sqrt()) / 6.0;
    for j in 0..2 {
        assert!((weiszfeld[j] - t).abs() < 1e-9, "{weiszfeld:?}");
        assert!((m[j] - t).abs() < 5e-3, "{m:?}");
    }
}

#[test]
fn geometric_median_zero_weight_does_not_pull() {
    let points = batch(&[&[0.0, 0.0], &[4.0, 0.0], &[0.0, 3.0]]);
    for start in [StartPoint::Mean, StartPoint::CoordinateMedian] {
        let mut median = GeometricMedian::new()
            .with_weights(&[0.0, 1.0, 2.0])
            .unwrap()
            .with_start(start);
        let (m, info) = median.solve::<B>(&points).unwrap();
        assert_eq!(m, vec![0.0, 3.0]);
        assert!(info.converged);
    }
}

#[test]
fn geometric_median_data_point_optimum_is_exact() {
    // The weight 2 at (0, 3) exceeds the unit pulls of the other two points (sum of unit
    // vectors has norm below 2), but it is not more than half of the total weight 4.
    let points = batch(&[&[0.0, 0.0], &[4.0, 0.0], &[0.0, 3.0], &[0.0, 3.0]]);
    let mut median = GeometricMedian::new().with_start(StartPoint::Mean);
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert_eq!(m, vec![0.0, 3.0]);
    assert_eq!(info.stop_reason, StopReason::Converged);
    assert_eq!(info.certificate, 0.0);
}

#[test]
fn geometric_median_rejects_invalid_weights() {
    for weights in [[1.0, 1.0, -3.0], [1.0, -1.0, 0.0], [0.0, 0.0, 0.0]] {
        let result = GeometricMedian::new().with_weights(&weights);
        assert!(
            matches!(result, Err(Error::InvalidWeights { .. })),
            "{weights:?}"
        );
    }
    let points = batch(&[&[1.0, 2.0], &[3.0, 4.0], &[5.0, 6.0]]);
    let mut median = GeometricMedian::new().with_weights(&[1.0, 2.0]).unwrap();
    assert_eq!(
        median.solve::<B>(&points).unwrap_err(),
        Error::DimensionMismatch {
            what: "weights",
            index: 0,
            expected: 3,
            found: 2
        }
    );
}

#[test]
fn geometric_median_rejects_non_finite_input() {
    let points = batch(&[&[1.0, 2.0], &[3.0, f64::INFINITY]]);
    let err = GeometricMedian::new().solve::<B>(&points).unwrap_err();
    assert!(matches!(
        err,
        Error::NonFinite {
            index: 1,
            coordinate: 1,
            ..
        }
    ));
}

#[test]
fn geometric_median_rejects_invalid_parameters() {
    assert!(GeometricMedian::<f64>::new().with_tolerance(-1.0).is_err());
    assert!(GeometricMedian::<f64>::new().with_tolerance(NAN).is_err());
    assert!(GeometricMedian::<f64>::new().with_smoothing(-1e-3).is_err());
    assert!(
        GeometricMedian::<f64>::new()
            .with_initial_step(0.0)
            .is_err()
    );
    let points = batch(&[&[1.0, 2.0], &[3.0, 4.0]]);
    let mut median = GeometricMedian::new().with_start(StartPoint::Point(vec![0.0]));
    assert_eq!(
        median.solve::<B>(&points).unwrap_err(),
        Error::DimensionMismatch {
            what: "start point",
            index: 0,
            expected: 2,
            found: 1
        }
    );
}

#[test]
fn geometric_median_warm_start_reuses_previous_result() {
    let points = d02_points();
    let mut median = GeometricMedian::new().with_start(StartPoint::Previous);
    let (first, _) = median.solve::<B>(&points).unwrap();
    let (second, info) = median.solve::<B>(&points).unwrap();
    assert_eq!(info.iterations, 0);
    assert_eq!(first, second);
}

#[test]
fn geometric_median_smoothed_reaches_optimum() {
    let points = d02_points();
    let mut median = GeometricMedian::new().with_smoothing(1e-9).unwrap();
    let (m, info) = median.solve::<B>(&points).unwrap();
    assert!(info.converged, "{info:?}");
    assert!(
        (m[0] - 0.5).abs() < 1e-9 && (m[1] - 0.5).abs() < 1e-9,
        "{m:?}"
    );
}

/// Runs every estimator on `batch` through the aggregator trait.
fn every_estimator() -> Vec<Box<dyn Aggregator<B>>> {
    vec![
        Box::new(Mean::new()),
        Box::new(CoordinateMedian::new()),
        Box::new(WeightedCoordinateMedian::new(&[1.0, 1.0]).unwrap()),
        Box::new(CoordinateQuantile::new(0.5).unwrap()),
        Box::new(TrimmedMean::by_count(0)),
        Box::new(TrimmedMean::by_fraction(0.1).unwrap()),
        Box::new(MedianOfMeans::new(1).unwrap()),
        Box::new(
            MedianOfMeans::new(1)
                .unwrap()
                .with_geometric_median(GeometricMedian::new()),
        ),
        Box::new(GeometricMedian::new()),
    ]
}

#[test]
fn every_estimator_rejects_empty_batch() {
    let empty = B::batch_from_rows(&[], 0, 3).unwrap();
    for mut estimator in every_estimator() {
        assert_eq!(
            estimator.aggregate(&empty).unwrap_err(),
            Error::EmptyBatch,
            "{}",
            estimator.name()
        );
        let mut out = [0.0; 3];
        assert_eq!(
            estimator.aggregate_into(&empty, &mut out).unwrap_err(),
            Error::EmptyBatch
        );
        assert_eq!(
            aggregate_gradients(estimator.as_mut(), &[]).unwrap_err(),
            Error::EmptyBatch
        );
    }
}

#[test]
fn every_estimator_rejects_ragged_gradients() {
    let ragged: [&[f64]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0]];
    for mut estimator in every_estimator() {
        let err = aggregate_gradients(estimator.as_mut(), &ragged).unwrap_err();
        assert_eq!(
            err,
            Error::Linalg(LinalgError::RaggedBatch {
                index: 1,
                expected: 3,
                found: 2
            }),
            "{}",
            estimator.name()
        );
        let message = err.to_string();
        assert!(message.contains('3'), "{message}");
        assert!(message.contains('2'), "{message}");
    }
}

#[test]
fn every_estimator_rejects_wrong_output_length() {
    let points = batch(&[&[1.0, 2.0], &[3.0, 4.0]]);
    for mut estimator in every_estimator() {
        let mut out = [0.0; 3];
        assert_eq!(
            estimator.aggregate_into(&points, &mut out).unwrap_err(),
            Error::DimensionMismatch {
                what: "output",
                index: 0,
                expected: 2,
                found: 3
            },
            "{}",
            estimator.name()
        );
    }
}

#[test]
fn aggregate_gradients_takes_slices() {
    let gradients: [&[f64]; 3] = [&[1.0, 10.0], &[2.0, -4.0], &[300.0, 0.0]];
    let mut median = CoordinateMedian::new();
    assert_eq!(
        aggregate_gradients(&mut median, &gradients).unwrap(),
        vec![2.0, 0.0]
    );
    let mut mean = Mean::new();
    assert_eq!(
        aggregate_gradients(&mut mean, &gradients).unwrap(),
        vec![101.0, 2.0]
    );
}

#[test]
fn mean_of_huge_values_is_finite() {
    let out = Mean::new()
        .estimate::<B>(&column(&[1.5e308, 1.5e308, 1.2e308]))
        .unwrap();
    assert_close(out[0], 1.4e308);
}

#[test]
fn mean_nan_policies() {
    let values = column(&[1.0, NAN, 3.0]);
    assert!(Mean::new().estimate::<B>(&values).unwrap()[0].is_nan());
    let skipped = Mean::new()
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&values)
        .unwrap();
    assert_eq!(skipped, vec![2.0]);
    let rejected = Mean::new()
        .with_nan_policy(NanPolicy::Error)
        .estimate::<B>(&values);
    assert!(matches!(
        rejected,
        Err(Error::NonFinite {
            index: 1,
            coordinate: 0,
            ..
        })
    ));
}
