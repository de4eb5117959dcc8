//! Krum and Multi-Krum: select the inputs whose nearest neighbours are closest.

use median_linalg::{Backend, Scalar};

use super::Aggregator;
use super::pairwise::{
    PairwiseDistances, Score, check_admissible, check_batch, mean_of, pairwise_squared_distances,
};
use crate::Error;

/// The condition on `(n, f)` shared by Krum and Multi-Krum.
const KRUM_CONDITION: &str = "n > 2f + 2";

/// Krum: returns the input with the smallest Krum score.
///
/// The score of input `i` is the sum of its squared distances to its `n - f - 2` nearest
/// neighbours (itself excluded). Krum returns the input with the smallest score. At `f = 0`
/// and `n = 3` the score uses one neighbour.
///
/// - **Ties:** equal scores go to the input that is smaller coordinate by coordinate (the
///   first differing coordinate decides, in the IEEE 754 total order), and exact duplicates
///   to the lowest index. The result therefore does not depend on the order of the inputs.
///   Ties are common with one neighbour, because two mutual nearest neighbours score alike.
///
/// - **Admissible counts:** `n > 2f + 2`, so that at least one neighbour is counted.
/// - **Breakdown point:** `f` arbitrary inputs among `n > 2f + 2`, that is, just under 1/2.
/// - **Cost:** one pass of pairwise distances, `O(n^2 d)`, then `O(n^2 log n)` for the
///   scores.
/// - **Distances:** from [`Backend::batch_squared_distances`], which sums squared
///   differences directly, so nearly equal points far from the origin keep their digits.
/// - **Non-finite inputs:** an input holding NaN or an infinity, or one whose squared
///   distance to more than half of the other finite inputs overflows (differences beyond
///   about 1.3e154 in `f64`, 1.8e19 in `f32`), is infinitely far from every other input.
///   When distances among the remaining inputs overflow or underflow, the finite inputs are
///   scaled by a power of two and measured again, which keeps every comparison exact.
///   Scores compare first by their number of infinite terms, so with at most `f` such inputs
///   the selected input is finite. If the selected input is non-finite anyway (more than `f`
///   of them), the result is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::Krum;
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 5] = [&[0.0, 0.0], &[0.1, 0.0], &[0.0, 0.1], &[0.1, 0.1], &[100.0, 100.0]];
/// let out = aggregate_gradients(&mut Krum::new(1), &gradients)?;
/// assert!(out[0] < 1.0 && out[1] < 1.0);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// P. Blanchard, E. M. El Mhamdi, R. Guerraoui, J. Stainer, "Machine Learning with
/// Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Krum {
    f: usize,
}

impl Krum {
    /// Creates Krum tolerating `f` Byzantine inputs.
    pub fn new(f: usize) -> Self {
        Self { f }
    }

    /// Returns the number of Byzantine inputs tolerated.
    pub fn byzantine_count(&self) -> usize {
        self.f
    }
}

impl<B: Backend> Aggregator<B> for Krum {
    fn name(&self) -> String {
        "krum".to_string()
    }

    /// Writes the input with the smallest Krum score into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length,
    /// [`Error::InadmissibleByzantineCount`] unless `n > 2f + 2`, and [`Error::NonFinite`]
    /// if the selected input is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, _) = check_batch::<B>(batch, out.len())?;
        check_admissible("Krum", KRUM_CONDITION, n, self.f, n > 2 * self.f + 2)?;

        let distances = pairwise_squared_distances::<B>(batch)?;
        let members: Vec<usize> = (0..n).collect();
        let gradient = |i| B::batch_gradient(batch, i);
        let best = select_by_score(&distances, gradient, &members, n - self.f - 2, 1);
        mean_of::<B>(batch, &best, out)
    }
}

/// Multi-Krum: the mean of the `m` inputs with the smallest Krum scores.
///
/// Scores are those of [`Krum`]: the sum of squared distances to the `n - f - 2` nearest
/// neighbours. The `m` inputs with the smallest scores (ties broken as for Krum) are
/// averaged. The default is `m = n - f`; `m = 1` is Krum.
///
/// - **Admissible counts:** `n > 2f + 2`, except for `m = n`. Selecting every input needs no
///   score, so `m = n` returns the plain mean for any `f`, without the condition.
/// - **Breakdown point:** as Krum, for `m <= n - f`; with `m > n - f` a Byzantine input is
///   always selected, and the output is unbounded.
/// - **Cost:** one pass of pairwise squared distances, `O(n^2 d)`, then `O(n^2 log n + m d)`.
/// - **Non-finite inputs:** as Krum. A selected non-finite input, which needs more than `f`
///   of them or `m > n - f`, is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::MultiKrum;
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 3] = [&[1.0, 0.0], &[0.0, 1.0], &[10.0, 10.0]];
/// let out = aggregate_gradients(&mut MultiKrum::new(0).with_selection(3), &gradients)?;
/// assert!((out[0] - 11.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// P. Blanchard, E. M. El Mhamdi, R. Guerraoui, J. Stainer, "Machine Learning with
/// Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultiKrum {
    f: usize,
    selection: Option<usize>,
}

impl MultiKrum {
    /// Creates Multi-Krum tolerating `f` Byzantine inputs, averaging `n - f` inputs.
    pub fn new(f: usize) -> Self {
        Self { f, selection: None }
    }

    /// Sets the number `m` of inputs averaged; it must lie in `1..=n` at aggregation time.
    #[must_use]
    pub fn with_selection(mut self, m: usize) -> Self {
        self.selection = Some(m);
        self
    }

    /// Returns the number of Byzantine inputs tolerated.
    pub fn byzantine_count(&self) -> usize {
        self.f
    }
}

impl<B: Backend> Aggregator<B> for MultiKrum {
    fn name(&self) -> String {
        "multi-krum".to_string()
    }

    /// Writes the mean of the `m` best-scored inputs into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length,
    /// [`Error::InvalidParameter`] if `m` is 0 or larger than `n`,
    /// [`Error::InadmissibleByzantineCount`] unless `n > 2f + 2` or `m = n`, and
    /// [`Error::NonFinite`] if a selected input is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, _) = check_batch::<B>(batch, out.len())?;
        let m = self.selection.unwrap_or(n.saturating_sub(self.f));
        if m == 0 || m > n {
            return Err(Error::InvalidParameter {
                name: "m",
                value: m as f64,
                expected: "the number of selected inputs must lie in 1..=n",
            });
        }
        if m == n {
            let all: Vec<usize> = (0..n).collect();
            return mean_of::<B>(batch, &all, out);
        }
        check_admissible("Multi-Krum", KRUM_CONDITION, n, self.f, n > 2 * self.f + 2)?;

        let distances = pairwise_squared_distances::<B>(batch)?;
        let members: Vec<usize> = (0..n).collect();
        let gradient = |i| B::batch_gradient(batch, i);
        let selected = select_by_score(&distances, gradient, &members, n - self.f - 2, m);
        mean_of::<B>(batch, &selected, out)
    }
}

/// Returns the `m` members with the smallest Krum scores, in increasing order of score.
///
/// The score of a member is the sum of its `neighbours` smallest squared distances to the
/// other members, with `neighbours` capped at `members.len() - 1`. Equal scores are ordered
/// by [`lexicographic_cmp`] of the gradients (`gradient(i)` returns gradient `i`), then by
/// index.
pub(crate) fn select_by_score<'a, S: Scalar>(
    distances: &PairwiseDistances<S>,
    gradient: impl Fn(usize) -> &'a [S],
    members: &[usize],
    neighbours: usize,
    m: usize,
) -> Vec<usize> {
    let neighbours = neighbours.min(members.len().saturating_sub(1));
    let mut row = Vec::with_capacity(members.len());
    let mut scored: Vec<(Score<S>, usize)> = members
        .iter()
        .map(|&i| {
            row.clear();
            row.extend(
                members
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| distances.get(i, j)),
            );
            row.sort_unstable_by(|a, b| super::pairwise::total_cmp(*a, *b));
            let mut score = Score::zero();
            for &value in &row[..neighbours] {
                score.add(value);
            }
            (score, i)
        })
        .collect();
    scored.sort_by(|(a, i), (b, j)| {
        a.cmp(b)
            .then_with(|| lexicographic_cmp(gradient(*i), gradient(*j)))
            .then(i.cmp(j))
    });
    scored.into_iter().take(m).map(|(_, i)| i).collect()
}

/// Compares two gradients coordinate by coordinate in the IEEE 754 total order.
///
/// Krum-type rules break score ties with it, so that the selection does not depend on the
/// order of distinct inputs. Ties are not rare: with one neighbour, two mutual nearest
/// neighbours always have equal scores.
pub(crate) fn lexicographic_cmp<S: Scalar>(a: &[S], b: &[S]) -> std::cmp::Ordering {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| super::pairwise::total_cmp(x, y))
        .find(|ordering| ordering.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}
