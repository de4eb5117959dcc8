//! Adam with bias correction, the usual adaptive reference method.

use median_linalg::Scalar;
use rand::Rng;

use super::{Optimizer, StepInfo, descend, draw_checked, ensure_state};
use crate::error::{check_positive, check_unit_interval};
use crate::{GradientOracle, Schedule, SgdError};

/// Adam: with `t` counted from 1,
///
/// ```text
/// m_t = beta1 m_{t-1} + (1 - beta1) g_t
/// v_t = beta2 v_{t-1} + (1 - beta2) g_t^2          (coordinate-wise)
/// x_t = x_{t-1} - gamma_t (m_t / (1 - beta1^t)) / (sqrt(v_t / (1 - beta2^t)) + eps)
/// ```
///
/// with `m_0 = v_0 = 0`, `beta1` and `beta2` in `[0, 1)` and `eps` finite and `> 0`.
///
/// # References
///
/// D. P. Kingma, J. Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015.
#[derive(Debug, Clone)]
pub struct Adam<S> {
    schedule: Schedule,
    beta1: f64,
    beta2: f64,
    eps: f64,
    first: Vec<S>,
    second: Vec<S>,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> Adam<S> {
    /// Creates Adam. The common defaults are `beta1 = 0.9`, `beta2 = 0.999`, `eps = 1e-8`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] naming `beta1` or `beta2` unless it is in `[0, 1)`,
    /// or naming `eps` unless it is finite and `> 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use median_sgd::{Adam, ExactGradient, Optimizer, Quadratic, Schedule};
    ///
    /// let mut oracle = ExactGradient::new(Quadratic::new(vec![1.0, 100.0], vec![0.0, 0.0])?);
    /// let mut adam = Adam::new(Schedule::constant(0.1)?, 0.9, 0.999, 1e-8)?;
    /// let mut x = [1.0f64, 1.0];
    /// // The first step moves every coordinate by about gamma, whatever its curvature.
    /// adam.step(&mut x, &mut oracle, &mut median_sgd::rng_from_seed(0))?;
    /// assert!((x[0] - 0.9).abs() < 1e-6 && (x[1] - 0.9).abs() < 1e-6);
    /// # Ok::<(), median_sgd::SgdError>(())
    /// ```
    pub fn new(schedule: Schedule, beta1: f64, beta2: f64, eps: f64) -> Result<Self, SgdError> {
        check_unit_interval("beta1", beta1)?;
        check_unit_interval("beta2", beta2)?;
        check_positive("eps", eps)?;
        Ok(Self {
            schedule,
            beta1,
            beta2,
            eps,
            first: Vec::new(),
            second: Vec::new(),
            gradient: Vec::new(),
            t: 0,
        })
    }
}

impl<S: Scalar> Optimizer<S> for Adam<S> {
    fn name(&self) -> String {
        format!("adam(beta1={}, beta2={})", self.beta1, self.beta2)
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        ensure_state(&mut self.first, x.len())?;
        ensure_state(&mut self.second, x.len())?;
        draw_checked(oracle, x, &mut self.gradient, rng)?;

        // Bias corrections in f64: beta^t underflows to 0 for large t, leaving 1.
        let power = i32::try_from(self.t + 1).unwrap_or(i32::MAX);
        let correction1 = S::of_f64(1.0 - self.beta1.powi(power));
        let correction2 = S::of_f64(1.0 - self.beta2.powi(power));
        let (beta1, beta2) = (S::of_f64(self.beta1), S::of_f64(self.beta2));
        let (weight1, weight2) = (S::of_f64(1.0 - self.beta1), S::of_f64(1.0 - self.beta2));
        let eps = S::of_f64(self.eps);

        // The gradient buffer becomes the direction m_hat / (sqrt(v_hat) + eps).
        for j in 0..x.len() {
            let g = self.gradient[j];
            self.first[j] = beta1 * self.first[j] + weight1 * g;
            self.second[j] = beta2 * self.second[j] + weight2 * g * g;
            let m_hat = self.first[j] / correction1;
            let v_hat = self.second[j] / correction2;
            self.gradient[j] = m_hat / (v_hat.sqrt() + eps);
        }

        let gamma = self.schedule.at(self.t);
        self.t += 1;
        descend(x, gamma, &self.gradient)?;
        Ok(StepInfo {
            step_size: gamma,
            gradients: 1,
        })
    }

    fn iteration(&self) -> usize {
        self.t
    }

    fn reset(&mut self) {
        self.t = 0;
        self.first.clear();
        self.second.clear();
    }
}
