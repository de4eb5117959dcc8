//! The default backend: `Vec<S>` vectors and a row-major [`RowBatch`].

use std::marker::PhantomData;

use crate::{Backend, LinalgError, Scalar};

/// The built-in backend on plain `Vec<S>` and slices, needing no linear-algebra crate.
///
/// Vectors are `Vec<S>`; batches are [`RowBatch`], one gradient per row of a row-major
/// buffer. Every kernel is the provided slice implementation from
/// [`kernels`](crate::kernels). It is also the oracle the conformance suite compares other
/// backends against.
///
/// # Examples
///
/// ```
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[3.0, 4.0, 0.0, 1.0], 2, 2)?;
/// let mut norms = [0.0; 2];
/// B::batch_norms(&batch, &mut norms)?;
/// assert_eq!(norms, [5.0, 1.0]);
/// # Ok::<(), median_linalg::LinalgError>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct VecBackend<S>(PhantomData<S>);

/// A batch of `count` gradients of dimension `dim` in one row-major buffer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowBatch<S> {
    data: Vec<S>,
    count: usize,
    dim: usize,
}

impl<S: Scalar> RowBatch<S> {
    /// Wraps a row-major buffer of `count * dim` values without copying it.
    ///
    /// # Errors
    ///
    /// [`LinalgError::BatchShape`] if `data.len() != count * dim`.
    pub fn from_vec(data: Vec<S>, count: usize, dim: usize) -> Result<Self, LinalgError> {
        let expected = count.checked_mul(dim);
        if expected != Some(data.len()) {
            return Err(LinalgError::BatchShape {
                count,
                dim,
                expected: expected.unwrap_or(usize::MAX),
                found: data.len(),
            });
        }
        Ok(Self { data, count, dim })
    }

    /// Returns the number of gradients.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Returns the dimension of each gradient.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Returns the row-major buffer.
    pub fn as_slice(&self) -> &[S] {
        &self.data
    }

    /// Returns the row-major buffer, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.data
    }

    /// Returns gradient `index`.
    ///
    /// # Panics
    ///
    /// Panics if `index >= self.count()`.
    pub fn row(&self, index: usize) -> &[S] {
        assert!(
            index < self.count,
            "gradient index {index} out of range for {} gradients",
            self.count
        );
        &self.data[index * self.dim..(index + 1) * self.dim]
    }

    /// Returns gradient `index`, mutably.
    ///
    /// # Panics
    ///
    /// Panics if `index >= self.count()`.
    pub fn row_mut(&mut self, index: usize) -> &mut [S] {
        assert!(
            index < self.count,
            "gradient index {index} out of range for {} gradients",
            self.count
        );
        &mut self.data[index * self.dim..(index + 1) * self.dim]
    }

    /// Returns the buffer, consuming the batch.
    pub fn into_vec(self) -> Vec<S> {
        self.data
    }
}

impl<S: Scalar> Backend for VecBackend<S> {
    type Scalar = S;
    type Vector = Vec<S>;
    type Batch = RowBatch<S>;

    const NAME: &'static str = "vec";

    fn vector_from_slice(values: &[S]) -> Vec<S> {
        values.to_vec()
    }

    fn vector_as_slice(v: &Vec<S>) -> &[S] {
        v
    }

    fn vector_as_mut_slice(v: &mut Vec<S>) -> &mut [S] {
        v
    }

    fn vector_zeros(dim: usize) -> Vec<S> {
        vec![S::zero(); dim]
    }

    fn batch_from_rows(rows: &[S], count: usize, dim: usize) -> Result<RowBatch<S>, LinalgError> {
        RowBatch::from_vec(rows.to_vec(), count, dim)
    }

    fn batch_count(batch: &RowBatch<S>) -> usize {
        batch.count
    }

    fn batch_dim(batch: &RowBatch<S>) -> usize {
        batch.dim
    }

    fn batch_gradient(batch: &RowBatch<S>, index: usize) -> &[S] {
        batch.row(index)
    }

    fn batch_gradient_mut(batch: &mut RowBatch<S>, index: usize) -> &mut [S] {
        batch.row_mut(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_batch_rejects_wrong_length() {
        let err = RowBatch::from_vec(vec![1.0_f64; 5], 2, 3).unwrap_err();
        assert_eq!(
            err,
            LinalgError::BatchShape {
                count: 2,
                dim: 3,
                expected: 6,
                found: 5
            }
        );
    }

    #[test]
    fn row_batch_rejects_overflowing_shape() {
        let err = RowBatch::<f32>::from_vec(Vec::new(), usize::MAX, 2).unwrap_err();
        assert!(matches!(
            err,
            LinalgError::BatchShape {
                expected: usize::MAX,
                ..
            }
        ));
    }

    #[test]
    fn empty_batch_keeps_its_dimension() {
        let b = VecBackend::<f64>::batch_from_rows(&[], 0, 4).unwrap();
        assert_eq!(VecBackend::<f64>::batch_dim(&b), 4);
        assert_eq!(VecBackend::<f64>::batch_count(&b), 0);
    }
}
