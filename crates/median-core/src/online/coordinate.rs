//! E3, the coordinate-wise median tracker, and E7, the coordinate-wise quantile tracker.

use median_linalg::{Backend, Scalar};
use num_traits::{One, Zero};

use super::StepSchedule;
use super::tracker::{Rule, Tracker, impl_tracker};
use crate::Error;
use crate::clip::clamp_unchecked;

/// E3: tracks the coordinate-wise median `argmin_m E ‖m - g‖₁` by SPP steps
/// `m+ = m + clamp(g - m, -tau, tau)`, coordinate by coordinate.
///
/// A coordinate within `tau` of the gradient lands on it exactly; the others move by
/// `tau` towards it. From `m = 0` this is coordinate (value) clipping of the gradient, and
/// with `tau` below every `|g_j|` it is scaled signSGD.
///
/// - Parameters: a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: `O(d)` per update.
/// - Robustness: one gradient moves each coordinate by at most `tau`. The coordinate-wise
///   median has breakdown point 1/2 in every coordinate.
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`]; the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::online::{CoordinateMedianTracker, OnlineEstimator, StepSchedule};
/// use median_linalg::VecBackend;
///
/// let mut m = CoordinateMedianTracker::<VecBackend<f64>>::new(2, StepSchedule::constant(1.0)?);
/// m.update(&[0.25, -7.0])?;
/// assert_eq!(m.estimate(), &[0.25, -1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct CoordinateMedianTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: CoordinateRule,
}

#[derive(Debug, Clone, Copy)]
struct CoordinateRule;

impl<S: Scalar> Rule<S> for CoordinateRule {
    fn label(&self) -> String {
        "E3-coordinate".to_string()
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        let bound = tau / unit;
        out.copy_from_slice(r);
        clamp_unchecked(out, -bound, bound);
    }
}

impl<B: Backend> CoordinateMedianTracker<B> {
    /// Creates the tracker of dimension `dim`, starting at zero.
    pub fn new(dim: usize, schedule: StepSchedule<B::Scalar>) -> Self {
        Self {
            tracker: Tracker::new(dim, schedule),
            rule: CoordinateRule,
        }
    }
}

impl_tracker!([B: Backend] CoordinateMedianTracker<B>, CoordinateRule);

/// E7: tracks the coordinate-wise `q`-quantile `argmin_m E sum_j rho_q(g_j - m_j)`, with
/// the pinball loss `rho_q(u) = u (q - 1{u < 0})`, by SPP steps
/// `m+ = m + clamp(g - m, -tau (1 - q), tau q)`, coordinate by coordinate.
///
/// For `q = 1/2` and step `2 tau` this is [`CoordinateMedianTracker`] with step `tau`.
///
/// - Parameters: `0 < q < 1`; a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: `O(d)` per update.
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`]; the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::online::{OnlineEstimator, QuantileTracker, StepSchedule};
/// use median_linalg::VecBackend;
///
/// let mut m = QuantileTracker::<VecBackend<f64>>::new(2, 0.75, StepSchedule::constant(1.0)?)?;
/// m.update(&[5.0, -5.0])?; // up by at most 0.75, down by at most 0.25
/// assert_eq!(m.estimate(), &[0.75, -0.25]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct QuantileTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: QuantileRule<B::Scalar>,
}

#[derive(Debug, Clone, Copy)]
struct QuantileRule<S> {
    q: S,
}

impl<S: Scalar> Rule<S> for QuantileRule<S> {
    fn label(&self) -> String {
        format!("E7-quantile(q={})", self.q)
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        let scaled = tau / unit;
        let lo = -(scaled * (S::one() - self.q));
        let hi = scaled * self.q;
        out.copy_from_slice(r);
        clamp_unchecked(out, lo, hi);
    }
}

impl<B: Backend> QuantileTracker<B> {
    /// Creates the tracker of the `q`-quantile, of dimension `dim`, starting at zero.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"q"` unless `0 < q < 1`.
    pub fn new(dim: usize, q: B::Scalar, schedule: StepSchedule<B::Scalar>) -> Result<Self, Error> {
        if !(q > B::Scalar::zero() && q < B::Scalar::one()) {
            return Err(Error::InvalidParameter {
                name: "q",
                value: q.into_f64(),
                expected: "must be in (0, 1)",
            });
        }
        Ok(Self {
            tracker: Tracker::new(dim, schedule),
            rule: QuantileRule { q },
        })
    }

    /// Returns the quantile level `q`.
    pub fn q(&self) -> B::Scalar {
        self.rule.q
    }
}

impl_tracker!([B: Backend] QuantileTracker<B>, QuantileRule<B::Scalar>);
