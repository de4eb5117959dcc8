//! Aggregation rules: one trait for every rule that turns a batch of gradients into one.

use median_linalg::Backend;

use crate::Error;

mod bulyan;
mod centered_clipping;
mod filtering;
mod krum;
mod mda;
mod pairwise;
mod preaggregation;

pub use bulyan::Bulyan;
pub use centered_clipping::{CenteredClipping, ClippingStart};
pub use filtering::SpectralFilter;
pub use krum::{Krum, MultiKrum};
pub use mda::{DEFAULT_SUBSET_LIMIT, Medoid, MinimumDiameterAveraging};
pub use preaggregation::{AdaptiveClipping, Bucketing, NearestNeighborMixing};

/// A rule that combines a batch of gradients (from samples or from workers) into one vector.
///
/// Batch estimators (means, medians, trimmed means), Byzantine-robust rules (Krum, Bulyan,
/// centered clipping, ...) and chains of pre-aggregation steps all implement it, so that
/// optimizers and experiments take any of them. Methods take `&mut self` so that a rule can
/// keep scratch space and warm-start state between calls.
pub trait Aggregator<B: Backend> {
    /// Returns a short name for labels and reports, such as `"geometric-median"`.
    fn name(&self) -> String;

    /// Aggregates `batch` into `out`, whose length must be the batch's dimension.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`] for an empty batch, [`Error::DimensionMismatch`] if `out` has
    /// the wrong length, and each rule's own errors.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error>;

    /// Aggregates `batch` into a new vector.
    ///
    /// # Errors
    ///
    /// As [`aggregate_into`](Aggregator::aggregate_into).
    fn aggregate(&mut self, batch: &B::Batch) -> Result<B::Vector, Error> {
        let mut out = B::vector_zeros(B::batch_dim(batch));
        self.aggregate_into(batch, B::vector_as_mut_slice(&mut out))?;
        Ok(out)
    }
}

/// A step that maps a batch of gradients to a new batch before a rule aggregates it, such as
/// nearest-neighbour mixing or bucketing.
pub trait PreAggregation<B: Backend> {
    /// Returns a short name for labels and reports, such as `"nnm"`.
    fn name(&self) -> String;

    /// Returns the transformed batch, whose dimension is that of `batch`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`] for an empty batch, and each step's own errors.
    fn apply(&mut self, batch: &B::Batch) -> Result<B::Batch, Error>;
}

/// A rule with pre-aggregation steps in front of it, itself an [`Aggregator`].
///
/// The steps run in the order they were added, each on the previous step's output, and the
/// rule aggregates the last batch. Its name joins the step names and the rule's name with
/// `+`, such as `"nnm+krum"`.
///
/// # Examples
///
/// ```
/// use median_core::aggregate::{Aggregator, Krum, NearestNeighborMixing, PreAggregated};
/// use median_linalg::{Backend, VecBackend};
///
/// let batch = VecBackend::<f64>::batch_from_gradients(&[
///     &[0.0], &[0.2], &[0.4], &[0.6], &[0.8], &[1.0], &[1e9],
/// ])?;
/// let mut rule = PreAggregated::<VecBackend<f64>, _>::new(Krum::new(1))
///     .with_step(NearestNeighborMixing::new(1));
/// assert_eq!(Aggregator::<VecBackend<f64>>::name(&rule), "nnm+krum");
/// assert!(rule.aggregate(&batch)?[0] < 1.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct PreAggregated<B: Backend, R> {
    steps: Vec<Box<dyn PreAggregation<B> + Send>>,
    rule: R,
}

impl<B: Backend, R: Aggregator<B>> PreAggregated<B, R> {
    /// Creates a chain with no step in front of `rule`.
    pub fn new(rule: R) -> Self {
        Self {
            steps: Vec::new(),
            rule,
        }
    }

    /// Appends a step; it runs after the steps added before it.
    #[must_use]
    pub fn with_step<P: PreAggregation<B> + Send + 'static>(mut self, step: P) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Returns the rule at the end of the chain.
    pub fn rule(&self) -> &R {
        &self.rule
    }
}

impl<B: Backend, R: Aggregator<B>> Aggregator<B> for PreAggregated<B, R> {
    fn name(&self) -> String {
        let mut names: Vec<String> = self.steps.iter().map(|step| step.name()).collect();
        names.push(self.rule.name());
        names.join("+")
    }

    /// Runs the steps, then the rule, and writes the rule's output into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`] for an empty batch, and the first error of a step or the rule.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        if B::batch_count(batch) == 0 {
            return Err(Error::EmptyBatch);
        }
        let mut current: Option<B::Batch> = None;
        for step in &mut self.steps {
            let next = step.apply(current.as_ref().unwrap_or(batch))?;
            current = Some(next);
        }
        self.rule
            .aggregate_into(current.as_ref().unwrap_or(batch), out)
    }
}
