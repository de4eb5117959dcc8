//! Order statistics of many columns at once: a pruned sorting network run on lanes of
//! coordinates.
//!
//! A block of `W` adjacent coordinates (16 for `f64`, 32 for `f32`) is copied from the
//! batch into `n` rows of `W` lanes. One comparator of the network is then a lane-wise
//! minimum and maximum of two rows, which compiles to vector instructions. `f32` values are
//! mapped to `i32` keys that order like IEEE 754 `totalOrder` (so `-0.0 < +0.0`), which is
//! exact. `f64` values are compared as floats, because LLVM does not vectorise a 64-bit
//! integer minimum. There `-0.0` and `+0.0` compare equal, so a zero selected by the
//! network gets its `totalOrder` sign afterwards from the count of values with the sign
//! bit set.
//!
//! The network is Batcher's odd-even merge sort for the next power of two at or above `n`,
//! without the comparators that touch an index `>= n`: they would compare with `+inf`
//! padding and never exchange. It is then pruned backwards to the comparators that
//! influence the requested output positions. NaN never takes part in a result: a lane
//! containing NaN gives NaN under [`NanPolicy::Propagate`] or is reduced by the column
//! fallback under [`NanPolicy::Skip`].

use std::mem::size_of;

use median_linalg::{Backend, Scalar, simd};
use num_traits::{Float, Zero};
use rayon::prelude::*;

use crate::{Error, NanPolicy};

/// The largest batch count that the network path handles. Larger counts use quickselect.
///
/// A power of two, so that masking a wire index with `NETWORK_MAX_COUNT - 1` proves it in
/// bounds of a window of `NETWORK_MAX_COUNT` rows.
// NOTE: on the one AVX-512 machine measured, the network took about half the quickselect
// time at 512 gradients. Larger limits were not measured.
pub(crate) const NETWORK_MAX_COUNT: usize = 512;

const _: () = assert!(NETWORK_MAX_COUNT.is_power_of_two() && NETWORK_MAX_COUNT <= 1 << 16);
const _: () = assert!(BUFFER_ROWS >= NETWORK_MAX_COUNT);

/// Batches with fewer values than this are processed on the calling thread.
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// Lanes per block for `f64`: four 256-bit or two 512-bit vectors.
const LANES_F64: usize = 16;

/// Lanes per block for `f32`: four 256-bit or two 512-bit vectors of keys.
const LANES_F32: usize = 32;

/// The outputs of a comparator that later steps read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outputs {
    /// Both the minimum and the maximum.
    Both,
    /// Only the minimum, written to the lower index.
    Min,
    /// Only the maximum, written to the higher index.
    Max,
}

/// One comparator: the minimum of wires `low` and `high` goes to `low`, the maximum to
/// `high`, with `low < high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Comparator {
    low: u16,
    high: u16,
    outputs: Outputs,
}

/// A sorting network on `count` wires, pruned to the comparators that the values at
/// `positions` depend on.
#[derive(Debug, Clone, Default)]
pub(crate) struct SelectionNetwork {
    count: usize,
    positions: Vec<usize>,
    comparators: Vec<Comparator>,
}

impl SelectionNetwork {
    /// Builds the network for `count` wires and the sorted output `positions`, or keeps the
    /// current one when both are unchanged, so that repeated calls allocate nothing.
    ///
    /// # Panics
    ///
    /// If `count` is 0 or exceeds [`NETWORK_MAX_COUNT`], if there are more than two
    /// positions, or if a position is `>= count` (internal invariants, checked by the
    /// callers).
    pub(crate) fn prepare(&mut self, count: usize, positions: &[usize]) {
        assert!(
            (1..=NETWORK_MAX_COUNT).contains(&count),
            "network count {count} out of range"
        );
        assert!(positions.len() <= 2, "at most two positions");
        assert!(
            positions.iter().all(|&p| p < count),
            "position out of range"
        );
        if self.count == count && self.positions == positions {
            return;
        }

        self.count = count;
        self.positions.clear();
        self.positions.extend_from_slice(positions);
        self.comparators = odd_even_merge_sort(count);
        prune(&mut self.comparators, count, positions);
    }

    /// Returns the output positions the network computes.
    pub(crate) fn positions(&self) -> &[usize] {
        &self.positions
    }

    /// Returns the number of comparators after pruning.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.comparators.len()
    }
}

/// Returns the comparators of Batcher's odd-even merge sort for `count` wires: the network
/// for the next power of two, without the comparators that touch a wire `>= count`.
fn odd_even_merge_sort(count: usize) -> Vec<Comparator> {
    let size = count.next_power_of_two();
    let mut comparators = Vec::new();

    // Merge sorted runs of length `run` into runs of length `2 run`. Each merge compares
    // wires at distance `gap`, halving it, within the same run of length `2 run`.
    let mut run = 1;
    while run < size {
        let mut gap = run;
        while gap > 0 {
            let mut base = gap % run;
            while base + gap < size {
                for i in 0..gap.min(size - base - gap) {
                    let low = base + i;
                    let high = low + gap;
                    if low / (2 * run) == high / (2 * run) && high < count {
                        comparators.push(Comparator {
                            low: low as u16,
                            high: high as u16,
                            outputs: Outputs::Both,
                        });
                    }
                }
                base += 2 * gap;
            }
            gap /= 2;
        }
        run *= 2;
    }
    comparators
}

/// Removes the comparators whose outputs no requested position depends on, walking
/// backwards from the outputs, and marks those of which only one output is read.
fn prune(comparators: &mut Vec<Comparator>, count: usize, positions: &[usize]) {
    let mut needed = vec![false; count];
    for &p in positions {
        needed[p] = true;
    }

    let mut kept = Vec::with_capacity(comparators.len());
    for comparator in comparators.iter().rev() {
        let low = usize::from(comparator.low);
        let high = usize::from(comparator.high);
        let outputs = match (needed[low], needed[high]) {
            (true, true) => Outputs::Both,
            (true, false) => Outputs::Min,
            (false, true) => Outputs::Max,
            (false, false) => continue,
        };
        needed[low] = true;
        needed[high] = true;
        kept.push(Comparator {
            outputs,
            ..*comparator
        });
    }
    kept.reverse();
    *comparators = kept;
}

/// Returns the key of an `f64` that orders like `totalOrder`: negative values have their
/// magnitude bits flipped, so that the signed integer order matches.
#[inline(always)]
pub(crate) fn f64_key(value: f64) -> i64 {
    let bits = value.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// Returns the `f64` of a key made by [`f64_key`] (the mapping is its own inverse).
#[inline(always)]
pub(crate) fn f64_of_key(key: i64) -> f64 {
    f64::from_bits((key ^ (((key >> 63) as u64) >> 1) as i64) as u64)
}

/// Returns whether an [`f64_key`] is the key of a NaN: NaN keys lie outside the keys of
/// the infinities.
#[inline(always)]
pub(crate) fn f64_key_is_nan(key: i64) -> bool {
    !(f64_key(f64::NEG_INFINITY)..=f64_key(f64::INFINITY)).contains(&key)
}

/// Returns whether an [`f32_key`] is the key of a NaN.
#[inline(always)]
pub(crate) fn f32_key_is_nan(key: i32) -> bool {
    !(f32_key(f32::NEG_INFINITY)..=f32_key(f32::INFINITY)).contains(&key)
}

/// Returns the key of an `f32` that orders like `totalOrder`, as [`f64_key`].
#[inline(always)]
pub(crate) fn f32_key(value: f32) -> i32 {
    let bits = value.to_bits() as i32;
    bits ^ (((bits >> 31) as u32) >> 1) as i32
}

/// Returns the `f32` of a key made by [`f32_key`].
#[inline(always)]
pub(crate) fn f32_of_key(key: i32) -> f32 {
    f32::from_bits((key ^ (((key >> 31) as u32) >> 1) as i32) as u32)
}

/// A lane value: one coordinate as the network compares it.
trait Lane: Copy + Send + Sync {
    /// Whether `lane_min` and `lane_max` keep the sign of zeros. When false, they may
    /// return either zero for a pair of zeros, and the outputs are corrected afterwards.
    const EXACT_ZEROS: bool;

    /// Returns the smaller of two lane values.
    fn lane_min(self, other: Self) -> Self;

    /// Returns the larger of two lane values.
    fn lane_max(self, other: Self) -> Self;

    /// Returns whether the lane value is NaN or the key of a NaN.
    fn is_nan(self) -> bool;
}

/// `f64` values compared as floats: NaN-free lanes sort correctly, except that `-0.0` and
/// `+0.0` compare equal.
impl Lane for f64 {
    const EXACT_ZEROS: bool = false;

    // NOTE: LLVM (Rust 1.95) did not vectorise a minimum of `i64` keys, even for AVX-512.
    // It turned a plain float select into a masked store of the unchanged input, which is
    // slow and blocks store forwarding. Adding zero prevents the masked store, and only
    // turns `-0.0` into `+0.0`.
    #[inline(always)]
    fn lane_min(self, other: Self) -> Self {
        let (x, y) = (self + 0.0, other + 0.0);
        if y < x { y } else { x }
    }

    #[inline(always)]
    fn lane_max(self, other: Self) -> Self {
        let (x, y) = (self + 0.0, other + 0.0);
        if x < y { y } else { x }
    }

    #[inline(always)]
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
}

/// `f32` values as their `totalOrder` keys ([`f32_key`]): exact, signed zeros included.
impl Lane for i32 {
    const EXACT_ZEROS: bool = true;

    #[inline(always)]
    fn lane_min(self, other: Self) -> Self {
        self.min(other)
    }

    #[inline(always)]
    fn lane_max(self, other: Self) -> Self {
        self.max(other)
    }

    #[inline(always)]
    fn is_nan(self) -> bool {
        f32_key_is_nan(self)
    }
}

/// One row of `W` lanes, aligned to a 64-byte cache line. The rows are 128 bytes long, so
/// none straddles a line boundary.
#[derive(Debug, Clone, Copy)]
#[repr(align(64))]
pub(crate) struct Row<T, const W: usize>([T; W]);

/// Returns the lane-wise minimum of two rows.
#[inline(always)]
fn min_lanes<T: Lane, const W: usize>(a: &Row<T, W>, b: &Row<T, W>) -> Row<T, W> {
    Row(std::array::from_fn(|l| a.0[l].lane_min(b.0[l])))
}

/// Returns the lane-wise maximum of two rows.
#[inline(always)]
fn max_lanes<T: Lane, const W: usize>(a: &Row<T, W>, b: &Row<T, W>) -> Row<T, W> {
    Row(std::array::from_fn(|l| a.0[l].lane_max(b.0[l])))
}

/// Runs the network on rows of `W` lanes: lane `l` of the rows is one column.
#[inline(always)]
fn run_network<T: Lane, const W: usize>(
    rows: &mut [Row<T, W>; NETWORK_MAX_COUNT],
    comparators: &[Comparator],
) {
    // NOTE: each arm loads its own inputs. Loads shared across the arms led LLVM to split
    // the rows into odd vector widths with shuffles, several times slower. The masks
    // change no index (all are below the count) and remove the bounds checks.
    let mask = NETWORK_MAX_COUNT - 1;
    for comparator in comparators {
        let low = usize::from(comparator.low) & mask;
        let high = usize::from(comparator.high) & mask;
        match comparator.outputs {
            Outputs::Both => {
                let (a, b) = (rows[low], rows[high]);
                rows[low] = min_lanes(&a, &b);
                rows[high] = max_lanes(&a, &b);
            }
            Outputs::Min => {
                let (a, b) = (rows[low], rows[high]);
                rows[low] = min_lanes(&a, &b);
            }
            Outputs::Max => {
                let (a, b) = (rows[low], rows[high]);
                rows[high] = max_lanes(&a, &b);
            }
        }
    }
}

/// Rows of lanes that one part of the work copies a range of coordinates into.
const BUFFER_ROWS: usize = 1024;

/// Buffers per thread of the rayon pool: more parts than threads balance the load.
const PARTS_PER_THREAD: usize = 4;

/// The row buffers of the network path, one per part of the coordinates, kept between
/// calls so that repeated calls allocate nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct NetworkScratch {
    f64_rows: Vec<Row<f64, LANES_F64>>,
    f32_rows: Vec<Row<i32, LANES_F32>>,
}

/// Reduces every coordinate of the batch to one value from its order statistics at the
/// network's positions, writing `out[j]` for coordinate `j`.
///
/// `finish(stats)` receives the exact order statistics (under `totalOrder`) at
/// `network.positions()` of a NaN-free column of `n` values. Under [`NanPolicy::Propagate`]
/// a column containing NaN gives NaN. Under [`NanPolicy::Skip`] such a column is passed,
/// without its NaNs, to `fallback`, and a column with no other value is
/// [`Error::AllNan`]. Under [`NanPolicy::Error`] the caller has already rejected NaN. On
/// error, the error of the lowest coordinate is returned and `out` is partly written.
///
/// The coordinates are split into parts that run in parallel, each copying ranges of
/// coordinates into its own buffer row by row (so that each gradient is read
/// sequentially). The result does not depend on the number of threads, because every
/// column is reduced by the same sequential code.
///
/// # Panics
///
/// If the network was prepared for another count than the batch's (an internal
/// invariant).
pub(crate) fn reduce_with_network<B, F, G>(
    batch: &B::Batch,
    out: &mut [B::Scalar],
    policy: NanPolicy,
    network: &SelectionNetwork,
    scratch: &mut NetworkScratch,
    finish: F,
    fallback: G,
) -> Result<(), Error>
where
    B: Backend,
    F: Fn(&[B::Scalar]) -> B::Scalar + Sync,
    G: Fn(&mut [B::Scalar]) -> B::Scalar + Sync,
{
    let n = B::batch_count(batch);
    assert_eq!(network.count, n, "network prepared for another count");
    let reducer = LaneReducer::<'_, B, F, G> {
        batch,
        policy,
        network,
        finish: &finish,
        fallback: &fallback,
    };

    // `into_f64` is exact, and `as f32` after it compiles to nothing for `f32`.
    if size_of::<B::Scalar>() == size_of::<f32>() {
        reducer.reduce_parts::<i32, LANES_F32>(
            out,
            &mut scratch.f32_rows,
            |v| f32_key(v.into_f64() as f32),
            |key| B::Scalar::of_f64(f64::from(f32_of_key(key))),
        )
    } else {
        reducer.reduce_parts::<f64, LANES_F64>(
            out,
            &mut scratch.f64_rows,
            Scalar::into_f64,
            B::Scalar::of_f64,
        )
    }
}

/// One part of the work: its index, its outputs and its row buffer.
type Part<'a, S, T, const W: usize> = (usize, (&'a mut [S], &'a mut [Row<T, W>]));

/// The state shared by the parts of [`reduce_with_network`].
struct LaneReducer<'a, B: Backend, F, G> {
    batch: &'a B::Batch,
    policy: NanPolicy,
    network: &'a SelectionNetwork,
    finish: &'a F,
    fallback: &'a G,
}

impl<B, F, G> LaneReducer<'_, B, F, G>
where
    B: Backend,
    F: Fn(&[B::Scalar]) -> B::Scalar + Sync,
    G: Fn(&mut [B::Scalar]) -> B::Scalar + Sync,
{
    /// Splits the coordinates into parts, each with its own buffer from `buffers`, and
    /// reduces them, in parallel when the batch is large. `to_lane` and `of_lane` convert
    /// between scalars and lane values.
    fn reduce_parts<T: Lane, const W: usize>(
        &self,
        out: &mut [B::Scalar],
        buffers: &mut Vec<Row<T, W>>,
        to_lane: impl Fn(B::Scalar) -> T + Sync,
        of_lane: impl Fn(T) -> B::Scalar + Sync,
    ) -> Result<(), Error> {
        let n = self.network.count;
        let dim = out.len();
        if dim == 0 {
            return Ok(());
        }
        let blocks = dim.div_ceil(W);
        let parallel = n * dim >= PARALLEL_MIN_VALUES;
        let parts = if parallel {
            blocks.min(PARTS_PER_THREAD * rayon::current_num_threads())
        } else {
            1
        };
        let part_width = blocks.div_ceil(parts) * W;

        // Each buffer has `NETWORK_MAX_COUNT` spare rows, so that every block of `n` rows
        // starts a window of `NETWORK_MAX_COUNT` rows for `run_network`. Rows left from an
        // earlier call are kept: the network reads only rows that `load_chunk` wrote.
        let buffer_len = BUFFER_ROWS + NETWORK_MAX_COUNT;
        let zero_lane = to_lane(B::Scalar::zero());
        buffers.resize(parts * buffer_len, Row([zero_lane; W]));

        let task = |(index, (out_part, buffer)): Part<'_, B::Scalar, T, W>| {
            // The closure must be inlined into the dispatched function to be compiled for
            // its instruction set.
            simd::dispatch(
                #[inline(always)]
                || self.reduce_part(index * part_width, out_part, buffer, &to_lane, &of_lane),
            )
            .err()
        };
        let first_error = if parallel {
            out.par_chunks_mut(part_width)
                .zip(buffers.par_chunks_mut(buffer_len))
                .enumerate()
                .filter_map(task)
                .min_by_key(|(coordinate, _)| *coordinate)
        } else {
            out.chunks_mut(part_width)
                .zip(buffers.chunks_mut(buffer_len))
                .enumerate()
                .find_map(task)
        };
        match first_error {
            Some((_, error)) => Err(error),
            None => Ok(()),
        }
    }

    /// Reduces the coordinates `start..start + out.len()`, copying as many blocks of `W`
    /// coordinates into `buffer` at a time as fit, and returns the first error with its
    /// coordinate.
    #[inline(always)]
    fn reduce_part<T: Lane, const W: usize>(
        &self,
        start: usize,
        out: &mut [B::Scalar],
        buffer: &mut [Row<T, W>],
        to_lane: impl Fn(B::Scalar) -> T,
        of_lane: impl Fn(T) -> B::Scalar,
    ) -> Result<(), (usize, Error)> {
        let n = self.network.count;
        let chunk_width = (BUFFER_ROWS / n) * W;
        let mut column = [B::Scalar::zero(); NETWORK_MAX_COUNT];

        for (chunk, out_chunk) in out.chunks_mut(chunk_width).enumerate() {
            let first = start + chunk * chunk_width;
            self.load_chunk(buffer, first, out_chunk.len(), &to_lane);

            for (block, out_block) in out_chunk.chunks_mut(W).enumerate() {
                let window = &mut buffer[block * n..block * n + NETWORK_MAX_COUNT];
                let rows: &mut [Row<T, W>; NETWORK_MAX_COUNT] =
                    window.try_into().expect("window of NETWORK_MAX_COUNT rows");
                let has_nan = lanes_with_nan(&rows[..n]);
                run_network(rows, &self.network.comparators);

                let block_first = first + block * W;
                for (l, o) in out_block.iter_mut().enumerate() {
                    let coordinate = block_first + l;
                    *o = if has_nan[l] {
                        self.reduce_nan_column(coordinate, &mut column[..n])
                            .map_err(|error| (coordinate, error))?
                    } else {
                        self.finish_lane(rows, l, coordinate, &of_lane)
                    };
                }
            }
        }
        Ok(())
    }

    /// Copies the lane values of coordinates `first..first + width` into `buffer`, block by
    /// block. Rows `b n..(b + 1) n` contain block `b`, and the lanes past `width` contain
    /// zero.
    #[inline(always)]
    fn load_chunk<T: Lane, const W: usize>(
        &self,
        buffer: &mut [Row<T, W>],
        first: usize,
        width: usize,
        to_lane: impl Fn(B::Scalar) -> T,
    ) {
        let n = self.network.count;
        for i in 0..n {
            let segment = &B::batch_gradient(self.batch, i)[first..first + width];
            for (block, values) in segment.chunks(W).enumerate() {
                let row = &mut buffer[block * n + i].0;
                if let Ok(values) = <&[B::Scalar; W]>::try_from(values) {
                    *row = values.map(&to_lane);
                } else {
                    for l in 0..W {
                        row[l] = to_lane(values.get(l).copied().unwrap_or_else(B::Scalar::zero));
                    }
                }
            }
        }
    }

    /// Returns `finish` of the order statistics in lane `l` of the network output `rows`.
    #[inline(always)]
    fn finish_lane<T: Lane, const W: usize>(
        &self,
        rows: &[Row<T, W>],
        l: usize,
        coordinate: usize,
        of_lane: impl Fn(T) -> B::Scalar,
    ) -> B::Scalar {
        let zero = B::Scalar::zero();
        let positions = self.network.positions();
        let mut stats = [zero; 2];
        for (stat, &p) in stats.iter_mut().zip(positions) {
            *stat = of_lane(rows[p].0[l]);
        }
        let stats = &mut stats[..positions.len()];
        if !T::EXACT_ZEROS && stats.contains(&zero) {
            self.correct_zero_signs(coordinate, stats);
        }
        (self.finish)(stats)
    }

    /// Gives the zeros among the order statistics `stats` of a NaN-free coordinate their
    /// `totalOrder` sign.
    ///
    /// Every comparator returns its two inputs up to the sign of zeros, so the network
    /// output is the float-sorted column with its run of zeros possibly re-signed. In the
    /// `totalOrder` sort, the values with the sign bit set come first, so a zero at
    /// position `p` is `-0.0` exactly when `p` is below their count.
    #[cold]
    fn correct_zero_signs(&self, coordinate: usize, stats: &mut [B::Scalar]) {
        let negative = (0..self.network.count)
            .filter(|&i| B::batch_gradient(self.batch, i)[coordinate].is_sign_negative())
            .count();
        for (stat, &p) in stats.iter_mut().zip(self.network.positions()) {
            if *stat == B::Scalar::zero() {
                *stat = if p < negative {
                    -B::Scalar::zero()
                } else {
                    B::Scalar::zero()
                };
            }
        }
    }

    /// Reduces a coordinate that contains NaN by the NaN policy.
    #[cold]
    fn reduce_nan_column(
        &self,
        coordinate: usize,
        column: &mut [B::Scalar],
    ) -> Result<B::Scalar, Error> {
        if self.policy == NanPolicy::Propagate {
            return Ok(B::Scalar::nan());
        }

        let mut valid = 0;
        for i in 0..self.network.count {
            let value = B::batch_gradient(self.batch, i)[coordinate];
            if !value.is_nan() {
                column[valid] = value;
                valid += 1;
            }
        }
        if valid == 0 {
            return Err(Error::AllNan { coordinate });
        }
        Ok((self.fallback)(&mut column[..valid]))
    }
}

/// Returns which lanes of `rows` contain NaN.
#[inline(always)]
fn lanes_with_nan<T: Lane, const W: usize>(rows: &[Row<T, W>]) -> [bool; W] {
    let mut has_nan = [false; W];
    for row in rows {
        for l in 0..W {
            has_nan[l] |= row.0[l].is_nan();
        }
    }
    has_nan
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `comparators` on one lane holding `values`, returning the lane afterwards.
    fn run_on_one_lane(values: &[i32], comparators: &[Comparator]) -> Vec<i32> {
        let mut rows = [Row([0_i32; 1]); NETWORK_MAX_COUNT];
        for (row, &v) in rows.iter_mut().zip(values) {
            row.0[0] = v;
        }
        run_network(&mut rows, comparators);
        rows[..values.len()].iter().map(|row| row.0[0]).collect()
    }

    #[test]
    fn network_sorts_every_binary_input() {
        // By the 0-1 principle, a comparator network that sorts every 0-1 input sorts
        // every input.
        for count in 1..=14 {
            let network = odd_even_merge_sort(count);
            for pattern in 0u32..(1 << count) {
                let values: Vec<i32> = (0..count).map(|i| ((pattern >> i) & 1) as i32).collect();
                let mut expected = values.clone();
                expected.sort();
                assert_eq!(
                    run_on_one_lane(&values, &network),
                    expected,
                    "count {count}"
                );
            }
        }
    }

    #[test]
    fn network_sizes_match_batcher() {
        // Batcher's odd-even merge sort has (p^2 - p + 4) 2^(p-2) - 1 comparators for
        // 2^p wires.
        for p in 1..=8u32 {
            let expected = (p * p - p + 4) * (1 << p) / 4 - 1;
            assert_eq!(
                odd_even_merge_sort(1 << p).len(),
                expected as usize,
                "2^{p}"
            );
        }
    }

    #[test]
    fn pruned_network_selects_positions() {
        for count in 1..=NETWORK_MAX_COUNT {
            let middle = count / 2;
            let positions = [middle.saturating_sub(1), middle];
            let positions = if count % 2 == 1 {
                &positions[1..]
            } else {
                &positions[..]
            };
            let mut network = SelectionNetwork::default();
            network.prepare(count, positions);
            assert!(network.len() <= odd_even_merge_sort(count).len());
            for pattern in 0u64..8 {
                let values: Vec<i32> = (0..count as u64)
                    .map(|i| ((i * 7919 + pattern * 104_729) % 23) as i32)
                    .collect();
                let mut sorted = values.clone();
                sorted.sort();
                let lane = run_on_one_lane(&values, &network.comparators);
                for &p in positions {
                    assert_eq!(lane[p], sorted[p], "count {count}, position {p}");
                }
            }
        }
    }

    #[test]
    fn keys_order_like_total_order() {
        let values = [
            f64::NEG_INFINITY,
            -1.5,
            -f64::MIN_POSITIVE,
            -0.0,
            0.0,
            f64::from_bits(1),
            2.0,
            f64::INFINITY,
        ];
        for pair in values.windows(2) {
            assert!(f64_key(pair[0]) < f64_key(pair[1]), "{pair:?}");
            assert!(
                f32_key(pair[0] as f32) <= f32_key(pair[1] as f32),
                "{pair:?}"
            );
        }
        for &v in &values {
            assert_eq!(f64_of_key(f64_key(v)).to_bits(), v.to_bits());
            assert_eq!(
                f32_of_key(f32_key(v as f32)).to_bits(),
                (v as f32).to_bits()
            );
        }
    }
}
