//! The linear-algebra layer of the `median` workspace.
//!
//! One trait, [`Backend`], abstracts the vectors and batches of gradients that the
//! estimators work on, so that generic code needs a single bound `B: Backend`. This crate
//! also holds the default backend, [`VecBackend`], on plain `Vec` and slices, and the slice
//! [`kernels`] that are every backend's provided implementations.
//!
//! Adapters for other libraries live in their own crates: `median-nalgebra` (on
//! `DVector`/`DMatrix`) and `median-faer` (on `Col`/`Mat`). Adding a backend for another
//! library takes seven methods; `docs/adding-a-backend.md` in the repository walks through
//! one, and the `median-conformance` crate tests it.
//!
//! # Examples
//!
//! A function written once against the trait runs on every backend:
//!
//! ```
//! use median_linalg::{Backend, LinalgError, Scalar, VecBackend};
//!
//! /// Returns the mean of the batch's gradients.
//! fn mean<B: Backend>(batch: &B::Batch) -> Result<B::Vector, LinalgError> {
//!     let n = B::batch_count(batch);
//!     let weights = vec![B::Scalar::of_f64(1.0 / n as f64); n];
//!     let mut out = B::vector_zeros(B::batch_dim(batch));
//!     B::batch_weighted_sum(batch, &weights, B::vector_as_mut_slice(&mut out))?;
//!     Ok(out)
//! }
//!
//! let batch = VecBackend::<f64>::batch_from_rows(&[1.0, 2.0, 3.0, 4.0], 2, 2)?;
//! assert_eq!(mean::<VecBackend<f64>>(&batch)?, vec![2.0, 3.0]);
//! # Ok::<(), LinalgError>(())
//! ```

mod backend;
mod error;
pub mod kernels;
pub mod pairwise;
mod scalar;
pub mod simd;
mod vec_backend;

pub use backend::Backend;
pub use error::LinalgError;
pub use num_traits::{self, Float, One, Zero};
pub use scalar::Scalar;
pub use vec_backend::{RowBatch, VecBackend};
