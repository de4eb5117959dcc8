//! Pairwise squared distances of a batch, computed directly in register tiles.
//!
//! [`batch_squared_distances`] writes `D[i][j] = sum_k (g_i[k] - g_j[k])^2` for every pair
//! of gradients. It sums the squared differences themselves rather than expanding
//! `G_ii + G_jj - 2 G_ij` from a Gram matrix, so nearly equal gradients far from the origin
//! keep their digits without any centring.
//!
//! # Blocking
//!
//! The coordinates are cut into blocks short enough that one block of every gradient fits
//! in a core's L2 cache. Within a block, pairs are processed in tiles of 2 x 4 gradients, so
//! that each loaded value serves several pairs. Each pair keeps 8 interleaved
//! accumulators per tile, combined in a fixed order at the end of the block.
//!
//! # Determinism
//!
//! The blocks are grouped into at most 64 consecutive tasks. How many, and where
//! they split, depends only on the number of gradients, their dimension and the scalar
//! type. Each task sums its blocks in order into a partial matrix, and the partial matrices
//! are added in task order. Rayon only decides which thread computes which task, so the
//! result is bit-identical on any number of threads. The loops run under
//! [`simd::run`], which changes the instructions but never the
//! rounding.

use rayon::prelude::*;

use crate::Scalar;
use crate::simd::{self, Kernel};

/// Interleaved accumulators per pair: one 512-bit register of `f64`, or two 256-bit ones.
// NOTE: 16 lanes for `f32` (a 512-bit register) ran 5x slower than 8 here, because the
// compiler then kept the accumulators in memory; 4-row tiles did the same, and `mul_add`
// made it emit 128-bit instructions only.
const LANES: usize = 8;

/// Gradients per tile along the first index.
const TILE_ROWS: usize = 2;

/// Gradients per tile along the second index.
const TILE_COLS: usize = 4;

/// Bytes of one coordinate block of the whole batch that should stay in L2 cache.
const BLOCK_BYTES: usize = 1 << 20;

/// Shortest and longest coordinate block.
const BLOCK_RANGE: (usize, usize) = (256, 8192);

/// Maximum number of partial matrices held at once.
const MAX_TASKS: usize = 64;

/// Maximum bytes of partial matrices held at once.
const MAX_PARTIAL_BYTES: usize = 64 << 20;

/// Returns the coordinate block length for `count` gradients of `bytes`-byte scalars.
fn block_length(count: usize, bytes: usize) -> usize {
    let fit = BLOCK_BYTES / (count.max(1) * bytes);
    // A multiple of the lane count, so that only the last block has a remainder.
    (fit.clamp(BLOCK_RANGE.0, BLOCK_RANGE.1) / LANES) * LANES
}

/// Writes the squared distances `D[i][j] = ||g_i - g_j||^2` of `count` gradients of
/// dimension `dim` into `out`, row-major, `count x count`; `gradient(i)` returns gradient
/// `i`.
///
/// The matrix is exactly symmetric with a zero diagonal. A NaN in `g_i` or `g_j` gives a
/// NaN entry. An infinity or an overflowing sum gives `+inf`, or NaN for the difference of
/// two equal infinities. The result does not depend on the number of threads (see the
/// module docs).
///
/// # Panics
///
/// Panics if `out.len() != count * count` or a gradient's length differs from `dim`.
///
/// # Examples
///
/// ```
/// use median_linalg::pairwise;
///
/// let rows = [[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]];
/// let mut d = [0.0; 9];
/// pairwise::batch_squared_distances(|i| &rows[i][..], 3, 2, &mut d);
/// assert_eq!(d, [0.0, 25.0, 100.0, 25.0, 0.0, 25.0, 100.0, 25.0, 0.0]);
/// ```
pub fn batch_squared_distances<'a, S, G>(gradient: G, count: usize, dim: usize, out: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S] + Sync,
{
    let n = count;
    assert_eq!(out.len(), n * n, "batch_squared_distances: output length");
    for i in 0..n {
        assert_eq!(
            gradient(i).len(),
            dim,
            "batch_squared_distances: gradient length"
        );
    }
    out.fill(S::zero());
    if n < 2 || dim == 0 {
        return;
    }

    let block = block_length(n, std::mem::size_of::<S>());
    let blocks = dim.div_ceil(block);
    let matrix_bytes = n * n * std::mem::size_of::<S>();
    let tasks = blocks
        .min(MAX_TASKS)
        .min((MAX_PARTIAL_BYTES / matrix_bytes).max(1));
    let blocks_per_task = blocks.div_ceil(tasks);
    let tasks = blocks.div_ceil(blocks_per_task);

    let task_partial = |task: usize| -> Vec<S> {
        let mut partial = vec![S::zero(); n * n];
        let first = task * blocks_per_task;
        let last = ((task + 1) * blocks_per_task).min(blocks);
        simd::run(Blocks {
            gradient: &gradient,
            n,
            dim,
            block,
            blocks: first..last,
            partial: &mut partial,
        });
        partial
    };

    if tasks == 1 || n * dim < (1 << 16) {
        for task in 0..tasks {
            let partial = task_partial(task);
            add_upper(out, &partial, n);
        }
    } else {
        let partials: Vec<Vec<S>> = (0..tasks).into_par_iter().map(task_partial).collect();
        for partial in &partials {
            add_upper(out, partial, n);
        }
    }
    for i in 0..n {
        for j in 0..i {
            out[i * n + j] = out[j * n + i];
        }
    }
}

/// The blocks of one task, run under [`simd::run`].
struct Blocks<'g, 'p, G, S> {
    gradient: &'g G,
    n: usize,
    dim: usize,
    block: usize,
    blocks: std::ops::Range<usize>,
    partial: &'p mut [S],
}

impl<'a, G, S> Kernel for Blocks<'_, '_, G, S>
where
    S: Scalar,
    G: Fn(usize) -> &'a [S],
{
    type Output = ();

    #[inline(always)]
    fn run(self) {
        for b in self.blocks {
            let start = b * self.block;
            let end = (start + self.block).min(self.dim);
            add_block(self.gradient, self.n, start, end, self.partial);
        }
    }
}

/// Adds the strict upper triangle of `partial` into `out`.
fn add_upper<S: Scalar>(out: &mut [S], partial: &[S], n: usize) {
    for i in 0..n {
        for j in i + 1..n {
            out[i * n + j] = out[i * n + j] + partial[i * n + j];
        }
    }
}

/// Adds the squared distances over coordinates `start..end` of every pair `i < j` into the
/// strict upper triangle of `partial`.
#[inline(always)]
fn add_block<'a, S, G>(gradient: &G, n: usize, start: usize, end: usize, partial: &mut [S])
where
    S: Scalar,
    G: Fn(usize) -> &'a [S],
{
    let mut i0 = 0;
    while i0 < n {
        let rows = TILE_ROWS.min(n - i0);
        // Tiles start at the first column that has a pair above the diagonal.
        let mut j0 = i0 + 1;
        while j0 < n {
            let cols = TILE_COLS.min(n - j0);
            if rows == TILE_ROWS && cols == TILE_COLS {
                tile::<S, G, TILE_ROWS, TILE_COLS, LANES>(gradient, n, i0, j0, start, end, partial);
            } else {
                for i in i0..i0 + rows {
                    for j in j0.max(i + 1)..j0 + cols {
                        tile::<S, G, 1, 1, LANES>(gradient, n, i, j, start, end, partial);
                    }
                }
            }
            j0 += cols;
        }
        i0 += rows;
    }
}

/// Adds the squared distances over coordinates `start..end` of the pairs
/// `(i0 + a, j0 + b)`, `a < R`, `b < C`, into `partial`; pairs with `i >= j` are skipped.
#[inline(always)]
fn tile<'a, S, G, const R: usize, const C: usize, const W: usize>(
    gradient: &G,
    n: usize,
    i0: usize,
    j0: usize,
    start: usize,
    end: usize,
    partial: &mut [S],
) where
    S: Scalar,
    G: Fn(usize) -> &'a [S],
{
    let xs: [&[S]; R] = std::array::from_fn(|a| &gradient(i0 + a)[start..end]);
    let ys: [&[S]; C] = std::array::from_fn(|b| &gradient(j0 + b)[start..end]);
    let mut acc = [[[S::zero(); W]; C]; R];
    let len = end - start;
    let whole = len - len % W;

    // Every slice is cut to the same number of fixed-width chunks, so that indexing needs no
    // bounds check inside the loop and the accumulators stay in registers.
    let chunks = whole / W;
    let xc: [&[[S; W]]; R] = std::array::from_fn(|a| &xs[a].as_chunks::<W>().0[..chunks]);
    let yc: [&[[S; W]]; C] = std::array::from_fn(|b| &ys[b].as_chunks::<W>().0[..chunks]);
    for c in 0..chunks {
        let x: [[S; W]; R] = std::array::from_fn(|a| xc[a][c]);
        let y: [[S; W]; C] = std::array::from_fn(|b| yc[b][c]);
        accumulate(&mut acc, &x, &y);
    }

    if whole < len {
        // The remainder, padded with zeros: a padded lane adds `0 * 0`, which leaves its
        // accumulator (a sum of squares, never -0) unchanged.
        let pad = |s: &[S]| -> [S; W] {
            let mut chunk = [S::zero(); W];
            chunk[..len - whole].copy_from_slice(&s[whole..]);
            chunk
        };
        let x: [[S; W]; R] = std::array::from_fn(|a| pad(xs[a]));
        let y: [[S; W]; C] = std::array::from_fn(|b| pad(ys[b]));
        accumulate(&mut acc, &x, &y);
    }

    for a in 0..R {
        for b in 0..C {
            let (i, j) = (i0 + a, j0 + b);
            if i < j {
                let lanes = &acc[a][b];
                let sum = combine(lanes);
                partial[i * n + j] = partial[i * n + j] + sum;
            }
        }
    }
}

/// Adds `(x[a][l] - y[b][l])^2` to `acc[a][b][l]` for every tile pair and lane.
#[inline(always)]
fn accumulate<S: Scalar, const R: usize, const C: usize, const W: usize>(
    acc: &mut [[[S; W]; C]; R],
    x: &[[S; W]; R],
    y: &[[S; W]; C],
) {
    for a in 0..R {
        for b in 0..C {
            for l in 0..W {
                let t = x[a][l] - y[b][l];
                acc[a][b][l] = acc[a][b][l] + t * t;
            }
        }
    }
}

/// Adds the lanes pairwise in a fixed order: lane `l` with lane `l + W / 2`, and so on.
#[inline(always)]
fn combine<S: Scalar, const W: usize>(lanes: &[S; W]) -> S {
    let mut v = *lanes;
    let mut width = W;
    while width > 1 {
        width /= 2;
        for l in 0..width {
            v[l] = v[l] + v[l + width];
        }
    }
    v[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Squared distances by a plain loop, in f64.
    fn plain(rows: &[Vec<f64>]) -> Vec<f64> {
        let n = rows.len();
        let mut out = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                out[i * n + j] = rows[i]
                    .iter()
                    .zip(&rows[j])
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum();
            }
        }
        out
    }

    #[test]
    fn small_integer_batches_are_exact() {
        // Integer entries make every partial sum exact, whatever the order.
        for (n, dim) in [
            (1, 3),
            (2, 1),
            (3, 5),
            (5, 7),
            (7, 300),
            (9, 1031),
            (6, 20_000),
        ] {
            let rows: Vec<Vec<f64>> = (0..n)
                .map(|i| {
                    (0..dim)
                        .map(|k| ((i * 31 + k * 17) % 23) as f64 - 11.0)
                        .collect()
                })
                .collect();
            let mut found = vec![f64::NAN; n * n];
            batch_squared_distances(|i| &rows[i][..], n, dim, &mut found);
            assert_eq!(found, plain(&rows), "{n} x {dim}");
        }
    }

    #[test]
    fn nan_and_infinity_reach_their_pairs_only() {
        let rows = [
            vec![0.0, 1.0],
            vec![f64::NAN, 0.0],
            vec![f64::INFINITY, 0.0],
            vec![3.0, 5.0],
        ];
        let mut d = vec![0.0; 16];
        batch_squared_distances(|i| &rows[i][..], 4, 2, &mut d);
        assert!(d[1].is_nan());
        assert!(d[4 + 3].is_nan());
        assert_eq!(d[2], f64::INFINITY);
        assert_eq!(d[3], 25.0);
        assert_eq!(d[2 * 4 + 2], 0.0);
    }

    #[test]
    fn block_length_is_a_multiple_of_the_lanes() {
        for count in [1, 2, 3, 16, 64, 100, 256, 4096] {
            for bytes in [4, 8] {
                let block = block_length(count, bytes);
                assert_eq!(block % LANES, 0);
                assert!((BLOCK_RANGE.0..=BLOCK_RANGE.1).contains(&block));
            }
        }
    }
}
