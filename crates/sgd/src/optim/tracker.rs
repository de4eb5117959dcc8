//! The median tracker: the median of gradients across iterations, by an online estimator.

use std::marker::PhantomData;

use median_core::online::OnlineEstimator;
use median_linalg::{Backend, Scalar, Zero};
use rand::Rng;

use super::{Optimizer, StepInfo, descend, draw_checked};
use crate::error::{check_count, check_finite, check_len};
use crate::{GradientOracle, Schedule, SgdError};

/// The starting value of the tracker's estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initialization {
    /// `m_0 = 0`: the first step already applies the estimator's update.
    Zero,
    /// `m_1 = g_0`: the estimate is set to the first gradient (mini-batch mean when
    /// `batch > 1`) instead of being updated.
    FirstGradient,
}

/// The median tracker: with any online estimator `U` (the SPP steps E1 to E8 of
/// `median_core::online`),
///
/// ```text
/// g_t     = stochastic gradient at x_t
/// m_{t+1} = U(m_t, g_t)
/// x_{t+1} = x_t - gamma_t m_{t+1}
/// ```
///
/// With the geometric-median step (E2, `m + clip_tau(g - m)`) this tracks the median of the
/// gradients across iterations. Known methods are special cases: `tau = inf` gives SGD,
/// resetting the anchor `m_t` to zero before every update gives clipped SGD, and the mean
/// step (E1) gives EMA momentum with `beta = 1 / (1 + tau)`.
///
/// Options:
/// - [`with_anchor_reset`](Tracker::with_anchor_reset): reset the estimate to zero before
///   each update;
/// - [`with_initialization`](Tracker::with_initialization): start from zero (default) or
///   from the first gradient;
/// - [`with_batch`](Tracker::with_batch): draw `b >= 1` gradients per step and apply the
///   estimator's mini-batch surrogate `m + (1/b) sum_i (U(m, g_i) - m)`. From `m = 0` with
///   E2 this is the averaged per-sample clipping of DP-SGD (without its privacy noise).
///
/// The backend `B` is the estimator's, and it also stores the mini-batch.
///
/// # Examples
///
/// ```
/// use median_core::online::{GeometricMedianTracker, StepSchedule};
/// use median_linalg::VecBackend;
/// use median_sgd::{ExactGradient, Optimizer, Quadratic, Schedule, Tracker};
///
/// let mut oracle = ExactGradient::new(Quadratic::new(vec![1.0, 1.0], vec![0.0, 0.0])?);
/// let estimator = GeometricMedianTracker::<VecBackend<f64>>::new(2, StepSchedule::constant(1.0)?);
/// let mut tracker = Tracker::new(estimator, Schedule::constant(0.5)?);
/// let mut x = [6.0, 8.0];
/// // g = (6, 8) is 10 away from m = 0, so m moves by tau = 1 to (0.6, 0.8).
/// tracker.step(&mut x, &mut oracle, &mut median_sgd::rng_from_seed(0))?;
/// assert_eq!(x, [5.7, 7.6]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
///
/// # References
///
/// F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
/// Estimating the Median Gradient", arXiv:2402.12828, 2024.
#[derive(Debug, Clone)]
pub struct Tracker<B: Backend, E> {
    estimator: E,
    schedule: Schedule,
    reset_anchor: bool,
    initialization: Initialization,
    batch: usize,
    gradient: Vec<B::Scalar>,
    t: usize,
    backend: PhantomData<B>,
}

impl<B: Backend, E: OnlineEstimator<B>> Tracker<B, E> {
    /// Creates the tracker with estimator `estimator`, step sizes `schedule`, the estimate
    /// starting at zero, no anchor reset and one gradient per step.
    ///
    /// The estimator's own parameters (its step `tau`) are validated by its constructor.
    pub fn new(estimator: E, schedule: Schedule) -> Self {
        Self {
            estimator,
            schedule,
            reset_anchor: false,
            initialization: Initialization::Zero,
            batch: 1,
            gradient: Vec::new(),
            t: 0,
            backend: PhantomData,
        }
    }

    /// Resets the estimate to zero before every update when `reset` is true.
    #[must_use]
    pub fn with_anchor_reset(mut self, reset: bool) -> Self {
        self.reset_anchor = reset;
        self
    }

    /// Sets where the estimate starts.
    #[must_use]
    pub fn with_initialization(mut self, initialization: Initialization) -> Self {
        self.initialization = initialization;
        self
    }

    /// Draws `batch` gradients per step and applies the mini-batch surrogate update.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"batch"`) for `batch == 0`.
    pub fn with_batch(mut self, batch: usize) -> Result<Self, SgdError> {
        check_count("batch", batch)?;
        self.batch = batch;
        Ok(self)
    }

    /// Returns the estimator.
    pub fn estimator(&self) -> &E {
        &self.estimator
    }

    /// Feeds the gradients of this step to the estimator.
    fn update_estimate<O, R>(
        &mut self,
        x: &[B::Scalar],
        oracle: &mut O,
        rng: &mut R,
    ) -> Result<(), SgdError>
    where
        O: GradientOracle<B::Scalar> + ?Sized,
        R: Rng + ?Sized,
    {
        let first = self.t == 0 && self.initialization == Initialization::FirstGradient;
        if self.batch == 1 {
            draw_checked(oracle, x, &mut self.gradient, rng)?;
            if first {
                self.estimator.reset_to(&self.gradient)?;
            } else {
                self.estimator.update(&self.gradient)?;
            }
            return Ok(());
        }

        let dim = x.len();
        check_len("point", oracle.dim(), dim)?;
        self.gradient.resize(self.batch * dim, B::Scalar::zero());
        oracle.draw_rows(x, self.batch, &mut self.gradient, rng)?;
        check_finite("gradient", &self.gradient)?;
        if first {
            let mean = mean_of_rows(&self.gradient, self.batch, dim);
            self.estimator.reset_to(&mean)?;
        } else {
            let batch = B::batch_from_rows(&self.gradient, self.batch, dim)?;
            self.estimator.update_batch(&batch)?;
        }
        Ok(())
    }
}

impl<B: Backend, E: OnlineEstimator<B>> Tracker<B, E> {
    /// Takes one step with one gradient through
    /// [`OnlineEstimator::update_and_descend`], which updates the estimate and the point
    /// together. The result and the errors are those of the separate update and descent.
    fn fused_step<O, R>(
        &mut self,
        x: &mut [B::Scalar],
        oracle: &mut O,
        rng: &mut R,
    ) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<B::Scalar> + ?Sized,
        R: Rng + ?Sized,
    {
        check_len("point", oracle.dim(), x.len())?;
        self.gradient.resize(x.len(), B::Scalar::zero());
        oracle.draw(x, &mut self.gradient, rng)?;

        // The estimator checks the gradient while it reads it. Its error names the
        // coordinate and becomes the optimizer's own non-finite gradient error here.
        let gamma = self.schedule.at(self.t);
        let finite = self
            .estimator
            .update_and_descend(&self.gradient, B::Scalar::of_f64(gamma), x)
            .map_err(|error| match error {
                median_core::Error::NonFinite {
                    coordinate, value, ..
                } => SgdError::NonFinite {
                    what: "gradient",
                    index: coordinate,
                    value,
                },
                other => SgdError::Core(other),
            })?;
        self.t += 1;
        if !finite {
            check_finite("point", x)?;
        }
        Ok(StepInfo {
            step_size: gamma,
            gradients: 1,
        })
    }
}

/// Returns the mean of `count` rows of length `dim`.
fn mean_of_rows<S: Scalar>(rows: &[S], count: usize, dim: usize) -> Vec<S> {
    let mut mean = vec![S::zero(); dim];
    let weight = S::one() / S::of_usize(count);
    for row in rows.chunks_exact(dim.max(1)) {
        median_linalg::kernels::axpy(weight, row, &mut mean);
    }
    mean
}

impl<B: Backend, E: OnlineEstimator<B>> Optimizer<B::Scalar> for Tracker<B, E> {
    fn name(&self) -> String {
        let reset = if self.reset_anchor { ", reset" } else { "" };
        format!("tracker({}{reset})", self.estimator.name())
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
        if self.reset_anchor {
            self.estimator.reset();
        }
        let first = self.t == 0 && self.initialization == Initialization::FirstGradient;
        if self.batch == 1 && !first && self.estimator.estimate().len() == x.len() {
            return self.fused_step(x, oracle, rng);
        }
        self.update_estimate(x, oracle, rng)?;

        let gamma = self.schedule.at(self.t);
        self.t += 1;
        let estimate = self.estimator.estimate();
        check_len("point (against the estimate)", estimate.len(), x.len())?;
        descend(x, gamma, estimate)?;
        Ok(StepInfo {
            step_size: gamma,
            gradients: self.batch,
        })
    }

    fn iteration(&self) -> usize {
        self.t
    }

    fn reset(&mut self) {
        self.t = 0;
        self.estimator.reset();
    }
}
