//! Median-based gradient estimation.
//!
//! This crate holds the estimator mathematics of the `median` workspace, generic over the
//! [`Backend`](median_linalg::Backend) trait and over `f32` and `f64`:
//!
//! - [`clip`]: clipping and projection operators;
//! - [`online`]: the stochastic proximal point (SPP) online estimators E1 to E8, which
//!   track a mean, a median or a quantile across iterations;
//! - [`batch`]: estimators across a batch of samples (coordinate-wise and geometric
//!   medians, quantiles, trimmed means, median-of-means);
//! - [`aggregate`]: the [`Aggregator`](aggregate::Aggregator) trait and the
//!   Byzantine-robust aggregation rules.
//!
//! # References
//!
//! F. Schaipp, G. Garrigos, U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly
//! Estimating the Median Gradient", arXiv:2402.12828, 2024; published as "Tracking the
//! Median of Gradients with a Stochastic Proximal Point Method", Transactions on Machine
//! Learning Research, 2025.

pub mod aggregate;
pub mod batch;
pub mod clip;
mod error;
pub mod online;
mod scale;

pub use error::{Error, NanPolicy};
