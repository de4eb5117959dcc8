//! The Laplace (double exponential) distribution.

use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_finite, check_positive};
use crate::uniform::{open01, saturate};

/// The Laplace distribution with location `mu` and scale `b`.
///
/// Density `f(x) = exp(-|x - mu| / b) / (2 b)`, with `mu = location` and `b = scale`. The
/// tails are exponential, so there is no tail index and every moment is finite: mean and
/// median `mu`, variance `2 b^2`. The median of Laplace noise is its location, which makes it
/// the natural noise model for the median (its maximum-likelihood location estimate).
///
/// Draws use the inverse CDF `mu + b ln(2u)` for `u < 1/2` and `mu - b ln(2(1 - u))`
/// otherwise, with `u` strictly inside (0, 1), so every draw is finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Laplace<F> {
    location: f64,
    scale: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> Laplace<F> {
    /// Creates the Laplace distribution with the given location `mu` and scale `b`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `location` is not finite or `scale` is not finite
    /// and strictly positive.
    pub fn new(location: F, scale: F) -> Result<Self, NoiseError> {
        let location = check_finite("location", location.into_f64())?;
        let scale = check_positive("scale", scale.into_f64())?;
        Ok(Self {
            location,
            scale,
            marker: PhantomData,
        })
    }
}

impl<F: Scalar> Distribution<F> for Laplace<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let u = open01(rng);

        // Both branches take the logarithm of a number in (0, 1], computed exactly.
        let standard = if u < 0.5 {
            (2.0 * u).ln()
        } else {
            -(2.0 * (1.0 - u)).ln()
        };
        saturate(self.location + self.scale * standard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laplace_rejects_zero_scale() {
        assert!(matches!(
            Laplace::<f64>::new(0.0, 0.0),
            Err(NoiseError::InvalidParameter { name: "scale", .. })
        ));
        assert!(matches!(
            Laplace::<f32>::new(f32::NAN, 1.0),
            Err(NoiseError::InvalidParameter {
                name: "location",
                ..
            })
        ));
    }
}
