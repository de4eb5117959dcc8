//! The nalgebra adapter for the [`Backend`] trait of the `median` workspace.
//!
//! [`NalgebraBackend<S>`] uses nalgebra's own containers: vectors are
//! [`nalgebra::DVector<S>`] and a batch is a [`nalgebra::DMatrix<S>`] of shape
//! `dim x count`, one gradient per column (nalgebra stores matrices column-major, so each
//! gradient is contiguous). Users keep their data in these types; nothing is copied in or
//! out.
//!
//! The weighted sum of gradients is nalgebra's `gemv` and the Gram matrix its `gemm_tr`
//! (`Mat^T Mat`); both run on one thread, so they are deterministic. The other operations
//! are the provided slice kernels of `median-linalg`.
//!
//! # Examples
//!
//! ```
//! use median_linalg::Backend;
//! use median_nalgebra::NalgebraBackend;
//! use nalgebra::DMatrix;
//!
//! type B = NalgebraBackend<f64>;
//! // Two gradients of dimension 2, one per column.
//! let batch = DMatrix::from_column_slice(2, 2, &[3.0, 4.0, 0.0, 1.0]);
//! let mut norms = [0.0; 2];
//! B::batch_norms(&batch, &mut norms)?;
//! assert_eq!(norms, [5.0, 1.0]);
//! # Ok::<(), median_linalg::LinalgError>(())
//! ```

use std::marker::PhantomData;

use median_linalg::{Backend, LinalgError, kernels};
use nalgebra::{DMatrix, DMatrixViewMut, DVector, DVectorView, DVectorViewMut};

/// The backend on nalgebra's `DVector<S>` vectors and `DMatrix<S>` batches
/// (`dim x count`), for `f32` and `f64`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NalgebraBackend<S>(PhantomData<S>);

macro_rules! impl_nalgebra_backend {
    ($scalar:ty) => {
        impl Backend for NalgebraBackend<$scalar> {
            type Scalar = $scalar;
            type Vector = DVector<$scalar>;
            type Batch = DMatrix<$scalar>;

            const NAME: &'static str = "nalgebra";

            fn vector_from_slice(values: &[$scalar]) -> DVector<$scalar> {
                DVector::from_column_slice(values)
            }

            fn vector_as_slice(v: &DVector<$scalar>) -> &[$scalar] {
                v.as_slice()
            }

            fn vector_as_mut_slice(v: &mut DVector<$scalar>) -> &mut [$scalar] {
                v.as_mut_slice()
            }

            fn vector_zeros(dim: usize) -> DVector<$scalar> {
                DVector::zeros(dim)
            }

            fn batch_from_rows(
                rows: &[$scalar],
                count: usize,
                dim: usize,
            ) -> Result<DMatrix<$scalar>, LinalgError> {
                let expected = count.checked_mul(dim);
                if expected != Some(rows.len()) {
                    return Err(LinalgError::BatchShape {
                        count,
                        dim,
                        expected: expected.unwrap_or(usize::MAX),
                        found: rows.len(),
                    });
                }
                // Row-major `count x dim` is column-major `dim x count`.
                Ok(DMatrix::from_column_slice(dim, count, rows))
            }

            fn batch_count(batch: &DMatrix<$scalar>) -> usize {
                batch.ncols()
            }

            fn batch_dim(batch: &DMatrix<$scalar>) -> usize {
                batch.nrows()
            }

            fn batch_gradient(batch: &DMatrix<$scalar>, index: usize) -> &[$scalar] {
                let dim = batch.nrows();
                assert!(
                    index < batch.ncols(),
                    "gradient index {index} out of range for {} gradients",
                    batch.ncols()
                );
                &batch.as_slice()[index * dim..(index + 1) * dim]
            }

            fn batch_gradient_mut(batch: &mut DMatrix<$scalar>, index: usize) -> &mut [$scalar] {
                let dim = batch.nrows();
                assert!(
                    index < batch.ncols(),
                    "gradient index {index} out of range for {} gradients",
                    batch.ncols()
                );
                &mut batch.as_mut_slice()[index * dim..(index + 1) * dim]
            }

            fn batch_weighted_sum(
                batch: &DMatrix<$scalar>,
                weights: &[$scalar],
                out: &mut [$scalar],
            ) -> Result<(), LinalgError> {
                LinalgError::check_length(
                    "batch_weighted_sum",
                    "weights",
                    batch.ncols(),
                    weights.len(),
                )?;
                LinalgError::check_length("batch_weighted_sum", "out", batch.nrows(), out.len())?;
                let weights = DVectorView::from_slice(weights, batch.ncols());
                let mut out = DVectorViewMut::from_slice(out, batch.nrows());
                out.gemv(1.0, batch, &weights, 0.0);
                Ok(())
            }

            fn batch_gram(
                batch: &DMatrix<$scalar>,
                out: &mut [$scalar],
            ) -> Result<(), LinalgError> {
                let n = batch.ncols();
                LinalgError::check_length("batch_gram", "out", n * n, out.len())?;
                if n == 0 {
                    return Ok(());
                }
                let mut gram = DMatrixViewMut::from_slice(out, n, n);
                gram.gemm_tr(1.0, batch, batch, 0.0);
                // The product is symmetric up to rounding; make it exactly symmetric.
                kernels::mirror_upper_triangle(out, n);
                Ok(())
            }
        }
    };
}

impl_nalgebra_backend!(f32);
impl_nalgebra_backend!(f64);
