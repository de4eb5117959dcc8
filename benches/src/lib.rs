//! Shared input builders for the criterion benchmarks of the `median` workspace.
//!
//! Inputs are seeded, so every run measures the same numbers.

use median_linalg::{Backend, Scalar};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Returns a seeded generator for benchmark inputs.
pub fn bench_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// Returns `len` values uniform in `[-1, 1)`.
pub fn uniform_vec<S: Scalar>(rng: &mut ChaCha8Rng, len: usize) -> Vec<S> {
    (0..len)
        .map(|_| S::of_f64(rng.random_range(-1.0..1.0)))
        .collect()
}

/// Returns a batch of `count` uniform gradients of dimension `dim`.
///
/// # Panics
///
/// Panics if the backend rejects a correctly shaped buffer.
pub fn uniform_batch<B: Backend>(rng: &mut ChaCha8Rng, count: usize, dim: usize) -> B::Batch {
    let rows = uniform_vec::<B::Scalar>(rng, count * dim);
    B::batch_from_rows(&rows, count, dim).expect("rows has count * dim values")
}
