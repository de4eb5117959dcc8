//! The error type of the linear-algebra layer.

use thiserror::Error;

/// An error from a backend operation: the operands do not fit together.
///
/// Every operation checks the shapes of its operands before it touches them, so an error
/// never leaves an output half written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LinalgError {
    /// Two operands, or an operand and an output, have different lengths.
    #[error(
        "dimension mismatch in {operation}: {argument} has length {found}, expected {expected}"
    )]
    DimensionMismatch {
        /// The operation that was called, such as `"dot"` or `"batch_weighted_sum"`.
        operation: &'static str,
        /// The operand or output whose length is wrong.
        argument: &'static str,
        /// The length the operation needed.
        expected: usize,
        /// The length it was given.
        found: usize,
    },
    /// A gradient in a list of gradients has a different dimension from the first one.
    #[error(
        "gradient {index} has dimension {found}, but gradient 0 has dimension {expected}; \
         every gradient in a batch must have the same dimension"
    )]
    RaggedBatch {
        /// The position of the first gradient whose dimension differs.
        index: usize,
        /// The dimension of gradient 0.
        expected: usize,
        /// The dimension of gradient `index`.
        found: usize,
    },
    /// A flat buffer does not hold `count * dim` values.
    #[error(
        "a batch of {count} gradients of dimension {dim} needs {expected} values, but the \
         buffer has {found}"
    )]
    BatchShape {
        /// The number of gradients requested.
        count: usize,
        /// The dimension requested.
        dim: usize,
        /// `count * dim`, or `usize::MAX` when that product overflows.
        expected: usize,
        /// The number of values supplied.
        found: usize,
    },
}

impl LinalgError {
    /// Returns [`LinalgError::DimensionMismatch`] naming `operation` and `argument` unless
    /// `found == expected`; backends call it to check operands before touching them.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] when the lengths differ.
    pub fn check_length(
        operation: &'static str,
        argument: &'static str,
        expected: usize,
        found: usize,
    ) -> Result<(), LinalgError> {
        if expected == found {
            Ok(())
        } else {
            Err(LinalgError::DimensionMismatch {
                operation,
                argument,
                expected,
                found,
            })
        }
    }
}

/// Checks that `found == expected`, naming the operation and argument otherwise.
pub(crate) fn check_len(
    operation: &'static str,
    argument: &'static str,
    expected: usize,
    found: usize,
) -> Result<(), LinalgError> {
    LinalgError::check_length(operation, argument, expected, found)
}
