//! Optimizers: one trait, [`Optimizer`], for every method, from SGD to the median tracker.
//!
//! An optimizer takes the current point and a [`GradientOracle`], draws what it needs (one
//! gradient, `n` gradients at the same point, or one gradient per worker) and moves the
//! point in place. Every hyperparameter is checked when the optimizer is built, and every
//! step checks that the gradients and the new point are finite.

mod adam;
mod basic;
mod clip21;
mod sample_median;
mod tracker;

pub use adam::Adam;
pub use basic::{
    ClipKind, ClippedSgd, Momentum, MomentumForm, Nesterov, NormalizedSgd, Sgd, SignSgd,
};
pub use clip21::Clip21;
pub use sample_median::SampleMedianGd;
pub use tracker::{Initialization, Tracker};

use median_linalg::{Scalar, kernels};
use rand::Rng;

use crate::error::{check_finite, check_len};
use crate::{GradientOracle, SgdError};

/// The summary of one optimizer step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepInfo {
    /// The step size `gamma_t` used.
    pub step_size: f64,
    /// The number of stochastic gradients drawn from the oracle.
    pub gradients: usize,
}

/// An iterative method `x_{t+1} = x_t - gamma_t d_t` whose direction `d_t` comes from a
/// [`GradientOracle`].
///
/// Each implementation documents its update rule and the valid range of each
/// hyperparameter. The optimizer counts its own iterations, and [`reset`](Optimizer::reset)
/// clears that count and every internal state (momentum buffers, estimates, worker states).
pub trait Optimizer<S: Scalar> {
    /// Returns a short name for labels, such as `"sgd"` or `"tracker(E2-geometric)"`.
    fn name(&self) -> String;

    /// Draws gradients at `x` from `oracle` and moves `x` in place by one step.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `x` does not have the oracle's dimension (or the
    /// dimension of the optimizer's state), [`SgdError::NonFinite`] for a non-finite
    /// gradient or a step that leaves `x` non-finite, and the oracle's and estimator's own
    /// errors. A gradient error leaves `x` unchanged, but a non-finite new point is already
    /// written to `x` when the error returns.
    fn step<O, R>(
        &mut self,
        x: &mut [S],
        oracle: &mut O,
        rng: &mut R,
    ) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized;

    /// Returns the number of steps taken since construction or the last reset.
    fn iteration(&self) -> usize;

    /// Clears the iteration count and all internal state.
    fn reset(&mut self);
}

/// One record per iteration, passed to an [`Observer`].
#[derive(Debug, Clone, Copy)]
pub struct IterationRecord<'a, S> {
    /// The step just taken, counted from 0.
    pub iteration: usize,
    /// The point after the step.
    pub point: &'a [S],
    /// The step size used.
    pub step_size: f64,
    /// The loss at the new point, where the driver computes it.
    pub loss: Option<f64>,
    /// The total number of stochastic gradients drawn so far.
    pub gradients: usize,
}

/// A per-iteration hook for metrics: the library never prints, so logging and plotting go
/// through an observer.
///
/// Closures `FnMut(&IterationRecord<S>)` are observers.
pub trait Observer<S> {
    /// Receives the record of one iteration.
    fn observe(&mut self, record: &IterationRecord<'_, S>);
}

impl<S, F: FnMut(&IterationRecord<'_, S>)> Observer<S> for F {
    fn observe(&mut self, record: &IterationRecord<'_, S>) {
        self(record);
    }
}

/// The observer that ignores every record.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl<S> Observer<S> for NoObserver {
    fn observe(&mut self, _record: &IterationRecord<'_, S>) {}
}

/// Draws one gradient at `x` into `buffer`, resized to the oracle's dimension, and checks it.
pub(crate) fn draw_checked<S, O, R>(
    oracle: &mut O,
    x: &[S],
    buffer: &mut Vec<S>,
    rng: &mut R,
) -> Result<(), SgdError>
where
    S: Scalar,
    O: GradientOracle<S> + ?Sized,
    R: Rng + ?Sized,
{
    check_len("point", oracle.dim(), x.len())?;
    buffer.resize(x.len(), S::zero());
    oracle.draw(x, buffer, rng)?;
    check_finite("gradient", buffer)
}

/// Checks that a state vector matches the point's dimension, sizing it on first use.
pub(crate) fn ensure_state<S: Scalar>(state: &mut Vec<S>, dim: usize) -> Result<(), SgdError> {
    if state.is_empty() {
        state.resize(dim, S::zero());
    }
    check_len("point (against the optimizer state)", state.len(), dim)
}

/// Moves `x` to `x - gamma * direction` and checks that the new point is finite.
pub(crate) fn descend<S: Scalar>(x: &mut [S], gamma: f64, direction: &[S]) -> Result<(), SgdError> {
    kernels::axpy(-S::of_f64(gamma), direction, x);
    check_finite("point", x)
}
