//! Alpha-stable distributions by the Chambers-Mallows-Stuck method, in the S1
//! parameterisation.

use std::f64::consts::{FRAC_2_PI, FRAC_PI_2, PI};
use std::marker::PhantomData;

use median_linalg::Scalar;
use rand::Rng;
use rand::distr::Distribution;

use crate::error::{NoiseError, check_finite, check_positive};
use crate::uniform::{exp1, open01, saturate};

/// The alpha-stable distribution `S(alpha, beta, gamma, delta; 1)`: stability `alpha`, skew
/// `beta`, scale `gamma` and location `delta`, in Nolan's S1 parameterisation. S1 is the
/// default of `scipy.stats.levy_stable` (scipy 1.17.1) and is Samorodnitsky and Taqqu's
/// `S_alpha(gamma, beta, delta)`.
///
/// Characteristic function `E exp(itX) = exp(-gamma^alpha |t|^alpha (1 - i beta tan(pi
/// alpha / 2) sign t) + i delta t)` for `alpha != 1`, and `exp(-gamma |t| (1 + i beta (2 /
/// pi) sign t ln |t|) + i delta t)` for `alpha = 1`. There is no closed-form density
/// except at `alpha = 2` (normal with variance `2 gamma^2`, not `gamma^2`), `alpha = 1`,
/// `beta = 0` (Cauchy with scale `gamma`) and `alpha = 1/2`, `beta = 1` (Levy, density
/// `sqrt(gamma / (2 pi)) (x - delta)^(-3/2) exp(-gamma / (2 (x - delta)))` for `x > delta`).
///
/// The tail index is `alpha` for `alpha < 2`: moments of order `k < alpha` are finite, so
/// the mean exists only for `alpha > 1` (it is `delta` in S1) and the variance only at
/// `alpha = 2`. With `beta = 1` and `alpha < 1` the support is `[delta, inf)`.
///
/// In S1 the location of a skewed law (`beta != 0`) drifts like `beta gamma tan(pi alpha /
/// 2)` as `alpha` approaches 1, so the family itself is not continuous in `alpha` at 1
/// unless `beta = 0`. The sampler is: for `beta = 0` the draws from the same uniforms move
/// continuously through `alpha = 1`, and for any `beta` a draw minus `beta tan(pi alpha /
/// 2)` (the S0 draw) tends to the `alpha = 1` draw.
///
/// # Examples
///
/// ```
/// use median_noise::AlphaStable;
/// use rand::{RngExt, SeedableRng};
///
/// // Symmetric 1.5-stable noise with unit scale.
/// let stable = AlphaStable::new(1.5_f64, 0.0, 1.0, 0.0)?;
/// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
/// let x: f64 = rng.sample(&stable);
/// assert!(x.is_finite());
/// # Ok::<(), median_noise::NoiseError>(())
/// ```
///
/// # References
///
/// J. M. Chambers, C. L. Mallows and B. W. Stuck, "A method for simulating stable random
/// variables", JASA 71 (1976). R. Weron, "On the Chambers-Mallows-Stuck method for
/// simulating skewed stable random variables", Statist. Probab. Lett. 28 (1996).
/// J. P. Nolan, "Univariate Stable Distributions" (Springer, 2020), chapter 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlphaStable<F> {
    alpha: f64,
    beta: f64,
    scale: f64,
    location: f64,
    constants: CmsConstants,
    marker: PhantomData<F>,
}

impl<F: Scalar> AlphaStable<F> {
    /// Creates `S(alpha, beta, scale, location; 1)`.
    ///
    /// # Errors
    ///
    /// [`NoiseError::InvalidParameter`] if `alpha` is not in (0, 2], `beta` is not in
    /// [-1, 1], `scale` is not finite and strictly positive, or `location` is not finite.
    pub fn new(alpha: F, beta: F, scale: F, location: F) -> Result<Self, NoiseError> {
        let alpha = alpha.into_f64();
        let beta = beta.into_f64();
        check_shape(alpha, beta)?;
        let scale = check_positive("scale", scale.into_f64())?;
        let location = check_finite("location", location.into_f64())?;

        // At alpha = 1 the scale enters the location through (2 / pi) beta gamma ln gamma.
        let location = if alpha == 1.0 {
            location + FRAC_2_PI * beta * scale * scale.ln()
        } else {
            location
        };
        Ok(Self {
            alpha,
            beta,
            scale,
            location,
            constants: CmsConstants::new(alpha, beta),
            marker: PhantomData,
        })
    }

    /// Returns the stability index `alpha`.
    pub fn alpha(&self) -> F {
        F::of_f64(self.alpha)
    }

    /// Returns the skew `beta`.
    pub fn beta(&self) -> F {
        F::of_f64(self.beta)
    }
}

impl<F: Scalar> Distribution<F> for AlphaStable<F> {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> F {
        let v = PI * (open01(rng) - 0.5);
        let w = exp1(rng);
        let x = transform_with(self.alpha, self.beta, &self.constants, v, w);
        saturate(self.scale * x + self.location)
    }
}

/// Validates the stability index and the skew.
pub(crate) fn check_shape(alpha: f64, beta: f64) -> Result<(), NoiseError> {
    if !(alpha > 0.0 && alpha <= 2.0) {
        return Err(NoiseError::invalid("alpha", alpha, "in (0, 2]"));
    }
    if !(-1.0..=1.0).contains(&beta) {
        return Err(NoiseError::invalid("beta", beta, "in [-1, 1]"));
    }
    Ok(())
}

/// Returns the Chambers-Mallows-Stuck transform: a draw of `S(alpha, beta, 1, 0; 1)` from an
/// angle `v` uniform on (-pi/2, pi/2) and `w` standard exponential.
///
/// For `alpha != 1`, with `B = arctan(beta tan(pi alpha / 2)) / alpha` and `S = (1 + beta^2
/// tan^2(pi alpha / 2))^(1 / (2 alpha))`:
/// `X = S sin(alpha (v + B)) / cos(v)^(1 / alpha) (cos(v - alpha (v + B)) / w)^((1 - alpha)
/// / alpha)`. For `alpha = 1`: `X = (2 / pi) ((pi / 2 + beta v) tan v - beta ln((pi / 2) w
/// cos v / (pi / 2 + beta v)))`, where the factor `2 / pi` multiplies both terms. At
/// `alpha = 2` the skew has no effect and `X = 2 sqrt(w) sin v`, which is N(0, 2).
///
/// The inputs are not checked: `alpha` outside (0, 2], `beta` outside [-1, 1], `v` outside
/// (-pi/2, pi/2) or `w <= 0` give meaningless values. For valid inputs the result is never
/// NaN, but it may be infinite when the exact value exceeds the `f64` range (tiny `alpha`).
///
/// # Examples
///
/// ```
/// use median_noise::stable_transform;
///
/// let x = stable_transform(1.0, -0.5, 0.3, 1.7);
/// assert!((x - 0.46610416063562312).abs() < 1e-15);
/// ```
pub fn stable_transform(alpha: f64, beta: f64, v: f64, w: f64) -> f64 {
    transform_with(alpha, beta, &CmsConstants::new(alpha, beta), v, w)
}

/// The constants `B` and `S` of the transform for `alpha != 1`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CmsConstants {
    shift: f64,
    factor: f64,
}

impl CmsConstants {
    pub(crate) fn new(alpha: f64, beta: f64) -> Self {
        if alpha == 1.0 || alpha == 2.0 {
            return Self {
                shift: 0.0,
                factor: 1.0,
            };
        }
        let zeta = beta * (FRAC_PI_2 * alpha).tan();
        Self {
            shift: zeta.atan() / alpha,
            factor: 1f64.hypot(zeta).powf(alpha.recip()),
        }
    }
}

/// Evaluates the transform with precomputed constants.
#[inline]
pub(crate) fn transform_with(
    alpha: f64,
    beta: f64,
    constants: &CmsConstants,
    v: f64,
    w: f64,
) -> f64 {
    if alpha == 1.0 {
        let tilted = FRAC_PI_2 + beta * v;
        let log_term = (FRAC_PI_2 * w * v.cos() / tilted).ln();
        return FRAC_2_PI * (tilted * v.tan() - beta * log_term);
    }

    let angle = alpha * (v + constants.shift);
    let exponent = (1.0 - alpha) / alpha;
    let cos_v = v.cos();
    let inner = (v - angle).cos().max(f64::MIN_POSITIVE);
    let direct =
        constants.factor * angle.sin() / cos_v.powf(alpha.recip()) * (inner / w).powf(exponent);
    if direct.is_finite() {
        return direct;
    }

    // An overflow (or 0 times infinity) in the product: recompute in logarithms, where the
    // only infinite term can be ln|sin| = -inf, so the result is never NaN.
    let sine = angle.sin();
    let log_magnitude = constants.factor.ln() + sine.abs().ln() - cos_v.ln() / alpha
        + exponent * (inner.ln() - w.ln());
    sine.signum() * log_magnitude.exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transform_alpha_one_skewed() {
        // 60-digit evaluation of the alpha = 1 formula; the variant with 2 / pi on the first
        // term only gives 0.57244770992828856.
        let x = stable_transform(1.0, -0.5, 0.3, 1.7);
        assert!((x / 0.4661041606356231 - 1.0).abs() < 1e-15, "{x}");
    }

    #[test]
    fn transform_alpha_one_symmetric_is_tan() {
        let x = stable_transform(1.0, 0.0, 0.3, 1.7);
        assert!((x / 0.30933624960962325 - 1.0).abs() < 1e-15, "{x}");
    }

    #[test]
    fn transform_alpha_two_is_scaled_sine() {
        for (v, w) in [(0.3_f64, 1.7_f64), (-1.2, 0.05), (1.5, 9.0)] {
            let expected = 2.0 * w.sqrt() * f64::sin(v);
            for beta in [-1.0, 0.0, 0.7] {
                let x = stable_transform(2.0, beta, v, w);
                assert!((x - expected).abs() <= 1e-14 * expected.abs(), "v = {v}");
            }
        }
    }

    #[test]
    fn transform_symmetric_continuous_at_alpha_one() {
        for (v, w) in [(0.3, 1.7), (-1.4, 0.2), (1.55, 3.0)] {
            let at_one = stable_transform(1.0, 0.0, v, w);
            for alpha in [1.0 - 1e-9, 1.0 + 1e-9] {
                let x = stable_transform(alpha, 0.0, v, w);
                assert!((x - at_one).abs() < 1e-6 * (1.0 + at_one.abs()), "v = {v}");
            }
        }
    }

    #[test]
    fn transform_s0_location_continuous_at_alpha_one() {
        // The S0 draw, the S1 draw minus beta tan(pi alpha / 2), tends to the alpha = 1 draw.
        for (v, w) in [(0.3, 1.7), (-1.0, 0.4), (1.2, 2.5)] {
            let at_one = stable_transform(1.0, -0.5, v, w);
            for alpha in [1.0 - 1e-6, 1.0 + 1e-6] {
                let s0 = stable_transform(alpha, -0.5, v, w) + 0.5 * (FRAC_PI_2 * alpha).tan();
                assert!((s0 - at_one).abs() < 1e-4, "v = {v}, alpha = {alpha}");
            }
        }
    }

    #[test]
    fn transform_extreme_inputs_not_nan() {
        for alpha in [0.01, 0.1, 0.5, 1.5, 1.99] {
            for beta in [-1.0, 0.0, 1.0] {
                for v in [-FRAC_PI_2 + 1e-16, 0.0, FRAC_PI_2 - 1e-16] {
                    for w in [1e-16, 1.0, 37.0] {
                        let x = stable_transform(alpha, beta, v, w);
                        assert!(!x.is_nan(), "alpha {alpha} beta {beta} v {v} w {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn stable_rejects_bad_parameters() {
        let cases = [
            (0.0, 0.0, 1.0, 0.0, "alpha"),
            (2.5, 0.0, 1.0, 0.0, "alpha"),
            (f64::NAN, 0.0, 1.0, 0.0, "alpha"),
            (1.5, 1.5, 1.0, 0.0, "beta"),
            (1.5, f64::NAN, 1.0, 0.0, "beta"),
            (1.5, 0.0, 0.0, 0.0, "scale"),
            (1.5, 0.0, 1.0, f64::INFINITY, "location"),
        ];
        for (alpha, beta, scale, location, expected) in cases {
            let result = AlphaStable::<f64>::new(alpha, beta, scale, location);
            assert!(
                matches!(result, Err(NoiseError::InvalidParameter { name, .. }) if name == expected),
                "{expected}: {result:?}"
            );
        }
    }
}
