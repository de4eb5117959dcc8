//! Gradient noise for the `median` workspace: heavy-tailed scalar samplers, vector noise
//! with a declared geometry, Huber contamination and a state-dependent noise oracle.
//!
//! # Scalar samplers
//!
//! Every sampler follows `rand_distr`: a struct with a `new` that validates its parameters
//! (NaN and out-of-range values give [`NoiseError::InvalidParameter`], naming the parameter
//! and value) and an implementation of [`rand::distr::Distribution`] for `f32` and `f64`.
//!
//! | sampler | law | tail index | finite moments |
//! |---|---|---|---|
//! | [`Gaussian`] | N(mean, std_dev^2) | none (light) | all |
//! | [`Laplace`] | double exponential | none (light) | all |
//! | [`StudentT`] | Student-t(nu), nu in (0, inf] | nu | order < nu |
//! | [`Cauchy`] | Cauchy(location, scale) | 1 | order < 1 |
//! | [`AlphaStable`] | S(alpha, beta, gamma, delta; 1) | alpha (< 2) | order < alpha |
//! | [`Pareto`] | classical Pareto (type I) | shape | order < shape |
//! | [`Lomax`] | Pareto type II | shape | order < shape |
//! | [`Symmetric`] | random sign times any law | that of the law | absolute moments of the law |
//! | [`Contaminated`] | `(1 - eps) P + eps Q` | the heavier | those finite for both |
//!
//! All computation is in `f64`, and an `f32` draw is the rounded `f64` draw. With valid
//! parameters the samplers defined here never draw NaN or an infinity, because a draw whose
//! magnitude exceeds `F::MAX` saturates at `-+F::MAX`. The wrappers [`Symmetric`] and
//! [`Contaminated`] pass on whatever their components draw.
//!
//! # Vector noise
//!
//! [`VectorNoise`] writes a draw into a caller's `&mut [F]` or returns a `Vec<F>` and states
//! its [`Geometry`]: independent coordinates ([`Iid`]) or radial symmetry with one shared
//! random radius ([`MultivariateStudentT`], [`SubGaussianStable`]).
//!
//! # State-dependent noise
//!
//! [`StateDependentNoise`] wraps an exact gradient and adds `sigma(x) = a + b ||x||` or
//! `a + b ||grad f(x)||` times a vector noise draw.
//!
//! # Examples
//!
//! ```
//! use median_noise::{Cauchy, Iid, VectorNoise};
//! use rand::{RngExt, SeedableRng};
//!
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(42);
//! let cauchy = Cauchy::new(0.0_f32, 1.0)?;
//! let x: f32 = rng.sample(&cauchy);
//! assert!(x.is_finite());
//!
//! let noise = Iid::new(cauchy);
//! let v = noise.sample_vec(&mut rng, 16);
//! assert_eq!(v.len(), 16);
//! # Ok::<(), median_noise::NoiseError>(())
//! ```

pub mod byzantine;
mod cauchy;
mod error;
mod gaussian;
mod laplace;
mod mixture;
mod oracle;
mod pareto;
mod stable;
mod student_t;
mod uniform;
mod vector;

pub use cauchy::Cauchy;
pub use error::NoiseError;
pub use gaussian::Gaussian;
pub use laplace::Laplace;
pub use mixture::Contaminated;
pub use oracle::{ScaleSource, StateDependentNoise};
pub use pareto::{Lomax, Pareto, Symmetric};
pub use stable::{AlphaStable, stable_transform};
pub use student_t::StudentT;
pub use vector::{Geometry, Iid, MultivariateStudentT, SubGaussianStable, VectorNoise};
