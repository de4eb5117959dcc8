//! The run driver: a whole optimization run as a function of its configuration and seed.

use median_linalg::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::error::check_len;
use crate::{GradientOracle, IterationRecord, Observer, Optimizer, Problem, SgdError};

/// Returns the generator the run driver uses for `seed`: ChaCha8, whose output for a seed
/// does not change across `rand` releases.
pub fn rng_from_seed(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

/// The result of [`run`]: the loss before and after every step, and the final point.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory<S> {
    /// `f(x_0), f(x_1), ..., f(x_T)`: `iterations + 1` values.
    pub losses: Vec<f64>,
    /// The final point `x_T`.
    pub point: Vec<S>,
    /// The number of stochastic gradients drawn.
    pub gradients: usize,
}

impl<S> Trajectory<S> {
    /// Returns the last loss `f(x_T)`.
    pub fn final_loss(&self) -> f64 {
        // `losses` always contains f(x_0), so it is never empty.
        self.losses[self.losses.len() - 1]
    }
}

/// Runs `iterations` steps of `optimizer` from `x0` with gradients from `oracle`, all
/// randomness drawn from [`rng_from_seed`]`(seed)`, and records the full loss of `problem`
/// after every step.
///
/// The optimizer is [`reset`](Optimizer::reset) first, so the result depends only on the
/// arguments. The full loss is evaluated after every step, which costs one pass over the
/// problem's data per step. `observer` receives one [`IterationRecord`] per step, with the loss.
///
/// # Errors
///
/// [`SgdError::DimensionMismatch`] if `x0` does not have the problem's dimension, and any
/// error of a step or of the loss. The run stops at the first error.
///
/// # Examples
///
/// ```
/// use median_sgd::{ExactGradient, NoObserver, Quadratic, Schedule, Sgd, run};
///
/// let problem = Quadratic::new(vec![1.0, 2.0], vec![1.0, 1.0])?;
/// let mut oracle = ExactGradient::new(problem.clone());
/// let mut sgd = Sgd::new(Schedule::constant(0.25)?);
/// let trajectory = run(&problem, &mut sgd, &mut oracle, &[0.0, 0.0], 50, 0, &mut NoObserver)?;
/// assert_eq!(trajectory.losses.len(), 51);
/// assert!(trajectory.final_loss() < 1e-6);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
pub fn run<S, P, Opt, O, Obs>(
    problem: &P,
    optimizer: &mut Opt,
    oracle: &mut O,
    x0: &[S],
    iterations: usize,
    seed: u64,
    observer: &mut Obs,
) -> Result<Trajectory<S>, SgdError>
where
    S: Scalar,
    P: Problem<S> + ?Sized,
    Opt: Optimizer<S> + ?Sized,
    O: GradientOracle<S> + ?Sized,
    Obs: Observer<S> + ?Sized,
{
    check_len("initial point", problem.dim(), x0.len())?;
    let mut rng = rng_from_seed(seed);
    let mut x = x0.to_vec();
    optimizer.reset();

    let mut losses = Vec::with_capacity(iterations + 1);
    losses.push(problem.loss(&x)?.into_f64());
    let mut gradients = 0;
    for iteration in 0..iterations {
        let info = optimizer.step(&mut x, oracle, &mut rng)?;
        gradients += info.gradients;
        let loss = problem.loss(&x)?.into_f64();
        losses.push(loss);
        observer.observe(&IterationRecord {
            iteration,
            point: &x,
            step_size: info.step_size,
            loss: Some(loss),
            gradients,
        });
    }

    Ok(Trajectory {
        losses,
        point: x,
        gradients,
    })
}
