//! A stochastic gradient oracle whose noise scale depends on the current point.

use std::marker::PhantomData;

use median_linalg::{Scalar, kernels};
use rand::Rng;

use crate::error::{NoiseError, check_non_negative};
use crate::vector::VectorNoise;

/// The vector whose norm sets the noise scale `sigma(x) = a + b ||.||`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScaleSource {
    /// `sigma(x) = a + b ||x||`: noise grows with the distance from the origin.
    Iterate,
    /// `sigma(x) = a + b ||grad f(x)||`: noise grows with the true gradient (multiplicative
    /// noise, as in the relaxed growth conditions of SGD analyses).
    Gradient,
}

/// A stochastic gradient oracle: the exact gradient `grad f(x)` plus `sigma(x)` times a draw
/// of a vector noise law `N`.
///
/// `g(x) = grad f(x) + sigma(x) xi`, with `xi ~ N` drawn from the caller's generator and
/// `sigma(x) = a + b ||x||` or `a + b ||grad f(x)||` ([`ScaleSource`]). Norms are
/// overflow-safe ([`median_linalg::kernels::norm`]). The noise law fixes the shape and the
/// base scale of `xi`, and `sigma` multiplies that scale. The oracle adds no bias beyond that
/// of `N`, so with symmetric noise the median of `g(x)` is `grad f(x)`.
///
/// # Examples
///
/// ```
/// use median_noise::{Iid, Laplace, ScaleSource, StateDependentNoise};
/// use rand::SeedableRng;
///
/// // f(x) = |x|^2 / 2, so grad f(x) = x; noise scale 0.1 + 0.5 |x|.
/// let gradient = |x: &[f64], out: &mut [f64]| out.copy_from_slice(x);
/// let noise = Iid::new(Laplace::new(0.0, 1.0)?);
/// let oracle = StateDependentNoise::new(gradient, noise, ScaleSource::Iterate, 0.1, 0.5)?;
///
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
/// let mut g = [0.0; 2];
/// let sigma = oracle.stochastic_gradient(&[3.0, 4.0], &mut g, &mut rng)?;
/// assert_eq!(sigma, 0.1 + 0.5 * 5.0);
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct StateDependentNoise<F, G, N> {
    gradient: G,
    noise: N,
    source: ScaleSource,
    offset: F,
    slope: F,
    marker: PhantomData<F>,
}

impl<F, G, N> StateDependentNoise<F, G, N>
where
    F: Scalar,
    G: Fn(&[F], &mut [F]),
    N: VectorNoise<F>,
{
    /// Creates the oracle from the exact gradient `gradient(x, out)`, which must write
    /// `grad f(x)` into `out` (of the length of `x`), the noise law, and `sigma = offset +
    /// slope ||.||`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `offset` (`a`) or `slope` (`b`) is NaN, infinite
    /// or negative.
    pub fn new(
        gradient: G,
        noise: N,
        source: ScaleSource,
        offset: F,
        slope: F,
    ) -> Result<Self, NoiseError> {
        check_non_negative("offset", offset.into_f64())?;
        check_non_negative("slope", slope.into_f64())?;
        Ok(Self {
            gradient,
            noise,
            source,
            offset,
            slope,
            marker: PhantomData,
        })
    }

    /// Returns the noise law.
    pub fn noise(&self) -> &N {
        &self.noise
    }

    /// Writes a noisy gradient at `x` into `out` and returns the noise scale `sigma(x)`
    /// used.
    ///
    /// Calls the exact gradient once, computes `sigma` from `x` or from the exact gradient,
    /// then adds `sigma` times one noise draw in place, without allocating.
    ///
    /// # Errors
    ///
    /// [`NoiseError::DimensionMismatch`] if `out.len() != x.len()`, and
    /// [`NoiseError::NonFiniteScale`] if `sigma(x)` is infinite or NaN (a non-finite point
    /// or exact gradient with `b > 0`). In that case `out` contains the exact gradient.
    /// With a finite `sigma` the sum `grad f(x) + sigma xi` can still overflow to an
    /// infinity when `sigma` times a heavy-tailed draw exceeds `F::MAX`.
    pub fn stochastic_gradient<R: Rng + ?Sized>(
        &self,
        x: &[F],
        out: &mut [F],
        rng: &mut R,
    ) -> Result<F, NoiseError> {
        if out.len() != x.len() {
            return Err(NoiseError::DimensionMismatch {
                expected: x.len(),
                found: out.len(),
            });
        }

        (self.gradient)(x, out);
        let sigma = self.scale_at(x, out);
        if !sigma.is_finite() {
            return Err(NoiseError::NonFiniteScale {
                value: sigma.into_f64(),
            });
        }

        self.noise.add_scaled_into(rng, sigma, out);
        Ok(sigma)
    }

    /// Returns `sigma = a + b ||v||` with `v` the point or its exact gradient; with `b = 0`
    /// the norm is not computed, so `sigma = a` even at a non-finite point.
    fn scale_at(&self, x: &[F], exact_gradient: &[F]) -> F {
        if self.slope == F::zero() {
            return self.offset;
        }
        let measured = match self.source {
            ScaleSource::Iterate => x,
            ScaleSource::Gradient => exact_gradient,
        };
        self.offset + self.slope * kernels::norm(measured)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Gaussian, Iid};
    use rand::SeedableRng;

    type Rng8 = rand_chacha::ChaCha8Rng;

    fn identity(x: &[f64], out: &mut [f64]) {
        out.copy_from_slice(x);
    }

    #[test]
    fn oracle_rejects_negative_slope() {
        let noise = Iid::new(Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let result = StateDependentNoise::new(identity, noise, ScaleSource::Iterate, 0.0, -1.0);
        assert!(matches!(
            result,
            Err(NoiseError::InvalidParameter { name: "slope", value, .. }) if value == -1.0
        ));
        let result =
            StateDependentNoise::new(identity, noise, ScaleSource::Iterate, f64::INFINITY, 1.0);
        assert!(matches!(
            result,
            Err(NoiseError::InvalidParameter { name: "offset", .. })
        ));
    }

    #[test]
    fn oracle_rejects_length_mismatch() {
        let noise = Iid::new(Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let oracle =
            StateDependentNoise::new(identity, noise, ScaleSource::Iterate, 1.0, 1.0).unwrap();
        let mut out = [0.0; 3];
        let result = oracle.stochastic_gradient(&[1.0, 2.0], &mut out, &mut Rng8::seed_from_u64(0));
        assert_eq!(
            result,
            Err(NoiseError::DimensionMismatch {
                expected: 2,
                found: 3
            })
        );
    }

    #[test]
    fn oracle_rejects_infinite_scale() {
        let noise = Iid::new(Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let oracle =
            StateDependentNoise::new(identity, noise, ScaleSource::Gradient, 1.0, 1.0).unwrap();
        let mut out = [0.0; 2];
        let result = oracle.stochastic_gradient(
            &[f64::INFINITY, 0.0],
            &mut out,
            &mut Rng8::seed_from_u64(0),
        );
        assert!(matches!(result, Err(NoiseError::NonFiniteScale { .. })));
    }

    #[test]
    fn oracle_scale_overflow_safe_norm() {
        // |(3e300, 4e300)| = 5e300 although the squares overflow.
        let noise = Iid::new(Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let oracle =
            StateDependentNoise::new(identity, noise, ScaleSource::Iterate, 0.0, 1e-300).unwrap();
        let mut out = [0.0; 2];
        let sigma = oracle
            .stochastic_gradient(&[3e300, 4e300], &mut out, &mut Rng8::seed_from_u64(1))
            .unwrap();
        assert!((sigma - 5.0).abs() < 1e-14);
    }

    #[test]
    fn oracle_adds_scaled_draw_of_the_noise() {
        // The oracle's output minus the exact gradient equals sigma times a draw from a
        // generator in the same state.
        let noise = Iid::new(Gaussian::<f64>::new(0.0, 1.0).unwrap());
        let oracle =
            StateDependentNoise::new(identity, noise, ScaleSource::Gradient, 0.5, 2.0).unwrap();
        let x = [1.0, -2.0, 2.0];
        let mut out = [0.0; 3];
        let sigma = oracle
            .stochastic_gradient(&x, &mut out, &mut Rng8::seed_from_u64(4))
            .unwrap();
        assert_eq!(sigma, 0.5 + 2.0 * 3.0);

        let draw = noise.sample_vec(&mut Rng8::seed_from_u64(4), 3);
        for i in 0..3 {
            assert_eq!(out[i], x[i] + sigma * draw[i], "coordinate {i}");
        }
    }
}
