//! Student's t distribution, including `nu = inf` (the standard normal), and its density.

use std::f64::consts::PI;
use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;
use rand_distr::Gamma;

use crate::error::NoiseError;
use crate::uniform::{saturate, standard_normal};

/// Degrees of freedom from which the t distribution is sampled as the standard normal.
///
/// `V / nu` with `V` chi-squared(nu) has standard deviation `sqrt(2 / nu)`, which is below
/// `2^-54`, half the spacing of `f64` just above 1, once `nu >= 2^109` (about 6.5e32).
pub(crate) const NORMAL_LIMIT_NU: f64 = 6.5e32;

/// Sampler of `V / nu` with `V` chi-squared with `nu` degrees of freedom, as a gamma
/// variable of shape `nu / 2` and scale `2 / nu`; exactly 1 for `nu >= NORMAL_LIMIT_NU`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ChiSquaredOverNu {
    /// `nu` is infinite or so large that `V / nu` rounds to 1.
    One,
    /// A gamma variable with mean 1.
    Gamma(Gamma<f64>),
}

impl ChiSquaredOverNu {
    /// Validates `nu` and builds the sampler.
    ///
    /// `nu` below `f64::MIN_POSITIVE` (about 2.2e-308) is rejected because the gamma
    /// scale `2 / nu` would overflow.
    pub(crate) fn new(nu: f64) -> Result<Self, NoiseError> {
        let invalid =
            || NoiseError::invalid("nu", nu, "in [2.3e-308, inf], where inf gives the normal");
        if nu.is_nan() || nu < f64::MIN_POSITIVE {
            return Err(invalid());
        }
        if nu >= NORMAL_LIMIT_NU {
            return Ok(Self::One);
        }
        Gamma::new(0.5 * nu, 2.0 / nu)
            .map(Self::Gamma)
            .map_err(|_| invalid())
    }

    /// Draws `V / nu`.
    #[inline]
    pub(crate) fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Self::One => 1.0,
            Self::Gamma(gamma) => gamma.sample(rng),
        }
    }
}

/// Student's t distribution with `nu` degrees of freedom (standard: location 0, scale 1).
///
/// Density `f(x) = Gamma((nu + 1) / 2) / (sqrt(nu pi) Gamma(nu / 2)) (1 + x^2 / nu)^(-(nu +
/// 1) / 2)`. The tail index is `nu`: moments of order `k < nu` are finite, so the mean 0
/// needs `nu > 1` and the variance `nu / (nu - 2)` needs `nu > 2`. `nu = 1` is the standard
/// Cauchy law and `nu = inf` the standard normal.
///
/// A draw is `Z / sqrt(V / nu)` with `Z` standard normal and `V / nu` a gamma variable of
/// shape `nu / 2` and scale `2 / nu` (mean 1). For `nu = inf`, and for `nu >= 6.5e32`, where
/// `V / nu` would round to 1 anyway, the draw is `Z` itself, so there is no `inf / inf`. For
/// small `nu` a draw beyond `F::MAX` saturates there (likely in `f32` when `nu < 1`).
///
/// # Examples
///
/// ```
/// use median_noise::StudentT;
///
/// let t = StudentT::new(340.0_f64)?;
/// assert!((t.pdf(0.0) / 0.398649048731109 - 1.0).abs() < 1e-12);
/// let normal = StudentT::new(f64::INFINITY)?;
/// assert!((normal.pdf(0.0) - 0.3989422804014327).abs() < 1e-16);
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StudentT<F> {
    nu: f64,
    chi: ChiSquaredOverNu,
    ln_normaliser: f64,
    marker: PhantomData<F>,
}

impl<F: Scalar> StudentT<F> {
    /// Creates Student's t with `nu` degrees of freedom; `nu = inf` is allowed.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `nu` is NaN or below `f64::MIN_POSITIVE` (about
    /// 2.2e-308), zero and negative values included.
    pub fn new(nu: F) -> Result<Self, NoiseError> {
        let nu = nu.into_f64();
        let chi = ChiSquaredOverNu::new(nu)?;
        Ok(Self {
            nu,
            chi,
            ln_normaliser: ln_t_normaliser(nu),
            marker: PhantomData,
        })
    }

    /// Returns the degrees of freedom `nu`.
    pub fn nu(&self) -> F {
        F::of_f64(self.nu)
    }

    /// Returns the density at `x`, computed in `f64` without overflow for any `nu`.
    ///
    /// The normalising constant `Gamma((nu + 1) / 2) / (sqrt(nu pi) Gamma(nu / 2))` is
    /// evaluated as the exponential of a log-gamma difference from a Stirling series, never
    /// as a ratio of gamma functions. The unit tests find the constant within 1e-14
    /// (relative) of 30-digit references for `nu` from 0.5 to 340. At `nu = 1e300` it is
    /// within 1e-15 of the normal constant, and `nu = inf` gives the normal density exactly.
    /// NaN `x` gives NaN.
    pub fn pdf(&self, x: F) -> F {
        let x = x.into_f64();
        if self.nu == f64::INFINITY {
            return F::of_f64(self.ln_normaliser.exp() * (-0.5 * x * x).exp());
        }

        // ln(1 + x^2 / nu), with x^2 / nu formed only where it cannot overflow.
        let r = x / self.nu.sqrt();
        let log_kernel = if r.abs() > 1e100 {
            2.0 * r.abs().ln() + (r * r).recip().ln_1p()
        } else {
            (r * r).ln_1p()
        };
        F::of_f64((self.ln_normaliser - 0.5 * (self.nu + 1.0) * log_kernel).exp())
    }
}

impl<F: Scalar> Distribution<F> for StudentT<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let z = standard_normal(rng);
        let chi = self.chi.sample(rng);

        // For tiny nu the gamma draw can underflow to 0, and 0 / 0 must not become NaN.
        if z == 0.0 {
            return F::zero();
        }
        saturate(z / chi.sqrt())
    }
}

/// Argument from which the Stirling series of `ln Gamma` is used directly.
const STIRLING_MIN: f64 = 8.0;

/// Returns the Stirling correction `ln Gamma(z) - ((z - 1/2) ln z - z + ln(2 pi) / 2)` for
/// `z >= 8`, with seven Bernoulli terms (error below 1e-15).
fn stirling_correction(z: f64) -> f64 {
    let r = z.recip();
    let r2 = r * r;
    let series = 1.0 / 12.0
        + r2 * (-1.0 / 360.0
            + r2 * (1.0 / 1260.0
                + r2 * (-1.0 / 1680.0
                    + r2 * (1.0 / 1188.0 + r2 * (-691.0 / 360_360.0 + r2 * (1.0 / 156.0))))));
    series * r
}

/// Returns `ln Gamma(a + 1/2) - ln Gamma(a) - ln(a) / 2` for `a > 0`, without forming either
/// gamma function.
///
/// For `a >= 8`, Stirling's formula gives `a ln(1 + 1/(2a)) - 1/2` plus the difference of
/// the two corrections. Smaller `a` is shifted up by `n` with `Gamma(z + 1) = z Gamma(z)`.
fn ln_gamma_half_ratio_excess(a: f64) -> f64 {
    if a >= STIRLING_MIN {
        let main = a * (0.5 / a).ln_1p() - 0.5;
        return main + stirling_correction(a + 0.5) - stirling_correction(a);
    }

    // ln G(a + 1/2) - ln G(a) = [same at a + n] - sum_k ln((a + k + 1/2) / (a + k)).
    let shift = (STIRLING_MIN - a).ceil();
    let shifted = a + shift;
    let mut sum_logs = 0.0;
    let mut k = 0.0;
    while k < shift {
        sum_logs += (0.5 / (a + k)).ln_1p();
        k += 1.0;
    }
    ln_gamma_half_ratio_excess(shifted) + 0.5 * (shifted / a).ln() - sum_logs
}

/// Returns the log of the t density's normalising constant for `nu` in (0, inf].
fn ln_t_normaliser(nu: f64) -> f64 {
    let ln_sqrt_two_pi = 0.5 * (2.0 * PI).ln();
    if nu == f64::INFINITY {
        return -ln_sqrt_two_pi;
    }

    // With a = nu/2: ln G(a + 1/2) - ln G(a) - ln(sqrt(2 a pi)), and ln a / 2 cancels.
    ln_gamma_half_ratio_excess(0.5 * nu) - ln_sqrt_two_pi
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_at_zero_for_nu_340() {
        // Gamma(170.5) / (sqrt(340 pi) Gamma(170)) in 40-digit arithmetic.
        let t = StudentT::<f64>::new(340.0).unwrap();
        let expected = 0.39864904873110935;
        assert!(
            (t.pdf(0.0) / expected - 1.0).abs() < 1e-12,
            "{}",
            t.pdf(0.0)
        );
    }

    #[test]
    fn pdf_at_zero_small_and_moderate_nu() {
        // Gamma((nu + 1) / 2) / (sqrt(nu pi) Gamma(nu / 2)) from mpmath at 30 digits.
        for (nu, expected) in [(0.5, 0.2696763005941897), (20.0, 0.3939885857114326)] {
            let t = StudentT::<f64>::new(nu).unwrap();
            assert!((t.pdf(0.0) / expected - 1.0).abs() < 1e-14, "nu = {nu}");
        }
    }

    #[test]
    fn pdf_closed_forms_small_nu() {
        // nu = 1: 1 / (pi (1 + x^2)); nu = 2: (2 + x^2)^(-3/2); nu = 3: 6 sqrt(3) / (pi (3 +
        // x^2)^2).
        let cauchy = StudentT::<f64>::new(1.0).unwrap();
        let two = StudentT::<f64>::new(2.0).unwrap();
        let three = StudentT::<f64>::new(3.0).unwrap();
        for x in [0.0, 0.3, -1.0, 2.5, 40.0] {
            let c = 1.0 / (PI * (1.0 + x * x));
            let d = (2.0 + x * x).powf(-1.5);
            let e = 6.0 * 3f64.sqrt() / (PI * (3.0 + x * x).powi(2));
            assert!((cauchy.pdf(x) / c - 1.0).abs() < 1e-14, "nu = 1, x = {x}");
            assert!((two.pdf(x) / d - 1.0).abs() < 1e-14, "nu = 2, x = {x}");
            assert!((three.pdf(x) / e - 1.0).abs() < 1e-14, "nu = 3, x = {x}");
        }
    }

    #[test]
    fn pdf_huge_nu_is_normal() {
        let normal = 1.0 / (2.0 * PI).sqrt();
        for nu in [1e300, 1e20, f64::INFINITY] {
            let t = StudentT::<f64>::new(nu).unwrap();
            assert!((t.pdf(0.0) / normal - 1.0).abs() < 1e-15, "nu = {nu}");
            let at_one = normal * (-0.5f64).exp();
            assert!((t.pdf(1.0) / at_one - 1.0).abs() < 1e-14, "nu = {nu}");
        }
    }

    #[test]
    fn pdf_far_tail_does_not_underflow_early() {
        // nu = 0.5: the density at 1e200 is of order 1e-300, not 0.
        let t = StudentT::<f64>::new(0.5).unwrap();
        let p = t.pdf(1e200);
        assert!(p.is_finite(), "{p}");
        assert!(p > 0.0, "{p}");
    }

    #[test]
    fn student_t_rejects_bad_nu() {
        for nu in [0.0, -1.0, 1e-310, f64::NAN, f64::NEG_INFINITY] {
            assert!(
                matches!(
                    StudentT::<f64>::new(nu),
                    Err(NoiseError::InvalidParameter { name: "nu", .. })
                ),
                "nu = {nu}"
            );
        }
    }
}
