//! Huber's epsilon-contamination mixture of two distributions.

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::NoiseError;
use crate::uniform::closed_open01;
use crate::vector::{Geometry, VectorNoise};

/// Huber's epsilon-contamination model `(1 - eps) P + eps Q`: with probability `eps` a draw
/// comes from the contaminating distribution `Q`, otherwise from the inlier distribution
/// `P`.
///
/// The density is `(1 - eps) p + eps q`, so the tail index is the smaller of the two and a
/// moment is finite only if it is finite for both components (when `0 < eps < 1`). For
/// vector noise ([`VectorNoise`]) the choice is made once per vector, so a contaminated
/// vector is a whole draw of `Q`. A median-type estimator tolerates `eps` below its
/// breakdown point, whatever `Q` is.
///
/// The component is chosen by `u < eps` with `u` uniform on [0, 1), so `eps = 0` never
/// draws from `Q` and `eps = 1` always does.
///
/// # Examples
///
/// ```
/// use median_noise::{Cauchy, Contaminated, Gaussian};
/// use rand::{RngExt, SeedableRng};
///
/// let noise = Contaminated::new(Gaussian::new(0.0_f64, 1.0)?, Cauchy::new(0.0, 100.0)?, 0.1)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
/// let x: f64 = rng.sample(&noise);
/// assert!(x.is_finite());
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
///
/// # References
///
/// P. J. Huber, "Robust estimation of a location parameter", Ann. Math. Statist. 35 (1964).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contaminated<P, Q> {
    inlier: P,
    contamination: Q,
    eps: f64,
}

impl<P, Q> Contaminated<P, Q> {
    /// Creates the mixture that draws from `contamination` with probability `eps` and from
    /// `inlier` otherwise.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `eps` is NaN or outside [0, 1].
    pub fn new(inlier: P, contamination: Q, eps: f64) -> Result<Self, NoiseError> {
        if !(0.0..=1.0).contains(&eps) {
            return Err(NoiseError::invalid("eps", eps, "a probability in [0, 1]"));
        }
        Ok(Self {
            inlier,
            contamination,
            eps,
        })
    }

    /// Returns the contamination probability `eps`.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// Draws whether the next sample is contaminated.
    #[inline]
    fn draw_contaminated<R: Rng + ?Sized>(&self, rng: &mut R) -> bool {
        closed_open01(rng) < self.eps
    }
}

impl<F, P, Q> Distribution<F> for Contaminated<P, Q>
where
    P: Distribution<F>,
    Q: Distribution<F>,
{
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        if self.draw_contaminated(rng) {
            self.contamination.sample(rng)
        } else {
            self.inlier.sample(rng)
        }
    }
}

impl<F, P, Q> VectorNoise<F> for Contaminated<P, Q>
where
    F: Scalar,
    P: VectorNoise<F>,
    Q: VectorNoise<F>,
{
    /// Radial when both components are radial (a mixture of radially symmetric laws is
    /// radially symmetric), [`Geometry::Mixture`] otherwise.
    fn geometry(&self) -> Geometry {
        match (self.inlier.geometry(), self.contamination.geometry()) {
            (Geometry::Radial, Geometry::Radial) => Geometry::Radial,
            _ => Geometry::Mixture,
        }
    }

    fn sample_into<R: Rng + ?Sized>(&self, rng: &mut R, out: &mut [F]) {
        if self.draw_contaminated(rng) {
            self.contamination.sample_into(rng, out);
        } else {
            self.inlier.sample_into(rng, out);
        }
    }

    fn add_scaled_into<R: Rng + ?Sized>(&self, rng: &mut R, scale: F, out: &mut [F]) {
        if self.draw_contaminated(rng) {
            self.contamination.add_scaled_into(rng, scale, out);
        } else {
            self.inlier.add_scaled_into(rng, scale, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Gaussian;

    #[test]
    fn contaminated_rejects_bad_eps() {
        let p = Gaussian::<f64>::new(0.0, 1.0).unwrap();
        for eps in [-0.1, 1.1, f64::NAN] {
            assert!(matches!(
                Contaminated::new(p, p, eps),
                Err(NoiseError::InvalidParameter { name: "eps", .. })
            ));
        }
    }
}
