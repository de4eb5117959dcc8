//! The coordinate-wise order statistics against a sort-based reference, bit for bit, on
//! batches full of ties, signed zeros, infinities and NaN. The checks cover every count up
//! to 70 and a few on both sides of the largest count the sorting network handles (512),
//! both scalar types, every even rule and NaN policy, several backends and thread counts.

use std::cmp::Ordering;

use median_conformance::{TestRng, bits, on_threads, seeded_rng};
use median_core::batch::{CoordinateMedian, CoordinateQuantile, EvenRule, TrimmedMean};
use median_core::{Error, NanPolicy};
use median_faer::FaerBackend;
use median_linalg::{Backend, Scalar, VecBackend};
use median_nalgebra::NalgebraBackend;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use rand::RngExt;

/// Counts checked: all small ones, some around powers of two, and some around the network
/// limit of 512.
fn counts() -> Vec<usize> {
    (1..=70)
        .chain([127, 128, 129, 255, 256, 257, 511, 512, 513])
        .collect()
}

/// A dimension that leaves a partial block of lanes for both scalar types.
const DIM: usize = 37;

const RULES: [EvenRule; 3] = [EvenRule::Midpoint, EvenRule::Lower, EvenRule::Upper];

/// Returns `count * dim` values in row-major order: a mix of random values, small integers
/// (many ties), signed zeros, infinities, the smallest subnormal, and NaN with
/// probability `nan_rate`.
fn tricky_rows<S: Scalar>(rng: &mut TestRng, count: usize, dim: usize, nan_rate: f64) -> Vec<S> {
    let specials = [
        -0.0,
        0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::from(f32::from_bits(1)),
        -1e300,
        1e300,
    ];
    (0..count * dim)
        .map(|_| {
            let u: f64 = rng.random_range(0.0..1.0);
            let value = if u < nan_rate {
                f64::NAN
            } else if u < nan_rate + 0.25 {
                specials[rng.random_range(0..specials.len())]
            } else if u < nan_rate + 0.55 {
                f64::from(rng.random_range(-3..=3))
            } else {
                rng.random_range(-10.0..10.0)
            };
            S::of_f64(value)
        })
        .collect()
}

/// Returns column `j` of `rows` without its NaNs, sorted by `totalOrder`.
fn sorted_column<S: Scalar>(rows: &[S], count: usize, dim: usize, j: usize) -> Vec<S> {
    let mut column: Vec<S> = (0..count)
        .map(|i| rows[i * dim + j])
        .filter(|v| !v.is_nan())
        .collect();
    column.sort_by(|a, b| total_order(*a, *b));
    column
}

/// Orders by IEEE 754 `totalOrder`, through `f64` (widening keeps the order).
fn total_order<S: Scalar>(a: S, b: S) -> Ordering {
    a.into_f64().total_cmp(&b.into_f64())
}

/// Returns the correctly rounded midpoint, `a` when `a == b`.
///
/// For normal values it is `a/2 + b/2`, whose halvings are exact, so only the sum rounds.
/// Near the subnormal range it is `(a + b) / 2`, because the sum is exact there.
fn reference_midpoint<S: Scalar>(a: S, b: S) -> S {
    let two = S::of_f64(2.0);
    let small = S::of_f64(4.0) * S::min_positive_value();
    if a == b {
        a
    } else if a.abs() >= small && b.abs() >= small {
        a / two + b / two
    } else {
        (a + b) / two
    }
}

/// Returns the median of a sorted non-empty column under `rule`.
fn reference_median<S: Scalar>(sorted: &[S], rule: EvenRule) -> S {
    let m = sorted.len();
    if m % 2 == 1 {
        return sorted[m / 2];
    }
    let (lower, upper) = (sorted[m / 2 - 1], sorted[m / 2]);
    match rule {
        EvenRule::Midpoint => reference_midpoint(lower, upper),
        EvenRule::Lower => lower,
        _ => upper,
    }
}

/// Returns the linear-interpolation quantile of a sorted non-empty column, as documented.
fn reference_quantile<S: Scalar>(sorted: &[S], q: f64) -> S {
    let h = q * (sorted.len() - 1) as f64;
    let k = h.floor() as usize;
    let t = h - h.floor();
    if t == 0.0 || k + 1 == sorted.len() {
        return sorted[k];
    }
    let (a, b, t) = (sorted[k], sorted[k + 1], S::of_f64(t));
    if a == b {
        a
    } else if (b - a).is_finite() {
        a + t * (b - a)
    } else {
        (S::one() - t) * a + t * b
    }
}

/// Returns the expected output of one coordinate: `Ok(None)` for NaN, `Ok(Some(value))`,
/// or `Err(())` for a coordinate with no valid value under `Skip`.
fn expected_column<S: Scalar>(
    rows: &[S],
    count: usize,
    j: usize,
    policy: NanPolicy,
    reduce: impl Fn(&[S]) -> S,
) -> Result<Option<S>, ()> {
    let sorted = sorted_column(rows, count, DIM, j);
    if sorted.len() < count && policy == NanPolicy::Propagate {
        return Ok(None);
    }
    if sorted.is_empty() {
        return Err(());
    }
    Ok(Some(reduce(&sorted)))
}

/// Checks `found` (the estimator's output or error) against the reference column by column.
fn check_against_reference<S: Scalar>(
    what: &str,
    rows: &[S],
    count: usize,
    policy: NanPolicy,
    found: Result<Vec<S>, Error>,
    reduce: impl Fn(&[S]) -> S,
) {
    let expected: Vec<Result<Option<S>, ()>> = (0..DIM)
        .map(|j| expected_column(rows, count, j, policy, &reduce))
        .collect();
    let first_all_nan = expected.iter().position(Result::is_err);
    match (found, first_all_nan) {
        (Err(Error::AllNan { coordinate }), Some(j)) => {
            assert_eq!(coordinate, j, "{what}: first all-NaN coordinate");
        }
        (Ok(out), None) => {
            for (j, (value, expected)) in out.iter().zip(&expected).enumerate() {
                match expected {
                    Ok(None) => assert!(value.is_nan(), "{what}: coordinate {j} is {value}"),
                    Ok(Some(e)) => assert_eq!(
                        value.into_f64().to_bits(),
                        e.into_f64().to_bits(),
                        "{what}: coordinate {j}: found {value}, expected {e}"
                    ),
                    Err(()) => unreachable!(),
                }
            }
        }
        (found, _) => panic!("{what}: unexpected result {found:?}"),
    }
}

/// Checks the median and several quantiles for every count, rule and policy.
fn check_order_statistics<S: Scalar>(seed: u64) {
    type Rows<S> = VecBackend<S>;
    let mut rng = seeded_rng(seed);
    for count in counts() {
        for (policy, nan_rate) in [
            (NanPolicy::Error, 0.0),
            (NanPolicy::Propagate, 0.02),
            (NanPolicy::Skip, 0.3),
        ] {
            // Under `Skip` with one gradient, most coordinates are all-NaN: an error case.
            let rows = tricky_rows::<S>(&mut rng, count, DIM, nan_rate);
            let batch = Rows::<S>::batch_from_rows(&rows, count, DIM).unwrap();

            for rule in RULES {
                let mut median = CoordinateMedian::new()
                    .with_even_rule(rule)
                    .with_nan_policy(policy);
                let found = median.estimate::<Rows<S>>(&batch);
                let what = format!("{} median n={count} {rule:?} {policy:?}", S::NAME);
                check_against_reference(&what, &rows, count, policy, found, |sorted| {
                    reference_median(sorted, rule)
                });
            }
            for q in [0.0, 0.1, 0.3, 0.5, 0.75, 1.0] {
                let mut quantile = CoordinateQuantile::new(q).unwrap().with_nan_policy(policy);
                let found = quantile.estimate::<Rows<S>>(&batch);
                let what = format!("{} quantile {q} n={count} {policy:?}", S::NAME);
                check_against_reference(&what, &rows, count, policy, found, |sorted| {
                    reference_quantile(sorted, q)
                });
            }
        }
    }
}

#[test]
fn order_statistics_match_sorting_f64() {
    check_order_statistics::<f64>(71);
}

#[test]
fn order_statistics_match_sorting_f32() {
    check_order_statistics::<f32>(72);
}

#[test]
fn median_signed_zeros_exact() {
    type B = VecBackend<f64>;
    // Columns of zeros of both signs around the middle, which the network compares as
    // equal: the median must still follow `totalOrder`.
    let columns: [&[f64]; 6] = [
        &[0.0, -0.0, 0.0],
        &[-0.0, 0.0, -0.0],
        &[0.0, -0.0, -1.0, 1.0],
        &[-0.0, -0.0, 0.0, 0.0, 0.0],
        &[0.0, 0.0, -0.0, -0.0, -0.0],
        &[-0.0, 0.0],
    ];
    for column in columns {
        let count = column.len();
        let mut sorted = column.to_vec();
        sorted.sort_by(f64::total_cmp);
        for rule in RULES {
            let batch = B::batch_from_rows(column, count, 1).unwrap();
            let found = CoordinateMedian::new()
                .with_even_rule(rule)
                .estimate::<B>(&batch)
                .unwrap();
            let expected = reference_median(&sorted, rule);
            assert_eq!(
                found[0].to_bits(),
                expected.to_bits(),
                "{column:?} {rule:?}: found {}, expected {expected}",
                found[0]
            );
        }
    }
}

#[test]
fn zero_dimension_gives_empty_output() {
    for count in [1, 40, 600] {
        let batch = VecBackend::<f32>::batch_from_rows(&[], count, 0).unwrap();
        let median = CoordinateMedian::new().estimate::<VecBackend<f32>>(&batch);
        assert_eq!(median, Ok(vec![]), "median, n={count}");
        let quantile = CoordinateQuantile::new(0.2)
            .unwrap()
            .estimate::<VecBackend<f32>>(&batch);
        assert_eq!(quantile, Ok(vec![]), "quantile, n={count}");
    }
}

#[test]
fn trimmed_mean_matches_sorting() {
    type B = VecBackend<f64>;
    let mut rng = seeded_rng(73);
    for count in counts() {
        let rows: Vec<f64> = tricky_rows::<f64>(&mut rng, count, DIM, 0.0)
            .into_iter()
            .map(|v| if v.is_finite() { v } else { 5.0 })
            .collect();
        let batch = B::batch_from_rows(&rows, count, DIM).unwrap();
        let f = (count - 1) / 3;
        let found = TrimmedMean::by_count(f).estimate::<B>(&batch).unwrap();
        for j in 0..DIM {
            let sorted = sorted_column(&rows, count, DIM, j);
            let kept = &sorted[f..count - f];
            let expected = kept.iter().sum::<f64>() / kept.len() as f64;
            let magnitude = kept.iter().map(|v| v.abs()).fold(1.0, f64::max);
            assert!(
                (found[j] - expected).abs() <= 1e-13 * magnitude,
                "n={count} f={f} coordinate {j}: found {}, expected {expected}",
                found[j]
            );
        }
    }
}

/// Returns the median, a quantile and a trimmed mean of a batch, concatenated.
fn three_estimates<B: Backend>(batch: &B::Batch, policy: NanPolicy) -> Vec<B::Scalar> {
    let median = CoordinateMedian::new()
        .with_nan_policy(policy)
        .estimate::<B>(batch)
        .unwrap();
    let quantile = CoordinateQuantile::new(0.3)
        .unwrap()
        .with_nan_policy(policy)
        .estimate::<B>(batch)
        .unwrap();
    let trimmed = TrimmedMean::by_fraction(0.1)
        .unwrap()
        .with_nan_policy(policy)
        .estimate::<B>(batch)
        .unwrap();
    let mut all = B::vector_as_slice(&median).to_vec();
    all.extend_from_slice(B::vector_as_slice(&quantile));
    all.extend_from_slice(B::vector_as_slice(&trimmed));
    all
}

fn check_thread_counts<S: Scalar>(seed: u64) {
    type Rows<S> = VecBackend<S>;
    let mut rng = seeded_rng(seed);
    // Large enough to run in parallel, on the network path (33) and the quickselect
    // path (600).
    for (count, dim) in [(33, 3001), (600, 230)] {
        let rows = tricky_rows::<S>(&mut rng, count, dim, 0.01);
        let batch = Rows::<S>::batch_from_rows(&rows, count, dim).unwrap();
        for policy in [NanPolicy::Propagate, NanPolicy::Skip] {
            let one = on_threads(1, || three_estimates::<Rows<S>>(&batch, policy));
            let four = on_threads(4, || three_estimates::<Rows<S>>(&batch, policy));
            assert_eq!(bits(&one), bits(&four), "{} n={count} {policy:?}", S::NAME);
        }
    }
}

#[test]
fn results_independent_of_thread_count() {
    check_thread_counts::<f64>(74);
    check_thread_counts::<f32>(75);
}

/// Checks that `B` gives the bits of the `VecBackend` on the same rows.
fn check_backend<B: Backend>(seed: u64) {
    let mut rng = seeded_rng(seed);
    for count in [5, 64, 257, 513] {
        let rows = tricky_rows::<B::Scalar>(&mut rng, count, DIM, 0.01);
        let batch = B::batch_from_rows(&rows, count, DIM).unwrap();
        let reference = VecBackend::<B::Scalar>::batch_from_rows(&rows, count, DIM).unwrap();
        for policy in [NanPolicy::Propagate, NanPolicy::Skip] {
            assert_eq!(
                bits(&three_estimates::<B>(&batch, policy)),
                bits(&three_estimates::<VecBackend<B::Scalar>>(
                    &reference, policy
                )),
                "{} n={count} {policy:?}",
                B::NAME
            );
        }
    }
}

#[test]
fn backends_give_identical_bits() {
    check_backend::<NalgebraBackend<f64>>(76);
    check_backend::<NalgebraBackend<f32>>(77);
    check_backend::<FaerBackend<f64>>(78);
    check_backend::<FaerBackend<f32>>(79);
}

/// Returns a strategy drawing mostly special values, so that ties and zeros are common.
fn tricky_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(-0.0),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        (-3i32..=3).prop_map(f64::from),
        -1e3..1e3,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(80),
        failure_persistence: None,
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn median_matches_sorting_prop(
        (count, dim, values) in (1usize..=80, 1usize..=40).prop_flat_map(|(count, dim)| {
            (Just(count), Just(dim), prop::collection::vec(tricky_value(), count * dim))
        }),
        rule in prop::sample::select(RULES.to_vec()),
    ) {
        type B = VecBackend<f64>;
        let batch = B::batch_from_rows(&values, count, dim).unwrap();
        let found = CoordinateMedian::new().with_even_rule(rule).estimate::<B>(&batch).unwrap();
        let narrow: Vec<f32> = values.iter().map(|&v| v as f32).collect();
        let narrow_batch = VecBackend::<f32>::batch_from_rows(&narrow, count, dim).unwrap();
        let found_narrow = CoordinateMedian::new()
            .with_even_rule(rule)
            .estimate::<VecBackend<f32>>(&narrow_batch)
            .unwrap();
        for j in 0..dim {
            let expected = reference_median(&sorted_column(&values, count, dim, j), rule);
            prop_assert_eq!(found[j].to_bits(), expected.to_bits(), "coordinate {}", j);
            let expected = reference_median(&sorted_column(&narrow, count, dim, j), rule);
            prop_assert_eq!(found_narrow[j].to_bits(), expected.to_bits(), "f32 coordinate {}", j);
        }
    }
}
