//! Tests of the claim checks on hand-built tables, of percentiles and of the run hash.

use median_cli::hash::fnv1a64;
use median_cli::output::{Record, ResultTable, percentile};
use median_cli::report::{
    Verdict, check_byzantine, check_dp, check_online_gaussian, check_online_heavy_tails,
};

fn online_table(rows: &[(&str, &str, f64)]) -> ResultTable {
    let mut records = Vec::new();
    for &(setting, method, error) in rows {
        for seed in 0..3 {
            records.push(Record {
                setting: setting.to_string(),
                method: method.to_string(),
                seed,
                step: 100,
                values: vec![error * (1.0 + 0.01 * seed as f64)],
            });
        }
    }
    ResultTable {
        experiment: "t".to_string(),
        metrics: vec!["error".to_string()],
        records,
    }
}

#[test]
fn fnv1a_matches_reference_vectors() {
    // Published FNV-1a 64-bit test vectors.
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn percentile_interpolates_linearly() {
    let mut values = vec![4.0, 1.0, 3.0, 2.0];
    assert_eq!(percentile(&mut values, 0.5), 2.5);
    assert_eq!(percentile(&mut values, 0.0), 1.0);
    assert_eq!(percentile(&mut values, 1.0), 4.0);
    assert!((percentile(&mut values, 0.1) - 1.3).abs() < 1e-12);
    let mut with_nan = vec![1.0, f64::NAN, 2.0];
    assert_eq!(percentile(&mut with_nan, 1.0), f64::INFINITY);
    assert!(percentile(&mut [], 0.5).is_nan());
}

#[test]
fn heavy_tail_claim_follows_the_numbers() {
    let supported = online_table(&[
        ("stable(alpha=1.5)", "E1-ema", 10.0),
        ("stable(alpha=1.5)", "running-mean", 8.0),
        ("stable(alpha=1.5)", "E2-geometric", 1.0),
        ("stable(alpha=1.5)", "E3-coordinate", 2.0),
    ]);
    let check = check_online_heavy_tails(&supported);
    assert_eq!(check.verdict, Verdict::Supported, "{:?}", check.evidence);
    assert!(
        check.evidence[0].contains("ratio 4.0"),
        "{:?}",
        check.evidence
    );

    let refuted = online_table(&[
        ("stable(alpha=1.5)", "E1-ema", 10.0),
        ("stable(alpha=1.5)", "E2-geometric", 5.0),
    ]);
    assert_eq!(
        check_online_heavy_tails(&refuted).verdict,
        Verdict::NotSupported
    );

    let gaussian_only = online_table(&[("stable(alpha=2)", "E1-ema", 1.0)]);
    assert_eq!(
        check_online_heavy_tails(&gaussian_only).verdict,
        Verdict::Inconclusive
    );
}

#[test]
fn gaussian_claim_compares_extremes() {
    let close = online_table(&[
        ("stable(alpha=2)", "E1-ema", 1.0),
        ("stable(alpha=2)", "E2-geometric", 2.5),
    ]);
    assert_eq!(check_online_gaussian(&close).verdict, Verdict::Supported);
    let far = online_table(&[
        ("stable(alpha=2)", "E1-ema", 1.0),
        ("stable(alpha=2)", "E2-geometric", 4.0),
    ]);
    assert_eq!(check_online_gaussian(&far).verdict, Verdict::NotSupported);
}

#[test]
fn byzantine_claim_needs_a_robust_rule() {
    let row = |rule: &str, fraction: f64, accuracy: f64| Record {
        setting: "d / sign-flip".to_string(),
        method: rule.to_string(),
        seed: 0,
        step: 10,
        values: vec![fraction, accuracy, 0.5, 0.0],
    };
    let metrics = [
        "byzantine_fraction",
        "test_accuracy",
        "train_loss",
        "diverged",
    ]
    .iter()
    .map(|m| m.to_string())
    .collect::<Vec<_>>();
    let good = ResultTable {
        experiment: "t".to_string(),
        metrics: metrics.clone(),
        records: vec![
            row("mean", 0.0, 0.9),
            row("mean", 0.4, 0.1),
            row("coordinate-median", 0.4, 0.5),
        ],
    };
    assert_eq!(check_byzantine(&good).verdict, Verdict::Supported);
    let bad = ResultTable {
        experiment: "t".to_string(),
        metrics,
        records: vec![
            row("mean", 0.0, 0.9),
            row("mean", 0.4, 0.5),
            row("geometric-median", 0.4, 0.52),
        ],
    };
    assert_eq!(check_byzantine(&bad).verdict, Verdict::NotSupported);
}

#[test]
fn dp_claim_compares_anchors_per_sigma() {
    let row = |setting: &str, method: &str, accuracy: f64| Record {
        setting: setting.to_string(),
        method: method.to_string(),
        seed: 0,
        step: 50,
        values: vec![accuracy, 0.3, 2.0],
    };
    let metrics = ["test_accuracy", "train_loss", "epsilon"]
        .iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>();
    let table = |tracked: f64| ResultTable {
        experiment: "t".to_string(),
        metrics: metrics.clone(),
        records: vec![
            row("d / sigma=1", "zero-anchor", 0.90),
            row("d / sigma=1", "tracked-anchor", tracked),
        ],
    };
    assert_eq!(check_dp(&table(0.885)).verdict, Verdict::Supported);
    assert_eq!(check_dp(&table(0.85)).verdict, Verdict::NotSupported);
    let check = check_dp(&table(0.95));
    assert!(
        check.evidence[0].contains("epsilon 2.00"),
        "{:?}",
        check.evidence
    );
}
