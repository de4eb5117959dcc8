//! The floating-point scalar types a backend may use: `f32` and `f64`.

use std::fmt::{Debug, Display, LowerExp};
use std::iter::Sum;

use num_traits::Float;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A real floating-point scalar: implemented for `f32` and `f64` only.
///
/// The trait gathers the bounds that generic numeric code in this workspace needs, so that a
/// single `S: Scalar` (or `B: Backend`, whose `Scalar` is one) is enough. It is sealed: the
/// kernels rely on IEEE 754 binary32 or binary64 semantics.
pub trait Scalar:
    Float + Default + Debug + Display + LowerExp + Sum + Send + Sync + 'static + sealed::Sealed
{
    /// The type's name, `"f32"` or `"f64"`, for test and benchmark labels.
    const NAME: &'static str;

    /// Converts an `f64` to this type, rounding to nearest (exact for `f64`).
    fn of_f64(value: f64) -> Self;

    /// Converts this value to `f64` (exact for both types).
    fn into_f64(self) -> f64;

    /// Converts a count to this type, rounding to nearest.
    fn of_usize(value: usize) -> Self {
        Self::of_f64(value as f64)
    }
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";

    fn of_f64(value: f64) -> Self {
        value as f32
    }

    fn into_f64(self) -> f64 {
        f64::from(self)
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";

    fn of_f64(value: f64) -> Self {
        value
    }

    fn into_f64(self) -> f64 {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip() {
        assert_eq!(f32::of_f64(0.5).into_f64(), 0.5);
        assert_eq!(f64::of_usize(7), 7.0);
        assert_eq!(f32::of_f64(1e40), f32::INFINITY);
    }
}
