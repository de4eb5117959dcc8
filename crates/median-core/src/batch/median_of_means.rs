//! Median-of-means: the coordinate-wise or geometric median of the means of consecutive
//! blocks.

use median_linalg::{Backend, RowBatch, Scalar, VecBackend};
use num_traits::{Float, Zero};
use rayon::prelude::*;

use super::check_batch_and_output;
use super::columns::{self, mean_of};
use super::geometric::{GeometricMedian, GeometricMedianInfo};
use super::median::{EvenRule, median_in_place};
use crate::aggregate::Aggregator;
use crate::{Error, NanPolicy};

/// Median-of-means: split the batch into `k` blocks of consecutive gradients, average each
/// block, and take the median of the `k` block means, coordinate-wise by default or
/// geometric.
///
/// # Definition
///
/// **Block rule.** The blocks follow the batch order, and when `k` does not divide `n` the
/// first `n mod k` blocks are one gradient longer (the rule of `numpy.array_split`): 8
/// gradients in 3 blocks give blocks of sizes 3, 3 and 2. No gradient is dropped. Shuffle
/// the batch before calling if its order is not random.
///
/// By default the block means are combined by the coordinate-wise median with the midpoint
/// rule for an even `k` (see [`CoordinateMedian`](super::CoordinateMedian)): `k = 1` is the
/// mean (not robust) and `k = n` is the coordinate-wise median. With
/// [`with_geometric_median`](Self::with_geometric_median) they are combined by a
/// [`GeometricMedian`] instead (the "geometric median-of-means").
///
/// # Properties
///
/// Breakdown point about `k / (2 n)`: the estimate stays bounded while fewer than half of
/// the blocks contain an outlier. Cost `O(n d)` for the block means plus `O(k d)` expected
/// for the coordinate-wise medians (or `O(k d)` per geometric-median iteration), in
/// parallel, deterministic. Scratch: `k d` scalars.
///
/// # NaN policy
///
/// A NaN makes its block mean NaN. The coordinate-wise median then gives NaN in that
/// coordinate. The geometric median rejects a non-finite block mean with
/// [`Error::NonFinite`], whose `index` is the block.
///
/// # Errors
///
/// [`Error::InvalidParameter`] from [`new`](Self::new) for `k = 0`, and from the estimate
/// for `k > n`; [`Error::EmptyBatch`]; [`Error::DimensionMismatch`] for an output of the
/// wrong length; [`Error::NonFinite`] as above.
///
/// # Examples
///
/// ```
/// use median_core::batch::MedianOfMeans;
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 1000.0], 8, 1)?;
/// // Blocks [1, 2, 3], [4, 5, 6], [7, 1000] with means 2, 5 and 503.5.
/// assert_eq!(MedianOfMeans::new(3)?.estimate::<B>(&batch)?, vec![5.0]);
///
/// // Two-dimensional gradients, block means combined by the geometric median.
/// use median_core::batch::GeometricMedian;
/// let points = B::batch_from_rows(&[0.0, 0.0, 2.0, 0.0, 1.0, 3.0, 1.0, 5.0], 4, 2)?;
/// let mut geometric = MedianOfMeans::new(2)?.with_geometric_median(GeometricMedian::new());
/// // Block means (1, 0) and (1, 4): every point between them minimises, and the solver
/// // returns its start point, the coordinate-wise median (their midpoint).
/// assert_eq!(geometric.estimate::<B>(&points)?, vec![1.0, 2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
///
/// A. S. Nemirovsky, D. B. Yudin, "Problem Complexity and Method Efficiency in
/// Optimization", Wiley, 1983; S. Minsker, "Geometric median and robust estimation in
/// Banach spaces", Bernoulli 21(4), 2015.
#[derive(Debug, Clone)]
pub struct MedianOfMeans<S> {
    blocks: usize,
    columns: Vec<S>,
    geometric: Option<GeometricMedian<S>>,
    means: Option<RowBatch<S>>,
}

impl<S: Scalar> MedianOfMeans<S> {
    /// Creates the estimator with `blocks` blocks.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if `blocks == 0`.
    pub fn new(blocks: usize) -> Result<Self, Error> {
        if blocks == 0 {
            return Err(Error::InvalidParameter {
                name: "blocks",
                value: 0.0,
                expected: "must be between 1 and the number of gradients",
            });
        }
        Ok(Self {
            blocks,
            columns: Vec::new(),
            geometric: None,
            means: None,
        })
    }

    /// Combines the block means by the geometric median computed by `solver`.
    ///
    /// The solver's settings apply, and its weights, if any, must number `k`.
    #[must_use]
    pub fn with_geometric_median(mut self, solver: GeometricMedian<S>) -> Self {
        self.geometric = Some(solver);
        self
    }

    /// Returns the info of the last geometric-median solve, when the block means are
    /// combined by the geometric median.
    pub fn geometric_info(&self) -> Option<GeometricMedianInfo> {
        self.geometric.as_ref().and_then(GeometricMedian::last_info)
    }

    /// Returns the number of blocks.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Returns the median of the block means as a new vector.
    ///
    /// # Errors
    ///
    /// As [`estimate_into`](Self::estimate_into).
    pub fn estimate<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
    ) -> Result<B::Vector, Error> {
        let mut out = B::vector_zeros(B::batch_dim(batch));
        self.estimate_into::<B>(batch, B::vector_as_mut_slice(&mut out))?;
        Ok(out)
    }

    /// Writes the median of the block means into `out`, reusing the struct's scratch.
    ///
    /// # Errors
    ///
    /// See the type-level docs.
    pub fn estimate_into<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
    ) -> Result<(), Error> {
        let (n, dim) = check_batch_and_output::<B>(batch, out)?;
        let k = self.blocks;
        if k > n {
            return Err(Error::InvalidParameter {
                name: "blocks",
                value: k as f64,
                expected: "must be between 1 and the number of gradients",
            });
        }

        if let Some(solver) = self.geometric.as_mut() {
            return geometric_median_of_means::<B>(solver, &mut self.means, k, batch, out);
        }

        // Column j of the scratch contains the k block means of coordinate j.
        columns::fill_columns(
            &mut self.columns,
            k,
            dim,
            n * dim,
            S::zero(),
            |start, chunk| {
                let width = chunk.len() / k;
                let mut values = [S::zero(); MAX_STACK_BLOCK];
                for block in 0..k {
                    let (first, end) = block_bounds(n, k, block);
                    for offset in 0..width {
                        let coordinate = start + offset;
                        chunk[offset * k + block] =
                            block_mean::<B>(batch, first, end, coordinate, &mut values);
                    }
                }
            },
        );
        columns::reduce_columns(
            &mut self.columns,
            k,
            out,
            NanPolicy::Propagate,
            |v: &S| v.is_nan(),
            |_, column| Ok(median_in_place(column, EvenRule::Midpoint)),
        )
    }
}

impl<B: Backend> Aggregator<B> for MedianOfMeans<B::Scalar> {
    fn name(&self) -> String {
        match self.geometric {
            Some(_) => format!("geometric-median-of-means-{}", self.blocks),
            None => format!("median-of-means-{}", self.blocks),
        }
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.estimate_into::<B>(batch, out)
    }
}

/// Writes into `out` the geometric median of the means of `k` blocks, computed by `solver`,
/// keeping the block means in `means` for the next call.
fn geometric_median_of_means<B: Backend>(
    solver: &mut GeometricMedian<B::Scalar>,
    means: &mut Option<RowBatch<B::Scalar>>,
    k: usize,
    batch: &B::Batch,
    out: &mut [B::Scalar],
) -> Result<(), Error> {
    let (n, dim) = (B::batch_count(batch), B::batch_dim(batch));
    let mut block_means = match means.take() {
        Some(m) if m.count() == k && m.dim() == dim => m,
        _ => RowBatch::from_vec(vec![B::Scalar::zero(); k * dim], k, dim)?,
    };

    // Row b is the mean of block b.
    if dim > 0 {
        block_means
            .as_mut_slice()
            .par_chunks_mut(dim)
            .enumerate()
            .for_each(|(block, row)| {
                let (first, end) = block_bounds(n, k, block);
                let mut values = [B::Scalar::zero(); MAX_STACK_BLOCK];
                for (coordinate, slot) in row.iter_mut().enumerate() {
                    *slot = block_mean::<B>(batch, first, end, coordinate, &mut values);
                }
            });
    }
    let result = solver.solve_into::<VecBackend<B::Scalar>>(&block_means, out);
    *means = Some(block_means);
    result.map(|_| ())
}

/// Blocks up to this length are averaged through a stack buffer.
const MAX_STACK_BLOCK: usize = 64;

/// Returns the gradient range `first..end` of block `block` when `n` gradients are split
/// into `k` blocks, the first `n mod k` blocks one longer.
fn block_bounds(n: usize, k: usize, block: usize) -> (usize, usize) {
    let base = n / k;
    let longer = n % k;
    let first = block * base + block.min(longer);
    let len = base + usize::from(block < longer);
    (first, first + len)
}

/// Returns the mean of coordinate `coordinate` over gradients `first..end`.
fn block_mean<B: Backend>(
    batch: &B::Batch,
    first: usize,
    end: usize,
    coordinate: usize,
    buffer: &mut [B::Scalar; MAX_STACK_BLOCK],
) -> B::Scalar {
    let len = end - first;
    if len <= MAX_STACK_BLOCK {
        for (slot, i) in buffer.iter_mut().zip(first..end) {
            *slot = B::batch_gradient(batch, i)[coordinate];
        }
        return mean_of(&buffer[..len]);
    }

    // Long blocks: sum directly, dividing first only when the sum overflows.
    let count = B::Scalar::of_usize(len);
    let value = |i: usize| B::batch_gradient(batch, i)[coordinate];
    let sum: B::Scalar = (first..end).map(value).sum();
    if sum.is_finite() || (first..end).any(|i| !value(i).is_finite()) {
        return sum / count;
    }
    (first..end).map(|i| value(i) / count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_bounds_follow_array_split() {
        let bounds: Vec<_> = (0..3).map(|b| block_bounds(8, 3, b)).collect();
        assert_eq!(bounds, vec![(0, 3), (3, 6), (6, 8)]);
        let bounds: Vec<_> = (0..4).map(|b| block_bounds(10, 4, b)).collect();
        assert_eq!(bounds, vec![(0, 3), (3, 6), (6, 8), (8, 10)]);
    }
}
