//! A supervised dataset: a feature matrix and one target per sample.

use median_linalg::Scalar;

use crate::SgdError;
use crate::error::{check_finite, check_len};

/// A dataset of `n` samples with `p` features each, stored as a row-major `n x p` feature
/// matrix and a target vector of length `n`.
///
/// Targets are real values for regression, `0` or `1` for binary classification and class
/// indices `0..k` for multinomial classification. Each problem checks the targets it needs.
/// Every feature and target is finite: the constructor rejects NaN and infinity.
///
/// # Examples
///
/// ```
/// use median_sgd::Dataset;
///
/// let data = Dataset::new(vec![1.0, 2.0, 3.0, 4.0], 2, vec![0.5, -0.5])?;
/// assert_eq!(data.len(), 2);
/// assert_eq!(data.row(1), &[3.0, 4.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<S> {
    features: Vec<S>,
    targets: Vec<S>,
    num_features: usize,
}

impl<S: Scalar> Dataset<S> {
    /// Creates a dataset from row-major `features` with `num_features` columns and one
    /// target per row.
    ///
    /// # Errors
    ///
    /// [`SgdError::Empty`] for no samples, [`SgdError::InvalidParameter`] for
    /// `num_features == 0`, [`SgdError::DimensionMismatch`] if `features.len()` is not
    /// `targets.len() * num_features`, and [`SgdError::NonFinite`] for a NaN or infinite
    /// feature or target.
    pub fn new(features: Vec<S>, num_features: usize, targets: Vec<S>) -> Result<Self, SgdError> {
        if targets.is_empty() {
            return Err(SgdError::Empty { what: "dataset" });
        }
        if num_features == 0 {
            return Err(SgdError::InvalidParameter {
                name: "num_features",
                value: 0.0,
                expected: "must be >= 1",
            });
        }
        let expected = targets.len().saturating_mul(num_features);
        check_len("features", expected, features.len())?;
        check_finite("features", &features)?;
        check_finite("targets", &targets)?;
        Ok(Self {
            features,
            targets,
            num_features,
        })
    }

    /// Returns the number of samples `n`.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Returns `false`, because a dataset contains at least one sample.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// Returns the number of features `p`.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Returns the features of sample `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.len()`.
    pub fn row(&self, i: usize) -> &[S] {
        &self.features[i * self.num_features..(i + 1) * self.num_features]
    }

    /// Returns the target of sample `i`.
    ///
    /// # Panics
    ///
    /// Panics if `i >= self.len()`.
    pub fn target(&self, i: usize) -> S {
        self.targets[i]
    }

    /// Returns the row-major feature matrix.
    pub fn features(&self) -> &[S] {
        &self.features
    }

    /// Returns the targets.
    pub fn targets(&self) -> &[S] {
        &self.targets
    }

    /// Checks that every target is an integer class label in `0..classes`.
    pub(crate) fn check_labels(&self, classes: usize) -> Result<(), SgdError> {
        for (index, &t) in self.targets.iter().enumerate() {
            let value = t.into_f64();
            if value < 0.0 || value >= classes as f64 || value.fract() != 0.0 {
                return Err(SgdError::InvalidLabel {
                    index,
                    value,
                    classes,
                });
            }
        }
        Ok(())
    }

    /// Returns the class label of sample `i` as an index, valid after `check_labels`.
    pub(crate) fn label(&self, i: usize) -> usize {
        self.targets[i].into_f64() as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dataset_rejects_bad_shapes() {
        assert!(matches!(
            Dataset::<f64>::new(vec![], 2, vec![]),
            Err(SgdError::Empty { .. })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0, 2.0, 3.0], 2, vec![0.0, 1.0]),
            Err(SgdError::DimensionMismatch {
                expected: 4,
                found: 3,
                ..
            })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0, f64::NAN], 2, vec![0.0]),
            Err(SgdError::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            Dataset::new(vec![1.0f32], 0, vec![0.0]),
            Err(SgdError::InvalidParameter {
                name: "num_features",
                ..
            })
        ));
    }

    #[test]
    fn labels_must_be_class_indices() {
        let data = Dataset::new(vec![0.0f64; 3], 1, vec![0.0, 1.0, 2.0]).unwrap();
        assert!(data.check_labels(3).is_ok());
        assert!(matches!(
            data.check_labels(2),
            Err(SgdError::InvalidLabel { index: 2, .. })
        ));
        let half = Dataset::new(vec![0.0f64], 1, vec![0.5]).unwrap();
        assert!(half.check_labels(2).is_err());
    }
}
