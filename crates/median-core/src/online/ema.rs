//! E1, the mean tracker: exponential moving average (EMA) momentum as an SPP step.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, One, Zero};

use super::StepSchedule;
use super::tracker::{Rule, Tracker, impl_tracker};
use crate::Error;

/// E1: tracks the mean `argmin_m E ‖m - g‖₂²/2` by SPP steps
/// `m+ = m + tau/(1+tau) (g - m)`.
///
/// This is EMA momentum `m+ = beta m + (1 - beta) g` with `beta = 1/(1+tau)`
/// ([`from_momentum`](Self::from_momentum) takes `beta`). With `tau = +inf` (`beta = 0`)
/// every update returns the gradient bit for bit. A mean has breakdown point 0: one large
/// gradient moves the estimate by a fixed fraction of its size.
///
/// - Parameters: a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: `O(d)` per update.
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`]; the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::online::{EmaTracker, OnlineEstimator};
/// use median_linalg::VecBackend;
///
/// let mut m = EmaTracker::<VecBackend<f64>>::from_momentum(1, 0.75)?;
/// m.update(&[8.0])?;
/// assert_eq!(m.estimate(), &[2.0]); // 0.75 * 0 + 0.25 * 8
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct EmaTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: EmaRule,
}

#[derive(Debug, Clone, Copy)]
struct EmaRule;

impl<S: Scalar> Rule<S> for EmaRule {
    fn label(&self) -> String {
        "E1-ema".to_string()
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, _unit: S, out: &mut [S]) {
        // The step is linear in r, so the unit does not change the coefficient.
        let coefficient = if tau.is_infinite() {
            S::one()
        } else {
            tau / (S::one() + tau)
        };
        for (o, &x) in out.iter_mut().zip(r) {
            *o = coefficient * x;
        }
    }
}

impl<B: Backend> EmaTracker<B> {
    /// Creates the tracker of dimension `dim`, starting at zero.
    pub fn new(dim: usize, schedule: StepSchedule<B::Scalar>) -> Self {
        Self {
            tracker: Tracker::new(dim, schedule),
            rule: EmaRule,
        }
    }

    /// Creates the EMA `m+ = beta m + (1 - beta) g` of dimension `dim`: the constant step
    /// `tau = (1 - beta)/beta` (`+inf` for `beta = 0`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"beta"` unless `0 <= beta < 1`.
    pub fn from_momentum(dim: usize, beta: B::Scalar) -> Result<Self, Error> {
        let zero = B::Scalar::zero();
        let one = B::Scalar::one();
        if !(beta >= zero && beta < one) {
            return Err(Error::InvalidParameter {
                name: "beta",
                value: beta.into_f64(),
                expected: "must be in [0, 1)",
            });
        }
        let tau = if beta == zero {
            B::Scalar::infinity()
        } else {
            (one - beta) / beta
        };
        Ok(Self::new(dim, StepSchedule::constant(tau)?))
    }
}

impl_tracker!([B: Backend] EmaTracker<B>, EmaRule);
