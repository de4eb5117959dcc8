//! E2, the geometric-median tracker, and E8, its weighted version over a finite sample set.

use median_linalg::{Backend, Scalar};

use super::tracker::{NormClip, Rule, Tracker, impl_tracker, impl_tracker_common};
use super::{OnlineEstimator, StepSchedule};
use crate::Error;
use crate::clip::clip_norm_unchecked;

/// E2: tracks the geometric median `argmin_m E ‖m - g‖₂` by SPP steps
/// `m+ = m + clip_tau(g - m)`, with `clip_tau(v) = min(1, tau/‖v‖₂) v`.
///
/// When `‖g - m‖₂ <= tau` the estimate becomes `g` exactly; otherwise it moves by exactly
/// `tau` along the segment towards `g`. With `tau = +inf` every update returns the
/// gradient bit for bit (plain SGD inside an optimizer); resetting the anchor to zero
/// before each update gives clipped SGD.
///
/// - Parameters: a [`StepSchedule`] with `tau_k > 0` (`+inf` allowed).
/// - Cost: `O(d)` per update: one pass that reads `g` and `m` for `‖g - m‖₂`, and one that
///   updates `m` (more passes, through scratch vectors, when `g - m` or its norm
///   overflows).
/// - Robustness: one gradient moves the estimate by at most `tau`, whatever its size. The
///   geometric median itself has breakdown point 1/2.
/// - NaN policy: a non-finite gradient is [`Error::NonFinite`]; the estimate is unchanged.
/// - Errors: see [`OnlineEstimator`].
///
/// # Examples
///
/// ```
/// use median_core::online::{GeometricMedianTracker, OnlineEstimator, StepSchedule};
/// use median_linalg::VecBackend;
///
/// let mut m = GeometricMedianTracker::<VecBackend<f64>>::new(2, StepSchedule::constant(5.0)?);
/// m.update(&[6.0, 8.0])?; // ‖g - m‖ = 10 > 5: move by 5 towards g
/// assert_eq!(m.estimate(), &[3.0, 4.0]);
/// m.update(&[4.0, 5.0])?; // ‖g - m‖ < 5: land on g
/// assert_eq!(m.estimate(), &[4.0, 5.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
/// Estimating the Median Gradient", arXiv:2402.12828, 2024.
pub struct GeometricMedianTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: GeometricRule,
}

#[derive(Debug, Clone, Copy)]
struct GeometricRule;

impl<S: Scalar> Rule<S> for GeometricRule {
    fn label(&self) -> String {
        "E2-geometric".to_string()
    }

    fn step(&self, _sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        out.copy_from_slice(r);
        clip_norm_unchecked(out, tau / unit);
    }

    fn norm_clip(&self, _sample: usize, tau: S) -> Option<NormClip<S>> {
        Some(NormClip {
            threshold: tau,
            coefficient: S::one(),
        })
    }
}

impl<B: Backend> GeometricMedianTracker<B> {
    /// Creates the tracker of dimension `dim`, starting at zero.
    pub fn new(dim: usize, schedule: StepSchedule<B::Scalar>) -> Self {
        Self {
            tracker: Tracker::new(dim, schedule),
            rule: GeometricRule,
        }
    }
}

impl_tracker!([B: Backend] GeometricMedianTracker<B>, GeometricRule);

/// E8: tracks the weighted geometric median `argmin_m sum_i w_i ‖m - g_i‖₂` of a fixed set
/// of `n` samples, by SPP steps on one sample at a time:
/// `m+ = m + clip_{tau n w_i}(g_i - m)` for sample `i`.
///
/// The weights are normalised to sum to 1, so equal weights give the thresholds `tau` of
/// [`GeometricMedianTracker`]; a sample of weight 0 never moves the estimate.
///
/// - [`update_sample(i, g)`](Self::update_sample) steps on sample `i`.
/// - [`update`](OnlineEstimator::update) steps on sample `k mod n`, for the `k`-th update
///   since the last reset (a cyclic sweep over the set).
/// - [`update_batch`](OnlineEstimator::update_batch) takes a batch of exactly `n`
///   gradients, gradient `i` being sample `i`, and makes the full surrogate step
///   `m + (1/n) sum_i clip_{tau n w_i}(g_i - m)`.
///
/// Cost: `O(d)` per sample step. NaN policy and other errors as in [`OnlineEstimator`].
///
/// # Examples
///
/// ```
/// use median_core::online::{OnlineEstimator, StepSchedule, WeightedGeometricMedianTracker};
/// use median_linalg::VecBackend;
///
/// let schedule = StepSchedule::constant(0.5)?;
/// let mut m = WeightedGeometricMedianTracker::<VecBackend<f64>>::new(1, &[1.0, 3.0], schedule)?;
/// // Sample 1 has weight 3/4, so its threshold is 0.5 * 2 * 3/4 = 0.75.
/// m.update_sample(1, &[3.0])?;
/// assert_eq!(m.estimate(), &[0.75]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub struct WeightedGeometricMedianTracker<B: Backend> {
    tracker: Tracker<B>,
    rule: WeightedRule<B::Scalar>,
}

/// The factors `n w_i / sum_j w_j` that scale `tau` for each sample.
#[derive(Debug, Clone)]
struct WeightedRule<S> {
    factors: Vec<S>,
}

impl<S: Scalar> Rule<S> for WeightedRule<S> {
    fn label(&self) -> String {
        "E8-weighted-geometric".to_string()
    }

    fn step(&self, sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]) {
        out.copy_from_slice(r);
        clip_norm_unchecked(out, self.threshold(sample, tau) / unit);
    }

    fn norm_clip(&self, sample: usize, tau: S) -> Option<NormClip<S>> {
        Some(NormClip {
            threshold: self.threshold(sample, tau),
            coefficient: S::one(),
        })
    }
}

impl<S: Scalar> WeightedRule<S> {
    /// Returns the threshold `tau n w_i / sum_j w_j` of sample `sample`.
    fn threshold(&self, sample: usize, tau: S) -> S {
        // A zero weight gives a zero threshold, also for tau = inf (where inf * 0 is NaN).
        let factor = self.factors[sample];
        if factor == S::zero() {
            S::zero()
        } else {
            tau * factor
        }
    }
}

impl<B: Backend> WeightedGeometricMedianTracker<B> {
    /// Creates the tracker of dimension `dim` for `weights.len()` samples, starting at zero.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidWeights`] if a weight is negative, NaN or infinite, or if no weight
    /// is positive (including an empty list).
    pub fn new(
        dim: usize,
        weights: &[B::Scalar],
        schedule: StepSchedule<B::Scalar>,
    ) -> Result<Self, Error> {
        let factors = threshold_factors(weights)?;
        Ok(Self {
            tracker: Tracker::new(dim, schedule),
            rule: WeightedRule { factors },
        })
    }

    /// Returns the sample that [`update`](OnlineEstimator::update) steps on next: the
    /// number of updates since the last reset, modulo `n`.
    fn next_sample(&self) -> usize {
        let n = self.sample_count() as u64;
        (self.tracker.steps() % n) as usize
    }

    /// Returns the number of samples `n`.
    pub fn sample_count(&self) -> usize {
        self.rule.factors.len()
    }

    /// Returns the threshold factor `n w_i / sum_j w_j` of every sample: sample `i` is
    /// clipped at `tau_k` times its factor.
    pub fn threshold_factors(&self) -> &[B::Scalar] {
        &self.rule.factors
    }

    /// Moves the estimate by the SPP step on sample `sample` with gradient `gradient`:
    /// `m + clip_{tau n w_i}(g_i - m)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"sample"` if `sample >= n`, and the errors of
    /// [`update`](OnlineEstimator::update); the estimate is then unchanged.
    pub fn update_sample(&mut self, sample: usize, gradient: &[B::Scalar]) -> Result<(), Error> {
        if sample >= self.sample_count() {
            return Err(Error::InvalidParameter {
                name: "sample",
                value: sample as f64,
                expected: "must be less than the number of weights",
            });
        }
        self.tracker.update(&self.rule, sample, gradient)
    }
}

impl<B: Backend> OnlineEstimator<B> for WeightedGeometricMedianTracker<B> {
    fn name(&self) -> String {
        Rule::<B::Scalar>::label(&self.rule)
    }

    fn update(&mut self, gradient: &[B::Scalar]) -> Result<(), Error> {
        let sample = self.next_sample();
        self.tracker.update(&self.rule, sample, gradient)
    }

    fn update_and_descend(
        &mut self,
        gradient: &[B::Scalar],
        gamma: B::Scalar,
        point: &mut [B::Scalar],
    ) -> Result<bool, Error> {
        let sample = self.next_sample();
        self.tracker
            .update_and_descend(&self.rule, sample, gradient, gamma, point)
    }

    fn update_batch(&mut self, batch: &B::Batch) -> Result<(), Error> {
        let count = B::batch_count(batch);
        if count == 0 {
            return Err(Error::EmptyBatch);
        }
        if count != self.sample_count() {
            return Err(Error::DimensionMismatch {
                what: "batch",
                index: 0,
                expected: self.sample_count(),
                found: count,
            });
        }
        self.tracker.update_batch(&self.rule, batch, |i| i)
    }

    fn estimate(&self) -> &[B::Scalar] {
        self.tracker.estimate()
    }

    fn reset_to(&mut self, anchor: &[B::Scalar]) -> Result<(), Error> {
        self.tracker.reset_to(anchor)
    }

    fn reset(&mut self) {
        self.tracker.reset()
    }
}

impl_tracker_common!([B: Backend] WeightedGeometricMedianTracker<B>, WeightedRule<B::Scalar>);

/// Validates the weights and returns `n w_i / sum_j w_j`, computed on weights divided by
/// their maximum so that the sum cannot overflow. Equal weights give factors of exactly 1.
fn threshold_factors<S: Scalar>(weights: &[S]) -> Result<Vec<S>, Error> {
    if let Some((i, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !w.is_finite() || **w < S::zero())
    {
        return Err(Error::InvalidWeights {
            reason: format!("weight {i} is {w}; every weight must be finite and >= 0"),
        });
    }
    let max = weights.iter().fold(S::zero(), |acc, &w| acc.max(w));
    if max == S::zero() {
        return Err(Error::InvalidWeights {
            reason: format!(
                "the {} weights sum to 0; at least one weight must be positive",
                weights.len()
            ),
        });
    }

    let n = S::of_usize(weights.len());
    let sum = weights.iter().fold(S::zero(), |acc, &w| acc + w / max);
    Ok(weights.iter().map(|&w| (w / max) * n / sum).collect())
}
