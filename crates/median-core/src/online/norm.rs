//! E4, the Linf-median tracker, and E5, the median tracker for any norm.

use median_linalg::{Backend, Scalar};

use super::StepSchedule;
use super::tracker::{Rule, Tracker, impl_tracker};
use crate::clip::{Norm, project_l1_ball_unchecked};

/// E4: tracks the Linf median `argmin_m E ‖m - g‖∞` by SPP steps
/// `m+ = m + P(g - m)`, where `P` is the Euclidean projection onto the L1 ball of radius
/// `tau` (the dual ball of the Linf norm).
///
/// When `‖g - m‖₁ <= tau` the estimate becomes `g` exactly; otherwise the step is the
/// soft-thresholded innovation, of L1 norm `tau`.
///
/// - Parameters: a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: expected `O(d)` per update (randomised-pivot L1-ball projection, see
///   [`project_l1_ball`](crate::clip::project_l1_ball)).
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`](crate::Error::NonFinite);
///   the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::online::{LinfMedianTracker, OnlineEstimator, StepSchedule};
/// use median_linalg::VecBackend;
///
/// let mut m = LinfMedianTracker::<VecBackend<f64>>::new(3, StepSchedule::constant(3.0)?);
/// m.update(&[3.0, 1.0, -2.0])?;
/// assert_eq!(m.estimate(), &[2.0, 0.0, -1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra, "Efficient projections onto the
/// l1-ball for learning in high dimensions", ICML 2008.
pub struct LinfMedianTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: LinfRule,
}

#[derive(Debug, Clone, Copy)]
struct LinfRule;

impl<S: Scalar> Rule<S> for LinfRule {
    fn label(&self) -> String {
        "E4-linf".to_string()
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        project_l1_ball_unchecked(r, tau / unit, out);
    }
}

impl<B: Backend> LinfMedianTracker<B> {
    /// Creates the tracker of dimension `dim`, starting at zero.
    pub fn new(dim: usize, schedule: StepSchedule<B::Scalar>) -> Self {
        Self {
            tracker: Tracker::new(dim, schedule),
            rule: LinfRule,
        }
    }
}

impl_tracker!([B: Backend] LinfMedianTracker<B>, LinfRule);

/// E5: tracks the median `argmin_m E ‖m - g‖` of any [`Norm`] by SPP steps
/// `m+ = m + P(g - m)`, where `P` is the Euclidean projection onto the dual-norm ball of
/// radius `tau` (Moreau's decomposition of the norm's prox).
///
/// With [`L2Norm`](crate::clip::L2Norm) this is [`GeometricMedianTracker`](super::GeometricMedianTracker),
/// with [`L1Norm`](crate::clip::L1Norm) it is
/// [`CoordinateMedianTracker`](super::CoordinateMedianTracker), and with
/// [`LinfNorm`](crate::clip::LinfNorm) it is [`LinfMedianTracker`].
///
/// - Parameters: a norm and a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: `O(d)` plus the cost of [`Norm::project_dual_ball`].
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`](crate::Error::NonFinite);
///   the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::clip::L2Norm;
/// use median_core::online::{NormMedianTracker, OnlineEstimator, StepSchedule};
/// use median_linalg::VecBackend;
///
/// let mut m = NormMedianTracker::<VecBackend<f64>, _>::new(2, L2Norm, StepSchedule::constant(5.0)?);
/// m.update(&[6.0, 8.0])?;
/// assert_eq!(m.estimate(), &[3.0, 4.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct NormMedianTracker<B: Backend, N> {
    tracker: Tracker<B>,
    rule: NormRule<N>,
}

#[derive(Debug, Clone, Copy)]
struct NormRule<N> {
    norm: N,
}

impl<S: Scalar, N: Norm<S>> Rule<S> for NormRule<N> {
    fn label(&self) -> String {
        "E5-norm".to_string()
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        self.norm.project_dual_ball(r, tau / unit, out);
    }
}

impl<B: Backend, N: Norm<B::Scalar>> NormMedianTracker<B, N> {
    /// Creates the tracker of dimension `dim` for `norm`, starting at zero.
    pub fn new(dim: usize, norm: N, schedule: StepSchedule<B::Scalar>) -> Self {
        Self {
            tracker: Tracker::new(dim, schedule),
            rule: NormRule { norm },
        }
    }

    /// Returns the norm.
    pub fn norm(&self) -> &N {
        &self.rule.norm
    }
}

impl_tracker!([B: Backend, N: Norm<B::Scalar>] NormMedianTracker<B, N>, NormRule<N>);
