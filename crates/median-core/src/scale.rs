//! Exact rescaling of a batch by a power of two, for inputs whose distances leave the
//! floating-point range.
//!
//! Multiplying by a power of two changes only the exponent of every entry, so distances,
//! their order and the estimators built on them scale exactly, barring overflow and
//! underflow of the product itself.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use crate::Error;

/// Returns the exponent `e`, rounded to an integer, with `2^e` nearest the largest magnitude
/// of the gradients `i` for which `include(i)` is true, or `None` when all of those entries
/// are zero.
pub(crate) fn scale_exponent<B: Backend>(
    batch: &B::Batch,
    include: impl Fn(usize) -> bool,
) -> Option<f64> {
    let largest = (0..B::batch_count(batch))
        .filter(|&i| include(i))
        .flat_map(|i| B::batch_gradient(batch, i).iter().map(|v| v.abs()))
        .fold(B::Scalar::zero(), B::Scalar::max);
    (largest != B::Scalar::zero()).then(|| largest.into_f64().log2().round())
}

/// Returns `x * 2^exponent`, as two multiplications by powers of two that `S` can represent
/// even where `2^exponent` itself cannot be.
pub(crate) fn times_power_of_two<S: Scalar>(x: S, exponent: f64) -> S {
    let first = (exponent / 2.0).round();
    x * S::of_f64(first.exp2()) * S::of_f64((exponent - first).exp2())
}

/// Returns a copy of the batch with the gradients `i` for which `include(i)` is true
/// multiplied by `2^-exponent`, and the others replaced by zeros.
///
/// # Errors
///
/// The backend's errors from building the copy.
pub(crate) fn scaled_batch<B: Backend>(
    batch: &B::Batch,
    include: impl Fn(usize) -> bool,
    exponent: f64,
) -> Result<B::Batch, Error> {
    let (n, d) = (B::batch_count(batch), B::batch_dim(batch));
    let mut rows = vec![B::Scalar::zero(); n * d];
    for i in (0..n).filter(|&i| include(i)) {
        for (r, &v) in rows[i * d..(i + 1) * d]
            .iter_mut()
            .zip(B::batch_gradient(batch, i))
        {
            *r = times_power_of_two(v, -exponent);
        }
    }
    Ok(B::batch_from_rows(&rows, n, d)?)
}
