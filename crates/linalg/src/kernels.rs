//! Slice kernels with deterministic parallel reductions.
//!
//! These functions are the default implementations behind [`Backend`](crate::Backend) and are
//! public so that code holding plain slices can call them directly.
//!
//! # Determinism
//!
//! Every reduction splits its input into fixed chunks of [`CHUNK`] elements, whatever the
//! number of threads. Each chunk is summed sequentially with eight interleaved accumulators
//! (which the compiler turns into SIMD lanes), and the chunk sums are added in index order.
//! Rayon only decides which thread computes which chunk, so a result is bit-identical on
//! 1 thread and on 64. Batch kernels parallelise over gradients or over blocks of
//! coordinates and keep the order of every floating-point sum fixed the same way.
//!
//! # Overflow-safe norms
//!
//! [`norm`] and [`distance`] first sum squares directly. When that sum overflows, or is so
//! small that squaring may have lost precision to underflow, they make a second pass that
//! divides by the largest magnitude first, as the reference BLAS `nrm2` scales. Entries near
//! `1e200` (`f64`) or `1e20` (`f32`) therefore give a finite, accurate norm.

use rayon::prelude::*;

use crate::Scalar;

/// Elements per partial sum in a reduction; fixed so that results never depend on threads.
pub const CHUNK: usize = 1 << 13;

/// Inputs shorter than this are processed on the calling thread (with the same chunking);
/// longer ones are split over rayon's pool in chunks of [`CHUNK`].
pub const PARALLEL_MIN_LEN: usize = 1 << 16;

/// Coordinates per task in the column-blocked batch kernels.
const COORDINATE_BLOCK: usize = 1 << 12;

/// Number of interleaved accumulators in a sequential sum.
const LANES: usize = 8;

/// Sums `chunk_sum(start, end)` over the chunks of `0..len`, adding the chunk sums in
/// index order.
fn chunked_sum<S: Scalar>(len: usize, chunk_sum: impl Fn(usize, usize) -> S + Sync) -> S {
    let chunks = len.div_ceil(CHUNK);
    let bounds = |c: usize| (c * CHUNK, ((c + 1) * CHUNK).min(len));

    if len < PARALLEL_MIN_LEN {
        return (0..chunks).fold(S::zero(), |acc, c| {
            let (start, end) = bounds(c);
            acc + chunk_sum(start, end)
        });
    }

    let partials: Vec<S> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let (start, end) = bounds(c);
            chunk_sum(start, end)
        })
        .collect();
    partials.into_iter().fold(S::zero(), |acc, p| acc + p)
}

/// Adds the [`LANES`] accumulators pairwise, in a fixed order.
#[inline(always)]
fn combine_lanes<S: Scalar>(acc: [S; LANES]) -> S {
    let a = (acc[0] + acc[4]) + (acc[2] + acc[6]);
    let b = (acc[1] + acc[5]) + (acc[3] + acc[7]);
    a + b
}

/// Sums `term(x_k)` over one chunk: element `k` of the chunk goes to accumulator `k % 8`,
/// and the accumulators are combined by [`combine_lanes`].
///
/// The loop runs over fixed-width groups of [`LANES`] elements, so it has no bounds
/// checks and compiles to SIMD code.
#[inline(always)]
fn lane_sum<S: Scalar>(x: &[S], term: impl Fn(S) -> S) -> S {
    let mut acc = [S::zero(); LANES];
    let (groups, rest) = x.as_chunks::<LANES>();
    for group in groups {
        for lane in 0..LANES {
            acc[lane] = acc[lane] + term(group[lane]);
        }
    }
    for (lane, &xk) in rest.iter().enumerate() {
        acc[lane] = acc[lane] + term(xk);
    }
    combine_lanes(acc)
}

/// Sums `term(x_k, y_k)` over one chunk of two slices of equal length, with the
/// accumulators and combination order of [`lane_sum`].
#[inline(always)]
fn lane_sum_pairs<S: Scalar>(x: &[S], y: &[S], term: impl Fn(S, S) -> S) -> S {
    let mut acc = [S::zero(); LANES];
    let (x_groups, x_rest) = x.as_chunks::<LANES>();
    let (y_groups, y_rest) = y.as_chunks::<LANES>();
    for (xs, ys) in x_groups.iter().zip(y_groups) {
        for lane in 0..LANES {
            acc[lane] = acc[lane] + term(xs[lane], ys[lane]);
        }
    }
    for (lane, (&xk, &yk)) in x_rest.iter().zip(y_rest).enumerate() {
        acc[lane] = acc[lane] + term(xk, yk);
    }
    combine_lanes(acc)
}

/// Returns the sum of the elements.
pub fn sum<S: Scalar>(x: &[S]) -> S {
    chunked_sum(x.len(), |s, e| lane_sum(&x[s..e], |v| v))
}

/// Returns the inner product of two slices of equal length.
///
/// # Panics
///
/// Panics if the lengths differ; [`Backend::dot`](crate::Backend::dot) checks them and
/// returns an error instead.
pub fn dot<S: Scalar>(x: &[S], y: &[S]) -> S {
    assert_eq!(x.len(), y.len(), "dot: slices of different lengths");
    chunked_sum(x.len(), |s, e| {
        lane_sum_pairs(&x[s..e], &y[s..e], |a, b| a * b)
    })
}

/// Computes `y += alpha * x`.
///
/// # Panics
///
/// Panics if the lengths differ.
pub fn axpy<S: Scalar>(alpha: S, x: &[S], y: &mut [S]) {
    assert_eq!(x.len(), y.len(), "axpy: slices of different lengths");
    if y.len() < PARALLEL_MIN_LEN {
        for (yi, &xi) in y.iter_mut().zip(x) {
            *yi = *yi + alpha * xi;
        }
        return;
    }
    y.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(yc, xc)| {
            for (yi, &xi) in yc.iter_mut().zip(xc) {
                *yi = *yi + alpha * xi;
            }
        });
}

/// Multiplies every element by `alpha`.
pub fn scale<S: Scalar>(alpha: S, x: &mut [S]) {
    if x.len() < PARALLEL_MIN_LEN {
        for xi in x.iter_mut() {
            *xi = *xi * alpha;
        }
        return;
    }
    x.par_chunks_mut(CHUNK).for_each(|c| {
        for xi in c.iter_mut() {
            *xi = *xi * alpha;
        }
    });
}

/// The terms `t_k` of a Euclidean norm: the entries of `x`, or the differences `x_k - y_k`.
#[derive(Clone, Copy)]
struct Terms<'a, S> {
    x: &'a [S],
    y: Option<&'a [S]>,
}

impl<S: Scalar> Terms<'_, S> {
    /// Returns the sum of `(t_k / divisor)^2` over `start..end`. A divisor of one skips the
    /// division, which would not change any term.
    #[inline]
    fn squares(&self, start: usize, end: usize, divisor: S) -> S {
        let x = &self.x[start..end];
        match (self.y, divisor == S::one()) {
            (None, true) => lane_sum(x, |a| a * a),
            (None, false) => lane_sum(x, |a| {
                let t = a / divisor;
                t * t
            }),
            (Some(y), true) => lane_sum_pairs(x, &y[start..end], |a, b| {
                let t = a - b;
                t * t
            }),
            (Some(y), false) => lane_sum_pairs(x, &y[start..end], |a, b| {
                let t = (a - b) / divisor;
                t * t
            }),
        }
    }

    /// Returns `max |t_k|` over `start..end`, or NaN if a term is NaN.
    #[inline]
    fn max_abs(&self, start: usize, end: usize) -> S {
        let x = &self.x[start..end];
        match self.y {
            None => lane_max(x.iter().map(|a| a.abs())),
            Some(y) => lane_max(x.iter().zip(&y[start..end]).map(|(&a, &b)| (a - b).abs())),
        }
    }
}

/// Returns the largest of the non-negative `values` (0 if there are none), or NaN if any
/// of them is NaN.
#[inline(always)]
fn lane_max<S: Scalar>(values: impl Iterator<Item = S>) -> S {
    let mut max = S::zero();
    for a in values {
        // A NaN stays once taken, because it fails `a > max` for every later `a`.
        if a > max || a.is_nan() {
            max = a;
        }
    }
    max
}

/// Returns the largest `|t_k|`, or NaN if any term is NaN.
fn max_abs<S: Scalar>(terms: Terms<'_, S>) -> S {
    let len = terms.x.len();
    let chunks = len.div_ceil(CHUNK);
    let chunk_max = |c: usize| terms.max_abs(c * CHUNK, ((c + 1) * CHUNK).min(len));
    let fold = |acc: S, m: S| {
        if acc.is_nan() || m.is_nan() {
            S::nan()
        } else if m > acc {
            m
        } else {
            acc
        }
    };
    if len < PARALLEL_MIN_LEN {
        return (0..chunks).map(chunk_max).fold(S::zero(), fold);
    }
    (0..chunks)
        .into_par_iter()
        .map(chunk_max)
        .collect::<Vec<_>>()
        .into_iter()
        .fold(S::zero(), fold)
}

/// Returns `sqrt(sum t_k^2)` without overflow or harmful underflow.
fn scaled_root_sum_squares<S: Scalar>(terms: Terms<'_, S>) -> S {
    let len = terms.x.len();
    let squares = chunked_sum(len, |s, e| terms.squares(s, e, S::one()));

    // Squares are never negative, so NaN here means a NaN entry.
    if squares.is_nan() {
        return squares;
    }
    let underflow_risk = S::min_positive_value() / S::epsilon();
    if squares.is_finite() && squares >= underflow_risk {
        return squares.sqrt();
    }

    // Second pass: divide by the largest magnitude so that every term lies in [0, 1].
    let amax = max_abs(terms);
    if amax.is_nan() || amax.is_infinite() || amax == S::zero() {
        return amax;
    }
    let scaled = chunked_sum(len, |s, e| terms.squares(s, e, amax));
    amax * scaled.sqrt()
}

/// Returns the Euclidean norm, computed without overflow (see the module docs).
///
/// NaN in the input gives NaN; an infinite entry (and no NaN) gives `+inf`. A finite
/// result therefore means that every entry is finite.
pub fn norm<S: Scalar>(x: &[S]) -> S {
    scaled_root_sum_squares(Terms { x, y: None })
}

/// Returns the squared Euclidean norm, with no overflow protection.
pub fn norm_squared<S: Scalar>(x: &[S]) -> S {
    chunked_sum(x.len(), |s, e| lane_sum(&x[s..e], |a| a * a))
}

/// Returns the Euclidean distance `||x - y||`, computed without overflow.
///
/// The result equals [`norm`] of the vector of differences `x_k - y_k`, bit for bit, so a
/// finite result means that every difference is finite.
///
/// # Panics
///
/// Panics if the lengths differ.
pub fn distance<S: Scalar>(x: &[S], y: &[S]) -> S {
    assert_eq!(x.len(), y.len(), "distance: slices of different lengths");
    scaled_root_sum_squares(Terms { x, y: Some(y) })
}

/// Writes the norm of every gradient into `out`; `gradient(i)` returns gradient `i` for
/// `i < out.len()`.
pub fn batch_norms<'a, S, G>(gradient: G, out: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    out.par_iter_mut()
        .enumerate()
        .for_each(|(i, o)| *o = norm(gradient(i)));
}

/// Writes `||g_i - point||` for every gradient into `out`; `gradient(i)` returns gradient
/// `i` for `i < out.len()`.
///
/// # Panics
///
/// Panics if a gradient's length differs from `point.len()`.
pub fn batch_distances<'a, S, G>(gradient: G, point: &[S], out: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    out.par_iter_mut()
        .enumerate()
        .for_each(|(i, o)| *o = distance(gradient(i), point));
}

/// Writes `sum_i weights[i] * g_i` into `out`: the product of the batch, seen as a
/// `dim x count` matrix, with `weights`; `gradient(i)` returns gradient `i` for
/// `i < weights.len()`.
///
/// Each coordinate is summed over the gradients in index order, in blocks of coordinates,
/// so the result does not depend on the number of threads.
///
/// # Panics
///
/// Panics if a gradient is shorter than `out`.
pub fn batch_weighted_sum<'a, S, G>(gradient: G, weights: &[S], out: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    let fill_block = |block: usize, out_block: &mut [S]| {
        let start = block * COORDINATE_BLOCK;
        out_block.fill(S::zero());
        for (i, &w) in weights.iter().enumerate() {
            let g = &gradient(i)[start..start + out_block.len()];
            for (o, &gj) in out_block.iter_mut().zip(g) {
                *o = *o + w * gj;
            }
        }
    };
    if out.len() * weights.len() < PARALLEL_MIN_LEN {
        for (block, out_block) in out.chunks_mut(COORDINATE_BLOCK).enumerate() {
            fill_block(block, out_block);
        }
        return;
    }
    out.par_chunks_mut(COORDINATE_BLOCK)
        .enumerate()
        .for_each(|(block, out_block)| fill_block(block, out_block));
}

/// Bytes of gradients that [`batch_weiszfeld_pass`] aims to keep in cache between reading a
/// group of gradients for their distances and reading them again for the weighted sum.
// NOTE: sized for a last-level cache of 16 MiB or more. The group size changes the speed
// only, never the result. On the machine of docs/benchmarks.md, groups of 1 to 8 gradients
// of 1e5 f64 were slower than the whole batch at once, because each group adds one read and
// one write of `out`.
const WEISZFELD_GROUP_BYTES: usize = 16 << 20;

/// Minimum number of gradients per group, so that the extra traffic on `out` stays below
/// one eighth of the batch's.
const WEISZFELD_MIN_GROUP: usize = 16;

/// Returns the Weiszfeld coefficient `w / max(eps, d)`.
///
/// The coefficient is zero when the weight is not positive, the denominator is zero or the
/// quotient overflows. A NaN distance gives NaN.
#[inline]
pub fn weiszfeld_coefficient<S: Scalar>(weight: S, distance: S, eps: S) -> S {
    if distance.is_nan() {
        return distance;
    }
    let denominator = if distance > eps { distance } else { eps };
    if !(weight > S::zero() && denominator > S::zero()) {
        return S::zero();
    }
    let coefficient = weight / denominator;
    if coefficient.is_finite() {
        coefficient
    } else {
        S::zero()
    }
}

/// Returns `sum (x_i - y_i)^2` over one chunk, with the accumulators and combination order
/// of [`lane_sum`], written over fixed-width slices so that it compiles to SIMD code.
#[inline]
fn squared_distance_chunk<S: Scalar>(x: &[S], y: &[S]) -> S {
    let mut acc = [S::zero(); LANES];
    let (x_lanes, y_lanes) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (x_rest, y_rest) = (x_lanes.remainder(), y_lanes.remainder());
    for (xs, ys) in x_lanes.zip(y_lanes) {
        for lane in 0..LANES {
            let t = xs[lane] - ys[lane];
            acc[lane] = acc[lane] + t * t;
        }
    }
    for (lane, (&xi, &yi)) in x_rest.iter().zip(y_rest).enumerate() {
        let t = xi - yi;
        acc[lane] = acc[lane] + t * t;
    }
    let a = (acc[0] + acc[4]) + (acc[2] + acc[6]);
    let b = (acc[1] + acc[5]) + (acc[3] + acc[7]);
    a + b
}

/// Returns [`distance`]`(x, y)`, bit for bit, with the sum of squares in SIMD code; inputs
/// that need the scaled second pass go to [`distance`] itself.
fn fast_distance<S: Scalar>(x: &[S], y: &[S]) -> S {
    let squares = chunked_sum(x.len(), |s, e| squared_distance_chunk(&x[s..e], &y[s..e]));
    if squares.is_nan() {
        return squares;
    }
    let underflow_risk = S::min_positive_value() / S::epsilon();
    if squares.is_finite() && squares >= underflow_risk {
        return squares.sqrt();
    }
    distance(x, y)
}

/// Runs one Weiszfeld pass over a batch: writes `d_i = ||g_i - point||` into `distances`,
/// `c_i = weiszfeld_coefficient(w_i, d_i, eps)` into `coefficients` and
/// `sum_i c_i g_i` into `out`; `gradient(i)` returns gradient `i` for
/// `i < weights.len()`.
///
/// The gradients are processed in groups of about 16 MiB and at least 16 gradients: the
/// distances of a group are computed first, which reads the group from memory, and then the
/// group is added into `out` while it is still in cache. Each distance equals [`distance`]
/// bit for bit, because its sum of squares keeps the same chunks, lanes and order and only
/// runs over fixed-width slices, which vectorise. Each coordinate of `out` is summed over
/// the gradients in index order from zero. So the outputs are bit-identical to
/// [`batch_distances`], the coefficients computed from them, and [`batch_weighted_sum`], on
/// any number of threads.
///
/// # Panics
///
/// Panics if `distances` or `coefficients` is not as long as `weights`, or a gradient's
/// length differs from `point.len()` or `out.len()`.
pub fn batch_weiszfeld_pass<'a, S, G>(
    gradient: G,
    point: &[S],
    weights: &[S],
    eps: S,
    distances: &mut [S],
    coefficients: &mut [S],
    out: &mut [S],
) where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    let count = weights.len();
    assert_eq!(
        distances.len(),
        count,
        "batch_weiszfeld_pass: distances length"
    );
    assert_eq!(
        coefficients.len(),
        count,
        "batch_weiszfeld_pass: coefficients length"
    );
    assert_eq!(
        point.len(),
        out.len(),
        "batch_weiszfeld_pass: point and out lengths"
    );
    let dim = out.len();
    let gradient_bytes = std::mem::size_of_val(out).max(1);
    let group = (WEISZFELD_GROUP_BYTES / gradient_bytes)
        .clamp(WEISZFELD_MIN_GROUP, count.max(WEISZFELD_MIN_GROUP))
        .min(count.max(1));
    let parallel = dim * count >= PARALLEL_MIN_LEN;

    out.fill(S::zero());
    for start in (0..count).step_by(group) {
        let end = (start + group).min(count);

        // Distances and coefficients of the group: this read brings the group into cache.
        let fill = |(offset, (d, c)): (usize, (&mut S, &mut S))| {
            let i = start + offset;
            *d = fast_distance(gradient(i), point);
            *c = weiszfeld_coefficient(weights[i], *d, eps);
        };
        let group_distances = &mut distances[start..end];
        let group_coefficients = &mut coefficients[start..end];
        if parallel {
            group_distances
                .par_iter_mut()
                .zip(group_coefficients.par_iter_mut())
                .enumerate()
                .for_each(fill);
        } else {
            group_distances
                .iter_mut()
                .zip(group_coefficients.iter_mut())
                .enumerate()
                .for_each(fill);
        }

        // Add the group into the sum, block by block, in gradient order.
        let group_coefficients = &coefficients[start..end];
        let add_block = |block: usize, out_block: &mut [S]| {
            let first = block * COORDINATE_BLOCK;
            for (offset, &c) in group_coefficients.iter().enumerate() {
                let g = &gradient(start + offset)[first..first + out_block.len()];
                for (o, &gj) in out_block.iter_mut().zip(g) {
                    *o = *o + c * gj;
                }
            }
        };
        if parallel {
            out.par_chunks_mut(COORDINATE_BLOCK)
                .enumerate()
                .for_each(|(block, out_block)| add_block(block, out_block));
        } else {
            for (block, out_block) in out.chunks_mut(COORDINATE_BLOCK).enumerate() {
                add_block(block, out_block);
            }
        }
    }
}

/// Writes the Gram matrix `G[i][j] = <g_i, g_j>` of `count` gradients into `out`,
/// row-major, `count x count`; `gradient(i)` returns gradient `i`.
///
/// Each entry is one [`dot`], so the matrix is exactly symmetric and independent of threads.
///
/// # Panics
///
/// Panics if `out.len() != count * count` or the gradients differ in length.
pub fn batch_gram<'a, S, G>(gradient: G, count: usize, out: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    let n = count;
    assert_eq!(out.len(), n * n, "batch_gram: output length");
    if n == 0 {
        return;
    }
    out.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for j in i..n {
            row[j] = dot(gradient(i), gradient(j));
        }
    });
    mirror_upper_triangle(out, n);
}

/// Copies the upper triangle of a row-major `n x n` matrix into its lower triangle, so a
/// Gram matrix computed up to rounding becomes exactly symmetric.
///
/// # Panics
///
/// Panics if `out.len() < n * n`.
pub fn mirror_upper_triangle<S: Copy>(out: &mut [S], n: usize) {
    for i in 0..n {
        for j in 0..i {
            out[i * n + j] = out[j * n + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn norm_of_huge_entries_is_finite() {
        let x = vec![3e200_f64, 4e200];
        assert!((norm(&x) / 5e200 - 1.0).abs() < 4.0 * f64::EPSILON);
        let y = vec![3e20_f32, 4e20];
        assert!((norm(&y) / 5e20 - 1.0).abs() < 4.0 * f32::EPSILON);
    }

    #[test]
    fn norm_of_tiny_entries_keeps_precision() {
        let x = vec![3e-200_f64, 4e-200];
        let n = norm(&x);
        assert!((n / 5e-200 - 1.0).abs() < 1e-15, "{n}");
    }

    #[test]
    fn norm_propagates_nan_and_inf() {
        assert!(norm(&[1.0_f64, f64::NAN, f64::INFINITY]).is_nan());
        assert_eq!(norm(&[1.0_f64, f64::NEG_INFINITY]), f64::INFINITY);
        assert_eq!(norm::<f64>(&[]), 0.0);
        assert_eq!(norm(&[0.0_f32; 5]), 0.0);
    }

    #[test]
    fn distance_of_huge_points_is_finite() {
        let x = [1e200_f64, 0.0];
        let y = [-2e200_f64, 4e200];
        assert!((distance(&x, &y) / 5e200 - 1.0).abs() < 4.0 * f64::EPSILON);
    }

    #[test]
    fn lane_sum_handles_remainders() {
        let x: Vec<f64> = (1..=13).map(f64::from).collect();
        assert_eq!(sum(&x), 91.0);
    }
}
