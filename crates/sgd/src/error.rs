//! The error type of `median-sgd`.

use median_linalg::LinalgError;
use thiserror::Error;

/// An error from an optimizer, a problem, a gradient oracle or the run driver.
///
/// Every variant carries the rejected value or the shapes involved, so the message names
/// what to fix.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SgdError {
    /// A hyperparameter or setting is outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name as the API spells it, such as `"beta"` or `"gamma"`.
        name: &'static str,
        /// The rejected value, as `f64`.
        value: f64,
        /// The valid range, such as `"must be finite and > 0"`.
        expected: &'static str,
    },

    /// A point, gradient, target list or output has the wrong length.
    #[error("dimension mismatch: {what} has length {found}, expected {expected}")]
    DimensionMismatch {
        /// The item with the wrong length, such as `"point"` or `"targets"`.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },

    /// A value is NaN or infinite where a finite value is required.
    #[error(
        "non-finite value {value} in {what} at index {index}; the run has diverged or the \
         input holds NaN or infinity: lower the step size or clean the data"
    )]
    NonFinite {
        /// The vector containing the value, such as `"gradient"`, `"point"` or `"features"`.
        what: &'static str,
        /// The index of the value inside it.
        index: usize,
        /// The offending value, as `f64`.
        value: f64,
    },

    /// A dataset or problem with no samples, where at least one is required.
    #[error("empty {what}: at least one sample is required")]
    Empty {
        /// The empty collection, such as `"dataset"` or `"spectrum"`.
        what: &'static str,
    },

    /// A classification target that is not a valid class label.
    #[error("invalid label {value} for sample {index}: labels must be integers in 0..{classes}")]
    InvalidLabel {
        /// The sample holding the label.
        index: usize,
        /// The rejected label, as `f64`.
        value: f64,
        /// The number of classes.
        classes: usize,
    },

    /// The oracle does not have the number of workers the optimizer simulates.
    #[error(
        "the optimizer simulates {expected} workers but the oracle has {found}; build both \
         with the same worker count"
    )]
    WorkerCount {
        /// The optimizer's worker count.
        expected: usize,
        /// The oracle's worker count.
        found: usize,
    },

    /// An error from an estimator or aggregation rule of `median-core`.
    #[error(transparent)]
    Core(#[from] median_core::Error),

    /// An error from the linear-algebra backend.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// Returns [`SgdError::InvalidParameter`] unless `value` is finite and strictly positive.
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<(), SgdError> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(SgdError::InvalidParameter {
            name,
            value,
            expected: "must be finite and > 0",
        })
    }
}

/// Returns [`SgdError::InvalidParameter`] unless `value` is finite and at least zero.
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<(), SgdError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SgdError::InvalidParameter {
            name,
            value,
            expected: "must be finite and >= 0",
        })
    }
}

/// Returns [`SgdError::InvalidParameter`] unless `0 <= value < 1`.
pub(crate) fn check_unit_interval(name: &'static str, value: f64) -> Result<(), SgdError> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(SgdError::InvalidParameter {
            name,
            value,
            expected: "must be in [0, 1)",
        })
    }
}

/// Returns [`SgdError::InvalidParameter`] unless the count is at least one.
pub(crate) fn check_count(name: &'static str, value: usize) -> Result<(), SgdError> {
    if value >= 1 {
        Ok(())
    } else {
        Err(SgdError::InvalidParameter {
            name,
            value: 0.0,
            expected: "must be >= 1",
        })
    }
}

/// Returns [`SgdError::DimensionMismatch`] unless `found == expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), SgdError> {
    if expected == found {
        Ok(())
    } else {
        Err(SgdError::DimensionMismatch {
            what,
            expected,
            found,
        })
    }
}

/// Returns [`SgdError::NonFinite`] for the first NaN or infinite entry of `values`.
pub(crate) fn check_finite<S: median_linalg::Scalar>(
    what: &'static str,
    values: &[S],
) -> Result<(), SgdError> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(SgdError::NonFinite {
            what,
            index,
            value: values[index].into_f64(),
        }),
    }
}
