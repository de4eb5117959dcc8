//! Clipping and projection operators on slices, generic over `f32` and `f64`.
//!
//! Each operator exists as an allocating function (`clip_norm`), a write-into-output form
//! (`clip_norm_into`) and, where no scratch space is needed, an in-place form
//! (`clip_norm_in_place`). The online estimators in [`online`](crate::online) are built from
//! these operators: one SPP step moves the estimate by a clipped or projected innovation.
//!
//! | operator | definition |
//! |---|---|
//! | [`clip_norm`] | `min(1, tau/‖v‖₂) v`, the projection onto the L2 ball of radius `tau` |
//! | [`clip_coordinates`] | every coordinate clamped to `[-tau, tau]` (the Linf-ball projection) |
//! | [`clip_coordinates_range`] | every coordinate clamped to `[lo, hi]`, `lo <= 0 <= hi` |
//! | [`project_l1_ball`] | the Euclidean projection onto `{u : ‖u‖₁ <= tau}` |
//! | [`project_linf_ball`] | the Euclidean projection onto `{u : ‖u‖∞ <= tau}` |
//! | [`prox_norm`] | `prox_{tau‖.‖}(v) = v - P(v)`, with `P` the projection onto the dual-norm ball |
//!
//! # Contract shared by every operator
//!
//! - A threshold (radius) must be `>= 0` and not NaN, or the call returns
//!   [`Error::InvalidParameter`] naming it. A negative threshold is never used, so it cannot
//!   flip the sign of a gradient.
//! - A threshold of `+inf` is the identity: the output equals the input bit for bit.
//! - The zero vector maps to the zero vector for every threshold, `0` included: no `0/0`.
//!   A threshold of `0` maps every vector to zero.
//! - An input with a NaN or infinite entry returns [`Error::NonFinite`] with its coordinate
//!   (and `index` 0). Nothing is rescaled and, for in-place forms, the input is unchanged.
//!   The clamping `_into` forms check the input while they write, so their output is then
//!   partly written.
//! - An output slice of the wrong length returns [`Error::DimensionMismatch`] with `what`
//!   set to `"output"`, before anything is written.
//! - An input already inside the ball is returned unchanged, bit for bit.
//!
//! # Norms and the Moreau decomposition
//!
//! The [`Norm`] trait describes a norm through its dual-norm ball: for any norm,
//! `prox_{tau‖.‖}(v) = v - P_{tau B*}(v)` where `B*` is the unit ball of the dual norm
//! (Moreau's decomposition). [`L1Norm`], [`L2Norm`] and [`LinfNorm`] are built in; a user
//! adds a norm by implementing [`Norm::project_dual_ball`].
//!
//! # References
//!
//! - J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra, "Efficient projections onto the
//!   l1-ball for learning in high dimensions", ICML 2008 (the randomised-pivot projection
//!   used by [`project_l1_ball`]).
//! - L. Condat, "Fast projection onto the simplex and the l1 ball", Mathematical
//!   Programming 158, 2016.
//! - N. Parikh, S. Boyd, "Proximal Algorithms", Foundations and Trends in Optimization 1(3),
//!   2014 (the proximal operator of a norm through the dual-norm ball).

use median_linalg::Scalar;
use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use rayon::prelude::*;

use crate::Error;

const THRESHOLD_RANGE: &str = "must be >= 0 and not NaN (+inf disables clipping)";

/// Checks that a threshold is `>= 0` and not NaN; `+inf` is allowed.
pub(crate) fn check_threshold<S: Scalar>(name: &'static str, value: S) -> Result<(), Error> {
    if value.is_nan() || value < S::zero() {
        return Err(Error::InvalidParameter {
            name,
            value: value.into_f64(),
            expected: THRESHOLD_RANGE,
        });
    }
    Ok(())
}

/// Checks that every entry of `v` is finite, naming the first one that is not.
pub(crate) fn check_finite<S: Scalar>(v: &[S], index: usize) -> Result<(), Error> {
    if all_finite(v) {
        return Ok(());
    }
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(coordinate) => Err(Error::NonFinite {
            index,
            coordinate,
            value: v[coordinate].into_f64(),
        }),
    }
}

/// Returns whether every entry of `v` is finite, in chunks of [`CHUNK`] entries, in
/// parallel for long slices.
pub(crate) fn all_finite<S: Scalar>(v: &[S]) -> bool {
    if v.len() < PARALLEL_MIN_LEN {
        return v.chunks(CHUNK).all(finite_chunk);
    }
    v.par_chunks(CHUNK).all(finite_chunk)
}

/// Returns `x - x`: zero for a finite `x`, NaN for an infinite or NaN one.
///
/// A sum of these is zero exactly when every term is finite, and unlike a comparison with
/// an early exit, it compiles to SIMD code.
#[inline(always)]
#[allow(clippy::eq_op)] // NOTE: subtracting x from itself is intended, for its NaN at ±inf.
fn non_finite_marker<S: Scalar>(x: S) -> S {
    x - x
}

/// Returns whether every entry of one chunk is finite, summing [`non_finite_marker`] over
/// eight accumulators with no early exit.
#[inline]
fn finite_chunk<S: Scalar>(v: &[S]) -> bool {
    let mut acc = [S::zero(); 8];
    let (groups, rest) = v.as_chunks::<8>();
    for group in groups {
        for lane in 0..8 {
            acc[lane] = acc[lane] + non_finite_marker(group[lane]);
        }
    }
    let rest_ok = rest.iter().all(|x| x.is_finite());
    rest_ok && acc.iter().all(|&a| a == S::zero())
}

/// Runs `op` on matching chunks of [`CHUNK`] entries of `input` and `output`, of equal
/// length, in parallel for long slices. Each entry depends on its own chunk only, so the
/// result does not depend on the number of threads.
fn zip_chunks<S: Scalar>(input: &[S], output: &mut [S], op: impl Fn(&[S], &mut [S]) + Sync) {
    if output.len() < PARALLEL_MIN_LEN {
        op(input, output);
        return;
    }
    output
        .par_chunks_mut(CHUNK)
        .zip(input.par_chunks(CHUNK))
        .for_each(|(out, v)| op(v, out));
}

/// Copies `input` into `output`, of equal length, in parallel for long slices.
pub(crate) fn copy_into<S: Scalar>(input: &[S], output: &mut [S]) {
    zip_chunks(input, output, |v, out| out.copy_from_slice(v));
}

/// Checks that an output slice has the input's length.
fn check_output(expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        return Ok(());
    }
    Err(Error::DimensionMismatch {
        what: "output",
        index: 0,
        expected,
        found,
    })
}

// ---------------------------------------------------------------------------------------
// L2 norm clipping
// ---------------------------------------------------------------------------------------

/// Clips `v` to Euclidean norm at most `max_norm`: `min(1, max_norm/‖v‖₂) v`.
///
/// This is the Euclidean projection onto the L2 ball of radius `max_norm`. The norm is
/// computed without overflow ([`kernels::norm`]), and a vector whose norm overflows
/// (finite entries near the largest float) is still scaled correctly.
///
/// Cost: two passes over `v` (three when the norm overflows).
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `max_norm` is negative or NaN, [`Error::NonFinite`] if
/// `v` has a NaN or infinite entry.
///
/// # Examples
///
/// ```
/// use median_core::clip::clip_norm;
///
/// assert_eq!(clip_norm(&[6.0, 8.0], 5.0)?, vec![3.0, 4.0]);
/// assert_eq!(clip_norm(&[3.0, 4.0], 10.0)?, vec![3.0, 4.0]);
/// assert_eq!(clip_norm(&[3.0, 4.0], 0.0)?, vec![0.0, 0.0]);
/// assert!(clip_norm(&[3.0, 4.0], -1.0).is_err());
/// assert!(clip_norm(&[1.0, f64::INFINITY], 1.0).is_err());
/// # Ok::<(), median_core::Error>(())
/// ```
pub fn clip_norm<S: Scalar>(v: &[S], max_norm: S) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    clip_norm_into(v, max_norm, &mut out)?;
    Ok(out)
}

/// Writes `min(1, max_norm/‖v‖₂) v` into `out` and returns `‖v‖₂`, the norm before
/// clipping (`+inf` if it overflows).
///
/// Cost: one pass that reads `v` for its norm, and one that reads `v` and writes `out`.
///
/// # Errors
///
/// As [`clip_norm`], plus [`Error::DimensionMismatch`] if `out.len() != v.len()`.
pub fn clip_norm_into<S: Scalar>(v: &[S], max_norm: S, out: &mut [S]) -> Result<S, Error> {
    check_threshold("max_norm", max_norm)?;

    // A finite norm means finite entries, so only a vector with an infinite norm (an
    // infinite or NaN entry, or finite entries near the largest float) is scanned again.
    let norm = kernels::norm(v);
    if !norm.is_finite() {
        check_finite(v, 0)?;
    }
    check_output(v.len(), out.len())?;

    write_clipped(v, norm, max_norm, out);
    Ok(norm)
}

/// Clips `v` in place to Euclidean norm at most `max_norm` and returns `‖v‖₂` before
/// clipping (`+inf` if it overflows).
///
/// # Errors
///
/// As [`clip_norm`]; `v` is then unchanged.
pub fn clip_norm_in_place<S: Scalar>(v: &mut [S], max_norm: S) -> Result<S, Error> {
    check_threshold("max_norm", max_norm)?;

    let norm = kernels::norm(v);
    if !norm.is_finite() {
        check_finite(v, 0)?;
    }
    rescale_to_norm(v, norm, max_norm);
    Ok(norm)
}

/// Clips finite `v` in place to norm `max_norm >= 0` and returns its norm before clipping.
pub(crate) fn clip_norm_unchecked<S: Scalar>(v: &mut [S], max_norm: S) -> S {
    let norm = kernels::norm(v);
    rescale_to_norm(v, norm, max_norm);
    norm
}

/// Writes finite `v`, whose Euclidean norm is `norm`, clipped to norm `max_norm >= 0` into
/// `out` of the same length, reading `v` once.
fn write_clipped<S: Scalar>(v: &[S], norm: S, max_norm: S, out: &mut [S]) {
    if norm.is_finite() && norm > max_norm && max_norm > S::zero() {
        let factor = max_norm / norm;
        zip_chunks(v, out, |v, out| {
            for (o, &x) in out.iter_mut().zip(v) {
                *o = x * factor;
            }
        });
    } else {
        copy_into(v, out);
        rescale_to_norm(out, norm, max_norm);
    }
}

/// Clips finite `v`, whose Euclidean norm is `norm`, in place to norm `max_norm >= 0`.
fn rescale_to_norm<S: Scalar>(v: &mut [S], norm: S, max_norm: S) {
    // `<=` keeps the zero vector (norm 0, threshold 0) out of the rescaling branch.
    if norm <= max_norm {
        return;
    }
    if max_norm == S::zero() {
        v.fill(S::zero());
        return;
    }
    if norm.is_finite() {
        kernels::scale(max_norm / norm, v);
        return;
    }

    // The norm overflows although every entry is finite: rescale by the largest magnitude,
    // after which the norm is at most sqrt(len).
    // Dividing (rather than multiplying by 1/amax, which is subnormal for f32) keeps full
    // precision.
    let amax = v.iter().fold(S::zero(), |acc, x| acc.max(x.abs()));
    for x in v.iter_mut() {
        *x = *x / amax;
    }
    let scaled_norm = kernels::norm(v);
    kernels::scale(max_norm / scaled_norm, v);
}

// ---------------------------------------------------------------------------------------
// Coordinate clipping
// ---------------------------------------------------------------------------------------

/// Clamps every coordinate of `v` to `[-tau, tau]`.
///
/// This is the Euclidean projection onto the Linf ball of radius `tau` (see also
/// [`project_linf_ball`]). Coordinates inside the interval are copied unchanged.
///
/// Cost: one pass over `v`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `tau` is negative or NaN, [`Error::NonFinite`] if `v` has
/// a NaN or infinite entry.
///
/// # Examples
///
/// ```
/// use median_core::clip::clip_coordinates;
///
/// assert_eq!(clip_coordinates(&[3.0, -0.5, -4.0], 1.0)?, vec![1.0, -0.5, -1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub fn clip_coordinates<S: Scalar>(v: &[S], tau: S) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    clip_coordinates_into(v, tau, &mut out)?;
    Ok(out)
}

/// Writes `v` with every coordinate clamped to `[-tau, tau]` into `out`.
///
/// # Errors
///
/// As [`clip_coordinates`], plus [`Error::DimensionMismatch`] if `out.len() != v.len()`.
/// After [`Error::NonFinite`], `out` may be partly written.
pub fn clip_coordinates_into<S: Scalar>(v: &[S], tau: S, out: &mut [S]) -> Result<(), Error> {
    check_threshold("tau", tau)?;
    clamp_into(v, -tau, tau, out)
}

/// Clamps every coordinate of `v` to `[-tau, tau]` in place.
///
/// # Errors
///
/// As [`clip_coordinates`]; `v` is then unchanged.
pub fn clip_coordinates_in_place<S: Scalar>(v: &mut [S], tau: S) -> Result<(), Error> {
    check_threshold("tau", tau)?;
    check_finite(v, 0)?;

    clamp_unchecked(v, -tau, tau);
    Ok(())
}

/// Clamps every coordinate of `v` to the asymmetric interval `[lo, hi]`, with
/// `lo <= 0 <= hi`.
///
/// This is the Euclidean projection onto the box `[lo, hi]^d`, which contains 0, so the
/// zero vector stays zero. The quantile tracker steps by this operator with
/// `lo = -tau (1 - q)` and `hi = tau q`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `lo` is positive or NaN (`-inf` is allowed) or `hi` is
/// negative or NaN (`+inf` is allowed); [`Error::NonFinite`] if `v` has a NaN or infinite
/// entry.
///
/// # Examples
///
/// ```
/// use median_core::clip::clip_coordinates_range;
///
/// assert_eq!(clip_coordinates_range(&[3.0, -3.0], -1.0, 2.0)?, vec![2.0, -1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
pub fn clip_coordinates_range<S: Scalar>(v: &[S], lo: S, hi: S) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    clip_coordinates_range_into(v, lo, hi, &mut out)?;
    Ok(out)
}

/// Writes `v` with every coordinate clamped to `[lo, hi]` into `out`.
///
/// # Errors
///
/// As [`clip_coordinates_range`], plus [`Error::DimensionMismatch`] if
/// `out.len() != v.len()`. After [`Error::NonFinite`], `out` may be partly written.
pub fn clip_coordinates_range_into<S: Scalar>(
    v: &[S],
    lo: S,
    hi: S,
    out: &mut [S],
) -> Result<(), Error> {
    check_range(lo, hi)?;
    clamp_into(v, lo, hi, out)
}

/// Clamps every coordinate of `v` to `[lo, hi]` in place.
///
/// # Errors
///
/// As [`clip_coordinates_range`]; `v` is then unchanged.
pub fn clip_coordinates_range_in_place<S: Scalar>(v: &mut [S], lo: S, hi: S) -> Result<(), Error> {
    check_range(lo, hi)?;
    check_finite(v, 0)?;

    clamp_unchecked(v, lo, hi);
    Ok(())
}

/// Checks `lo <= 0 <= hi`, neither NaN.
fn check_range<S: Scalar>(lo: S, hi: S) -> Result<(), Error> {
    if lo.is_nan() || lo > S::zero() {
        return Err(Error::InvalidParameter {
            name: "lo",
            value: lo.into_f64(),
            expected: "must be <= 0 and not NaN (-inf disables the lower bound)",
        });
    }
    check_threshold("hi", hi)
}

/// Clamps every coordinate to `[lo, hi]`; coordinates inside are left untouched, so that
/// their bits (including the sign of zero) are kept.
pub(crate) fn clamp_unchecked<S: Scalar>(v: &mut [S], lo: S, hi: S) {
    if v.len() < PARALLEL_MIN_LEN {
        clamp_chunk_in_place(v, lo, hi);
        return;
    }
    v.par_chunks_mut(CHUNK)
        .for_each(|chunk| clamp_chunk_in_place(chunk, lo, hi));
}

/// Returns `x` clamped to `[lo, hi]` for `lo <= hi`, or `x` itself when it lies inside.
///
/// Two selects with no branch, so that loops over it compile to SIMD code.
#[inline(always)]
fn clamp_value<S: Scalar>(x: S, lo: S, hi: S) -> S {
    let below_hi = if x > hi { hi } else { x };
    if below_hi < lo { lo } else { below_hi }
}

/// Clamps every coordinate of one chunk to `[lo, hi]`.
fn clamp_chunk_in_place<S: Scalar>(v: &mut [S], lo: S, hi: S) {
    for x in v.iter_mut() {
        *x = clamp_value(*x, lo, hi);
    }
}

/// Writes `v` clamped to `[lo, hi]` into `out` in one pass over both, checking `v` for
/// NaN and infinite entries on the way.
///
/// Returns [`Error::NonFinite`] for the first non-finite entry of `v`, with `out` then
/// partly written, and [`Error::DimensionMismatch`] for an output of the wrong length,
/// before anything is written (a non-finite input is reported first).
fn clamp_into<S: Scalar>(v: &[S], lo: S, hi: S, out: &mut [S]) -> Result<(), Error> {
    if out.len() != v.len() {
        check_finite(v, 0)?;
        return check_output(v.len(), out.len());
    }

    let clamp_chunk = |v: &[S], out: &mut [S]| {
        let mut acc = [S::zero(); 8];
        let (v_groups, v_rest) = v.as_chunks::<8>();
        let (out_groups, out_rest) = out.as_chunks_mut::<8>();
        for (vs, os) in v_groups.iter().zip(out_groups) {
            for lane in 0..8 {
                let x = vs[lane];
                acc[lane] = acc[lane] + non_finite_marker(x);
                os[lane] = clamp_value(x, lo, hi);
            }
        }
        for (o, &x) in out_rest.iter_mut().zip(v_rest) {
            acc[0] = acc[0] + non_finite_marker(x);
            *o = clamp_value(x, lo, hi);
        }
        acc.iter().all(|&a| a == S::zero())
    };
    let finite = if v.len() < PARALLEL_MIN_LEN {
        clamp_chunk(v, out)
    } else {
        out.par_chunks_mut(CHUNK)
            .zip(v.par_chunks(CHUNK))
            .map(|(out, v)| clamp_chunk(v, out))
            .reduce(|| true, |a, b| a && b)
    };
    if !finite {
        check_finite(v, 0)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Ball projections
// ---------------------------------------------------------------------------------------

/// Projects `v` onto the Linf ball of radius `radius`: every coordinate clamped to
/// `[-radius, radius]`.
///
/// The same operator as [`clip_coordinates`], under the name of the projection; errors
/// name the parameter `"radius"`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `radius` is negative or NaN, [`Error::NonFinite`] if `v`
/// has a NaN or infinite entry.
pub fn project_linf_ball<S: Scalar>(v: &[S], radius: S) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    project_linf_ball_into(v, radius, &mut out)?;
    Ok(out)
}

/// Writes the projection of `v` onto the Linf ball of radius `radius` into `out`.
///
/// # Errors
///
/// As [`project_linf_ball`], plus [`Error::DimensionMismatch`] if `out.len() != v.len()`.
/// After [`Error::NonFinite`], `out` may be partly written.
pub fn project_linf_ball_into<S: Scalar>(v: &[S], radius: S, out: &mut [S]) -> Result<(), Error> {
    check_threshold("radius", radius)?;
    clamp_into(v, -radius, radius, out)
}

/// Projects `v` onto the Linf ball of radius `radius` in place.
///
/// # Errors
///
/// As [`project_linf_ball`]; `v` is then unchanged.
pub fn project_linf_ball_in_place<S: Scalar>(v: &mut [S], radius: S) -> Result<(), Error> {
    check_threshold("radius", radius)?;
    check_finite(v, 0)?;

    clamp_unchecked(v, -radius, radius);
    Ok(())
}

/// Projects `v` onto the L1 ball of radius `radius`: the closest point in Euclidean
/// distance among `{u : ‖u‖₁ <= radius}`.
///
/// If `‖v‖₁ <= radius` the result is `v`. Otherwise it is the soft-thresholded vector
/// `sign(v_i) max(|v_i| - theta, 0)`, where `theta > 0` solves
/// `sum_i max(|v_i| - theta, 0) = radius`. The threshold `theta` is found by the
/// randomised-pivot method of Duchi et al. (2008): each round partitions the remaining
/// magnitudes around a pivot and keeps one side, so the expected cost is linear in `d`
/// (no full sort). The pivot sequence comes from a fixed internal generator, so results
/// are deterministic.
///
/// Accuracy: the output is computed as `|v_i| - theta`, so its absolute error is of the
/// order of `eps max_i |v_i|`. When `radius` is far below that (a radius of 3 for entries
/// near `1e300`, say) the result is only accurate relative to the input's scale.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `radius` is negative or NaN, [`Error::NonFinite`] if `v`
/// has a NaN or infinite entry.
///
/// # Examples
///
/// ```
/// use median_core::clip::project_l1_ball;
///
/// // theta = 1: [3 - 1, 1 - 1, -2 + 1] has L1 norm 3.
/// assert_eq!(project_l1_ball(&[3.0, 1.0, -2.0], 3.0)?, vec![2.0, 0.0, -1.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// J. Duchi, S. Shalev-Shwartz, Y. Singer, T. Chandra, "Efficient projections onto the
/// l1-ball for learning in high dimensions", ICML 2008; L. Condat, "Fast projection onto
/// the simplex and the l1 ball", Mathematical Programming 158, 2016.
pub fn project_l1_ball<S: Scalar>(v: &[S], radius: S) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    project_l1_ball_into(v, radius, &mut out)?;
    Ok(out)
}

/// Writes the projection of `v` onto the L1 ball of radius `radius` into `out`, using
/// `out` as scratch space (no allocation).
///
/// # Errors
///
/// As [`project_l1_ball`], plus [`Error::DimensionMismatch`] if `out.len() != v.len()`.
pub fn project_l1_ball_into<S: Scalar>(v: &[S], radius: S, out: &mut [S]) -> Result<(), Error> {
    check_threshold("radius", radius)?;
    check_finite(v, 0)?;
    check_output(v.len(), out.len())?;

    project_l1_ball_unchecked(v, radius, out);
    Ok(())
}

/// Writes the L1-ball projection of finite `v` into `out` (same length), `radius >= 0`.
pub(crate) fn project_l1_ball_unchecked<S: Scalar>(v: &[S], radius: S, out: &mut [S]) {
    if radius == S::infinity() {
        out.copy_from_slice(v);
        return;
    }
    for (o, x) in out.iter_mut().zip(v) {
        *o = x.abs();
    }
    let l1 = out.iter().fold(S::zero(), |acc, &a| acc + a);
    if l1 <= radius {
        out.copy_from_slice(v);
        return;
    }
    if radius == S::zero() {
        out.fill(S::zero());
        return;
    }

    // When the L1 norm overflows, search for theta on magnitudes divided by the largest one.
    let theta = if l1.is_finite() {
        l1_threshold(out, radius)
    } else {
        let amax = out.iter().fold(S::zero(), |acc, &a| acc.max(a));
        for a in out.iter_mut() {
            *a = *a / amax;
        }
        amax * l1_threshold(out, radius / amax)
    };

    for (o, &x) in out.iter_mut().zip(v) {
        *o = (x.abs() - theta).max(S::zero()).copysign(x);
    }
}

/// Returns `theta >= 0` with `sum_i max(a_i - theta, 0) = radius`, for magnitudes `a` with
/// `sum a > radius > 0`. Permutes `a`.
///
/// Randomised pivot (Duchi et al. 2008): the active window `a[lo..hi]` contains the
/// magnitudes not yet classified, and `sum_above` and `count_above` cover the magnitudes known
/// to lie above theta.
fn l1_threshold<S: Scalar>(a: &mut [S], radius: S) -> S {
    let mut rng = PivotRng::new(a.len());
    let (mut lo, mut hi) = (0, a.len());
    let mut sum_above = S::zero();
    let mut count_above = 0usize;

    while lo < hi {
        // Move a random pivot to the front of the window, then partition the rest so that
        // a[lo..mid] contains the magnitudes >= pivot, pivot first.
        let k = lo + rng.below(hi - lo);
        a.swap(lo, k);
        let pivot = a[lo];
        let mut mid = lo + 1;
        let mut partial_sum = pivot;
        for j in lo + 1..hi {
            if a[j] >= pivot {
                partial_sum = partial_sum + a[j];
                a.swap(mid, j);
                mid += 1;
            }
        }
        let partial_count = mid - lo;

        // If theta were the pivot, the magnitudes >= pivot would exceed it by less than
        // `radius`: they all lie above theta, so classify them and search below the pivot.
        let excess = (sum_above + partial_sum) - S::of_usize(count_above + partial_count) * pivot;
        if excess < radius {
            sum_above = sum_above + partial_sum;
            count_above += partial_count;
            lo = mid;
        } else {
            lo += 1;
            hi = mid;
        }
    }

    // count_above >= 1: the largest magnitude always passes the test above (excess 0).
    ((sum_above - radius) / S::of_usize(count_above)).max(S::zero())
}

/// A small xorshift generator for pivot choice; seeded from the length so that every call
/// is deterministic.
struct PivotRng(u64);

impl PivotRng {
    fn new(len: usize) -> Self {
        Self(0x9E37_79B9_7F4A_7C15 ^ (len as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9) | 1)
    }

    /// Returns a value in `0..n`, for `n >= 1`.
    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x % n as u64) as usize
    }
}

// ---------------------------------------------------------------------------------------
// Norms, dual balls and the prox of a norm
// ---------------------------------------------------------------------------------------

/// A norm on `R^d`, described by the Euclidean projection onto its dual-norm ball.
///
/// The dual norm is `‖y‖* = max { <x, y> : ‖x‖ <= 1 }`. Moreau's decomposition gives the
/// proximal operator of the scaled norm from that projection:
/// `prox_{tau‖.‖}(v) = v - P_{tau B*}(v)`, where `B*` is the dual unit ball. The SPP step
/// for the norm median moves the estimate by `P_{tau B*}(g - m)`
/// ([`NormMedianTracker`](crate::online::NormMedianTracker)).
///
/// To add a norm, implement the three methods. The callers in this crate validate their
/// inputs before calling [`project_dual_ball`](Norm::project_dual_ball).
///
/// # Examples
///
/// A weighted L2 norm `‖x‖ = sqrt(sum w_i x_i^2)` with equal weights `w` is `sqrt(w)`
/// times the L2 norm. Its dual norm is the L2 norm divided by `sqrt(w)`, so the dual ball
/// of radius `r` is the L2 ball of radius `r sqrt(w)`:
///
/// ```
/// use median_core::clip::{Norm, prox_norm};
/// use median_linalg::kernels;
///
/// struct ScaledL2(f64);
///
/// impl Norm<f64> for ScaledL2 {
///     fn norm(&self, v: &[f64]) -> f64 {
///         self.0.sqrt() * kernels::norm(v)
///     }
///     fn dual_norm(&self, v: &[f64]) -> f64 {
///         kernels::norm(v) / self.0.sqrt()
///     }
///     fn project_dual_ball(&self, v: &[f64], radius: f64, out: &mut [f64]) {
///         let r = radius * self.0.sqrt();
///         let n = kernels::norm(v);
///         let factor = if n <= r { 1.0 } else { r / n };
///         for (o, x) in out.iter_mut().zip(v) {
///             *o = x * factor;
///         }
///     }
/// }
///
/// // The prox of 4‖.‖₂ at [6, 8] shrinks the norm 10 by 4 * sqrt(4) = 8.
/// let p = prox_norm(&ScaledL2(4.0), &[6.0, 8.0], 4.0)?;
/// assert!((p[0] - 1.2).abs() < 1e-12 && (p[1] - 1.6).abs() < 1e-12);
/// # Ok::<(), median_core::Error>(())
/// ```
pub trait Norm<S: Scalar> {
    /// Returns `‖v‖`.
    fn norm(&self, v: &[S]) -> S;

    /// Returns the dual norm `‖v‖*`.
    fn dual_norm(&self, v: &[S]) -> S;

    /// Writes the Euclidean projection of `v` onto the dual-norm ball of radius `radius`
    /// into `out`.
    ///
    /// Callers guarantee that every entry of `v` is finite, that `out.len() == v.len()`
    /// and that `radius` is `>= 0` and not NaN (it may be `+inf`). An implementation
    /// should copy `v` unchanged when `‖v‖* <= radius`, so that an SPP step whose
    /// projection is inactive lands exactly on the gradient, and should not allocate,
    /// because the online estimators call it on every update.
    fn project_dual_ball(&self, v: &[S], radius: S, out: &mut [S]);
}

/// The L1 norm `sum_i |v_i|`; its dual is the Linf norm, so its dual ball is a box.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Norm;

/// The Euclidean norm; it is its own dual.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L2Norm;

/// The Linf norm `max_i |v_i|`; its dual is the L1 norm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinfNorm;

impl<S: Scalar> Norm<S> for L1Norm {
    fn norm(&self, v: &[S]) -> S {
        v.iter().fold(S::zero(), |acc, x| acc + x.abs())
    }

    fn dual_norm(&self, v: &[S]) -> S {
        linf(v)
    }

    fn project_dual_ball(&self, v: &[S], radius: S, out: &mut [S]) {
        out.copy_from_slice(v);
        clamp_unchecked(out, -radius, radius);
    }
}

impl<S: Scalar> Norm<S> for L2Norm {
    fn norm(&self, v: &[S]) -> S {
        kernels::norm(v)
    }

    fn dual_norm(&self, v: &[S]) -> S {
        kernels::norm(v)
    }

    fn project_dual_ball(&self, v: &[S], radius: S, out: &mut [S]) {
        write_clipped(v, kernels::norm(v), radius, out);
    }
}

impl<S: Scalar> Norm<S> for LinfNorm {
    fn norm(&self, v: &[S]) -> S {
        linf(v)
    }

    fn dual_norm(&self, v: &[S]) -> S {
        v.iter().fold(S::zero(), |acc, x| acc + x.abs())
    }

    fn project_dual_ball(&self, v: &[S], radius: S, out: &mut [S]) {
        project_l1_ball_unchecked(v, radius, out);
    }
}

/// Returns `max_i |v_i|` (0 for an empty slice).
fn linf<S: Scalar>(v: &[S]) -> S {
    v.iter().fold(S::zero(), |acc, x| acc.max(x.abs()))
}

/// Writes the Euclidean projection of `v` onto the ball of radius `radius` of `norm`'s
/// dual norm into `out`.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `radius` is negative or NaN, [`Error::NonFinite`] if `v`
/// has a NaN or infinite entry, [`Error::DimensionMismatch`] if `out.len() != v.len()`.
pub fn project_dual_ball_into<S: Scalar, N: Norm<S> + ?Sized>(
    norm: &N,
    v: &[S],
    radius: S,
    out: &mut [S],
) -> Result<(), Error> {
    check_threshold("radius", radius)?;
    check_finite(v, 0)?;
    check_output(v.len(), out.len())?;

    norm.project_dual_ball(v, radius, out);
    Ok(())
}

/// Returns the proximal operator of `tau‖.‖` at `v`:
/// `argmin_u tau‖u‖ + ‖u - v‖₂²/2 = v - P_{tau B*}(v)`.
///
/// For [`L1Norm`] this is soft thresholding, for [`L2Norm`] it shrinks the norm by `tau`
/// (block soft thresholding), for [`LinfNorm`] it subtracts the L1-ball projection.
///
/// # Errors
///
/// [`Error::InvalidParameter`] if `tau` is negative or NaN, [`Error::NonFinite`] if `v`
/// has a NaN or infinite entry.
///
/// # Examples
///
/// ```
/// use median_core::clip::{L1Norm, L2Norm, prox_norm};
///
/// assert_eq!(prox_norm(&L1Norm, &[3.0, -0.5, -2.0], 1.0)?, vec![2.0, 0.0, -1.0]);
/// assert_eq!(prox_norm(&L2Norm, &[3.0, 4.0], 10.0)?, vec![0.0, 0.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// N. Parikh, S. Boyd, "Proximal Algorithms", Foundations and Trends in Optimization 1(3),
/// 2014.
pub fn prox_norm<S: Scalar, N: Norm<S> + ?Sized>(
    norm: &N,
    v: &[S],
    tau: S,
) -> Result<Vec<S>, Error> {
    let mut out = vec![S::zero(); v.len()];
    prox_norm_into(norm, v, tau, &mut out)?;
    Ok(out)
}

/// Writes the proximal operator of `tau‖.‖` at `v` into `out`.
///
/// # Errors
///
/// As [`prox_norm`], plus [`Error::DimensionMismatch`] if `out.len() != v.len()`.
pub fn prox_norm_into<S: Scalar, N: Norm<S> + ?Sized>(
    norm: &N,
    v: &[S],
    tau: S,
    out: &mut [S],
) -> Result<(), Error> {
    check_threshold("tau", tau)?;
    check_finite(v, 0)?;
    check_output(v.len(), out.len())?;

    norm.project_dual_ball(v, tau, out);
    for (o, &x) in out.iter_mut().zip(v) {
        *o = x - *o;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_threshold_by_hand() {
        // Magnitudes 3, 2, 1 with radius 3: theta = (3 + 2 - 3) / 2 = 1.
        let mut a = [1.0_f64, 3.0, 2.0];
        assert_eq!(l1_threshold(&mut a, 3.0), 1.0);
        // Equal magnitudes: theta = (4 * 2 - 2) / 4.
        let mut b = [2.0_f64; 4];
        assert_eq!(l1_threshold(&mut b, 2.0), 1.5);
    }

    #[test]
    fn pivot_rng_stays_in_range() {
        let mut rng = PivotRng::new(10);
        for n in 1..200 {
            assert!(rng.below(n) < n);
        }
    }

    #[test]
    fn clip_norm_unchecked_keeps_vectors_inside() {
        let mut v = [0.1_f32, -0.2, 0.3];
        assert_eq!(
            clip_norm_unchecked(&mut v, f32::INFINITY),
            kernels::norm(&[0.1_f32, -0.2, 0.3])
        );
        assert_eq!(v, [0.1, -0.2, 0.3]);
    }
}
