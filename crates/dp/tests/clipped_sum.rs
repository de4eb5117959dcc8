//! The fused clipped sum and the DP-SGD step against references written here: per-sample
//! clipping by the definition, summed in sample order, bit for bit, on 1 and 4 threads.

use median_conformance::{bits, on_threads, random_vec, seeded_rng};
use median_dp::accountant::SamplingScheme;
use median_dp::dpsgd::{Anchor, Clipping, DpConfig, DpGradient, DpSgd};
use median_linalg::kernels::{self, CHUNK, PARALLEL_MIN_LEN};
use median_linalg::{Backend, VecBackend};

type B = VecBackend<f64>;

fn config(clipping: Clipping, sigma: f64) -> DpConfig {
    DpConfig {
        clipping,
        noise_multiplier: sigma,
        sampling: SamplingScheme::Poisson,
        batch_size: 4.0,
    }
}

/// Returns `sum_i clip(g_i - anchor)` with each block `(start, end, c)` of each
/// innovation clipped by the definition and the samples added in order from zero.
fn reference_sum(
    rows: &[f64],
    dim: usize,
    anchor: &[f64],
    blocks: &[(usize, usize, f64)],
) -> Vec<f64> {
    let mut sum = vec![0.0; dim];
    for g in rows.chunks_exact(dim) {
        let mut r: Vec<f64> = g.iter().zip(anchor).map(|(&gj, &aj)| gj - aj).collect();
        for &(start, end, c) in blocks {
            let block = &mut r[start..end];
            let norm = kernels::norm(block);
            if norm > c {
                let factor = c / norm;
                block.iter_mut().for_each(|v| *v *= factor);
            }
        }
        for (s, v) in sum.iter_mut().zip(&r) {
            *s += v;
        }
    }
    sum
}

#[test]
fn clipped_sum_matches_reference() {
    let mut rng = seeded_rng(51);
    for dim in [3, CHUNK + 1, PARALLEL_MIN_LEN + 5] {
        let rows = random_vec::<f64>(&mut rng, 4 * dim);
        let batch = B::batch_from_rows(&rows, 4, dim).unwrap();
        let anchor = random_vec::<f64>(&mut rng, dim);
        let split = dim / 3 + 1;
        // Thresholds that clip some samples and leave others.
        let c = 0.5 * (dim as f64).sqrt();
        let layouts = [
            (Clipping::Global { clip_norm: c }, vec![(0, dim, c)]),
            (
                Clipping::PerLayer {
                    layer_sizes: vec![split, dim - split],
                    clip_norms: vec![0.2 * c, 10.0 * c],
                },
                vec![(0, split, 0.2 * c), (split, dim, 10.0 * c)],
            ),
        ];
        for (clipping, blocks) in layouts {
            let mut mechanism = DpGradient::new(config(clipping, 1.0), dim).unwrap();
            for anchor in [vec![0.0; dim], anchor.clone()] {
                let expected = reference_sum(&rows, dim, &anchor, &blocks);
                let sum = mechanism.clipped_sum::<B>(&batch, &anchor).unwrap();
                assert_eq!(
                    bits(sum),
                    bits(&expected),
                    "dim {dim}, {} blocks",
                    blocks.len()
                );
            }
        }
    }
}

#[test]
fn clipped_sum_with_overflowing_norm_matches_reference() {
    // Entries of 1e200 overflow the plain sum of squares, which sends the batch to the
    // checked path.
    let dim = PARALLEL_MIN_LEN + 1;
    let rows: Vec<f64> = (0..2 * dim)
        .map(|k| if k % 2 == 0 { 1e200 } else { -1e200 })
        .collect();
    let batch = B::batch_from_rows(&rows, 2, dim).unwrap();
    let mut mechanism =
        DpGradient::new(config(Clipping::Global { clip_norm: 1.0 }, 0.0), dim).unwrap();
    let anchor = vec![0.0; dim];
    let sum = mechanism.clipped_sum::<B>(&batch, &anchor).unwrap();
    let expected = reference_sum(&rows, dim, &anchor, &[(0, dim, 1.0)]);
    assert_eq!(bits(sum), bits(&expected));
}

#[test]
fn non_finite_anchor_is_named() {
    let batch = B::batch_from_rows(&[0.5, 0.5, 1.0, 2.0], 2, 2).unwrap();
    let mut mechanism =
        DpGradient::<f64>::new(config(Clipping::Global { clip_norm: 1.0 }, 1.0), 2).unwrap();
    let result = mechanism.clipped_sum::<B>(&batch, &[0.0, f64::INFINITY]);
    assert!(
        matches!(
            result,
            Err(median_dp::DpError::InvalidParameter { name: "anchor", value, .. })
                if value == f64::INFINITY
        ),
        "{result:?}"
    );
}

#[test]
fn non_finite_entry_names_sample_and_coordinate() {
    let dim = PARALLEL_MIN_LEN + 9;
    let mut rows = vec![0.5; 4 * dim];
    rows[2 * dim + PARALLEL_MIN_LEN + 1] = f64::NAN;
    let batch = B::batch_from_rows(&rows, 4, dim).unwrap();
    let mut dp = DpSgd::<f64>::new(
        config(Clipping::Global { clip_norm: 1.0 }, 1.0),
        dim,
        Anchor::Zero,
        0.01,
    )
    .unwrap();
    let mut x = vec![1.0; dim];
    let result = dp.step::<B, _>(&mut x, 0.1, &batch, &mut seeded_rng(52));
    assert!(
        matches!(
            result,
            Err(median_dp::DpError::Core(median_core::Error::NonFinite { index: 2, coordinate, .. }))
                if coordinate == PARALLEL_MIN_LEN + 1
        ),
        "{result:?}"
    );
    assert_eq!(x, vec![1.0; dim]);
}

#[test]
fn step_from_zero_matches_privatize_then_descent() {
    let dim = PARALLEL_MIN_LEN + 17;
    let rows = random_vec::<f64>(&mut seeded_rng(53), 4 * dim);
    let batch = B::batch_from_rows(&rows, 4, dim).unwrap();
    let setup = config(Clipping::Global { clip_norm: 2.0 }, 0.8);
    let gamma = 0.3;
    let run = || {
        let mut dp = DpSgd::<f64>::new(setup.clone(), dim, Anchor::Zero, 0.01).unwrap();
        let mut x = vec![0.25; dim];
        let mut rng = seeded_rng(54);
        for _ in 0..2 {
            dp.step::<B, _>(&mut x, gamma, &batch, &mut rng).unwrap();
        }
        x
    };

    let mut mechanism = DpGradient::new(setup.clone(), dim).unwrap();
    let mut expected = vec![0.25; dim];
    let mut rng = seeded_rng(54);
    for _ in 0..2 {
        let released = mechanism
            .privatize::<B, _>(&batch, &vec![0.0; dim], &mut rng)
            .unwrap();
        for (x, &g) in expected.iter_mut().zip(released.as_slice()) {
            *x -= gamma * g;
        }
    }
    assert_eq!(bits(&on_threads(1, run)), bits(&expected));
    assert_eq!(bits(&on_threads(4, run)), bits(&expected));
}
