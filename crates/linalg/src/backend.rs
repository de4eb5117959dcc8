//! The [`Backend`] trait: vectors, batches of gradients and the kernels on them.

use std::fmt::Debug;

use num_traits::Zero;

use crate::error::check_len;
use crate::{LinalgError, Scalar};
use crate::{kernels, pairwise};

/// A linear-algebra backend: a scalar type, a vector type, a batch type and the kernels the
/// estimators need.
///
/// Generic code takes one bound, `B: Backend`, and reaches the scalar as `B::Scalar`. A
/// backend is a marker type (the built-in ones are [`VecBackend`](crate::VecBackend), and the `median-nalgebra`
/// and `median-faer` adapters); its vectors and batches are the user's own container types,
/// so no data is copied in or out.
///
/// # Required and provided operations
///
/// A backend supplies construction and slice access (seven methods). Everything else has a
/// provided implementation on slices, from [`kernels`], which is parallel with rayon and
/// deterministic. A backend may override any provided method with its own kernel, for
/// example a library matrix product for [`batch_gram`](Backend::batch_gram).
///
/// # Batches
///
/// A batch holds `count` gradients of dimension `dim`, each stored contiguously, so that
/// [`batch_gradient`](Backend::batch_gradient) returns it as a slice.
///
/// # Dimension mismatch
///
/// Every operation with more than one operand checks the lengths first and returns
/// [`LinalgError::DimensionMismatch`], naming the operation and the operand, without
/// touching any output. Nothing is truncated, broadcast or padded.
///
/// # NaN and infinity
///
/// NaN propagates: a dot product, norm or sum that reads a NaN returns NaN. Norms and
/// distances never overflow for finite input (see [`kernels`]); an infinite entry gives an
/// infinite norm.
///
/// # Determinism
///
/// Conforming backends return bit-identical results for the same inputs on any number of
/// threads. The `median-conformance` crate tests this, together with agreement with
/// [`VecBackend`](crate::VecBackend).
pub trait Backend: Send + Sync + Sized + 'static {
    /// The floating-point type, `f32` or `f64`.
    type Scalar: Scalar;
    /// An owned vector of scalars.
    type Vector: Clone + Debug + Send + Sync;
    /// An owned batch of `count` gradients of dimension `dim`, each stored contiguously.
    type Batch: Clone + Debug + Send + Sync;

    /// A short name for the backend, used in test and benchmark labels.
    const NAME: &'static str;

    /// Creates a vector holding a copy of `values`.
    fn vector_from_slice(values: &[Self::Scalar]) -> Self::Vector;

    /// Returns the vector's entries as a slice.
    fn vector_as_slice(v: &Self::Vector) -> &[Self::Scalar];

    /// Returns the vector's entries as a mutable slice.
    fn vector_as_mut_slice(v: &mut Self::Vector) -> &mut [Self::Scalar];

    /// Creates a batch from `count * dim` values laid out gradient after gradient
    /// (row-major, one gradient per row).
    ///
    /// # Errors
    ///
    /// [`LinalgError::BatchShape`] if `rows.len() != count * dim`.
    fn batch_from_rows(
        rows: &[Self::Scalar],
        count: usize,
        dim: usize,
    ) -> Result<Self::Batch, LinalgError>;

    /// Returns the number of gradients in the batch.
    fn batch_count(batch: &Self::Batch) -> usize;

    /// Returns the dimension of every gradient in the batch.
    fn batch_dim(batch: &Self::Batch) -> usize;

    /// Returns gradient `index` as a slice of length [`batch_dim`](Backend::batch_dim).
    ///
    /// # Panics
    ///
    /// Panics if `index >= batch_count(batch)`.
    fn batch_gradient(batch: &Self::Batch, index: usize) -> &[Self::Scalar];

    /// Returns gradient `index` as a mutable slice.
    ///
    /// # Panics
    ///
    /// Panics if `index >= batch_count(batch)`.
    fn batch_gradient_mut(batch: &mut Self::Batch, index: usize) -> &mut [Self::Scalar];

    /// Creates a zero vector of dimension `dim`.
    fn vector_zeros(dim: usize) -> Self::Vector {
        Self::vector_from_slice(&vec![Self::Scalar::zero(); dim])
    }

    /// Creates a batch from a list of gradients of equal length.
    ///
    /// # Errors
    ///
    /// [`LinalgError::RaggedBatch`] naming the first gradient whose length differs from the
    /// first gradient's.
    fn batch_from_gradients(gradients: &[&[Self::Scalar]]) -> Result<Self::Batch, LinalgError> {
        let dim = gradients.first().map_or(0, |g| g.len());
        if let Some((index, g)) = gradients.iter().enumerate().find(|(_, g)| g.len() != dim) {
            return Err(LinalgError::RaggedBatch {
                index,
                expected: dim,
                found: g.len(),
            });
        }
        let rows: Vec<Self::Scalar> = gradients.iter().flat_map(|g| g.iter().copied()).collect();
        Self::batch_from_rows(&rows, gradients.len(), dim)
    }

    /// Returns the vector's dimension.
    fn dim(v: &Self::Vector) -> usize {
        Self::vector_as_slice(v).len()
    }

    /// Returns the inner product `<x, y>`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if the dimensions differ.
    fn dot(x: &Self::Vector, y: &Self::Vector) -> Result<Self::Scalar, LinalgError> {
        let (x, y) = (Self::vector_as_slice(x), Self::vector_as_slice(y));
        check_len("dot", "y", x.len(), y.len())?;
        Ok(kernels::dot(x, y))
    }

    /// Computes `y += alpha * x`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if the dimensions differ; `y` is then unchanged.
    fn axpy(
        alpha: Self::Scalar,
        x: &Self::Vector,
        y: &mut Self::Vector,
    ) -> Result<(), LinalgError> {
        let (x, y) = (Self::vector_as_slice(x), Self::vector_as_mut_slice(y));
        check_len("axpy", "y", x.len(), y.len())?;
        kernels::axpy(alpha, x, y);
        Ok(())
    }

    /// Multiplies every entry of `x` by `alpha`.
    fn scale(alpha: Self::Scalar, x: &mut Self::Vector) {
        kernels::scale(alpha, Self::vector_as_mut_slice(x));
    }

    /// Returns the Euclidean norm, without overflow for finite entries.
    fn norm(x: &Self::Vector) -> Self::Scalar {
        kernels::norm(Self::vector_as_slice(x))
    }

    /// Returns the Euclidean distance `||x - y||`, without overflow for finite entries.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if the dimensions differ.
    fn distance(x: &Self::Vector, y: &Self::Vector) -> Result<Self::Scalar, LinalgError> {
        let (x, y) = (Self::vector_as_slice(x), Self::vector_as_slice(y));
        check_len("distance", "y", x.len(), y.len())?;
        Ok(kernels::distance(x, y))
    }

    /// Writes the norm of every gradient into `out`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `out.len()` is not the gradient count.
    fn batch_norms(batch: &Self::Batch, out: &mut [Self::Scalar]) -> Result<(), LinalgError> {
        check_len("batch_norms", "out", Self::batch_count(batch), out.len())?;
        kernels::batch_norms(|i| Self::batch_gradient(batch, i), out);
        Ok(())
    }

    /// Writes the distance from every gradient to `point` into `out`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `point` does not have the batch's dimension or
    /// `out.len()` is not the gradient count.
    fn batch_distances(
        batch: &Self::Batch,
        point: &[Self::Scalar],
        out: &mut [Self::Scalar],
    ) -> Result<(), LinalgError> {
        check_len(
            "batch_distances",
            "point",
            Self::batch_dim(batch),
            point.len(),
        )?;
        check_len(
            "batch_distances",
            "out",
            Self::batch_count(batch),
            out.len(),
        )?;
        kernels::batch_distances(|i| Self::batch_gradient(batch, i), point, out);
        Ok(())
    }

    /// Writes the weighted sum `sum_i weights[i] * g_i` into `out`: the product of the
    /// batch, as a `dim x count` matrix, with the vector `weights`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `weights.len()` is not the gradient count or
    /// `out.len()` is not the dimension.
    fn batch_weighted_sum(
        batch: &Self::Batch,
        weights: &[Self::Scalar],
        out: &mut [Self::Scalar],
    ) -> Result<(), LinalgError> {
        check_len(
            "batch_weighted_sum",
            "weights",
            Self::batch_count(batch),
            weights.len(),
        )?;
        check_len(
            "batch_weighted_sum",
            "out",
            Self::batch_dim(batch),
            out.len(),
        )?;
        kernels::batch_weighted_sum(|i| Self::batch_gradient(batch, i), weights, out);
        Ok(())
    }

    /// Runs one Weiszfeld pass at `point`: writes the distances `d_i = ||g_i - point||` into
    /// `distances`, the coefficients `c_i = w_i / max(eps, d_i)` into `coefficients` and the
    /// weighted sum `sum_i c_i g_i` into `out`, reading each gradient from memory once.
    ///
    /// A coefficient is zero where `w_i <= 0`, where `max(eps, d_i) = 0` (a gradient at the
    /// point with `eps = 0`) or where the quotient overflows; a NaN distance gives a NaN
    /// coefficient ([`kernels::weiszfeld_coefficient`]). The outputs equal those of
    /// [`batch_distances`](Backend::batch_distances), the coefficients computed from them and
    /// [`batch_weighted_sum`](Backend::batch_weighted_sum); with the provided kernels they are
    /// bit-identical to that sequence (see [`kernels::batch_weiszfeld_pass`]).
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `point` or `out` does not have the batch's
    /// dimension, or `weights`, `distances` or `coefficients` does not have one entry per
    /// gradient; no output is then touched.
    ///
    /// # Examples
    ///
    /// ```
    /// use median_linalg::{Backend, VecBackend};
    ///
    /// type B = VecBackend<f64>;
    /// let batch = B::batch_from_rows(&[3.0, 4.0, 0.0, 0.0], 2, 2)?;
    /// let (mut d, mut c, mut sum) = ([0.0; 2], [0.0; 2], [0.0; 2]);
    /// B::batch_weiszfeld_pass(&batch, &[0.0, 0.0], &[1.0, 1.0], 0.0, &mut d, &mut c, &mut sum)?;
    /// assert_eq!(d, [5.0, 0.0]);
    /// assert_eq!(c, [0.2, 0.0]); // the gradient at the point gets no coefficient
    /// assert_eq!(sum, [0.6000000000000001, 0.8]);
    /// # Ok::<(), median_linalg::LinalgError>(())
    /// ```
    fn batch_weiszfeld_pass(
        batch: &Self::Batch,
        point: &[Self::Scalar],
        weights: &[Self::Scalar],
        eps: Self::Scalar,
        distances: &mut [Self::Scalar],
        coefficients: &mut [Self::Scalar],
        out: &mut [Self::Scalar],
    ) -> Result<(), LinalgError> {
        let (count, dim) = (Self::batch_count(batch), Self::batch_dim(batch));
        let operation = "batch_weiszfeld_pass";
        check_len(operation, "point", dim, point.len())?;
        check_len(operation, "weights", count, weights.len())?;
        check_len(operation, "distances", count, distances.len())?;
        check_len(operation, "coefficients", count, coefficients.len())?;
        check_len(operation, "out", dim, out.len())?;
        kernels::batch_weiszfeld_pass(
            |i| Self::batch_gradient(batch, i),
            point,
            weights,
            eps,
            distances,
            coefficients,
            out,
        );
        Ok(())
    }

    /// Writes the squared distances `D[i][j] = ||g_i - g_j||^2` into `out`, row-major,
    /// `count x count`.
    ///
    /// The matrix is exactly symmetric with a zero diagonal, and each entry sums the squared
    /// differences directly, so it keeps its digits for nearly equal gradients far from the
    /// origin, where `G_ii + G_jj - 2 G_ij` would cancel. See
    /// [`pairwise::batch_squared_distances`].
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `out.len() != count * count`.
    fn batch_squared_distances(
        batch: &Self::Batch,
        out: &mut [Self::Scalar],
    ) -> Result<(), LinalgError> {
        let (n, dim) = (Self::batch_count(batch), Self::batch_dim(batch));
        check_len("batch_squared_distances", "out", n * n, out.len())?;
        pairwise::batch_squared_distances(|i| Self::batch_gradient(batch, i), n, dim, out);
        Ok(())
    }

    /// Writes the Gram matrix `G[i][j] = <g_i, g_j>` into `out`, row-major, `count x count`.
    ///
    /// # Errors
    ///
    /// [`LinalgError::DimensionMismatch`] if `out.len() != count * count`.
    fn batch_gram(batch: &Self::Batch, out: &mut [Self::Scalar]) -> Result<(), LinalgError> {
        let n = Self::batch_count(batch);
        check_len("batch_gram", "out", n * n, out.len())?;
        kernels::batch_gram(|i| Self::batch_gradient(batch, i), n, out);
        Ok(())
    }
}
