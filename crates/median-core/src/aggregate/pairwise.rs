//! Helpers shared by the Byzantine-robust rules: input checks, pairwise squared distances
//! from the backend's distance kernel, and the treatment of non-finite and overflowing inputs.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use crate::Error;
use crate::scale::{scale_exponent, scaled_batch};

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
/// An input is *far* when it contains a NaN or an infinity, or when its squared distance to
/// more than half of the other finite inputs overflows (differences beyond about 1.3e154 in
/// `f64`). Every far input is at distance `+inf` from every other input, itself excepted,
/// so no entry is NaN.
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

/// Computes the pairwise squared distances of the batch with
/// [`Backend::batch_squared_distances`], which sums the squared differences directly, so
/// nearly equal points far from the origin keep their digits.
pub(crate) fn pairwise_squared_distances<B: Backend>(
    batch: &B::Batch,
) -> Result<PairwiseDistances<B::Scalar>, Error> {
    let n = B::batch_count(batch);
    let mut squared = vec![B::Scalar::zero(); n * n];
    B::batch_squared_distances(batch, &mut squared)?;
    // A NaN or an infinity in input i makes every D_ij (j != i) NaN or infinite, so with
    // two inputs or more, finite distances prove finite inputs without another pass.
    let finite: Vec<bool> = if n >= 2 && squared.iter().all(|v| v.is_finite()) {
        vec![true; n]
    } else {
        (0..n)
            .map(|i| first_non_finite(B::batch_gradient(batch, i)).is_none())
            .collect()
    };

    let mut far = far_inputs(&squared, &finite);

    // Squares overflow once differences pass about 1.3e154 (1.8e19 in f32) and underflow
    // below about 1e-154. When that happens among the inputs that are not far, their
    // distances tie at +inf or 0 and the rules could no longer tell them apart. Scaling by
    // a power of two keeps every comparison exact, so the finite inputs are then rescaled to
    // entries of magnitude about 1 and measured again.
    let near: Vec<bool> = far.iter().map(|f| !f).collect();
    if let Some(rescaled) = rescaled_distances::<B>(batch, &finite, &near, &squared)? {
        squared = rescaled;
        far = far_inputs(&squared, &finite);
    }
    for i in 0..n {
        for j in 0..n {
            if i != j && (far[i] || far[j] || !squared[i * n + j].is_finite()) {
                squared[i * n + j] = B::Scalar::infinity();
            }
        }
    }
    Ok(PairwiseDistances { n, squared, far })
}

/// Returns which inputs are far: non-finite, or overflowing against more than half of the
/// other finite inputs.
fn far_inputs<S: Scalar>(squared: &[S], finite: &[bool]) -> Vec<bool> {
    let n = finite.len();
    let finite_count = finite.iter().filter(|&&f| f).count();
    (0..n)
        .map(|i| {
            if !finite[i] {
                return true;
            }
            let others = finite_count - 1;
            let overflowing = (0..n)
                .filter(|&j| j != i && finite[j] && squared[i * n + j].is_infinite())
                .count();
            2 * overflowing > others
        })
        .collect()
}

/// Returns the squared distances of the finite inputs scaled by a power of two, with zeros in
/// place of the non-finite inputs, or `None` when no rescaling is needed.
///
/// Rescaling is needed when no two inputs are marked in `near`, when a distance between two
/// of them overflowed, or when all of their distances are small enough to have lost digits
/// to underflow.
///
/// The scale brings the largest finite entry near 1, so no distance overflows (for fewer
/// than about 1e300 coordinates). Multiplying by a power of two is exact, so the scaled
/// distances order the pairs as the exact ones do.
fn rescaled_distances<B: Backend>(
    batch: &B::Batch,
    finite: &[bool],
    near: &[bool],
    squared: &[B::Scalar],
) -> Result<Option<Vec<B::Scalar>>, Error> {
    let n = finite.len();
    if finite.iter().filter(|&&f| f).count() < 2 {
        return Ok(None);
    }
    let largest = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .filter(|&(i, j)| i != j && near[i] && near[j])
        .map(|(i, j)| squared[i * n + j])
        .reduce(B::Scalar::max);
    let underflow_risk = B::Scalar::min_positive_value() / B::Scalar::epsilon();
    if largest.is_some_and(|l| l.is_finite() && l >= underflow_risk) {
        return Ok(None);
    }
    let Some(exponent) = scale_exponent::<B>(batch, |i| finite[i]) else {
        return Ok(None);
    };
    let scaled = scaled_batch::<B>(batch, |i| finite[i], exponent)?;
    let mut rescaled = vec![B::Scalar::zero(); n * n];
    B::batch_squared_distances(&scaled, &mut rescaled)?;
    Ok(Some(rescaled))
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

#[cfg(test)]
mod tests {
    use median_linalg::VecBackend;

    use super::*;

    #[test]
    fn huge_minority_is_far_and_majority_is_not() {
        // 8 honest inputs and 7 copies of 1e300: the honest ones overflow against exactly
        // half of the others, which is not more than half.
        let mut rows: Vec<f64> = (0..8).flat_map(|i| [i as f64, 1.0]).collect();
        rows.extend([1e300; 14]);
        let batch = VecBackend::<f64>::batch_from_rows(&rows, 15, 2).unwrap();
        let distances = pairwise_squared_distances::<VecBackend<f64>>(&batch).unwrap();
        let expected: Vec<bool> = (0..15).map(|i| i >= 8).collect();
        assert_eq!(distances.far, expected);
        assert_eq!(distances.get(0, 1), 1.0);
        assert_eq!(distances.get(8, 9), f64::INFINITY);
    }

    #[test]
    fn overflowing_honest_distances_are_rescaled() {
        // Every honest pair overflows in f32; the scaled distances still single out the
        // attacker at -1e30.
        let rows = [0.0_f32, 2e19, 4e19, 6e19, -1e30];
        let batch = VecBackend::<f32>::batch_from_rows(&rows, 5, 1).unwrap();
        let distances = pairwise_squared_distances::<VecBackend<f32>>(&batch).unwrap();
        assert_eq!(distances.far, vec![false; 5]);
        assert!(distances.get(0, 1) < distances.get(0, 2));
        assert!(distances.get(0, 3) < distances.get(0, 4));
        assert!(distances.get(1, 2) > 0.0);
    }

    #[test]
    fn krum_ignores_attacker_when_honest_distances_overflow() {
        use crate::aggregate::{Aggregator, Krum, MultiKrum};

        type B = VecBackend<f64>;
        let honest = [0.0, 2e154, 4e154, 6e154];
        let batch = B::batch_from_rows(&[0.0, 2e154, 4e154, 6e154, -1e300], 5, 1).unwrap();
        let mut out = [0.0];
        Aggregator::<B>::aggregate_into(&mut Krum::new(1), &batch, &mut out).unwrap();
        assert!(honest.contains(&out[0]), "{out:?}");
        Aggregator::<B>::aggregate_into(&mut MultiKrum::new(1), &batch, &mut out).unwrap();
        assert!((0.0..=6e154).contains(&out[0]), "{out:?}");
    }

    #[test]
    fn underflowing_distances_are_rescaled() {
        let rows = [0.0, 1e-170, 2e-170, 3e-170, -2e-170];
        let batch = VecBackend::<f64>::batch_from_rows(&rows, 5, 1).unwrap();
        let distances = pairwise_squared_distances::<VecBackend<f64>>(&batch).unwrap();
        assert!(distances.get(0, 1) > 0.0);
        assert_eq!(distances.get(0, 2), 4.0 * distances.get(0, 1));
    }

    #[test]
    fn non_finite_input_is_far() {
        let rows = [0.0, 1.0, f64::NAN, 0.0, 2.0, 2.0];
        let batch = VecBackend::<f64>::batch_from_rows(&rows, 3, 2).unwrap();
        let distances = pairwise_squared_distances::<VecBackend<f64>>(&batch).unwrap();
        assert_eq!(distances.far, vec![false, true, false]);
        assert_eq!(distances.get(0, 1), f64::INFINITY);
        assert_eq!(distances.get(0, 2), 5.0);
    }
}
