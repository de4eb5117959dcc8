//! A backend written the way `docs/adding-a-backend.md` describes, passing the suite.
//!
//! `ScatteredBackend` stores each gradient in its own `Vec`, so a batch is not one buffer.
//! It implements only the seven required methods; every kernel is the trait's provided
//! slice implementation.

use std::marker::PhantomData;

use median_linalg::{Backend, LinalgError, Scalar};

/// A batch of gradients, each in its own allocation.
#[derive(Debug, Clone)]
pub struct Scattered<S> {
    dim: usize,
    gradients: Vec<Vec<S>>,
}

/// A backend on `Vec<S>` vectors and [`Scattered`] batches.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScatteredBackend<S>(PhantomData<S>);

impl<S: Scalar> Backend for ScatteredBackend<S> {
    type Scalar = S;
    type Vector = Vec<S>;
    type Batch = Scattered<S>;

    const NAME: &'static str = "scattered";

    fn vector_from_slice(values: &[S]) -> Vec<S> {
        values.to_vec()
    }

    fn vector_as_slice(v: &Vec<S>) -> &[S] {
        v
    }

    fn vector_as_mut_slice(v: &mut Vec<S>) -> &mut [S] {
        v
    }

    fn batch_from_rows(rows: &[S], count: usize, dim: usize) -> Result<Scattered<S>, LinalgError> {
        let expected = count.checked_mul(dim);
        if expected != Some(rows.len()) {
            return Err(LinalgError::BatchShape {
                count,
                dim,
                expected: expected.unwrap_or(usize::MAX),
                found: rows.len(),
            });
        }
        let gradients = (0..count)
            .map(|i| rows[i * dim..(i + 1) * dim].to_vec())
            .collect();
        Ok(Scattered { dim, gradients })
    }

    fn batch_count(batch: &Scattered<S>) -> usize {
        batch.gradients.len()
    }

    fn batch_dim(batch: &Scattered<S>) -> usize {
        batch.dim
    }

    fn batch_gradient(batch: &Scattered<S>, index: usize) -> &[S] {
        &batch.gradients[index]
    }

    fn batch_gradient_mut(batch: &mut Scattered<S>, index: usize) -> &mut [S] {
        &mut batch.gradients[index]
    }
}

median_conformance::conformance_tests!(scattered_f32, ScatteredBackend<f32>);
median_conformance::conformance_tests!(scattered_f64, ScatteredBackend<f64>);
