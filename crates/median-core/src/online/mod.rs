//! Online estimators: one stochastic proximal point (SPP) step per new gradient.
//!
//! Each estimator minimises `F(m) = E l(m - g)` for a loss `l` by the stochastic proximal
//! point method: with step `tau > 0` and a fresh gradient `g`,
//! `m+ = argmin_u { l(u - g) + ‖u - m‖₂² / (2 tau) }`. The step never overshoots, for any
//! `tau`, and has a closed form in terms of the innovation `r = g - m`:
//!
//! | id | type | loss `l` | tracks | update `m+ =` |
//! |---|---|---|---|---|
//! | E1 | [`EmaTracker`] | `‖.‖₂²/2` | mean | `m + tau/(1+tau) r` (EMA, `beta = 1/(1+tau)`) |
//! | E2 | [`GeometricMedianTracker`] | `‖.‖₂` | geometric median | `m + clip_tau(r)` |
//! | E3 | [`CoordinateMedianTracker`] | `‖.‖₁` | coordinate-wise median | `m + clamp(r, -tau, tau)` |
//! | E4 | [`LinfMedianTracker`] | `‖.‖∞` | Linf median | `m + P_{L1 ball, tau}(r)` |
//! | E5 | [`NormMedianTracker`] | any [`Norm`](crate::clip::Norm) | its median | `m + P_{dual ball, tau}(r)` |
//! | E6 | [`HuberTracker`] | Huber`_delta` of `‖.‖₂` | smoothed median | `m + tau/(tau+delta) clip_{tau+delta}(r)` |
//! | E7 | [`QuantileTracker`] | pinball`_q` per coordinate | coordinate q-quantile | `m + clamp(r, -tau(1-q), tau q)` |
//! | E8 | [`WeightedGeometricMedianTracker`] | `sum_i w_i ‖. - g_i‖₂` | weighted geometric median | `m + clip_{tau n w_i}(g_i - m)` |
//!
//! where `clip_tau(v) = min(1, tau/‖v‖₂) v` ([`clip_norm`](crate::clip::clip_norm)).
//!
//! # Shared behaviour
//!
//! - The dimension is fixed at construction; the estimate starts at zero
//!   ([`reset_to`](OnlineEstimator::reset_to) sets another anchor).
//! - Steps follow a [`StepSchedule`]. `tau = +inf` is allowed and makes every update jump
//!   to the gradient, bit for bit (SGD without momentum), except that a sample of weight 0
//!   in E8 never moves the estimate.
//! - Where the step is inactive (the innovation lies inside the clipping set) the estimate
//!   is set to the gradient coordinate itself, since `m + (g - m)` can differ from `g` in
//!   floating point.
//! - Optional Polyak-Ruppert averaging (`with_averaging`).
//! - [`update_batch`](OnlineEstimator::update_batch) takes the mini-batch surrogate step
//!   `m + (1/b) sum_i (U(m, g_i) - m)`; for E2 from `m = 0` this is the averaged
//!   per-sample clipping of DP-SGD (without its noise).
//! - NaN policy: a gradient with a NaN or infinite entry is [`Error::NonFinite`] and the
//!   estimate is unchanged.
//! - Scratch vectors live in the struct, so the trackers allocate nothing per update
//!   themselves. The norm kernel of `median-linalg` does allocate a small buffer of partial
//!   sums for vectors of 65 536 entries or more (its parallel path).
//! - Cost per update: `O(d)` (expected `O(d)` for E4), plus the cost of the norm's
//!   projection for E5.
//!
//! # References
//!
//! F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
//! Estimating the Median Gradient", arXiv:2402.12828, 2024 (TMLR 2025 as "Tracking the
//! Median of Gradients with a Stochastic Proximal Point Method").

use median_linalg::Backend;

use crate::Error;

mod coordinate;
mod ema;
mod geometric;
mod huber;
mod norm;
mod schedule;
pub(crate) mod tracker;

pub use coordinate::{CoordinateMedianTracker, QuantileTracker};
pub use ema::EmaTracker;
pub use geometric::{GeometricMedianTracker, WeightedGeometricMedianTracker};
pub use huber::{HuberTracker, huber_to_momentum, momentum_to_huber};
pub use norm::{LinfMedianTracker, NormMedianTracker};
pub use schedule::StepSchedule;

/// An estimator updated once per new gradient, tracking a mean, median or quantile of the
/// gradients it has seen.
///
/// Inside an optimizer this is the "median across iterations": each step feeds the new
/// stochastic gradient to [`update`](OnlineEstimator::update) and moves along
/// [`estimate`](OnlineEstimator::estimate).
pub trait OnlineEstimator<B: Backend> {
    /// Returns a short name for labels and reports, such as `"E2-geometric"`.
    fn name(&self) -> String;

    /// Moves the estimate towards `gradient` by one step.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`] if `gradient` does not have the estimator's dimension,
    /// and [`Error::NonFinite`] for a gradient with NaN or infinite entries; the estimate is
    /// then unchanged.
    fn update(&mut self, gradient: &[B::Scalar]) -> Result<(), Error>;

    /// Moves the estimate towards `gradient` by one step, as [`update`](Self::update), then
    /// moves `point` to `point - gamma * estimate`, and returns whether every coordinate of
    /// the new point is finite.
    ///
    /// This is the step of an optimizer that descends along the tracked estimate. The
    /// provided implementation calls [`update`](Self::update) and then
    /// [`kernels::axpy`](median_linalg::kernels::axpy) with `-gamma`. The geometric-median
    /// (E2), Huber (E6) and weighted geometric-median (E8) trackers override it when
    /// averaging is off. Their version reads the gradient and the estimate once for the norm
    /// of `g - m`, then updates the estimate and the point in a second pass, with the same
    /// results bit for bit.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`] naming `"gradient"` or `"point"` if either does not have
    /// the estimator's dimension, and the other errors of [`update`](Self::update). The
    /// estimate and `point` are then unchanged.
    fn update_and_descend(
        &mut self,
        gradient: &[B::Scalar],
        gamma: B::Scalar,
        point: &mut [B::Scalar],
    ) -> Result<bool, Error> {
        let dim = self.estimate().len();
        if gradient.len() == dim && point.len() != dim {
            return Err(Error::DimensionMismatch {
                what: "point",
                index: 0,
                expected: dim,
                found: point.len(),
            });
        }
        self.update(gradient)?;
        median_linalg::kernels::axpy(-gamma, self.estimate(), point);
        Ok(crate::clip::all_finite(point))
    }

    /// Moves the estimate by the mini-batch surrogate step: the average of the per-sample
    /// steps `(1/b) sum_i (U(m, g_i) - m)`, all taken from the current iterate `m` (the
    /// estimate unless Polyak-Ruppert averaging is on).
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], and the errors of [`update`](OnlineEstimator::update) for any
    /// gradient in the batch; the estimate is then unchanged.
    fn update_batch(&mut self, batch: &B::Batch) -> Result<(), Error>;

    /// Returns the current estimate (the Polyak-Ruppert average where averaging is on).
    fn estimate(&self) -> &[B::Scalar];

    /// Sets the estimate to `anchor` and restarts the step schedule.
    ///
    /// Resetting to zero before every update turns the geometric-median tracker into
    /// clipped SGD.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`] if `anchor` does not have the estimator's dimension,
    /// [`Error::NonFinite`] if it has a NaN or infinite entry; the estimate is then
    /// unchanged.
    fn reset_to(&mut self, anchor: &[B::Scalar]) -> Result<(), Error>;

    /// Sets the estimate to zero and restarts the step schedule.
    fn reset(&mut self);
}
