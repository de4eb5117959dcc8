//! The error type of `median-core` and the NaN policy shared by the batch estimators.

use median_linalg::LinalgError;
use thiserror::Error;

/// An error from an estimator, clipping operator or aggregation rule.
///
/// Every variant carries the value that was rejected, so the message names what to fix.
/// Non-convergence of an iterative solver is not an error: solvers return their best
/// iterate together with an info struct.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The batch contains no gradients, so no estimate is defined.
    #[error("empty batch: at least one gradient is required")]
    EmptyBatch,

    /// A gradient, weight list or output has the wrong length.
    #[error("dimension mismatch: {what} {index} has length {found}, expected {expected}")]
    DimensionMismatch {
        /// The item with the wrong length, such as `"gradient"`, `"weights"` or `"output"`.
        what: &'static str,
        /// The position of the offending item (0 when there is only one).
        index: usize,
        /// The length required.
        expected: usize,
        /// The length given.
        found: usize,
    },

    /// An input contains NaN or an infinity where the operation needs finite values.
    #[error(
        "non-finite value {value} in gradient {index} at coordinate {coordinate}; \
         remove or replace it (the coordinate-wise estimators can instead skip NaN with \
         NanPolicy::Skip)"
    )]
    NonFinite {
        /// The gradient holding the value (0 for a single vector).
        index: usize,
        /// The coordinate of the value.
        coordinate: usize,
        /// The offending value, as `f64`.
        value: f64,
    },

    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name as the API spells it, such as `"tau"`.
        name: &'static str,
        /// The rejected value, as `f64`.
        value: f64,
        /// The valid range, such as `"must be finite and >= 0"`.
        expected: &'static str,
    },

    /// Weights that define no valid weighted estimate.
    #[error("invalid weights: {reason}")]
    InvalidWeights {
        /// The problem, with the offending index or sum.
        reason: String,
    },

    /// The number of Byzantine inputs `f` is not admissible for the rule at this `n`.
    #[error("{rule} needs {condition}, but n = {n} and f = {f}")]
    InadmissibleByzantineCount {
        /// The rule's name.
        rule: &'static str,
        /// The rule's condition on `n` and `f`, such as `"n > 2f + 2"`.
        condition: &'static str,
        /// The number of inputs.
        n: usize,
        /// The number of Byzantine inputs to tolerate.
        f: usize,
    },

    /// An exact subset search would visit more subsets than the rule's limit allows.
    #[error(
        "{rule} would search C({n}, {f}) subsets, more than the limit of {limit}; \
         raise the limit, lower f, or use a rule with polynomial cost such as Krum"
    )]
    SubsetLimitExceeded {
        /// The rule's name.
        rule: &'static str,
        /// The number of inputs.
        n: usize,
        /// The number of inputs to exclude.
        f: usize,
        /// The maximum number of subsets the rule was allowed to search.
        limit: u64,
    },

    /// Every value of a coordinate is NaN under [`NanPolicy::Skip`], so no estimate exists.
    #[error("coordinate {coordinate} holds only NaN values; no estimate is defined there")]
    AllNan {
        /// The coordinate with no valid value.
        coordinate: usize,
    },

    /// An error from the linear-algebra backend.
    #[error(transparent)]
    Linalg(#[from] LinalgError),
}

/// The treatment of NaN entries by a batch estimator.
///
/// Infinities are ordinary ordered values for the order-statistic estimators; for the
/// distance-based ones, each estimator's docs say how it treats them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum NanPolicy {
    /// A coordinate with a NaN entry gives NaN in the output (as `numpy.median` does).
    #[default]
    Propagate,
    /// NaN entries are removed before the estimate is taken, and counts are taken after
    /// removal (as `numpy.nanmedian` does). A coordinate with no valid entry is
    /// [`Error::AllNan`].
    Skip,
    /// Any NaN entry is [`Error::NonFinite`].
    Error,
}
