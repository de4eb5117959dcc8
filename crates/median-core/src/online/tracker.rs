//! The state and update loop shared by every SPP tracker; each tracker adds its step rule.

use std::fmt;

use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use median_linalg::{Backend, Scalar};
use num_traits::{Float, One, Zero};
use rayon::prelude::*;

use super::StepSchedule;
use crate::Error;
use crate::clip::{all_finite, check_finite};

/// The step of one SPP update: the move of the estimate for innovation `r = g - m`.
pub(crate) trait Rule<S: Scalar> {
    /// Returns the label reported by [`OnlineEstimator::name`](super::OnlineEstimator::name).
    fn label(&self) -> String;

    /// Writes the step for the innovation `unit * r` into `out`, in units of `unit`.
    ///
    /// `r` is finite, `tau` is `> 0` or `+inf`, and `unit` is 1 or 2 (2 when `g - m`
    /// overflowed and `r` contains `g/2 - m/2`). Every rule is positively homogeneous once its
    /// length parameters (`tau`, and `delta` for Huber) are divided by `unit`. A coordinate
    /// where the rule is inactive must be copied from `r` bit for bit: the tracker then
    /// writes the gradient's coordinate itself. `sample` is the sample index (weighted
    /// rule only).
    fn step(&self, sample: usize, r: &[S], tau: S, unit: S, out: &mut [S]);

    /// Returns the step as a [`NormClip`] when it is `coefficient * clip_threshold(r)` for
    /// `unit = 1`, so that the tracker can update in two passes without scratch vectors.
    /// `None` (the default) sends every update through [`step`](Rule::step).
    ///
    /// The fast path computes the step as `(r * (threshold / ‖r‖₂)) * coefficient`, with
    /// the factor 1 when `‖r‖₂ <= threshold`. It must give the same bits as `step`.
    fn norm_clip(&self, sample: usize, tau: S) -> Option<NormClip<S>> {
        let _ = (sample, tau);
        None
    }
}

/// A step `coefficient * clip_threshold(r)`: the innovation clipped to Euclidean norm
/// `threshold`, then scaled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NormClip<S> {
    /// The clipping threshold, `> 0` or `+inf`.
    pub(crate) threshold: S,
    /// The factor applied after clipping, 1 for a plain clip.
    pub(crate) coefficient: S,
}

/// The iterate, optional Polyak-Ruppert average, schedule and scratch of a tracker.
pub(crate) struct Tracker<B: Backend> {
    iterate: B::Vector,
    average: Option<B::Vector>,
    /// The number of iterates in the average.
    averaged: u64,
    schedule: StepSchedule<B::Scalar>,
    steps: u64,
    innovation: Vec<B::Scalar>,
    step: Vec<B::Scalar>,
    step_sum: Vec<B::Scalar>,
}

impl<B: Backend> Clone for Tracker<B> {
    fn clone(&self) -> Self {
        Self {
            iterate: self.iterate.clone(),
            average: self.average.clone(),
            averaged: self.averaged,
            schedule: self.schedule,
            steps: self.steps,
            innovation: self.innovation.clone(),
            step: self.step.clone(),
            step_sum: self.step_sum.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for Tracker<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracker")
            .field("backend", &B::NAME)
            .field("iterate", &self.iterate)
            .field("average", &self.average)
            .field("schedule", &self.schedule)
            .field("steps", &self.steps)
            .finish()
    }
}

impl<B: Backend> Tracker<B> {
    /// Creates a tracker of dimension `dim` at the zero vector, without averaging.
    pub(crate) fn new(dim: usize, schedule: StepSchedule<B::Scalar>) -> Self {
        let zero = B::Scalar::zero();
        Self {
            iterate: B::vector_zeros(dim),
            average: None,
            averaged: 0,
            schedule,
            steps: 0,
            innovation: vec![zero; dim],
            step: vec![zero; dim],
            step_sum: vec![zero; dim],
        }
    }

    /// Turns Polyak-Ruppert averaging on or off, starting from the current iterate.
    pub(crate) fn set_averaging(&mut self, on: bool) {
        self.average = on.then(|| self.iterate.clone());
        self.averaged = 0;
    }

    pub(crate) fn averaging(&self) -> bool {
        self.average.is_some()
    }

    pub(crate) fn dim(&self) -> usize {
        self.innovation.len()
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    pub(crate) fn schedule(&self) -> &StepSchedule<B::Scalar> {
        &self.schedule
    }

    pub(crate) fn iterate(&self) -> &[B::Scalar] {
        B::vector_as_slice(&self.iterate)
    }

    pub(crate) fn estimate_vector(&self) -> &B::Vector {
        self.average.as_ref().unwrap_or(&self.iterate)
    }

    pub(crate) fn estimate(&self) -> &[B::Scalar] {
        B::vector_as_slice(self.estimate_vector())
    }

    /// Applies one SPP update with `gradient` as sample `sample`.
    pub(crate) fn update<R: Rule<B::Scalar>>(
        &mut self,
        rule: &R,
        sample: usize,
        gradient: &[B::Scalar],
    ) -> Result<(), Error> {
        self.check_gradient_len(gradient)?;

        let tau = self.schedule.step_size(self.steps);
        let fused = rule
            .norm_clip(sample, tau)
            .is_some_and(|clip| self.apply_norm_clip(clip, gradient, None).is_some());
        if !fused {
            check_finite(gradient, 0)?;
            self.apply(rule, sample, gradient, tau);
        }
        self.finish_step();
        Ok(())
    }

    /// Applies one SPP update with `gradient` as sample `sample`, then moves `point` to
    /// `point - gamma * estimate`, and returns whether the new point is finite.
    ///
    /// For a rule with a [`NormClip`] step and averaging off, both happen in one pass over
    /// the estimate, the gradient and the point, after one pass that reads the gradient and
    /// the estimate for the norm of the innovation.
    pub(crate) fn update_and_descend<R: Rule<B::Scalar>>(
        &mut self,
        rule: &R,
        sample: usize,
        gradient: &[B::Scalar],
        gamma: B::Scalar,
        point: &mut [B::Scalar],
    ) -> Result<bool, Error> {
        self.check_gradient_len(gradient)?;
        if point.len() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "point",
                index: 0,
                expected: self.dim(),
                found: point.len(),
            });
        }

        let tau = self.schedule.step_size(self.steps);
        if self.average.is_none()
            && let Some(clip) = rule.norm_clip(sample, tau)
            && let Some(finite) = self.apply_norm_clip(clip, gradient, Some((gamma, &mut *point)))
        {
            self.finish_step();
            return Ok(finite);
        }

        check_finite(gradient, 0)?;
        self.apply(rule, sample, gradient, tau);
        self.finish_step();
        kernels::axpy(-gamma, self.estimate(), point);
        Ok(all_finite(point))
    }

    /// Checks a gradient's length against the tracker's dimension.
    fn check_gradient_len(&self, gradient: &[B::Scalar]) -> Result<(), Error> {
        if gradient.len() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "gradient",
                index: 0,
                expected: self.dim(),
                found: gradient.len(),
            });
        }
        Ok(())
    }

    /// Applies the mini-batch surrogate step `m + (1/b) sum_i step_i(m)`; `sample_of(i)`
    /// gives the sample index of gradient `i`.
    pub(crate) fn update_batch<R: Rule<B::Scalar>>(
        &mut self,
        rule: &R,
        batch: &B::Batch,
        sample_of: impl Fn(usize) -> usize,
    ) -> Result<(), Error> {
        let count = B::batch_count(batch);
        if count == 0 {
            return Err(Error::EmptyBatch);
        }
        if B::batch_dim(batch) != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "gradient",
                index: 0,
                expected: self.dim(),
                found: B::batch_dim(batch),
            });
        }
        for i in 0..count {
            check_finite(B::batch_gradient(batch, i), i)?;
        }

        // One gradient: the plain update, which lands exactly on the gradient when the
        // step is inactive.
        let tau = self.schedule.step_size(self.steps);
        if count == 1 {
            self.apply(rule, sample_of(0), B::batch_gradient(batch, 0), tau);
            self.finish_step();
            return Ok(());
        }

        self.step_sum.fill(B::Scalar::zero());
        for i in 0..count {
            let unit = self.compute_step(rule, sample_of(i), B::batch_gradient(batch, i), tau);
            for (acc, &s) in self.step_sum.iter_mut().zip(&self.step) {
                *acc = *acc + unit * s;
            }
        }
        // NOTE: the sum of b steps may overflow when the steps are near the largest float.
        let b = B::Scalar::of_usize(count);
        let m = B::vector_as_mut_slice(&mut self.iterate);
        for (mj, &sj) in m.iter_mut().zip(&self.step_sum) {
            *mj = *mj + sj / b;
        }
        self.finish_step();
        Ok(())
    }

    /// Sets the iterate (and the average) to `anchor` and restarts the schedule.
    pub(crate) fn reset_to(&mut self, anchor: &[B::Scalar]) -> Result<(), Error> {
        if anchor.len() != self.dim() {
            return Err(Error::DimensionMismatch {
                what: "anchor",
                index: 0,
                expected: self.dim(),
                found: anchor.len(),
            });
        }
        check_finite(anchor, 0)?;

        B::vector_as_mut_slice(&mut self.iterate).copy_from_slice(anchor);
        if let Some(average) = self.average.as_mut() {
            B::vector_as_mut_slice(average).copy_from_slice(anchor);
        }
        self.steps = 0;
        self.averaged = 0;
        Ok(())
    }

    /// Sets the iterate (and the average) to zero and restarts the schedule.
    pub(crate) fn reset(&mut self) {
        let zero = B::Scalar::zero();
        B::vector_as_mut_slice(&mut self.iterate).fill(zero);
        if let Some(average) = self.average.as_mut() {
            B::vector_as_mut_slice(average).fill(zero);
        }
        self.steps = 0;
        self.averaged = 0;
    }

    /// Moves the iterate by the step for a checked `gradient`.
    fn apply<R: Rule<B::Scalar>>(
        &mut self,
        rule: &R,
        sample: usize,
        gradient: &[B::Scalar],
        tau: B::Scalar,
    ) {
        let unit = self.compute_step(rule, sample, gradient, tau);
        let halved = unit != B::Scalar::one();

        // Where the rule is inactive the step equals the innovation: write the gradient
        // itself, because m + (g - m) differs from g in floating point.
        let chunk = |m: &mut [B::Scalar], step: &[B::Scalar], r: &[B::Scalar], g: &[B::Scalar]| {
            for j in 0..m.len() {
                let s = step[j];
                if s == r[j] {
                    m[j] = g[j];
                } else if halved {
                    m[j] = (m[j] + s) + s;
                } else {
                    m[j] = m[j] + s;
                }
            }
        };
        let m = B::vector_as_mut_slice(&mut self.iterate);
        if m.len() < PARALLEL_MIN_LEN {
            chunk(m, &self.step, &self.innovation, gradient);
            return;
        }
        m.par_chunks_mut(CHUNK)
            .zip(self.step.par_chunks(CHUNK))
            .zip(self.innovation.par_chunks(CHUNK))
            .zip(gradient.par_chunks(CHUNK))
            .for_each(|(((m, step), r), g)| chunk(m, step, r, g));
    }

    /// Moves the iterate by the step `clip` for `gradient`, in two passes and without
    /// scratch, and with `descent = Some((gamma, point))` also moves `point` to
    /// `point - gamma * m+` in the second pass.
    ///
    /// Returns `None`, with nothing written, when the fast path does not apply: a gradient
    /// with a NaN or infinite entry, an innovation `g - m` that overflows (or whose norm
    /// does), or a zero threshold for a non-zero innovation. Otherwise returns whether the
    /// new point is finite (`true` without a point). The iterate equals the one of
    /// [`apply`](Self::apply) with the rule's [`step`](Rule::step), bit for bit, on any
    /// number of threads.
    fn apply_norm_clip(
        &mut self,
        clip: NormClip<B::Scalar>,
        gradient: &[B::Scalar],
        descent: Option<(B::Scalar, &mut [B::Scalar])>,
    ) -> Option<bool> {
        // A finite distance means that every g_j - m_j is finite, and so is every g_j,
        // because the iterate always is. It equals kernels::norm(g - m) bit for bit.
        let m = B::vector_as_mut_slice(&mut self.iterate);
        let norm = kernels::distance(gradient, m);
        if !norm.is_finite() {
            return None;
        }
        let factor = if norm <= clip.threshold {
            B::Scalar::one()
        } else if clip.threshold > B::Scalar::zero() {
            clip.threshold / norm
        } else {
            return None;
        };

        let step = ClipStep {
            factor,
            coefficient: clip.coefficient,
        };
        Some(match descent {
            None => {
                step.update(m, gradient);
                true
            }
            Some((gamma, point)) => step.update_and_descend(m, gradient, -gamma, point),
        })
    }

    /// Writes the innovation and the rule's step into scratch and returns the unit.
    fn compute_step<R: Rule<B::Scalar>>(
        &mut self,
        rule: &R,
        sample: usize,
        gradient: &[B::Scalar],
        tau: B::Scalar,
    ) -> B::Scalar {
        let m = B::vector_as_slice(&self.iterate);
        let difference = |r: &mut [B::Scalar], g: &[B::Scalar], m: &[B::Scalar]| {
            for ((r, &g), &mj) in r.iter_mut().zip(g).zip(m) {
                *r = g - mj;
            }
            // The chunk of r is still in cache, so this check costs no memory traffic.
            !all_finite(r)
        };
        let overflow = if m.len() < PARALLEL_MIN_LEN {
            difference(&mut self.innovation, gradient, m)
        } else {
            self.innovation
                .par_chunks_mut(CHUNK)
                .zip(gradient.par_chunks(CHUNK))
                .zip(m.par_chunks(CHUNK))
                .map(|((r, g), m)| difference(r, g, m))
                .reduce(|| false, |a, b| a || b)
        };

        // g - m overflows only for entries near the largest float; halving both is exact
        // and keeps the difference finite.
        let mut unit = B::Scalar::one();
        if overflow {
            let half = B::Scalar::of_f64(0.5);
            for ((r, &g), &mj) in self.innovation.iter_mut().zip(gradient).zip(m) {
                *r = g * half - mj * half;
            }
            unit = B::Scalar::of_f64(2.0);
        }

        rule.step(sample, &self.innovation, tau, unit, &mut self.step);
        unit
    }

    /// Counts the step and updates the Polyak-Ruppert average.
    fn finish_step(&mut self) {
        self.steps += 1;
        let Some(average) = self.average.as_mut() else {
            return;
        };
        let m = B::vector_as_slice(&self.iterate);
        let avg = B::vector_as_mut_slice(average);
        self.averaged += 1;
        if self.averaged == 1 {
            avg.copy_from_slice(m);
            return;
        }
        let k = B::Scalar::of_f64(self.averaged as f64);
        for (a, &x) in avg.iter_mut().zip(m) {
            *a = *a + (x - *a) / k;
        }
    }
}

/// The coordinate-wise update `m+ = m + s` with `s = (r * factor) * coefficient` and
/// `r = g - m`, where `m+ = g` exactly wherever `s == r` (the rule is inactive there).
#[derive(Clone, Copy)]
struct ClipStep<S> {
    factor: S,
    coefficient: S,
}

impl<S: Scalar> ClipStep<S> {
    /// Returns the new value of one coordinate of the iterate.
    #[inline(always)]
    fn coordinate(self, m: S, g: S) -> S {
        let r = g - m;
        let s = (r * self.factor) * self.coefficient;
        if s == r { g } else { m + s }
    }

    /// Updates the iterate `m` towards `g`, in chunks of [`CHUNK`] coordinates.
    fn update(self, m: &mut [S], g: &[S]) {
        let chunk = |m: &mut [S], g: &[S]| {
            for (mj, &gj) in m.iter_mut().zip(g) {
                *mj = self.coordinate(*mj, gj);
            }
        };
        if m.len() < PARALLEL_MIN_LEN {
            chunk(m, g);
            return;
        }
        m.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .for_each(|(m, g)| chunk(m, g));
    }

    /// Updates the iterate `m` towards `g` and moves `x` to `x + alpha * m+`, in chunks of
    /// [`CHUNK`] coordinates. Returns whether every new `x_j` is finite.
    fn update_and_descend(self, m: &mut [S], g: &[S], alpha: S, x: &mut [S]) -> bool {
        let chunk = |m: &mut [S], g: &[S], x: &mut [S]| {
            for ((mj, &gj), xj) in m.iter_mut().zip(g).zip(x.iter_mut()) {
                let new_m = self.coordinate(*mj, gj);
                *mj = new_m;
                // The same operations as kernels::axpy(alpha, m+, x).
                *xj = *xj + alpha * new_m;
            }
            // The chunk of x is still in cache, so this check costs no memory traffic.
            all_finite(x)
        };
        if m.len() < PARALLEL_MIN_LEN {
            return chunk(m, g, x);
        }
        m.par_chunks_mut(CHUNK)
            .zip(g.par_chunks(CHUNK))
            .zip(x.par_chunks_mut(CHUNK))
            .map(|((m, g), x)| chunk(m, g, x))
            .reduce(|| true, |a, b| a && b)
    }
}

/// Implements [`OnlineEstimator`](super::OnlineEstimator), `Clone`, `Debug` and the shared
/// inherent methods for a tracker struct with fields `tracker` and `rule`.
macro_rules! impl_tracker {
    ([$($generics:tt)*] $ty:ty, $rule:ty) => {
        impl<$($generics)*> $crate::online::OnlineEstimator<B> for $ty {
            fn name(&self) -> String {
                $crate::online::tracker::Rule::<B::Scalar>::label(&self.rule)
            }

            fn update(&mut self, gradient: &[B::Scalar]) -> Result<(), $crate::Error> {
                self.tracker.update(&self.rule, 0, gradient)
            }

            fn update_and_descend(
                &mut self,
                gradient: &[B::Scalar],
                gamma: B::Scalar,
                point: &mut [B::Scalar],
            ) -> Result<bool, $crate::Error> {
                self.tracker
                    .update_and_descend(&self.rule, 0, gradient, gamma, point)
            }

            fn update_batch(&mut self, batch: &B::Batch) -> Result<(), $crate::Error> {
                self.tracker.update_batch(&self.rule, batch, |_| 0)
            }

            fn estimate(&self) -> &[B::Scalar] {
                self.tracker.estimate()
            }

            fn reset_to(&mut self, anchor: &[B::Scalar]) -> Result<(), $crate::Error> {
                self.tracker.reset_to(anchor)
            }

            fn reset(&mut self) {
                self.tracker.reset()
            }
        }

        $crate::online::tracker::impl_tracker_common!([$($generics)*] $ty, $rule);
    };
}

/// Implements `Clone`, `Debug` and the shared inherent methods (no trait impl).
macro_rules! impl_tracker_common {
    ([$($generics:tt)*] $ty:ty, $rule:ty) => {
        impl<$($generics)*> Clone for $ty
        where
            $rule: Clone,
        {
            fn clone(&self) -> Self {
                Self {
                    tracker: self.tracker.clone(),
                    rule: self.rule.clone(),
                }
            }
        }

        impl<$($generics)*> std::fmt::Debug for $ty
        where
            $rule: std::fmt::Debug,
        {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("rule", &self.rule)
                    .field("tracker", &self.tracker)
                    .finish()
            }
        }

        impl<$($generics)*> $ty {
            /// Turns Polyak-Ruppert averaging on: from now on,
            /// [`estimate`](crate::online::OnlineEstimator::estimate) returns the running
            /// average of the iterates produced by the updates since averaging was turned
            /// on or the tracker was last reset (the current iterate until the next
            /// update).
            #[must_use]
            pub fn with_averaging(mut self) -> Self {
                self.tracker.set_averaging(true);
                self
            }

            /// Turns Polyak-Ruppert averaging on or off. Turning it on starts a new average
            /// (see [`with_averaging`](Self::with_averaging)).
            pub fn set_averaging(&mut self, on: bool) {
                self.tracker.set_averaging(on);
            }

            /// Returns whether Polyak-Ruppert averaging is on.
            pub fn averaging(&self) -> bool {
                self.tracker.averaging()
            }

            /// Returns the dimension fixed at construction.
            pub fn dim(&self) -> usize {
                self.tracker.dim()
            }

            /// Returns the number of updates since construction or the last reset (a
            /// mini-batch update counts once).
            pub fn steps(&self) -> u64 {
                self.tracker.steps()
            }

            /// Returns the step-size schedule.
            pub fn schedule(&self) -> &$crate::online::StepSchedule<B::Scalar> {
                self.tracker.schedule()
            }

            /// Returns the current iterate `m_k` (equal to the estimate unless averaging is
            /// on).
            pub fn iterate(&self) -> &[B::Scalar] {
                self.tracker.iterate()
            }

            /// Returns the estimate as the backend's vector type.
            pub fn estimate_vector(&self) -> &B::Vector {
                self.tracker.estimate_vector()
            }
        }
    };
}

pub(crate) use impl_tracker;
pub(crate) use impl_tracker_common;
