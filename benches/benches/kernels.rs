//! Benchmarks of the backend kernels: dot, norm, batch weighted sum and Gram matrix, by
//! backend, scalar type and size, with throughput in bytes read.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use median_benches::{bench_rng, uniform_batch, uniform_vec};
use median_faer::FaerBackend;
use median_linalg::{Backend, Scalar, VecBackend};
use median_nalgebra::NalgebraBackend;

/// Vector lengths for the reductions.
const VECTOR_SIZES: &[usize] = &[1_000, 100_000, 1_000_000];

/// Batch shapes `(count, dim)` for the batch kernels.
const BATCH_SHAPES: &[(usize, usize)] = &[(16, 100_000), (64, 100_000), (64, 1_000)];

fn vector_kernels<B: Backend>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("vector/{}", B::Scalar::NAME));
    let bytes = std::mem::size_of::<B::Scalar>() as u64;
    for &len in VECTOR_SIZES {
        let mut rng = bench_rng(len as u64);
        let x = B::vector_from_slice(&uniform_vec::<B::Scalar>(&mut rng, len));
        let y = B::vector_from_slice(&uniform_vec::<B::Scalar>(&mut rng, len));

        group.throughput(Throughput::Bytes(2 * bytes * len as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("dot/{}", B::NAME), len),
            &len,
            |b, _| b.iter(|| B::dot(&x, &y).unwrap()),
        );
        group.throughput(Throughput::Bytes(bytes * len as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("norm/{}", B::NAME), len),
            &len,
            |b, _| b.iter(|| B::norm(&x)),
        );
    }
    group.finish();
}

fn batch_kernels<B: Backend>(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("batch/{}", B::Scalar::NAME));
    let bytes = std::mem::size_of::<B::Scalar>() as u64;
    for &(count, dim) in BATCH_SHAPES {
        let mut rng = bench_rng((count * dim) as u64);
        let batch = uniform_batch::<B>(&mut rng, count, dim);
        let weights = uniform_vec::<B::Scalar>(&mut rng, count);
        let mut out = vec![B::Scalar::of_f64(0.0); dim];
        let mut gram = vec![B::Scalar::of_f64(0.0); count * count];
        let size = format!("{count}x{dim}");

        group.throughput(Throughput::Bytes(bytes * (count * dim) as u64));
        group.bench_with_input(
            BenchmarkId::new(format!("weighted_sum/{}", B::NAME), &size),
            &size,
            |b, _| b.iter(|| B::batch_weighted_sum(&batch, &weights, &mut out).unwrap()),
        );
        group.bench_with_input(
            BenchmarkId::new(format!("gram/{}", B::NAME), &size),
            &size,
            |b, _| b.iter(|| B::batch_gram(&batch, &mut gram).unwrap()),
        );
    }
    group.finish();
}

fn all(c: &mut Criterion) {
    vector_kernels::<VecBackend<f64>>(c);
    vector_kernels::<VecBackend<f32>>(c);
    batch_kernels::<VecBackend<f64>>(c);
    batch_kernels::<VecBackend<f32>>(c);
    batch_kernels::<FaerBackend<f64>>(c);
    batch_kernels::<FaerBackend<f32>>(c);
    batch_kernels::<NalgebraBackend<f64>>(c);
    batch_kernels::<NalgebraBackend<f32>>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
