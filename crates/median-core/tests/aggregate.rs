//! Tests of the Byzantine-robust aggregation rules and pre-aggregation steps, generic over
//! the backend and instantiated for every built-in backend in `f32` and `f64`.
//!
//! Expected values are computed by hand or by a brute-force implementation inside the test:
//! plain double loops over coordinates for distances, bitmask enumeration for subsets, and a
//! `d x d` covariance for the spectral direction.

use median_conformance::{TestRng, seeded_rng};
use median_core::Error;
use median_core::aggregate::{
    AdaptiveClipping, Aggregator, Bucketing, Bulyan, CenteredClipping, ClippingStart, Krum, Medoid,
    MinimumDiameterAveraging, MultiKrum, NearestNeighborMixing, PreAggregated, PreAggregation,
    SpectralFilter,
};
use median_linalg::{Backend, Scalar};
use num_traits::{Float, One, Zero};
use rand::RngExt;

// ---------------------------------------------------------------------------------------
// Helpers.

/// Builds a batch from `f64` rows.
fn batch<B: Backend>(rows: &[Vec<f64>]) -> B::Batch {
    let d = rows.first().map_or(0, Vec::len);
    let flat: Vec<B::Scalar> = rows
        .iter()
        .flatten()
        .map(|&x| B::Scalar::of_f64(x))
        .collect();
    B::batch_from_rows(&flat, rows.len(), d).expect("rows of equal length")
}

/// Rounds `f64` rows to the backend's scalar and back, so that brute-force references use
/// exactly the rule's inputs.
fn rounded<B: Backend>(rows: &[Vec<f64>]) -> Vec<Vec<f64>> {
    rows.iter()
        .map(|r| r.iter().map(|&x| B::Scalar::of_f64(x).into_f64()).collect())
        .collect()
}

/// Applies a pre-aggregation step and returns its output rows as `f64`.
fn apply<B: Backend, P: PreAggregation<B>>(
    step: &mut P,
    input: &B::Batch,
) -> Result<Vec<Vec<f64>>, Error> {
    Ok(rows_of::<B>(&step.apply(input)?))
}

/// Aggregates and returns the output as `f64`.
fn run<B: Backend, R: Aggregator<B> + ?Sized>(
    rule: &mut R,
    rows: &[Vec<f64>],
) -> Result<Vec<f64>, Error> {
    let out = rule.aggregate(&batch::<B>(rows))?;
    Ok(B::vector_as_slice(&out)
        .iter()
        .map(|x| x.into_f64())
        .collect())
}

/// Returns the relative tolerance for the backend's scalar.
fn tolerance<B: Backend>() -> f64 {
    if B::Scalar::NAME == "f32" {
        1e-5
    } else {
        1e-12
    }
}

fn assert_close<B: Backend>(actual: &[f64], expected: &[f64]) {
    assert_eq!(actual.len(), expected.len(), "length");
    let tol = tolerance::<B>();
    for (k, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= tol * e.abs().max(1.0),
            "coordinate {k}: {a} vs {e} ({} {})",
            B::NAME,
            B::Scalar::NAME
        );
    }
}

/// `n` random rows of dimension `d`, uniform in `[-1, 1)`, plus `outliers` rows near 50.
fn random_rows(rng: &mut TestRng, n: usize, d: usize, outliers: usize) -> Vec<Vec<f64>> {
    let mut rows: Vec<Vec<f64>> = (0..n)
        .map(|_| (0..d).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    for _ in 0..outliers {
        rows.push((0..d).map(|_| 50.0 + rng.random_range(-1.0..1.0)).collect());
    }
    rows
}

fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

fn mean_rows(rows: &[Vec<f64>], indices: &[usize]) -> Vec<f64> {
    let d = rows[0].len();
    (0..d)
        .map(|k| indices.iter().map(|&i| rows[i][k]).sum::<f64>() / indices.len() as f64)
        .collect()
}

/// Returns brute-force Krum scores over `members`, best first: the sum of the `k` smallest
/// squared distances.
fn brute_krum_scores(rows: &[Vec<f64>], members: &[usize], k: usize) -> Vec<(f64, usize)> {
    let mut scores = Vec::new();
    for &i in members {
        let mut distances = Vec::new();
        for &j in members {
            if j != i {
                distances.push(squared_distance(&rows[i], &rows[j]));
            }
        }
        distances.sort_by(f64::total_cmp);
        scores.push((distances[..k].iter().sum::<f64>(), i));
    }
    // Equal scores go to the lexicographically smaller row, then to the lower index.
    let lexicographic = |i: usize, j: usize| {
        (0..rows[i].len())
            .map(|k| rows[i][k].total_cmp(&rows[j][k]))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    };
    scores.sort_by(|a, b| {
        a.0.total_cmp(&b.0)
            .then(lexicographic(a.1, b.1))
            .then(a.1.cmp(&b.1))
    });
    scores
}

// ---------------------------------------------------------------------------------------
// Krum and Multi-Krum.

fn multi_krum_f0_gives_plain_mean<B: Backend>() {
    let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![10.0, 10.0]];
    let expected = [11.0 / 3.0, 11.0 / 3.0];
    let explicit = run::<B, _>(&mut MultiKrum::new(0).with_selection(3), &rows).unwrap();
    assert_close::<B>(&explicit, &expected);
    let default = run::<B, _>(&mut MultiKrum::new(0), &rows).unwrap();
    assert_close::<B>(&default, &expected);
}

fn krum_f0_uses_one_neighbour<B: Backend>() {
    // Squared distances: d(0,1) = 2, d(0,2) = 181, d(1,2) = 181, so scores 2, 2, 181. The
    // tie goes to the input that is smaller in its first coordinate, in either order.
    let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![10.0, 10.0]];
    assert_eq!(
        run::<B, _>(&mut Krum::new(0), &rows).unwrap(),
        vec![0.0, 1.0]
    );
    let swapped = vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![10.0, 10.0]];
    assert_eq!(
        run::<B, _>(&mut Krum::new(0), &swapped).unwrap(),
        vec![0.0, 1.0]
    );
    let two = run::<B, _>(&mut MultiKrum::new(0).with_selection(2), &rows).unwrap();
    assert_close::<B>(&two, &[0.5, 0.5]);
}

fn multi_krum_full_selection_is_mean_for_any_f<B: Backend>() {
    let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![10.0, 10.0]];
    for f in [0, 1, 2, 5] {
        let out = run::<B, _>(&mut MultiKrum::new(f).with_selection(3), &rows).unwrap();
        assert_close::<B>(&out, &[11.0 / 3.0, 11.0 / 3.0]);
    }
}

fn multi_krum_rejects_bad_selection<B: Backend>() {
    let rows = vec![vec![1.0, 0.0], vec![0.0, 1.0], vec![10.0, 10.0]];
    for m in [0, 4] {
        let result = run::<B, _>(&mut MultiKrum::new(0).with_selection(m), &rows);
        assert!(
            matches!(result, Err(Error::InvalidParameter { name: "m", .. })),
            "m = {m}"
        );
    }
}

fn krum_neighbour_count_by_hand<B: Backend>() {
    // n = 5, f = 1, so scores sum the 2 smallest squared distances. On these points that
    // picks 3 (score 0.0025 + 8.41), while 1 neighbour would pick 3 or 3.05 and 3 neighbours
    // would pick 0.1 (score 0.01 + 8.41 + 8.7025).
    let rows = vec![vec![0.0], vec![0.1], vec![3.0], vec![3.05], vec![10.0]];
    assert_close::<B>(&run::<B, _>(&mut Krum::new(1), &rows).unwrap(), &[3.0]);
    // The next best score is that of 0.1 (0.01 + 8.41).
    let two = run::<B, _>(&mut MultiKrum::new(1).with_selection(2), &rows).unwrap();
    assert_close::<B>(&two, &[1.55]);

    // Here 2 neighbours pick 5.5 (0.25 + 0.25), while 1 neighbour would pick 0 (0.0001).
    let rows = vec![vec![0.0], vec![0.01], vec![5.0], vec![5.5], vec![6.0]];
    assert_close::<B>(&run::<B, _>(&mut Krum::new(1), &rows).unwrap(), &[5.5]);
}

fn krum_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(11);
    let rows = rounded::<B>(&random_rows(&mut rng, 9, 6, 2));
    let (n, f) = (rows.len(), 3);
    let members: Vec<usize> = (0..n).collect();
    let scores = brute_krum_scores(&rows, &members, n - f - 2);

    let krum = run::<B, _>(&mut Krum::new(f), &rows).unwrap();
    assert_close::<B>(&krum, &rows[scores[0].1]);

    let best4: Vec<usize> = scores[..4].iter().map(|s| s.1).collect();
    let multi = run::<B, _>(&mut MultiKrum::new(f).with_selection(4), &rows).unwrap();
    assert_close::<B>(&multi, &mean_rows(&rows, &best4));
}

fn distance_rules_translation_equivariant<B: Backend>() {
    // Far from the origin the uncentred Gram formula would cancel: with a shift of 1e8 in
    // f64, the squared norms are near 3e16 and their rounding error (about 4) exceeds the
    // squared distances between the inputs (about 0.01 to 1).
    let shift = if B::Scalar::NAME == "f32" { 1e2 } else { 1e8 };
    let epsilon = B::Scalar::epsilon().into_f64();
    let mut rng = seeded_rng(19);
    let rows: Vec<Vec<f64>> = random_rows(&mut rng, 9, 3, 2)
        .into_iter()
        .map(|r| r.into_iter().map(|x| x * 0.1).collect())
        .collect();
    let rows = rounded::<B>(&rows);
    let shifted = rounded::<B>(
        &rows
            .iter()
            .map(|r| r.iter().map(|x| x + shift).collect())
            .collect::<Vec<_>>(),
    );
    for index in 0..3 {
        let make = || -> Box<dyn Aggregator<B>> {
            match index {
                0 => Box::new(Krum::new(2)),
                1 => Box::new(MinimumDiameterAveraging::new(2)),
                _ => Box::new(Medoid::new()),
            }
        };
        let base = run::<B, _>(make().as_mut(), &rows).unwrap();
        let moved = run::<B, _>(make().as_mut(), &shifted).unwrap();
        let name = make().name();
        for k in 0..3 {
            let error = (moved[k] - shift - base[k]).abs();
            assert!(
                error <= 8.0 * epsilon * shift,
                "{name}: coordinate {k}: {} vs {}",
                moved[k] - shift,
                base[k]
            );
        }
    }
}

fn krum_rejects_inadmissible_count<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..6).map(|i| vec![f64::from(i)]).collect();
    for rule in [
        &mut Krum::new(2) as &mut dyn Aggregator<B>,
        &mut MultiKrum::new(2),
    ] {
        let result = rule.aggregate(&batch::<B>(&rows));
        assert!(matches!(
            result,
            Err(Error::InadmissibleByzantineCount {
                condition: "n > 2f + 2",
                n: 6,
                f: 2,
                ..
            })
        ));
    }
}

// ---------------------------------------------------------------------------------------
// Bulyan.

/// Brute-force Bulyan, with the same neighbour convention but a different coordinate step:
/// sort the values by distance to the median and average the first `beta`.
fn brute_bulyan(rows: &[Vec<f64>], f: usize) -> Vec<f64> {
    let n = rows.len();
    let theta = n - 2 * f;
    let beta = theta - 2 * f;
    let mut pool: Vec<usize> = (0..n).collect();
    let mut selected = Vec::new();
    for _ in 0..theta {
        let k = pool.len().saturating_sub(f + 2).max(1).min(pool.len() - 1);
        let best = brute_krum_scores(rows, &pool, k)[0].1;
        pool.retain(|&i| i != best);
        selected.push(best);
    }
    (0..rows[0].len())
        .map(|k| {
            let mut values: Vec<f64> = selected.iter().map(|&i| rows[i][k]).collect();
            values.sort_by(f64::total_cmp);
            let median = if theta % 2 == 1 {
                values[theta / 2]
            } else {
                (values[theta / 2 - 1] + values[theta / 2]) / 2.0
            };
            values.sort_by(|a, b| (a - median).abs().total_cmp(&(b - median).abs()));
            values[..beta].iter().sum::<f64>() / beta as f64
        })
        .collect()
}

fn bulyan_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(12);
    for (honest, f) in [(9, 2), (4, 0), (12, 3)] {
        let rows = rounded::<B>(&random_rows(&mut rng, honest, 5, f));
        let out = run::<B, _>(&mut Bulyan::new(f), &rows).unwrap();
        assert_close::<B>(&out, &brute_bulyan(&rows, f));
    }
}

fn bulyan_rejects_inadmissible_count<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![f64::from(i)]).collect();
    let result = run::<B, _>(&mut Bulyan::new(2), &rows);
    assert!(matches!(
        result,
        Err(Error::InadmissibleByzantineCount {
            condition: "n >= 4f + 3",
            n: 10,
            f: 2,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Centered clipping.

fn centered_clipping_hand_values<B: Backend>() {
    let rows = vec![vec![1.0, 1.0], vec![2.0, 2.0]];
    let start = || ClippingStart::Given(vec![B::Scalar::one(); 2]);
    for iterations in [1, 2] {
        let mut rule = CenteredClipping::new(B::Scalar::zero(), iterations)
            .unwrap()
            .with_start(start());
        assert_eq!(run::<B, _>(&mut rule, &rows).unwrap(), vec![1.0, 1.0]);
    }
    let half = B::Scalar::of_f64(0.5);
    let mut one_step = CenteredClipping::new(half, 1).unwrap().with_start(start());
    let v1 = 1.0 + 2f64.sqrt() / 8.0;
    assert_close::<B>(&run::<B, _>(&mut one_step, &rows).unwrap(), &[v1, v1]);
    assert_close::<B>(&[v1], &[1.176776695296637]);
    let mut two_steps = CenteredClipping::new(half, 2).unwrap().with_start(start());
    let v2 = 1.0 + 3.0 * 2f64.sqrt() / 16.0;
    assert_close::<B>(&run::<B, _>(&mut two_steps, &rows).unwrap(), &[v2, v2]);
    assert_close::<B>(&[v2], &[1.2651650429449552]);
}

fn centered_clipping_infinite_tau_gives_mean<B: Backend>() {
    let rows = vec![vec![1.0, -3.0], vec![5.0, 2.0], vec![0.0, 4.0]];
    let mut rule = CenteredClipping::new(B::Scalar::infinity(), 1).unwrap();
    assert_close::<B>(&run::<B, _>(&mut rule, &rows).unwrap(), &[2.0, 1.0]);
}

fn centered_clipping_rejects_bad_tau<B: Backend>() {
    for tau in [-1.0, f64::NAN] {
        let result = CenteredClipping::new(B::Scalar::of_f64(tau), 1);
        assert!(matches!(
            result,
            Err(Error::InvalidParameter { name: "tau", .. })
        ));
    }
}

fn centered_clipping_previous_start_carries_over<B: Backend>() {
    // From zero with tau = 1: the step towards [4, 0] is clipped to [1, 0], and twice as far
    // on the second call, which starts from the first output.
    let rows = vec![vec![4.0, 0.0]];
    let mut rule = CenteredClipping::new(B::Scalar::one(), 1)
        .unwrap()
        .with_start(ClippingStart::Previous);
    assert_close::<B>(&run::<B, _>(&mut rule, &rows).unwrap(), &[1.0, 0.0]);
    assert_close::<B>(&run::<B, _>(&mut rule, &rows).unwrap(), &[2.0, 0.0]);
}

fn centered_clipping_rejects_start_length<B: Backend>() {
    let rows = vec![vec![4.0, 0.0]];
    let mut rule = CenteredClipping::new(B::Scalar::one(), 1)
        .unwrap()
        .with_start(ClippingStart::Given(vec![B::Scalar::one(); 3]));
    let result = run::<B, _>(&mut rule, &rows);
    assert!(matches!(
        result,
        Err(Error::DimensionMismatch {
            what: "start",
            expected: 2,
            found: 3,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Minimum-diameter averaging and the medoid.

fn mda_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(13);
    let rows = rounded::<B>(&random_rows(&mut rng, 7, 4, 3));
    let (n, f) = (rows.len(), 3);

    // Every subset of size n - f as a bitmask, keyed by its squared diameter and then by its
    // sum of squared pairwise distances, both from a double loop.
    let mut best = (f64::INFINITY, f64::INFINITY, 0_u32);
    for mask in 0_u32..(1 << n) {
        if mask.count_ones() as usize != n - f {
            continue;
        }
        let members: Vec<usize> = (0..n).filter(|&i| mask & (1 << i) != 0).collect();
        let mut diameter = 0.0_f64;
        let mut spread = 0.0_f64;
        for (a, &i) in members.iter().enumerate() {
            for &j in &members[a + 1..] {
                let squared = squared_distance(&rows[i], &rows[j]);
                diameter = diameter.max(squared);
                spread += squared;
            }
        }
        if (diameter, spread) < (best.0, best.1) {
            best = (diameter, spread, mask);
        }
    }
    let members: Vec<usize> = (0..n).filter(|&i| best.2 & (1 << i) != 0).collect();
    let out = run::<B, _>(&mut MinimumDiameterAveraging::new(f), &rows).unwrap();
    assert_close::<B>(&out, &mean_rows(&rows, &members));
}

fn mda_rejects_inadmissible_and_large_searches<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..30).map(|i| vec![f64::from(i)]).collect();
    let result = run::<B, _>(&mut MinimumDiameterAveraging::new(15), &rows);
    assert!(matches!(
        result,
        Err(Error::InadmissibleByzantineCount {
            condition: "n > 2f",
            ..
        })
    ));
    // C(30, 14) = 145422675 subsets.
    let result = run::<B, _>(&mut MinimumDiameterAveraging::new(14), &rows);
    assert!(matches!(
        result,
        Err(Error::SubsetLimitExceeded {
            n: 30,
            f: 14,
            limit: 1_000_000,
            ..
        })
    ));
    let small = run::<B, _>(
        &mut MinimumDiameterAveraging::new(2).with_subset_limit(435),
        &rows,
    );
    assert!(small.is_ok());
    let result = run::<B, _>(
        &mut MinimumDiameterAveraging::new(2).with_subset_limit(434),
        &rows,
    );
    assert!(matches!(result, Err(Error::SubsetLimitExceeded { .. })));
}

fn medoid_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(14);
    let rows = rounded::<B>(&random_rows(&mut rng, 8, 5, 3));
    let sums: Vec<f64> = (0..rows.len())
        .map(|i| {
            (0..rows.len())
                .map(|j| squared_distance(&rows[i], &rows[j]).sqrt())
                .sum()
        })
        .collect();
    let best = (0..rows.len()).fold(0, |b, i| if sums[i] < sums[b] { i } else { b });
    let out = run::<B, _>(&mut Medoid::new(), &rows).unwrap();
    assert_close::<B>(&out, &rows[best]);
}

// ---------------------------------------------------------------------------------------
// Spectral filter.

fn spectral_filter_hand_value<B: Backend>() {
    let rows = vec![
        vec![1.0, 0.0],
        vec![-1.0, 0.0],
        vec![0.0, 1.0],
        vec![0.0, -1.0],
        vec![40.0, 40.0],
    ];
    let out = run::<B, _>(&mut SpectralFilter::new(1), &rows).unwrap();
    assert_close::<B>(&out, &[0.0, 0.0]);
    let loose = run::<B, _>(
        &mut SpectralFilter::new(1).with_variance_bound(1e9).unwrap(),
        &rows,
    )
    .unwrap();
    assert_close::<B>(&loose, &[8.0, 8.0]);
}

/// Brute-force spectral filter: the top eigenvector of the `d x d` covariance by power
/// iteration, and removal of the largest absolute projection, `f` times.
fn brute_spectral_filter(rows: &[Vec<f64>], f: usize) -> Vec<f64> {
    let d = rows[0].len();
    let mut active: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..f {
        let mean = mean_rows(rows, &active);
        let mut covariance = vec![0.0; d * d];
        for &i in &active {
            for a in 0..d {
                for b in 0..d {
                    covariance[a * d + b] += (rows[i][a] - mean[a]) * (rows[i][b] - mean[b]);
                }
            }
        }
        let mut v = vec![1.0; d];
        v[0] = 1.5;
        for _ in 0..2000 {
            let next: Vec<f64> = (0..d)
                .map(|a| (0..d).map(|b| covariance[a * d + b] * v[b]).sum())
                .collect();
            let length = next.iter().map(|x| x * x).sum::<f64>().sqrt();
            v = next.iter().map(|x| x / length).collect();
        }
        let projection = |i: usize| {
            (0..d)
                .map(|a| (rows[i][a] - mean[a]) * v[a])
                .sum::<f64>()
                .abs()
        };
        let worst = (0..active.len()).fold(0, |w, k| {
            if projection(active[k]) > projection(active[w]) {
                k
            } else {
                w
            }
        });
        active.remove(worst);
    }
    mean_rows(rows, &active)
}

fn spectral_filter_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(15);
    let mut rows = rounded::<B>(&random_rows(&mut rng, 12, 3, 0));
    // Two outliers along one direction and one along another.
    rows.push(vec![6.0, 6.5, 0.0]);
    rows.push(vec![7.0, 5.5, 0.5]);
    rows.push(vec![0.0, -4.0, 9.0]);
    let rows = rounded::<B>(&rows);
    let out = run::<B, _>(&mut SpectralFilter::new(3), &rows).unwrap();
    assert_close::<B>(&out, &brute_spectral_filter(&rows, 3));
}

fn spectral_filter_rejects_inadmissible_count<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..4).map(|i| vec![f64::from(i)]).collect();
    let result = run::<B, _>(&mut SpectralFilter::new(2), &rows);
    assert!(matches!(
        result,
        Err(Error::InadmissibleByzantineCount {
            condition: "n > 2f",
            ..
        })
    ));
    assert!(matches!(
        SpectralFilter::new(1).with_variance_bound(-1.0),
        Err(Error::InvalidParameter { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Pre-aggregation steps and chains.

fn rows_of<B: Backend>(batch: &B::Batch) -> Vec<Vec<f64>> {
    (0..B::batch_count(batch))
        .map(|i| {
            B::batch_gradient(batch, i)
                .iter()
                .map(|x| x.into_f64())
                .collect()
        })
        .collect()
}

fn nnm_matches_brute_force<B: Backend>() {
    let mut rng = seeded_rng(16);
    let rows = rounded::<B>(&random_rows(&mut rng, 7, 4, 2));
    let (n, f) = (rows.len(), 2);
    let mixed = apply::<B, _>(&mut NearestNeighborMixing::new(f), &batch::<B>(&rows)).unwrap();
    for i in 0..n {
        let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        others.sort_by(|&a, &b| {
            squared_distance(&rows[i], &rows[a]).total_cmp(&squared_distance(&rows[i], &rows[b]))
        });
        let mut members = vec![i];
        members.extend(&others[..n - f - 1]);
        assert_close::<B>(&mixed[i], &mean_rows(&rows, &members));
    }
    let result = apply::<B, _>(&mut NearestNeighborMixing::new(5), &batch::<B>(&rows));
    assert!(matches!(
        result,
        Err(Error::InadmissibleByzantineCount { .. })
    ));
}

fn bucketing_preserves_totals<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..7)
        .map(|i| vec![f64::from(i), f64::from(i * i)])
        .collect();
    let input = batch::<B>(&rows);

    // Bucket size 1 permutes the inputs.
    let shuffled = apply::<B, _>(&mut Bucketing::new(1, 3).unwrap(), &input).unwrap();
    let mut sorted = shuffled.clone();
    sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
    assert_eq!(sorted, rows);

    // Buckets of 3 among 7: sizes 3, 3, 1, so the weighted bucket means sum to the total.
    let mut rule = Bucketing::new(3, 3).unwrap();
    let buckets = apply::<B, _>(&mut rule, &input).unwrap();
    assert_eq!(buckets.len(), 3);
    let total: f64 = buckets[0][1] * 3.0 + buckets[1][1] * 3.0 + buckets[2][1];
    assert_close::<B>(&[total], &[91.0]);

    // The same seed gives the same sequence of permutations.
    let mut again = Bucketing::new(3, 3).unwrap();
    assert_eq!(apply::<B, _>(&mut again, &input).unwrap(), buckets);
    assert!(matches!(
        Bucketing::new(0, 1),
        Err(Error::InvalidParameter {
            name: "bucket_size",
            ..
        })
    ));
}

fn arc_clips_largest_norms<B: Backend>() {
    let rows = vec![
        vec![1.0, 0.0],
        vec![0.0, 2.0],
        vec![3.0, 0.0],
        vec![0.0, 4.0],
        vec![3.0, 4.0],
    ];
    // f = 1: k = floor(2 * 4 / 5) = 1, so the norm-5 input is clipped to norm 4.
    let one = apply::<B, _>(&mut AdaptiveClipping::new(1), &batch::<B>(&rows)).unwrap();
    assert_close::<B>(&one[4], &[2.4, 3.2]);
    assert_close::<B>(&one[3], &[0.0, 4.0]);
    // f = 2: k = floor(2 * 2 * 3 / 5) = 2, so the norms 5 and 4 are clipped to 3.
    let two = apply::<B, _>(&mut AdaptiveClipping::new(2), &batch::<B>(&rows)).unwrap();
    assert_close::<B>(&two[4], &[1.8, 2.4]);
    assert_close::<B>(&two[3], &[0.0, 3.0]);
    assert_close::<B>(&two[2], &[3.0, 0.0]);
    let result = apply::<B, _>(&mut AdaptiveClipping::new(3), &batch::<B>(&rows));
    assert!(matches!(
        result,
        Err(Error::InadmissibleByzantineCount { .. })
    ));
}

fn chain_equals_manual_composition<B: Backend>() {
    let mut rng = seeded_rng(17);
    let rows = rounded::<B>(&random_rows(&mut rng, 8, 3, 2));
    let mut chain = PreAggregated::<B, _>::new(Krum::new(2))
        .with_step(AdaptiveClipping::new(2))
        .with_step(NearestNeighborMixing::new(2));
    assert_eq!(chain.name(), "arc+nnm+krum");
    let chained = run::<B, _>(&mut chain, &rows).unwrap();

    let clipped =
        PreAggregation::<B>::apply(&mut AdaptiveClipping::new(2), &batch::<B>(&rows)).unwrap();
    let mixed = PreAggregation::<B>::apply(&mut NearestNeighborMixing::new(2), &clipped).unwrap();
    let manual = Aggregator::<B>::aggregate(&mut Krum::new(2), &mixed).unwrap();
    let manual: Vec<f64> = B::vector_as_slice(&manual)
        .iter()
        .map(|x| x.into_f64())
        .collect();
    assert_eq!(chained, manual);
}

// ---------------------------------------------------------------------------------------
// Every rule: empty batches, output length, non-finite inputs.

/// Returns every rule, configured for `f` Byzantine inputs among `n >= 4f + 3`.
fn all_rules<B: Backend>(f: usize) -> Vec<Box<dyn Aggregator<B>>> {
    vec![
        Box::new(Krum::new(f)),
        Box::new(MultiKrum::new(f)),
        Box::new(Bulyan::new(f)),
        Box::new(CenteredClipping::new(B::Scalar::one(), 3).unwrap()),
        Box::new(MinimumDiameterAveraging::new(f)),
        Box::new(Medoid::new()),
        Box::new(SpectralFilter::new(f)),
        Box::new(PreAggregated::<B, _>::new(Krum::new(f)).with_step(NearestNeighborMixing::new(f))),
        Box::new(PreAggregated::<B, _>::new(MultiKrum::new(f)).with_step(AdaptiveClipping::new(f))),
        Box::new(PreAggregated::<B, _>::new(Krum::new(f)).with_step(Bucketing::new(1, 5).unwrap())),
    ]
}

fn every_rule_rejects_empty_batch<B: Backend>() {
    let empty = B::batch_from_rows(&[], 0, 3).unwrap();
    for mut rule in all_rules::<B>(1) {
        let result = rule.aggregate(&empty);
        assert!(matches!(result, Err(Error::EmptyBatch)), "{}", rule.name());
    }
    let steps: Vec<Box<dyn PreAggregation<B>>> = vec![
        Box::new(NearestNeighborMixing::new(0)),
        Box::new(AdaptiveClipping::new(0)),
        Box::new(Bucketing::new(2, 1).unwrap()),
    ];
    for mut step in steps {
        let result = step.apply(&empty);
        assert!(matches!(result, Err(Error::EmptyBatch)), "{}", step.name());
    }
}

#[test]
fn ragged_gradients_rejected_with_lengths() {
    let ragged: [&[f64]; 2] = [&[1.0, 2.0, 3.0], &[4.0, 5.0]];
    let result = median_core::batch::aggregate_gradients(&mut Krum::new(0), &ragged);
    assert!(matches!(
        result,
        Err(Error::Linalg(median_linalg::LinalgError::RaggedBatch {
            index: 1,
            expected: 3,
            found: 2
        }))
    ));
}

fn every_rule_rejects_wrong_output_length<B: Backend>() {
    let rows: Vec<Vec<f64>> = (0..11).map(|i| vec![f64::from(i), 1.0]).collect();
    let input = batch::<B>(&rows);
    for mut rule in all_rules::<B>(2) {
        let mut out = vec![B::Scalar::zero(); 3];
        let result = rule.aggregate_into(&input, &mut out);
        assert!(
            matches!(
                result,
                Err(Error::DimensionMismatch {
                    expected: 2,
                    found: 3,
                    ..
                })
            ),
            "{}: {result:?}",
            rule.name()
        );
    }
}

fn every_rule_survives_f_bad_inputs<B: Backend>() {
    let mut rng = seeded_rng(18);
    let f = 2;
    let honest = rounded::<B>(&random_rows(&mut rng, 9, 4, 0));
    for bad in [f64::INFINITY, f64::NAN, 1e300, -1e300] {
        let mut rows = honest.clone();
        rows.insert(3, vec![bad; 4]);
        rows.push(vec![bad; 4]);
        let bad_is_finite = B::Scalar::of_f64(bad).is_finite();
        for mut rule in all_rules::<B>(f) {
            let name = rule.name();
            let result = run::<B, _>(rule.as_mut(), &rows);
            if name == "centered-clipping" && !bad_is_finite {
                assert!(
                    matches!(result, Err(Error::NonFinite { index: 3, .. })),
                    "{name} {bad}: {result:?}"
                );
                continue;
            }
            let out = result.unwrap_or_else(|e| panic!("{name} with {bad}: {e}"));
            assert!(
                out.iter().all(|x| x.is_finite()),
                "{name} with {bad}: {out:?}"
            );
            if name == "centered-clipping" {
                // Each of 3 steps moves at most tau = 1 from zero.
                assert!(
                    out.iter().map(|x| x * x).sum::<f64>().sqrt() <= 3.0 + 1e-6,
                    "{name}: {out:?}"
                );
                continue;
            }
            // The other rules stay within the honest range in every coordinate.
            for k in 0..4 {
                let low = honest.iter().map(|r| r[k]).fold(f64::INFINITY, f64::min);
                let high = honest
                    .iter()
                    .map(|r| r[k])
                    .fold(f64::NEG_INFINITY, f64::max);
                let slack = 1e-6 * (high - low);
                assert!(
                    out[k] >= low - slack && out[k] <= high + slack,
                    "{name} with {bad}: {out:?}"
                );
            }
        }
    }
}

fn rules_report_too_many_non_finite_inputs<B: Backend>() {
    // Every input non-finite: no rule may return NaN.
    let rows = vec![vec![f64::NAN, 1.0]; 11];
    for mut rule in all_rules::<B>(2) {
        let name = rule.name();
        let result = run::<B, _>(rule.as_mut(), &rows);
        assert!(
            matches!(result, Err(Error::NonFinite { .. })),
            "{name}: {result:?}"
        );
    }
}

macro_rules! backend_tests {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            #[test]
            fn multi_krum_f0_mean() {
                multi_krum_f0_gives_plain_mean::<$backend>();
            }
            #[test]
            fn krum_f0_one_neighbour() {
                krum_f0_uses_one_neighbour::<$backend>();
            }
            #[test]
            fn multi_krum_full_selection() {
                multi_krum_full_selection_is_mean_for_any_f::<$backend>();
            }
            #[test]
            fn multi_krum_bad_selection() {
                multi_krum_rejects_bad_selection::<$backend>();
            }
            #[test]
            fn krum_neighbour_count() {
                krum_neighbour_count_by_hand::<$backend>();
            }
            #[test]
            fn translation_equivariance() {
                distance_rules_translation_equivariant::<$backend>();
            }
            #[test]
            fn krum_brute_force() {
                krum_matches_brute_force::<$backend>();
            }
            #[test]
            fn krum_inadmissible() {
                krum_rejects_inadmissible_count::<$backend>();
            }
            #[test]
            fn bulyan_brute_force() {
                bulyan_matches_brute_force::<$backend>();
            }
            #[test]
            fn bulyan_inadmissible() {
                bulyan_rejects_inadmissible_count::<$backend>();
            }
            #[test]
            fn centered_clipping_values() {
                centered_clipping_hand_values::<$backend>();
            }
            #[test]
            fn centered_clipping_infinite_tau() {
                centered_clipping_infinite_tau_gives_mean::<$backend>();
            }
            #[test]
            fn centered_clipping_bad_tau() {
                centered_clipping_rejects_bad_tau::<$backend>();
            }
            #[test]
            fn centered_clipping_previous_start() {
                centered_clipping_previous_start_carries_over::<$backend>();
            }
            #[test]
            fn centered_clipping_start_length() {
                centered_clipping_rejects_start_length::<$backend>();
            }
            #[test]
            fn mda_brute_force() {
                mda_matches_brute_force::<$backend>();
            }
            #[test]
            fn mda_limits() {
                mda_rejects_inadmissible_and_large_searches::<$backend>();
            }
            #[test]
            fn medoid_brute_force() {
                medoid_matches_brute_force::<$backend>();
            }
            #[test]
            fn spectral_filter_hand() {
                spectral_filter_hand_value::<$backend>();
            }
            #[test]
            fn spectral_filter_brute_force() {
                spectral_filter_matches_brute_force::<$backend>();
            }
            #[test]
            fn spectral_filter_inadmissible() {
                spectral_filter_rejects_inadmissible_count::<$backend>();
            }
            #[test]
            fn nnm_brute_force() {
                nnm_matches_brute_force::<$backend>();
            }
            #[test]
            fn bucketing_totals() {
                bucketing_preserves_totals::<$backend>();
            }
            #[test]
            fn arc_clipping() {
                arc_clips_largest_norms::<$backend>();
            }
            #[test]
            fn chain_composition() {
                chain_equals_manual_composition::<$backend>();
            }
            #[test]
            fn empty_batch() {
                every_rule_rejects_empty_batch::<$backend>();
            }
            #[test]
            fn wrong_output_length() {
                every_rule_rejects_wrong_output_length::<$backend>();
            }
            #[test]
            fn bad_inputs_up_to_f() {
                every_rule_survives_f_bad_inputs::<$backend>();
            }
            #[test]
            fn all_inputs_non_finite() {
                rules_report_too_many_non_finite_inputs::<$backend>();
            }
        }
    };
}

backend_tests!(vec_f64, median_linalg::VecBackend<f64>);
backend_tests!(vec_f32, median_linalg::VecBackend<f32>);
backend_tests!(nalgebra_f64, median_nalgebra::NalgebraBackend<f64>);
backend_tests!(nalgebra_f32, median_nalgebra::NalgebraBackend<f32>);
backend_tests!(faer_f64, median_faer::FaerBackend<f64>);
backend_tests!(faer_f32, median_faer::FaerBackend<f32>);
