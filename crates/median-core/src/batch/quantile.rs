//! The coordinate-wise q-quantile with linear interpolation.

use std::marker::PhantomData;

use median_linalg::{Backend, Scalar};

use super::check_batch_and_output;
use super::columns::{self, KeyColumns, KeyedReduce, lerp, min_total, total_cmp};
use super::select::{self, NETWORK_MAX_COUNT, NetworkScratch, SelectionNetwork};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// Returns the `q`-quantile of a non-empty slice of non-NaN values with linear
/// interpolation, reordering the slice.
pub(crate) fn quantile_in_place<S: Scalar>(values: &mut [S], q: f64) -> S {
    let (index, fraction) = quantile_position(values.len(), q);
    let (_, &mut low, above) = values.select_nth_unstable_by(index, total_cmp);
    if fraction == 0.0 || above.is_empty() {
        return low;
    }
    lerp(low, min_total(above), S::of_f64(fraction))
}

/// The `q`-quantile of one column of keys, with linear interpolation.
struct QuantileOfKeys(f64);

impl<S: Scalar> KeyedReduce<S> for QuantileOfKeys {
    fn reduce<K: Ord + Copy>(&self, keys: &mut [K], of_key: impl Fn(K) -> S) -> Result<S, Error> {
        let (index, fraction) = quantile_position(keys.len(), self.0);
        let (_, &mut low, above) = keys.select_nth_unstable(index);
        let low = of_key(low);
        match above.iter().min() {
            Some(&high) if fraction != 0.0 => Ok(lerp(low, of_key(high), S::of_f64(fraction))),
            _ => Ok(low),
        }
    }
}

/// Returns `(k, t)` for the `q`-quantile of `count` values: the 0-based order statistic
/// `k = floor(q (count - 1))` and the interpolation weight `t = q (count - 1) - k`.
fn quantile_position(count: usize, q: f64) -> (usize, f64) {
    let position = q * (count - 1) as f64;
    let below = position.floor();
    (below as usize, position - below)
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
/// Breakdown point `min(q, 1 - q)` per coordinate. Cost as for
/// [`CoordinateMedian`](super::CoordinateMedian): a vectorised selection network for up to
/// 512 gradients, quickselect on a transposed copy of integer keys held in the struct
/// (`O(n d)` expected) beyond, in parallel over parts of the coordinates, deterministic. Infinities are
/// ordinary ordered values.
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
    keys: KeyColumns,
    network: SelectionNetwork,
    lanes: NetworkScratch,
    scalar: PhantomData<S>,
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
            keys: KeyColumns::default(),
            network: SelectionNetwork::default(),
            lanes: NetworkScratch::default(),
            scalar: PhantomData,
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

        let q = self.q;
        if n <= NETWORK_MAX_COUNT {
            // The statistics at `k` and `k + 1`, or at `k` alone when no interpolation is
            // needed, as in `quantile_in_place`.
            let (index, fraction) = quantile_position(n, q);
            let pair = [index, index + 1];
            let positions = if fraction == 0.0 || index + 1 == n {
                &pair[..1]
            } else {
                &pair[..]
            };
            let weight = S::of_f64(fraction);
            self.network.prepare(n, positions);
            return select::reduce_with_network::<B, _, _>(
                batch,
                out,
                self.nan_policy,
                &self.network,
                &mut self.lanes,
                |stats| match *stats {
                    [low, high] => lerp(low, high, weight),
                    _ => stats[0],
                },
                |column| quantile_in_place(column, q),
            );
        }

        let quantile = QuantileOfKeys(q);
        columns::reduce_keyed_columns::<B, _>(
            batch,
            &mut self.keys,
            out,
            self.nan_policy,
            &quantile,
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
