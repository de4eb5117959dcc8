//! The coordinate-wise q-quantile with linear interpolation.

use median_linalg::{Backend, Scalar};

use super::check_batch_and_output;
use super::columns::{self, lerp, min_total, total_cmp};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// Returns the `q`-quantile of a non-empty slice of non-NaN values with linear
/// interpolation, reordering the slice.
pub(crate) fn quantile_in_place<S: Scalar>(values: &mut [S], q: f64) -> S {
    let position = q * (values.len() - 1) as f64;
    let below = position.floor();
    let fraction = position - below;
    let index = below as usize;

    let (_, &mut low, above) = values.select_nth_unstable_by(index, total_cmp);
    if fraction == 0.0 || above.is_empty() {
        return low;
    }
    lerp(low, min_total(above), S::of_f64(fraction))
}

/// The coordinate-wise `q`-quantile of a batch, with linear interpolation between order
/// statistics.
///
/// # Definition
///
/// For `n` values sorted as `x_0 <= ... <= x_(n-1)` (0-based), let `h = q (n - 1)`,
/// `k = floor(h)` and `t = h - k`. The quantile is `x_k + t (x_(k+1) - x_k)`: the default
/// ("linear", type 7 of Hyndman and Fan) rule of `numpy.quantile` and R. The interpolation
/// is computed without overflow. `q = 1/2` gives the median with the midpoint rule; `q = 0`
/// and `q = 1` give the minimum and maximum. The population version minimises the pinball
/// loss `sum_i rho_q(x_i - m)`, `rho_q(u) = u (q - 1{u < 0})`.
///
/// # Properties
///
/// Breakdown point `min(q, 1 - q)` per coordinate. Cost `O(n d)` expected (quickselect on a
/// transposed copy held in the struct, in parallel over blocks of coordinates,
/// deterministic). Infinities are ordinary ordered values.
///
/// # NaN policy
///
/// As [`CoordinateMedian`](super::CoordinateMedian): `Propagate` gives NaN in a coordinate
/// holding NaN, `Skip` takes the quantile of the remaining values (with `n` counted after
/// removal), `Error` rejects the batch.
///
/// # Errors
///
/// [`Error::InvalidParameter`] from [`new`](Self::new) unless `0 <= q <= 1`;
/// [`Error::EmptyBatch`]; [`Error::DimensionMismatch`] for an output of the wrong length;
/// [`Error::AllNan`] and [`Error::NonFinite`] by the NaN policy.
///
/// # Examples
///
/// ```
/// use median_core::batch::CoordinateQuantile;
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 4.0, 5.0], 5, 1)?;
/// let mut quartile = CoordinateQuantile::new(0.3)?;
/// // h = 0.3 * 4 = 1.2, between 2 and 3.
/// assert!((quartile.estimate::<B>(&batch)?[0] - 2.2).abs() < 1e-15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
///
/// R. J. Hyndman, Y. Fan, "Sample quantiles in statistical packages", The American
/// Statistician 50(4), 1996.
#[derive(Debug, Clone)]
pub struct CoordinateQuantile<S> {
    q: f64,
    nan_policy: NanPolicy,
    columns: Vec<S>,
}

impl<S: Scalar> CoordinateQuantile<S> {
    /// Creates the estimator of the `q`-quantile with [`NanPolicy::Propagate`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `0 <= q <= 1`.
    pub fn new(q: f64) -> Result<Self, Error> {
        if !(0.0..=1.0).contains(&q) {
            return Err(Error::InvalidParameter {
                name: "q",
                value: q,
                expected: "must be in [0, 1]",
            });
        }
        Ok(Self {
            q,
            nan_policy: NanPolicy::Propagate,
            columns: Vec::new(),
        })
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn with_nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Returns the coordinate-wise quantile as a new vector.
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

    /// Writes the coordinate-wise quantile into `out`, reusing the struct's scratch.
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
        if self.nan_policy == NanPolicy::Error
            && let Some(error) = columns::first_nan::<B>(batch)
        {
            return Err(error);
        }

        columns::transpose_into::<B, S, _>(batch, &mut self.columns, S::zero(), |_, v| v);
        let q = self.q;
        columns::reduce_columns(
            &mut self.columns,
            n,
            out,
            self.nan_policy,
            |v: &S| v.is_nan(),
            |_, column| Ok(quantile_in_place(column, q)),
        )
    }
}

impl<B: Backend> Aggregator<B> for CoordinateQuantile<B::Scalar> {
    fn name(&self) -> String {
        format!("coordinate-quantile-{}", self.q)
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}
