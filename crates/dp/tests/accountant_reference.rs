//! The accountant against Google's `dp-accounting` library (version 0.6.0) and against
//! numerical integration.
//!
//! `reference/dp_accounting_reference.py` wrote both tables. Each row of
//! `accountant_reference.csv` has dp-accounting's epsilon and the epsilon from RDP values
//! integrated numerically in mpmath; the rows span epsilon from about 0.04 to about 40.

use median_dp::accountant::{RdpAccountant, SamplingScheme, subsampled_gaussian_rdp};

/// The largest relative difference allowed from dp-accounting.
const TOLERANCE: f64 = 0.01;

/// Parses a CSV table of numbers with one header line.
fn parse_table(table: &str, columns: usize) -> Vec<Vec<f64>> {
    table
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<f64> = line
                .split(',')
                .map(|field| field.parse().expect("the reference table holds numbers"))
                .collect();
            assert_eq!(fields.len(), columns, "row {line:?}");
            fields
        })
        .collect()
}

#[test]
fn epsilon_matches_dp_accounting_and_quadrature() {
    let rows = parse_table(include_str!("reference/accountant_reference.csv"), 6);
    let mut compared_with_dp_accounting = 0;
    for row in rows {
        let [q, sigma, steps, delta, dp_accounting, quadrature] = row[..] else {
            unreachable!("parse_table checked the column count");
        };
        let mut accountant = RdpAccountant::new();
        accountant
            .compose(q, sigma, steps as u64, SamplingScheme::Poisson)
            .unwrap();
        let (epsilon, order) = accountant.epsilon(delta).unwrap();
        let row = format!("q={q} sigma={sigma} steps={steps} delta={delta}");

        let relative = (epsilon / quadrature - 1.0).abs();
        assert!(
            relative < 1e-6,
            "{row}: epsilon {epsilon} (order {order}) vs quadrature {quadrature}"
        );

        // dp-accounting's fractional series loses accuracy at small noise multipliers;
        // compare with it where it agrees with the quadrature.
        if (dp_accounting / quadrature - 1.0).abs() < 1e-3 {
            let relative = (epsilon / dp_accounting - 1.0).abs();
            assert!(
                relative <= TOLERANCE,
                "{row}: epsilon {epsilon} vs dp-accounting {dp_accounting}"
            );
            compared_with_dp_accounting += 1;
        }
    }
    assert!(
        compared_with_dp_accounting >= 10,
        "only {compared_with_dp_accounting} rows were compared with dp-accounting"
    );
}

#[test]
fn one_step_rdp_matches_quadrature() {
    let rows = parse_table(include_str!("reference/rdp_quadrature.csv"), 4);
    for row in rows {
        let [q, sigma, order, expected] = row[..] else {
            unreachable!("parse_table checked the column count");
        };
        let found = subsampled_gaussian_rdp(q, sigma, order);
        let relative = (found / expected - 1.0).abs();
        assert!(
            relative < 1e-8,
            "q={q} sigma={sigma} order={order}: {found} vs quadrature {expected}"
        );
    }
}
