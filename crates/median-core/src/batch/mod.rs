//! Estimators across a batch of samples: the "median across samples" of gradients taken at
//! the same point.
//!
//! Each estimator is a struct that contains its parameters and its scratch space, and
//! implements [`Aggregator`] for every backend. Its inherent
//! methods come in two forms: `estimate` returns a new vector, and `estimate_into` writes
//! into a caller-provided output and reuses the struct's scratch. Repeated calls on batches
//! of the same shape then allocate nothing in this crate, although a backend's kernels may.
//!
//! | estimator | breakdown point | cost for `n` gradients of dimension `d` |
//! |---|---|---|
//! | [`Mean`] | 0 | `O(n d)` |
//! | [`CoordinateMedian`] | 1/2 per coordinate | `O(n log^2 n d)` (a selection network, vectorised across coordinates) for `n <= 512`, `O(n d)` expected (quickselect) above |
//! | [`WeightedCoordinateMedian`] | 1/2 of the weight per coordinate | `O(n log n d)` |
//! | [`CoordinateQuantile`] | `min(q, 1 - q)` per coordinate | as [`CoordinateMedian`] |
//! | [`TrimmedMean`] | `f / n` or `beta` per coordinate | `O(n d)` expected |
//! | [`MedianOfMeans`] | about `k / (2 n)` | `O(n d)` |
//! | [`GeometricMedian`] | 1/2 | `O(n d)` per iteration, plus `O(n^2 d)` once for the reduced start (`n <= 128`) |
//!
//! # Errors common to every estimator
//!
//! - An empty batch is [`Error::EmptyBatch`], never a zero vector.
//! - An output of the wrong length, or weights of the wrong count, is
//!   [`Error::DimensionMismatch`] naming both lengths.
//! - A list of gradients of different lengths is rejected by the backend with
//!   [`LinalgError::RaggedBatch`](median_linalg::LinalgError::RaggedBatch), which converts
//!   into [`Error::Linalg`]; see [`aggregate_gradients`].
//! - Parameters outside their range are [`Error::InvalidParameter`].
//!
//! On error, the contents of a caller-provided output are unspecified.

mod columns;
mod geometric;
mod mean;
mod median;
mod median_of_means;
mod quantile;
mod select;
mod trimmed;

pub use geometric::{
    GeometricMedian, GeometricMedianInfo, GeometricMedianSolver, REDUCED_MAX_COUNT,
    REDUCED_MAX_STEPS, StartPoint, StopReason,
};
pub use mean::Mean;
pub use median::{CoordinateMedian, EvenRule, WeightedCoordinateMedian};
pub use median_of_means::MedianOfMeans;
pub use quantile::CoordinateQuantile;
pub use trimmed::{Trim, TrimmedMean};

use median_linalg::{Backend, Scalar, VecBackend};

use crate::Error;
use crate::aggregate::Aggregator;

/// Aggregates a list of gradients given as slices, through the [`VecBackend`].
///
/// This is the entry point for data that is not yet in a batch. The gradients are copied
/// into one row-major batch first.
///
/// # Errors
///
/// [`Error::Linalg`] wrapping [`LinalgError::RaggedBatch`](median_linalg::LinalgError::RaggedBatch)
/// if the gradients differ in length (naming the first one that differs and both lengths),
/// [`Error::EmptyBatch`] for an empty list, and the aggregator's own errors.
///
/// # Examples
///
/// ```
/// use median_core::batch::{aggregate_gradients, CoordinateMedian};
///
/// let mut median = CoordinateMedian::new();
/// let gradients: [&[f64]; 3] = [&[1.0, 10.0], &[2.0, -4.0], &[300.0, 0.0]];
/// assert_eq!(aggregate_gradients(&mut median, &gradients)?, vec![2.0, 0.0]);
///
/// let ragged: [&[f64]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0]];
/// assert!(aggregate_gradients(&mut median, &ragged).is_err());
/// # Ok::<(), median_core::Error>(())
/// ```
pub fn aggregate_gradients<S, A>(aggregator: &mut A, gradients: &[&[S]]) -> Result<Vec<S>, Error>
where
    S: Scalar,
    A: Aggregator<VecBackend<S>> + ?Sized,
{
    if gradients.is_empty() {
        return Err(Error::EmptyBatch);
    }
    let batch = VecBackend::<S>::batch_from_gradients(gradients)?;
    aggregator.aggregate(&batch)
}

/// Checks that the batch is not empty and that `out` has the batch's dimension.
fn check_batch_and_output<B: Backend>(
    batch: &B::Batch,
    out: &[B::Scalar],
) -> Result<(usize, usize), Error> {
    let n = B::batch_count(batch);
    if n == 0 {
        return Err(Error::EmptyBatch);
    }
    let dim = B::batch_dim(batch);
    if out.len() != dim {
        return Err(Error::DimensionMismatch {
            what: "output",
            index: 0,
            expected: dim,
            found: out.len(),
        });
    }
    Ok((n, dim))
}

/// Validates per-gradient weights: every weight finite and `>= 0`, with a positive sum.
///
/// Returns the weights, scaled by a power of two when their sum overflows.
fn validate_weights<S: Scalar>(weights: &[S]) -> Result<Vec<S>, Error> {
    if weights.is_empty() {
        return Err(Error::InvalidWeights {
            reason: "no weights given; give one weight per gradient".to_string(),
        });
    }
    if let Some((index, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < S::zero())
    {
        return Err(Error::InvalidWeights {
            reason: format!("weight {index} is {w}; every weight must be finite and >= 0"),
        });
    }
    let sum: S = weights.iter().copied().sum();
    if sum <= S::zero() {
        return Err(Error::InvalidWeights {
            reason: "the weights sum to 0; at least one weight must be positive".to_string(),
        });
    }

    // A power-of-two factor keeps ratios and exact ties unchanged.
    let mut scaled = weights.to_vec();
    let mut total = sum;
    while !total.is_finite() {
        for w in scaled.iter_mut() {
            *w = *w * S::of_f64(0.5f64.powi(16));
        }
        total = scaled.iter().copied().sum();
    }
    Ok(scaled)
}

/// Checks that there is one weight per gradient.
fn check_weight_count(weights: usize, n: usize) -> Result<(), Error> {
    if weights == n {
        Ok(())
    } else {
        Err(Error::DimensionMismatch {
            what: "weights",
            index: 0,
            expected: n,
            found: weights,
        })
    }
}
