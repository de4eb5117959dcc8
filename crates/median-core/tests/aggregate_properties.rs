//! Property tests of the Byzantine-robust rules: permutation invariance and the breakdown
//! property (a minority of arbitrary outliers keeps the output among the inliers).

use median_core::aggregate::{
    Aggregator, Bulyan, CenteredClipping, Krum, Medoid, MinimumDiameterAveraging, MultiKrum,
    NearestNeighborMixing, PreAggregated, SpectralFilter,
};
use median_linalg::{Backend, VecBackend};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, RngSeed};

type Vb = VecBackend<f64>;

/// The number of inputs and the number of outliers the rules are configured for.
const N: usize = 11;
const F: usize = 2;
const DIM: usize = 3;

fn config() -> ProptestConfig {
    ProptestConfig {
        rng_seed: RngSeed::Fixed(20_241_204),
        failure_persistence: None,
        cases: 48,
        max_shrink_iters: 0,
        ..ProptestConfig::default()
    }
}

/// Returns every rule configured for `F` outliers among `N` inputs.
fn rules() -> Vec<Box<dyn Aggregator<Vb>>> {
    vec![
        Box::new(Krum::new(F)),
        Box::new(MultiKrum::new(F)),
        Box::new(Bulyan::new(F)),
        Box::new(MinimumDiameterAveraging::new(F)),
        Box::new(Medoid::new()),
        Box::new(SpectralFilter::new(F)),
        Box::new(CenteredClipping::new(0.5, 4).unwrap()),
        Box::new(
            PreAggregated::<Vb, _>::new(Krum::new(F)).with_step(NearestNeighborMixing::new(F)),
        ),
    ]
}

fn aggregate(rule: &mut dyn Aggregator<Vb>, rows: &[Vec<f64>]) -> Vec<f64> {
    let refs: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
    rule.aggregate(&Vb::batch_from_gradients(&refs).unwrap())
        .unwrap()
}

fn rows_strategy(
    count: usize,
    range: std::ops::Range<f64>,
) -> impl Strategy<Value = Vec<Vec<f64>>> {
    prop::collection::vec(prop::collection::vec(range, DIM), count)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rules_are_permutation_invariant(
        rows in rows_strategy(N, -1.0..1.0),
        rotation in 1..N,
    ) {
        let mut permuted = rows.clone();
        permuted.rotate_left(rotation);
        permuted.swap(0, N - 1);
        for mut rule in rules() {
            let a = aggregate(rule.as_mut(), &rows);
            let b = aggregate(rule.as_mut(), &permuted);
            for k in 0..DIM {
                prop_assert!((a[k] - b[k]).abs() <= 1e-12, "{}: {:?} vs {:?}", rule.name(), a, b);
            }
        }
    }

    #[test]
    fn outliers_leave_output_among_inliers(
        inliers in rows_strategy(N - F, -1.0..1.0),
        outliers in rows_strategy(F, 1e3..1e12),
    ) {
        let mut rows = inliers.clone();
        rows.extend(outliers);
        for mut rule in rules() {
            let name = rule.name();
            if name == "centered-clipping" {
                continue;
            }
            let out = aggregate(rule.as_mut(), &rows);
            for k in 0..DIM {
                let low = inliers.iter().map(|r| r[k]).fold(f64::INFINITY, f64::min);
                let high = inliers.iter().map(|r| r[k]).fold(f64::NEG_INFINITY, f64::max);
                prop_assert!(out[k] >= low - 1e-12 && out[k] <= high + 1e-12, "{name}: {out:?}");
            }
        }
    }
}
