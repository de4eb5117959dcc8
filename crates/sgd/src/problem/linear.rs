//! Linear models `f_i(x) = phi(<a_i, x>, y_i) + (lambda/2) ||x||^2`: least squares,
//! logistic regression and Huber regression.

use median_linalg::{Scalar, kernels};

use super::{Classifier, Problem, add_l2, check_l2, check_point, check_sample, sigmoid, softplus};
use crate::{Dataset, SgdError};

/// The loss `phi(z, y)` of a linear model, as a function of the prediction `z = <a, x>`.
pub trait ScalarLoss<S: Scalar> {
    /// Returns a short name, such as `"least-squares"`.
    fn name(&self) -> &'static str;

    /// Returns `phi(z, y)`.
    fn value(&self, z: S, y: S) -> S;

    /// Returns the derivative `d phi / d z` at `(z, y)`.
    fn derivative(&self, z: S, y: S) -> S;

    /// Checks that the dataset's targets suit the loss.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidLabel`] for a target outside the loss's domain.
    fn check_targets(&self, data: &Dataset<S>) -> Result<(), SgdError>;
}

/// The squared loss `phi(z, y) = (z - y)^2 / 2`, for any real target.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SquaredLoss;

impl<S: Scalar> ScalarLoss<S> for SquaredLoss {
    fn name(&self) -> &'static str {
        "least-squares"
    }

    fn value(&self, z: S, y: S) -> S {
        let r = z - y;
        S::of_f64(0.5) * r * r
    }

    fn derivative(&self, z: S, y: S) -> S {
        z - y
    }

    fn check_targets(&self, _data: &Dataset<S>) -> Result<(), SgdError> {
        Ok(())
    }
}

/// The logistic loss `phi(z, y) = ln(1 + e^z) - y z` for labels `y` in `{0, 1}`, computed
/// without overflow. Its derivative is `sigmoid(z) - y`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LogisticLoss;

impl<S: Scalar> ScalarLoss<S> for LogisticLoss {
    fn name(&self) -> &'static str {
        "logistic-regression"
    }

    fn value(&self, z: S, y: S) -> S {
        softplus(z) - y * z
    }

    fn derivative(&self, z: S, y: S) -> S {
        sigmoid(z) - y
    }

    fn check_targets(&self, data: &Dataset<S>) -> Result<(), SgdError> {
        data.check_labels(2)
    }
}

/// The Huber loss of the residual `r = z - y` with threshold `delta > 0`:
/// `r^2 / 2` for `|r| <= delta`, else `delta (|r| - delta / 2)`. Its derivative is `r`
/// clamped to `[-delta, delta]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HuberLoss {
    delta: f64,
}

impl HuberLoss {
    /// Creates the Huber loss with threshold `delta`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `delta` is finite and `> 0`.
    pub fn new(delta: f64) -> Result<Self, SgdError> {
        crate::error::check_positive("delta", delta)?;
        Ok(Self { delta })
    }

    /// Returns the threshold `delta`.
    pub fn delta(&self) -> f64 {
        self.delta
    }
}

impl<S: Scalar> ScalarLoss<S> for HuberLoss {
    fn name(&self) -> &'static str {
        "huber-regression"
    }

    fn value(&self, z: S, y: S) -> S {
        let delta = S::of_f64(self.delta);
        let r = (z - y).abs();
        if r <= delta {
            S::of_f64(0.5) * r * r
        } else {
            delta * (r - S::of_f64(0.5) * delta)
        }
    }

    fn derivative(&self, z: S, y: S) -> S {
        let delta = S::of_f64(self.delta);
        (z - y).max(-delta).min(delta)
    }

    fn check_targets(&self, _data: &Dataset<S>) -> Result<(), SgdError> {
        Ok(())
    }
}

/// A linear model on a dataset: `f(x) = (1/n) sum_i phi(<a_i, x>, y_i) + (lambda/2) ||x||^2`,
/// with `x` of dimension `p` (the number of features). Add a column of ones for an
/// intercept.
///
/// The full gradient is `(1/n) A^T phi'(A x, y) + lambda x`, and the gradient of sample `i`
/// is `phi'(<a_i, x>, y_i) a_i + lambda x`.
///
/// # Examples
///
/// ```
/// use median_sgd::{Dataset, LeastSquares, Problem};
///
/// let data = Dataset::new(vec![1.0, 0.0, 0.0, 1.0], 2, vec![1.0, 2.0])?;
/// let problem = LeastSquares::least_squares(data, 0.0)?;
/// let mut grad = [0.0; 2];
/// problem.gradient(&[1.0, 2.0], &mut grad)?;
/// assert_eq!(grad, [0.0, 0.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel<S, L> {
    data: Dataset<S>,
    loss: L,
    l2: S,
}

/// Least-squares regression: `phi(z, y) = (z - y)^2 / 2`.
pub type LeastSquares<S> = LinearModel<S, SquaredLoss>;
/// Binary logistic regression with labels in `{0, 1}`.
pub type LogisticRegression<S> = LinearModel<S, LogisticLoss>;
/// Huber regression: the Huber loss of the residual.
pub type HuberRegression<S> = LinearModel<S, HuberLoss>;

impl<S: Scalar, L: ScalarLoss<S>> LinearModel<S, L> {
    /// Creates the model with the loss `loss` and L2 weight `l2`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `l2` is finite and `>= 0`, and
    /// [`SgdError::InvalidLabel`] for targets outside the loss's domain.
    pub fn new(data: Dataset<S>, loss: L, l2: f64) -> Result<Self, SgdError> {
        let l2 = check_l2(l2)?;
        loss.check_targets(&data)?;
        Ok(Self { data, loss, l2 })
    }

    /// Returns the dataset.
    pub fn data(&self) -> &Dataset<S> {
        &self.data
    }
}

impl<S: Scalar> LinearModel<S, SquaredLoss> {
    /// Creates least squares on `data` with L2 weight `l2`.
    ///
    /// # Errors
    ///
    /// As [`LinearModel::new`].
    pub fn least_squares(data: Dataset<S>, l2: f64) -> Result<Self, SgdError> {
        Self::new(data, SquaredLoss, l2)
    }
}

impl<S: Scalar> LinearModel<S, LogisticLoss> {
    /// Creates logistic regression on `data` (labels `0` or `1`) with L2 weight `l2`.
    ///
    /// # Errors
    ///
    /// As [`LinearModel::new`].
    pub fn logistic(data: Dataset<S>, l2: f64) -> Result<Self, SgdError> {
        Self::new(data, LogisticLoss, l2)
    }
}

impl<S: Scalar> LinearModel<S, HuberLoss> {
    /// Creates Huber regression on `data` with threshold `delta` and L2 weight `l2`.
    ///
    /// # Errors
    ///
    /// As [`LinearModel::new`] and [`HuberLoss::new`].
    pub fn huber(data: Dataset<S>, delta: f64, l2: f64) -> Result<Self, SgdError> {
        Self::new(data, HuberLoss::new(delta)?, l2)
    }
}

impl<S: Scalar, L: ScalarLoss<S>> Problem<S> for LinearModel<S, L> {
    fn name(&self) -> String {
        self.loss.name().to_string()
    }

    fn dim(&self) -> usize {
        self.data.num_features()
    }

    fn num_samples(&self) -> usize {
        self.data.len()
    }

    fn loss(&self, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        let total: S = (0..self.data.len())
            .map(|i| {
                let z = kernels::dot(self.data.row(i), x);
                self.loss.value(z, self.data.target(i))
            })
            .sum();
        Ok(total / S::of_usize(self.data.len()) + add_l2(self.l2, x, None))
    }

    fn gradient(&self, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;

        // The derivatives phi'(A x, y) scaled by 1/n, then A^T times them.
        let n = S::of_usize(self.data.len());
        out.fill(S::zero());
        for i in 0..self.data.len() {
            let row = self.data.row(i);
            let d = self
                .loss
                .derivative(kernels::dot(row, x), self.data.target(i))
                / n;
            kernels::axpy(d, row, out);
        }
        add_l2(self.l2, x, Some(out));
        Ok(())
    }

    fn sample_loss(&self, i: usize, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        check_sample(self.data.len(), i)?;
        let z = kernels::dot(self.data.row(i), x);
        Ok(self.loss.value(z, self.data.target(i)) + add_l2(self.l2, x, None))
    }

    fn sample_gradient(&self, i: usize, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        check_sample(self.data.len(), i)?;
        let row = self.data.row(i);
        let d = self
            .loss
            .derivative(kernels::dot(row, x), self.data.target(i));
        for (o, &a) in out.iter_mut().zip(row) {
            *o = d * a;
        }
        add_l2(self.l2, x, Some(out));
        Ok(())
    }
}

impl<S: Scalar> Classifier<S> for LinearModel<S, LogisticLoss> {
    /// Predicts class 1 where `<a, x> >= 0`, else class 0.
    fn predict(&self, x: &[S], features: &[S]) -> Result<usize, SgdError> {
        check_point(self.dim(), x, None)?;
        crate::error::check_len("features", self.dim(), features.len())?;
        Ok(usize::from(kernels::dot(features, x) >= S::zero()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn huber_matches_quadratic_inside_and_linear_outside() {
        let h = HuberLoss::new(1.0).unwrap();
        assert_eq!(ScalarLoss::<f64>::value(&h, 0.5, 0.0), 0.125);
        assert_eq!(ScalarLoss::<f64>::value(&h, 3.0, 0.0), 2.5);
        assert_eq!(ScalarLoss::<f64>::derivative(&h, -3.0, 0.0), -1.0);
        assert!(HuberLoss::new(0.0).is_err());
    }

    #[test]
    fn logistic_rejects_non_binary_labels() {
        let data = Dataset::new(vec![1.0f64, 2.0], 1, vec![0.0, 2.0]).unwrap();
        assert!(matches!(
            LogisticRegression::logistic(data, 0.0),
            Err(SgdError::InvalidLabel { index: 1, .. })
        ));
    }

    #[test]
    fn least_squares_loss_by_hand() {
        // Rows (1, 2) and (0, 1), targets 1 and -1, x = (1, 1), l2 = 0.5:
        // residuals 2 and 2, loss (4 + 4) / 4 + 0.25 * 2 = 2.5.
        let data = Dataset::new(vec![1.0, 2.0, 0.0, 1.0], 2, vec![1.0, -1.0]).unwrap();
        let problem = LeastSquares::least_squares(data, 0.5).unwrap();
        assert_relative_eq!(problem.loss(&[1.0, 1.0]).unwrap(), 2.5);
        let mut g = [0.0; 2];
        problem.gradient(&[1.0, 1.0], &mut g).unwrap();
        // (1/2) A^T r + 0.5 x = (1/2) (2, 6) + (0.5, 0.5).
        assert_relative_eq!(g[0], 1.5);
        assert_relative_eq!(g[1], 3.5);
    }

    #[test]
    fn logistic_accuracy_counts_correct_signs() {
        let data =
            Dataset::new(vec![1.0f32, -1.0, 2.0, -3.0], 1, vec![1.0, 0.0, 0.0, 0.0]).unwrap();
        let problem = LogisticRegression::logistic(data.clone(), 0.0).unwrap();
        assert_eq!(problem.accuracy(&[1.0], &data).unwrap(), 0.75);
    }
}
