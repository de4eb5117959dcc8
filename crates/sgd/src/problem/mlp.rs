//! A multilayer perceptron with one tanh hidden layer, with backpropagation written out.

use median_linalg::{Scalar, kernels};
use rand::{Rng, RngExt};

use super::{Classifier, Problem, add_l2, check_l2, check_point, check_sample, sigmoid, softplus};
use crate::{Dataset, SgdError};

/// The output loss of an [`Mlp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MlpOutput {
    /// Regression with the squared loss `(o - y)^2 / 2`, for any real target.
    Squared,
    /// Binary classification with the logistic loss `ln(1 + e^o) - y o`, labels in `{0, 1}`.
    Logistic,
}

/// A one-hidden-layer perceptron `o(a) = w2 . tanh(W1 a + b1) + b2` with `h` hidden units, a
/// non-convex problem: `f_i(x) = loss(o(a_i), y_i) + (lambda/2) ||x||^2`.
///
/// The parameter vector is laid out as `W1` (`h x p`, row-major), then `b1` (`h`), then `w2`
/// (`h`), then `b2` (1), so its dimension is `h p + 2 h + 1`. Gradients come from
/// backpropagation: with `u = tanh(W1 a + b1)` and `e = d loss / d o`, the gradients are
/// `e u` for `w2`, `e` for `b2`, and `delta = e w2 (1 - u^2)` gives `delta a^T` for `W1` and
/// `delta` for `b1`.
///
/// # Examples
///
/// ```
/// use median_sgd::{Dataset, Mlp, MlpOutput, Problem};
///
/// let data = Dataset::new(vec![0.5, -1.0], 1, vec![1.0, 0.0])?;
/// let mlp = Mlp::new(data, 4, MlpOutput::Logistic, 0.0)?;
/// assert_eq!(mlp.dim(), 4 * 1 + 2 * 4 + 1);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Mlp<S> {
    data: Dataset<S>,
    hidden: usize,
    output: MlpOutput,
    l2: S,
}

impl<S: Scalar> Mlp<S> {
    /// Creates the perceptron with `hidden` hidden units on `data`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] for `hidden == 0` or an `l2` that is not finite and
    /// `>= 0`, and [`SgdError::InvalidLabel`] for labels outside `{0, 1}` with
    /// [`MlpOutput::Logistic`].
    pub fn new(
        data: Dataset<S>,
        hidden: usize,
        output: MlpOutput,
        l2: f64,
    ) -> Result<Self, SgdError> {
        crate::error::check_count("hidden", hidden)?;
        let l2 = check_l2(l2)?;
        if output == MlpOutput::Logistic {
            data.check_labels(2)?;
        }
        Ok(Self {
            data,
            hidden,
            output,
            l2,
        })
    }

    /// Draws initial parameters: `W1` and `w2` entries uniform in `[-1/sqrt(fan_in),
    /// 1/sqrt(fan_in)]` (fan-in `p` and `h`), biases zero.
    pub fn initial_point<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<S> {
        let p = self.data.num_features();
        let h = self.hidden;
        let mut x = vec![S::zero(); self.dim()];
        let bound1 = 1.0 / (p as f64).sqrt();
        for v in &mut x[..h * p] {
            *v = S::of_f64(rng.random_range(-bound1..bound1));
        }
        let bound2 = 1.0 / (h as f64).sqrt();
        for v in &mut x[h * p + h..h * p + 2 * h] {
            *v = S::of_f64(rng.random_range(-bound2..bound2));
        }
        x
    }

    /// Runs the forward pass on `features`, writing the hidden activations into `hidden`,
    /// and returns the output `o`.
    fn forward(&self, x: &[S], features: &[S], hidden: &mut [S]) -> S {
        let (p, h) = (self.data.num_features(), self.hidden);
        let (w1, rest) = x.split_at(h * p);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = rest.split_at(h);
        for j in 0..h {
            hidden[j] = (kernels::dot(&w1[j * p..(j + 1) * p], features) + b1[j]).tanh();
        }
        kernels::dot(w2, hidden) + b2[0]
    }

    /// Returns the loss of output `o` at target `y` and its derivative in `o`.
    fn output_loss(&self, o: S, y: S) -> (S, S) {
        match self.output {
            MlpOutput::Squared => (S::of_f64(0.5) * (o - y) * (o - y), o - y),
            MlpOutput::Logistic => (softplus(o) - y * o, sigmoid(o) - y),
        }
    }

    /// Adds `scale` times the gradient of sample `i`'s data loss to `out`, and returns the
    /// loss.
    fn backprop(&self, i: usize, x: &[S], scale: S, hidden: &mut [S], out: &mut [S]) -> S {
        let (p, h) = (self.data.num_features(), self.hidden);
        let row = self.data.row(i);
        let o = self.forward(x, row, hidden);
        let (loss, e) = self.output_loss(o, self.data.target(i));
        let e = e * scale;
        let w2 = &x[h * p + h..h * p + 2 * h];
        for j in 0..h {
            let delta = e * w2[j] * (S::one() - hidden[j] * hidden[j]);
            kernels::axpy(delta, row, &mut out[j * p..(j + 1) * p]);
            out[h * p + j] = out[h * p + j] + delta;
            out[h * p + h + j] = out[h * p + h + j] + e * hidden[j];
        }
        out[h * p + 2 * h] = out[h * p + 2 * h] + e;
        loss
    }
}

impl<S: Scalar> Problem<S> for Mlp<S> {
    fn name(&self) -> String {
        "mlp".to_string()
    }

    fn dim(&self) -> usize {
        self.hidden * self.data.num_features() + 2 * self.hidden + 1
    }

    fn num_samples(&self) -> usize {
        self.data.len()
    }

    fn loss(&self, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        let mut hidden = vec![S::zero(); self.hidden];
        let mut total = S::zero();
        for i in 0..self.data.len() {
            let o = self.forward(x, self.data.row(i), &mut hidden);
            total = total + self.output_loss(o, self.data.target(i)).0;
        }
        Ok(total / S::of_usize(self.data.len()) + add_l2(self.l2, x, None))
    }

    fn gradient(&self, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        let mut hidden = vec![S::zero(); self.hidden];
        let inv_n = S::one() / S::of_usize(self.data.len());
        out.fill(S::zero());
        for i in 0..self.data.len() {
            self.backprop(i, x, inv_n, &mut hidden, out);
        }
        add_l2(self.l2, x, Some(out));
        Ok(())
    }

    fn sample_loss(&self, i: usize, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        check_sample(self.data.len(), i)?;
        let mut hidden = vec![S::zero(); self.hidden];
        let o = self.forward(x, self.data.row(i), &mut hidden);
        Ok(self.output_loss(o, self.data.target(i)).0 + add_l2(self.l2, x, None))
    }

    fn sample_gradient(&self, i: usize, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        check_sample(self.data.len(), i)?;
        let mut hidden = vec![S::zero(); self.hidden];
        out.fill(S::zero());
        self.backprop(i, x, S::one(), &mut hidden, out);
        add_l2(self.l2, x, Some(out));
        Ok(())
    }
}

impl<S: Scalar> Classifier<S> for Mlp<S> {
    /// Predicts class 1 where the output `o >= 0`, else class 0 (meaningful for
    /// [`MlpOutput::Logistic`]).
    fn predict(&self, x: &[S], features: &[S]) -> Result<usize, SgdError> {
        check_point(self.dim(), x, None)?;
        crate::error::check_len("features", self.data.num_features(), features.len())?;
        let mut hidden = vec![S::zero(); self.hidden];
        Ok(usize::from(
            self.forward(x, features, &mut hidden) >= S::zero(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn mlp_forward_by_hand() {
        // p = 1, h = 1: W1 = 2, b1 = 0, w2 = 3, b2 = 1; a = 0.5 gives o = 3 tanh(1) + 1.
        let data = Dataset::new(vec![0.5f64], 1, vec![0.0]).unwrap();
        let mlp = Mlp::new(data, 1, MlpOutput::Squared, 0.0).unwrap();
        let x = [2.0, 0.0, 3.0, 1.0];
        let o = 3.0 * 1f64.tanh() + 1.0;
        assert_relative_eq!(mlp.loss(&x).unwrap(), 0.5 * o * o, max_relative = 1e-14);
        let mut g = [0.0; 4];
        mlp.gradient(&x, &mut g).unwrap();
        let u = 1f64.tanh();
        let delta = o * 3.0 * (1.0 - u * u);
        assert_relative_eq!(g[0], delta * 0.5, max_relative = 1e-14);
        assert_relative_eq!(g[1], delta, max_relative = 1e-14);
        assert_relative_eq!(g[2], o * u, max_relative = 1e-14);
        assert_relative_eq!(g[3], o, max_relative = 1e-14);
    }

    #[test]
    fn mlp_rejects_zero_hidden_units() {
        let data = Dataset::new(vec![0.5f32], 1, vec![0.0]).unwrap();
        assert!(matches!(
            Mlp::new(data, 0, MlpOutput::Squared, 0.0),
            Err(SgdError::InvalidParameter { name: "hidden", .. })
        ));
    }
}
