//! Differentially private SGD as a median step.
//!
//! DP-SGD's averaged per-sample clipping is one mini-batch stochastic proximal point step
//! towards the geometric median, started from zero: `(1/b) sum_i clip_C(g_i - 0)`. This
//! crate provides that step with calibrated Gaussian noise, the variant anchored at a
//! tracked median, and a Rényi DP accountant for the subsampled Gaussian mechanism.
//!
//! - [`dpsgd`]: per-sample clipping (global or per layer) around an anchor, the sum,
//!   calibrated Gaussian noise, Poisson and fixed-size sampling, and [`dpsgd::AnchoredDpSgd`],
//!   which clips around its own private estimate;
//! - [`accountant`]: RDP of the Poisson-subsampled Gaussian mechanism, conversion to
//!   `(epsilon, delta)`, and the noise multiplier for a target epsilon.

pub mod accountant;
pub mod dpsgd;
mod error;

pub use error::DpError;
