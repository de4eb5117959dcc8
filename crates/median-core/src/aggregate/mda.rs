//! Minimum-diameter averaging and the medoid: rules that search the inputs exactly.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use super::Aggregator;
use super::pairwise::{
    PairwiseDistances, Score, check_admissible, check_batch, mean_of, pairwise_squared_distances,
    total_cmp,
};
use crate::Error;

/// The default limit on the number of subsets [`MinimumDiameterAveraging`] may search.
pub const DEFAULT_SUBSET_LIMIT: u64 = 1_000_000;

/// Minimum-diameter averaging (MDA): the mean of the `n - f` inputs with the smallest
/// diameter.
///
/// The diameter of a subset is its largest pairwise distance. The search is exact: a
/// depth-first enumeration of the `C(n, f)` subsets of size `n - f` in lexicographic order,
/// which abandons a partial subset as soon as it cannot beat the best found so far. Among
/// subsets of equal diameter, the one with the smallest sum of squared pairwise distances
/// wins, so that the result does not depend on the order of distinct inputs. Equal
/// diameters are common, because a single pair sets the diameter. Remaining ties go to the
/// lexicographically first subset of indices.
///
/// - **Admissible counts:** `n > 2f`.
/// - **Breakdown point:** `f` arbitrary inputs with `n > 2f`, just under 1/2.
/// - **Cost:** one pass of pairwise squared distances, `O(n^2 d)`, then up to `C(n, f) (n - f)^2` comparisons, so
///   the rule refuses to start when `C(n, f)` exceeds the subset limit
///   ([`DEFAULT_SUBSET_LIMIT`] unless set), rather than run for hours.
/// - **Non-finite inputs:** inputs holding NaN or an infinity, or overflowing ones, are
///   infinitely far from the others, so with at most `f` of them the chosen subset excludes
///   them. A chosen non-finite input is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::MinimumDiameterAveraging;
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 4] = [&[0.0], &[1.0], &[2.0], &[50.0]];
/// let out = aggregate_gradients(&mut MinimumDiameterAveraging::new(1), &gradients)?;
/// assert_eq!(out, vec![1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// MDA is used as a Byzantine-robust rule by E. M. El Mhamdi, R. Guerraoui and S. Rouault
/// (2018 onwards). Its subset search follows the minimum volume ellipsoid estimator of
/// P. J. Rousseeuw, "Multivariate estimation with high breakdown point", 1985.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinimumDiameterAveraging {
    f: usize,
    subset_limit: u64,
}

impl MinimumDiameterAveraging {
    /// Creates MDA tolerating `f` Byzantine inputs, with the default subset limit.
    pub fn new(f: usize) -> Self {
        Self {
            f,
            subset_limit: DEFAULT_SUBSET_LIMIT,
        }
    }

    /// Sets the largest number of subsets `C(n, f)` the search may visit.
    #[must_use]
    pub fn with_subset_limit(mut self, limit: u64) -> Self {
        self.subset_limit = limit;
        self
    }
}

impl<B: Backend> Aggregator<B> for MinimumDiameterAveraging {
    fn name(&self) -> String {
        "mda".to_string()
    }

    /// Writes the mean of the minimum-diameter subset into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length,
    /// [`Error::InadmissibleByzantineCount`] unless `n > 2f`,
    /// [`Error::SubsetLimitExceeded`] if `C(n, f)` exceeds the subset limit, and
    /// [`Error::NonFinite`] if a chosen input is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, _) = check_batch::<B>(batch, out.len())?;
        let f = self.f;
        check_admissible("MDA", "n > 2f", n, f, n > 2 * f)?;
        if binomial_exceeds(n, f, self.subset_limit) {
            return Err(Error::SubsetLimitExceeded {
                rule: "MDA",
                n,
                f,
                limit: self.subset_limit,
            });
        }

        let distances = pairwise_squared_distances::<B>(batch)?;
        let mut search = DiameterSearch {
            distances: &distances,
            size: n - f,
            current: Vec::with_capacity(n - f),
            best: (0..n - f).collect(),
            best_key: None,
        };
        search.extend(0, B::Scalar::zero(), Score::zero());
        mean_of::<B>(batch, &search.best, out)
    }
}

/// Returns whether `C(n, k)` is larger than `limit`, without overflow.
///
/// The running product `C(n, j)` for `j = 1..=min(k, n - k)` is exact in `u128` and
/// increasing, so the loop stops as soon as it passes the limit.
pub(crate) fn binomial_exceeds(n: usize, k: usize, limit: u64) -> bool {
    if k > n {
        return false;
    }
    let k = k.min(n - k);
    let mut value: u128 = 1;
    for j in 0..k {
        // C(n, j + 1) = C(n, j) (n - j) / (j + 1), exact at every step. The value stays
        // below limit * n <= 2^64 * 2^64 before the division, so u128 does not overflow.
        value = value * (n - j) as u128 / (j + 1) as u128;
        if value > u128::from(limit) {
            return true;
        }
    }
    value > u128::from(limit)
}

/// The state of the depth-first search for the minimum-diameter subset.
struct DiameterSearch<'a, S> {
    distances: &'a PairwiseDistances<S>,
    size: usize,
    current: Vec<usize>,
    best: Vec<usize>,
    best_key: Option<(S, Score<S>)>,
}

impl<S: Scalar> DiameterSearch<'_, S> {
    /// Extends `current`, of squared diameter `diameter` and sum of squared pairwise
    /// distances `spread`, with inputs from `next` on.
    fn extend(&mut self, next: usize, diameter: S, spread: Score<S>) {
        if self.current.len() == self.size {
            // Strictly better only, so that the lexicographically first subset wins ties.
            if !self.reaches_best(diameter, &spread) {
                self.best.clone_from(&self.current);
                self.best_key = Some((diameter, spread));
            }
            return;
        }
        let remaining = self.size - self.current.len();
        for candidate in next..=self.distances.n - remaining {
            let mut widened = diameter;
            let mut spread_with = spread;
            for &member in &self.current {
                let squared = self.distances.get(member, candidate);
                widened = widened.max(squared);
                spread_with.add(squared);
            }
            // Both parts of the key only grow as members are added, so a partial subset that
            // already reaches the best key cannot beat it.
            if self.reaches_best(widened, &spread_with) {
                continue;
            }
            self.current.push(candidate);
            self.extend(candidate + 1, widened, spread_with);
            self.current.pop();
        }
    }

    /// Returns whether `(diameter, spread)` is at least the best key found so far.
    fn reaches_best(&self, diameter: S, spread: &Score<S>) -> bool {
        match &self.best_key {
            None => false,
            Some((best_diameter, best_spread)) => total_cmp(diameter, *best_diameter)
                .then_with(|| spread.cmp(best_spread))
                .is_ge(),
        }
    }
}

/// The medoid: the input with the smallest sum of distances to the other inputs.
///
/// Distances are Euclidean (not squared). Ties go to the lowest index. The medoid is the
/// geometric median restricted to the inputs.
///
/// - **Breakdown point:** just under 1/2: with fewer than `n/2` arbitrary inputs, an honest
///   input has a smaller sum than any far outlier. There is no `f` parameter.
/// - **Cost:** one pass of pairwise squared distances, `O(n^2 d)`, then `O(n^2)`.
/// - **Non-finite inputs:** inputs holding NaN or an infinity, or overflowing ones, are
///   infinitely far. Sums compare first by their number of infinite terms, so while fewer
///   than half of the inputs are non-finite a finite input is returned. A non-finite medoid
///   (for example when every input is non-finite) is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::Medoid;
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 3] = [&[0.0, 0.0], &[1.0, 0.0], &[9.0, 9.0]];
/// assert_eq!(aggregate_gradients(&mut Medoid::new(), &gradients)?, vec![1.0, 0.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// L. Kaufman, P. J. Rousseeuw, "Clustering by means of medoids", 1987; as a Byzantine-robust
/// rule, see El Mhamdi, Guerraoui, Rouault, ICML 2018.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Medoid;

impl Medoid {
    /// Creates the medoid rule.
    pub fn new() -> Self {
        Self
    }
}

impl<B: Backend> Aggregator<B> for Medoid {
    fn name(&self) -> String {
        "medoid".to_string()
    }

    /// Writes the medoid into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length, and
    /// [`Error::NonFinite`] if the medoid is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, _) = check_batch::<B>(batch, out.len())?;
        let distances = pairwise_squared_distances::<B>(batch)?;

        let mut best = 0;
        let mut best_score = Score::zero();
        for i in 0..n {
            let mut score = Score::zero();
            for j in 0..n {
                if j != i {
                    score.add(distances.get(i, j).sqrt());
                }
            }
            if i == 0 || score.cmp(&best_score).is_lt() {
                best = i;
                best_score = score;
            }
        }
        mean_of::<B>(batch, &[best], out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_limit_boundaries() {
        // C(15, 7) = 6435 and C(60, 30) = 118264581564861424.
        assert!(!binomial_exceeds(15, 7, 6435));
        assert!(binomial_exceeds(15, 7, 6434));
        assert!(binomial_exceeds(60, 30, 118_264_581_564_861_423));
        assert!(!binomial_exceeds(60, 30, 118_264_581_564_861_424));
        assert!(binomial_exceeds(100_000, 50_000, u64::MAX));
        assert!(!binomial_exceeds(5, 0, 1));
    }
}
