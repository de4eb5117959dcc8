//! The checks of each operation against the oracle, [`VecBackend`].

use median_linalg::{Backend, Float, LinalgError, One, Scalar, VecBackend, Zero, kernels};

use crate::{
    BATCH_SHAPES, VECTOR_SIZES, assert_mismatch, assert_sum_close, dot_magnitude, random_batch,
    random_vec, seeded_rng,
};

type Of<B> = <B as Backend>::Scalar;

/// Returns a label such as `"faer/f32"` for messages.
fn label<B: Backend>() -> String {
    format!("{}/{}", B::NAME, Of::<B>::NAME)
}

/// Checks vector construction, slice access, zeros and dimension.
pub fn check_vectors_round_trip<B: Backend>() {
    let mut rng = seeded_rng(1);
    for &len in VECTOR_SIZES {
        let values = random_vec::<Of<B>>(&mut rng, len);
        let mut v = B::vector_from_slice(&values);
        assert_eq!(
            B::vector_as_slice(&v),
            &values[..],
            "{}: from_slice",
            label::<B>()
        );
        assert_eq!(B::dim(&v), len, "{}: dim", label::<B>());

        B::vector_as_mut_slice(&mut v)
            .iter_mut()
            .for_each(|x| *x = -*x);
        let negated: Vec<Of<B>> = values.iter().map(|x| -*x).collect();
        assert_eq!(
            B::vector_as_slice(&v),
            &negated[..],
            "{}: as_mut_slice",
            label::<B>()
        );

        let zeros = B::vector_zeros(len);
        assert!(
            B::vector_as_slice(&zeros)
                .iter()
                .all(|&x| x == Of::<B>::zero())
        );
        assert_eq!(B::dim(&zeros), len);
    }
}

/// Checks batch construction from rows and from gradients, gradient access and writes.
pub fn check_batches_round_trip<B: Backend>() {
    let mut rng = seeded_rng(2);
    for &(count, dim) in BATCH_SHAPES {
        let (mut batch, rows) = random_batch::<B>(&mut rng, count, dim);
        assert_eq!(
            B::batch_count(&batch),
            count,
            "{}: batch_count",
            label::<B>()
        );
        assert_eq!(B::batch_dim(&batch), dim, "{}: batch_dim", label::<B>());
        for i in 0..count {
            assert_eq!(B::batch_gradient(&batch, i), &rows[i * dim..(i + 1) * dim]);
        }

        let gradients: Vec<&[Of<B>]> = rows.chunks(dim.max(1)).take(count).collect();
        if dim > 0 {
            let again = B::batch_from_gradients(&gradients).expect("equal lengths");
            for i in 0..count {
                assert_eq!(B::batch_gradient(&again, i), B::batch_gradient(&batch, i));
            }
        }

        if count > 0 {
            let last = count - 1;
            B::batch_gradient_mut(&mut batch, last).fill(Of::<B>::one());
            assert!(
                B::batch_gradient(&batch, last)
                    .iter()
                    .all(|&x| x == Of::<B>::one())
            );
            if count > 1 {
                assert_eq!(B::batch_gradient(&batch, 0), &rows[..dim], "write leaked");
            }
        }
    }
}

/// Checks `dot` against the oracle.
pub fn check_dot<B: Backend>() {
    let mut rng = seeded_rng(3);
    for &len in VECTOR_SIZES {
        let x = random_vec::<Of<B>>(&mut rng, len);
        let y = random_vec::<Of<B>>(&mut rng, len);
        let found = B::dot(&B::vector_from_slice(&x), &B::vector_from_slice(&y)).unwrap();
        let expected = VecBackend::dot(&x, &y).unwrap();
        let what = format!("{}: dot at length {len}", label::<B>());
        assert_sum_close(&what, found, expected, len, dot_magnitude(&x, &y));
    }
}

/// Checks `axpy` and `scale` against the oracle, entry by entry.
pub fn check_axpy_and_scale<B: Backend>() {
    let mut rng = seeded_rng(4);
    let alpha = Of::<B>::of_f64(-0.75);
    for &len in VECTOR_SIZES {
        let x = random_vec::<Of<B>>(&mut rng, len);
        let y = random_vec::<Of<B>>(&mut rng, len);

        let mut found = B::vector_from_slice(&y);
        B::axpy(alpha, &B::vector_from_slice(&x), &mut found).unwrap();
        let mut expected = y.clone();
        VecBackend::axpy(alpha, &x, &mut expected).unwrap();
        for (i, (&f, &e)) in B::vector_as_slice(&found).iter().zip(&expected).enumerate() {
            let magnitude = y[i].abs() + (alpha * x[i]).abs();
            assert_sum_close(&format!("{}: axpy[{i}]", label::<B>()), f, e, 2, magnitude);
        }

        let mut scaled = B::vector_from_slice(&x);
        B::scale(alpha, &mut scaled);
        for (i, &f) in B::vector_as_slice(&scaled).iter().enumerate() {
            assert_eq!(f, alpha * x[i], "{}: scale[{i}]", label::<B>());
        }
    }
}

/// Checks `norm` and `distance` against the oracle.
pub fn check_norm_and_distance<B: Backend>() {
    let mut rng = seeded_rng(5);
    for &len in VECTOR_SIZES {
        let x = random_vec::<Of<B>>(&mut rng, len);
        let y = random_vec::<Of<B>>(&mut rng, len);
        let (bx, by) = (B::vector_from_slice(&x), B::vector_from_slice(&y));

        let what = format!("{}: norm at length {len}", label::<B>());
        assert_sum_close(
            &what,
            B::norm(&bx),
            kernels::norm(&x),
            len,
            kernels::norm(&x),
        );

        let found = B::distance(&bx, &by).unwrap();
        let expected = kernels::distance(&x, &y);
        let what = format!("{}: distance at length {len}", label::<B>());
        assert_sum_close(&what, found, expected, len, expected);
    }
}

/// Checks that norms and distances of huge and tiny entries are finite and accurate.
pub fn check_norms_do_not_overflow<B: Backend>() {
    // Entries near 1e200 in f64 and 1e20 in f32 overflow when squared.
    let huge = if Of::<B>::NAME == "f64" { 1e200 } else { 1e20 };
    let tiny = if Of::<B>::NAME == "f64" {
        1e-200
    } else {
        1e-25
    };
    for &(scale, len) in &[(huge, 2), (huge, 100_003), (tiny, 2), (tiny, 1001)] {
        // Entries 3s, 4s, 0, 0, ..., so the norm is exactly 5s.
        let mut x = vec![Of::<B>::zero(); len];
        x[0] = Of::<B>::of_f64(3.0 * scale);
        x[len - 1] = Of::<B>::of_f64(4.0 * scale);
        let expected = 5.0 * scale;

        let norm = B::norm(&B::vector_from_slice(&x)).into_f64();
        let rel = (norm / expected - 1.0).abs();
        assert!(
            rel < 1e-5,
            "{}: norm {norm:e}, expected {expected:e}",
            label::<B>()
        );

        let neg: Vec<Of<B>> = x.iter().map(|v| -*v).collect();
        let half = B::vector_from_slice(&neg);
        let dist = B::distance(&B::vector_from_slice(&x), &half)
            .unwrap()
            .into_f64();
        let rel = (dist / (2.0 * expected) - 1.0).abs();
        assert!(rel < 1e-5, "{}: distance {dist:e}", label::<B>());

        let batch = B::batch_from_rows(&x, 1, len).unwrap();
        let mut out = [Of::<B>::zero()];
        B::batch_norms(&batch, &mut out).unwrap();
        let rel = (out[0].into_f64() / expected - 1.0).abs();
        assert!(rel < 1e-5, "{}: batch_norms {:e}", label::<B>(), out[0]);
    }
}

/// Checks that NaN reaches the output of every reduction and kernel that reads it, and that
/// an infinite entry gives an infinite norm.
pub fn check_nan_propagates<B: Backend>() {
    let nan = Of::<B>::nan();
    let one = Of::<B>::one();
    for &len in &[1_usize, 9, 100_003] {
        let mut x = vec![one; len];
        x[len / 2] = nan;
        let bx = B::vector_from_slice(&x);
        let ones = B::vector_from_slice(&vec![one; len]);
        assert!(B::norm(&bx).is_nan(), "{}: norm", label::<B>());
        assert!(
            B::dot(&bx, &ones).unwrap().is_nan(),
            "{}: dot",
            label::<B>()
        );
        assert!(
            B::distance(&bx, &ones).unwrap().is_nan(),
            "{}: distance",
            label::<B>()
        );

        let mut inf = vec![one; len];
        inf[len - 1] = Of::<B>::neg_infinity();
        let norm = B::norm(&B::vector_from_slice(&inf));
        assert_eq!(
            norm,
            Of::<B>::infinity(),
            "{}: norm with -inf",
            label::<B>()
        );
    }

    // Gradient 1 of 3 contains a NaN at coordinate 2.
    let (count, dim) = (3, 5);
    let mut rows = vec![one; count * dim];
    rows[dim + 2] = nan;
    let batch = B::batch_from_rows(&rows, count, dim).unwrap();

    let mut norms = vec![Of::<B>::zero(); count];
    B::batch_norms(&batch, &mut norms).unwrap();
    assert!(
        norms[1].is_nan(),
        "{}: norm of the NaN gradient",
        label::<B>()
    );
    assert!(!norms[0].is_nan(), "{}: norm of gradient 0", label::<B>());
    assert!(!norms[2].is_nan(), "{}: norm of gradient 2", label::<B>());

    let mut sum = vec![Of::<B>::zero(); dim];
    B::batch_weighted_sum(&batch, &vec![one; count], &mut sum).unwrap();
    assert!(
        sum[2].is_nan(),
        "{}: weighted sum at the NaN coordinate",
        label::<B>()
    );
    assert_eq!(
        sum[0],
        Of::<B>::of_f64(3.0),
        "{}: weighted sum elsewhere",
        label::<B>()
    );

    let mut gram = vec![Of::<B>::zero(); count * count];
    B::batch_gram(&batch, &mut gram).unwrap();
    assert!(
        (0..count).all(|j| gram[count + j].is_nan()),
        "{}: gram row",
        label::<B>()
    );
    assert!(!gram[0].is_nan(), "{}: gram[0][0]", label::<B>());
    assert!(
        !gram[2 * count + 2].is_nan(),
        "{}: gram[2][2]",
        label::<B>()
    );
}

/// Checks `batch_norms` and `batch_distances` against the oracle.
pub fn check_batch_norms_and_distances<B: Backend>() {
    let mut rng = seeded_rng(6);
    for &(count, dim) in BATCH_SHAPES {
        let (batch, rows) = random_batch::<B>(&mut rng, count, dim);
        let oracle = VecBackend::batch_from_rows(&rows, count, dim).unwrap();
        let point = random_vec::<Of<B>>(&mut rng, dim);

        let mut found = vec![Of::<B>::zero(); count];
        let mut expected = vec![Of::<B>::zero(); count];
        B::batch_norms(&batch, &mut found).unwrap();
        VecBackend::batch_norms(&oracle, &mut expected).unwrap();
        for i in 0..count {
            let what = format!("{}: batch_norms[{i}] at {count}x{dim}", label::<B>());
            assert_sum_close(&what, found[i], expected[i], dim, expected[i]);
        }

        B::batch_distances(&batch, &point, &mut found).unwrap();
        VecBackend::batch_distances(&oracle, &point, &mut expected).unwrap();
        for i in 0..count {
            let what = format!("{}: batch_distances[{i}] at {count}x{dim}", label::<B>());
            assert_sum_close(&what, found[i], expected[i], dim, expected[i]);
        }
    }
}

/// Checks `batch_weighted_sum` against the oracle.
pub fn check_batch_weighted_sum<B: Backend>() {
    let mut rng = seeded_rng(7);
    for &(count, dim) in BATCH_SHAPES {
        let (batch, rows) = random_batch::<B>(&mut rng, count, dim);
        let oracle = VecBackend::batch_from_rows(&rows, count, dim).unwrap();
        let weights = random_vec::<Of<B>>(&mut rng, count);

        let mut found = vec![Of::<B>::of_f64(9.0); dim];
        let mut expected = vec![Of::<B>::zero(); dim];
        B::batch_weighted_sum(&batch, &weights, &mut found).unwrap();
        VecBackend::batch_weighted_sum(&oracle, &weights, &mut expected).unwrap();
        for j in 0..dim {
            let magnitude = (0..count)
                .map(|i| (weights[i] * rows[i * dim + j]).abs())
                .fold(Of::<B>::zero(), |a, b| a + b);
            let what = format!("{}: weighted sum[{j}] at {count}x{dim}", label::<B>());
            assert_sum_close(&what, found[j], expected[j], count, magnitude);
        }
    }
}

/// Checks `batch_gram` against the oracle and for exact symmetry.
pub fn check_batch_gram<B: Backend>() {
    let mut rng = seeded_rng(8);
    for &(count, dim) in BATCH_SHAPES {
        let (batch, rows) = random_batch::<B>(&mut rng, count, dim);
        let oracle = VecBackend::batch_from_rows(&rows, count, dim).unwrap();

        let mut found = vec![Of::<B>::zero(); count * count];
        let mut expected = vec![Of::<B>::zero(); count * count];
        B::batch_gram(&batch, &mut found).unwrap();
        VecBackend::batch_gram(&oracle, &mut expected).unwrap();
        for i in 0..count {
            for j in 0..count {
                let (gi, gj) = (&rows[i * dim..(i + 1) * dim], &rows[j * dim..(j + 1) * dim]);
                let what = format!("{}: gram[{i}][{j}] at {count}x{dim}", label::<B>());
                let (f, e) = (found[i * count + j], expected[i * count + j]);
                assert_sum_close(&what, f, e, dim, dot_magnitude(gi, gj));
                assert_eq!(f, found[j * count + i], "{}: gram symmetry", label::<B>());
            }
        }
    }
}

/// Checks `batch_squared_distances` against sums of squared differences in `f64`, for exact
/// symmetry and a zero diagonal, and for keeping its digits far from the origin.
pub fn check_batch_squared_distances<B: Backend>() {
    let mut rng = seeded_rng(11);
    let shapes = BATCH_SHAPES
        .iter()
        .copied()
        .chain([(2, 3), (9, 8), (13, 40_003)]);
    for (count, dim) in shapes {
        let (batch, mut rows) = random_batch::<B>(&mut rng, count, dim);
        // A shift of 1e4 in f32 (1e8 in f64) would cancel every digit of a Gram expansion.
        let shift = Of::<B>::of_f64(if Of::<B>::NAME == "f32" { 1e4 } else { 1e8 });
        for v in &mut rows {
            *v = *v + shift;
        }
        let shifted = B::batch_from_rows(&rows, count, dim).unwrap();
        for (batch, rows) in [(&batch, None), (&shifted, Some(&rows))] {
            let rows: Vec<f64> = match rows {
                Some(r) => r.iter().map(|v| v.into_f64()).collect(),
                None => (0..count)
                    .flat_map(|i| B::batch_gradient(batch, i).to_vec())
                    .map(|v| v.into_f64())
                    .collect(),
            };
            let mut found = vec![Of::<B>::of_f64(9.0); count * count];
            B::batch_squared_distances(batch, &mut found).unwrap();
            for i in 0..count {
                assert_eq!(
                    found[i * count + i],
                    Of::<B>::zero(),
                    "{}: diagonal",
                    label::<B>()
                );
                for j in 0..count {
                    let (gi, gj) = (&rows[i * dim..(i + 1) * dim], &rows[j * dim..(j + 1) * dim]);
                    let expected: f64 = gi.iter().zip(gj).map(|(a, b)| (a - b) * (a - b)).sum();
                    let f = found[i * count + j];
                    assert_eq!(f, found[j * count + i], "{}: symmetry", label::<B>());
                    // Each term is exact up to one rounding of the difference and of its
                    // square, and the sum adds `dim` non-negative terms.
                    let bound = 4.0 * (dim as f64 + 2.0) * Of::<B>::epsilon().into_f64() * expected;
                    assert!(
                        (f.into_f64() - expected).abs() <= bound,
                        "{}: squared distance [{i}][{j}] at {count}x{dim}: {f:e} vs {expected:e}",
                        label::<B>()
                    );
                }
            }
        }
    }
}

/// Checks that every operation with mismatched operands returns an error and leaves its
/// output unchanged.
pub fn check_dimension_mismatch<B: Backend>() {
    let s = Of::<B>::of_f64;
    let x = B::vector_from_slice(&[s(1.0), s(2.0), s(3.0)]);
    let mut y = B::vector_from_slice(&[s(4.0), s(5.0)]);
    assert_mismatch("dot", B::dot(&x, &y));
    assert_mismatch("distance", B::distance(&x, &y));
    assert_mismatch("axpy", B::axpy(s(1.0), &x, &mut y));
    assert_eq!(
        B::vector_as_slice(&y),
        &[s(4.0), s(5.0)],
        "axpy wrote on error"
    );

    let batch = B::batch_from_rows(&[s(1.0); 6], 3, 2).unwrap();
    let sentinel = s(-7.0);
    let mut out2 = [sentinel; 2];
    let mut out3 = [sentinel; 3];
    assert_mismatch("batch_norms", B::batch_norms(&batch, &mut out2));
    assert_mismatch(
        "batch_distances",
        B::batch_distances(&batch, &[s(0.0); 3], &mut out3),
    );
    assert_mismatch(
        "batch_distances",
        B::batch_distances(&batch, &[s(0.0); 2], &mut out2),
    );
    assert_mismatch(
        "batch_weighted_sum",
        B::batch_weighted_sum(&batch, &[s(1.0); 2], &mut out2),
    );
    assert_mismatch(
        "batch_weighted_sum",
        B::batch_weighted_sum(&batch, &[s(1.0); 3], &mut out3),
    );
    let mut squared = [sentinel; 8];
    assert_mismatch(
        "batch_squared_distances",
        B::batch_squared_distances(&batch, &mut squared),
    );
    assert!(
        squared.iter().all(|v| *v == sentinel),
        "{}: batch_squared_distances wrote on mismatch",
        label::<B>()
    );
    let mut gram = [sentinel; 8];
    assert_mismatch("batch_gram", B::batch_gram(&batch, &mut gram));
    assert!(
        out2.iter()
            .chain(&out3)
            .chain(&gram)
            .all(|&v| v == sentinel)
    );

    match B::batch_from_rows(&[s(1.0); 5], 2, 3) {
        Err(LinalgError::BatchShape {
            count: 2,
            dim: 3,
            expected: 6,
            found: 5,
        }) => {}
        other => panic!("{}: batch_from_rows: {other:?}", label::<B>()),
    }
    let ragged: [&[Of<B>]; 2] = [&[s(1.0), s(2.0), s(3.0)], &[s(4.0), s(5.0)]];
    match B::batch_from_gradients(&ragged) {
        Err(LinalgError::RaggedBatch {
            index: 1,
            expected: 3,
            found: 2,
        }) => {}
        other => panic!("{}: batch_from_gradients: {other:?}", label::<B>()),
    }
}

/// The mean of a batch's gradients and the mean distance to it, written once against
/// the trait: generic code that must run unchanged on every backend.
pub fn mean_and_spread<B: Backend>(
    batch: &B::Batch,
) -> Result<(B::Vector, B::Scalar), LinalgError> {
    let n = B::batch_count(batch);
    let weights = vec![B::Scalar::of_usize(n).recip(); n];
    let mut mean = B::vector_zeros(B::batch_dim(batch));
    B::batch_weighted_sum(batch, &weights, B::vector_as_mut_slice(&mut mean))?;

    let mut distances = vec![B::Scalar::zero(); n];
    B::batch_distances(batch, B::vector_as_slice(&mean), &mut distances)?;
    let spread = kernels::sum(&distances) / B::Scalar::of_usize(n);
    Ok((mean, spread))
}

/// Checks that [`mean_and_spread`], written once, agrees with the oracle on this backend.
pub fn check_generic_code<B: Backend>() {
    let mut rng = seeded_rng(9);
    let (count, dim) = (12, 301);
    let (batch, rows) = random_batch::<B>(&mut rng, count, dim);
    let oracle = VecBackend::batch_from_rows(&rows, count, dim).unwrap();

    let (mean, spread) = mean_and_spread::<B>(&batch).unwrap();
    let (expected_mean, expected_spread) = mean_and_spread::<VecBackend<Of<B>>>(&oracle).unwrap();
    for (j, (&f, &e)) in B::vector_as_slice(&mean)
        .iter()
        .zip(&expected_mean)
        .enumerate()
    {
        assert_sum_close(
            &format!("{}: mean[{j}]", label::<B>()),
            f,
            e,
            count,
            Of::<B>::one(),
        );
    }
    let what = format!("{}: spread", label::<B>());
    assert_sum_close(&what, spread, expected_spread, count * dim, expected_spread);
}

/// Checks `batch_weiszfeld_pass` against the oracle's `batch_distances`, the coefficients
/// `w_i / max(eps, d_i)` computed here, and `batch_weighted_sum`.
///
/// Also checks the special cases (a gradient at the point, zero weight, smoothing, NaN),
/// bit-identical results on pools of 1 and 4 threads, and the dimension checks.
pub fn check_batch_weiszfeld_pass<B: Backend>() {
    let mut rng = seeded_rng(12);
    let s = Of::<B>::of_f64;
    let shapes = BATCH_SHAPES.iter().chain(&[(40, 30_011), (3, 300_007)]);
    for &(count, dim) in shapes {
        let (batch, rows) = random_batch::<B>(&mut rng, count, dim);
        let oracle = VecBackend::batch_from_rows(&rows, count, dim).unwrap();
        let point = random_vec::<Of<B>>(&mut rng, dim);
        let mut weights: Vec<Of<B>> = random_vec::<Of<B>>(&mut rng, count)
            .into_iter()
            .map(|w| w.abs() + s(0.1))
            .collect();
        if count > 1 {
            weights[1] = Of::<B>::zero();
        }
        for eps in [Of::<B>::zero(), s(0.5)] {
            let (mut d, mut c) = (vec![s(9.0); count], vec![s(9.0); count]);
            let mut sum = vec![s(9.0); dim];
            B::batch_weiszfeld_pass(&batch, &point, &weights, eps, &mut d, &mut c, &mut sum)
                .unwrap();

            let mut expected_d = vec![Of::<B>::zero(); count];
            VecBackend::batch_distances(&oracle, &point, &mut expected_d).unwrap();
            let expected_c: Vec<Of<B>> = (0..count)
                .map(|i| {
                    let denominator = expected_d[i].max(eps);
                    if weights[i] > Of::<B>::zero() && denominator > Of::<B>::zero() {
                        weights[i] / denominator
                    } else {
                        Of::<B>::zero()
                    }
                })
                .collect();
            let mut expected_sum = vec![Of::<B>::zero(); dim];
            VecBackend::batch_weighted_sum(&oracle, &expected_c, &mut expected_sum).unwrap();

            let shape = format!("{} at {count}x{dim}, eps {eps}", label::<B>());
            for i in 0..count {
                let what = format!("{shape}: distance[{i}]");
                assert_sum_close(&what, d[i], expected_d[i], dim, expected_d[i]);
                let what = format!("{shape}: coefficient[{i}]");
                assert_sum_close(&what, c[i], expected_c[i], dim, expected_c[i]);
            }
            if count > 1 {
                assert_eq!(c[1], Of::<B>::zero(), "{shape}: zero weight");
            }
            for j in 0..dim {
                let magnitude = (0..count)
                    .map(|i| (expected_c[i] * rows[i * dim + j]).abs())
                    .fold(Of::<B>::zero(), |a, b| a + b);
                let what = format!("{shape}: sum[{j}]");
                assert_sum_close(&what, sum[j], expected_sum[j], count * dim, magnitude);
            }
        }
    }

    check_weiszfeld_pass_special_cases::<B>();
    check_weiszfeld_pass_threads::<B>();
    check_weiszfeld_pass_mismatch::<B>();
}

/// A gradient at the point gets coefficient 0 without smoothing and `w / eps` with it;
/// a NaN entry gives a NaN distance, coefficient and sum.
fn check_weiszfeld_pass_special_cases<B: Backend>() {
    let s = Of::<B>::of_f64;
    let batch = B::batch_from_rows(&[s(3.0), s(4.0), s(1.0), s(2.0)], 2, 2).unwrap();
    let point = [s(1.0), s(2.0)];
    let weights = [s(1.0), s(2.0)];
    let (mut d, mut c, mut sum) = ([s(9.0); 2], [s(9.0); 2], [s(9.0); 2]);

    // d = (sqrt(8), 0): only the first gradient contributes, with c = 1 / sqrt(8).
    B::batch_weiszfeld_pass(&batch, &point, &weights, s(0.0), &mut d, &mut c, &mut sum).unwrap();
    let root8 = s(8.0).sqrt();
    assert_eq!(d[1], s(0.0), "{}: distance to itself", label::<B>());
    assert_eq!(c[1], s(0.0), "{}: coefficient at the point", label::<B>());
    assert_sum_close("coefficient", c[0], s(1.0) / root8, 2, s(1.0));
    assert_sum_close("sum[0]", sum[0], s(3.0) / root8, 4, s(3.0));
    assert_sum_close("sum[1]", sum[1], s(4.0) / root8, 4, s(4.0));

    // With eps = 4 > sqrt(8): c = (1/4, 2/4), sum = (3/4 + 2/4, 4/4 + 4/4), exact.
    B::batch_weiszfeld_pass(&batch, &point, &weights, s(4.0), &mut d, &mut c, &mut sum).unwrap();
    assert_eq!(
        c,
        [s(0.25), s(0.5)],
        "{}: smoothed coefficients",
        label::<B>()
    );
    assert_eq!(sum, [s(1.25), s(2.0)], "{}: smoothed sum", label::<B>());

    let with_nan = B::batch_from_rows(&[s(3.0), Of::<B>::nan(), s(1.0), s(2.0)], 2, 2).unwrap();
    B::batch_weiszfeld_pass(
        &with_nan,
        &point,
        &weights,
        s(0.0),
        &mut d,
        &mut c,
        &mut sum,
    )
    .unwrap();
    assert!(
        d[0].is_nan() && c[0].is_nan(),
        "{}: NaN distance",
        label::<B>()
    );
    assert!(sum.iter().all(|v| v.is_nan()), "{}: NaN sum", label::<B>());
}

/// The pass gives bit-identical outputs on pools of 1 and 4 threads.
fn check_weiszfeld_pass_threads<B: Backend>() {
    let mut rng = seeded_rng(13);
    let (count, dim) = (24, 40_009);
    let (batch, _) = random_batch::<B>(&mut rng, count, dim);
    let point = random_vec::<Of<B>>(&mut rng, dim);
    let weights = vec![Of::<B>::one(); count];
    let pass = || {
        let (mut d, mut c) = (vec![Of::<B>::zero(); count], vec![Of::<B>::zero(); count]);
        let mut sum = vec![Of::<B>::zero(); dim];
        let eps = Of::<B>::zero();
        B::batch_weiszfeld_pass(&batch, &point, &weights, eps, &mut d, &mut c, &mut sum).unwrap();
        d.into_iter().chain(c).chain(sum).collect::<Vec<_>>()
    };
    assert_eq!(
        crate::first_thread_dependence(pass),
        None,
        "{}: batch_weiszfeld_pass depends on the thread count",
        label::<B>()
    );
}

/// Every operand of the wrong length is a dimension mismatch that leaves the outputs alone.
fn check_weiszfeld_pass_mismatch<B: Backend>() {
    let s = Of::<B>::of_f64;
    let sentinel = s(-7.0);
    let batch = B::batch_from_rows(&[s(1.0); 6], 3, 2).unwrap();
    let (good_point, good_weights) = ([s(0.0); 2], [s(1.0); 3]);
    let (mut d, mut c, mut sum) = ([sentinel; 3], [sentinel; 3], [sentinel; 2]);
    let (mut short_d, mut short_c, mut long_sum) = ([sentinel; 2], [sentinel; 2], [sentinel; 3]);
    let zero = Of::<B>::zero();
    let cases = [
        B::batch_weiszfeld_pass(
            &batch,
            &[s(0.0); 3],
            &good_weights,
            zero,
            &mut d,
            &mut c,
            &mut sum,
        ),
        B::batch_weiszfeld_pass(
            &batch,
            &good_point,
            &[s(1.0); 2],
            zero,
            &mut d,
            &mut c,
            &mut sum,
        ),
        B::batch_weiszfeld_pass(
            &batch,
            &good_point,
            &good_weights,
            zero,
            &mut short_d,
            &mut c,
            &mut sum,
        ),
        B::batch_weiszfeld_pass(
            &batch,
            &good_point,
            &good_weights,
            zero,
            &mut d,
            &mut short_c,
            &mut sum,
        ),
        B::batch_weiszfeld_pass(
            &batch,
            &good_point,
            &good_weights,
            zero,
            &mut d,
            &mut c,
            &mut long_sum,
        ),
    ];
    for result in cases {
        assert_mismatch("batch_weiszfeld_pass", result);
    }
    let untouched = d
        .iter()
        .chain(&c)
        .chain(&sum)
        .chain(&short_d)
        .chain(&short_c);
    assert!(
        untouched.chain(&long_sum).all(|&v| v == sentinel),
        "{}: batch_weiszfeld_pass wrote on error",
        label::<B>()
    );
}
