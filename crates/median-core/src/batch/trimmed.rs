//! The coordinate-wise trimmed mean, by count or by fraction with fractional trimming.

use std::marker::PhantomData;

use median_linalg::{Backend, Scalar};

use super::check_batch_and_output;
use super::columns::{self, KeyColumns, KeyedReduce};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// How much a [`TrimmedMean`] removes from each end of every coordinate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trim {
    /// Remove the `f` smallest and the `f` largest values; needs `n > 2f`.
    Count(usize),
    /// Remove the fraction `beta` in `[0, 1/2)` of the values from each end, fractionally:
    /// `beta n` values per end, where a non-integer `beta n` removes part of the weight of
    /// the next value.
    Fraction(f64),
}

/// The coordinate-wise trimmed mean: in each coordinate, the mean after removing the
/// largest and smallest values.
///
/// # Definition
///
/// For `n` values of a coordinate sorted as `x_(1) <= ... <= x_(n)` and a trim amount
/// `g` per end (`g = f` for [`Trim::Count`], `g = beta n` for [`Trim::Fraction`]), let
/// `k = floor(g)`. The values `x_(1..=k)` and `x_(n-k+1..=n)` are removed, `x_(k+1)` and
/// `x_(n-k)` keep the weight `1 - (g - k)`, the values between keep weight 1, and the result
/// is the weighted sum divided by `n - 2g`. Trimming is fractional: `beta n` is never
/// rounded, so 5% of 15 values removes a quarter of the weight of each extreme value rather
/// than nothing. With an integer `g` this is the usual trimmed mean; `g = 0` is the mean and
/// the largest admissible count gives the median.
///
/// # Properties
///
/// Breakdown point `g / n` (`f / n` or `beta`). Cost `O(n d)` expected: two quickselects per
/// coordinate on a transposed copy held in the struct (as integer keys that order like
/// IEEE 754 `totalOrder`), in parallel over blocks of coordinates, deterministic. The sum is computed without overflow for finite values.
///
/// # NaN policy
///
/// [`NanPolicy::Propagate`] (default) gives NaN in a coordinate holding NaN, whatever the
/// trim. [`NanPolicy::Skip`] removes the NaNs first and applies the trim to the `m`
/// remaining values (`g = beta m` for a fraction, and the count must satisfy `m > 2f`).
/// [`NanPolicy::Error`] rejects the batch.
///
/// # Errors
///
/// [`Error::InvalidParameter`] from [`by_fraction`](Self::by_fraction) unless
/// `0 <= beta < 1/2`; [`Error::InadmissibleByzantineCount`] when `2f >= n` for a count
/// (with `n` the non-NaN count of a coordinate under `Skip`); [`Error::EmptyBatch`];
/// [`Error::DimensionMismatch`] for an output of the wrong length; [`Error::AllNan`] and
/// [`Error::NonFinite`] by the NaN policy.
///
/// # Examples
///
/// ```
/// use median_core::batch::TrimmedMean;
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 4.0, 100.0], 5, 1)?;
/// assert_eq!(TrimmedMean::by_count(1).estimate::<B>(&batch)?, vec![3.0]);
/// // beta n = 0.5: half the weight of 1 and of 100 is removed, the divisor is 4.
/// let fractional = TrimmedMean::by_fraction(0.1)?.estimate::<B>(&batch)?;
/// assert_eq!(fractional, vec![(0.5 * 1.0 + 2.0 + 3.0 + 4.0 + 0.5 * 100.0) / 4.0]);
/// assert!(TrimmedMean::by_count(3).estimate::<B>(&batch).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TrimmedMean<S> {
    trim: Trim,
    nan_policy: NanPolicy,
    columns: KeyColumns,
    scalar: PhantomData<S>,
}

impl<S: Scalar> TrimmedMean<S> {
    /// Creates the estimator that removes `f` values from each end, with
    /// [`NanPolicy::Propagate`].
    pub fn by_count(f: usize) -> Self {
        Self {
            trim: Trim::Count(f),
            nan_policy: NanPolicy::Propagate,
            columns: KeyColumns::default(),
            scalar: PhantomData,
        }
    }

    /// Creates the estimator that removes the fraction `beta` of the values from each end,
    /// fractionally, with [`NanPolicy::Propagate`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `0 <= beta < 1/2`.
    pub fn by_fraction(beta: f64) -> Result<Self, Error> {
        if !(0.0..0.5).contains(&beta) {
            return Err(Error::InvalidParameter {
                name: "beta",
                value: beta,
                expected: "must be in [0, 1/2)",
            });
        }
        Ok(Self {
            trim: Trim::Fraction(beta),
            nan_policy: NanPolicy::Propagate,
            columns: KeyColumns::default(),
            scalar: PhantomData,
        })
    }

    /// Returns the trim.
    pub fn trim(&self) -> Trim {
        self.trim
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn with_nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Returns the trimmed mean as a new vector.
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

    /// Writes the trimmed mean into `out`, reusing the struct's scratch.
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
        if let Trim::Count(f) = self.trim {
            check_count(n, f)?;
        }
        if self.nan_policy == NanPolicy::Error
            && let Some(error) = columns::first_nan::<B>(batch)
        {
            return Err(error);
        }

        columns::reduce_keyed_columns::<B, _>(
            batch,
            &mut self.columns,
            out,
            self.nan_policy,
            &self.trim,
        )
    }
}

impl<B: Backend> Aggregator<B> for TrimmedMean<B::Scalar> {
    fn name(&self) -> String {
        match self.trim {
            Trim::Count(f) => format!("trimmed-mean-f{f}"),
            Trim::Fraction(beta) => format!("trimmed-mean-{beta}"),
        }
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}

/// Checks `n > 2f`.
fn check_count(n: usize, f: usize) -> Result<(), Error> {
    if f.checked_mul(2).is_some_and(|two_f| two_f < n) {
        Ok(())
    } else {
        Err(Error::InadmissibleByzantineCount {
            rule: "trimmed mean",
            condition: "n > 2f, where n counts the non-NaN values of a coordinate",
            n,
            f,
        })
    }
}

/// The trimmed mean of one column of keys.
impl<S: Scalar> KeyedReduce<S> for Trim {
    fn reduce<K: Ord + Copy>(&self, keys: &mut [K], of_key: impl Fn(K) -> S) -> Result<S, Error> {
        trimmed_mean_of_keys(keys, *self, of_key)
    }
}

/// Returns the trimmed mean of a non-empty slice of `totalOrder` keys of non-NaN values,
/// reordering the slice. `of_key` maps a key back to its value.
fn trimmed_mean_of_keys<S: Scalar, K: Ord + Copy>(
    keys: &mut [K],
    trim: Trim,
    of_key: impl Fn(K) -> S,
) -> Result<S, Error> {
    let m = keys.len();
    let amount = match trim {
        Trim::Count(f) => {
            check_count(m, f)?;
            f as f64
        }
        Trim::Fraction(beta) => beta * m as f64,
    };
    let whole = amount.floor() as usize;
    let boundary_weight = S::of_f64(1.0 - (amount - whole as f64));

    // `amount < m / 2`, so `whole <= (m - 1) / 2`.
    let (_, &mut low, above) = keys.select_nth_unstable(whole);
    let low = of_key(low);
    if 2 * whole + 1 == m {
        // Only the middle value keeps any weight.
        return Ok(low);
    }
    let upper_index = m - 2 - 2 * whole;
    let (middle, &mut high, _) = above.select_nth_unstable(upper_index);
    let high = of_key(high);

    let divisor = S::of_f64(m as f64 - 2.0 * amount);
    let middle_sum: S = middle.iter().map(|&key| of_key(key)).sum();
    let sum = boundary_weight * low + boundary_weight * high + middle_sum;
    let finite_inputs = low.is_finite() && high.is_finite();
    if sum.is_finite() || !finite_inputs || middle.iter().any(|&key| !of_key(key).is_finite()) {
        return Ok(sum / divisor);
    }

    // The sum overflowed although every value is finite: divide before summing.
    let scaled_middle: S = middle.iter().map(|&key| of_key(key) / divisor).sum();
    Ok(boundary_weight * low / divisor + boundary_weight * high / divisor + scaled_middle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::select::{f64_key, f64_of_key};

    /// Returns the trimmed mean of `values` through their keys.
    fn trimmed_mean_of(values: &[f64], trim: Trim) -> Result<f64, Error> {
        let mut keys: Vec<i64> = values.iter().map(|&v| f64_key(v)).collect();
        trimmed_mean_of_keys(&mut keys, trim, f64_of_key)
    }

    #[test]
    fn trimmed_mean_huge_values_finite() {
        let values = [1e308_f64, 1.5e308, 1.2e308, 0.0, 1.7e308];
        let result = trimmed_mean_of(&values, Trim::Count(1)).unwrap();
        let expected = 1e308 / 3.0 + 1.2e308 / 3.0 + 1.5e308 / 3.0;
        assert!((result - expected).abs() <= 1e-15 * expected);
    }

    #[test]
    fn trimmed_mean_single_value() {
        assert_eq!(trimmed_mean_of(&[4.0], Trim::Fraction(0.4)), Ok(4.0));
    }

    #[test]
    fn trimmed_mean_keeps_signed_zero() {
        assert_eq!(
            trimmed_mean_of(&[0.0, -0.0, -0.0], Trim::Count(1)).map(f64::to_bits),
            Ok((-0.0_f64).to_bits())
        );
    }
}
