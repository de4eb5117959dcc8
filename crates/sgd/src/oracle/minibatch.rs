//! Mini-batch gradients: the mean of per-sample gradients over sampled indices.

use median_linalg::{Scalar, kernels};
use rand::{Rng, RngExt};

use super::GradientOracle;
use crate::SgdError;
use crate::error::{check_count, check_len};
use crate::problem::Problem;

/// The sampling scheme of a [`MiniBatch`]'s indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sampling {
    /// Each index uniform on `0..n`, independently, so repeats are possible.
    WithReplacement,
    /// Distinct indices, uniform over subsets.
    WithoutReplacement,
}

/// The oracle `g = (1/b) sum_{i in I} grad f_i(x)` over a random index set `I` of size `b`.
///
/// For [`Sampling::WithoutReplacement`], [`draw_rows`](GradientOracle::draw_rows) draws the
/// indices of all rows jointly, so that no sample appears twice in the whole call as long as
/// `count * b <= n`. With `b = 1` the rows are then the per-sample gradients of `count`
/// distinct samples, the input of a median across samples. When `count * b > n`, each row
/// samples its own indices without replacement.
///
/// # Examples
///
/// ```
/// use median_sgd::{Dataset, GradientOracle, LeastSquares, MiniBatch, Sampling};
///
/// let data = Dataset::new(vec![1.0, 2.0, 3.0], 1, vec![0.0, 0.0, 0.0])?;
/// let problem = LeastSquares::least_squares(data, 0.0)?;
/// // A batch of all three samples without replacement gives the full gradient.
/// let mut oracle = MiniBatch::new(problem, 3, Sampling::WithoutReplacement)?;
/// let mut g = [0.0f64];
/// oracle.draw(&[1.0], &mut g, &mut median_sgd::rng_from_seed(1))?;
/// assert!((g[0] - 14.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct MiniBatch<P, S> {
    problem: P,
    batch_size: usize,
    sampling: Sampling,
    scratch: Vec<S>,
}

impl<S: Scalar, P: Problem<S>> MiniBatch<P, S> {
    /// Creates the oracle with mini-batches of `batch_size` samples.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"batch_size"`) for `batch_size == 0`, or for
    /// `batch_size > n` without replacement.
    pub fn new(problem: P, batch_size: usize, sampling: Sampling) -> Result<Self, SgdError> {
        check_count("batch_size", batch_size)?;
        if sampling == Sampling::WithoutReplacement && batch_size > problem.num_samples() {
            return Err(SgdError::InvalidParameter {
                name: "batch_size",
                value: batch_size as f64,
                expected: "must be <= the number of samples when sampling without replacement",
            });
        }
        let scratch = vec![S::zero(); problem.dim()];
        Ok(Self {
            problem,
            batch_size,
            sampling,
            scratch,
        })
    }

    /// Returns the problem.
    pub fn problem(&self) -> &P {
        &self.problem
    }

    /// Writes the mean of the per-sample gradients over `indices` into `out`.
    fn mean_gradient(&mut self, indices: &[usize], x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        let weight = S::one() / S::of_usize(indices.len());
        out.fill(S::zero());
        for &i in indices {
            self.problem.sample_gradient(i, x, &mut self.scratch)?;
            kernels::axpy(weight, &self.scratch, out);
        }
        Ok(())
    }

    /// Draws `amount` indices according to the sampling mode.
    fn sample_indices<R: Rng + ?Sized>(&self, amount: usize, rng: &mut R) -> Vec<usize> {
        let n = self.problem.num_samples();
        match self.sampling {
            Sampling::WithReplacement => (0..amount).map(|_| rng.random_range(0..n)).collect(),
            Sampling::WithoutReplacement => rand::seq::index::sample(rng, n, amount).into_vec(),
        }
    }
}

impl<S: Scalar, P: Problem<S>> GradientOracle<S> for MiniBatch<P, S> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        check_len("point", self.dim(), x.len())?;
        check_len("gradient output", self.dim(), out.len())?;
        let indices = self.sample_indices(self.batch_size, rng);
        self.mean_gradient(&indices, x, out)
    }

    fn draw_rows<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        count: usize,
        rows: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        let dim = self.dim();
        check_len("point", dim, x.len())?;
        check_len("gradient rows", count.saturating_mul(dim), rows.len())?;
        let total = count.saturating_mul(self.batch_size);
        let joint =
            self.sampling == Sampling::WithoutReplacement && total <= self.problem.num_samples();
        if dim == 0 || !joint {
            for row in rows.chunks_exact_mut(dim.max(1)) {
                self.draw(x, row, rng)?;
            }
            return Ok(());
        }

        // One draw of count * b distinct indices, split into count mini-batches.
        let indices = self.sample_indices(total, rng);
        for (row, batch) in rows
            .chunks_exact_mut(dim)
            .zip(indices.chunks_exact(self.batch_size))
        {
            self.mean_gradient(batch, x, row)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, LeastSquares};

    fn problem() -> LeastSquares<f64> {
        // Sample i has feature 1 and target i, so its gradient at x = 0 is -i.
        let data = Dataset::new(vec![1.0; 6], 1, (0..6).map(f64::from).collect()).unwrap();
        LeastSquares::least_squares(data, 0.0).unwrap()
    }

    #[test]
    fn minibatch_without_replacement_rows_are_distinct() {
        let mut oracle = MiniBatch::new(problem(), 1, Sampling::WithoutReplacement).unwrap();
        let mut rng = crate::rng_from_seed(3);
        let mut rows = [0.0; 6];
        oracle.draw_rows(&[0.0], 6, &mut rows, &mut rng).unwrap();
        let mut sorted = rows.to_vec();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(sorted, vec![-5.0, -4.0, -3.0, -2.0, -1.0, 0.0]);
    }

    #[test]
    fn minibatch_rejects_oversized_batch() {
        assert!(matches!(
            MiniBatch::new(problem(), 7, Sampling::WithoutReplacement),
            Err(SgdError::InvalidParameter {
                name: "batch_size",
                ..
            })
        ));
        assert!(MiniBatch::new(problem(), 7, Sampling::WithReplacement).is_ok());
        assert!(MiniBatch::new(problem(), 0, Sampling::WithReplacement).is_err());
    }

    #[test]
    fn minibatch_with_replacement_draws_valid_samples() {
        let mut oracle = MiniBatch::new(problem(), 2, Sampling::WithReplacement).unwrap();
        let mut rng = crate::rng_from_seed(4);
        let mut g = [0.0];
        for _ in 0..50 {
            oracle.draw(&[0.0], &mut g, &mut rng).unwrap();
            // The mean of two of -0..-5 is a multiple of 1/2 in [-5, 0].
            assert!((-5.0..=0.0).contains(&g[0]));
            assert_eq!((2.0 * g[0]).fract(), 0.0);
        }
    }
}
