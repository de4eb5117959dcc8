//! A Rényi differential privacy (RDP) accountant for the subsampled Gaussian mechanism.
//!
//! One step of DP-SGD with Poisson sampling rate `q` and noise multiplier `sigma` is the
//! sampled Gaussian mechanism. Its RDP at order `alpha > 1` is `log(A_alpha) / (alpha - 1)`,
//! where, with `mu_0 = N(0, sigma^2)` and `mu = (1 - q) mu_0 + q N(1, sigma^2)`,
//! `A_alpha = E_{z ~ mu_0}[(mu(z) / mu_0(z))^alpha]` (Mironov, Talwar and Zhang 2019).
//! For integer orders `A_alpha` is a finite binomial sum; for fractional orders it is the
//! two-series expansion of the same paper (Section 3.3). RDP composes by addition over
//! steps, and an `(epsilon, delta)` guarantee follows from the conversion of Canonne, Kamath
//! and Steinke (2020, Proposition 12), also used by Balle et al. (2020):
//!
//! `epsilon = min over alpha of  rdp(alpha) + log((alpha - 1) / alpha)
//!                               - (log(delta) + log(alpha)) / (alpha - 1)`.
//!
//! The accountant covers Poisson subsampling. Sampling a fixed-size batch without
//! replacement has a different (larger) bound, so [`SamplingScheme::FixedSize`] is rejected
//! by [`RdpAccountant::compose`] rather than accounted as if it were Poisson.
//!
//! # References
//!
//! - I. Mironov, K. Talwar, L. Zhang, "Rényi Differential Privacy of the Sampled Gaussian
//!   Mechanism", arXiv:1908.10530, 2019.
//! - C. Canonne, G. Kamath, T. Steinke, "The Discrete Gaussian for Differential Privacy",
//!   NeurIPS 2020 (Proposition 12).
//! - B. Balle, G. Barthe, M. Gaboardi, J. Hsu, T. Sato, "Hypothesis Testing Interpretations
//!   and Rényi Differential Privacy", AISTATS 2020.

use crate::DpError;

/// The scheme that draws the examples of one step from the dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SamplingScheme {
    /// Each example joins the batch independently with probability `q` (Poisson sampling);
    /// the batch size is random with mean `q N`. This is what the accountant covers.
    Poisson,
    /// A batch of exactly `round(q N)` examples drawn without replacement. Its privacy
    /// accounting differs from Poisson sampling and is not implemented here.
    FixedSize,
}

/// The RDP orders used by default: 1.1 to 10.9 in steps of 0.1, the integers 11 to 63,
/// and 128, 256, 512, 1024 (the set of Google's `dp-accounting` library, version 0.4).
pub fn default_orders() -> Vec<f64> {
    let mut orders: Vec<f64> = (1..100).map(|x| 1.0 + f64::from(x) / 10.0).collect();
    orders.extend((11..64).map(f64::from));
    orders.extend([128.0, 256.0, 512.0, 1024.0]);
    orders
}

/// Accumulates the RDP of a sequence of subsampled Gaussian steps and converts it to
/// `(epsilon, delta)`.
///
/// # Examples
///
/// ```
/// use median_dp::accountant::{RdpAccountant, SamplingScheme};
///
/// let mut accountant = RdpAccountant::new();
/// accountant.compose(0.01, 1.1, 10_000, SamplingScheme::Poisson)?;
/// let (epsilon, _order) = accountant.epsilon(1e-5)?;
/// assert!(epsilon > 1.0 && epsilon < 10.0);
/// # Ok::<(), median_dp::DpError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RdpAccountant {
    orders: Vec<f64>,
    rdp: Vec<f64>,
}

impl Default for RdpAccountant {
    fn default() -> Self {
        Self::new()
    }
}

impl RdpAccountant {
    /// Creates an accountant with no privacy spent, over [`default_orders`].
    pub fn new() -> Self {
        let orders = default_orders();
        let rdp = vec![0.0; orders.len()];
        Self { orders, rdp }
    }

    /// Creates an accountant over the given RDP orders.
    ///
    /// # Errors
    ///
    /// [`DpError::InvalidParameter`] if the list is empty or an order is not finite and
    /// greater than 1.
    pub fn with_orders(orders: Vec<f64>) -> Result<Self, DpError> {
        if orders.is_empty() {
            return Err(DpError::invalid(
                "orders",
                f64::NAN,
                "at least one order is required",
            ));
        }
        if let Some(&bad) = orders.iter().find(|a| !(a.is_finite() && **a > 1.0)) {
            return Err(DpError::invalid("order", bad, "must be finite and > 1"));
        }
        let rdp = vec![0.0; orders.len()];
        Ok(Self { orders, rdp })
    }

    /// Returns the RDP orders.
    pub fn orders(&self) -> &[f64] {
        &self.orders
    }

    /// Returns the accumulated RDP at each order.
    pub fn rdp(&self) -> &[f64] {
        &self.rdp
    }

    /// Adds `steps` steps of the subsampled Gaussian mechanism with sampling rate `q` and
    /// noise multiplier `sigma` (noise standard deviation over the clipping norm).
    ///
    /// # Errors
    ///
    /// [`DpError::InvalidParameter`] unless `0 <= q <= 1` and `sigma >= 0` (NaN rejected;
    /// `sigma = 0` gives infinite RDP, so no privacy), and
    /// [`DpError::UnsupportedSampling`] for [`SamplingScheme::FixedSize`].
    pub fn compose(
        &mut self,
        q: f64,
        sigma: f64,
        steps: u64,
        scheme: SamplingScheme,
    ) -> Result<(), DpError> {
        if scheme == SamplingScheme::FixedSize {
            return Err(DpError::UnsupportedSampling);
        }
        validate_rate_and_noise(q, sigma)?;
        for (order, total) in self.orders.iter().zip(self.rdp.iter_mut()) {
            *total += steps as f64 * subsampled_gaussian_rdp(q, sigma, *order);
        }
        Ok(())
    }

    /// Returns the smallest `epsilon` over the orders for which the steps so far are
    /// `(epsilon, delta)`-DP, and the order that attains it.
    ///
    /// # Errors
    ///
    /// [`DpError::InvalidParameter`] unless `0 < delta < 1`.
    pub fn epsilon(&self, delta: f64) -> Result<(f64, f64), DpError> {
        epsilon_from_rdp(&self.orders, &self.rdp, delta)
    }
}

/// Checks `0 <= q <= 1` and `sigma >= 0`, both not NaN.
fn validate_rate_and_noise(q: f64, sigma: f64) -> Result<(), DpError> {
    if !(0.0..=1.0).contains(&q) {
        return Err(DpError::invalid("sampling_rate", q, "must be in [0, 1]"));
    }
    if sigma.is_nan() || sigma < 0.0 {
        return Err(DpError::invalid("noise_multiplier", sigma, "must be >= 0"));
    }
    Ok(())
}

/// Converts RDP values at `orders` into the smallest `epsilon` for `delta`, with the order
/// that attains it.
///
/// # Errors
///
/// [`DpError::InvalidParameter`] unless `0 < delta < 1` and the two slices have the same
/// length.
pub fn epsilon_from_rdp(orders: &[f64], rdp: &[f64], delta: f64) -> Result<(f64, f64), DpError> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(DpError::invalid("delta", delta, "must be in (0, 1)"));
    }
    if orders.len() != rdp.len() || orders.is_empty() {
        return Err(DpError::invalid(
            "orders",
            orders.len() as f64,
            "need one RDP value per order, and at least one order",
        ));
    }
    let mut best = (f64::INFINITY, orders[0]);
    for (&alpha, &value) in orders.iter().zip(rdp) {
        let epsilon =
            value + ((alpha - 1.0) / alpha).ln() - (delta.ln() + alpha.ln()) / (alpha - 1.0);
        if epsilon < best.0 {
            best = (epsilon, alpha);
        }
    }
    Ok((best.0.max(0.0), best.1))
}

/// Returns the RDP at order `alpha > 1` of one step of the Poisson-subsampled Gaussian
/// mechanism with rate `q` and noise multiplier `sigma`.
///
/// Exact cases: `q = 0` gives 0, `q = 1` gives the Gaussian mechanism's `alpha / (2
/// sigma^2)`, `sigma = 0` (with `q > 0`) gives infinity.
pub fn subsampled_gaussian_rdp(q: f64, sigma: f64, alpha: f64) -> f64 {
    if q == 0.0 {
        return 0.0;
    }
    if sigma == 0.0 {
        return f64::INFINITY;
    }
    if sigma.is_infinite() {
        return 0.0;
    }
    if q == 1.0 {
        return alpha / (2.0 * sigma * sigma);
    }
    let log_a = if alpha.fract() == 0.0 {
        log_a_integer(q, sigma, alpha as u64)
    } else {
        log_a_fractional(q, sigma, alpha)
    };
    log_a / (alpha - 1.0)
}

/// Returns `log A_alpha` for an integer order: the log of
/// `sum_k C(alpha, k) (1 - q)^(alpha - k) q^k exp((k^2 - k) / (2 sigma^2))`.
fn log_a_integer(q: f64, sigma: f64, alpha: u64) -> f64 {
    let (log_q, log_1mq) = (q.ln(), (-q).ln_1p());
    let mut log_binomial = 0.0_f64;
    let mut total = f64::NEG_INFINITY;
    for k in 0..=alpha {
        if k > 0 {
            // C(alpha, k) = C(alpha, k - 1) (alpha - k + 1) / k.
            log_binomial += ((alpha - k + 1) as f64).ln() - (k as f64).ln();
        }
        let kf = k as f64;
        let term = log_binomial
            + kf * log_q
            + (alpha as f64 - kf) * log_1mq
            + (kf * kf - kf) / (2.0 * sigma * sigma);
        total = log_add(total, term);
    }
    total
}

/// Returns `log A_alpha` for a fractional order by the two-series expansion of Mironov,
/// Talwar and Zhang (2019, Section 3.3), summed in log space with signs.
fn log_a_fractional(q: f64, sigma: f64, alpha: f64) -> f64 {
    let (log_q, log_1mq) = (q.ln(), (-q).ln_1p());
    let z0 = sigma * sigma * (1.0 / q - 1.0).ln() + 0.5;
    let two_sigma2 = 2.0 * sigma * sigma;
    let root2_sigma = std::f64::consts::SQRT_2 * sigma;

    let mut sum0 = SignedLog::ZERO;
    let mut sum1 = SignedLog::ZERO;
    // The generalised binomial coefficient C(alpha, i), as a sign and a log magnitude.
    let mut coefficient = SignedLog::ONE;
    for i in 0..MAX_SERIES_TERMS {
        if i > 0 {
            let factor = (alpha - (i - 1) as f64) / i as f64;
            coefficient = coefficient.times(factor);
        }
        let fi = i as f64;
        let j = alpha - fi;
        let log_t0 = coefficient.log_abs + fi * log_q + j * log_1mq;
        let log_t1 = coefficient.log_abs + j * log_q + fi * log_1mq;
        let log_e0 = 0.5_f64.ln() + log_erfc((fi - z0) / root2_sigma);
        let log_e1 = 0.5_f64.ln() + log_erfc((z0 - j) / root2_sigma);
        let log_s0 = log_t0 + (fi * fi - fi) / two_sigma2 + log_e0;
        let log_s1 = log_t1 + (j * j - j) / two_sigma2 + log_e1;
        sum0 = sum0.plus(SignedLog {
            negative: coefficient.negative,
            log_abs: log_s0,
        });
        sum1 = sum1.plus(SignedLog {
            negative: coefficient.negative,
            log_abs: log_s1,
        });
        if log_s0.max(log_s1) < SERIES_CUTOFF && i as f64 > alpha {
            break;
        }
    }
    sum0.plus(sum1).log_abs
}

/// Terms below `exp(SERIES_CUTOFF)` end the fractional series.
const SERIES_CUTOFF: f64 = -30.0;

/// A bound on the fractional series; the terms decay like a Gaussian tail, so it is never
/// reached for orders up to a few thousand.
const MAX_SERIES_TERMS: usize = 100_000;

/// A signed number stored as its sign and the log of its magnitude.
#[derive(Debug, Clone, Copy)]
struct SignedLog {
    negative: bool,
    log_abs: f64,
}

impl SignedLog {
    const ZERO: Self = Self {
        negative: false,
        log_abs: f64::NEG_INFINITY,
    };
    const ONE: Self = Self {
        negative: false,
        log_abs: 0.0,
    };

    /// Multiplies by a real factor.
    fn times(self, factor: f64) -> Self {
        Self {
            negative: self.negative != (factor < 0.0),
            log_abs: self.log_abs + factor.abs().ln(),
        }
    }

    /// Adds another signed number.
    fn plus(self, other: Self) -> Self {
        if other.log_abs == f64::NEG_INFINITY {
            return self;
        }
        if self.log_abs == f64::NEG_INFINITY {
            return other;
        }
        if self.negative == other.negative {
            return Self {
                negative: self.negative,
                log_abs: log_add(self.log_abs, other.log_abs),
            };
        }
        let (big, small) = if self.log_abs >= other.log_abs {
            (self, other)
        } else {
            (other, self)
        };
        if big.log_abs == small.log_abs {
            return Self::ZERO;
        }
        Self {
            negative: big.negative,
            log_abs: big.log_abs + (-(small.log_abs - big.log_abs).exp()).ln_1p(),
        }
    }
}

/// Returns `log(exp(a) + exp(b))` without overflow.
fn log_add(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if lo == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// Returns `log(erfc(x))`, accurate where `erfc(x)` underflows.
fn log_erfc(x: f64) -> f64 {
    if x < 25.0 {
        return libm::erfc(x).ln();
    }
    // Asymptotic series: erfc(x) = exp(-x^2) / (x sqrt(pi)) (1 - 1/(2x^2) + 3/(4x^4) - ...).
    let inv2 = 1.0 / (x * x);
    let series = 1.0 - 0.5 * inv2 + 0.75 * inv2 * inv2 - 1.875 * inv2 * inv2 * inv2;
    -x * x - x.ln() - 0.5 * std::f64::consts::PI.ln() + series.ln()
}

/// Returns the smallest noise multiplier for which `steps` Poisson-subsampled Gaussian
/// steps at rate `q` are `(target_epsilon, delta)`-DP, by bisection to a relative 1e-6.
///
/// # Errors
///
/// [`DpError::InvalidParameter`] for a non-positive or NaN `target_epsilon`, `q` outside
/// `(0, 1]`, `delta` outside `(0, 1)` or zero steps, and [`DpError::Unreachable`] if no
/// multiplier up to `1e6` reaches the target.
pub fn noise_multiplier_for_epsilon(
    target_epsilon: f64,
    delta: f64,
    q: f64,
    steps: u64,
) -> Result<f64, DpError> {
    if !(target_epsilon > 0.0 && target_epsilon.is_finite()) {
        return Err(DpError::invalid(
            "target_epsilon",
            target_epsilon,
            "must be finite and > 0",
        ));
    }
    if !(q > 0.0 && q <= 1.0) {
        return Err(DpError::invalid("sampling_rate", q, "must be in (0, 1]"));
    }
    if steps == 0 {
        return Err(DpError::invalid("steps", 0.0, "must be at least 1"));
    }
    let epsilon_at = |sigma: f64| -> Result<f64, DpError> {
        let mut accountant = RdpAccountant::new();
        accountant.compose(q, sigma, steps, SamplingScheme::Poisson)?;
        Ok(accountant.epsilon(delta)?.0)
    };

    let (mut low, mut high) = (1e-3, 1.0);
    while epsilon_at(high)? > target_epsilon {
        low = high;
        high *= 2.0;
        if high > 1e6 {
            return Err(DpError::Unreachable { target_epsilon });
        }
    }
    while (high - low) > 1e-6 * high {
        let mid = 0.5 * (low + high);
        if epsilon_at(mid)? > target_epsilon {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_two_matches_closed_form() {
        // A_2 = 1 + q^2 (exp(1 / sigma^2) - 1).
        for &(q, sigma) in &[(0.01_f64, 1.0_f64), (0.1, 0.7), (0.5, 2.0)] {
            let expected = (q * q * ((1.0 / (sigma * sigma)).exp() - 1.0)).ln_1p();
            let found = subsampled_gaussian_rdp(q, sigma, 2.0);
            assert!(
                (found / expected - 1.0).abs() < 1e-12,
                "q={q} sigma={sigma}"
            );
        }
    }

    #[test]
    fn fractional_series_matches_integer_sum() {
        // Evaluate the fractional expansion at integer orders, where the binomial sum is
        // exact.
        for &(q, sigma, alpha) in &[(0.01, 1.1, 2.0), (0.05, 0.8, 5.0), (0.2, 3.0, 16.0)] {
            let integer = log_a_integer(q, sigma, alpha as u64);
            let fractional = log_a_fractional(q, sigma, alpha);
            assert!(
                (integer - fractional).abs() < 1e-9 * integer.abs().max(1e-12),
                "q={q} sigma={sigma} alpha={alpha}: {integer} vs {fractional}"
            );
        }
    }

    #[test]
    fn full_batch_is_gaussian_mechanism() {
        assert_eq!(subsampled_gaussian_rdp(1.0, 2.0, 3.5), 3.5 / 8.0);
        assert_eq!(subsampled_gaussian_rdp(0.0, 2.0, 3.5), 0.0);
        assert_eq!(subsampled_gaussian_rdp(0.3, 0.0, 3.5), f64::INFINITY);
    }

    #[test]
    fn rdp_grows_with_rate_and_order() {
        let sigma = 1.0;
        let mut previous = 0.0;
        for &q in &[0.001, 0.01, 0.1, 0.5] {
            let value = subsampled_gaussian_rdp(q, sigma, 4.5);
            assert!(value > previous, "q={q}");
            previous = value;
        }
        assert!(
            subsampled_gaussian_rdp(0.1, sigma, 8.0) > subsampled_gaussian_rdp(0.1, sigma, 4.0)
        );
    }

    #[test]
    fn log_erfc_is_continuous_at_switch() {
        let below = libm::erfc(24.999).ln();
        let above = log_erfc(25.001);
        let slope = -2.0 * 25.0;
        assert!((above - below - slope * 0.002).abs() < 1e-3);
    }

    #[test]
    fn noise_multiplier_inverts_epsilon() {
        let (q, steps, delta) = (0.01, 1000, 1e-5);
        let sigma = noise_multiplier_for_epsilon(2.0, delta, q, steps).unwrap();
        let mut accountant = RdpAccountant::new();
        accountant
            .compose(q, sigma, steps, SamplingScheme::Poisson)
            .unwrap();
        let (epsilon, _) = accountant.epsilon(delta).unwrap();
        assert!(
            epsilon <= 2.0 && epsilon > 1.99,
            "epsilon {epsilon} at sigma {sigma}"
        );
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let mut accountant = RdpAccountant::new();
        for &(q, sigma) in &[
            (-0.1, 1.0),
            (1.5, 1.0),
            (f64::NAN, 1.0),
            (0.1, -1.0),
            (0.1, f64::NAN),
        ] {
            assert!(matches!(
                accountant.compose(q, sigma, 1, SamplingScheme::Poisson),
                Err(DpError::InvalidParameter { .. })
            ));
        }
        assert_eq!(
            accountant.compose(0.1, 1.0, 1, SamplingScheme::FixedSize),
            Err(DpError::UnsupportedSampling)
        );
        assert!(accountant.epsilon(0.0).is_err());
        assert!(accountant.epsilon(1.0).is_err());
        assert!(RdpAccountant::with_orders(vec![1.0]).is_err());
    }
}
