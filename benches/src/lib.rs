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

pub mod npy;

/// Returns `count` rows of dimension `dim`: the first `count - outliers` drawn from
/// `N(0, I)` and the last `outliers` from `N(10 * 1, I)`, seeded.
pub fn outlier_rows(seed: u64, count: usize, dim: usize, outliers: usize) -> Vec<f64> {
    let mut rng = bench_rng(seed);
    let mut rows = Vec::with_capacity(count * dim);
    for i in 0..count {
        let shift = if i + outliers < count { 0.0 } else { 10.0 };
        for _ in 0..dim {
            let z: f64 = rng.sample(rand_distr::StandardNormal);
            rows.push(z + shift);
        }
    }
    rows
}
