//! Property tests of the batch estimators: permutation invariance, translation, scale and
//! rotation equivariance, identical samples, and breakdown under outliers.

use median_core::aggregate::Aggregator;
use median_core::batch::{
    CoordinateMedian, CoordinateQuantile, GeometricMedian, Mean, MedianOfMeans, TrimmedMean,
    WeightedCoordinateMedian,
};
use median_linalg::{Backend, RowBatch, VecBackend};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

type B = VecBackend<f64>;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(0x6d65_6469_616e),
        failure_persistence: None,
        cases,
        ..ProptestConfig::default()
    }
}

/// Generates a batch shape and its row-major values in `[-100, 100]`.
fn batch_strategy(
    min_count: usize,
    min_dim: usize,
) -> impl Strategy<Value = (usize, usize, Vec<f64>)> {
    (min_count..12usize, min_dim..5usize).prop_flat_map(|(n, d)| {
        (
            Just(n),
            Just(d),
            proptest::collection::vec(-100.0..100.0f64, n * d),
        )
    })
}

fn make(rows: &[f64], n: usize, d: usize) -> RowBatch<f64> {
    B::batch_from_rows(rows, n, d).unwrap()
}

/// Returns the rows reordered by `order`.
fn permute(rows: &[f64], d: usize, order: &[usize]) -> Vec<f64> {
    order
        .iter()
        .flat_map(|&i| rows[i * d..(i + 1) * d].iter().copied())
        .collect()
}

/// Returns the estimators that do not depend on the order of the gradients.
fn symmetric_estimators(n: usize) -> Vec<Box<dyn Aggregator<B>>> {
    vec![
        Box::new(Mean::new()),
        Box::new(CoordinateMedian::new()),
        Box::new(CoordinateQuantile::new(0.3).unwrap()),
        Box::new(TrimmedMean::by_count((n - 1) / 2)),
        Box::new(TrimmedMean::by_fraction(0.2).unwrap()),
        Box::new(GeometricMedian::new().with_tolerance(1e-13).unwrap()),
    ]
}

fn assert_close(
    actual: &[f64],
    expected: &[f64],
    tolerance: f64,
    what: &str,
) -> Result<(), TestCaseError> {
    for (j, (a, e)) in actual.iter().zip(expected).enumerate() {
        prop_assert!(
            (a - e).abs() <= tolerance,
            "{}: coordinate {}: {} vs {}",
            what,
            j,
            a,
            e
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn estimators_are_permutation_invariant(
        (n, d, rows) in batch_strategy(3, 2),
        seed in any::<u64>(),
    ) {
        let mut order: Vec<usize> = (0..n).collect();
        // A seeded Fisher-Yates shuffle from the proptest-chosen seed.
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let original = make(&rows, n, d);
        let shuffled = make(&permute(&rows, d, &order), n, d);
        for (mut a, mut b) in symmetric_estimators(n).into_iter().zip(symmetric_estimators(n)) {
            let x = a.aggregate(&original).unwrap();
            let y = b.aggregate(&shuffled).unwrap();
            assert_close(&x, &y, 1e-7, &a.name())?;
        }

        let weights: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let shuffled_weights: Vec<f64> = order.iter().map(|&i| weights[i]).collect();
        let x = WeightedCoordinateMedian::new(&weights).unwrap().estimate::<B>(&original).unwrap();
        let y = WeightedCoordinateMedian::new(&shuffled_weights).unwrap().estimate::<B>(&shuffled).unwrap();
        prop_assert_eq!(x, y);
    }

    #[test]
    fn estimators_are_translation_and_scale_equivariant(
        (n, d, rows) in batch_strategy(3, 2),
        shift in proptest::collection::vec(-50.0..50.0f64, 4),
        factor in prop_oneof![-8.0..-0.125f64, 0.125..8.0f64],
    ) {
        let shift = &shift[..d];
        let moved: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(k, v)| factor * v + shift[k % d])
            .collect();
        let original = make(&rows, n, d);
        let transformed = make(&moved, n, d);
        for (mut a, mut b) in symmetric_estimators(n).into_iter().zip(symmetric_estimators(n)) {
            let x = a.aggregate(&original).unwrap();
            let y = b.aggregate(&transformed).unwrap();
            // A negative factor turns the q-quantile into the (1 - q)-quantile.
            if factor < 0.0 && a.name().starts_with("coordinate-quantile") {
                continue;
            }
            let expected: Vec<f64> = x.iter().enumerate().map(|(j, v)| factor * v + shift[j]).collect();
            assert_close(&y, &expected, 1e-7 * factor.abs().max(1.0), &a.name())?;
        }
        let q = if factor < 0.0 { 0.7 } else { 0.3 };
        let x = CoordinateQuantile::new(q).unwrap().estimate::<B>(&original).unwrap();
        let y = CoordinateQuantile::new(0.3).unwrap().estimate::<B>(&transformed).unwrap();
        let expected: Vec<f64> = x.iter().enumerate().map(|(j, v)| factor * v + shift[j]).collect();
        assert_close(&y, &expected, 1e-7 * factor.abs().max(1.0), "quantile")?;
    }

    #[test]
    fn geometric_median_is_rotation_equivariant(
        (n, d, rows) in batch_strategy(3, 2),
        u in proptest::collection::vec(-1.0..1.0f64, 4),
        v in proptest::collection::vec(-1.0..1.0f64, 4),
    ) {
        let (u, v) = (&u[..d], &v[..d]);
        prop_assume!(u.iter().map(|x| x * x).sum::<f64>() > 1e-3);
        prop_assume!(v.iter().map(|x| x * x).sum::<f64>() > 1e-3);
        // The product of two Householder reflections is a rotation.
        let reflect = |x: &mut [f64], h: &[f64]| {
            let hh: f64 = h.iter().map(|a| a * a).sum();
            let hx: f64 = h.iter().zip(x.iter()).map(|(a, b)| a * b).sum();
            for (xi, hi) in x.iter_mut().zip(h) {
                *xi -= 2.0 * hx / hh * hi;
            }
        };
        let rotate = |x: &mut [f64]| {
            reflect(x, u);
            reflect(x, v);
        };
        let mut rotated = rows.clone();
        for row in rotated.chunks_mut(d) {
            rotate(row);
        }

        let mut solver = GeometricMedian::new().with_tolerance(1e-13).unwrap();
        let (mut m, _) = solver.solve::<B>(&make(&rows, n, d)).unwrap();
        let (r, _) = solver.solve::<B>(&make(&rotated, n, d)).unwrap();
        rotate(&mut m);
        assert_close(&r, &m, 1e-7, "geometric median")?;
    }

    #[test]
    fn identical_samples_give_that_sample(
        row in proptest::collection::vec(-1e6..1e6f64, 1..6),
        n in 1usize..10,
    ) {
        let d = row.len();
        let batch = make(&row.repeat(n), n, d);
        prop_assert_eq!(&CoordinateMedian::new().estimate::<B>(&batch).unwrap(), &row);
        prop_assert_eq!(&CoordinateQuantile::new(0.7).unwrap().estimate::<B>(&batch).unwrap(), &row);
        let (m, _) = GeometricMedian::new().solve::<B>(&batch).unwrap();
        prop_assert_eq!(&m, &row);
        let mut approximate: Vec<Box<dyn Aggregator<B>>> = vec![
            Box::new(Mean::new()),
            Box::new(TrimmedMean::by_fraction(0.25).unwrap()),
            Box::new(MedianOfMeans::new(n.div_ceil(2)).unwrap()),
        ];
        for estimator in approximate.iter_mut() {
            let out = estimator.aggregate(&batch).unwrap();
            let tolerance: Vec<f64> = row.iter().map(|v| 1e-14 * v.abs()).collect();
            for j in 0..d {
                prop_assert!((out[j] - row[j]).abs() <= tolerance[j], "{}", estimator.name());
            }
        }
    }

    #[test]
    fn outliers_below_half_keep_medians_bounded(
        (inliers, d, rows) in batch_strategy(5, 1),
        outlier_fraction in 0.0..1.0f64,
        signs in proptest::collection::vec(any::<bool>(), 48),
    ) {
        // Fewer than half of the points are outliers: m < inliers.
        let m = ((inliers - 1) as f64 * outlier_fraction) as usize;
        let n = inliers + m;
        let mut all = rows.clone();
        all.extend((0..m * d).map(|k| if signs[k % signs.len()] { 1e300 } else { -1e300 }));
        let batch = make(&all, n, d);

        let mut low = vec![f64::INFINITY; d];
        let mut high = vec![f64::NEG_INFINITY; d];
        for row in rows.chunks(d) {
            for j in 0..d {
                low[j] = low[j].min(row[j]);
                high[j] = high[j].max(row[j]);
            }
        }
        let coordinate = CoordinateMedian::new().estimate::<B>(&batch).unwrap();
        let trimmed = TrimmedMean::by_count(m).estimate::<B>(&batch).unwrap();
        for j in 0..d {
            prop_assert!(low[j] <= coordinate[j] && coordinate[j] <= high[j]);
            prop_assert!(low[j] - 1e-9 <= trimmed[j] && trimmed[j] <= high[j] + 1e-9);
        }

        // The geometric median stays within (1 - a) r / sqrt(1 - 2a) of the inliers' centre
        // z, with a = m / n and r the inliers' largest distance from z: projected on the
        // direction from the median to z, the inliers' unit vectors must cancel the
        // outliers', which bounds the distance. The bounding box itself is not kept.
        let centre: Vec<f64> = (0..d)
            .map(|j| rows.chunks(d).map(|row| row[j]).sum::<f64>() / inliers as f64)
            .collect();
        let distance = |x: &[f64]| {
            x.iter().zip(&centre).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
        };
        let radius = rows.chunks(d).map(distance).fold(0.0, f64::max);
        let a = m as f64 / n as f64;
        let bound = (1.0 - a) / (1.0 - 2.0 * a).sqrt() * radius;
        let (geometric, info) = GeometricMedian::new().solve::<B>(&batch).unwrap();
        prop_assert!(info.converged, "{:?}", info);
        prop_assert!(distance(&geometric) <= bound * (1.0 + 1e-9), "{} > {}", distance(&geometric), bound);
    }
}
