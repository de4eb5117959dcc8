//! The geometric median against independently computed values: symmetric sets, the Fermat point of
//! a triangle, and a Newton solver on heavy-tailed data.

use median_conformance::seeded_rng;
use median_core::batch::{GeometricMedian, GeometricMedianSolver, StartPoint, StopReason};
use median_linalg::{Backend, RowBatch, VecBackend};
use rand::RngExt;
use rand_distr::StudentT;

type B = VecBackend<f64>;

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn distance(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn geometric_median_of_symmetric_set_is_centre() {
    let mut rng = seeded_rng(11);
    let dim = 5;
    let centre: Vec<f64> = (0..dim).map(|_| rng.random_range(-10.0..10.0)).collect();
    let mut rows = Vec::new();
    for _ in 0..20 {
        let offset: Vec<f64> = (0..dim).map(|_| rng.random_range(-3.0..3.0)).collect();
        rows.extend(centre.iter().zip(&offset).map(|(c, o)| c + o));
        rows.extend(centre.iter().zip(&offset).map(|(c, o)| c - o));
    }
    let batch = B::batch_from_rows(&rows, 40, dim).unwrap();

    let far_start = vec![100.0; dim];
    let mut median = GeometricMedian::new().with_start(StartPoint::Point(far_start));
    let (m, info) = median.solve::<B>(&batch).unwrap();
    assert!(info.converged, "{info:?}");
    assert!(
        distance(&m, &centre) <= 1e-9 * norm(&centre),
        "{m:?} vs {centre:?}"
    );
}

/// Returns the Fermat point of a triangle whose angles are all below 120 degrees, from its
/// barycentric coordinates `a csc(A + 60°) : b csc(B + 60°) : c csc(C + 60°)`.
fn fermat_point(p: [[f64; 2]; 3]) -> [f64; 2] {
    let side = |i: usize, j: usize| distance(&p[i], &p[j]);
    let (a, b, c) = (side(1, 2), side(2, 0), side(0, 1));
    let angle = |opposite: f64, s1: f64, s2: f64| {
        ((s1 * s1 + s2 * s2 - opposite * opposite) / (2.0 * s1 * s2)).acos()
    };
    let third = std::f64::consts::FRAC_PI_3;
    let weights = [
        a / (angle(a, b, c) + third).sin(),
        b / (angle(b, c, a) + third).sin(),
        c / (angle(c, a, b) + third).sin(),
    ];
    let total: f64 = weights.iter().sum();
    let mut point = [0.0; 2];
    for (w, v) in weights.iter().zip(&p) {
        point[0] += w * v[0] / total;
        point[1] += w * v[1] / total;
    }
    point
}

#[test]
fn geometric_median_of_triangle_is_fermat_point() {
    let mut rng = seeded_rng(12);
    let mut checked = 0;
    while checked < 20 {
        let p: [[f64; 2]; 3] =
            std::array::from_fn(|_| [rng.random_range(-5.0..5.0), rng.random_range(-5.0..5.0)]);
        let max_cos = (0..3)
            .map(|i| {
                let (j, k) = ((i + 1) % 3, (i + 2) % 3);
                let u = [p[j][0] - p[i][0], p[j][1] - p[i][1]];
                let v = [p[k][0] - p[i][0], p[k][1] - p[i][1]];
                (u[0] * v[0] + u[1] * v[1]) / (norm(&u) * norm(&v))
            })
            .fold(-1.0, f64::max);
        // Every angle between 10 and 110 degrees keeps the problem well conditioned.
        let min_cos = (0..3)
            .map(|i| {
                let (j, k) = ((i + 1) % 3, (i + 2) % 3);
                let u = [p[j][0] - p[i][0], p[j][1] - p[i][1]];
                let v = [p[k][0] - p[i][0], p[k][1] - p[i][1]];
                (u[0] * v[0] + u[1] * v[1]) / (norm(&u) * norm(&v))
            })
            .fold(1.0, f64::min);
        if max_cos > 10f64.to_radians().cos() || min_cos < 110f64.to_radians().cos() {
            continue;
        }
        checked += 1;

        let rows: Vec<f64> = p.iter().flatten().copied().collect();
        let batch = B::batch_from_rows(&rows, 3, 2).unwrap();
        let mut median = GeometricMedian::new().with_tolerance(1e-13).unwrap();
        let (m, info) = median.solve::<B>(&batch).unwrap();
        let expected = fermat_point(p);
        assert!(info.converged, "{info:?}");
        assert!(
            distance(&m, &expected) <= 1e-10,
            "{m:?} vs {expected:?} for {p:?}"
        );
    }
}

/// Draws `n` points of dimension `dim` with independent Student-t coordinates (3 degrees
/// of freedom), shifted by `location`.
fn student_t_batch(seed: u64, n: usize, location: &[f64]) -> RowBatch<f64> {
    let mut rng = seeded_rng(seed);
    let t = StudentT::new(3.0).unwrap();
    let rows: Vec<f64> = (0..n)
        .flat_map(|_| {
            location
                .iter()
                .map(|l| l + rng.sample(t))
                .collect::<Vec<_>>()
        })
        .collect();
    B::batch_from_rows(&rows, n, location.len()).unwrap()
}

/// Minimises `sum_i ||m - x_i||` by damped Newton steps on the exact objective (smooth
/// away from the data points), solving each Newton system by Cholesky factorisation.
fn newton_geometric_median(points: &[Vec<f64>], start: &[f64]) -> Vec<f64> {
    let dim = start.len();
    let objective = |m: &[f64]| points.iter().map(|x| distance(m, x)).sum::<f64>();
    let mut m = start.to_vec();
    for _ in 0..100 {
        let mut gradient = vec![0.0; dim];
        let mut hessian = vec![0.0; dim * dim];
        for x in points {
            let d = distance(&m, x);
            let u: Vec<f64> = m.iter().zip(x).map(|(a, b)| (a - b) / d).collect();
            for r in 0..dim {
                gradient[r] += u[r];
                for c in 0..dim {
                    let identity = if r == c { 1.0 } else { 0.0 };
                    hessian[r * dim + c] += (identity - u[r] * u[c]) / d;
                }
            }
        }
        if norm(&gradient) <= 1e-14 * points.len() as f64 {
            break;
        }
        let step = cholesky_solve(&hessian, &gradient, dim);

        // Halve the step until the objective decreases.
        let current = objective(&m);
        let mut scale = 1.0;
        loop {
            let candidate: Vec<f64> = m.iter().zip(&step).map(|(a, s)| a - scale * s).collect();
            if objective(&candidate) <= current || scale < 1e-12 {
                m = candidate;
                break;
            }
            scale *= 0.5;
        }
    }
    m
}

/// Solves `A x = b` for a symmetric positive definite `A` (row-major).
fn cholesky_solve(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut sum = a[i * n + j];
            for k in 0..j {
                sum -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                l[i * n + i] = sum.sqrt();
            } else {
                l[i * n + j] = sum / l[j * n + j];
            }
        }
    }
    let mut y = vec![0.0; n];
    for i in 0..n {
        let sum: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (b[i] - sum) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let sum: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - sum) / l[i * n + i];
    }
    x
}

#[test]
fn geometric_median_student_t_matches_newton() {
    let dim = 64;
    let location: Vec<f64> = (0..dim).map(|j| 1.0 + (j % 7) as f64).collect();
    let batch = student_t_batch(13, 1000, &location);

    let mut median = GeometricMedian::new().with_tolerance(1e-10).unwrap();
    let (m, info) = median.solve::<B>(&batch).unwrap();
    assert_eq!(info.stop_reason, StopReason::Converged, "{info:?}");
    assert!(info.certificate <= 1e-10);

    let points: Vec<Vec<f64>> = (0..1000)
        .map(|i| B::batch_gradient(&batch, i).to_vec())
        .collect();
    let reference = newton_geometric_median(&points, &location);
    let error = distance(&m, &reference) / norm(&reference);
    assert!(error <= 1e-8, "relative distance {error:e}, info {info:?}");
}

#[test]
fn geometric_median_spp_sweeps_match_weiszfeld_roughly() {
    let location = vec![2.0; 8];
    let batch = student_t_batch(14, 200, &location);
    let (weiszfeld, _) = GeometricMedian::new().solve::<B>(&batch).unwrap();
    let mut spp = GeometricMedian::new()
        .with_solver(GeometricMedianSolver::SppSweeps)
        .with_max_iter(500);
    let (m, info) = spp.solve::<B>(&batch).unwrap();
    assert!(info.certificate < 0.02, "{info:?}");
    assert!(
        distance(&m, &weiszfeld) <= 0.01 * norm(&weiszfeld),
        "{info:?}"
    );
}

#[test]
fn geometric_median_can_leave_inlier_bounding_box() {
    // Three inliers on the x-axis and two outliers far up the y-axis: the unit vectors
    // balance at (0, t) with 2 t / sqrt(1 + t^2) + 1 = 2, so t = 1 / sqrt(3), outside the
    // inliers' bounding box (whose y-range is [0, 0]) although fewer than half are outliers.
    let rows = [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1e300, 0.0, 1e300];
    let batch = B::batch_from_rows(&rows, 5, 2).unwrap();
    let (m, info) = GeometricMedian::new()
        .with_tolerance(1e-14)
        .unwrap()
        .solve::<B>(&batch)
        .unwrap();
    assert!(info.converged, "{info:?}");
    assert!(m[0].abs() <= 1e-13, "{m:?}");
    assert!((m[1] - 1.0 / 3f64.sqrt()).abs() <= 1e-12, "{m:?}");
}

/// Solves with the given start point, tolerance 1e-10.
fn solve_from(batch: &RowBatch<f64>, start: StartPoint<f64>) -> (Vec<f64>, f64, usize) {
    let mut median = GeometricMedian::new()
        .with_tolerance(1e-10)
        .unwrap()
        .with_start(start);
    let (m, info) = median.solve::<B>(batch).unwrap();
    assert!(info.converged, "{info:?}");
    (m, info.certificate, info.iterations)
}

#[test]
fn reduced_start_is_certified_at_once_with_outliers() {
    // 30 Student-t inliers about 1 and 10 outliers about 40, in 50 dimensions.
    let dim = 50;
    let inliers = student_t_batch(21, 30, &vec![1.0; dim]);
    let outliers = student_t_batch(22, 10, &vec![40.0; dim]);
    let mut rows: Vec<f64> = Vec::new();
    for i in 0..30 {
        rows.extend_from_slice(B::batch_gradient(&inliers, i));
    }
    for i in 0..10 {
        rows.extend_from_slice(B::batch_gradient(&outliers, i));
    }
    let batch = B::batch_from_rows(&rows, 40, dim).unwrap();
    let points: Vec<Vec<f64>> = rows.chunks(dim).map(<[f64]>::to_vec).collect();
    let reference = newton_geometric_median(&points, &vec![1.0; dim]);

    let (reduced, certificate, iterations) = solve_from(&batch, StartPoint::Reduced);
    assert_eq!(iterations, 0, "certificate {certificate:e}");
    let error = distance(&reduced, &reference) / norm(&reference);
    assert!(error <= 1e-9, "relative distance {error:e}");

    // The mean start reaches the same point through full-space iterations.
    let (from_mean, _, mean_iterations) = solve_from(&batch, StartPoint::Mean);
    assert!(mean_iterations > 0);
    assert!(distance(&reduced, &from_mean) <= 1e-8 * norm(&reference));
}

#[test]
fn reduced_start_hands_over_near_a_data_point() {
    // Three copies of the origin and four unit points around it: the unit vectors cancel,
    // so the median is the origin, a data point, where the reduced expansion loses its
    // digits.
    let rows = [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, -1.0, 0.0, 0.0, 1.0, 0.0, -1.0,
    ];
    let batch = B::batch_from_rows(&rows, 7, 2).unwrap();
    let mut median = GeometricMedian::new().with_start(StartPoint::Reduced);
    let (m, info) = median.solve::<B>(&batch).unwrap();
    assert!(info.converged, "{info:?}");
    assert_eq!(m, vec![0.0, 0.0]);
}

#[test]
fn reduced_start_falls_back_when_distances_overflow() {
    // Squared distances near 1e400 overflow, so the start is the coordinate median.
    let rows = [1e200, 0.0, -1e200, 1.0, 0.0, 1e200, 3.0, -2.0, 0.5, 0.25];
    let batch = B::batch_from_rows(&rows, 5, 2).unwrap();
    let (reduced, _, reduced_iterations) = solve_from(&batch, StartPoint::Reduced);
    let (median, _, median_iterations) = solve_from(&batch, StartPoint::CoordinateMedian);
    assert_eq!(reduced, median);
    assert_eq!(reduced_iterations, median_iterations);
}

#[test]
fn reduced_start_matches_mean_start_in_f32() {
    let dim = 40;
    let batch64 = student_t_batch(23, 25, &vec![3.0; dim]);
    let rows: Vec<f32> = (0..25)
        .flat_map(|i| B::batch_gradient(&batch64, i).to_vec())
        .map(|v| v as f32)
        .collect();
    let batch = VecBackend::<f32>::batch_from_rows(&rows, 25, dim).unwrap();
    let solve = |start| {
        let mut median = GeometricMedian::<f32>::new().with_start(start);
        let (m, info) = median.solve::<VecBackend<f32>>(&batch).unwrap();
        assert!(info.converged, "{info:?}");
        m
    };
    let reduced = solve(StartPoint::Reduced);
    let from_mean = solve(StartPoint::Mean);
    let gap: f32 = reduced
        .iter()
        .zip(&from_mean)
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        .sqrt();
    let scale: f32 = from_mean.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!(gap <= 1e-4 * scale, "gap {gap:e}");
}

#[test]
fn overflowing_objective_is_solved_at_a_smaller_scale() {
    // The objective near 3e308 overflows; the median scales with the points.
    let unit = [1.0, -1.0, -1.0, 1.0, 1.0, 1.0];
    let (m1, info1) = GeometricMedian::new()
        .solve::<B>(&B::batch_from_rows(&unit, 3, 2).unwrap())
        .unwrap();
    assert!(info1.converged, "{info1:?}");
    let c = 1e308;
    let huge: Vec<f64> = unit.iter().map(|v| v * c).collect();
    let (m, info) = GeometricMedian::new()
        .solve::<B>(&B::batch_from_rows(&huge, 3, 2).unwrap())
        .unwrap();
    assert!(info.converged, "{info:?}");
    for k in 0..2 {
        assert!((m[k] / c - m1[k]).abs() <= 1e-9, "{m:?} vs {m1:?}");
    }
}

#[test]
fn tiny_points_converge_at_a_larger_scale() {
    let unit = [4.0, -4.0, 0.0, -3.0, -3.0, -1.0, -2.0, -2.0];
    let (m1, _) = GeometricMedian::new()
        .solve::<B>(&B::batch_from_rows(&unit, 4, 2).unwrap())
        .unwrap();
    let c = 1e-300;
    let tiny: Vec<f64> = unit.iter().map(|v| v * c).collect();
    let (m, info) = GeometricMedian::new()
        .solve::<B>(&B::batch_from_rows(&tiny, 4, 2).unwrap())
        .unwrap();
    assert!(info.converged, "{info:?}");
    for k in 0..2 {
        assert!((m[k] / c - m1[k]).abs() <= 1e-8, "{m:?} vs {m1:?}");
    }
}
