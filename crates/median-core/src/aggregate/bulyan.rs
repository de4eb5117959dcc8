//! Bulyan: Krum selection repeated, then a coordinate-wise mean around the median.

use median_linalg::{Backend, Scalar};
use num_traits::Zero;

use super::Aggregator;
use super::krum::select_by_score;
use super::pairwise::{
    check_admissible, check_batch, check_finite, pairwise_squared_distances, total_cmp,
};
use crate::Error;

/// Bulyan: Krum applied `theta = n - 2f` times, then a trimmed mean in each coordinate.
///
/// 1. **Selection.** Starting from all `n` inputs, Krum picks the input with the smallest
///    score among those remaining and removes it from the pool, `theta = n - 2f` times. The
///    score on a pool of `r` inputs sums the squared distances to the
///    `max(1, r - f - 2)` nearest neighbours in the pool, at most `r - 1` of them. Ties are
///    broken as for [`Krum`](super::Krum), and distances are computed once.
/// 2. **Aggregation.** In each coordinate, the output is the mean of the
///    `beta = theta - 2f` selected values closest to the median of the `theta` selected
///    values (the midpoint of the two middle values when `theta` is even). These values form
///    a contiguous run of the sorted values, and among runs at equal distance the lowest
///    wins.
///
/// - **Admissible counts:** `n >= 4f + 3`, so that `beta >= 3`.
/// - **Breakdown point:** `f` arbitrary inputs with `n >= 4f + 3`, just under 1/4.
/// - **Cost:** one pass of pairwise squared distances, `O(n^2 d)`, then `O(theta n^2 log n)` for the selection
///   and `O(d theta log theta)` for the coordinate step.
/// - **Non-finite inputs:** as Krum: inputs holding NaN or an infinity, or overflowing ones,
///   are infinitely far and are not selected while at most `f` of them are present. A
///   selected non-finite input is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::Bulyan;
/// use median_core::batch::aggregate_gradients;
///
/// // Six honest inputs and one outlier: n = 7 = 4f + 3 for f = 1.
/// let gradients: [&[f64]; 7] = [
///     &[0.0, 1.0], &[0.1, 1.0], &[0.2, 1.0], &[0.3, 1.0], &[0.4, 1.0], &[0.5, 1.0], &[1e6, -1e6],
/// ];
/// let out = aggregate_gradients(&mut Bulyan::new(1), &gradients)?;
/// assert!(out[0] < 1.0 && (out[1] - 1.0).abs() < 1e-12);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// E. M. El Mhamdi, R. Guerraoui, S. Rouault, "The Hidden Vulnerability of Distributed
/// Learning in Byzantium", ICML 2018.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bulyan {
    f: usize,
}

impl Bulyan {
    /// Creates Bulyan tolerating `f` Byzantine inputs.
    pub fn new(f: usize) -> Self {
        Self { f }
    }
}

impl<B: Backend> Aggregator<B> for Bulyan {
    fn name(&self) -> String {
        "bulyan".to_string()
    }

    /// Writes the Bulyan aggregate into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length,
    /// [`Error::InadmissibleByzantineCount`] unless `n >= 4f + 3`, and
    /// [`Error::NonFinite`] if a selected input is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, d) = check_batch::<B>(batch, out.len())?;
        let f = self.f;
        check_admissible("Bulyan", "n >= 4f + 3", n, f, n >= 4 * f + 3)?;
        let theta = n - 2 * f;
        let beta = theta - 2 * f;

        // Selection: Krum on the shrinking pool, theta times.
        let distances = pairwise_squared_distances::<B>(batch)?;
        let mut pool: Vec<usize> = (0..n).collect();
        let mut selected = Vec::with_capacity(theta);
        for _ in 0..theta {
            let neighbours = pool.len().saturating_sub(f + 2).max(1);
            let gradient = |i| B::batch_gradient(batch, i);
            let best = select_by_score(&distances, gradient, &pool, neighbours, 1)[0];
            pool.retain(|&i| i != best);
            selected.push(best);
        }
        for &i in &selected {
            check_finite(i, B::batch_gradient(batch, i))?;
        }

        // Aggregation: per coordinate, the mean of the beta values closest to the median.
        let mut column = vec![B::Scalar::zero(); theta];
        for k in 0..d {
            for (slot, &i) in column.iter_mut().zip(&selected) {
                *slot = B::batch_gradient(batch, i)[k];
            }
            out[k] = mean_around_median(&mut column, beta);
        }
        Ok(())
    }
}

/// Returns the mean of the `beta` values closest to the median of `values` (all finite).
///
/// Sorts `values` in place. The `beta` closest values form the contiguous run of the sorted
/// values whose farther end is nearest to the median.
fn mean_around_median<S: Scalar>(values: &mut [S], beta: usize) -> S {
    values.sort_unstable_by(|a, b| total_cmp(*a, *b));
    let len = values.len();
    let two = S::one() + S::one();
    let median = if len % 2 == 1 {
        values[len / 2]
    } else {
        values[len / 2 - 1] / two + values[len / 2] / two
    };

    let mut best_start = 0;
    let mut best_reach = S::infinity();
    for start in 0..=len - beta {
        let reach = (median - values[start]).max(values[start + beta - 1] - median);
        if reach < best_reach {
            best_reach = reach;
            best_start = start;
        }
    }

    let count = S::of_usize(beta);
    values[best_start..best_start + beta]
        .iter()
        .fold(S::zero(), |acc, &v| acc + v / count)
}
