//! The Cauchy distribution, sampled by an inverse CDF that never meets the tan pole.

use std::f64::consts::PI;
use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_finite, check_positive};
use crate::uniform::{open01, saturate};

/// The Cauchy distribution with location `x0` and scale `gamma`.
///
/// Density `f(x) = 1 / (pi gamma (1 + ((x - x0) / gamma)^2))`, characteristic function
/// `exp(i x0 t - gamma |t|)`, with `x0 = location` and `gamma = scale`. The tail index is 1:
/// no moment of order 1 or more is finite (the mean does not exist), while the median is
/// `x0` and the quartiles are `x0 -+ gamma`. It is the Student-t with one degree of freedom
/// and the alpha-stable law with `alpha = 1`, `beta = 0`.
///
/// Draws use the quantile `-cos(pi u) / sin(pi u)`, evaluated without the `tan` pole (see
/// [`Cauchy::quantile`]), at a uniform `u` strictly inside (0, 1). The smallest `u` is `2^-53`,
/// so every draw is finite and has the correct sign in both `f32` and `f64`. The extreme
/// draws are about `-+2.9e15 gamma`.
///
/// # Examples
///
/// ```
/// use median_noise::Cauchy;
///
/// let cauchy = Cauchy::new(0.0_f64, 1.0)?;
/// let q = cauchy.quantile(2f64.powi(-53))?;
/// assert!((q / -2867080569611329.5 - 1.0).abs() < 1e-12);
/// assert_eq!(cauchy.quantile(0.5)?, 0.0);
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cauchy<F> {
    location: f64,
    scale: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> Cauchy<F> {
    /// Creates the Cauchy distribution with location `x0` and scale `gamma`.
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

    /// Returns the quantile (inverse CDF) at probability `p`.
    ///
    /// `Q(p) = x0 - gamma cos(pi p) / sin(pi p)`, evaluated as `tan(pi (p - 1/2))` for `p`
    /// in [1/4, 3/4], as `-cot(pi p)` below and as `cot(pi (1 - p))` above. No argument
    /// comes near the pole of `tan`, and the result is accurate to a few ulps even at
    /// `p = 2^-53`. `Q(1/2) = x0` exactly, `Q(0) = -inf` and `Q(1) = +inf`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `p` is NaN or outside [0, 1].
    pub fn quantile(&self, p: F) -> Result<F, NoiseError> {
        let p = p.into_f64();
        if !(0.0..=1.0).contains(&p) {
            return Err(NoiseError::invalid("p", p, "a probability in [0, 1]"));
        }
        if p == 0.0 {
            return Ok(F::neg_infinity());
        }
        if p == 1.0 {
            return Ok(F::infinity());
        }
        Ok(F::of_f64(self.location + self.scale * standard_quantile(p)))
    }
}

/// Returns the standard Cauchy quantile at `p` in (0, 1).
///
/// In the middle `tan(pi (p - 1/2))` is accurate because `p - 1/2` is exact and the argument
/// stays within pi/4 of 0. In the tails the folded `-+cos/sin` form keeps `sin` away from
/// its zeros, since `1 - p` is exact for `p >= 1/2`.
#[inline]
fn standard_quantile(p: f64) -> f64 {
    if (0.25..=0.75).contains(&p) {
        (PI * (p - 0.5)).tan()
    } else if p < 0.5 {
        let (sin, cos) = (PI * p).sin_cos();
        -cos / sin
    } else {
        let (sin, cos) = (PI * (1.0 - p)).sin_cos();
        cos / sin
    }
}

impl<F: Scalar> Distribution<F> for Cauchy<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let u = open01(rng);
        saturate(self.location + self.scale * standard_quantile(u))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_at_smallest_grid_point() {
        let cauchy = Cauchy::<f64>::new(0.0, 1.0).unwrap();
        let q = cauchy.quantile(2f64.powi(-53)).unwrap();
        // -cot(pi 2^-53) = -2^53/pi + pi 2^-53/3 + ..., the second term being negligible.
        let expected = -2f64.powi(53) / PI;
        assert!((q / expected - 1.0).abs() < 1e-15, "{q}");
        assert!((q / -2867080569611329.5 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn quantile_is_odd_about_half() {
        let cauchy = Cauchy::<f64>::new(0.0, 1.0).unwrap();
        // Dyadic probabilities, so that 1 - p is exact.
        for p in [2f64.powi(-40), 1.0 / 64.0, 0.25, 0.375] {
            let low = cauchy.quantile(p).unwrap();
            let high = cauchy.quantile(1.0 - p).unwrap();
            assert!((low + high).abs() <= 1e-12 * low.abs(), "p = {p}");
        }
        assert_eq!(cauchy.quantile(0.5).unwrap(), 0.0);
        assert!((cauchy.quantile(0.75).unwrap() - 1.0).abs() < 1e-15);
    }

    #[test]
    fn quantile_f32_has_correct_sign() {
        let cauchy = Cauchy::<f32>::new(0.0, 1.0).unwrap();
        assert!(cauchy.quantile(2f32.powi(-24)).unwrap() < -1e6);
        assert!(cauchy.quantile(1.0 - 2f32.powi(-24)).unwrap() > 1e6);
    }

    #[test]
    fn quantile_rejects_bad_probability() {
        let cauchy = Cauchy::<f64>::new(0.0, 1.0).unwrap();
        assert!(matches!(
            cauchy.quantile(1.5),
            Err(NoiseError::InvalidParameter { name: "p", .. })
        ));
        assert!(cauchy.quantile(f64::NAN).is_err());
        assert_eq!(cauchy.quantile(0.0).unwrap(), f64::NEG_INFINITY);
    }
}
