//! The faer adapter for the [`Backend`] trait of the `median` workspace.
//!
//! [`FaerBackend<S>`] uses faer's own containers: vectors are [`faer::Col<S>`] and a batch is
//! a [`faer::Mat<S>`] of shape `dim x count`, one gradient per column (faer stores columns
//! contiguously). Users keep their data in these types; nothing is copied in or out.
//!
//! The batch kernels that are matrix products run on faer's SIMD `matmul`: the weighted sum
//! of gradients is a matrix-vector product and the Gram matrix is `Mat^T Mat`. The other
//! operations are the provided slice kernels of `median-linalg`.
//!
//! # Examples
//!
//! ```
//! use faer::Mat;
//! use median_faer::FaerBackend;
//! use median_linalg::Backend;
//!
//! type B = FaerBackend<f64>;
//! // Two gradients of dimension 2, one per column.
//! let batch = Mat::from_fn(2, 2, |i, j| [[3.0, 0.0], [4.0, 1.0]][i][j]);
//! let mut norms = [0.0; 2];
//! B::batch_norms(&batch, &mut norms)?;
//! assert_eq!(norms, [5.0, 1.0]);
//! # Ok::<(), median_linalg::LinalgError>(())
//! ```

use std::marker::PhantomData;

use faer::linalg::matmul::matmul;
use faer::{Accum, Col, ColMut, ColRef, Mat, MatMut, Par};
use median_linalg::{Backend, LinalgError, kernels};
use rayon::prelude::*;

/// Rows per sequential product in the weighted sum.
const ROW_BLOCK: usize = 1 << 12;

/// Coordinates per partial Gram matrix.
const GRAM_BLOCK: usize = 1 << 15;

/// The backend on faer's `Col<S>` vectors and `Mat<S>` batches (`dim x count`), for `f32`
/// and `f64`.
///
/// Matrix products run in parallel on the current rayon pool, over fixed blocks that do not
/// depend on the number of threads: the weighted sum over blocks of rows (one sequential
/// faer product each), the Gram matrix over blocks of coordinates whose partial products
/// are added in block order. faer's own parallel product is not used because its result
/// changes with the thread count; the conformance suite checks this.
#[derive(Debug, Clone, Copy, Default)]
pub struct FaerBackend<S>(PhantomData<S>);

macro_rules! impl_faer_backend {
    ($scalar:ty) => {
        impl Backend for FaerBackend<$scalar> {
            type Scalar = $scalar;
            type Vector = Col<$scalar>;
            type Batch = Mat<$scalar>;

            const NAME: &'static str = "faer";

            fn vector_from_slice(values: &[$scalar]) -> Col<$scalar> {
                Col::from_fn(values.len(), |i| values[i])
            }

            fn vector_as_slice(v: &Col<$scalar>) -> &[$scalar] {
                // An owned `Col` is always stored contiguously.
                v.try_as_col_major()
                    .expect("an owned faer Col is contiguous")
                    .as_slice()
            }

            fn vector_as_mut_slice(v: &mut Col<$scalar>) -> &mut [$scalar] {
                v.try_as_col_major_mut()
                    .expect("an owned faer Col is contiguous")
                    .as_slice_mut()
            }

            fn vector_zeros(dim: usize) -> Col<$scalar> {
                Col::zeros(dim)
            }

            fn batch_from_rows(
                rows: &[$scalar],
                count: usize,
                dim: usize,
            ) -> Result<Mat<$scalar>, LinalgError> {
                let expected = count.checked_mul(dim);
                if expected != Some(rows.len()) {
                    return Err(LinalgError::BatchShape {
                        count,
                        dim,
                        expected: expected.unwrap_or(usize::MAX),
                        found: rows.len(),
                    });
                }
                Ok(Mat::from_fn(dim, count, |i, j| rows[j * dim + i]))
            }

            fn batch_count(batch: &Mat<$scalar>) -> usize {
                batch.ncols()
            }

            fn batch_dim(batch: &Mat<$scalar>) -> usize {
                batch.nrows()
            }

            fn batch_gradient(batch: &Mat<$scalar>, index: usize) -> &[$scalar] {
                assert!(
                    index < batch.ncols(),
                    "gradient index {index} out of range for {} gradients",
                    batch.ncols()
                );
                batch.col_as_slice(index)
            }

            fn batch_gradient_mut(batch: &mut Mat<$scalar>, index: usize) -> &mut [$scalar] {
                assert!(
                    index < batch.ncols(),
                    "gradient index {index} out of range for {} gradients",
                    batch.ncols()
                );
                batch.col_as_slice_mut(index)
            }

            fn batch_weighted_sum(
                batch: &Mat<$scalar>,
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
                let weights = ColRef::from_slice(weights).as_mat();
                // Fixed row blocks, each a sequential product: the summation order of every
                // entry is the same on any number of threads.
                out.par_chunks_mut(ROW_BLOCK)
                    .enumerate()
                    .for_each(|(block, out_block)| {
                        let rows = batch.as_ref().subrows(block * ROW_BLOCK, out_block.len());
                        let out_block = ColMut::from_slice_mut(out_block);
                        matmul(
                            out_block.as_mat_mut(),
                            Accum::Replace,
                            rows,
                            weights,
                            1.0,
                            Par::Seq,
                        );
                    });
                Ok(())
            }

            fn batch_gram(batch: &Mat<$scalar>, out: &mut [$scalar]) -> Result<(), LinalgError> {
                let n = batch.ncols();
                LinalgError::check_length("batch_gram", "out", n * n, out.len())?;
                if n == 0 {
                    return Ok(());
                }
                // Partial Gram matrices over fixed blocks of coordinates, each a sequential
                // product, added in block order: the result does not depend on threads.
                let dim = batch.nrows();
                let blocks = dim.div_ceil(GRAM_BLOCK).max(1);
                let partials: Vec<Mat<$scalar>> = (0..blocks)
                    .into_par_iter()
                    .map(|block| {
                        let start = block * GRAM_BLOCK;
                        let rows = batch.as_ref().subrows(start, GRAM_BLOCK.min(dim - start));
                        let mut partial = Mat::zeros(n, n);
                        matmul(
                            &mut partial,
                            Accum::Replace,
                            rows.transpose(),
                            rows,
                            1.0,
                            Par::Seq,
                        );
                        partial
                    })
                    .collect();
                let mut gram = MatMut::from_column_major_slice_mut(out, n, n);
                gram.fill(0.0);
                for partial in &partials {
                    gram += partial;
                }
                // The product is symmetric up to rounding; make it exactly symmetric.
                kernels::mirror_upper_triangle(out, n);
                Ok(())
            }
        }
    };
}

impl_faer_backend!(f32);
impl_faer_backend!(f64);
