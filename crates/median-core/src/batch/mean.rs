//! The coordinate-wise mean of a batch, the non-robust baseline.

use median_linalg::{Backend, Scalar};

use super::check_batch_and_output;
use super::columns::{self, mean_of};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// The mean of a batch, `(1/n) sum_i g_i`: the minimiser of `sum_i ||m - g_i||^2 / 2`.
///
/// # Properties
///
/// Breakdown point 0: one arbitrary gradient moves it anywhere. Cost `O(n d)`, through the
/// backend's [`batch_weighted_sum`](Backend::batch_weighted_sum). The sum is divided by `n`
/// after summing. When that sum overflows although the inputs are finite, the terms are
/// divided by `n` first, so the mean of finite values is finite.
///
/// # NaN policy
///
/// [`NanPolicy::Propagate`] (default): NaN gives NaN in its coordinate, and `+inf` with
/// `-inf` gives NaN. [`NanPolicy::Skip`]: each coordinate is the mean of its non-NaN values
/// (as `numpy.nanmean`). [`NanPolicy::Error`]: any NaN is [`Error::NonFinite`].
///
/// # Errors
///
/// [`Error::EmptyBatch`]; [`Error::DimensionMismatch`] for an output of the wrong length;
/// [`Error::AllNan`] and [`Error::NonFinite`] by the NaN policy.
///
/// # Examples
///
/// ```
/// use median_core::batch::Mean;
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 6.0], 2, 2)?;
/// assert_eq!(Mean::new().estimate::<B>(&batch)?, vec![2.0, 4.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Mean<S> {
    nan_policy: NanPolicy,
    weights: Vec<S>,
    columns: Vec<S>,
}

impl<S: Scalar> Mean<S> {
    /// Creates the estimator with [`NanPolicy::Propagate`].
    pub fn new() -> Self {
        Self {
            nan_policy: NanPolicy::Propagate,
            weights: Vec::new(),
            columns: Vec::new(),
        }
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn with_nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Returns the mean of the batch as a new vector.
    ///
    /// # Errors
    ///
    /// As [`estimate_into`](Self::estimate_into).
    pub fn estimate<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
    ) -> Result<B::Vector, Error> {
        let mut out = B::vector_zeros(B::batch_dim(batch));
        self.estimate_into::<B>(batch, B::vector_as_mut_slice(&mut out))?;
        Ok(out)
    }

    /// Writes the mean of the batch into `out`, reusing the struct's scratch.
    ///
    /// # Errors
    ///
    /// See the type-level docs.
    pub fn estimate_into<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
    ) -> Result<(), Error> {
        let (n, _) = check_batch_and_output::<B>(batch, out)?;
        match self.nan_policy {
            NanPolicy::Error => {
                if let Some(error) = columns::first_nan::<B>(batch) {
                    return Err(error);
                }
            }
            NanPolicy::Skip => {
                columns::transpose_into::<B, S, _>(batch, &mut self.columns, S::zero(), |_, v| v);
                return columns::reduce_columns(
                    &mut self.columns,
                    n,
                    out,
                    NanPolicy::Skip,
                    |v: &S| v.is_nan(),
                    |_, column| Ok(mean_of(column)),
                );
            }
            NanPolicy::Propagate => {}
        }

        self.weights.clear();
        self.weights.resize(n, S::one());
        B::batch_weighted_sum(batch, &self.weights, out)?;
        let count = S::of_usize(n);
        let overflowed = out.iter().any(|v| v.is_infinite());
        if overflowed && columns::first_non_finite::<B>(batch).is_none() {
            // The plain sum overflowed: divide each term by n before summing.
            self.weights.fill(S::one() / count);
            B::batch_weighted_sum(batch, &self.weights, out)?;
        } else {
            for o in out.iter_mut() {
                *o = *o / count;
            }
        }
        Ok(())
    }
}

impl<B: Backend> Aggregator<B> for Mean<B::Scalar> {
    fn name(&self) -> String {
        "mean".to_string()
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}
