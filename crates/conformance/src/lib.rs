//! The conformance suite that every [`Backend`] must pass, and the seeded helpers shared by
//! the workspace's tests.
//!
//! Each check compares a backend with [`VecBackend`], the oracle, on seeded random inputs
//! at awkward sizes (0, 1, odd, large), and checks overflow-safe norms, NaN propagation,
//! errors on dimension mismatch, and bit-identical results on rayon pools of different
//! sizes. The [`conformance_tests!`] macro expands to one `#[test]` per check, so that test
//! names show the backend and scalar:
//!
//! ```ignore
//! median_conformance::conformance_tests!(faer_f64, median_faer::FaerBackend<f64>);
//! ```
//!
//! A check panics with a message naming the operation, size and values when the backend
//! disagrees. This crate is not published; it is a dev-dependency of the backends.

use median_linalg::{Backend, LinalgError, Scalar, VecBackend, kernels};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

mod checks;
mod determinism;

pub use checks::*;
pub use determinism::*;

/// The generator every test in the workspace uses: `ChaCha8Rng`, whose output for a seed is
/// stable across `rand` releases.
pub type TestRng = ChaCha8Rng;

/// Returns the workspace's test generator, seeded: the single place tests get randomness.
pub fn seeded_rng(seed: u64) -> TestRng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Returns `len` values drawn uniformly from `[-1, 1)`.
pub fn random_vec<S: Scalar>(rng: &mut TestRng, len: usize) -> Vec<S> {
    (0..len)
        .map(|_| S::of_f64(rng.random_range(-1.0..1.0)))
        .collect()
}

/// Returns a batch of `count` random gradients of dimension `dim`, and its rows.
///
/// # Panics
///
/// Panics if the backend rejects a correctly shaped buffer, which breaks its contract.
pub fn random_batch<B: Backend>(
    rng: &mut TestRng,
    count: usize,
    dim: usize,
) -> (B::Batch, Vec<B::Scalar>) {
    let rows = random_vec::<B::Scalar>(rng, count * dim);
    let batch = B::batch_from_rows(&rows, count, dim).expect("rows has count * dim values");
    (batch, rows)
}

/// The oracle every backend is compared with.
pub type Oracle<S> = VecBackend<S>;

/// Vector lengths the checks use: empty, one, around the 8-lane width, odd, and past the
/// size where reductions go parallel.
pub const VECTOR_SIZES: &[usize] = &[0, 1, 2, 7, 8, 9, 31, 1023, 8193, 100_003];

/// Batch shapes `(count, dim)` the checks use.
pub const BATCH_SHAPES: &[(usize, usize)] = &[
    (0, 0),
    (0, 5),
    (1, 1),
    (1, 9),
    (3, 5),
    (7, 33),
    (16, 1001),
    (5, 70_001),
];

/// Asserts `|found - expected| <= tol` where `tol` bounds the rounding error of a sum of
/// `terms` values whose magnitudes add up to `magnitude`, in any summation order.
///
/// # Panics
///
/// Panics with `what` and both values when the bound fails, or when exactly one of them is
/// NaN.
pub fn assert_sum_close<S: Scalar>(what: &str, found: S, expected: S, terms: usize, magnitude: S) {
    if expected.is_nan() || found.is_nan() {
        assert!(
            expected.is_nan() && found.is_nan(),
            "{what}: found {found:e}, expected {expected:e}"
        );
        return;
    }
    if expected.is_infinite() || found.is_infinite() {
        assert_eq!(found, expected, "{what}");
        return;
    }
    let eps = S::epsilon().into_f64();
    let tol =
        2.0 * (terms as f64 + 2.0) * eps * magnitude.into_f64() + f64::from(f32::MIN_POSITIVE);
    let diff = (found.into_f64() - expected.into_f64()).abs();
    assert!(
        diff <= tol,
        "{what}: found {found:e}, expected {expected:e} (difference {diff:e} > tolerance {tol:e})"
    );
}

/// Returns `sum |x_i y_i|`, the magnitude bound for [`assert_sum_close`] on a dot product.
pub fn dot_magnitude<S: Scalar>(x: &[S], y: &[S]) -> S {
    let abs_x: Vec<S> = x.iter().map(|v| v.abs()).collect();
    let abs_y: Vec<S> = y.iter().map(|v| v.abs()).collect();
    kernels::dot(&abs_x, &abs_y)
}

/// Asserts that `result` is a dimension-mismatch error naming `operation`.
///
/// # Panics
///
/// Panics when `result` is `Ok` or another error.
pub fn assert_mismatch<T: std::fmt::Debug>(operation: &str, result: Result<T, LinalgError>) {
    match result {
        Err(LinalgError::DimensionMismatch { operation: op, .. }) => assert_eq!(op, operation),
        other => panic!("{operation}: expected a dimension mismatch error, got {other:?}"),
    }
}

/// Expands to a module of `#[test]` functions, one per conformance check, for a backend.
///
/// `conformance_tests!(name, Type)` creates `mod name` whose tests run every check on
/// `Type`; name the module after the backend and scalar, such as `faer_f32`.
#[macro_export]
macro_rules! conformance_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn vectors_round_trip() {
                $crate::check_vectors_round_trip::<$backend>();
            }
            #[test]
            fn batches_round_trip() {
                $crate::check_batches_round_trip::<$backend>();
            }
            #[test]
            fn dot_matches_oracle() {
                $crate::check_dot::<$backend>();
            }
            #[test]
            fn axpy_and_scale_match_oracle() {
                $crate::check_axpy_and_scale::<$backend>();
            }
            #[test]
            fn norm_and_distance_match_oracle() {
                $crate::check_norm_and_distance::<$backend>();
            }
            #[test]
            fn norms_do_not_overflow() {
                $crate::check_norms_do_not_overflow::<$backend>();
            }
            #[test]
            fn nan_propagates() {
                $crate::check_nan_propagates::<$backend>();
            }
            #[test]
            fn batch_norms_and_distances_match_oracle() {
                $crate::check_batch_norms_and_distances::<$backend>();
            }
            #[test]
            fn batch_weighted_sum_matches_oracle() {
                $crate::check_batch_weighted_sum::<$backend>();
            }
            #[test]
            fn batch_gram_matches_oracle() {
                $crate::check_batch_gram::<$backend>();
            }
            #[test]
            fn batch_squared_distances_match_oracle() {
                $crate::check_batch_squared_distances::<$backend>();
            }
            #[test]
            fn batch_weiszfeld_pass_matches_oracle() {
                $crate::check_batch_weiszfeld_pass::<$backend>();
            }
            #[test]
            fn dimension_mismatch_is_an_error() {
                $crate::check_dimension_mismatch::<$backend>();
            }
            #[test]
            fn generic_code_matches_oracle() {
                $crate::check_generic_code::<$backend>();
            }
            #[test]
            fn results_do_not_depend_on_thread_count() {
                $crate::check_thread_count_independence::<$backend>();
            }
        }
    };
}
