//! A quadratic with a chosen spectrum: `f(x) = 1/2 (x - x*)^T diag(a) (x - x*)`.

use median_linalg::Scalar;

use super::{Problem, check_point, check_sample};
use crate::SgdError;
use crate::error::{check_finite, check_len};

/// The diagonal quadratic `f(x) = 1/2 sum_j a_j (x_j - x*_j)^2` with eigenvalues `a_j >= 0`,
/// minimiser `x*` and minimum `f* = 0`. Its gradient is `a * (x - x*)` coordinate-wise.
///
/// It has one sample (`n = 1`), so the per-sample gradient is the full gradient. Add noise
/// through an oracle to make it stochastic. A diagonal spectrum loses no generality for
/// first-order methods whose updates are rotation-equivariant (SGD, momentum, the
/// geometric-median tracker). Coordinate-wise methods (signSGD, coordinate clipping, Adam)
/// do depend on the basis.
///
/// # Examples
///
/// ```
/// use median_sgd::{Problem, Quadratic};
///
/// // Eigenvalues 1, 10, 100.
/// let q = Quadratic::<f64>::logspace(3, 0.0, 2.0, vec![0.0; 3])?;
/// assert_eq!(q.loss(&[1.0, 0.0, 0.0])?, 0.5);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Quadratic<S> {
    eigenvalues: Vec<S>,
    minimizer: Vec<S>,
}

impl<S: Scalar> Quadratic<S> {
    /// Creates the quadratic with the given eigenvalues and minimiser.
    ///
    /// # Errors
    ///
    /// [`SgdError::Empty`] for no eigenvalues, [`SgdError::DimensionMismatch`] if the
    /// lengths differ, [`SgdError::NonFinite`] for a non-finite entry, and
    /// [`SgdError::InvalidParameter`] (named `"eigenvalue"`) for a negative eigenvalue.
    pub fn new(eigenvalues: Vec<S>, minimizer: Vec<S>) -> Result<Self, SgdError> {
        if eigenvalues.is_empty() {
            return Err(SgdError::Empty { what: "spectrum" });
        }
        check_len("minimizer", eigenvalues.len(), minimizer.len())?;
        check_finite("eigenvalues", &eigenvalues)?;
        check_finite("minimizer", &minimizer)?;
        if let Some(&a) = eigenvalues.iter().find(|&&a| a < S::zero()) {
            return Err(SgdError::InvalidParameter {
                name: "eigenvalue",
                value: a.into_f64(),
                expected: "must be >= 0",
            });
        }
        Ok(Self {
            eigenvalues,
            minimizer,
        })
    }

    /// Creates the quadratic in dimension `d` with eigenvalues spaced evenly on a log scale
    /// from `10^low` to `10^high`, so that the condition number is `10^(high - low)`.
    ///
    /// The eigenvalues are `a_j = 10^(low + (high - low) j / (d - 1))`, and `10^low` for
    /// `d = 1`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] for `d == 0` or non-finite exponents, and the errors
    /// of [`Quadratic::new`].
    pub fn logspace(d: usize, low: f64, high: f64, minimizer: Vec<S>) -> Result<Self, SgdError> {
        crate::error::check_count("d", d)?;
        for (name, value) in [("low", low), ("high", high)] {
            if !value.is_finite() {
                return Err(SgdError::InvalidParameter {
                    name,
                    value,
                    expected: "must be finite",
                });
            }
        }
        let eigenvalues = (0..d)
            .map(|j| {
                let fraction = if d == 1 {
                    0.0
                } else {
                    j as f64 / (d - 1) as f64
                };
                S::of_f64(10f64.powf(low + (high - low) * fraction))
            })
            .collect();
        Self::new(eigenvalues, minimizer)
    }

    /// Returns the eigenvalues `a_j`.
    pub fn eigenvalues(&self) -> &[S] {
        &self.eigenvalues
    }

    /// Returns the minimiser `x*`.
    pub fn minimizer(&self) -> &[S] {
        &self.minimizer
    }
}

impl<S: Scalar> Problem<S> for Quadratic<S> {
    fn name(&self) -> String {
        "quadratic".to_string()
    }

    fn dim(&self) -> usize {
        self.eigenvalues.len()
    }

    fn num_samples(&self) -> usize {
        1
    }

    fn loss(&self, x: &[S]) -> Result<S, SgdError> {
        check_point(self.dim(), x, None)?;
        let total: S = x
            .iter()
            .zip(&self.minimizer)
            .zip(&self.eigenvalues)
            .map(|((&xj, &mj), &a)| a * (xj - mj) * (xj - mj))
            .sum();
        Ok(S::of_f64(0.5) * total)
    }

    fn gradient(&self, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_point(self.dim(), x, Some(out))?;
        for j in 0..x.len() {
            out[j] = self.eigenvalues[j] * (x[j] - self.minimizer[j]);
        }
        Ok(())
    }

    fn sample_loss(&self, i: usize, x: &[S]) -> Result<S, SgdError> {
        check_sample(1, i)?;
        self.loss(x)
    }

    fn sample_gradient(&self, i: usize, x: &[S], out: &mut [S]) -> Result<(), SgdError> {
        check_sample(1, i)?;
        self.gradient(x, out)
    }

    fn optimal_loss(&self) -> Option<S> {
        Some(S::zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn logspace_spans_the_condition_number() {
        let q = Quadratic::<f64>::logspace(3, 0.0, 2.0, vec![0.0; 3]).unwrap();
        assert_relative_eq!(q.eigenvalues()[0], 1.0);
        assert_relative_eq!(q.eigenvalues()[1], 10.0, max_relative = 1e-14);
        assert_relative_eq!(q.eigenvalues()[2], 100.0, max_relative = 1e-14);
    }

    #[test]
    fn quadratic_rejects_bad_input() {
        assert!(matches!(
            Quadratic::new(vec![1.0, -1.0], vec![0.0, 0.0]),
            Err(SgdError::InvalidParameter {
                name: "eigenvalue",
                ..
            })
        ));
        assert!(matches!(
            Quadratic::new(vec![1.0f32], vec![0.0, 0.0]),
            Err(SgdError::DimensionMismatch { .. })
        ));
        assert!(matches!(
            Quadratic::<f64>::logspace(0, 0.0, 1.0, vec![]),
            Err(SgdError::InvalidParameter { name: "d", .. })
        ));
        let q = Quadratic::new(vec![1.0f64], vec![0.0]).unwrap();
        assert!(matches!(
            q.sample_gradient(1, &[0.0], &mut [0.0]),
            Err(SgdError::InvalidParameter { name: "sample", .. })
        ));
    }
}
