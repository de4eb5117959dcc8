//! Clip21: clipped error feedback across simulated workers.

use median_core::clip::clip_norm_in_place;
use median_linalg::{Scalar, kernels};
use rand::Rng;

use super::{Optimizer, StepInfo, descend};
use crate::error::{check_count, check_finite, check_len, check_positive};
use crate::{GradientOracle, Schedule, SgdError};

/// Clip21: each of `N` workers keeps a state `v_i`, updated by the clipped innovation of
/// its gradient, and the server steps along the mean state:
///
/// ```text
/// v_i     <- v_i + clip_tau(g_i(x_t) - v_i)      for every worker i
/// x_{t+1} =  x_t - gamma_t (1/N) sum_i v_i
/// ```
///
/// with `v_i = 0` at the start, so the first step uses `clip_tau(g_i(x_0))`. Each worker's
/// update is the geometric-median SPP step (E2) on its own gradients. Gradients come from
/// [`GradientOracle::draw_worker`], and an oracle with a fixed worker count (such as
/// [`WorkerShards`](crate::WorkerShards)) must have exactly `N` workers. `tau` is finite
/// and `> 0`, and `N >= 1`.
///
/// # References
///
/// S. Khirirat, E. Gorbunov, S. Horvath, R. Islamov, F. Karray, P. Richtarik, "Clip21:
/// Error Feedback for Gradient Clipping", arXiv:2305.18929, 2023.
#[derive(Debug, Clone)]
pub struct Clip21<S> {
    schedule: Schedule,
    tau: f64,
    workers: usize,
    states: Vec<Vec<S>>,
    gradient: Vec<S>,
    direction: Vec<S>,
    t: usize,
}

impl<S: Scalar> Clip21<S> {
    /// Creates Clip21 with `workers` simulated workers and threshold `tau`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] naming `tau` unless it is finite and `> 0`, or naming
    /// `workers` for `workers == 0`.
    pub fn new(schedule: Schedule, tau: f64, workers: usize) -> Result<Self, SgdError> {
        check_positive("tau", tau)?;
        check_count("workers", workers)?;
        Ok(Self {
            schedule,
            tau,
            workers,
            states: Vec::new(),
            gradient: Vec::new(),
            direction: Vec::new(),
            t: 0,
        })
    }

    /// Returns the worker states `v_i` (empty before the first step).
    pub fn states(&self) -> &[Vec<S>] {
        &self.states
    }
}

impl<S: Scalar> Optimizer<S> for Clip21<S> {
    fn name(&self) -> String {
        format!("clip21(tau={}, workers={})", self.tau, self.workers)
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        let dim = x.len();
        check_len("point", oracle.dim(), dim)?;
        if let Some(found) = oracle.num_workers().filter(|&n| n != self.workers) {
            return Err(SgdError::WorkerCount {
                expected: self.workers,
                found,
            });
        }
        if self.states.is_empty() {
            self.states = vec![vec![S::zero(); dim]; self.workers];
        }
        check_len(
            "point (against the worker states)",
            self.states[0].len(),
            dim,
        )?;

        // Every worker's innovation is drawn and clipped before any state changes, so an
        // error leaves the states as they were.
        let tau = S::of_f64(self.tau);
        self.gradient.resize(self.workers * dim, S::zero());
        for (i, innovation) in self.gradient.chunks_exact_mut(dim.max(1)).enumerate() {
            oracle.draw_worker(i, x, innovation, rng)?;
            check_finite("gradient", innovation)?;
            kernels::axpy(-S::one(), &self.states[i], innovation);
            clip_norm_in_place(innovation, tau)?;
        }
        let weight = S::one() / S::of_usize(self.workers);
        self.direction.clear();
        self.direction.resize(dim, S::zero());
        for (state, innovation) in self
            .states
            .iter_mut()
            .zip(self.gradient.chunks_exact(dim.max(1)))
        {
            kernels::axpy(S::one(), innovation, state);
            kernels::axpy(weight, state, &mut self.direction);
        }

        let gamma = self.schedule.at(self.t);
        self.t += 1;
        descend(x, gamma, &self.direction)?;
        Ok(StepInfo {
            step_size: gamma,
            gradients: self.workers,
        })
    }

    fn iteration(&self) -> usize {
        self.t
    }

    fn reset(&mut self) {
        self.t = 0;
        self.states.clear();
    }
}
