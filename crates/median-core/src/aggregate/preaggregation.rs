//! Pre-aggregation steps: nearest-neighbour mixing, bucketing and adaptive robust clipping.
//!
//! Each step maps a batch to a new batch and implements [`PreAggregation`]; a
//! [`PreAggregated`](super::PreAggregated) chain runs steps in front of any
//! [`Aggregator`](super::Aggregator).

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use super::PreAggregation;
use super::pairwise::{check_admissible, pairwise_squared_distances, total_cmp};
use crate::Error;

/// Returns the mean of the rows at `indices`, without checking for non-finite values.
fn mean_rows<B: Backend>(batch: &B::Batch, indices: &[usize], out: &mut [B::Scalar]) {
    let count = B::Scalar::of_usize(indices.len());
    out.fill(B::Scalar::zero());
    for &i in indices {
        for (o, &x) in out.iter_mut().zip(B::batch_gradient(batch, i)) {
            *o = *o + x / count;
        }
    }
}

/// Returns [`Error::EmptyBatch`] for an empty batch.
fn check_not_empty<B: Backend>(batch: &B::Batch) -> Result<usize, Error> {
    match B::batch_count(batch) {
        0 => Err(Error::EmptyBatch),
        n => Ok(n),
    }
}

/// Nearest-neighbour mixing (NNM): replaces each input by the mean of its `n - f` nearest
/// neighbours, itself included.
///
/// Input `i` always counts itself first; the other `n - f - 1` neighbours are the nearest
/// in Euclidean distance, ties to the lowest index. Distances come from one pass of
/// pairwise squared distances (see [`Krum`](super::Krum)).
///
/// - **Admissible counts:** `n > 2f`.
/// - **Cost:** `O(n^2 d + n^2 log n)`.
/// - **Non-finite inputs:** inputs holding NaN or an infinity, or overflowing ones, are
///   infinitely far from the others, so while at most `f` of them are present no finite input
///   mixes with them. Each of them is mixed with itself and stays non-finite or huge, and the
///   rule after the step must handle at most `f` such rows.
///
/// # References
///
/// Y. Allouah, S. Farhadkhani, R. Guerraoui, N. Gupta, R. Pinot, J. Stephan, "Fixing by
/// Mixing: A Recipe for Optimal Byzantine ML under Heterogeneity", AISTATS 2023.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NearestNeighborMixing {
    f: usize,
}

impl NearestNeighborMixing {
    /// Creates the step for `f` Byzantine inputs.
    pub fn new(f: usize) -> Self {
        Self { f }
    }
}

impl<B: Backend> PreAggregation<B> for NearestNeighborMixing {
    fn name(&self) -> String {
        "nnm".to_string()
    }

    /// Returns the mixed batch, with as many inputs as `batch`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`] and [`Error::InadmissibleByzantineCount`] unless `n > 2f`.
    fn apply(&mut self, batch: &B::Batch) -> Result<B::Batch, Error> {
        let n = check_not_empty::<B>(batch)?;
        check_admissible(
            "nearest-neighbour mixing",
            "n > 2f",
            n,
            self.f,
            n > 2 * self.f,
        )?;
        let d = B::batch_dim(batch);
        let distances = pairwise_squared_distances::<B>(batch)?;

        let mut rows = vec![B::Scalar::zero(); n * d];
        let mut order: Vec<usize> = Vec::with_capacity(n);
        for i in 0..n {
            order.clear();
            order.extend((0..n).filter(|&j| j != i));
            order.sort_by(|&a, &b| {
                total_cmp(distances.get(i, a), distances.get(i, b)).then(a.cmp(&b))
            });
            order.truncate(n - self.f - 1);
            order.insert(0, i);
            mean_rows::<B>(batch, &order, &mut rows[i * d..(i + 1) * d]);
        }
        Ok(B::batch_from_rows(&rows, n, d)?)
    }
}

/// Bucketing: shuffles the inputs with a seeded permutation and replaces each bucket of `s`
/// consecutive inputs by its mean.
///
/// The output has `ceil(n / s)` inputs. When `s` does not divide `n`, the last bucket
/// contains the `n mod s` inputs left over, and its mean is over those. `s = 1` only shuffles.
///
/// The permutation is a Fisher-Yates shuffle driven by a SplitMix64 stream seeded with the
/// given seed, so it is the same on every platform and release. The stream advances with
/// each call, so successive calls use different permutations in a reproducible sequence.
///
/// - **Parameters:** the bucket size `s >= 1`, and the seed.
/// - **Effect on f:** at most `f` buckets hold a Byzantine input, out of `ceil(n / s)`, so
///   the rule after bucketing must tolerate `f` among `ceil(n / s)`.
/// - **Cost:** `O(n d)`.
/// - **Non-finite inputs:** passed into their bucket's mean, which is then non-finite.
///
/// # References
///
/// S. P. Karimireddy, L. He, M. Jaggi, "Byzantine-Robust Learning on Heterogeneous Datasets
/// via Bucketing", ICLR 2022.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucketing {
    bucket_size: usize,
    state: u64,
}

impl Bucketing {
    /// Creates bucketing with buckets of `bucket_size` inputs and the permutation seed `seed`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if `bucket_size` is zero.
    pub fn new(bucket_size: usize, seed: u64) -> Result<Self, Error> {
        if bucket_size == 0 {
            return Err(Error::InvalidParameter {
                name: "bucket_size",
                value: 0.0,
                expected: "the bucket size must be at least 1",
            });
        }
        Ok(Self {
            bucket_size,
            state: seed,
        })
    }

    /// Returns the next value of the SplitMix64 stream.
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a uniform integer in `0..bound` (`bound >= 1`), by rejection.
    fn below(&mut self, bound: usize) -> usize {
        let bound = bound as u64;
        let zone = u64::MAX - u64::MAX % bound;
        loop {
            let x = self.next_u64();
            if x < zone {
                return (x % bound) as usize;
            }
        }
    }

    /// Returns the next permutation of `0..n`.
    pub fn next_permutation(&mut self, n: usize) -> Vec<usize> {
        let mut permutation: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = self.below(i + 1);
            permutation.swap(i, j);
        }
        permutation
    }
}

impl<B: Backend> PreAggregation<B> for Bucketing {
    fn name(&self) -> String {
        format!("bucketing-{}", self.bucket_size)
    }

    /// Returns the batch of bucket means.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`].
    fn apply(&mut self, batch: &B::Batch) -> Result<B::Batch, Error> {
        let n = check_not_empty::<B>(batch)?;
        let d = B::batch_dim(batch);
        let permutation = self.next_permutation(n);
        let buckets = n.div_ceil(self.bucket_size);
        let mut rows = vec![B::Scalar::zero(); buckets * d];
        for (b, members) in permutation.chunks(self.bucket_size).enumerate() {
            mean_rows::<B>(batch, members, &mut rows[b * d..(b + 1) * d]);
        }
        Ok(B::batch_from_rows(&rows, buckets, d)?)
    }
}

/// Adaptive robust clipping (ARC): clips the `k` largest-norm inputs to the norm of the
/// `(k + 1)`-th largest, with `k = floor(2 (f / n) (n - f))`.
///
/// Inputs are ranked by norm, largest first, ties to the lowest index; a NaN norm ranks as
/// `+inf`. Each of the first `k` inputs `x` becomes `x * c / ||x||`, where `c` is the norm of
/// the input ranked `k + 1` (`k <= n/2 < n`, so it exists). Norms are overflow-safe, so
/// finite inputs near 1e300 are clipped like any other.
///
/// - **Admissible counts:** `n > 2f`.
/// - **Cost:** `O(n d + n log n)`.
/// - **Non-finite inputs:** an input holding NaN or an infinity has no direction to scale,
///   so it is passed on unchanged, and the rule after the step must handle it.
///
/// # References
///
/// Y. Allouah, R. Guerraoui, N. Gupta, A. Jellouli, G. Rizk, J. Stephan, "Boosting Robustness
/// by Clipping Gradients in Distributed Learning", 2024.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdaptiveClipping {
    f: usize,
}

impl AdaptiveClipping {
    /// Creates ARC for `f` Byzantine inputs.
    pub fn new(f: usize) -> Self {
        Self { f }
    }

    /// Returns the number `k = floor(2 f (n - f) / n)` of inputs clipped among `n`.
    pub fn clipped_count(&self, n: usize) -> usize {
        if n == 0 || self.f >= n {
            return 0;
        }
        2 * self.f * (n - self.f) / n
    }
}

impl<B: Backend> PreAggregation<B> for AdaptiveClipping {
    fn name(&self) -> String {
        "arc".to_string()
    }

    /// Returns the clipped batch, with as many inputs as `batch`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`] and [`Error::InadmissibleByzantineCount`] unless `n > 2f`.
    fn apply(&mut self, batch: &B::Batch) -> Result<B::Batch, Error> {
        let n = check_not_empty::<B>(batch)?;
        check_admissible(
            "adaptive robust clipping",
            "n > 2f",
            n,
            self.f,
            n > 2 * self.f,
        )?;
        let mut out = batch.clone();
        let k = self.clipped_count(n);
        if k == 0 {
            return Ok(out);
        }

        let mut norms = vec![B::Scalar::zero(); n];
        B::batch_norms(batch, &mut norms)?;
        for norm in norms.iter_mut() {
            if norm.is_nan() {
                *norm = B::Scalar::infinity();
            }
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| total_cmp(norms[b], norms[a]).then(a.cmp(&b)));
        let threshold = norms[order[k]];

        for &i in &order[..k] {
            let norm = norms[i];
            if !norm.is_finite() || norm <= threshold {
                continue;
            }
            let factor = threshold / norm;
            for x in B::batch_gradient_mut(&mut out, i) {
                *x = *x * factor;
            }
        }
        Ok(out)
    }
}
