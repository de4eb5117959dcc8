//! The error type of the noise samplers and the state-dependent noise oracle.

use thiserror::Error;

/// An invalid parameter or input given to a sampler or to the noise oracle.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
#[non_exhaustive]
pub enum NoiseError {
    /// A parameter is NaN or outside its valid range.
    #[error("invalid parameter `{name}` = {value}: expected {expected}")]
    InvalidParameter {
        /// The parameter's name, as in the constructor's signature.
        name: &'static str,
        /// The rejected value, converted to `f64`.
        value: f64,
        /// The valid range, in words (for example `"finite and > 0"`).
        expected: &'static str,
    },
    /// The gradient output slice does not have the length of the point.
    #[error("dimension mismatch: the point has {expected} coordinates but the output has {found}")]
    DimensionMismatch {
        /// The point's dimension.
        expected: usize,
        /// The output slice's length.
        found: usize,
    },
    /// The state-dependent noise scale is infinite or NaN at the current point.
    #[error(
        "noise scale {value} is not finite at this point: the point or its gradient has a \
         non-finite norm"
    )]
    NonFiniteScale {
        /// The computed noise scale.
        value: f64,
    },
}

impl NoiseError {
    /// Builds a [`NoiseError::InvalidParameter`] from any float value.
    pub(crate) fn invalid(name: &'static str, value: f64, expected: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value,
            expected,
        }
    }
}

/// Returns `value` if it is finite, otherwise an invalid-parameter error.
pub(crate) fn check_finite(name: &'static str, value: f64) -> Result<f64, NoiseError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(NoiseError::invalid(name, value, "a finite number"))
    }
}

/// Returns `value` if it is finite and strictly positive, otherwise an error.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<f64, NoiseError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(NoiseError::invalid(name, value, "finite and > 0"))
    }
}

/// Returns `value` if it is finite and non-negative, otherwise an error.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<f64, NoiseError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(NoiseError::invalid(name, value, "finite and >= 0"))
    }
}
