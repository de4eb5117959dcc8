//! A finite-sum problem split across simulated workers, one shard of samples each.

use median_linalg::{Scalar, kernels};
use rand::Rng;

use super::GradientOracle;
use crate::SgdError;
use crate::error::{check_count, check_len};
use crate::problem::Problem;

/// An oracle with `N` workers, worker `k` holding the contiguous shard of samples
/// `[k n / N, (k + 1) n / N)` and returning the exact gradient of its local objective
/// `f_k(x) = mean over its shard of f_i(x)`.
///
/// [`draw`](GradientOracle::draw) returns the full gradient. Shards differ in size by at
/// most one sample, so the mean of the worker gradients equals the full gradient only when
/// `N` divides `n`. Wrap it in a noise oracle to make the worker gradients stochastic.
///
/// # Examples
///
/// ```
/// use median_sgd::{Dataset, GradientOracle, LeastSquares, WorkerShards};
///
/// let data = Dataset::new(vec![1.0; 4], 1, vec![1.0, 2.0, 3.0, 4.0])?;
/// let mut oracle = WorkerShards::new(LeastSquares::least_squares(data, 0.0)?, 2)?;
/// let mut g = [0.0];
/// oracle.draw_worker(1, &[0.0], &mut g, &mut median_sgd::rng_from_seed(0))?;
/// assert_eq!(g, [-3.5]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct WorkerShards<P, S> {
    problem: P,
    workers: usize,
    scratch: Vec<S>,
}

impl<S: Scalar, P: Problem<S>> WorkerShards<P, S> {
    /// Splits `problem`'s samples across `workers` workers.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"workers"`) unless `1 <= workers <= n`.
    pub fn new(problem: P, workers: usize) -> Result<Self, SgdError> {
        check_count("workers", workers)?;
        if workers > problem.num_samples() {
            return Err(SgdError::InvalidParameter {
                name: "workers",
                value: workers as f64,
                expected: "must be <= the number of samples",
            });
        }
        let scratch = vec![S::zero(); problem.dim()];
        Ok(Self {
            problem,
            workers,
            scratch,
        })
    }

    /// Returns the problem.
    pub fn problem(&self) -> &P {
        &self.problem
    }

    /// Returns the sample range of worker `worker`.
    pub fn shard(&self, worker: usize) -> std::ops::Range<usize> {
        let n = self.problem.num_samples();
        (worker * n / self.workers)..((worker + 1) * n / self.workers)
    }
}

impl<S: Scalar, P: Problem<S>> GradientOracle<S> for WorkerShards<P, S> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        self.problem.gradient(x, out)
    }

    fn num_workers(&self) -> Option<usize> {
        Some(self.workers)
    }

    fn draw_worker<R: Rng + ?Sized>(
        &mut self,
        worker: usize,
        x: &[S],
        out: &mut [S],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        if worker >= self.workers {
            return Err(SgdError::InvalidParameter {
                name: "worker",
                value: worker as f64,
                expected: "must be < the number of workers",
            });
        }
        check_len("gradient output", self.dim(), out.len())?;
        let shard = self.shard(worker);
        let weight = S::one() / S::of_usize(shard.len());
        out.fill(S::zero());
        for i in shard {
            self.problem.sample_gradient(i, x, &mut self.scratch)?;
            kernels::axpy(weight, &self.scratch, out);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Dataset, LeastSquares};

    #[test]
    fn worker_shards_cover_every_sample_once() {
        let data = Dataset::new(vec![1.0f64; 7], 1, vec![0.0; 7]).unwrap();
        let oracle = WorkerShards::new(LeastSquares::least_squares(data, 0.0).unwrap(), 3).unwrap();
        let shards: Vec<_> = (0..3).map(|k| oracle.shard(k)).collect();
        assert_eq!(shards, vec![0..2, 2..4, 4..7]);
    }

    #[test]
    fn worker_shards_reject_bad_counts() {
        let data = Dataset::new(vec![1.0f64; 2], 1, vec![0.0; 2]).unwrap();
        let problem = LeastSquares::least_squares(data, 0.0).unwrap();
        assert!(WorkerShards::new(problem.clone(), 3).is_err());
        assert!(WorkerShards::new(problem.clone(), 0).is_err());
        let mut oracle = WorkerShards::new(problem, 2).unwrap();
        assert!(matches!(
            oracle.draw_worker(2, &[0.0], &mut [0.0], &mut crate::rng_from_seed(0)),
            Err(SgdError::InvalidParameter { name: "worker", .. })
        ));
    }
}
