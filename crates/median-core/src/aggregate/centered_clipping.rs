//! Centered clipping: a few fixed-point steps that move a centre by clipped differences.

use median_linalg::{Backend, Scalar, kernels};
use num_traits::Zero;

use super::Aggregator;
use super::pairwise::{check_batch, check_finite};
use crate::Error;

/// The point the centered clipping iteration starts from.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ClippingStart<S> {
    /// The zero vector.
    #[default]
    Zero,
    /// A fixed vector, whose length must be the batch's dimension.
    Given(Vec<S>),
    /// The previous output of this aggregator, which is the best guess of the next aggregate
    /// when the gradients change slowly. The zero vector is used on the first call and when
    /// the batch's dimension differs from the previous output's.
    Previous,
}

/// Centered clipping: `L` steps of `v <- v + (1/n) sum_i clip_tau(x_i - v)`.
///
/// `clip_tau(z) = z * min(1, tau / ||z||)` moves at most `tau` towards each input, so one
/// input moves the centre by at most `tau / n` per step. An input exactly at the centre
/// contributes zero (never 0/0), `tau = 0` returns the start unchanged, and `tau = +inf` makes
/// the first step the plain mean.
///
/// - **Parameters:** `tau >= 0` (`+inf` allowed), the iteration count `L` (0 returns the
///   start), and the [`ClippingStart`] (zero by default).
/// - **Breakdown point:** no fixed fraction: each step moves at most `tau f / n` towards the
///   Byzantine inputs, so the guarantee depends on `tau`, the start and the honest spread.
/// - **Cost:** `O(L n d)`.
/// - **Overflow:** differences are formed from halved inputs, `x/2 - v/2`, so that finite
///   inputs near the largest float (1e300 and beyond) give a finite clipped step.
/// - **Non-finite inputs:** an input holding NaN or an infinity has no direction to clip
///   along, so it is rejected with [`Error::NonFinite`] naming the input.
///
/// # Examples
///
/// ```
/// use median_core::aggregate::{CenteredClipping, ClippingStart};
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 2] = [&[1.0, 1.0], &[2.0, 2.0]];
/// let mut rule = CenteredClipping::new(0.5, 1)?.with_start(ClippingStart::Given(vec![1.0, 1.0]));
/// let out = aggregate_gradients(&mut rule, &gradients)?;
/// assert!((out[0] - (1.0 + 2f64.sqrt() / 8.0)).abs() < 1e-15);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// S. P. Karimireddy, L. He, M. Jaggi, "Learning from History for Byzantine Robust
/// Optimization", ICML 2021.
#[derive(Debug, Clone, PartialEq)]
pub struct CenteredClipping<S> {
    tau: S,
    iterations: usize,
    start: ClippingStart<S>,
    previous: Option<Vec<S>>,
}

impl<S: Scalar> CenteredClipping<S> {
    /// Creates centered clipping with radius `tau` and `iterations` steps, from zero.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if `tau` is negative or NaN.
    pub fn new(tau: S, iterations: usize) -> Result<Self, Error> {
        if tau.is_nan() || tau < S::zero() {
            return Err(Error::InvalidParameter {
                name: "tau",
                value: tau.into_f64(),
                expected: "the clipping radius must be >= 0 (+inf allowed)",
            });
        }
        Ok(Self {
            tau,
            iterations,
            start: ClippingStart::Zero,
            previous: None,
        })
    }

    /// Sets the start point.
    #[must_use]
    pub fn with_start(mut self, start: ClippingStart<S>) -> Self {
        self.start = start;
        self
    }

    /// Returns the clipping radius.
    pub fn tau(&self) -> S {
        self.tau
    }
}

impl<B: Backend> Aggregator<B> for CenteredClipping<B::Scalar> {
    fn name(&self) -> String {
        "centered-clipping".to_string()
    }

    /// Runs the iteration and writes the last centre into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length or a
    /// start of the wrong length, and [`Error::NonFinite`] for an input or a start holding
    /// NaN or an infinity.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, d) = check_batch::<B>(batch, out.len())?;
        for i in 0..n {
            check_finite(i, B::batch_gradient(batch, i))?;
        }
        let zero = B::Scalar::zero();
        match (&self.start, &self.previous) {
            (ClippingStart::Given(v0), _) => {
                if v0.len() != d {
                    return Err(Error::DimensionMismatch {
                        what: "start",
                        index: 0,
                        expected: d,
                        found: v0.len(),
                    });
                }
                check_finite(0, v0)?;
                out.copy_from_slice(v0);
            }
            (ClippingStart::Previous, Some(previous)) if previous.len() == d => {
                out.copy_from_slice(previous)
            }
            _ => out.fill(zero),
        }

        let mut step = vec![zero; d];
        let mut half = vec![zero; d];
        for _ in 0..self.iterations {
            step.fill(zero);
            for i in 0..n {
                add_clipped_difference(
                    B::batch_gradient(batch, i),
                    out,
                    self.tau,
                    n,
                    &mut half,
                    &mut step,
                );
            }
            for (v, s) in out.iter_mut().zip(&step) {
                *v = *v + *s;
            }
        }

        if matches!(self.start, ClippingStart::Previous) {
            self.previous = Some(out.to_vec());
        }
        Ok(())
    }
}

/// Adds `clip_tau(x - v) / n` to `step`, using `half` as scratch.
///
/// With `h = x/2 - v/2` (finite for finite inputs), `||x - v|| = 2 ||h||`: the difference
/// `2h` is kept when `||h|| <= tau/2`, and otherwise replaced by `tau h / ||h||`. A zero
/// difference takes the first branch and adds zero.
fn add_clipped_difference<S: Scalar>(
    x: &[S],
    v: &[S],
    tau: S,
    n: usize,
    half: &mut [S],
    step: &mut [S],
) {
    let two = S::one() + S::one();
    for k in 0..x.len() {
        half[k] = x[k] / two - v[k] / two;
    }
    let half_norm = kernels::norm(half);
    let count = S::of_usize(n);
    let factor = if half_norm <= tau / two {
        two / count
    } else {
        tau / half_norm / count
    };
    for k in 0..x.len() {
        step[k] = step[k] + factor * half[k];
    }
}
