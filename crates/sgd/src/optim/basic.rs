//! First-order baselines: SGD, momentum, Nesterov, clipped, normalized and sign SGD.

use median_core::clip::{clip_coordinates_in_place, clip_norm_in_place};
use median_linalg::{Scalar, kernels};
use rand::Rng;

use super::{Optimizer, StepInfo, descend, draw_checked, ensure_state};
use crate::error::{check_positive, check_unit_interval};
use crate::{GradientOracle, Schedule, SgdError};

/// Stochastic gradient descent: `x_{t+1} = x_t - gamma_t g_t`.
///
/// The step is computed as `x + (-gamma) g`, the same rounding as every other optimizer in
/// this crate, so that special cases agree bit for bit.
///
/// # Examples
///
/// ```
/// use median_sgd::{ExactGradient, Optimizer, Quadratic, Schedule, Sgd};
///
/// let mut oracle = ExactGradient::new(Quadratic::new(vec![1.0], vec![0.0])?);
/// let mut sgd = Sgd::new(Schedule::constant(0.5)?);
/// let mut x = [4.0];
/// sgd.step(&mut x, &mut oracle, &mut median_sgd::rng_from_seed(0))?;
/// assert_eq!(x, [2.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Sgd<S> {
    schedule: Schedule,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> Sgd<S> {
    /// Creates SGD with the step sizes `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule,
            gradient: Vec::new(),
            t: 0,
        }
    }
}

impl<S: Scalar> Optimizer<S> for Sgd<S> {
    fn name(&self) -> String {
        "sgd".to_string()
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        draw_checked(oracle, x, &mut self.gradient, rng)?;
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
    }
}

/// The two common forms of the momentum buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MomentumForm {
    /// The exponential moving average `m_{t+1} = beta m_t + (1 - beta) g_t`, an online mean
    /// estimate (the SPP mean estimator with step `tau = (1 - beta) / beta`).
    Ema,
    /// The heavy-ball buffer `m_{t+1} = beta m_t + g_t` (as in PyTorch's SGD with momentum
    /// and no dampening), which is `1 / (1 - beta)` times the EMA in the long run.
    HeavyBall,
}

/// SGD with momentum: `m_{t+1}` from [`MomentumForm`], then `x_{t+1} = x_t - gamma_t m_{t+1}`,
/// with `m_0 = 0` and `beta` in `[0, 1)`.
///
/// # References
///
/// B. T. Polyak, "Some methods of speeding up the convergence of iteration methods", USSR
/// Computational Mathematics and Mathematical Physics 4(5), 1964.
#[derive(Debug, Clone)]
pub struct Momentum<S> {
    schedule: Schedule,
    beta: f64,
    form: MomentumForm,
    buffer: Vec<S>,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> Momentum<S> {
    /// Creates momentum SGD with parameter `beta`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"beta"`) unless `0 <= beta < 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use median_sgd::{ExactGradient, Momentum, MomentumForm, Optimizer, Quadratic, Schedule};
    ///
    /// let mut oracle = ExactGradient::new(Quadratic::new(vec![1.0], vec![0.0])?);
    /// let mut opt = Momentum::new(Schedule::constant(1.0)?, 0.5, MomentumForm::Ema)?;
    /// let mut x = [4.0];
    /// // m = 0.5 * 0 + 0.5 * 4 = 2, x = 4 - 2.
    /// opt.step(&mut x, &mut oracle, &mut median_sgd::rng_from_seed(0))?;
    /// assert_eq!(x, [2.0]);
    /// # Ok::<(), median_sgd::SgdError>(())
    /// ```
    pub fn new(schedule: Schedule, beta: f64, form: MomentumForm) -> Result<Self, SgdError> {
        check_unit_interval("beta", beta)?;
        Ok(Self {
            schedule,
            beta,
            form,
            buffer: Vec::new(),
            gradient: Vec::new(),
            t: 0,
        })
    }

    /// Returns the momentum buffer `m_t` (empty before the first step).
    pub fn buffer(&self) -> &[S] {
        &self.buffer
    }
}

impl<S: Scalar> Optimizer<S> for Momentum<S> {
    fn name(&self) -> String {
        match self.form {
            MomentumForm::Ema => format!("ema-momentum(beta={})", self.beta),
            MomentumForm::HeavyBall => format!("heavy-ball(beta={})", self.beta),
        }
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        ensure_state(&mut self.buffer, x.len())?;
        draw_checked(oracle, x, &mut self.gradient, rng)?;

        let beta = S::of_f64(self.beta);
        let weight = match self.form {
            MomentumForm::Ema => S::of_f64(1.0 - self.beta),
            MomentumForm::HeavyBall => S::one(),
        };
        for (m, &g) in self.buffer.iter_mut().zip(&self.gradient) {
            *m = beta * *m + weight * g;
        }

        let gamma = self.schedule.at(self.t);
        self.t += 1;
        descend(x, gamma, &self.buffer)?;
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
        self.buffer.clear();
    }
}

/// Nesterov momentum in the form PyTorch uses: `m_{t+1} = beta m_t + g_t`, then
/// `x_{t+1} = x_t - gamma_t (g_t + beta m_{t+1})`, with `m_0 = 0` and `beta` in `[0, 1)`.
///
/// # References
///
/// Y. Nesterov, "A method for solving the convex programming problem with convergence rate
/// O(1/k^2)", Soviet Mathematics Doklady 27, 1983; I. Sutskever, J. Martens, G. Dahl,
/// G. Hinton, "On the importance of initialization and momentum in deep learning", ICML
/// 2013.
#[derive(Debug, Clone)]
pub struct Nesterov<S> {
    schedule: Schedule,
    beta: f64,
    buffer: Vec<S>,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> Nesterov<S> {
    /// Creates Nesterov momentum with parameter `beta`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"beta"`) unless `0 <= beta < 1`.
    pub fn new(schedule: Schedule, beta: f64) -> Result<Self, SgdError> {
        check_unit_interval("beta", beta)?;
        Ok(Self {
            schedule,
            beta,
            buffer: Vec::new(),
            gradient: Vec::new(),
            t: 0,
        })
    }
}

impl<S: Scalar> Optimizer<S> for Nesterov<S> {
    fn name(&self) -> String {
        format!("nesterov(beta={})", self.beta)
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        ensure_state(&mut self.buffer, x.len())?;
        draw_checked(oracle, x, &mut self.gradient, rng)?;

        // The gradient buffer becomes the direction g + beta m_{t+1}.
        let beta = S::of_f64(self.beta);
        for (m, g) in self.buffer.iter_mut().zip(self.gradient.iter_mut()) {
            *m = beta * *m + *g;
            *g = *g + beta * *m;
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
        self.buffer.clear();
    }
}

/// The clipping rule of [`ClippedSgd`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClipKind {
    /// Global norm clipping `min(1, tau / ||g||_2) g`.
    Norm,
    /// Coordinate (value) clipping: each `g_j` clamped to `[-tau, tau]`.
    Coordinate,
}

/// Clipped SGD: `x_{t+1} = x_t - gamma_t clip_tau(g_t)`, with `tau` finite and `> 0`.
///
/// Clipping uses the operators of `median_core::clip`, the same ones the median tracker's
/// estimators use, so that the tracker with its anchor reset to zero reproduces this method
/// bit for bit.
///
/// # References
///
/// R. Pascanu, T. Mikolov, Y. Bengio, "On the difficulty of training recurrent neural
/// networks", ICML 2013 (global norm clipping).
#[derive(Debug, Clone)]
pub struct ClippedSgd<S> {
    schedule: Schedule,
    tau: f64,
    kind: ClipKind,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> ClippedSgd<S> {
    /// Creates clipped SGD with threshold `tau`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] (named `"tau"`) unless `tau` is finite and `> 0`.
    pub fn new(schedule: Schedule, tau: f64, kind: ClipKind) -> Result<Self, SgdError> {
        check_positive("tau", tau)?;
        Ok(Self {
            schedule,
            tau,
            kind,
            gradient: Vec::new(),
            t: 0,
        })
    }
}

impl<S: Scalar> Optimizer<S> for ClippedSgd<S> {
    fn name(&self) -> String {
        match self.kind {
            ClipKind::Norm => format!("clipped-sgd(tau={})", self.tau),
            ClipKind::Coordinate => format!("coordinate-clipped-sgd(tau={})", self.tau),
        }
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        draw_checked(oracle, x, &mut self.gradient, rng)?;
        let tau = S::of_f64(self.tau);
        match self.kind {
            ClipKind::Norm => {
                clip_norm_in_place(&mut self.gradient, tau)?;
            }
            ClipKind::Coordinate => clip_coordinates_in_place(&mut self.gradient, tau)?,
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
    }
}

/// Normalized SGD: `x_{t+1} = x_t - gamma_t g_t / ||g_t||_2`, and no move when `g_t = 0`.
///
/// It is clipped SGD with a threshold below every gradient norm, scaled by `1 / tau`.
#[derive(Debug, Clone)]
pub struct NormalizedSgd<S> {
    schedule: Schedule,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> NormalizedSgd<S> {
    /// Creates normalized SGD with the step sizes `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule,
            gradient: Vec::new(),
            t: 0,
        }
    }
}

impl<S: Scalar> Optimizer<S> for NormalizedSgd<S> {
    fn name(&self) -> String {
        "normalized-sgd".to_string()
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        draw_checked(oracle, x, &mut self.gradient, rng)?;
        let norm = kernels::norm(&self.gradient);
        if norm > S::zero() {
            kernels::scale(S::one() / norm, &mut self.gradient);
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
    }
}

/// signSGD: `x_{t+1} = x_t - gamma_t sign(g_t)` coordinate-wise, with `sign(0) = 0`.
///
/// # References
///
/// J. Bernstein, Y.-X. Wang, K. Azizzadenesheli, A. Anandkumar, "signSGD: Compressed
/// optimisation for non-convex problems", ICML 2018.
#[derive(Debug, Clone)]
pub struct SignSgd<S> {
    schedule: Schedule,
    gradient: Vec<S>,
    t: usize,
}

impl<S: Scalar> SignSgd<S> {
    /// Creates signSGD with the step sizes `schedule`.
    pub fn new(schedule: Schedule) -> Self {
        Self {
            schedule,
            gradient: Vec::new(),
            t: 0,
        }
    }
}

impl<S: Scalar> Optimizer<S> for SignSgd<S> {
    fn name(&self) -> String {
        "sign-sgd".to_string()
    }

    fn step<O, R>(&mut self, x: &mut [S], oracle: &mut O, rng: &mut R) -> Result<StepInfo, SgdError>
    where
        O: GradientOracle<S> + ?Sized,
        R: Rng + ?Sized,
    {
        draw_checked(oracle, x, &mut self.gradient, rng)?;
        for g in self.gradient.iter_mut() {
            *g = if *g > S::zero() {
                S::one()
            } else if *g < S::zero() {
                -S::one()
            } else {
                S::zero()
            };
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
    }
}
