//! The Gaussian (normal) distribution.

use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_finite, check_non_negative};
use crate::uniform::{saturate, standard_normal};

/// The normal distribution N(mean, std_dev^2).
///
/// Density `f(x) = exp(-(x - mu)^2 / (2 sigma^2)) / (sigma sqrt(2 pi))` with `mu = mean` and
/// `sigma = std_dev`. The tails are lighter than any power, so there is no tail index and
/// every moment is finite: mean `mu`, variance `sigma^2`. Draws come from the ziggurat
/// sampler of `rand_distr` in `f64` and are rounded to `F`; a draw beyond `F::MAX` saturates.
///
/// # Examples
///
/// ```
/// use median_noise::Gaussian;
/// use rand::{RngExt, SeedableRng};
///
/// let normal = Gaussian::new(1.0_f64, 2.0)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
/// let x: f64 = rng.sample(&normal);
/// assert!(x.is_finite());
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gaussian<F> {
    mean: f64,
    std_dev: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> Gaussian<F> {
    /// Creates N(mean, std_dev^2).
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `mean` is not finite, or `std_dev` is NaN,
    /// infinite or negative. `std_dev = 0` is allowed and gives the constant `mean`.
    pub fn new(mean: F, std_dev: F) -> Result<Self, NoiseError> {
        let mean = check_finite("mean", mean.into_f64())?;
        let std_dev = check_non_negative("std_dev", std_dev.into_f64())?;
        Ok(Self {
            mean,
            std_dev,
            marker: PhantomData,
        })
    }

    /// Returns the mean `mu`.
    pub fn mean(&self) -> F {
        F::of_f64(self.mean)
    }

    /// Returns the standard deviation `sigma`.
    pub fn std_dev(&self) -> F {
        F::of_f64(self.std_dev)
    }
}

impl<F: Scalar> Distribution<F> for Gaussian<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        saturate(self.mean + self.std_dev * standard_normal(rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_rejects_bad_parameters() {
        assert!(matches!(
            Gaussian::<f64>::new(f64::NAN, 1.0),
            Err(NoiseError::InvalidParameter { name: "mean", .. })
        ));
        assert!(matches!(
            Gaussian::<f64>::new(0.0, -1.0),
            Err(NoiseError::InvalidParameter { name: "std_dev", value, .. }) if value == -1.0
        ));
        assert!(matches!(
            Gaussian::<f32>::new(0.0, f32::INFINITY),
            Err(NoiseError::InvalidParameter {
                name: "std_dev",
                ..
            })
        ));
    }
}
