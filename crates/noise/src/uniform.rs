//! Uniform and exponential building blocks shared by the samplers, and the conversion of an
//! `f64` draw to the caller's float type.

use median_linalg::Scalar;
use rand::Rng;

/// `2^-52`, the spacing of the open uniform grid.
const GRID_52: f64 = 1.0 / (1u64 << 52) as f64;

/// `2^-53`, the spacing of the half-open uniform grid.
const GRID_53: f64 = 1.0 / (1u64 << 53) as f64;

/// Draws `u` uniform on the open interval (0, 1): `u = (k + 1/2) 2^-52` with `k` uniform on
/// `0..2^52`.
///
/// The grid is symmetric about 1/2 (`1 - u` is again a grid point and is computed exactly),
/// its ends are `2^-53` and `1 - 2^-53`, and it never contains 0 or 1.
#[inline]
pub(crate) fn open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let k = rng.next_u64() >> 12;
    (k as f64 + 0.5) * GRID_52
}

/// Draws `u` uniform on [0, 1) with 53 random bits: `u = k 2^-53`, so `1 - u` is exact and
/// lies in (0, 1].
#[inline]
pub(crate) fn closed_open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let k = rng.next_u64() >> 11;
    k as f64 * GRID_53
}

/// Draws a standard exponential variable as `-ln u` with `u` from [`open01`], so the result
/// lies in `[1.1e-16, 36.7]` and is never 0.
#[inline]
pub(crate) fn exp1<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    -open01(rng).ln()
}

/// Draws +1 or -1 with equal probability from one random bit.
#[inline]
pub(crate) fn random_sign<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    if rng.next_u32() >> 31 == 0 { 1.0 } else { -1.0 }
}

/// Draws a standard normal variable in `f64` (the ziggurat of `rand_distr`).
#[inline]
pub(crate) fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, rng)
}

/// Converts an `f64` draw to `F`, replacing a magnitude beyond `F::MAX` by `±F::MAX`.
///
/// Heavy-tailed draws may exceed the `f32` range (or, for tiny shapes, the `f64` range). The
/// samplers promise finite output, so such a draw saturates at the largest finite value.
#[inline]
pub(crate) fn saturate<F: Scalar>(value: f64) -> F {
    let max = F::max_value().into_f64();
    debug_assert!(!value.is_nan(), "a sampler produced NaN");
    F::of_f64(value.clamp(-max, max))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_grid_is_symmetric_and_excludes_ends() {
        let lowest = 0.5 * GRID_52;
        let highest = ((1u64 << 52) - 1) as f64 * GRID_52 + 0.5 * GRID_52;
        assert_eq!(lowest, 2f64.powi(-53));
        assert_eq!(1.0 - highest, lowest);
        assert!(highest < 1.0);
    }

    #[test]
    fn saturate_clamps_f32_overflow() {
        assert_eq!(saturate::<f32>(1e300), f32::MAX);
        assert_eq!(saturate::<f32>(-1e300), -f32::MAX);
        assert_eq!(saturate::<f64>(f64::INFINITY), f64::MAX);
        assert_eq!(saturate::<f64>(-2.5), -2.5);
    }
}
