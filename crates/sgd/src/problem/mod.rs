//! Test problems with analytic losses, full gradients and per-sample gradients.
//!
//! Each problem is a finite sum `f(x) = (1/n) sum_i f_i(x)` (the quadratic has `n = 1`), so
//! that the mean of the per-sample gradients is the full gradient. L2 regularisation
//! `(lambda/2) ||x||^2`, where a problem offers it, is part of every `f_i`.

mod linear;
mod mlp;
mod quadratic;
mod softmax;

pub use linear::{
    HuberLoss, HuberRegression, LeastSquares, LinearModel, LogisticLoss, LogisticRegression,
    ScalarLoss, SquaredLoss,
};
pub use mlp::{Mlp, MlpOutput};
pub use quadratic::Quadratic;
pub use softmax::SoftmaxRegression;

use median_linalg::Scalar;

use crate::error::check_len;
use crate::{Dataset, SgdError};

/// A differentiable objective `f(x) = (1/n) sum_i f_i(x)` with analytic gradients.
///
/// Every method checks the length of `x` (and of `out`) and the sample index, and returns
/// [`SgdError::DimensionMismatch`] or [`SgdError::InvalidParameter`] (named `"sample"`)
/// without writing anything.
pub trait Problem<S: Scalar> {
    /// Returns a short name for labels, such as `"logistic-regression"`.
    fn name(&self) -> String;

    /// Returns the dimension `d` of the parameter vector `x`.
    fn dim(&self) -> usize;

    /// Returns the number of samples `n` in the finite sum.
    fn num_samples(&self) -> usize;

    /// Returns the full loss `f(x)`.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `x.len() != self.dim()`.
    fn loss(&self, x: &[S]) -> Result<S, SgdError>;

    /// Writes the full gradient `grad f(x)` into `out`.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `x` or `out` does not have length `self.dim()`.
    fn gradient(&self, x: &[S], out: &mut [S]) -> Result<(), SgdError>;

    /// Returns the loss `f_i(x)` of sample `i`.
    ///
    /// # Errors
    ///
    /// As [`loss`](Problem::loss), and [`SgdError::InvalidParameter`] for
    /// `i >= self.num_samples()`.
    fn sample_loss(&self, i: usize, x: &[S]) -> Result<S, SgdError>;

    /// Writes the gradient `grad f_i(x)` of sample `i` into `out`.
    ///
    /// # Errors
    ///
    /// As [`gradient`](Problem::gradient), and [`SgdError::InvalidParameter`] for
    /// `i >= self.num_samples()`.
    fn sample_gradient(&self, i: usize, x: &[S], out: &mut [S]) -> Result<(), SgdError>;

    /// Returns the minimum value `f*` where it is known in closed form, for suboptimality.
    fn optimal_loss(&self) -> Option<S> {
        None
    }
}

/// A classification problem: a prediction rule and the accuracy it reaches on a dataset.
pub trait Classifier<S: Scalar>: Problem<S> {
    /// Returns the predicted class of one feature vector at parameters `x`.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `x` or `features` has the wrong length.
    fn predict(&self, x: &[S], features: &[S]) -> Result<usize, SgdError>;

    /// Returns the fraction of samples of `data` whose label the rule predicts, in `[0, 1]`.
    ///
    /// # Errors
    ///
    /// As [`predict`](Classifier::predict). Labels that are not non-negative integers count
    /// as wrong predictions.
    fn accuracy(&self, x: &[S], data: &Dataset<S>) -> Result<f64, SgdError> {
        let mut correct = 0usize;
        for i in 0..data.len() {
            let predicted = self.predict(x, data.row(i))?;
            if S::of_usize(predicted) == data.target(i) {
                correct += 1;
            }
        }
        Ok(correct as f64 / data.len() as f64)
    }
}

/// Checks the point and the optional output against the problem dimension.
pub(crate) fn check_point<S>(dim: usize, x: &[S], out: Option<&[S]>) -> Result<(), SgdError> {
    check_len("point", dim, x.len())?;
    if let Some(out) = out {
        check_len("gradient output", dim, out.len())?;
    }
    Ok(())
}

/// Checks a sample index against the number of samples.
pub(crate) fn check_sample(num_samples: usize, i: usize) -> Result<(), SgdError> {
    if i < num_samples {
        Ok(())
    } else {
        Err(SgdError::InvalidParameter {
            name: "sample",
            value: i as f64,
            expected: "must be < the number of samples",
        })
    }
}

/// Returns `ln(1 + e^z)` without overflow.
pub(crate) fn softplus<S: Scalar>(z: S) -> S {
    z.max(S::zero()) + (-z.abs()).exp().ln_1p()
}

/// Returns the logistic function `1 / (1 + e^-z)` without overflow.
pub(crate) fn sigmoid<S: Scalar>(z: S) -> S {
    if z >= S::zero() {
        S::one() / (S::one() + (-z).exp())
    } else {
        let e = z.exp();
        e / (S::one() + e)
    }
}

/// Adds the L2 term's gradient `lambda x` to `out`, and returns its value `lambda/2 ||x||^2`.
pub(crate) fn add_l2<S: Scalar>(lambda: S, x: &[S], out: Option<&mut [S]>) -> S {
    if lambda == S::zero() {
        return S::zero();
    }
    if let Some(out) = out {
        median_linalg::kernels::axpy(lambda, x, out);
    }
    S::of_f64(0.5) * lambda * median_linalg::kernels::norm_squared(x)
}

/// Checks an L2 regularisation weight and converts it.
pub(crate) fn check_l2<S: Scalar>(lambda: f64) -> Result<S, SgdError> {
    crate::error::check_non_negative("l2", lambda)?;
    Ok(S::of_f64(lambda))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn softplus_and_sigmoid_are_stable() {
        assert_relative_eq!(softplus(0.0f64), 2f64.ln());
        assert_eq!(softplus(1000.0f64), 1000.0);
        assert_eq!(softplus(-1000.0f64), 0.0);
        assert_relative_eq!(sigmoid(0.0f32), 0.5);
        assert_eq!(sigmoid(-1000.0f64), 0.0);
        assert_eq!(sigmoid(1000.0f64), 1.0);
    }
}
