//! Column-wise machinery shared by the coordinate-wise estimators: a transposed copy of the
//! batch, the NaN policy, and order statistics on one column.
//!
//! The coordinate-wise estimators copy the batch into a scratch buffer column by column
//! (one coordinate's `n` values contiguous), then reduce each column on its own. The
//! median and the quantile do so only for more than 512 gradients, and use the sorting
//! network of the `select` module below that. Both steps run over fixed blocks of
//! [`COLUMN_BLOCK`] coordinates, in parallel with rayon when the batch is large. Each
//! column is reduced by the same sequential code whatever the thread count, so results
//! are deterministic.

use std::cmp::Ordering;
use std::mem::size_of;

use median_linalg::{Backend, Scalar};
use num_traits::Float;
use rayon::prelude::*;

use super::select::{f32_key, f32_key_is_nan, f32_of_key, f64_key, f64_key_is_nan, f64_of_key};
use crate::clip::all_finite;
use crate::{Error, NanPolicy};

/// Coordinates per parallel task.
pub(crate) const COLUMN_BLOCK: usize = 64;

/// Batches with fewer values than this are processed on the calling thread.
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// Orders floats by IEEE 754 `totalOrder`, a total order even with NaN and signed zeros.
#[inline]
pub(crate) fn total_cmp<S: Scalar>(a: &S, b: &S) -> Ordering {
    // Widening to `f64` keeps the order of non-NaN values, but `f32::total_cmp` avoids
    // the conversions (`into_f64` followed by `as f32` compiles to nothing).
    if size_of::<S>() == size_of::<f32>() {
        (a.into_f64() as f32).total_cmp(&(b.into_f64() as f32))
    } else {
        a.into_f64().total_cmp(&b.into_f64())
    }
}

/// Returns the first NaN of the batch in row-major order, as `Error::NonFinite`.
pub(crate) fn first_nan<B: Backend>(batch: &B::Batch) -> Option<Error> {
    first_entry::<B>(batch, |v| v.is_nan())
}

/// Returns the first non-finite value of the batch in row-major order, as
/// `Error::NonFinite`.
pub(crate) fn first_non_finite<B: Backend>(batch: &B::Batch) -> Option<Error> {
    first_entry::<B>(batch, |v| !v.is_finite())
}

/// Returns the first non-finite entry for which `bad` is true, in row-major order, as
/// `Error::NonFinite`.
///
/// Each gradient is first checked by the vectorised, parallel [`all_finite`], so only a
/// gradient that fails it is searched entry by entry.
fn first_entry<B: Backend>(batch: &B::Batch, bad: impl Fn(B::Scalar) -> bool) -> Option<Error> {
    (0..B::batch_count(batch)).find_map(|index| {
        let gradient = B::batch_gradient(batch, index);
        if all_finite(gradient) {
            return None;
        }
        gradient
            .iter()
            .position(|&v| bad(v))
            .map(|coordinate| Error::NonFinite {
                index,
                coordinate,
                value: gradient[coordinate].into_f64(),
            })
    })
}

/// Fills `columns` (resized to `rows * dim` entries) block by block: `fill(start, block)`
/// writes the columns of coordinates `start..start + block.len() / rows`, each of length
/// `rows`, one after another.
///
/// `rows` must be at least 1. The blocks run in parallel when `work`, the number of input
/// values read, is large.
pub(crate) fn fill_columns<T, F>(
    columns: &mut Vec<T>,
    rows: usize,
    dim: usize,
    work: usize,
    zero: T,
    fill: F,
) where
    T: Copy + Send + Sync,
    F: Fn(usize, &mut [T]) + Sync,
{
    debug_assert!(rows > 0);
    columns.clear();
    columns.resize(rows * dim, zero);

    let task = |(block, chunk): (usize, &mut [T])| fill(block * COLUMN_BLOCK, chunk);
    if work < PARALLEL_MIN_VALUES {
        columns
            .chunks_mut(rows * COLUMN_BLOCK)
            .enumerate()
            .for_each(task);
    } else {
        columns
            .par_chunks_mut(rows * COLUMN_BLOCK)
            .enumerate()
            .for_each(task);
    }
}

/// Copies the batch into `columns`, transposed: coordinate `j` of gradient `i` goes to
/// `columns[j * n + i]` as `map(i, value)`.
pub(crate) fn transpose_into<B, T, M>(batch: &B::Batch, columns: &mut Vec<T>, zero: T, map: M)
where
    B: Backend,
    T: Copy + Send + Sync,
    M: Fn(usize, B::Scalar) -> T + Sync,
{
    let n = B::batch_count(batch);
    let dim = B::batch_dim(batch);
    fill_columns(columns, n, dim, n * dim, zero, |start, chunk| {
        let width = chunk.len() / n;
        for i in 0..n {
            let row = &B::batch_gradient(batch, i)[start..start + width];
            for (k, &value) in row.iter().enumerate() {
                chunk[k * n + i] = map(i, value);
            }
        }
    });
}

/// Reduces every column of `columns` (each `rows` long) into `out[j]` with `reduce`,
/// applying the NaN policy first.
///
/// Under [`NanPolicy::Propagate`] a column containing NaN gives NaN without calling
/// `reduce`. Under [`NanPolicy::Skip`] the NaNs are moved out and `reduce` receives the
/// remaining values, and a column with none is [`Error::AllNan`]. Under [`NanPolicy::Error`]
/// the caller has already rejected NaN, so `reduce` receives the whole column. `is_nan`
/// decides which entries count as NaN. On error, the error of the lowest coordinate is
/// returned and `out` is partly written.
pub(crate) fn reduce_columns<S, T, N, R>(
    columns: &mut [T],
    rows: usize,
    out: &mut [S],
    policy: NanPolicy,
    is_nan: N,
    reduce: R,
) -> Result<(), Error>
where
    S: Scalar,
    T: Copy + Send + Sync,
    N: Fn(&T) -> bool + Sync,
    R: Fn(usize, &mut [T]) -> Result<S, Error> + Sync,
{
    let task = |(block, (chunk, out_block)): (usize, (&mut [T], &mut [S]))| {
        let start = block * COLUMN_BLOCK;
        for (k, (column, o)) in chunk.chunks_mut(rows).zip(out_block.iter_mut()).enumerate() {
            let coordinate = start + k;
            let result = match policy {
                NanPolicy::Propagate if column.iter().any(&is_nan) => Ok(S::nan()),
                NanPolicy::Skip => {
                    let valid = move_nan_to_end(column, &is_nan);
                    if valid == 0 {
                        Err(Error::AllNan { coordinate })
                    } else {
                        reduce(coordinate, &mut column[..valid])
                    }
                }
                _ => reduce(coordinate, column),
            };
            match result {
                Ok(value) => *o = value,
                Err(error) => return Some((coordinate, error)),
            }
        }
        None
    };

    let first_error = if columns.len() < PARALLEL_MIN_VALUES {
        columns
            .chunks_mut(rows * COLUMN_BLOCK)
            .zip(out.chunks_mut(COLUMN_BLOCK))
            .enumerate()
            .find_map(task)
    } else {
        columns
            .par_chunks_mut(rows * COLUMN_BLOCK)
            .zip(out.par_chunks_mut(COLUMN_BLOCK))
            .enumerate()
            .filter_map(task)
            .min_by_key(|(coordinate, _)| *coordinate)
    };
    match first_error {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// The transposed batch as `totalOrder` keys: `i64` for `f64`, `i32` for `f32`.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyColumns {
    wide: Vec<i64>,
    narrow: Vec<i32>,
}

/// A reduction of one column given as `totalOrder` keys.
pub(crate) trait KeyedReduce<S>: Sync {
    /// Reduces a non-empty column of keys of non-NaN values, reordering it. `of_key` maps
    /// a key back to its value.
    fn reduce<K: Ord + Copy>(&self, keys: &mut [K], of_key: impl Fn(K) -> S) -> Result<S, Error>;
}

/// Reduces every coordinate of the batch with `reduce` on a transposed copy of its keys,
/// applying the NaN policy as [`reduce_columns`] does.
///
/// Integer keys compare faster than [`total_cmp`] and in the same order, so a selection
/// on the keys moves the values exactly as it would on the floats.
pub(crate) fn reduce_keyed_columns<B, R>(
    batch: &B::Batch,
    keys: &mut KeyColumns,
    out: &mut [B::Scalar],
    policy: NanPolicy,
    reduce: &R,
) -> Result<(), Error>
where
    B: Backend,
    R: KeyedReduce<B::Scalar>,
{
    let n = B::batch_count(batch);
    if size_of::<B::Scalar>() == size_of::<f32>() {
        // `into_f64` is exact, and `as f32` after it compiles to nothing for `f32`.
        let of_key = |key| B::Scalar::of_f64(f64::from(f32_of_key(key)));
        transpose_into::<B, i32, _>(batch, &mut keys.narrow, 0, |_, v| {
            f32_key(v.into_f64() as f32)
        });
        reduce_columns(
            &mut keys.narrow,
            n,
            out,
            policy,
            |key: &i32| f32_key_is_nan(*key),
            |_, column| reduce.reduce(column, of_key),
        )
    } else {
        let of_key = |key| B::Scalar::of_f64(f64_of_key(key));
        transpose_into::<B, i64, _>(batch, &mut keys.wide, 0, |_, v| f64_key(v.into_f64()));
        reduce_columns(
            &mut keys.wide,
            n,
            out,
            policy,
            |key: &i64| f64_key_is_nan(*key),
            |_, column| reduce.reduce(column, of_key),
        )
    }
}

/// Moves the non-NaN entries to the front, keeping their order, and returns their count.
fn move_nan_to_end<T: Copy>(column: &mut [T], is_nan: impl Fn(&T) -> bool) -> usize {
    let mut valid = 0;
    for i in 0..column.len() {
        if !is_nan(&column[i]) {
            column.swap(valid, i);
            valid += 1;
        }
    }
    valid
}

/// Returns the midpoint of `a <= b` without overflow: `(a + b) / 2`, correctly rounded, or
/// `a/2 + b/2` when `a + b` overflows.
pub(crate) fn midpoint<S: Scalar>(a: S, b: S) -> S {
    if a == b {
        return a;
    }
    // The sum rounds once and halving it is exact, so the midpoint is correctly rounded
    // (as `numpy.median` computes it) unless the sum overflows.
    let two = S::of_f64(2.0);
    let sum = a + b;
    if sum.is_finite() {
        sum / two
    } else {
        a / two + b / two
    }
}

/// Returns `a + t (b - a)` for `a <= b` and `t` in `[0, 1]`, without overflow.
pub(crate) fn lerp<S: Scalar>(a: S, b: S, t: S) -> S {
    if a == b || t == S::zero() {
        return a;
    }
    if t == S::one() {
        return b;
    }
    let difference = b - a;
    if difference.is_finite() {
        a + t * difference
    } else {
        (S::one() - t) * a + t * b
    }
}

/// Returns the smallest value of a non-empty slice in the total order.
pub(crate) fn min_total<S: Scalar>(values: &[S]) -> S {
    let mut best = values[0];
    for &v in &values[1..] {
        if total_cmp(&v, &best) == Ordering::Less {
            best = v;
        }
    }
    best
}

/// Returns the largest value of a non-empty slice in the total order.
pub(crate) fn max_total<S: Scalar>(values: &[S]) -> S {
    let mut best = values[0];
    for &v in &values[1..] {
        if total_cmp(&v, &best) == Ordering::Greater {
            best = v;
        }
    }
    best
}

/// Returns the mean of `values` (non-empty): the sum divided by the count, or, when that
/// sum overflows although every value is finite, the sum of `value / count`.
pub(crate) fn mean_of<S: Scalar>(values: &[S]) -> S {
    let count = S::of_usize(values.len());
    let sum: S = values.iter().copied().sum();
    if sum.is_finite() || values.iter().any(|v| !v.is_finite()) {
        return sum / count;
    }
    values.iter().map(|&v| v / count).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midpoint_of_huge_values_is_finite() {
        assert_eq!(midpoint(1e308_f64, 1.5e308), 1.25e308);
        assert_eq!(midpoint(-1.5e308_f64, 1.5e308), 0.0);
        assert_eq!(midpoint(f64::INFINITY, f64::INFINITY), f64::INFINITY);
        assert_eq!(midpoint(f64::NEG_INFINITY, 3.0), f64::NEG_INFINITY);
        assert_eq!(midpoint(3e38_f32, 3.2e38), 3.1e38);
    }

    #[test]
    fn midpoint_of_opposite_signs_is_correctly_rounded() {
        let (a, b) = (f32::from_bits(0xbdfa_27dd), f32::from_bits(0x3dd6_cb6c));
        let exact = (f64::from(a) + f64::from(b)) / 2.0;
        assert_eq!(midpoint(a, b), exact as f32);
    }

    #[test]
    fn lerp_of_huge_values_is_finite() {
        assert_eq!(lerp(-1e308_f64, 1e308, 0.5), 0.0);
        assert_eq!(lerp(1.0_f64, 3.0, 0.25), 1.5);
    }

    #[test]
    fn mean_of_huge_values_is_finite() {
        assert_eq!(mean_of(&[1e308_f64, 1e308]), 1e308);
        assert!(mean_of(&[1.0_f64, f64::NAN]).is_nan());
    }

    #[test]
    fn move_nan_to_end_counts_valid_entries() {
        let mut column = [f64::NAN, 1.0, f64::NAN, 2.0];
        assert_eq!(move_nan_to_end(&mut column, |v| v.is_nan()), 2);
        assert_eq!(&column[..2], &[1.0, 2.0]);
    }
}
