//! Benchmarks of the estimators, the optimizer steps and the read bandwidth of the machine,
//! by backend, scalar type and size, with throughput in the bytes each operation must read.
//!
//! Groups are named `OPERATION/SCALAR`, benchmark ids `BACKEND/COUNTxDIM`, so that
//! `cargo xtask bench` can read them back from criterion's JSON output. The `bandwidth`
//! group sums a 256 MB `f64` array; its throughput is the floor the other groups are
//! compared with.
//!
//! Set `MEDIAN_BENCH_QUICK=1` for a smoke subset (one shape per group, `VecBackend` only),
//! and `MEDIAN_BENCH_EXTRA=PATH` to append measurements made outside the timed loops (the
//! geometric median's iteration counts) to `PATH` as `key<TAB>value` lines.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group,
    criterion_main,
};
use median_benches::{bench_rng, outlier_rows, uniform_batch, uniform_vec};
use median_core::aggregate::{Aggregator, Krum};
use median_core::batch::{CoordinateMedian, GeometricMedian, StartPoint, TrimmedMean};
use median_core::clip::{clip_coordinates_into, clip_norm_into};
use median_core::online::{GeometricMedianTracker, OnlineEstimator, StepSchedule};
use median_dp::accountant::SamplingScheme;
use median_dp::dpsgd::{Anchor, Clipping, DpConfig, DpSgd};
use median_faer::FaerBackend;
use median_linalg::{Backend, Float, One, Scalar, VecBackend, Zero, kernels};
use median_nalgebra::NalgebraBackend;
use median_sgd::{GradientOracle, Optimizer, Schedule, SgdError, Tracker};
use rand::Rng;
use rand_distr::StandardNormal;

/// Gradient counts of the batch estimators.
const COUNTS: &[usize] = &[16, 64, 256];

/// Dimensions of the batch estimators.
const DIMS: &[usize] = &[1_000, 100_000, 1_000_000];

/// Largest `count * dim` benchmarked for a batch estimator (200 MB in `f64`).
// NOTE: 64 x 1e6 and 256 x 1e6 are left out to keep the run within about 25 minutes on
// 2 cores and the memory of a shared machine.
const MAX_BATCH_LEN: usize = 25_600_000;

/// Largest `n^2 d` benchmarked for Krum, whose Gram matrix costs `n^2 d / 2` products.
// NOTE: 256 x 1e5 (6.6e9) took about 12 s per call in f32 and is left out for time.
const MAX_KRUM_WORK: usize = 1_000_000_000;

/// Dimensions of the per-step kernels (clipping, tracker update, optimizer steps).
const STEP_DIMS: &[usize] = &[1_000, 100_000, 1_000_000, 10_000_000];

/// Gradients per DP-SGD step.
const DP_BATCH: usize = 4;

/// Elements of the bandwidth array: 256 MB of `f64`.
const BANDWIDTH_LEN: usize = 1 << 25;

/// Certificate tolerance of the benchmarked geometric median.
const GEOMEDIAN_TOLERANCE: f64 = 1e-8;

/// Returns whether the smoke subset was requested.
fn quick() -> bool {
    std::env::var_os("MEDIAN_BENCH_QUICK").is_some_and(|v| v != "0")
}

/// Returns the `(count, dim)` shapes of the batch estimators.
fn batch_shapes() -> Vec<(usize, usize)> {
    if quick() {
        return vec![(64, 100_000)];
    }
    let mut shapes = Vec::new();
    for &count in COUNTS {
        for &dim in DIMS {
            if count * dim <= MAX_BATCH_LEN {
                shapes.push((count, dim));
            }
        }
    }
    shapes
}

/// Returns the shapes used for the nalgebra and faer backends: the middle shape only.
fn backend_shapes() -> Vec<(usize, usize)> {
    vec![(64, 100_000)]
}

/// Returns the dimensions of the per-step kernels.
fn step_dims() -> Vec<usize> {
    if quick() {
        vec![1_000_000]
    } else {
        STEP_DIMS.to_vec()
    }
}

/// Returns the benchmark id `BACKEND/COUNTxDIM`.
fn id<B: Backend>(count: usize, dim: usize) -> BenchmarkId {
    BenchmarkId::new(B::NAME, format!("{count}x{dim}"))
}

/// Returns the bytes of `len` scalars.
fn bytes<S: Scalar>(len: usize) -> u64 {
    (len * std::mem::size_of::<S>()) as u64
}

/// Creates a group with the short measurement settings, in flat sampling mode so that a
/// slow benchmark takes 10 runs, not 55.
fn group<'a>(c: &'a mut Criterion, name: &str, scalar: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(format!("{name}/{scalar}"));
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sampling_mode(SamplingMode::Flat);
    group
}

/// Appends `key<TAB>value` to the file named by `MEDIAN_BENCH_EXTRA`, if set.
fn record_extra(key: &str, value: f64) {
    let Some(path) = std::env::var_os("MEDIAN_BENCH_EXTRA") else {
        return;
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path);
    match file {
        Ok(mut file) => {
            if let Err(error) = writeln!(file, "{key}\t{value}") {
                eprintln!("failed to write {}: {error}", path.to_string_lossy());
            }
        }
        Err(error) => eprintln!("failed to open {}: {error}", path.to_string_lossy()),
    }
}

/// Clip operators on one vector: the L2 clip `min(1, tau/||v||) v` and the coordinate clamp.
fn clip<S: Scalar>(c: &mut Criterion) {
    let mut g = group(c, "clip_norm", S::NAME);
    for dim in step_dims() {
        let v = uniform_vec::<S>(&mut bench_rng(dim as u64), dim);
        let mut out = vec![S::zero(); dim];
        let tau = S::of_f64(1.0);
        g.throughput(Throughput::Bytes(bytes::<S>(dim)));
        g.bench_function(id::<VecBackend<S>>(1, dim), |b| {
            b.iter(|| clip_norm_into(&v, tau, &mut out).unwrap())
        });
    }
    g.finish();

    let mut g = group(c, "clip_coordinates", S::NAME);
    for dim in step_dims() {
        let v = uniform_vec::<S>(&mut bench_rng(dim as u64), dim);
        let mut out = vec![S::zero(); dim];
        let tau = S::of_f64(0.5);
        g.throughput(Throughput::Bytes(bytes::<S>(dim)));
        g.bench_function(id::<VecBackend<S>>(1, dim), |b| {
            b.iter(|| clip_coordinates_into(&v, tau, &mut out).unwrap())
        });
    }
    g.finish();
}

/// Benchmarks the E2 tracker update `m <- m + clip_tau(g - m)`, alternating between two gradients so
/// that every update moves the estimate.
fn tracker_update<B: Backend>(g: &mut BenchmarkGroup<'_, WallTime>, dims: &[usize]) {
    for &dim in dims {
        let mut rng = bench_rng(dim as u64);
        let gradients = [
            uniform_vec::<B::Scalar>(&mut rng, dim),
            uniform_vec::<B::Scalar>(&mut rng, dim),
        ];
        let schedule = StepSchedule::constant(B::Scalar::of_f64(0.1)).unwrap();
        let mut tracker = GeometricMedianTracker::<B>::new(dim, schedule);
        let mut k = 0;
        // Reads the gradient and the estimate.
        g.throughput(Throughput::Bytes(2 * bytes::<B::Scalar>(dim)));
        g.bench_function(id::<B>(1, dim), |b| {
            b.iter(|| {
                k ^= 1;
                tracker.update(&gradients[k]).unwrap();
            })
        });
    }
}

/// A gradient oracle that copies a stored gradient: the cheapest oracle, so that the
/// optimizer step itself is timed.
struct StoredGradient<S> {
    gradient: Vec<S>,
}

impl<S: Scalar> GradientOracle<S> for StoredGradient<S> {
    fn dim(&self) -> usize {
        self.gradient.len()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        _x: &[S],
        out: &mut [S],
        _rng: &mut R,
    ) -> Result<(), SgdError> {
        out.copy_from_slice(&self.gradient);
        Ok(())
    }
}

/// Benchmarks one step of the median tracker optimizer with E2: draw `g`, `m <- m + clip_tau(g - m)`,
/// `x <- x - gamma m`.
fn tracker_step<S: Scalar>(c: &mut Criterion) {
    let mut g = group(c, "tracker_step", S::NAME);
    for dim in step_dims() {
        let mut rng = bench_rng(dim as u64);
        let mut oracle = StoredGradient {
            gradient: uniform_vec::<S>(&mut rng, dim),
        };
        let mut x = uniform_vec::<S>(&mut rng, dim);
        let schedule = StepSchedule::constant(S::of_f64(0.1)).unwrap();
        let estimator = GeometricMedianTracker::<VecBackend<S>>::new(dim, schedule);
        let mut optimizer = Tracker::new(estimator, Schedule::constant(1e-6).unwrap());
        // Reads the gradient, the estimate and the point.
        g.throughput(Throughput::Bytes(3 * bytes::<S>(dim)));
        g.bench_function(id::<VecBackend<S>>(1, dim), |b| {
            b.iter(|| optimizer.step(&mut x, &mut oracle, &mut rng).unwrap())
        });
    }
    g.finish();
}

/// Benchmarks one DP-SGD step with a batch of [`DP_BATCH`] gradients: clip each around zero, sum, add
/// Gaussian noise, descend.
fn dp_step<S: Scalar>(c: &mut Criterion)
where
    StandardNormal: rand_distr::Distribution<S>,
{
    let mut g = group(c, "dp_step", S::NAME);
    for dim in step_dims() {
        let mut rng = bench_rng(dim as u64);
        let batch = uniform_batch::<VecBackend<S>>(&mut rng, DP_BATCH, dim);
        let mut x = uniform_vec::<S>(&mut rng, dim);
        let config = DpConfig {
            clipping: Clipping::Global { clip_norm: 1.0 },
            noise_multiplier: 1.0,
            sampling: SamplingScheme::Poisson,
            batch_size: DP_BATCH as f64,
        };
        let mut dp = DpSgd::<S>::new(config, dim, Anchor::Zero, 0.01).unwrap();
        // Reads the batch and the point.
        g.throughput(Throughput::Bytes(bytes::<S>((DP_BATCH + 1) * dim)));
        g.bench_function(id::<VecBackend<S>>(DP_BATCH, dim), |b| {
            b.iter(|| {
                dp.step::<VecBackend<S>, _>(&mut x, 1e-6, &batch, &mut rng)
                    .unwrap()
            })
        });
    }
    g.finish();
}

/// Batch estimators on one backend at the given shapes: coordinate median, trimmed mean,
/// geometric median, Krum, and one Weiszfeld pass as two kernels and fused.
fn estimators<B: Backend>(c: &mut Criterion, shapes: &[(usize, usize)]) {
    let scalar = B::Scalar::NAME;
    let batches: Vec<_> = shapes
        .iter()
        .map(|&(count, dim)| {
            let batch = uniform_batch::<B>(&mut bench_rng((count * dim) as u64), count, dim);
            (count, dim, batch)
        })
        .collect();

    let mut g = group(c, "coordinate_median", scalar);
    for (count, dim, batch) in &batches {
        let mut median = CoordinateMedian::new();
        let mut out = vec![B::Scalar::zero(); *dim];
        g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));
        g.bench_function(id::<B>(*count, *dim), |b| {
            b.iter(|| median.estimate_into::<B>(batch, &mut out).unwrap())
        });
    }
    g.finish();

    let mut g = group(c, "trimmed_mean", scalar);
    for (count, dim, batch) in &batches {
        let mut trimmed = TrimmedMean::by_fraction(0.1).unwrap();
        let mut out = vec![B::Scalar::zero(); *dim];
        g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));
        g.bench_function(id::<B>(*count, *dim), |b| {
            b.iter(|| trimmed.estimate_into::<B>(batch, &mut out).unwrap())
        });
    }
    g.finish();

    let mut g = group(c, "geometric_median", scalar);
    for (count, dim, batch) in &batches {
        let mut median = GeometricMedian::new()
            .with_tolerance(GEOMEDIAN_TOLERANCE.max(100.0 * B::Scalar::epsilon().into_f64()))
            .unwrap()
            .with_start(StartPoint::Mean);
        let mut out = vec![B::Scalar::zero(); *dim];

        // The iteration count is measured once, outside the timed loop.
        let info = median.solve_into::<B>(batch, &mut out).unwrap();
        let key = format!("geometric_median/{scalar}/{}/{count}x{dim}", B::NAME);
        record_extra(&format!("{key}/iterations"), info.iterations as f64);
        record_extra(&format!("{key}/certificate"), info.certificate);

        g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));
        g.bench_function(id::<B>(*count, *dim), |b| {
            b.iter(|| median.solve_into::<B>(batch, &mut out).unwrap())
        });
    }
    g.finish();

    let mut g = group(c, "krum", scalar);
    for (count, dim, batch) in batches
        .iter()
        .filter(|(count, dim, _)| count * count * dim <= MAX_KRUM_WORK)
    {
        let mut krum = Krum::new(count / 4);
        let mut out = vec![B::Scalar::zero(); *dim];
        g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));
        g.bench_function(id::<B>(*count, *dim), |b| {
            b.iter(|| Aggregator::<B>::aggregate_into(&mut krum, batch, &mut out).unwrap())
        });
    }
    g.finish();

    weiszfeld_pass::<B>(c, &batches);
}

/// Benchmarks the geometric median at 64 x 1e5 on 52 gradients from `N(0, I)` and 12 from
/// `N(10 * 1, I)`, in three variants: the full solve from the mean, the solve capped at 0
/// iterations (the start point and its evaluation), and the solve from the default (reduced)
/// start. The difference of the first two over the iteration count is the cost of one
/// iteration.
fn geometric_outliers<B: Backend>(c: &mut Criterion) {
    let (count, dim, outliers) = (64, 100_000, 12);
    let rows: Vec<B::Scalar> = outlier_rows(2402, count, dim, outliers)
        .into_iter()
        .map(B::Scalar::of_f64)
        .collect();
    let batch = B::batch_from_rows(&rows, count, dim).expect("rows has count * dim values");
    let tolerance = GEOMEDIAN_TOLERANCE.max(100.0 * B::Scalar::epsilon().into_f64());
    let solver = || {
        GeometricMedian::new()
            .with_tolerance(tolerance)
            .unwrap()
            .with_start(StartPoint::Mean)
    };
    let mut out = vec![B::Scalar::zero(); dim];
    let mut full = solver();
    let info = full.solve_into::<B>(&batch, &mut out).unwrap();
    let key = format!(
        "geometric_median_outliers/{}/{}/{count}x{dim}",
        B::Scalar::NAME,
        B::NAME
    );
    record_extra(&format!("{key}/iterations"), info.iterations as f64);
    record_extra(&format!("{key}/certificate"), info.certificate);
    let mut start_only = solver().with_max_iter(0);

    let mut g = group(c, "geometric_median_outliers", B::Scalar::NAME);
    g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));
    g.bench_function(id::<B>(count, dim), |b| {
        b.iter(|| full.solve_into::<B>(&batch, &mut out).unwrap())
    });
    let start_id = BenchmarkId::new(format!("{}-start-only", B::NAME), format!("{count}x{dim}"));
    g.bench_function(start_id, |b| {
        b.iter(|| start_only.solve_into::<B>(&batch, &mut out).unwrap())
    });
    // The default start: Weiszfeld on the affine-hull coefficients, then the full space.
    let mut default = GeometricMedian::new().with_tolerance(tolerance).unwrap();
    let info = default.solve_into::<B>(&batch, &mut out).unwrap();
    let default_key = format!(
        "geometric_median_outliers/{}/{}-default/{count}x{dim}",
        B::Scalar::NAME,
        B::NAME
    );
    record_extra(&format!("{default_key}/iterations"), info.iterations as f64);
    record_extra(&format!("{default_key}/certificate"), info.certificate);
    let default_id = BenchmarkId::new(format!("{}-default", B::NAME), format!("{count}x{dim}"));
    g.bench_function(default_id, |b| {
        b.iter(|| default.solve_into::<B>(&batch, &mut out).unwrap())
    });
    g.finish();
}

/// Benchmarks one Weiszfeld pass at a point: `batch_distances`, the coefficients and
/// `batch_weighted_sum` (two reads of the batch), against the fused `batch_weiszfeld_pass`.
fn weiszfeld_pass<B: Backend>(c: &mut Criterion, batches: &[(usize, usize, B::Batch)]) {
    let mut g = group(c, "weiszfeld_pass", B::Scalar::NAME);
    for (count, dim, batch) in batches {
        let (count, dim) = (*count, *dim);
        let point = uniform_vec::<B::Scalar>(&mut bench_rng(dim as u64), dim);
        let weights = vec![B::Scalar::one(); count];
        let eps = B::Scalar::zero();
        let mut distances = vec![B::Scalar::zero(); count];
        let mut coefficients = vec![B::Scalar::zero(); count];
        let mut sum = vec![B::Scalar::zero(); dim];
        let size = format!("{count}x{dim}");
        g.throughput(Throughput::Bytes(bytes::<B::Scalar>(count * dim)));

        g.bench_function(
            BenchmarkId::new(format!("{}-two-kernels", B::NAME), &size),
            |b| {
                b.iter(|| {
                    B::batch_distances(batch, &point, &mut distances).unwrap();
                    for i in 0..count {
                        coefficients[i] =
                            kernels::weiszfeld_coefficient(weights[i], distances[i], eps);
                    }
                    B::batch_weighted_sum(batch, &coefficients, &mut sum).unwrap();
                })
            },
        );
        g.bench_function(BenchmarkId::new(format!("{}-fused", B::NAME), &size), |b| {
            b.iter(|| {
                B::batch_weiszfeld_pass(
                    batch,
                    &point,
                    &weights,
                    eps,
                    &mut distances,
                    &mut coefficients,
                    &mut sum,
                )
                .unwrap()
            })
        });
    }
    g.finish();
}

/// Benchmarks the read-bandwidth floor: sums of a 256 MB `f64` array with [`kernels::sum`] on rayon
/// pools of 1 and 2 threads, and with a plain loop on the calling thread and on two threads.
fn bandwidth(c: &mut Criterion) {
    let len = if quick() {
        BANDWIDTH_LEN / 4
    } else {
        BANDWIDTH_LEN
    };
    let x = uniform_vec::<f64>(&mut bench_rng(1), len);
    let mut g = group(c, "bandwidth", "f64");
    g.throughput(Throughput::Bytes(bytes::<f64>(len)));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a rayon pool can be built");
        g.bench_function(
            BenchmarkId::new(format!("kernels-sum-{threads}t"), format!("1x{len}")),
            |b| b.iter(|| pool.install(|| kernels::sum(black_box(&x)))),
        );
    }
    g.bench_function(BenchmarkId::new("plain-loop-1t", format!("1x{len}")), |b| {
        b.iter(|| plain_sum(black_box(&x)))
    });
    // The same loop on two threads, one half each.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a rayon pool can be built");
    g.bench_function(
        BenchmarkId::new("plain-halves-2t", format!("1x{len}")),
        |b| {
            b.iter(|| {
                let (left, right) = black_box(&x).split_at(len / 2);
                let (a, b) = pool.join(|| plain_sum(left), || plain_sum(right));
                a + b
            })
        },
    );
    g.finish();
}

/// Sums with eight interleaved accumulators, which the compiler turns into SIMD lanes.
fn plain_sum(x: &[f64]) -> f64 {
    let mut acc = [0.0_f64; 8];
    for chunk in x.chunks_exact(8) {
        for lane in 0..8 {
            acc[lane] += chunk[lane];
        }
    }
    acc.iter().sum::<f64>()
}

/// Runs every group, bandwidth first.
fn all(c: &mut Criterion) {
    bandwidth(c);

    let shapes = batch_shapes();
    estimators::<VecBackend<f64>>(c, &shapes);
    estimators::<VecBackend<f32>>(c, &shapes);
    geometric_outliers::<VecBackend<f64>>(c);
    geometric_outliers::<VecBackend<f32>>(c);
    if !quick() {
        geometric_outliers::<NalgebraBackend<f64>>(c);
        geometric_outliers::<FaerBackend<f64>>(c);
        estimators::<NalgebraBackend<f64>>(c, &backend_shapes());
        estimators::<NalgebraBackend<f32>>(c, &backend_shapes());
        estimators::<FaerBackend<f64>>(c, &backend_shapes());
        estimators::<FaerBackend<f32>>(c, &backend_shapes());
    }

    for scalar in ["f64", "f32"] {
        let mut g = group(c, "tracker_update", scalar);
        let dims = step_dims();
        if scalar == "f64" {
            tracker_update::<VecBackend<f64>>(&mut g, &dims);
            if !quick() {
                tracker_update::<NalgebraBackend<f64>>(&mut g, &[1_000_000]);
                tracker_update::<FaerBackend<f64>>(&mut g, &[1_000_000]);
            }
        } else {
            tracker_update::<VecBackend<f32>>(&mut g, &dims);
            if !quick() {
                tracker_update::<NalgebraBackend<f32>>(&mut g, &[1_000_000]);
                tracker_update::<FaerBackend<f32>>(&mut g, &[1_000_000]);
            }
        }
        g.finish();
    }
    tracker_step::<f64>(c);
    tracker_step::<f32>(c);
    clip::<f64>(c);
    clip::<f32>(c);
    dp_step::<f64>(c);
    dp_step::<f32>(c);
}

criterion_group!(benches, all);
criterion_main!(benches);
