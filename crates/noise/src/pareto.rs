//! The classical Pareto (type I) and Lomax (Pareto type II) distributions, and random-sign
//! symmetrisation of any distribution on the half-line.

use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_positive};
use crate::uniform::{closed_open01, random_sign, saturate};

/// The classical Pareto distribution (type I) with scale `x_m` and shape (tail index)
/// `alpha`.
///
/// Density `f(x) = alpha x_m^alpha / x^(alpha + 1)` for `x >= x_m` and 0 below, with
/// `x_m = scale` and `alpha = shape`. Every draw is at least `x_m`. The tail index is
/// `alpha`: moments of order `k < alpha` are finite, so the mean `alpha x_m / (alpha - 1)`
/// needs `alpha > 1` and the variance `x_m^2 alpha / ((alpha - 1)^2 (alpha - 2))` needs
/// `alpha > 2`. The median is `x_m 2^(1/alpha)`. This is `scipy.stats.pareto(b = alpha,
/// scale = x_m)` (scipy 1.17.1), while numpy's `Generator.pareto` (numpy 2.4) draws the
/// [`Lomax`] distribution with `lambda = 1`.
///
/// Draws use the inverse CDF `x_m (1 - u)^(-1/alpha)` with `u` uniform on [0, 1), so `u = 0`
/// gives exactly `x_m`. A draw beyond `F::MAX` (possible for tiny `alpha`) saturates there.
///
/// # Examples
///
/// ```
/// use median_noise::Pareto;
/// use rand::{RngExt, SeedableRng};
///
/// // Scale x_m = 2 first, shape alpha = 3 second.
/// let pareto = Pareto::new(2.0_f64, 3.0)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
/// let x: f64 = rng.sample(&pareto);
/// assert!(x >= 2.0);
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pareto<F> {
    scale: f64,
    neg_inv_shape: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> Pareto<F> {
    /// Creates the classical Pareto distribution with scale `x_m` (the minimum value) and
    /// shape `alpha` (the tail index), in that order.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `scale` or `shape` is not finite and strictly
    /// positive.
    pub fn new(scale: F, shape: F) -> Result<Self, NoiseError> {
        let scale = check_positive("scale", scale.into_f64())?;
        let shape = check_positive("shape", shape.into_f64())?;
        Ok(Self {
            scale,
            neg_inv_shape: -1.0 / shape,
            marker: PhantomData,
        })
    }
}

impl<F: Scalar> Distribution<F> for Pareto<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let u = closed_open01(rng);
        saturate(self.scale * (1.0 - u).powf(self.neg_inv_shape))
    }
}

/// The Lomax distribution (Pareto type II) with scale `lambda` and shape (tail index)
/// `alpha`.
///
/// Density `f(x) = (alpha / lambda) (1 + x / lambda)^(-(alpha + 1))` for `x >= 0`, with
/// `lambda = scale` and `alpha = shape`. It is the classical [`Pareto`] with `x_m = lambda`
/// shifted left by `lambda`, so its support starts at 0. The tail index is `alpha`: moments
/// of order `k < alpha` are finite; the mean `lambda / (alpha - 1)` needs `alpha > 1`. The
/// median is `lambda (2^(1/alpha) - 1)`.
///
/// Draws use `lambda (exp(-ln(1 - u) / alpha) - 1)` with `u` uniform on [0, 1), computed with
/// `ln_1p` and `exp_m1` so that small draws keep their relative precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lomax<F> {
    scale: f64,
    neg_inv_shape: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> Lomax<F> {
    /// Creates the Lomax distribution with scale `lambda` and shape `alpha`, in that order.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `scale` or `shape` is not finite and strictly
    /// positive.
    pub fn new(scale: F, shape: F) -> Result<Self, NoiseError> {
        let scale = check_positive("scale", scale.into_f64())?;
        let shape = check_positive("shape", shape.into_f64())?;
        Ok(Self {
            scale,
            neg_inv_shape: -1.0 / shape,
            marker: PhantomData,
        })
    }
}

impl<F: Scalar> Distribution<F> for Lomax<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let u = closed_open01(rng);
        saturate(self.scale * ((-u).ln_1p() * self.neg_inv_shape).exp_m1())
    }
}

/// The symmetrisation of a distribution: a draw of the inner distribution times an
/// independent random sign.
///
/// If the inner law has density `g` on `[0, inf)`, the symmetrised law has density
/// `g(|x|) / 2`, with the same tail index and the same finite absolute moments. Its median
/// is 0, and so is its mean where the mean exists. `Symmetric<Lomax<F>>` is the symmetric Lomax
/// noise `sign * lambda (U^(-1/alpha) - 1)`, whose density is continuous at 0, and
/// `Symmetric<Pareto<F>>` the symmetric classical Pareto, which has no mass in
/// `(-x_m, x_m)`.
///
/// # Examples
///
/// ```
/// use median_noise::{Lomax, Symmetric};
/// use rand::{RngExt, SeedableRng};
///
/// let noise = Symmetric::new(Lomax::new(1.0_f64, 1.5)?);
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
/// let x: f64 = rng.sample(&noise);
/// assert!(x.is_finite());
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Symmetric<D> {
    inner: D,
}

impl<D> Symmetric<D> {
    /// Wraps `inner`, whose draws should be non-negative for the result to be symmetric.
    pub fn new(inner: D) -> Self {
        Self { inner }
    }

    /// Returns the inner distribution.
    pub fn inner(&self) -> &D {
        &self.inner
    }
}

impl<F: Scalar, D: Distribution<F>> Distribution<F> for Symmetric<D> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let sign = random_sign(rng);
        let magnitude = self.inner.sample(rng);
        if sign < 0.0 { -magnitude } else { magnitude }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pareto_rejects_bad_parameters() {
        assert!(matches!(
            Pareto::<f64>::new(0.0, 3.0),
            Err(NoiseError::InvalidParameter { name: "scale", .. })
        ));
        assert!(matches!(
            Pareto::<f64>::new(2.0, f64::NAN),
            Err(NoiseError::InvalidParameter { name: "shape", .. })
        ));
        assert!(matches!(
            Lomax::<f32>::new(1.0, -1.0),
            Err(NoiseError::InvalidParameter { name: "shape", .. })
        ));
    }

    #[test]
    fn pareto_at_zero_uniform_is_scale() {
        // The inverse CDF at u = 0 is x_m, not infinity.
        let pareto = Pareto::<f64>::new(2.0, 3.0).unwrap();
        assert_eq!(
            pareto.scale * (1.0 - 0.0f64).powf(pareto.neg_inv_shape),
            2.0
        );
    }
}
