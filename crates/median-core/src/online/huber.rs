//! E6, the Huber-smoothed median tracker, also known as EMA with clipped innovation.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use super::StepSchedule;
use super::tracker::{NormClip, Rule, Tracker, impl_tracker};
use crate::Error;
use crate::clip::clip_norm_unchecked;

/// E6: tracks the Huber-smoothed median `argmin_m E H_delta(m - g)`, with
/// `H_delta(u) = ‖u‖²/(2 delta)` for `‖u‖ <= delta` and `‖u‖ - delta/2` otherwise, by SPP
/// steps `m+ = m + tau/(tau + delta) clip_{tau+delta}(g - m)`.
///
/// `delta` interpolates between the geometric median (`delta = 0`, exactly
/// [`GeometricMedianTracker`](super::GeometricMedianTracker)) and the mean (large
/// `delta`). When `‖g - m‖ <= tau + delta` the step is the EMA step
/// `tau/(tau + delta) (g - m)`.
///
/// Reparametrised by a momentum `beta` and a clipping threshold `c`, the update is the
/// "EMA with clipped innovation" `m+ = m + (1 - beta) clip_c(g - m)`, which is this tracker
/// with `tau = (1 - beta) c` and `delta = beta c`
/// ([`from_momentum`](Self::from_momentum), [`momentum_to_huber`], [`huber_to_momentum`]).
///
/// - Parameters: `delta` finite and `>= 0`; a [`StepSchedule`] with `tau_k > 0` (`+inf`
///   allowed: the update then returns the gradient).
/// - Cost: `O(d)` per update.
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`]; the estimate is unchanged.
///
/// # Examples
///
/// ```
/// use median_core::online::{HuberTracker, OnlineEstimator};
/// use median_linalg::VecBackend;
///
/// // beta = 0.5, c = 2.5: move by half the innovation clipped to norm 2.5.
/// let mut m = HuberTracker::<VecBackend<f64>>::from_momentum(2, 0.5, 2.5)?;
/// m.update(&[6.0, 8.0])?;
/// assert_eq!(m.estimate(), &[0.75, 1.0]);
/// m.update(&[1.75, 1.0])?; // within c: the EMA step
/// assert_eq!(m.estimate(), &[1.25, 1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct HuberTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: HuberRule<B::Scalar>,
}

#[derive(Debug, Clone, Copy)]
struct HuberRule<S> {
    delta: S,
}

impl<S: Scalar> Rule<S> for HuberRule<S> {
    fn label(&self) -> String {
        format!("E6-huber(delta={})", self.delta)
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        out.copy_from_slice(r);
        if tau.is_infinite() {
            return;
        }
        let threshold = tau + self.delta;
        clip_norm_unchecked(out, threshold / unit);

        // delta = 0 gives the coefficient 1 exactly, so E6 reduces to E2 bit for bit.
        let coefficient = tau / threshold;
        if coefficient != S::one() {
            for o in out.iter_mut() {
                *o = *o * coefficient;
            }
        }
    }

    fn norm_clip(&self, _sample: usize, tau: S) -> Option<NormClip<S>> {
        // tau = inf is the identity step, as in `step`.
        if tau.is_infinite() {
            return Some(NormClip {
                threshold: tau,
                coefficient: S::one(),
            });
        }
        let threshold = tau + self.delta;
        Some(NormClip {
            threshold,
            coefficient: tau / threshold,
        })
    }
}

impl<B: Backend> HuberTracker<B> {
    /// Creates the tracker of dimension `dim` with Huber parameter `delta`, starting at
    /// zero.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"delta"` unless `delta` is finite and `>= 0`.
    pub fn new(
        dim: usize,
        delta: B::Scalar,
        schedule: StepSchedule<B::Scalar>,
    ) -> Result<Self, Error> {
        if !(delta.is_finite() && delta >= B::Scalar::zero()) {
            return Err(Error::InvalidParameter {
                name: "delta",
                value: delta.into_f64(),
                expected: "must be finite and >= 0",
            });
        }
        Ok(Self {
            tracker: Tracker::new(dim, schedule),
            rule: HuberRule { delta },
        })
    }

    /// Creates the "EMA with clipped innovation" `m+ = m + (1 - beta) clip_c(g - m)` of
    /// dimension `dim`: this tracker with the constant step `tau = (1 - beta) c` and
    /// `delta = beta c`.
    ///
    /// # Errors
    ///
    /// As [`momentum_to_huber`].
    pub fn from_momentum(dim: usize, beta: B::Scalar, c: B::Scalar) -> Result<Self, Error> {
        let (tau, delta) = momentum_to_huber(beta, c)?;
        Self::new(dim, delta, StepSchedule::constant(tau)?)
    }

    /// Returns the Huber parameter `delta`.
    pub fn delta(&self) -> B::Scalar {
        self.rule.delta
    }
}

impl_tracker!([B: Backend] HuberTracker<B>, HuberRule<B::Scalar>);

/// Converts the momentum form `(beta, c)` of "EMA with clipped innovation" to the Huber
/// form: returns `(tau, delta) = ((1 - beta) c, beta c)`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] naming `"beta"` unless `0 <= beta < 1`, or naming `"c"`
/// unless `c` is finite and `> 0`.
///
/// # Examples
///
/// ```
/// use median_core::online::{huber_to_momentum, momentum_to_huber};
///
/// assert_eq!(momentum_to_huber(0.75, 4.0)?, (1.0, 3.0));
/// assert_eq!(huber_to_momentum(1.0, 3.0)?, (0.75, 4.0));
/// # Ok::<(), median_core::Error>(())
/// ```
pub fn momentum_to_huber<S: Scalar>(beta: S, c: S) -> Result<(S, S), Error> {
    if !(beta >= S::zero() && beta < S::one()) {
        return Err(Error::InvalidParameter {
            name: "beta",
            value: beta.into_f64(),
            expected: "must be in [0, 1)",
        });
    }
    if !(c.is_finite() && c > S::zero()) {
        return Err(Error::InvalidParameter {
            name: "c",
            value: c.into_f64(),
            expected: "must be finite and > 0",
        });
    }
    Ok(((S::one() - beta) * c, beta * c))
}

/// Converts the Huber form `(tau, delta)` to the momentum form of "EMA with clipped
/// innovation": returns `(beta, c) = (delta/(tau + delta), tau + delta)`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] naming `"tau"` unless `tau` is finite and `> 0`, or naming
/// `"delta"` unless `delta` is finite and `>= 0`.
pub fn huber_to_momentum<S: Scalar>(tau: S, delta: S) -> Result<(S, S), Error> {
    if !(tau.is_finite() && tau > S::zero()) {
        return Err(Error::InvalidParameter {
            name: "tau",
            value: tau.into_f64(),
            expected: "must be finite and > 0",
        });
    }
    if !(delta.is_finite() && delta >= S::zero()) {
        return Err(Error::InvalidParameter {
            name: "delta",
            value: delta.into_f64(),
            expected: "must be finite and >= 0",
        });
    }
    let c = tau + delta;
    Ok((delta / c, c))
}
