//! The error type of `median-dp`.

use thiserror::Error;

/// An error from the DP-SGD step or the privacy accountant.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum DpError {
    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name as the API spells it, such as `"clip_norm"`.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// The valid range.
        expected: &'static str,
    },
    /// The accountant was asked to account a sampling scheme it does not cover.
    #[error(
        "fixed-size sampling is not covered by the Poisson subsampled Gaussian accountant; \
         use Poisson sampling to account privacy"
    )]
    UnsupportedSampling,
    /// No noise multiplier up to `1e6` reaches the target epsilon.
    #[error("no noise multiplier up to 1e6 reaches epsilon = {target_epsilon}")]
    Unreachable {
        /// The requested epsilon.
        target_epsilon: f64,
    },
    /// Per-layer clipping with a different number of layers and thresholds.
    #[error(
        "per-layer clipping has {layers} layers but {thresholds} thresholds; give one threshold per layer"
    )]
    LayerMismatch {
        /// The number of layer sizes.
        layers: usize,
        /// The number of clipping thresholds.
        thresholds: usize,
    },
    /// An input whose length does not match the mechanism's dimension.
    #[error("dimension mismatch: {what} has length {found}, expected {expected}")]
    DimensionMismatch {
        /// The input with the wrong length, such as `"gradient"` or `"anchor"`.
        what: &'static str,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },
    /// A fixed-size batch whose size differs from the configured one.
    #[error("fixed-size sampling expects batches of {expected} gradients, got {found}")]
    BatchSize {
        /// The configured batch size.
        expected: f64,
        /// The batch's size.
        found: usize,
    },
    /// An error from an estimator or clipping operator.
    #[error(transparent)]
    Core(#[from] median_core::Error),
}

impl DpError {
    /// Builds [`DpError::InvalidParameter`].
    pub(crate) fn invalid(name: &'static str, value: f64, expected: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value,
            expected,
        }
    }
}
