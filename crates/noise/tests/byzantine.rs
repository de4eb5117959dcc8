//! Tests of the Byzantine attacks against values computed by hand or by an independent
//! formula in the test.

use approx::assert_relative_eq;
use median_conformance::seeded_rng;
use median_noise::byzantine::{
    ByzantineError, MimicTarget, alie, alie_z_max, constant, flip_labels, gaussian, honest_mean,
    honest_std, inner_product_manipulation, large_norm, max_variance_worker, mimic, normal_cdf,
    normal_quantile, optimal_attack, optimal_sign_flip, permute_labels, sign_flip,
};

fn as_refs<F>(rows: &[Vec<F>]) -> Vec<&[F]> {
    rows.iter().map(Vec::as_slice).collect()
}

fn honest_rows() -> Vec<Vec<f64>> {
    vec![vec![1.0, 2.0], vec![3.0, 2.0], vec![2.0, 5.0]]
}

#[test]
fn statistics_match_hand_values() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    assert_eq!(honest_mean(&honest).unwrap(), vec![2.0, 3.0]);
    // Deviations (-1, 1, 0) and (-1, -1, 2), divided by n - 1 = 2.
    let std = honest_std(&honest).unwrap();
    assert_relative_eq!(std[0], 1.0, max_relative = 1e-15);
    assert_relative_eq!(std[1], 3f64.sqrt(), max_relative = 1e-15);
}

#[test]
fn sign_flip_and_ipm_scale_the_mean() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    assert_eq!(
        sign_flip(&honest, 3, 2.0).unwrap(),
        vec![vec![-4.0, -6.0]; 3]
    );
    assert_eq!(
        inner_product_manipulation(&honest, 2, 0.5).unwrap(),
        vec![vec![-1.0, -1.5]; 2]
    );
    assert!(sign_flip(&honest, 0, 1.0).unwrap().is_empty());
}

#[test]
fn alie_adds_z_standard_deviations() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    let attack = alie(&honest, 2, 2.0).unwrap();
    assert_eq!(attack.len(), 2);
    assert_relative_eq!(attack[0][0], 4.0, max_relative = 1e-15);
    assert_relative_eq!(attack[1][1], 3.0 + 2.0 * 3f64.sqrt(), max_relative = 1e-15);
}

#[test]
fn alie_z_max_matches_normal_quantile() {
    // s = floor(50/2 + 1) - 24 = 2, so z = Phi^-1(48/50); reference from Python's
    // statistics.NormalDist (Wichura's AS 241).
    assert_relative_eq!(
        alie_z_max(50, 24).unwrap(),
        1.7506860712521695,
        max_relative = 1e-13
    );
    // s = 8 - 1 = 7, so z = Phi^-1(8/15).
    assert_relative_eq!(
        alie_z_max(15, 1).unwrap(),
        0.08365173390712907,
        max_relative = 1e-12
    );
    // s = 8 - 7 = 1, so z = Phi^-1(14/15).
    assert_relative_eq!(
        alie_z_max(15, 7).unwrap(),
        1.5010859460440247,
        max_relative = 1e-13
    );
}

#[test]
fn alie_z_max_rejects_out_of_range_counts() {
    assert!(matches!(
        alie_z_max(15, 8),
        Err(ByzantineError::InvalidParameter { name: "f", .. })
    ));
    assert!(matches!(
        alie_z_max(2, 0),
        Err(ByzantineError::InvalidParameter { .. })
    ));
}

#[test]
fn normal_quantile_matches_reference_values() {
    // References from Python's statistics.NormalDist.inv_cdf.
    let cases = [
        (0.975, 1.9599639845400536),
        (0.9, 1.2815515655446008),
        (1e-10, -6.361340902404056),
        (0.96, 1.7506860712521695),
    ];
    for (p, expected) in cases {
        assert_relative_eq!(normal_quantile(p).unwrap(), expected, max_relative = 1e-13);
    }
    assert_eq!(normal_quantile(0.5).unwrap(), 0.0);
}

#[test]
fn normal_quantile_rejects_non_probabilities() {
    for p in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(matches!(
            normal_quantile(p),
            Err(ByzantineError::InvalidParameter { name: "p", .. })
        ));
    }
}

#[test]
fn normal_cdf_matches_erfc_values() {
    // Phi(-3 sqrt 2) = erfc(3) / 2 and Phi(-sqrt(2)/2) = erfc(1/2) / 2, with erfc from
    // Python's math.erfc.
    assert_relative_eq!(
        normal_cdf(-3.0 * 2f64.sqrt()),
        2.2090496998585438e-05 / 2.0,
        max_relative = 1e-13
    );
    assert_relative_eq!(
        normal_cdf(-0.5 * 2f64.sqrt()),
        0.4795001221869535 / 2.0,
        max_relative = 1e-14
    );
    assert_eq!(normal_cdf(0.0), 0.5);
    assert!(normal_cdf(f64::NAN).is_nan());
}

#[test]
fn gaussian_attack_is_seeded_and_has_its_moments() {
    let rows = vec![vec![0.0_f64; 400]];
    let honest = as_refs(&rows);
    let a = gaussian(&honest, 25, 3.0, 2.0, &mut seeded_rng(7)).unwrap();
    let b = gaussian(&honest, 25, 3.0, 2.0, &mut seeded_rng(7)).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.len(), 25);

    let values: Vec<f64> = a.iter().flatten().copied().collect();
    let count = values.len() as f64;
    let mean = values.iter().sum::<f64>() / count;
    let variance = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (count - 1.0);
    // 10000 draws: the standard error of the mean is 0.02 and that of the variance about 0.06.
    assert!((mean - 3.0).abs() < 0.1, "mean {mean}");
    assert!((variance - 4.0).abs() < 0.3, "variance {variance}");
}

#[test]
fn gaussian_attack_rejects_bad_std_dev() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    let result = gaussian(&honest, 1, 0.0, -1.0, &mut seeded_rng(1));
    assert!(matches!(
        result,
        Err(ByzantineError::InvalidParameter {
            name: "std_dev",
            ..
        })
    ));
}

#[test]
fn constant_attack_fills_value() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    assert_eq!(
        constant(&honest, 2, 1e300).unwrap(),
        vec![vec![1e300; 2]; 2]
    );
    assert!(
        constant(&honest, 1, f64::INFINITY).unwrap()[0]
            .iter()
            .all(|x| *x == f64::INFINITY)
    );
    assert!(
        constant(&honest, 1, f64::NAN).unwrap()[0]
            .iter()
            .all(|x| x.is_nan())
    );
}

#[test]
fn large_norm_points_away_from_mean() {
    let rows = vec![vec![3.0_f64, 4.0], vec![3.0, 4.0]];
    let honest = as_refs(&rows);
    let attack = large_norm(&honest, 1, 10.0).unwrap();
    assert_relative_eq!(attack[0][0], -6.0, max_relative = 1e-15);
    assert_relative_eq!(attack[0][1], -8.0, max_relative = 1e-15);

    let axis = vec![vec![2.0_f64, 0.0]];
    let attack = large_norm(&as_refs(&axis), 1, f64::INFINITY).unwrap();
    assert_eq!(attack[0], vec![f64::NEG_INFINITY, 0.0]);

    let zero = vec![vec![0.0_f64; 4]];
    let attack = large_norm(&as_refs(&zero), 1, 2.0).unwrap();
    assert_eq!(attack[0], vec![1.0; 4]);
}

#[test]
fn mimic_copies_chosen_worker() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    assert_eq!(
        mimic(&honest, 2, MimicTarget::Index(1)).unwrap(),
        vec![vec![3.0, 2.0]; 2]
    );
    assert!(matches!(
        mimic(&honest, 1, MimicTarget::Index(3)),
        Err(ByzantineError::IndexOutOfRange {
            index: 3,
            len: 3,
            ..
        })
    ));
}

#[test]
fn max_variance_worker_matches_closed_form() {
    let rows = vec![
        vec![0.0_f64, 0.0],
        vec![1.0, 0.2],
        vec![-0.5, 0.3],
        vec![2.5, 1.5],
        vec![0.4, -0.9],
    ];
    let honest = as_refs(&rows);

    // Independent check: the top eigenvector of the 2 x 2 covariance in closed form, then
    // the largest absolute projection.
    let n = rows.len() as f64;
    let mx = rows.iter().map(|r| r[0]).sum::<f64>() / n;
    let my = rows.iter().map(|r| r[1]).sum::<f64>() / n;
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    for r in &rows {
        a += (r[0] - mx) * (r[0] - mx);
        b += (r[0] - mx) * (r[1] - my);
        c += (r[1] - my) * (r[1] - my);
    }
    let lambda = (a + c) / 2.0 + (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (vx, vy) = (b, lambda - a);
    let projections: Vec<f64> = rows
        .iter()
        .map(|r| ((r[0] - mx) * vx + (r[1] - my) * vy).abs())
        .collect();
    let expected = (0..rows.len()).fold(0, |best, k| {
        if projections[k] > projections[best] {
            k
        } else {
            best
        }
    });

    assert_eq!(max_variance_worker(&honest).unwrap(), expected);
    assert_eq!(
        mimic(&honest, 1, MimicTarget::MaxVariance).unwrap()[0],
        rows[expected]
    );
}

#[test]
fn optimal_sign_flip_against_mean_takes_largest_scale() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    let mean_rule = |inputs: &[&[f64]]| -> Result<Vec<f64>, ()> {
        let n = inputs.len() as f64;
        Ok((0..2)
            .map(|k| inputs.iter().map(|g| g[k]).sum::<f64>() / n)
            .collect())
    };
    let result = optimal_sign_flip(&honest, 2, &[0.0, 1.0, 2.0, 3.0], 0, mean_rule).unwrap();
    assert_eq!(result.scale, 3.0);
    assert_eq!(result.evaluations, 4);
    assert_eq!(result.failures, 0);
    // The mean of 3 honest (mean m) and 2 copies of -3m is (3m - 6m)/5 = -0.6 m, at distance
    // 1.6 ||m|| = 1.6 sqrt(13) from m.
    assert_relative_eq!(result.distance, 1.6 * 13f64.sqrt(), max_relative = 1e-14);
}

#[test]
fn optimal_attack_golden_section_finds_interior_peak() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    // A made-up rule whose deviation from the honest mean peaks when the Byzantine vector is
    // -1.3 m, that is, at sign-flip scale 1.3.
    let peaked = |inputs: &[&[f64]]| -> Result<Vec<f64>, ()> {
        let scale = -inputs[3][0] / 2.0;
        let bump = (-(scale - 1.3) * (scale - 1.3)).exp();
        Ok(vec![2.0 + bump, 3.0])
    };
    let result = optimal_attack(
        &honest,
        &[0.0, 1.0, 2.0, 3.0],
        60,
        |s| sign_flip(&honest, 1, s),
        peaked,
    )
    .unwrap();
    assert!((result.scale - 1.3).abs() < 1e-6, "scale {}", result.scale);
    assert_relative_eq!(result.distance, 1.0, max_relative = 1e-10);
}

#[test]
fn optimal_attack_reports_all_failures() {
    let rows = honest_rows();
    let honest = as_refs(&rows);
    let failing = |_: &[&[f64]]| -> Result<Vec<f64>, &'static str> { Err("inadmissible") };
    let result = optimal_sign_flip(&honest, 1, &[1.0, 2.0], 0, failing);
    assert_eq!(result, Err(ByzantineError::NoFeasibleScale { tried: 2 }));
}

#[test]
fn attacks_reject_empty_and_ragged_honest() {
    let empty: Vec<&[f64]> = Vec::new();
    assert_eq!(
        sign_flip(&empty, 1, 1.0),
        Err(ByzantineError::NoHonestGradients)
    );
    let ragged: Vec<&[f64]> = vec![&[1.0, 2.0], &[1.0]];
    assert_eq!(
        alie(&ragged, 1, 1.0),
        Err(ByzantineError::RaggedGradients {
            index: 1,
            expected: 2,
            found: 1
        })
    );
    assert!(matches!(
        sign_flip(&ragged[..1], 1, f64::NAN),
        Err(ByzantineError::InvalidParameter { .. })
    ));
}

#[test]
fn flip_labels_maps_subset() {
    let mut labels = vec![0, 1, 2, 3, 9];
    flip_labels(&mut labels, 10, &[0, 3, 4]).unwrap();
    assert_eq!(labels, vec![9, 1, 2, 6, 0]);
}

#[test]
fn flip_labels_checks_before_changing() {
    let mut labels = vec![0, 1, 12];
    let result = flip_labels(&mut labels, 10, &[0, 2]);
    assert_eq!(
        result,
        Err(ByzantineError::LabelOutOfRange {
            index: 2,
            label: 12,
            num_classes: 10
        })
    );
    assert_eq!(labels, vec![0, 1, 12]);
    let result = flip_labels(&mut labels, 10, &[5]);
    assert!(matches!(
        result,
        Err(ByzantineError::IndexOutOfRange {
            index: 5,
            len: 3,
            ..
        })
    ));
}

#[test]
fn permute_labels_applies_permutation() {
    let mut labels = vec![0, 1, 2, 0];
    permute_labels(&mut labels, &[2, 0, 1], &[0, 1, 2]).unwrap();
    assert_eq!(labels, vec![2, 0, 1, 0]);
    let result = permute_labels(&mut labels, &[0, 0, 1], &[0]);
    assert!(matches!(
        result,
        Err(ByzantineError::InvalidPermutation { .. })
    ));
}
