//! Optimizers built on median gradient estimation, and test problems with per-sample
//! gradients.
//!
//! - [`Optimizer`]: one trait for every method. Baselines: [`Sgd`], [`Momentum`] (EMA and
//!   heavy-ball), [`Nesterov`], [`ClippedSgd`], [`NormalizedSgd`], [`SignSgd`], [`Adam`].
//!   Median methods: the [`Tracker`] (median across iterations, with any
//!   `median_core::online::OnlineEstimator`), [`SampleMedianGd`] (median across samples,
//!   with any `median_core::aggregate::Aggregator`) and [`Clip21`] (clipped error feedback
//!   across workers).
//! - [`Schedule`]: validated step-size schedules.
//! - [`Problem`]: objectives with analytic full and per-sample gradients: [`Quadratic`],
//!   [`LeastSquares`], [`LogisticRegression`], [`HuberRegression`], [`SoftmaxRegression`]
//!   and the non-convex [`Mlp`], on a [`Dataset`].
//! - [`GradientOracle`]: where gradients come from: [`ExactGradient`], [`MiniBatch`],
//!   [`WorkerShards`], and the noise wrappers [`AdditiveNoise`] and [`StateDependentNoise`].
//! - [`run`]: a whole run as a function of its configuration and seed. Per-iteration metrics
//!   go to an [`Observer`] (the library never prints).
//!
//! Everything is generic over `f32` and `f64`, and the median methods are generic over a
//! [`Backend`](median_linalg::Backend).
//!
//! # Examples
//!
//! The median tracker with a clipped (geometric-median) step reduces to SGD and clipped SGD
//! in its limits. Here is plain SGD on a noisy quadratic:
//!
//! ```
//! use median_sgd::{AdditiveNoise, ExactGradient, NoObserver, Quadratic, Schedule, Sgd, run};
//! use rand_distr::Normal;
//!
//! let problem = Quadratic::<f64>::logspace(4, 0.0, 1.0, vec![1.0; 4])?;
//! let noise = Normal::new(0.0, 0.01).unwrap();
//! let mut oracle = AdditiveNoise::new(ExactGradient::new(problem.clone()), noise);
//! let mut sgd = Sgd::new(Schedule::constant(0.05)?);
//! let trajectory = run(&problem, &mut sgd, &mut oracle, &[0.0; 4], 300, 42, &mut NoObserver)?;
//! assert!(trajectory.final_loss() < 0.01 * trajectory.losses[0]);
//! # Ok::<(), median_sgd::SgdError>(())
//! ```
//!
//! # References
//!
//! F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
//! Estimating the Median Gradient", arXiv:2402.12828, 2024; published as "Tracking the
//! Median of Gradients with a Stochastic Proximal Point Method", Transactions on Machine
//! Learning Research, 2025.

mod dataset;
mod error;
pub mod optim;
pub mod oracle;
pub mod problem;
mod run;
mod schedule;

pub use dataset::Dataset;
pub use error::SgdError;
pub use optim::{
    Adam, Clip21, ClipKind, ClippedSgd, Initialization, IterationRecord, Momentum, MomentumForm,
    Nesterov, NoObserver, NormalizedSgd, Observer, Optimizer, SampleMedianGd, Sgd, SignSgd,
    StepInfo, Tracker,
};
pub use oracle::{
    AdditiveNoise, ExactGradient, GradientOracle, MiniBatch, Sampling, ScaleSource,
    StateDependentNoise, WorkerShards,
};
pub use problem::{
    Classifier, HuberLoss, HuberRegression, LeastSquares, LinearModel, LogisticLoss,
    LogisticRegression, Mlp, MlpOutput, Problem, Quadratic, ScalarLoss, SoftmaxRegression,
    SquaredLoss,
};
pub use run::{Trajectory, rng_from_seed, run};
pub use schedule::Schedule;
