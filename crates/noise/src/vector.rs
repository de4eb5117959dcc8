//! Vector noise with a declared geometry: independent coordinates or radial symmetry.

use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_positive};
use crate::stable::{CmsConstants, check_shape, transform_with};
use crate::student_t::ChiSquaredOverNu;
use crate::uniform::{exp1, open01, saturate, standard_normal};

/// The dependence structure of a vector noise law.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Geometry {
    /// Independent, identically distributed coordinates: heavy tails point along the axes.
    Independent,
    /// Radially symmetric: the law is invariant under rotations, and one random radius
    /// scales the whole vector, so a heavy tail makes all coordinates large at once.
    Radial,
    /// A mixture of laws of different geometry (see [`crate::Contaminated`]).
    Mixture,
}

/// A noise law on vectors of any dimension.
///
/// The dimension is the length of the output slice. Implementations write into the
/// caller's buffer and do not allocate, except [`VectorNoise::sample_vec`].
pub trait VectorNoise<F: Scalar> {
    /// Returns the geometry of the law.
    fn geometry(&self) -> Geometry;

    /// Overwrites `out` with one draw of dimension `out.len()`.
    fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [F]);

    /// Adds `scale` times one draw of dimension `out.len()` to `out`.
    ///
    /// This consumes the generator exactly as [`VectorNoise::sample_into`] does, so the two
    /// see the same draw from the same generator state.
    fn add_scaled_into<R: Rng + ?Sized>(&self, rng: &mut R, scale: F, out: &mut [F]);

    /// Returns one draw of dimension `dim` in a new vector.
    fn sample_vec<R: Rng + ?Sized>(&self, rng: &mut R, dim: usize) -> Vec<F> {
        let mut out = vec![F::zero(); dim];
        self.sample_into(rng, &mut out);
        out
    }
}

/// Vector noise with independent coordinates, each drawn from the scalar distribution `D`.
///
/// The tail index and finite moments of every coordinate are those of `D`. Geometry:
/// [`Geometry::Independent`].
///
/// # Examples
///
/// ```
/// use median_noise::{Cauchy, Iid, VectorNoise};
/// use rand::SeedableRng;
///
/// let noise = Iid::new(Cauchy::new(0.0_f64, 1.0)?);
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(2);
/// let mut out = [0.0; 8];
/// noise.sample_into(&mut rng, &mut out);
/// assert!(out.iter().all(|x| x.is_finite()));
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Iid<D> {
    coordinate: D,
}

impl<D> Iid<D> {
    /// Uses `coordinate` for every coordinate.
    pub fn new(coordinate: D) -> Self {
        Self { coordinate }
    }
}

impl<F: Scalar, D: Distribution<F>> VectorNoise<F> for Iid<D> {
    fn geometry(&self) -> Geometry {
        Geometry::Independent
    }

    fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [F]) {
        for x in out.iter_mut() {
            *x = self.coordinate.sample(rng);
        }
    }

    fn add_scaled_into<R: Rng + ?Sized>(&self, rng: &mut R, scale: F, out: &mut [F]) {
        for x in out.iter_mut() {
            *x = *x + scale * self.coordinate.sample(rng);
        }
    }
}

/// Writes `multiplier * G` into `out`, or adds `scale * multiplier * G` when `add_scale` is
/// `Some(scale)`, with `G` standard normal coordinates saturated to the range of `F`.
fn scaled_gaussian<F: Scalar, R: Rng + ?Sized>(
    rng: &mut R,
    multiplier: f64,
    out: &mut [F],
    add_scale: Option<F>,
) {
    match add_scale {
        None => {
            for x in out.iter_mut() {
                *x = saturate(multiplier * standard_normal(rng));
            }
        }
        Some(scale) => {
            for x in out.iter_mut() {
                let draw: F = saturate(multiplier * standard_normal(rng));
                *x = *x + scale * draw;
            }
        }
    }
}

/// The multivariate Student-t law with `nu` degrees of freedom and scale `sigma`:
/// `X = sigma G / sqrt(V / nu)`, with `G` standard normal in `R^d` and one chi-squared
/// variable `V` (with `nu` degrees of freedom) shared by the whole vector.
///
/// Density `f(x) = Gamma((nu + d) / 2) / (Gamma(nu / 2) (nu pi)^(d/2) sigma^d) (1 + |x|^2 /
/// (nu sigma^2))^(-(nu + d) / 2)`. Each coordinate is `sigma` times a Student-t(nu) variable,
/// but the coordinates are dependent (uncorrelated when `nu > 2`). The tail index of `|X|`
/// is `nu`: moments of order `k < nu` are finite, the covariance `sigma^2 nu / (nu - 2) I`
/// needs `nu > 2`. `nu = inf` (or `nu >= 6.5e32`) gives the spherical Gaussian
/// N(0, sigma^2 I). Geometry: [`Geometry::Radial`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultivariateStudentT<F> {
    chi: ChiSquaredOverNu,
    scale: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> MultivariateStudentT<F> {
    /// Creates the multivariate t law with `nu` degrees of freedom and scale `sigma`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `nu` is NaN or below `f64::MIN_POSITIVE` (`inf`
    /// is allowed), or `scale` is not finite and strictly positive.
    pub fn new(nu: F, scale: F) -> Result<Self, NoiseError> {
        let chi = ChiSquaredOverNu::new(nu.into_f64())?;
        let scale = check_positive("scale", scale.into_f64())?;
        Ok(Self {
            chi,
            scale,
            marker: PhantomData,
        })
    }

    /// Draws `sigma / sqrt(V / nu)`, capped at `f64::MAX` so that a gamma draw that
    /// underflows to 0 cannot turn a zero Gaussian coordinate into NaN.
    fn draw_multiplier<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        (self.scale / self.chi.sample(rng).sqrt()).min(f64::MAX)
    }
}

impl<F: Scalar> VectorNoise<F> for MultivariateStudentT<F> {
    fn geometry(&self) -> Geometry {
        Geometry::Radial
    }

    fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [F]) {
        let multiplier = self.draw_multiplier(rng);
        scaled_gaussian(rng, multiplier, out, None);
    }

    fn add_scaled_into<R: Rng + ?Sized>(&self, rng: &mut R, scale: F, out: &mut [F]) {
        let multiplier = self.draw_multiplier(rng);
        scaled_gaussian(rng, multiplier, out, Some(scale));
    }
}

/// The spherical (sub-Gaussian) alpha-stable law with stability `alpha` and scale `gamma`:
/// `X = sqrt(A) G` with `G` Gaussian N(0, 2 gamma^2 I) and one positive
/// `(alpha/2)`-stable variable `A ~ S(alpha/2, 1, cos(pi alpha / 4)^(2/alpha), 0; 1)` shared
/// by the whole vector.
///
/// Characteristic function `E exp(i <t, X>) = exp(-gamma^alpha |t|^alpha)`, so every
/// coordinate (and every unit projection) is symmetric alpha-stable `S(alpha, 0, gamma, 0;
/// 1)`, with the same conventions as [`crate::AlphaStable`]. The tail index is `alpha`: for
/// `alpha < 2` moments of order `k < alpha` are finite and the variance is infinite.
/// `alpha = 2` gives N(0, 2 gamma^2 I). With `alpha = 1` each coordinate is Cauchy with scale
/// `gamma`. Geometry: [`Geometry::Radial`].
///
/// # References
///
/// G. Samorodnitsky and M. S. Taqqu, "Stable Non-Gaussian Random Processes" (Chapman and
/// Hall, 1994), section 2.5 (sub-Gaussian random vectors).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubGaussianStable<F> {
    half_alpha: f64,
    mixing_scale: f64,
    constants: Option<CmsConstants>,
    gaussian_scale: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> SubGaussianStable<F> {
    /// Creates the spherical alpha-stable law with stability `alpha` and scale `gamma`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `alpha` is not in (0, 2] or `scale` is not finite
    /// and strictly positive.
    pub fn new(alpha: F, scale: F) -> Result<Self, NoiseError> {
        let alpha = alpha.into_f64();
        check_shape(alpha, 0.0)?;
        let scale = check_positive("scale", scale.into_f64())?;

        let half_alpha = 0.5 * alpha;
        let constants = (alpha < 2.0).then(|| CmsConstants::new(half_alpha, 1.0));
        Ok(Self {
            half_alpha,
            mixing_scale: (std::f64::consts::FRAC_PI_4 * alpha)
                .cos()
                .powf(2.0 / alpha),
            constants,
            gaussian_scale: std::f64::consts::SQRT_2 * scale,
            marker: PhantomData,
        })
    }

    /// Draws `sqrt(A)` times the Gaussian scale; `A = 1` at `alpha = 2`.
    fn draw_multiplier<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let Some(constants) = &self.constants else {
            return self.gaussian_scale;
        };
        let v = std::f64::consts::PI * (open01(rng) - 0.5);
        let w = exp1(rng);
        let a = self.mixing_scale * transform_with(self.half_alpha, 1.0, constants, v, w);

        // A is positive in exact arithmetic, so max(0) only guards rounding near zero. The cap
        // at f64::MAX keeps an infinite A (tiny alpha) from making 0 * inf = NaN.
        (self.gaussian_scale * a.max(0.0).sqrt()).min(f64::MAX)
    }
}

impl<F: Scalar> VectorNoise<F> for SubGaussianStable<F> {
    fn geometry(&self) -> Geometry {
        Geometry::Radial
    }

    fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [F]) {
        let multiplier = self.draw_multiplier(rng);
        scaled_gaussian(rng, multiplier, out, None);
    }

    fn add_scaled_into<R: Rng + ?Sized>(&self, rng: &mut R, scale: F, out: &mut [F]) {
        let multiplier = self.draw_multiplier(rng);
        scaled_gaussian(rng, multiplier, out, Some(scale));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_constructors_reject_bad_parameters() {
        assert!(matches!(
            MultivariateStudentT::<f64>::new(-1.0, 1.0),
            Err(NoiseError::InvalidParameter { name: "nu", .. })
        ));
        assert!(matches!(
            MultivariateStudentT::<f64>::new(3.0, 0.0),
            Err(NoiseError::InvalidParameter { name: "scale", .. })
        ));
        assert!(matches!(
            SubGaussianStable::<f32>::new(2.1, 1.0),
            Err(NoiseError::InvalidParameter { name: "alpha", .. })
        ));
    }

    #[test]
    fn geometries_are_declared() {
        let iid = Iid::new(crate::Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let t = MultivariateStudentT::<f64>::new(3.0, 1.0).unwrap();
        let s = SubGaussianStable::<f64>::new(1.5, 1.0).unwrap();
        assert_eq!(VectorNoise::<f64>::geometry(&iid), Geometry::Independent);
        assert_eq!(t.geometry(), Geometry::Radial);
        assert_eq!(s.geometry(), Geometry::Radial);
    }
}
