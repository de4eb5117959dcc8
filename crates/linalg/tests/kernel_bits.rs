//! The reductions of `kernels` against a plain sequential reference with the same chunks,
//! lanes and combination order: the results must agree bit for bit, on 1 and 4 threads,
//! at lengths around the lane, chunk and parallel boundaries.

use median_conformance::{bits, on_threads, random_vec, seeded_rng};
use median_linalg::Scalar;
use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

/// Lengths next to every boundary of the kernels: lanes of 8, chunks and the parallel
/// threshold.
fn lengths() -> Vec<usize> {
    vec![
        0,
        1,
        7,
        8,
        9,
        17,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * CHUNK + 9,
        PARALLEL_MIN_LEN - 1,
        PARALLEL_MIN_LEN,
        PARALLEL_MIN_LEN + 13,
        3 * PARALLEL_MIN_LEN + CHUNK / 2 + 5,
    ]
}

/// Sums `term(k)` over `0..len` the reference way: chunks of `CHUNK`, element `k` of a
/// chunk into accumulator `k % 8`, accumulators combined as `((0+4)+(2+6)) + ((1+5)+(3+7))`,
/// chunk sums added in order from zero.
fn reference_sum<S: Scalar>(len: usize, term: impl Fn(usize) -> S) -> S {
    let mut total = S::zero();
    let mut start = 0;
    while start < len {
        let end = (start + CHUNK).min(len);
        let mut acc = [S::zero(); 8];
        for k in start..end {
            let lane = (k - start) % 8;
            acc[lane] = acc[lane] + term(k);
        }
        let a = (acc[0] + acc[4]) + (acc[2] + acc[6]);
        let b = (acc[1] + acc[5]) + (acc[3] + acc[7]);
        total = total + (a + b);
        start = end;
    }
    total
}

/// Returns the reference Euclidean norm of the terms `term(k)`: the root of the plain sum
/// of squares where that is safe, otherwise of the terms divided by the largest magnitude.
fn reference_norm<S: Scalar>(len: usize, term: impl Fn(usize) -> S) -> S {
    let squares = reference_sum(len, |k| term(k) * term(k));
    if squares.is_nan() {
        return squares;
    }
    if squares.is_finite() && squares >= S::min_positive_value() / S::epsilon() {
        return squares.sqrt();
    }
    let mut amax = S::zero();
    for k in 0..len {
        let a = term(k).abs();
        if a.is_nan() {
            return a;
        }
        if a > amax {
            amax = a;
        }
    }
    if amax.is_infinite() || amax == S::zero() {
        return amax;
    }
    let scaled = reference_sum(len, |k| {
        let t = term(k) / amax;
        t * t
    });
    amax * scaled.sqrt()
}

/// Asserts that two scalars have the same bits.
fn assert_same<S: Scalar>(what: &str, len: usize, found: S, expected: S) {
    assert_eq!(
        found.into_f64().to_bits(),
        expected.into_f64().to_bits(),
        "{what} at length {len}: {found:?} != {expected:?}"
    );
}

/// Checks sum, dot, norm_squared, norm and distance against the reference at every length.
fn check_reductions<S: Scalar>(seed: u64) {
    let mut rng = seeded_rng(seed);
    for len in lengths() {
        let x = random_vec::<S>(&mut rng, len);
        let y = random_vec::<S>(&mut rng, len);
        assert_same("sum", len, kernels::sum(&x), reference_sum(len, |k| x[k]));
        assert_same(
            "dot",
            len,
            kernels::dot(&x, &y),
            reference_sum(len, |k| x[k] * y[k]),
        );
        assert_same(
            "norm_squared",
            len,
            kernels::norm_squared(&x),
            reference_sum(len, |k| x[k] * x[k]),
        );
        assert_same(
            "norm",
            len,
            kernels::norm(&x),
            reference_norm(len, |k| x[k]),
        );
        assert_same(
            "distance",
            len,
            kernels::distance(&x, &y),
            reference_norm(len, |k| x[k] - y[k]),
        );
    }
}

#[test]
fn reductions_match_reference_f64() {
    check_reductions::<f64>(11);
}

#[test]
fn reductions_match_reference_f32() {
    check_reductions::<f32>(12);
}

/// Returns `x` multiplied by `factor`, entry by entry.
fn scaled<S: Scalar>(x: &[S], factor: f64) -> Vec<S> {
    x.iter().map(|&v| v * S::of_f64(factor)).collect()
}

/// Checks the scaled second pass of norm and distance on huge and tiny entries, at lengths
/// that run sequentially and in parallel, against the reference and against the norm of
/// the unscaled vector.
fn check_extreme_norms<S: Scalar>(huge: f64, tiny: f64, seed: u64) {
    let mut rng = seeded_rng(seed);
    for len in [2, 9, CHUNK + 1, PARALLEL_MIN_LEN + 13] {
        let x = random_vec::<S>(&mut rng, len);
        let y = random_vec::<S>(&mut rng, len);
        let plain = kernels::norm(&x).into_f64();
        for factor in [huge, tiny] {
            let (xs, ys) = (scaled(&x, factor), scaled(&y, factor));
            let norm = kernels::norm(&xs);
            assert_same("norm", len, norm, reference_norm(len, |k| xs[k]));
            assert!(
                norm.is_finite() && norm > S::zero(),
                "norm {norm:?} at {len}"
            );
            let relative = (norm.into_f64() / factor) / plain - 1.0;
            let tolerance = 8.0 * S::epsilon().into_f64() * (len as f64).sqrt();
            assert!(
                relative.abs() <= tolerance,
                "norm off by {relative} at {len}"
            );
            assert_same(
                "distance",
                len,
                kernels::distance(&xs, &ys),
                reference_norm(len, |k| xs[k] - ys[k]),
            );
        }
    }
}

#[test]
fn extreme_norms_match_reference_f64() {
    check_extreme_norms::<f64>(1e200, 1e-300, 13);
}

#[test]
fn extreme_norms_match_reference_f32() {
    check_extreme_norms::<f32>(1e20, 1e-30, 14);
}

#[test]
fn norm_of_huge_equal_entries_is_exact() {
    // sqrt(4 * (1e200)^2) = 2e200 and sqrt(4 * (1e20)^2) = 2e20, after the first pass
    // overflows.
    assert_eq!(kernels::norm(&[1e200_f64; 4]), 2e200);
    assert_eq!(kernels::norm(&[1e20_f32; 4]), 2e20);
    assert_eq!(kernels::distance(&[1e200_f64; 4], &[-1e200; 4]), 4e200);
}

#[test]
fn norm_propagates_nan_and_infinity_at_every_length() {
    for len in lengths().into_iter().filter(|&len| len > 0) {
        for position in [0, len / 2, len - 1] {
            let mut x = vec![0.5_f64; len];
            x[position] = f64::INFINITY;
            assert_eq!(kernels::norm(&x), f64::INFINITY, "inf at {position}/{len}");
            assert_eq!(kernels::distance(&x, &vec![0.0; len]), f64::INFINITY);
            x[len - 1 - position] = f64::NAN;
            assert!(kernels::norm(&x).is_nan(), "NaN at {position}/{len}");
            assert!(kernels::distance(&vec![0.0; len], &x).is_nan());
            assert!(kernels::sum(&x).is_nan());
        }
    }
    let mut x = vec![0.25_f32; PARALLEL_MIN_LEN + 3];
    x[PARALLEL_MIN_LEN + 1] = f32::NEG_INFINITY;
    assert_eq!(kernels::norm(&x), f32::INFINITY);
}

#[test]
fn zero_vectors_have_zero_norm() {
    for len in [0, 5, CHUNK + 1, PARALLEL_MIN_LEN + 1] {
        assert_eq!(kernels::norm(&vec![0.0_f64; len]).to_bits(), 0);
        assert_eq!(kernels::norm(&vec![-0.0_f32; len]).to_bits(), 0);
        let x = vec![1.5_f64; len];
        assert_eq!(kernels::distance(&x, &x).to_bits(), 0);
    }
}

#[test]
fn reductions_do_not_depend_on_thread_count() {
    let mut rng = seeded_rng(15);
    let len = 3 * PARALLEL_MIN_LEN + 77;
    let x = random_vec::<f64>(&mut rng, len);
    let y = random_vec::<f64>(&mut rng, len);
    let (huge_x, huge_y) = (scaled(&x, 1e300), scaled(&y, 1e300));
    let tiny_x = scaled(&x, 1e-300);
    let all = || {
        vec![
            kernels::sum(&x),
            kernels::dot(&x, &y),
            kernels::norm_squared(&x),
            kernels::norm(&x),
            kernels::distance(&x, &y),
            kernels::norm(&huge_x),
            kernels::distance(&huge_x, &huge_y),
            kernels::norm(&tiny_x),
        ]
    };
    let one = on_threads(1, all);
    let four = on_threads(4, all);
    assert_eq!(bits(&one), bits(&four));
}

#[test]
fn axpy_and_scale_ignore_thread_count() {
    let mut rng = seeded_rng(16);
    let len = 2 * PARALLEL_MIN_LEN + 5;
    let x = random_vec::<f32>(&mut rng, len);
    let y = random_vec::<f32>(&mut rng, len);
    let run = || {
        let mut out = y.clone();
        kernels::axpy(0.37, &x, &mut out);
        kernels::scale(-1.25, &mut out);
        out
    };
    let expected: Vec<f32> = x
        .iter()
        .zip(&y)
        .map(|(&xi, &yi)| (yi + 0.37 * xi) * -1.25)
        .collect();
    assert_eq!(bits(&on_threads(1, run)), bits(&expected));
    assert_eq!(bits(&on_threads(4, run)), bits(&expected));
}

proptest! {
    #![proptest_config(ProptestConfig {
        rng_seed: RngSeed::Fixed(17),
        failure_persistence: None,
        cases: 64,
        ..ProptestConfig::default()
    })]

    #[test]
    fn reductions_match_reference_on_any_input(
        x in prop::collection::vec(-1e6_f64..1e6, 0..200),
        shift in -10.0_f64..10.0,
    ) {
        let y: Vec<f64> = x.iter().map(|v| v * 0.5 + shift).collect();
        let len = x.len();
        prop_assert_eq!(kernels::sum(&x).to_bits(), reference_sum(len, |k| x[k]).to_bits());
        prop_assert_eq!(
            kernels::dot(&x, &y).to_bits(),
            reference_sum(len, |k| x[k] * y[k]).to_bits()
        );
        prop_assert_eq!(
            kernels::distance(&x, &y).to_bits(),
            reference_norm(len, |k| x[k] - y[k]).to_bits()
        );
    }
}
