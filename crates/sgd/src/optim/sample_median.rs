//! Sample Median Gradient Descent: the median of gradients across samples at one point.

use std::marker::PhantomData;

use median_core::aggregate::Aggregator;
use median_linalg::{Backend, Zero};
use rand::Rng;

use super::{Optimizer, StepInfo, descend};
use crate::error::{check_count, check_finite, check_len};
use crate::{GradientOracle, Schedule, SgdError};

/// Sample Median Gradient Descent: draw `n` gradients at `x_t` and step along their
/// aggregate,
///
/// ```text
/// x_{t+1} = x_t - gamma_t Med(g_t^1, ..., g_t^n)
/// ```
///
/// where `Med` is any [`Aggregator`]: the geometric or coordinate-wise median of
/// `median_core::batch`, or a Byzantine-robust rule. With the mean as aggregator it is
/// mini-batch SGD with `n` samples. The median of `2k + 1` heavy-tailed samples has finite
/// moments of order up to `k + 1` times the tail index, which is why this converges under
/// noise with no finite variance.
///
/// The gradients come from [`GradientOracle::draw_rows`], so a [`MiniBatch`] oracle with
/// batch size 1 and sampling without replacement gives the per-sample gradients of `n`
/// distinct samples.
///
/// [`MiniBatch`]: crate::MiniBatch
///
/// # Examples
///
/// ```
/// use median_core::batch::CoordinateMedian;
/// use median_linalg::VecBackend;
/// use median_sgd::{
///     Dataset, LeastSquares, MiniBatch, Optimizer, SampleMedianGd, Sampling, Schedule,
/// };
///
/// // Three samples with gradients -1, -2 and -1000 at x = 0 (targets 1, 2, 1000).
/// let data = Dataset::new(vec![1.0, 1.0, 1.0], 1, vec![1.0, 2.0, 1000.0])?;
/// let problem = LeastSquares::least_squares(data, 0.0)?;
/// let mut oracle = MiniBatch::new(problem, 1, Sampling::WithoutReplacement)?;
/// let median = CoordinateMedian::<f64>::new();
/// let mut opt = SampleMedianGd::<VecBackend<f64>, _>::new(median, Schedule::constant(1.0)?, 3)?;
/// let mut x = [0.0];
/// // The median of the three per-sample gradients ignores the outlier.
/// opt.step(&mut x, &mut oracle, &mut median_sgd::rng_from_seed(0))?;
/// assert_eq!(x, [2.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
///
/// # References
///
/// F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
/// Estimating the Median Gradient", arXiv:2402.12828, 2024.
#[derive(Debug, Clone)]
pub struct SampleMedianGd<B: Backend, A> {
    aggregator: A,
    schedule: Schedule,
    samples: usize,
    rows: Vec<B::Scalar>,
    direction: Vec<B::Scalar>,
    t: usize,
    backend: PhantomData<B>,
}

impl<B: Backend, A: Aggregator<B>> SampleMedianGd<B, A> {
    /// Creates the method with `samples` gradients per step.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"samples"`) for `samples == 0`.
    pub fn new(aggregator: A, schedule: Schedule, samples: usize) -> Result<Self, SgdError> {
        check_count("samples", samples)?;
        Ok(Self {
            aggregator,
            schedule,
            samples,
            rows: Vec::new(),
            direction: Vec::new(),
            t: 0,
            backend: PhantomData,
        })
    }

    /// Returns the aggregator.
    pub fn aggregator(&self) -> &A {
        &self.aggregator
    }
}

impl<B: Backend, A: Aggregator<B>> Optimizer<B::Scalar> for SampleMedianGd<B, A> {
    fn name(&self) -> String {
        format!(
            "sample-median-gd({}, n={})",
            self.aggregator.name(),
            self.samples
        )
    }

    fn step<O, R>(
        &mut self,
        x: &mut [B::Scalar],
        oracle: &mut O,
        rng: &mut R,
    ) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<B::Scalar> + ?Sized,
        R: Rng + ?Sized,
    {
        let dim = x.len();
        check_len("point", oracle.dim(), dim)?;
        self.rows.resize(self.samples * dim, B::Scalar::zero());
        self.direction.resize(dim, B::Scalar::zero());
        oracle.draw_rows(x, self.samples, &mut self.rows, rng)?;
        check_finite("gradient", &self.rows)?;

        let batch = B::batch_from_rows(&self.rows, self.samples, dim)?;
        self.aggregator
            .aggregate_into(&batch, &mut self.direction)?;
        check_finite("aggregated gradient", &self.direction)?;

        let gamma = self.schedule.at(self.t);
        self.t += 1;
        descend(x, gamma, &self.direction)?;
        Ok(StepInfo {
            step_size: gamma,
            gradients: self.samples,
        })
    }

    fn iteration(&self) -> usize {
        self.t
    }

    fn reset(&mut self) {
        self.t = 0;
    }
}
