//! Gradient oracles: where an optimizer gets its stochastic gradients.
//!
//! An oracle returns one gradient at a point ([`GradientOracle::draw`]), several independent
//! gradients at the same point ([`GradientOracle::draw_rows`], for Sample Median GD), or
//! one gradient per simulated worker ([`GradientOracle::draw_worker`], for Clip21). All
//! randomness comes from the generator passed in, so a run is a function of its seed.

mod minibatch;
mod noise;
mod workers;

pub use minibatch::{MiniBatch, Sampling};
pub use noise::{AdditiveNoise, StateDependentNoise};
pub use workers::WorkerShards;

/// The quantity that the noise scale of [`StateDependentNoise`] measures (from `median-noise`).
pub use median_noise::ScaleSource;

use median_linalg::Scalar;
use rand::Rng;

use crate::SgdError;
use crate::error::check_len;
use crate::problem::Problem;

/// A source of stochastic gradients `g = grad f(x) + xi` at a point `x`.
pub trait GradientOracle<S: Scalar> {
    /// Returns the dimension of the points and gradients.
    fn dim(&self) -> usize;

    /// Writes one stochastic gradient at `x` into `out`.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `x` or `out` does not have length
    /// [`dim`](GradientOracle::dim), and the errors of the underlying problem.
    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError>;

    /// Writes `count` gradients at the same point `x` into `rows`, one after another
    /// (row-major, `count * dim` values).
    ///
    /// The provided implementation makes `count` independent calls to
    /// [`draw`](GradientOracle::draw). An oracle may correlate the rows, as
    /// [`MiniBatch`] does to sample without replacement across them.
    ///
    /// # Errors
    ///
    /// [`SgdError::DimensionMismatch`] if `rows.len() != count * dim`, and the errors of
    /// [`draw`](GradientOracle::draw).
    fn draw_rows<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        count: usize,
        rows: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        let dim = self.dim();
        check_len("gradient rows", count.saturating_mul(dim), rows.len())?;
        if dim == 0 {
            return Ok(());
        }
        for row in rows.chunks_exact_mut(dim) {
            self.draw(x, row, rng)?;
        }
        Ok(())
    }

    /// Returns the number of workers if the oracle has a fixed set of them (each with its
    /// own objective `f_i`), or `None` if any number of workers draws i.i.d. gradients.
    fn num_workers(&self) -> Option<usize> {
        None
    }

    /// Writes the stochastic gradient of worker `worker` at `x` into `out`.
    ///
    /// The provided implementation ignores `worker` and calls
    /// [`draw`](GradientOracle::draw), so that every worker draws i.i.d. gradients of the
    /// same objective.
    ///
    /// # Errors
    ///
    /// As [`draw`](GradientOracle::draw), and [`SgdError::InvalidParameter`] (named
    /// `"worker"`) for an index beyond [`num_workers`](GradientOracle::num_workers).
    fn draw_worker<R: Rng + ?Sized>(
        &mut self,
        worker: usize,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        let _ = worker;
        self.draw(x, out, rng)
    }
}

/// The deterministic oracle returning the exact full gradient of a problem.
///
/// # Examples
///
/// ```
/// use median_sgd::{ExactGradient, GradientOracle, Quadratic};
///
/// let mut oracle = ExactGradient::new(Quadratic::new(vec![2.0], vec![1.0])?);
/// let mut g = [0.0];
/// oracle.draw(&[3.0], &mut g, &mut median_sgd::rng_from_seed(0))?;
/// assert_eq!(g, [4.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExactGradient<P> {
    problem: P,
}

impl<P> ExactGradient<P> {
    /// Wraps `problem`.
    pub fn new(problem: P) -> Self {
        Self { problem }
    }

    /// Returns the problem.
    pub fn problem(&self) -> &P {
        &self.problem
    }
}

impl<S: Scalar, P: Problem<S>> GradientOracle<S> for ExactGradient<P> {
    fn dim(&self) -> usize {
        self.problem.dim()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        self.problem.gradient(x, out)
    }
}
