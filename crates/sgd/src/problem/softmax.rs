//! Multinomial (softmax) regression with a numerically stable log-sum-exp.

use median_linalg::{Scalar, kernels};

use super::{Classifier, Problem, add_l2, check_l2, check_point, check_sample};
use crate::{Dataset, SgdError};

/// Multinomial logistic (softmax) regression with `k` classes:
/// `f_i(W) = logsumexp(W a_i) - (W a_i)_{y_i} + (lambda/2) ||W||_F^2`.
///
/// The parameter vector is the `k x p` weight matrix `W`, row-major (class `c`'s weights are
/// `x[c p .. (c + 1) p]`), so the dimension is `k p`. The gradient of sample `i` for class
/// `c` is `(softmax(W a_i)_c - 1{c = y_i}) a_i + lambda w_c`. The log-sum-exp subtracts the
/// maximum logit first, so no logit overflows.
///
/// # Examples
///
/// ```
/// use median_sgd::{Dataset, Problem, SoftmaxRegression};
///
/// let data = Dataset::new(vec![1.0, 0.0, 0.0, 1.0], 2, vec![0.0, 2.0])?;
/// let problem = SoftmaxRegression::new(data, 3, 0.0)?;
/// // At W = 0 every class has probability 1/3.
/// assert!((problem.loss(&[0.0; 6])? - 3f64.ln()).abs() < 1e-12);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SoftmaxRegression<S> {
    data: Dataset<S>,
    classes: usize,
    l2: S,
}

impl<S: Scalar> SoftmaxRegression<S> {
    /// Creates softmax regression on `data` with `classes` classes and L2 weight `l2`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] for `classes < 2` or an `l2` that is not finite and
    /// `>= 0`, and [`SgdError::InvalidLabel`] for a target that is not a class index in
    /// `0..classes`.
    pub fn new(data: Dataset<S>, classes: usize, l2: f64) -> Result<Self, SgdError> {
        if classes < 2 {
            return Err(SgdError::InvalidParameter {
                name: "classes",
                value: classes as f64,
                expected: "must be >= 2",
            });
        }
        let l2 = check_l2(l2)?;
        data.check_labels(classes)?;
        Ok(Self { data, classes, l2 })
    }

    /// Returns the number of classes `k`.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Writes the logits `W a` into `logits`.
    fn logits(&self, x: &[S], features: &[S], logits: &mut [S]) {
        let p = self.data.num_features();
        for (c, z) in logits.iter_mut().enumerate() {
            *z = kernels::dot(&x[c * p..(c + 1) * p], features);
        }
    }

    /// Returns `logsumexp(logits) - logits[label]` and, if asked, overwrites `logits` with
    /// `softmax(logits) - e_label`.
    fn cross_entropy(logits: &mut [S], label: usize, want_gradient: bool) -> S {
        let max = logits.iter().copied().fold(S::neg_infinity(), S::max);
        let sum: S = logits.iter().map(|&z| (z - max).exp()).sum();
        let lse = max + sum.ln();
        let loss = lse - logits[label];
        if want_gradient {
            for z in logits.iter_mut() {
                *z = (*z - lse).exp();
            }
            logits[label] = logits[label] - S::one();
        }
        loss
    }

    /// Adds `scale * (softmax - e_label) a^T` to the gradient matrix `out`.
    fn accumulate(&self, residual: &[S], features: &[S], scale: S, out: &mut [S]) {
        let p = self.data.num_features();
        for (c, &r) in residual.iter().enumerate() {
            kernels::axpy(scale * r, features, &mut out[c * p..(c + 1) * p]);
        }
    }
}

impl<S: Scalar> Problem<S> for SoftmaxRegression<S> {
    fn name(&self) -> String {
        "softmax-regression".to_string()
    }

    fn dim(&self) -> usize {
        self.classes * self.data.num_features()
    }

    fn num_samples(&self) -> usize {
        self.data.len()
    }

    fn loss(&self, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        let mut logits = vec![S::zero(); self.classes];
        let mut total = S::zero();
        for i in 0..self.data.len() {
            self.logits(x, self.data.row(i), &mut logits);
            total = total + Self::cross_entropy(&mut logits, self.data.label(i), false);
        }
        Ok(total / S::of_usize(self.data.len()) + add_l2(self.l2, x, None))
    }

    fn gradient(&self, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        let mut logits = vec![S::zero(); self.classes];
        let inv_n = S::one() / S::of_usize(self.data.len());
        out.fill(S::zero());
        for i in 0..self.data.len() {
            let row = self.data.row(i);
            self.logits(x, row, &mut logits);
            Self::cross_entropy(&mut logits, self.data.label(i), true);
            self.accumulate(&logits, row, inv_n, out);
        }
        add_l2(self.l2, x, Some(out));
        Ok(())
    }

    fn sample_loss(&self, i: usize, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        check_sample(self.data.len(), i)?;
        let mut logits = vec![S::zero(); self.classes];
        self.logits(x, self.data.row(i), &mut logits);
        let loss = Self::cross_entropy(&mut logits, self.data.label(i), false);
        Ok(loss + add_l2(self.l2, x, None))
    }

    fn sample_gradient(&self, i: usize, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        check_sample(self.data.len(), i)?;
        let mut logits = vec![S::zero(); self.classes];
        let row = self.data.row(i);
        self.logits(x, row, &mut logits);
        Self::cross_entropy(&mut logits, self.data.label(i), true);
        out.fill(S::zero());
        self.accumulate(&logits, row, S::one(), out);
        add_l2(self.l2, x, Some(out));
        Ok(())
    }
}

impl<S: Scalar> Classifier<S> for SoftmaxRegression<S> {
    /// Predicts the class with the largest logit (the first one on ties).
    fn predict(&self, x: &[S], features: &[S]) -> Result<usize, SgdError> {
        check_point(self.dim(), x, None)?;
        crate::error::check_len("features", self.data.num_features(), features.len())?;
        let mut logits = vec![S::zero(); self.classes];
        self.logits(x, features, &mut logits);
        let mut best = 0;
        for c in 1..self.classes {
            if logits[c] > logits[best] {
                best = c;
            }
        }
        Ok(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn softmax_loss_is_stable_for_huge_logits() {
        // Logits (1000, 0): loss for label 0 is ln(1 + e^-1000) ~ 0, for label 1 it is 1000.
        let data = Dataset::new(vec![1.0f64, 1.0], 1, vec![0.0, 1.0]).unwrap();
        let problem = SoftmaxRegression::new(data, 2, 0.0).unwrap();
        assert_relative_eq!(problem.sample_loss(0, &[1000.0, 0.0]).unwrap(), 0.0);
        assert_relative_eq!(problem.sample_loss(1, &[1000.0, 0.0]).unwrap(), 1000.0);
        let mut g = [0.0; 2];
        problem.sample_gradient(1, &[1000.0, 0.0], &mut g).unwrap();
        assert_relative_eq!(g[0], 1.0);
        assert_relative_eq!(g[1], -1.0);
    }

    #[test]
    fn softmax_predicts_largest_logit() {
        let data = Dataset::new(vec![1.0f32, 1.0], 1, vec![2.0, 1.0]).unwrap();
        let problem = SoftmaxRegression::new(data.clone(), 3, 0.0).unwrap();
        assert_eq!(problem.predict(&[0.0, 1.0, 2.0], &[1.0]).unwrap(), 2);
        assert_eq!(problem.accuracy(&[0.0, 1.0, 2.0], &data).unwrap(), 0.5);
        assert!(SoftmaxRegression::new(data, 1, 0.0).is_err());
    }
}
