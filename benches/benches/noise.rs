//! Benchmarks of the noise samplers against `rand_distr` where both draw the same law
//! (normal, Student-t, Cauchy, classical Pareto), in `f64` and `f32`, with throughput in
//! draws. Samplers without a `rand_distr` counterpart (alpha-stable, Laplace, Lomax, vector
//! noise) are timed alone.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main,
};
use median_benches::bench_rng;
use median_linalg::Scalar;
use median_noise::{
    AlphaStable, Cauchy, Gaussian, Iid, Laplace, Lomax, MultivariateStudentT, Pareto, StudentT,
    SubGaussianStable, VectorNoise,
};
use rand::distr::Distribution;

/// Draws per timed iteration.
const DRAWS: usize = 4096;

/// Dimension of a vector noise draw.
const VECTOR_DIM: usize = 1024;

/// Times filling a buffer of [`DRAWS`] values from `distribution`, under `label`.
fn bench_fill<F: Scalar, D: Distribution<F>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    distribution: &D,
) {
    let mut rng = bench_rng(7);
    let mut out = vec![F::zero(); DRAWS];
    group.bench_function(BenchmarkId::new(label, F::NAME), |b| {
        b.iter(|| {
            for x in out.iter_mut() {
                *x = distribution.sample(&mut rng);
            }
            black_box(&mut out);
        })
    });
}

/// Benchmarks every scalar sampler in the float type `F`; the bounds are those that
/// `rand_distr`'s generic samplers require.
fn scalar_samplers<F: Scalar + rand_distr::num_traits::FloatConst>(c: &mut Criterion)
where
    rand_distr::StandardNormal: Distribution<F>,
    rand_distr::Exp1: Distribution<F>,
    rand_distr::OpenClosed01: Distribution<F>,
    rand_distr::Open01: Distribution<F>,
    rand_distr::StandardUniform: Distribution<F>,
{
    let of = F::of_f64;

    let mut group = c.benchmark_group("noise/normal");
    group.throughput(Throughput::Elements(DRAWS as u64));
    bench_fill(
        &mut group,
        "median-noise",
        &Gaussian::new(of(0.0), of(1.0)).unwrap(),
    );
    bench_fill(
        &mut group,
        "rand_distr",
        &rand_distr::Normal::new(of(0.0), of(1.0)).unwrap(),
    );
    group.finish();

    let mut group = c.benchmark_group("noise/student_t_3");
    group.throughput(Throughput::Elements(DRAWS as u64));
    bench_fill(&mut group, "median-noise", &StudentT::new(of(3.0)).unwrap());
    bench_fill(
        &mut group,
        "rand_distr",
        &rand_distr::StudentT::new(of(3.0)).unwrap(),
    );
    group.finish();

    let mut group = c.benchmark_group("noise/cauchy");
    group.throughput(Throughput::Elements(DRAWS as u64));
    bench_fill(
        &mut group,
        "median-noise",
        &Cauchy::new(of(0.0), of(1.0)).unwrap(),
    );
    bench_fill(
        &mut group,
        "rand_distr",
        &rand_distr::Cauchy::new(of(0.0), of(1.0)).unwrap(),
    );
    group.finish();

    let mut group = c.benchmark_group("noise/pareto");
    group.throughput(Throughput::Elements(DRAWS as u64));
    bench_fill(
        &mut group,
        "median-noise",
        &Pareto::new(of(2.0), of(3.0)).unwrap(),
    );
    bench_fill(
        &mut group,
        "rand_distr",
        &rand_distr::Pareto::new(of(2.0), of(3.0)).unwrap(),
    );
    group.finish();

    let mut group = c.benchmark_group("noise/alone");
    group.throughput(Throughput::Elements(DRAWS as u64));
    let stable = AlphaStable::new(of(1.5), of(0.5), of(1.0), of(0.0)).unwrap();
    bench_fill(&mut group, "alpha_stable_1.5", &stable);
    let stable_one = AlphaStable::new(of(1.0), of(-0.5), of(1.0), of(0.0)).unwrap();
    bench_fill(&mut group, "alpha_stable_1", &stable_one);
    bench_fill(
        &mut group,
        "laplace",
        &Laplace::new(of(0.0), of(1.0)).unwrap(),
    );
    bench_fill(&mut group, "lomax", &Lomax::new(of(1.0), of(1.5)).unwrap());
    group.finish();
}

/// Times one vector draw of dimension [`VECTOR_DIM`] into a caller's buffer.
fn bench_vector<F: Scalar, N: VectorNoise<F>>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    label: &str,
    noise: &N,
) {
    let mut rng = bench_rng(9);
    let mut out = vec![F::zero(); VECTOR_DIM];
    group.bench_function(BenchmarkId::new(label, F::NAME), |b| {
        b.iter(|| {
            noise.sample_into(&mut rng, &mut out);
            black_box(&mut out);
        })
    });
}

/// Benchmarks the vector noise laws in the float type `F`.
fn vector_samplers<F: Scalar>(c: &mut Criterion) {
    let of = F::of_f64;
    let mut group = c.benchmark_group("noise/vector");
    group.throughput(Throughput::Elements(VECTOR_DIM as u64));
    bench_vector(
        &mut group,
        "iid_cauchy",
        &Iid::new(Cauchy::new(of(0.0), of(1.0)).unwrap()),
    );
    bench_vector(
        &mut group,
        "multivariate_t_3",
        &MultivariateStudentT::new(of(3.0), of(1.0)).unwrap(),
    );
    bench_vector(
        &mut group,
        "sub_gaussian_stable_1.5",
        &SubGaussianStable::new(of(1.5), of(1.0)).unwrap(),
    );
    group.finish();
}

fn all(c: &mut Criterion) {
    scalar_samplers::<f64>(c);
    scalar_samplers::<f32>(c);
    vector_samplers::<f64>(c);
    vector_samplers::<f32>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
