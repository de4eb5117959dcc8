//! The coordinate-wise estimators on batches large enough to run in parallel: agreement with
//! a plain sort-based reference, NaN handling, and bit-identical results on 1 and 2 threads.

use median_conformance::{random_vec, seeded_rng};
use median_core::aggregate::Aggregator;
use median_core::batch::{
    CoordinateMedian, CoordinateQuantile, GeometricMedian, Mean, MedianOfMeans, TrimmedMean,
    WeightedCoordinateMedian,
};
use median_core::{Error, NanPolicy};
use median_linalg::{Backend, RowBatch, VecBackend};
use rand::RngExt;

type B = VecBackend<f64>;

const COUNT: usize = 33;
const DIM: usize = 2000;

/// Returns a seeded `COUNT x DIM` batch with about 1% NaN entries, and its rows.
fn batch_with_nan(seed: u64) -> (RowBatch<f64>, Vec<f64>) {
    let mut rng = seeded_rng(seed);
    let mut rows: Vec<f64> = random_vec(&mut rng, COUNT * DIM);
    for value in rows.iter_mut() {
        if rng.random_range(0.0..1.0) < 0.01 {
            *value = f64::NAN;
        }
    }
    (B::batch_from_rows(&rows, COUNT, DIM).unwrap(), rows)
}

/// Returns the sorted non-NaN values of coordinate `j`.
fn sorted_column(rows: &[f64], j: usize) -> Vec<f64> {
    let mut column: Vec<f64> = (0..COUNT)
        .map(|i| rows[i * DIM + j])
        .filter(|v| !v.is_nan())
        .collect();
    column.sort_by(f64::total_cmp);
    column
}

#[test]
fn median_large_batch_matches_sorting() {
    let (batch, rows) = batch_with_nan(41);
    let propagated = CoordinateMedian::new().estimate::<B>(&batch).unwrap();
    let skipped = CoordinateMedian::new()
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&batch)
        .unwrap();
    for j in 0..DIM {
        let column = sorted_column(&rows, j);
        let m = column.len();
        let expected = if m % 2 == 1 {
            column[m / 2]
        } else {
            (column[m / 2 - 1] + column[m / 2]) / 2.0
        };
        assert_eq!(skipped[j], expected, "coordinate {j}");
        if m == COUNT {
            assert_eq!(propagated[j], expected, "coordinate {j}");
        } else {
            assert!(propagated[j].is_nan(), "coordinate {j}");
        }
    }
}

#[test]
fn trimmed_mean_large_batch_matches_sorting() {
    let (batch, rows) = batch_with_nan(42);
    let trimmed = TrimmedMean::by_count(4)
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&batch)
        .unwrap();
    for j in 0..DIM {
        let column = sorted_column(&rows, j);
        let kept = &column[4..column.len() - 4];
        let expected = kept.iter().sum::<f64>() / kept.len() as f64;
        assert!((trimmed[j] - expected).abs() <= 1e-14, "coordinate {j}");
    }
}

#[test]
fn all_nan_reports_lowest_coordinate() {
    let (_, mut rows) = batch_with_nan(43);
    for i in 0..COUNT {
        rows[i * DIM + 1500] = f64::NAN;
        rows[i * DIM + 700] = f64::NAN;
    }
    let batch = B::batch_from_rows(&rows, COUNT, DIM).unwrap();
    let err = CoordinateMedian::new()
        .with_nan_policy(NanPolicy::Skip)
        .estimate::<B>(&batch)
        .unwrap_err();
    assert_eq!(err, Error::AllNan { coordinate: 700 });
}

/// Runs `f` on a rayon pool with `threads` threads.
fn on_threads<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn estimators_identical_on_one_and_two_threads() {
    let mut rng = seeded_rng(44);
    let rows: Vec<f64> = random_vec(&mut rng, COUNT * DIM);
    let batch = B::batch_from_rows(&rows, COUNT, DIM).unwrap();
    let weights: Vec<f64> = (0..COUNT).map(|i| 1.0 + (i % 4) as f64).collect();
    let estimators = || -> Vec<Box<dyn Aggregator<B>>> {
        vec![
            Box::new(Mean::new()),
            Box::new(CoordinateMedian::new()),
            Box::new(WeightedCoordinateMedian::new(&weights).unwrap()),
            Box::new(CoordinateQuantile::new(0.9).unwrap()),
            Box::new(TrimmedMean::by_fraction(0.1).unwrap()),
            Box::new(MedianOfMeans::new(5).unwrap()),
            Box::new(GeometricMedian::new()),
        ]
    };
    let run = |threads: usize| {
        on_threads(threads, || {
            estimators()
                .iter_mut()
                .map(|e| e.aggregate(&batch).unwrap())
                .collect::<Vec<_>>()
        })
    };
    let one = run(1);
    let two = run(2);
    for (k, (a, b)) in one.iter().zip(&two).enumerate() {
        let same = a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "estimator {k} differs between 1 and 2 threads");
    }
}
