//! The coordinate-wise median, unweighted and weighted.

use std::cmp::Ordering;
use std::marker::PhantomData;

use median_linalg::{Backend, Scalar};

use super::columns::{self, KeyColumns, KeyedReduce, max_total, midpoint, total_cmp};
use super::select::{self, NETWORK_MAX_COUNT, NetworkScratch, SelectionNetwork};
use super::{check_batch_and_output, check_weight_count, validate_weights};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// The rule that picks the median when two values share the middle: the two middle order
/// statistics of an even count, or a weighted median whose cumulative weight reaches exactly
/// half the total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum EvenRule {
    /// The midpoint of the two middle values, computed without overflow (as `numpy.median`).
    #[default]
    Midpoint,
    /// The lower of the two middle values.
    Lower,
    /// The upper of the two middle values.
    Upper,
}

impl EvenRule {
    /// Combines the two middle values `lower <= upper` by the rule.
    fn combine<S: Scalar>(self, lower: S, upper: S) -> S {
        match self {
            EvenRule::Midpoint => midpoint(lower, upper),
            EvenRule::Lower => lower,
            EvenRule::Upper => upper,
        }
    }
}

/// The median of one column of keys, with the rule for an even count.
impl<S: Scalar> KeyedReduce<S> for EvenRule {
    fn reduce<K: Ord + Copy>(&self, keys: &mut [K], of_key: impl Fn(K) -> S) -> Result<S, Error> {
        let count = keys.len();
        let (below, &mut upper, _) = keys.select_nth_unstable(count / 2);
        if count % 2 == 1 {
            return Ok(of_key(upper));
        }
        let lower = *below.iter().max().expect("an even count has a lower half");
        Ok(self.combine(of_key(lower), of_key(upper)))
    }
}

/// Returns the median of a non-empty slice of non-NaN values, reordering the slice.
pub(crate) fn median_in_place<S: Scalar>(values: &mut [S], rule: EvenRule) -> S {
    let count = values.len();
    let (below, &mut upper, _) = values.select_nth_unstable_by(count / 2, total_cmp);
    if count % 2 == 1 {
        return upper;
    }
    rule.combine(max_total(below), upper)
}

/// The coordinate-wise median of a batch: in each coordinate, the middle order statistic.
///
/// # Definition
///
/// For `n` values in a coordinate sorted as `x_(1) <= ... <= x_(n)`, the median is
/// `x_((n+1)/2)` for odd `n`. For even `n`, the two middle values `x_(n/2)` and `x_(n/2+1)`
/// are combined by the [`EvenRule`]: their midpoint by default, or the lower or upper one.
/// The midpoint is `(a + b) / 2`, correctly rounded, or `a/2 + b/2` when `a + b` overflows,
/// so the midpoint of `1e308` and `1.5e308` is finite. The median minimises
/// `sum_i ||m - g_i||_1`.
///
/// # Properties
///
/// - Breakdown point 1/2 in every coordinate: fewer than half of the values replaced by
///   arbitrary ones keep each coordinate between the smallest and largest remaining values.
/// - Cost: for `n <= 512`, a selection network of `O(n log^2 n)` comparators run on
///   blocks of 16 (`f64`) or 32 (`f32`) coordinates at once with vector instructions,
///   the blocks copied into buffers held in the struct. For larger `n`, `O(n d)` expected:
///   one quickselect per coordinate on a transposed copy of the batch held in the struct
///   (`n d` integer keys that order like IEEE 754 `totalOrder`). Both run over parts of the coordinates in parallel with rayon, and
///   results do not depend on the number of threads.
/// - Infinities are ordinary ordered values.
///
/// # NaN policy
///
/// [`NanPolicy::Propagate`] (default) gives NaN in any coordinate holding a NaN;
/// [`NanPolicy::Skip`] drops NaNs and takes the median of the remaining values, with the
/// even-count rule applied to the count after removal; [`NanPolicy::Error`] rejects the
/// batch.
///
/// # Errors
///
/// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for an output of the wrong length,
/// [`Error::AllNan`] under `Skip` for a coordinate with no valid value, and
/// [`Error::NonFinite`] under `Error` for the first NaN.
///
/// # Examples
///
/// ```
/// use median_core::batch::{CoordinateMedian, EvenRule};
/// use median_core::NanPolicy;
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[f64::NAN, 0.0, 10.0, 0.0, 11.0, 0.0, 12.0, 0.0], 4, 2)?;
///
/// let mut median = CoordinateMedian::new();
/// let out = median.estimate::<B>(&batch)?;
/// assert!(out[0].is_nan());
/// assert_eq!(out[1], 0.0);
///
/// let mut median = CoordinateMedian::new().with_nan_policy(NanPolicy::Skip);
/// assert_eq!(median.estimate::<B>(&batch)?, vec![11.0, 0.0]);
///
/// let even = B::batch_from_rows(&[1.0, 2.0, 3.0, 10.0], 4, 1)?;
/// let mut lower = CoordinateMedian::new().with_even_rule(EvenRule::Lower);
/// assert_eq!(lower.estimate::<B>(&even)?, vec![2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CoordinateMedian<S> {
    even_rule: EvenRule,
    nan_policy: NanPolicy,
    keys: KeyColumns,
    network: SelectionNetwork,
    lanes: NetworkScratch,
    scalar: PhantomData<S>,
}

impl<S: Scalar> CoordinateMedian<S> {
    /// Creates the estimator with the midpoint rule and [`NanPolicy::Propagate`].
    pub fn new() -> Self {
        Self {
            even_rule: EvenRule::Midpoint,
            nan_policy: NanPolicy::Propagate,
            keys: KeyColumns::default(),
            network: SelectionNetwork::default(),
            lanes: NetworkScratch::default(),
            scalar: PhantomData,
        }
    }

    /// Sets the rule for an even count of values.
    #[must_use]
    pub fn with_even_rule(mut self, rule: EvenRule) -> Self {
        self.even_rule = rule;
        self
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn with_nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Returns the coordinate-wise median of the batch as a new vector.
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

    /// Writes the coordinate-wise median of the batch into `out`, reusing the struct's
    /// scratch space.
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

        let rule = self.even_rule;
        if n <= NETWORK_MAX_COUNT {
            let middle = n / 2;
            let pair = [middle.saturating_sub(1), middle];
            let positions = if n % 2 == 1 { &pair[1..] } else { &pair[..] };
            self.network.prepare(n, positions);
            return select::reduce_with_network::<B, _, _>(
                batch,
                out,
                self.nan_policy,
                &self.network,
                &mut self.lanes,
                |stats| match *stats {
                    [lower, upper] => rule.combine(lower, upper),
                    _ => stats[0],
                },
                |column| median_in_place(column, rule),
            );
        }

        columns::reduce_keyed_columns::<B, _>(batch, &mut self.keys, out, self.nan_policy, &rule)
    }
}

impl<B: Backend> Aggregator<B> for CoordinateMedian<B::Scalar> {
    fn name(&self) -> String {
        "coordinate-median".to_string()
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}

/// The weighted coordinate-wise median: in each coordinate, the value where the
/// cumulative weight of the sorted values crosses half the total weight.
///
/// # Definition
///
/// In each coordinate, the values with positive weight are sorted, `x_(1) <= ... <= x_(m)`
/// with weights `w_(k)`, total `W`. The weighted median is the first `x_(k)` whose
/// cumulative weight `c_k = w_(1) + ... + w_(k)` is at least `W / 2`. It minimises
/// `sum_i w_i |m - x_i|` per coordinate.
///
/// **Tie rule.** When `c_k` equals `W / 2` exactly (compared in floating point), every point
/// of `[x_(k), x_(k+1)]` is a minimiser, and the [`EvenRule`] chooses: the midpoint by
/// default, or `x_(k)` (lower) or `x_(k+1)` (upper). Equal weights therefore give the
/// unweighted median under the same rule. For the values `1..=5` with weights
/// `[10, 1, 1, 1, 9]` (total 22, cumulative weight 11 at the value 2), the midpoint rule
/// gives 2.5, the lower rule 2 and the upper rule 3.
///
/// Gradients with weight zero are ignored: they never pull the median.
///
/// # Properties
///
/// Breakdown point: half of the total weight. Cost `O(n log n)` per coordinate (a sort of
/// the (value, weight) pairs, held transposed in the struct's scratch, `2 n d` scalars), in
/// parallel over blocks of coordinates, deterministic.
///
/// # NaN policy
///
/// As [`CoordinateMedian`]: under [`NanPolicy::Skip`] NaN values are dropped with their
/// weights, and a coordinate with no remaining positive weight is [`Error::AllNan`].
///
/// # Errors
///
/// [`Error::InvalidWeights`] from [`new`](Self::new) for a negative or non-finite weight or
/// a zero sum; [`Error::DimensionMismatch`] when the weight count differs from the batch
/// count or the output has the wrong length; [`Error::EmptyBatch`]; the NaN errors of
/// [`CoordinateMedian`].
///
/// # Examples
///
/// ```
/// use median_core::batch::{EvenRule, WeightedCoordinateMedian};
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 4.0, 5.0], 5, 1)?;
///
/// let mut median = WeightedCoordinateMedian::new(&[10.0, 1.0, 1.0, 1.0, 10.0])?;
/// assert_eq!(median.estimate::<B>(&batch)?, vec![3.0]);
///
/// let mut median = WeightedCoordinateMedian::new(&[10.0, 1.0, 1.0, 1.0, 9.0])?;
/// assert_eq!(median.estimate::<B>(&batch)?, vec![2.5]);
/// let mut lower = median.clone().with_even_rule(EvenRule::Lower);
/// assert_eq!(lower.estimate::<B>(&batch)?, vec![2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct WeightedCoordinateMedian<S> {
    weights: Vec<S>,
    even_rule: EvenRule,
    nan_policy: NanPolicy,
    pairs: Vec<(S, S)>,
}

impl<S: Scalar> WeightedCoordinateMedian<S> {
    /// Creates the estimator with one weight per gradient, the midpoint tie rule and
    /// [`NanPolicy::Propagate`].
    ///
    /// # Errors
    ///
    /// [`Error::InvalidWeights`] if a weight is negative, NaN or infinite, if the weights
    /// sum to zero, or if the list is empty.
    pub fn new(weights: &[S]) -> Result<Self, Error> {
        Ok(Self {
            weights: validate_weights(weights)?,
            even_rule: EvenRule::Midpoint,
            nan_policy: NanPolicy::Propagate,
            pairs: Vec::new(),
        })
    }

    /// Sets the rule for a cumulative weight of exactly half the total.
    #[must_use]
    pub fn with_even_rule(mut self, rule: EvenRule) -> Self {
        self.even_rule = rule;
        self
    }

    /// Sets the NaN policy.
    #[must_use]
    pub fn with_nan_policy(mut self, policy: NanPolicy) -> Self {
        self.nan_policy = policy;
        self
    }

    /// Returns the weighted coordinate-wise median as a new vector.
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

    /// Writes the weighted coordinate-wise median into `out`, reusing the struct's scratch.
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
        check_weight_count(self.weights.len(), n)?;
        if self.nan_policy == NanPolicy::Error
            && let Some(error) = columns::first_nan::<B>(batch)
        {
            return Err(error);
        }

        let weights = &self.weights;
        let zero = (S::zero(), S::zero());
        columns::transpose_into::<B, (S, S), _>(batch, &mut self.pairs, zero, |i, v| {
            (v, weights[i])
        });
        let rule = self.even_rule;
        columns::reduce_columns(
            &mut self.pairs,
            n,
            out,
            self.nan_policy,
            |pair: &(S, S)| pair.0.is_nan(),
            |coordinate, column| weighted_median_in_place(column, rule, coordinate),
        )
    }
}

impl<B: Backend> Aggregator<B> for WeightedCoordinateMedian<B::Scalar> {
    fn name(&self) -> String {
        "weighted-coordinate-median".to_string()
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}

/// Returns the weighted median of non-NaN (value, weight) pairs, reordering the slice.
fn weighted_median_in_place<S: Scalar>(
    pairs: &mut [(S, S)],
    rule: EvenRule,
    coordinate: usize,
) -> Result<S, Error> {
    // Zero weights take no part: move the positive ones to the front.
    let mut positive = 0;
    for i in 0..pairs.len() {
        if pairs[i].1 > S::zero() {
            pairs.swap(positive, i);
            positive += 1;
        }
    }
    if positive == 0 {
        return Err(Error::AllNan { coordinate });
    }
    let pairs = &mut pairs[..positive];
    pairs.sort_unstable_by(|a, b| total_cmp(&a.0, &b.0).then(total_cmp(&a.1, &b.1)));

    // The total is summed in the same order as the running sum, so the last running sum
    // equals it exactly and the search always stops.
    let total: S = pairs.iter().map(|p| p.1).sum();
    let half = total / S::of_f64(2.0);
    let mut cumulative = S::zero();
    for k in 0..pairs.len() {
        cumulative = cumulative + pairs[k].1;
        match cumulative.partial_cmp(&half) {
            Some(Ordering::Equal) if k + 1 < pairs.len() => {
                return Ok(rule.combine(pairs[k].0, pairs[k + 1].0));
            }
            Some(Ordering::Less) => {}
            _ => return Ok(pairs[k].0),
        }
    }
    Ok(pairs[pairs.len() - 1].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_in_place_odd_and_even() {
        assert_eq!(
            median_in_place(&mut [3.0_f64, 1.0, 2.0], EvenRule::Midpoint),
            2.0
        );
        assert_eq!(
            median_in_place(&mut [4.0_f64, 1.0, 2.0, 3.0], EvenRule::Midpoint),
            2.5
        );
        assert_eq!(
            median_in_place(&mut [4.0_f64, 1.0, 2.0, 3.0], EvenRule::Lower),
            2.0
        );
        assert_eq!(
            median_in_place(&mut [4.0_f64, 1.0, 2.0, 3.0], EvenRule::Upper),
            3.0
        );
        assert_eq!(
            median_in_place(&mut [1.5e308_f64, 1e308], EvenRule::Midpoint),
            1.25e308
        );
    }

    #[test]
    fn weighted_median_ignores_zero_weight() {
        let mut pairs = [(0.0_f64, 0.0), (4.0, 1.0), (0.0, 2.0)];
        assert_eq!(
            weighted_median_in_place(&mut pairs, EvenRule::Midpoint, 0),
            Ok(0.0)
        );
        let mut pairs = [(100.0_f64, 0.0), (1.0, 1.0), (3.0, 1.0)];
        assert_eq!(
            weighted_median_in_place(&mut pairs, EvenRule::Midpoint, 0),
            Ok(2.0)
        );
    }
}
