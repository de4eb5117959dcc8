//! The DP-SGD gradient step: per-sample clipping around an anchor, a sum, and Gaussian noise.
//!
//! For per-sample gradients `g_1..g_b`, an anchor `a` (zero for classical DP-SGD), a clipping
//! norm `C` and a noise multiplier `sigma`, the private gradient is
//!
//! `a + (1 / B) (sum_i clip_C(g_i - a) + N(0, sigma^2 C^2 I))`,
//!
//! where `B` is the batch size for fixed-size sampling and the expected batch size `q N`
//! for Poisson sampling (dividing by the realised size would leak it). With `a = 0` and
//! fixed-size batches, this is the mini-batch stochastic proximal point step of the
//! geometric-median tracker from zero, `(1/b) sum_i clip_C(g_i)`, plus noise.
//!
//! With per-layer clipping, each block `j` of every per-sample gradient is clipped to its
//! own norm `C_j`. The sensitivity of the sum is then `C = sqrt(sum_j C_j^2)`, and the noise
//! is `N(0, sigma^2 C^2 I)` on every coordinate, so the accountant applies with the same
//! `sigma`.
//!
//! # Why the anchored variant stays private
//!
//! [`AnchoredDpSgd`] clips around its tracked estimate instead of zero. The estimate is set
//! only from earlier private outputs ([`PrivateGradient`], which only [`DpGradient::privatize`]
//! creates), never from raw gradients. Each step's output is the Gaussian mechanism applied
//! to a sum whose sensitivity is `C` whatever the anchor, because clipping around any fixed
//! point bounds each sample's contribution by `C`. The anchor is a function of earlier outputs
//! only, so by post-processing and adaptive composition the privacy cost is the same as for
//! DP-SGD from zero.
//!
//! # References
//!
//! M. Abadi et al., "Deep Learning with Differential Privacy", CCS 2016.

use median_core::clip::clip_norm_in_place;
use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use median_linalg::{Backend, Scalar};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use rayon::prelude::*;

use crate::DpError;
use crate::accountant::{RdpAccountant, SamplingScheme};

/// The clipping of per-sample gradients: global or per layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Clipping {
    /// Clip the whole gradient to Euclidean norm `clip_norm`.
    Global {
        /// The clipping norm `C`, finite and `> 0`.
        clip_norm: f64,
    },
    /// Clip each parameter block to its own norm.
    PerLayer {
        /// The lengths of the consecutive blocks; they must add up to the dimension.
        layer_sizes: Vec<usize>,
        /// One clipping norm per block, each finite and `> 0`.
        clip_norms: Vec<f64>,
    },
}

impl Clipping {
    /// Returns the sensitivity of the clipped sum: `C`, or `sqrt(sum_j C_j^2)` per layer.
    pub fn sensitivity(&self) -> f64 {
        match self {
            Self::Global { clip_norm } => *clip_norm,
            Self::PerLayer { clip_norms, .. } => {
                clip_norms.iter().map(|c| c * c).sum::<f64>().sqrt()
            }
        }
    }

    /// Returns the clipped blocks as `(start, end, clip_norm)`: one block for global
    /// clipping, one per layer otherwise.
    fn blocks(&self, dim: usize) -> Vec<(usize, usize, f64)> {
        match self {
            Self::Global { clip_norm } => vec![(0, dim, *clip_norm)],
            Self::PerLayer {
                layer_sizes,
                clip_norms,
            } => {
                let mut start = 0;
                layer_sizes
                    .iter()
                    .zip(clip_norms)
                    .map(|(&size, &c)| {
                        start += size;
                        (start - size, start, c)
                    })
                    .collect()
            }
        }
    }

    /// Checks the thresholds, and the block layout against `dim`.
    fn validate(&self, dim: usize) -> Result<(), DpError> {
        match self {
            Self::Global { clip_norm } => validate_clip_norm(*clip_norm),
            Self::PerLayer {
                layer_sizes,
                clip_norms,
            } => {
                if layer_sizes.len() != clip_norms.len() {
                    return Err(DpError::LayerMismatch {
                        layers: layer_sizes.len(),
                        thresholds: clip_norms.len(),
                    });
                }
                clip_norms.iter().try_for_each(|&c| validate_clip_norm(c))?;
                let total: usize = layer_sizes.iter().sum();
                if total != dim {
                    return Err(DpError::DimensionMismatch {
                        what: "layer sizes (sum)",
                        expected: dim,
                        found: total,
                    });
                }
                Ok(())
            }
        }
    }
}

/// Rejects a clipping norm that is not finite and positive.
///
/// Zero is rejected because it would give zero signal and zero noise, and infinity because
/// the noise standard deviation `sigma C` would be infinite.
fn validate_clip_norm(clip_norm: f64) -> Result<(), DpError> {
    if clip_norm.is_finite() && clip_norm > 0.0 {
        Ok(())
    } else {
        Err(DpError::invalid(
            "clip_norm",
            clip_norm,
            "must be finite and > 0",
        ))
    }
}

/// The settings of the private gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct DpConfig {
    /// The clipping of per-sample gradients.
    pub clipping: Clipping,
    /// The noise multiplier `sigma >= 0`: the noise standard deviation over the sensitivity.
    /// Zero adds no noise and gives no privacy.
    pub noise_multiplier: f64,
    /// The sampling scheme of the batches, which fixes the divisor.
    pub sampling: SamplingScheme,
    /// The expected batch size `q N` (Poisson) or the batch size (fixed-size), `> 0`.
    pub batch_size: f64,
}

/// A gradient released by the mechanism: the only input an anchor may be built from.
///
/// Only [`DpGradient::privatize`] creates one, so holding a `PrivateGradient` proves the
/// values went through clipping and noise.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivateGradient<S> {
    values: Vec<S>,
}

impl<S: Scalar> PrivateGradient<S> {
    /// Returns the released values.
    pub fn as_slice(&self) -> &[S] {
        &self.values
    }

    /// Returns the released values, consuming the gradient.
    pub fn into_vec(self) -> Vec<S> {
        self.values
    }
}

/// The private gradient mechanism, with its scratch space.
#[derive(Debug, Clone)]
pub struct DpGradient<S> {
    config: DpConfig,
    dim: usize,
    sum: Vec<S>,
    innovation: Vec<S>,
}

impl<S: Scalar> DpGradient<S> {
    /// Creates the mechanism for gradients of dimension `dim`.
    ///
    /// # Errors
    ///
    /// [`DpError::InvalidParameter`] for a clipping norm that is not finite and `> 0`, a
    /// noise multiplier that is negative, NaN or infinite, or a batch size that is not
    /// finite and `> 0`; [`DpError::LayerMismatch`] and [`DpError::DimensionMismatch`] for
    /// a per-layer layout that does not fit.
    pub fn new(config: DpConfig, dim: usize) -> Result<Self, DpError> {
        config.clipping.validate(dim)?;
        let sigma = config.noise_multiplier;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(DpError::invalid(
                "noise_multiplier",
                sigma,
                "must be finite and >= 0",
            ));
        }
        if !(config.batch_size.is_finite() && config.batch_size > 0.0) {
            return Err(DpError::invalid(
                "batch_size",
                config.batch_size,
                "must be finite and > 0",
            ));
        }
        Ok(Self {
            config,
            dim,
            sum: vec![S::zero(); dim],
            innovation: vec![S::zero(); dim],
        })
    }

    /// Returns the settings.
    pub fn config(&self) -> &DpConfig {
        &self.config
    }

    /// Returns the standard deviation of the noise added to each coordinate of the released
    /// gradient: `sigma C / B`.
    pub fn noise_std(&self) -> f64 {
        self.config.noise_multiplier * self.config.clipping.sensitivity() / self.config.batch_size
    }

    /// Writes `sum_i clip(g_i - anchor)` into the internal sum.
    ///
    /// Cost: one pass over the batch and the anchor for the norms of the innovations, and
    /// one that adds the clipped innovations, coordinate by coordinate in sample order.
    ///
    /// # Errors
    ///
    /// [`DpError::Core`] with `EmptyBatch`, `DimensionMismatch` or `NonFinite` (naming the
    /// gradient and coordinate) from the clipping of each sample.
    pub fn clipped_sum<B>(&mut self, batch: &B::Batch, anchor: &[S]) -> Result<&[S], DpError>
    where
        B: Backend<Scalar = S>,
    {
        self.accumulate::<B>(batch, Some(anchor))?;
        Ok(&self.sum)
    }

    /// Writes `sum_i clip(g_i - anchor)` into the internal sum. `None` stands for the zero
    /// anchor, which is then never read.
    fn accumulate<B>(&mut self, batch: &B::Batch, anchor: Option<&[S]>) -> Result<(), DpError>
    where
        B: Backend<Scalar = S>,
    {
        let count = B::batch_count(batch);
        if count == 0 {
            return Err(median_core::Error::EmptyBatch.into());
        }
        self.check_dim("gradient", B::batch_dim(batch))?;
        if let Some(anchor) = anchor {
            self.check_dim("anchor", anchor.len())?;
            if let Some(&value) = anchor.iter().find(|v| !v.is_finite()) {
                return Err(DpError::InvalidParameter {
                    name: "anchor",
                    value: value.into_f64(),
                    expected: "every entry of the anchor must be finite",
                });
            }
        }

        // The clipping factor of every sample and block. A norm that is not finite (a NaN
        // or infinite entry, or an overflow) sends the batch to the checked path, which
        // reports the error or handles the overflow.
        let blocks = self.config.clipping.blocks(self.dim);
        let mut factors = Vec::with_capacity(count * blocks.len());
        for i in 0..count {
            let g = B::batch_gradient(batch, i);
            for &(start, end, clip_norm) in &blocks {
                let norm = match anchor {
                    Some(anchor) => kernels::distance(&g[start..end], &anchor[start..end]),
                    None => kernels::norm(&g[start..end]),
                };
                let clip_norm = S::of_f64(clip_norm);
                if !norm.is_finite() {
                    return self.accumulate_checked::<B>(batch, anchor);
                }
                // The factor 1 leaves an innovation inside the ball unchanged, bit for bit.
                factors.push(if norm <= clip_norm {
                    S::one()
                } else {
                    clip_norm / norm
                });
            }
        }

        let gradients: Vec<&[S]> = (0..count).map(|i| B::batch_gradient(batch, i)).collect();
        for (block, &(start, end, _)) in blocks.iter().enumerate() {
            let block_factors: Vec<S> = (0..count)
                .map(|i| factors[i * blocks.len() + block])
                .collect();
            add_clipped_block(
                &gradients,
                anchor,
                &block_factors,
                start,
                &mut self.sum[start..end],
            );
        }
        Ok(())
    }

    /// Writes `sum_i clip(g_i - anchor)` into the internal sum one sample at a time, with
    /// the checks of [`clip_norm_in_place`]. `None` stands for the zero anchor.
    fn accumulate_checked<B>(
        &mut self,
        batch: &B::Batch,
        anchor: Option<&[S]>,
    ) -> Result<(), DpError>
    where
        B: Backend<Scalar = S>,
    {
        self.sum.fill(S::zero());
        for i in 0..B::batch_count(batch) {
            let g = B::batch_gradient(batch, i);
            match anchor {
                Some(anchor) => {
                    for ((r, &gj), &aj) in self.innovation.iter_mut().zip(g).zip(anchor) {
                        *r = gj - aj;
                    }
                }
                None => {
                    for (r, &gj) in self.innovation.iter_mut().zip(g) {
                        *r = gj - S::zero();
                    }
                }
            }
            clip_innovation(&self.config.clipping, &mut self.innovation)
                .map_err(|e| at_sample(e, i))?;
            for (acc, &r) in self.sum.iter_mut().zip(&self.innovation) {
                *acc = *acc + r;
            }
        }
        Ok(())
    }

    /// Releases `anchor + (clipped sum + noise) / B`.
    ///
    /// The mean is formed as `anchor + sum / B`, then the noise is added as `noise / B`, so
    /// that with a zero anchor and fixed-size batches the first part is bit for bit the
    /// mini-batch SPP step of the geometric-median tracker.
    ///
    /// # Errors
    ///
    /// As [`clipped_sum`](Self::clipped_sum), plus [`DpError::BatchSize`] when a fixed-size
    /// batch does not have the configured size.
    pub fn privatize<B, R>(
        &mut self,
        batch: &B::Batch,
        anchor: &[S],
        rng: &mut R,
    ) -> Result<PrivateGradient<S>, DpError>
    where
        B: Backend<Scalar = S>,
        R: Rng + ?Sized,
        StandardNormal: rand_distr::Distribution<S>,
    {
        self.release::<B, R>(batch, Some(anchor), rng)
    }

    /// Releases `anchor + (clipped sum + noise) / B`, as [`privatize`](Self::privatize);
    /// `None` stands for the zero anchor, which is then never read.
    fn release<B, R>(
        &mut self,
        batch: &B::Batch,
        anchor: Option<&[S]>,
        rng: &mut R,
    ) -> Result<PrivateGradient<S>, DpError>
    where
        B: Backend<Scalar = S>,
        R: Rng + ?Sized,
        StandardNormal: rand_distr::Distribution<S>,
    {
        let count = B::batch_count(batch);
        if self.config.sampling == SamplingScheme::FixedSize
            && count as f64 != self.config.batch_size
        {
            return Err(DpError::BatchSize {
                expected: self.config.batch_size,
                found: count,
            });
        }
        self.accumulate::<B>(batch, anchor)?;

        let divisor = S::of_f64(self.config.batch_size);
        let std = S::of_f64(self.config.noise_multiplier * self.config.clipping.sensitivity());
        let anchor_at = |j: usize| anchor.map_or(S::zero(), |a| a[j]);
        let values: Vec<S> = if self.config.noise_multiplier > 0.0 {
            // The noise comes from one generator, in coordinate order, so this loop is
            // sequential. It forms the mean and adds the noise in one pass.
            let mut values = Vec::with_capacity(self.dim);
            for (j, &s) in self.sum.iter().enumerate() {
                let mean = anchor_at(j) + s / divisor;
                let z: S = rng.sample(StandardNormal);
                values.push(mean + (std * z) / divisor);
            }
            values
        } else {
            self.sum
                .par_iter()
                .with_min_len(CHUNK)
                .enumerate()
                .map(|(j, &s)| anchor_at(j) + s / divisor)
                .collect()
        };
        Ok(PrivateGradient { values })
    }

    pub(crate) fn check_dim(&self, what: &'static str, found: usize) -> Result<(), DpError> {
        if found == self.dim {
            Ok(())
        } else {
            Err(DpError::DimensionMismatch {
                what,
                expected: self.dim,
                found,
            })
        }
    }
}

/// Writes `sum_i (g_i - anchor) * factors[i]` into `out`, the coordinates
/// `offset..offset + out.len()` of the sum, adding the samples in index order from zero.
/// `None` stands for the zero anchor.
///
/// Each coordinate is computed as `((0 + r_0) + r_1) + ...` with `r_i` rounded as
/// `clip_norm_in_place` rounds it, whatever the chunking, so the sum equals the
/// sample-by-sample one bit for bit on any number of threads.
fn add_clipped_block<S: Scalar>(
    gradients: &[&[S]],
    anchor: Option<&[S]>,
    factors: &[S],
    offset: usize,
    out: &mut [S],
) {
    let fill = |first: usize, out: &mut [S]| {
        let start = offset + first;
        let end = start + out.len();
        out.fill(S::zero());
        for (g, &factor) in gradients.iter().zip(factors) {
            let g = &g[start..end];
            match anchor {
                Some(anchor) => {
                    for ((o, &gj), &aj) in out.iter_mut().zip(g).zip(&anchor[start..end]) {
                        *o = *o + (gj - aj) * factor;
                    }
                }
                None => {
                    for (o, &gj) in out.iter_mut().zip(g) {
                        *o = *o + gj * factor;
                    }
                }
            }
        }
    };
    if out.len() * gradients.len() < PARALLEL_MIN_LEN {
        fill(0, out);
        return;
    }
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(c, out)| fill(c * CHUNK, out));
}

/// Clips one innovation in place, globally or block by block.
fn clip_innovation<S: Scalar>(clipping: &Clipping, r: &mut [S]) -> Result<(), median_core::Error> {
    match clipping {
        Clipping::Global { clip_norm } => {
            clip_norm_in_place(r, S::of_f64(*clip_norm))?;
        }
        Clipping::PerLayer {
            layer_sizes,
            clip_norms,
        } => {
            let mut start = 0;
            for (&size, &c) in layer_sizes.iter().zip(clip_norms) {
                clip_norm_in_place(&mut r[start..start + size], S::of_f64(c)).map_err(
                    |e| match e {
                        median_core::Error::NonFinite {
                            coordinate, value, ..
                        } => median_core::Error::NonFinite {
                            index: 0,
                            coordinate: start + coordinate,
                            value,
                        },
                        other => other,
                    },
                )?;
                start += size;
            }
        }
    }
    Ok(())
}

/// Sets the gradient index of a non-finite error to `index`.
fn at_sample(error: median_core::Error, index: usize) -> DpError {
    match error {
        median_core::Error::NonFinite {
            coordinate, value, ..
        } => median_core::Error::NonFinite {
            index,
            coordinate,
            value,
        }
        .into(),
        other => other.into(),
    }
}

/// DP-SGD anchored at its own tracked estimate.
///
/// Each step releases `m + (sum_i clip_C(g_i - m) + noise) / B` and makes that release the
/// new anchor `m`: the privatised mini-batch SPP step of the geometric-median tracker. The
/// anchor starts at zero (or at a public vector) and is only ever set from a
/// [`PrivateGradient`].
#[derive(Debug, Clone)]
pub struct AnchoredDpSgd<S> {
    mechanism: DpGradient<S>,
    anchor: Vec<S>,
}

impl<S: Scalar> AnchoredDpSgd<S> {
    /// Creates the mechanism with the anchor at zero.
    ///
    /// # Errors
    ///
    /// As [`DpGradient::new`].
    pub fn new(config: DpConfig, dim: usize) -> Result<Self, DpError> {
        Ok(Self {
            mechanism: DpGradient::new(config, dim)?,
            anchor: vec![S::zero(); dim],
        })
    }

    /// Returns the current anchor.
    pub fn anchor(&self) -> &[S] {
        &self.anchor
    }

    /// Releases a private gradient clipped around the anchor, then moves the anchor to it.
    ///
    /// # Errors
    ///
    /// As [`DpGradient::privatize`]; the anchor is then unchanged.
    pub fn step<B, R>(
        &mut self,
        batch: &B::Batch,
        rng: &mut R,
    ) -> Result<PrivateGradient<S>, DpError>
    where
        B: Backend<Scalar = S>,
        R: Rng + ?Sized,
        StandardNormal: rand_distr::Distribution<S>,
    {
        let released = self.mechanism.privatize::<B, R>(batch, &self.anchor, rng)?;
        self.advance(&released);
        Ok(released)
    }

    /// Moves the anchor to a released gradient: the only way the anchor changes.
    fn advance(&mut self, released: &PrivateGradient<S>) {
        self.anchor.copy_from_slice(released.as_slice());
    }
}

/// DP-SGD with privacy accounting: `x <- x - gamma * release`, where the release is
/// clipped around zero ([`Anchor::Zero`], classical DP-SGD) or around the tracked median
/// ([`Anchor::Tracked`]).
///
/// Every step is composed into an [`RdpAccountant`] at sampling rate `sampling_rate`, so
/// [`epsilon`](DpSgd::epsilon) can be reported at any step.
#[derive(Debug, Clone)]
pub struct DpSgd<S> {
    mechanism: DpGradient<S>,
    anchor: Vec<S>,
    mode: Anchor,
    sampling_rate: f64,
    accountant: RdpAccountant,
    steps: u64,
}

/// The centre around which DP-SGD clips the per-sample gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// Around zero: classical DP-SGD.
    Zero,
    /// Around the previous release: the private geometric-median tracker.
    Tracked,
}

impl<S: Scalar> DpSgd<S> {
    /// Creates the optimizer state for dimension `dim`, with sampling rate `q` used by the
    /// accountant.
    ///
    /// # Errors
    ///
    /// As [`DpGradient::new`], plus [`DpError::InvalidParameter`] unless `0 < q <= 1`.
    pub fn new(config: DpConfig, dim: usize, mode: Anchor, q: f64) -> Result<Self, DpError> {
        if !(q > 0.0 && q <= 1.0) {
            return Err(DpError::invalid("sampling_rate", q, "must be in (0, 1]"));
        }
        Ok(Self {
            mechanism: DpGradient::new(config, dim)?,
            anchor: vec![S::zero(); dim],
            mode,
            sampling_rate: q,
            accountant: RdpAccountant::new(),
            steps: 0,
        })
    }

    /// Takes one step `x <- x - gamma * release` and returns the release.
    ///
    /// # Errors
    ///
    /// As [`DpGradient::privatize`], plus [`DpError::InvalidParameter`] for a step size that
    /// is not finite and `>= 0`, and [`DpError::DimensionMismatch`] for a point of the wrong
    /// length; `x` is then unchanged.
    pub fn step<B, R>(
        &mut self,
        x: &mut [S],
        gamma: f64,
        batch: &B::Batch,
        rng: &mut R,
    ) -> Result<PrivateGradient<S>, DpError>
    where
        B: Backend<Scalar = S>,
        R: Rng + ?Sized,
        StandardNormal: rand_distr::Distribution<S>,
    {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(DpError::invalid(
                "step_size",
                gamma,
                "must be finite and >= 0",
            ));
        }
        self.mechanism.check_dim("point", x.len())?;
        // The anchor of classical DP-SGD stays zero, so it is not read.
        let anchor = (self.mode == Anchor::Tracked).then_some(self.anchor.as_slice());
        let released = self.mechanism.release::<B, R>(batch, anchor, rng)?;
        let gamma = S::of_f64(gamma);
        x.par_iter_mut()
            .with_min_len(CHUNK)
            .zip(released.as_slice())
            .for_each(|(xj, &gj)| *xj = *xj - gamma * gj);
        if self.mode == Anchor::Tracked {
            self.anchor.copy_from_slice(released.as_slice());
        }
        let sigma = self.mechanism.config().noise_multiplier;
        self.accountant
            .compose(self.sampling_rate, sigma, 1, SamplingScheme::Poisson)?;
        self.steps += 1;
        Ok(released)
    }

    /// Returns the number of steps taken.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Returns the privacy spent so far as `epsilon` at `delta`, with Poisson sampling at
    /// the configured rate.
    ///
    /// # Errors
    ///
    /// [`DpError::InvalidParameter`] unless `0 < delta < 1`.
    pub fn epsilon(&self, delta: f64) -> Result<f64, DpError> {
        Ok(self.accountant.epsilon(delta)?.0)
    }
}

/// Draws a Poisson sample: each of `n` indices independently with probability `q`.
///
/// # Errors
///
/// [`DpError::InvalidParameter`] unless `0 <= q <= 1`.
pub fn poisson_sample<R: Rng + ?Sized>(
    n: usize,
    q: f64,
    rng: &mut R,
) -> Result<Vec<usize>, DpError> {
    if !(0.0..=1.0).contains(&q) {
        return Err(DpError::invalid("sampling_rate", q, "must be in [0, 1]"));
    }
    Ok((0..n).filter(|_| rng.random::<f64>() < q).collect())
}

/// Draws `size` distinct indices out of `n`, uniformly (fixed-size sampling without
/// replacement; its privacy accounting differs from Poisson sampling).
///
/// # Errors
///
/// [`DpError::InvalidParameter`] if `size > n`.
pub fn fixed_size_sample<R: Rng + ?Sized>(
    n: usize,
    size: usize,
    rng: &mut R,
) -> Result<Vec<usize>, DpError> {
    if size > n {
        return Err(DpError::invalid(
            "batch_size",
            size as f64,
            "must not exceed the dataset size",
        ));
    }
    // Partial Fisher-Yates shuffle.
    let mut indices: Vec<usize> = (0..n).collect();
    for i in 0..size {
        let j = rng.random_range(i..n);
        indices.swap(i, j);
    }
    indices.truncate(size);
    Ok(indices)
}
