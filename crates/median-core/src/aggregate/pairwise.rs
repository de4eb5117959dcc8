//! Helpers shared by the Byzantine-robust rules: input checks, pairwise squared distances
//! from the backend's Gram kernel, and the treatment of non-finite and overflowing inputs.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, One, Zero};

use crate::Error;

/// Checks that the batch is not empty and that `out_len` is its dimension, and returns
/// `(n, d)`.
pub(crate) fn check_batch<B: Backend>(
    batch: &B::Batch,
    out_len: usize,
) -> Result<(usize, usize), Error> {
    let n = B::batch_count(batch);
    if n == 0 {
        return Err(Error::EmptyBatch);
    }
    let d = B::batch_dim(batch);
    if out_len != d {
        return Err(Error::DimensionMismatch {
            what: "output",
            index: 0,
            expected: d,
            found: out_len,
        });
    }
    Ok((n, d))
}

/// Returns [`Error::InadmissibleByzantineCount`] unless `admissible` holds.
pub(crate) fn check_admissible(
    rule: &'static str,
    condition: &'static str,
    n: usize,
    f: usize,
    admissible: bool,
) -> Result<(), Error> {
    if admissible {
        Ok(())
    } else {
        Err(Error::InadmissibleByzantineCount {
            rule,
            condition,
            n,
            f,
        })
    }
}

/// Returns the first non-finite entry of `g` with its coordinate.
pub(crate) fn first_non_finite<S: Scalar>(g: &[S]) -> Option<(usize, S)> {
    g.iter().copied().enumerate().find(|(_, v)| !v.is_finite())
}

/// Returns [`Error::NonFinite`] for gradient `index` if it contains a NaN or an infinity.
pub(crate) fn check_finite<S: Scalar>(index: usize, g: &[S]) -> Result<(), Error> {
    match first_non_finite(g) {
        None => Ok(()),
        Some((coordinate, value)) => Err(Error::NonFinite {
            index,
            coordinate,
            value: value.into_f64(),
        }),
    }
}

/// Writes the mean of the gradients at `indices` into `out`.
///
/// Each term is divided by the count before it is added, so that the sum of finite inputs
/// cannot overflow. A selected gradient holding a NaN or an infinity is
/// [`Error::NonFinite`].
pub(crate) fn mean_of<B: Backend>(
    batch: &B::Batch,
    indices: &[usize],
    out: &mut [B::Scalar],
) -> Result<(), Error> {
    for &i in indices {
        check_finite(i, B::batch_gradient(batch, i))?;
    }
    let count = B::Scalar::of_usize(indices.len());
    out.fill(B::Scalar::zero());
    for &i in indices {
        for (o, &x) in out.iter_mut().zip(B::batch_gradient(batch, i)) {
            *o = *o + x / count;
        }
    }
    Ok(())
}

/// The pairwise squared distances of a batch, with the inputs that lie infinitely far.
///
/// An input is *far* when it contains a NaN or an infinity, or when its squared distance from
/// the centre overflows (entries near 1e300 in `f64`). Every far input is at distance
/// `+inf` from every other input, itself excepted, so no entry is NaN.
pub(crate) struct PairwiseDistances<S> {
    /// The number of inputs.
    pub(crate) n: usize,
    /// The `n x n` squared distances, row-major, with a zero diagonal.
    pub(crate) squared: Vec<S>,
    /// Whether each input is far.
    pub(crate) far: Vec<bool>,
}

impl<S: Scalar> PairwiseDistances<S> {
    /// Returns the squared distance between inputs `i` and `j`.
    pub(crate) fn get(&self, i: usize, j: usize) -> S {
        self.squared[i * self.n + j]
    }
}

/// Computes the pairwise squared distances of the batch from one Gram matrix product.
///
/// Distances use `||x_i - x_j||^2 = G_ii + G_jj - 2 G_ij`, clamped at zero. The inputs are
/// first centred on the coordinate-wise median of the finite inputs. Without centring, for
/// nearly equal points far from the origin the formula subtracts two large, almost equal
/// numbers and loses every significant digit. After centring, the Gram entries are of the
/// size of the spread of the batch. The median, unlike the mean, is not dragged away by a
/// minority of huge inputs.
pub(crate) fn pairwise_squared_distances<B: Backend>(
    batch: &B::Batch,
) -> Result<PairwiseDistances<B::Scalar>, Error> {
    let n = B::batch_count(batch);
    let d = B::batch_dim(batch);
    let finite: Vec<bool> = (0..n)
        .map(|i| first_non_finite(B::batch_gradient(batch, i)).is_none())
        .collect();
    let centre = finite_coordinate_median::<B>(batch, &finite);

    // Non-finite inputs are replaced by zeros in the centred copy: they are far whatever
    // their Gram entries, and zeros keep NaN out of the product.
    let mut rows = vec![B::Scalar::zero(); n * d];
    for i in 0..n {
        if finite[i] {
            let g = B::batch_gradient(batch, i);
            for k in 0..d {
                rows[i * d + k] = g[k] - centre[k];
            }
        }
    }
    let centred = B::batch_from_rows(&rows, n, d)?;
    let mut gram = vec![B::Scalar::zero(); n * n];
    B::batch_gram(&centred, &mut gram)?;

    let far: Vec<bool> = (0..n)
        .map(|i| !finite[i] || !gram[i * n + i].is_finite())
        .collect();
    let mut squared = vec![B::Scalar::zero(); n * n];
    for i in 0..n {
        for j in 0..n {
            if i == j {
                continue;
            }
            squared[i * n + j] = if far[i] || far[j] {
                B::Scalar::infinity()
            } else {
                let two = B::Scalar::one() + B::Scalar::one();
                let value = gram[i * n + i] + gram[j * n + j] - two * gram[i * n + j];
                if value.is_finite() {
                    value.max(B::Scalar::zero())
                } else {
                    B::Scalar::infinity()
                }
            };
        }
    }
    Ok(PairwiseDistances { n, squared, far })
}

/// Returns the coordinate-wise median of the inputs marked finite (zero if there is none).
fn finite_coordinate_median<B: Backend>(batch: &B::Batch, finite: &[bool]) -> Vec<B::Scalar> {
    let d = B::batch_dim(batch);
    let members: Vec<usize> = (0..finite.len()).filter(|&i| finite[i]).collect();
    let mut centre = vec![B::Scalar::zero(); d];
    if members.is_empty() {
        return centre;
    }
    let mut column = vec![B::Scalar::zero(); members.len()];
    let mid = members.len() / 2;
    for k in 0..d {
        for (slot, &i) in column.iter_mut().zip(&members) {
            *slot = B::batch_gradient(batch, i)[k];
        }
        // Every value is finite, so the total order is the numeric order.
        let (_, upper, _) = column.select_nth_unstable_by(mid, |a, b| total_cmp(*a, *b));
        centre[k] = *upper;
    }
    centre
}

/// A sum of squared distances that counts its infinite terms apart, so that two sums that
/// both include infinite distances still compare by their finite parts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Score<S> {
    /// The number of infinite terms.
    pub(crate) infinite: usize,
    /// The sum of the finite terms.
    pub(crate) finite: S,
}

impl<S: Scalar> Score<S> {
    /// Returns the empty sum.
    pub(crate) fn zero() -> Self {
        Self {
            infinite: 0,
            finite: S::zero(),
        }
    }

    /// Adds one non-negative term.
    pub(crate) fn add(&mut self, term: S) {
        if term.is_infinite() {
            self.infinite += 1;
        } else {
            self.finite = self.finite + term;
        }
    }

    /// Compares two scores: fewer infinite terms first, then the smaller finite sum.
    pub(crate) fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.infinite
            .cmp(&other.infinite)
            .then(total_cmp(self.finite, other.finite))
    }
}

/// Compares two scalars in the IEEE 754 total order, which stays consistent with NaN present.
pub(crate) fn total_cmp<S: Scalar>(a: S, b: S) -> std::cmp::Ordering {
    a.into_f64().total_cmp(&b.into_f64())
}
