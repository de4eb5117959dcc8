//! The problems of the experiments, built from their names: the ill-conditioned quadratic
//! and the models on the shipped datasets, behind one enum.

use median_sgd::{
    Classifier, LeastSquares, LogisticRegression, Problem, Quadratic, SgdError, SoftmaxRegression,
};

use crate::CliError;
use crate::data::{LabeledData, prepare_shipped};

/// The L2 weight of every data problem, so that each has a unique minimiser.
pub const L2: f64 = 1e-3;

/// One of the experiment problems.
#[derive(Debug, Clone)]
pub enum AnyProblem {
    /// `f(x) = (1/2) (x - x*)^T A (x - x*)` with `A = diag(logspace(0, 2, d))`, `x* = 1`.
    Quadratic(Quadratic<f64>),
    /// Least squares on standardised features and target.
    LeastSquares(LeastSquares<f64>),
    /// Binary logistic regression.
    Logistic(LogisticRegression<f64>),
    /// Multinomial (softmax) regression.
    Softmax(SoftmaxRegression<f64>),
}

/// A problem with its held-out test split (empty for the quadratic).
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The training problem.
    pub problem: AnyProblem,
    /// The standardised test split, for classification accuracy.
    pub test: Option<LabeledData>,
}

/// Builds the problem `name`: `"quadratic"` (dimension `quadratic_dim`), `"diabetes"`
/// (least squares), `"breast_cancer"` (logistic regression), `"digits"` or `"wine"`
/// (softmax regression). Data are split with `split_seed` and standardised on the training
/// part; the diabetes target is standardised too.
///
/// # Errors
///
/// [`CliError::UnknownName`] for another name, and the loaders' and problems' errors.
pub fn prepare(
    name: &str,
    quadratic_dim: usize,
    test_fraction: f64,
    split_seed: u64,
) -> Result<Prepared, CliError> {
    if name == "quadratic" {
        let problem = Quadratic::logspace(quadratic_dim, 0.0, 2.0, vec![1.0; quadratic_dim])?;
        return Ok(Prepared {
            problem: AnyProblem::Quadratic(problem),
            test: None,
        });
    }
    let (mut train, test) = prepare_shipped(name, test_fraction, split_seed)?;
    let problem = match name {
        "diabetes" => {
            standardize_target(&mut train);
            AnyProblem::LeastSquares(LeastSquares::least_squares(train.to_dataset()?, L2)?)
        }
        "breast_cancer" => {
            AnyProblem::Logistic(LogisticRegression::logistic(train.to_dataset()?, L2)?)
        }
        "digits" | "wine" => {
            let classes = train.num_classes().max(test.num_classes());
            AnyProblem::Softmax(SoftmaxRegression::new(train.to_dataset()?, classes, L2)?)
        }
        other => {
            return Err(CliError::UnknownName {
                kind: "problem",
                name: other.to_string(),
                known: ["quadratic", "diabetes", "breast_cancer", "digits", "wine"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            });
        }
    };
    Ok(Prepared {
        problem,
        test: Some(test),
    })
}

/// Centres and scales the target to zero mean and unit variance.
fn standardize_target(data: &mut LabeledData) {
    let n = data.len() as f64;
    let mean = data.targets.iter().sum::<f64>() / n;
    let variance = data
        .targets
        .iter()
        .map(|t| (t - mean) * (t - mean))
        .sum::<f64>()
        / n;
    let scale = if variance > 0.0 { variance.sqrt() } else { 1.0 };
    for t in &mut data.targets {
        *t = (*t - mean) / scale;
    }
}

macro_rules! delegate {
    ($self:ident, $p:ident => $body:expr) => {
        match $self {
            AnyProblem::Quadratic($p) => $body,
            AnyProblem::LeastSquares($p) => $body,
            AnyProblem::Logistic($p) => $body,
            AnyProblem::Softmax($p) => $body,
        }
    };
}

impl Problem<f64> for AnyProblem {
    fn name(&self) -> String {
        delegate!(self, p => p.name())
    }

    fn dim(&self) -> usize {
        delegate!(self, p => p.dim())
    }

    fn num_samples(&self) -> usize {
        delegate!(self, p => p.num_samples())
    }

    fn loss(&self, x: &[f64]) -> Result<f64, SgdError> {
        delegate!(self, p => p.loss(x))
    }

    fn gradient(&self, x: &[f64], out: &mut [f64]) -> Result<(), SgdError> {
        delegate!(self, p => p.gradient(x, out))
    }

    fn sample_loss(&self, i: usize, x: &[f64]) -> Result<f64, SgdError> {
        delegate!(self, p => p.sample_loss(i, x))
    }

    fn sample_gradient(&self, i: usize, x: &[f64], out: &mut [f64]) -> Result<(), SgdError> {
        delegate!(self, p => p.sample_gradient(i, x, out))
    }

    fn optimal_loss(&self) -> Option<f64> {
        delegate!(self, p => p.optimal_loss())
    }
}

impl AnyProblem {
    /// Returns the accuracy of `x` on `data` for a classification problem, or `None`.
    ///
    /// # Errors
    ///
    /// As [`Classifier::accuracy`].
    pub fn accuracy(
        &self,
        x: &[f64],
        data: &median_sgd::Dataset<f64>,
    ) -> Result<Option<f64>, CliError> {
        Ok(match self {
            AnyProblem::Logistic(p) => Some(p.accuracy(x, data)?),
            AnyProblem::Softmax(p) => Some(p.accuracy(x, data)?),
            _ => None,
        })
    }
}

/// Returns the minimum value `f*` of `problem`: the closed form where known, otherwise the
/// loss reached by full-batch gradient descent with Armijo backtracking (at most
/// `max_iterations` steps, stopping once `||grad f|| <= 1e-8`), an upper bound on `f*`.
///
/// # Errors
///
/// The problem's errors.
pub fn reference_loss(problem: &AnyProblem, max_iterations: usize) -> Result<f64, CliError> {
    if let Some(optimum) = problem.optimal_loss() {
        return Ok(optimum);
    }
    let dim = problem.dim();
    let mut x = vec![0.0; dim];
    let mut gradient = vec![0.0; dim];
    let mut candidate = vec![0.0; dim];
    let mut loss = problem.loss(&x)?;
    let mut step = 1.0;
    for _ in 0..max_iterations {
        problem.gradient(&x, &mut gradient)?;
        let squared = median_linalg::kernels::norm_squared(&gradient);
        if squared.sqrt() <= 1e-8 {
            break;
        }

        // Halve the step until the Armijo condition f(x - t g) <= f(x) - t ||g||^2 / 2 holds.
        loop {
            for ((c, &xi), &g) in candidate.iter_mut().zip(&x).zip(&gradient) {
                *c = xi - step * g;
            }
            let trial = problem.loss(&candidate)?;
            if trial <= loss - 0.5 * step * squared || step < 1e-12 {
                x.copy_from_slice(&candidate);
                loss = trial.min(loss);
                break;
            }
            step *= 0.5;
        }
        step = (step * 2.0).min(1e3);
    }
    Ok(loss)
}
