//! Helper binary of `cargo xtask bench`: the thread-count bit check and the Rust side of the
//! comparison with the Python peers.
//!
//! - `median-bench-tool bits`: runs a few kernels, Krum and the two medians on rayon pools of
//!   1 and 2 threads and prints `bits<TAB>NAME<TAB>identical|different` per kernel.
//! - `median-bench-tool peers-data DIR`: writes the seeded batch to `DIR/batch.npy`, times
//!   our geometric median, coordinate median and Krum on it, writes their estimates to
//!   `DIR/answers/rust-*.npy` and the reference geometric median (certificate 1e-12) to
//!   `DIR/reference.npy`, and prints `ours<TAB>NAME<TAB>SECONDS<TAB>ITERATIONS` and
//!   `reference<TAB>KEY<TAB>VALUE` lines.
//! - `median-bench-tool distances DIR`: prints `distance<TAB>NAME<TAB>DISTANCE` from every
//!   `DIR/answers/*.npy` to the reference.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use median_benches::{bench_rng, npy, outlier_rows, uniform_batch, uniform_vec};
use median_core::aggregate::{Aggregator, Krum};
use median_core::batch::{CoordinateMedian, GeometricMedian, StartPoint};
use median_faer::FaerBackend;
use median_linalg::{Backend, One, Scalar, VecBackend, Zero, kernels};
use median_nalgebra::NalgebraBackend;

/// Gradients in the peer batch.
const PEER_COUNT: usize = 64;
/// Dimension of the peer batch.
const PEER_DIM: usize = 100_000;
/// Outliers among the gradients of the peer batch.
const PEER_OUTLIERS: usize = 12;
/// Timed repetitions per operation; the minimum is reported.
const REPEATS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("bits") => {
            bits();
            Ok(())
        }
        Some("peers-data") if args.len() == 2 => peers_data(Path::new(&args[1])),
        Some("distances") if args.len() == 2 => distances(Path::new(&args[1])),
        _ => Err("usage: median-bench-tool bits | peers-data DIR | distances DIR".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs `compute` on a rayon pool of `threads` threads.
fn on_threads<T: Send>(threads: usize, compute: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
        .install(compute)
}

/// Prints whether `compute` returns the same bits on 1 and 2 threads.
fn report_bits<S: Scalar>(name: &str, compute: impl Fn() -> Vec<S> + Send + Sync) {
    let bits = |threads| -> Vec<u64> {
        on_threads(threads, &compute)
            .iter()
            .map(|v| v.into_f64().to_bits())
            .collect()
    };
    let verdict = if bits(1) == bits(2) {
        "identical"
    } else {
        "different"
    };
    println!("bits\t{name}\t{verdict}");
}

/// Runs the bit check of one backend and scalar type.
fn bits_of<B: Backend>() {
    let label = format!("{}/{}", B::NAME, B::Scalar::NAME);
    let mut rng = bench_rng(11);
    let x = uniform_vec::<B::Scalar>(&mut rng, 1_000_003);
    let y = uniform_vec::<B::Scalar>(&mut rng, 1_000_003);
    let (count, dim) = (32, 100_003);
    let batch = uniform_batch::<B>(&mut rng, count, dim);
    let point = uniform_vec::<B::Scalar>(&mut rng, dim);
    let weights = uniform_vec::<B::Scalar>(&mut rng, count);

    report_bits(&format!("{label} sum, dot, distance"), || {
        vec![
            kernels::sum(&x),
            kernels::dot(&x, &y),
            kernels::distance(&x, &y),
        ]
    });
    report_bits(&format!("{label} batch_weighted_sum"), || {
        let mut out = vec![B::Scalar::zero(); dim];
        B::batch_weighted_sum(&batch, &weights, &mut out).unwrap();
        out
    });
    report_bits(&format!("{label} batch_weiszfeld_pass"), || {
        let ones = vec![B::Scalar::one(); count];
        let (mut d, mut c) = (
            vec![B::Scalar::zero(); count],
            vec![B::Scalar::zero(); count],
        );
        let mut out = vec![B::Scalar::zero(); dim];
        let eps = B::Scalar::zero();
        B::batch_weiszfeld_pass(&batch, &point, &ones, eps, &mut d, &mut c, &mut out).unwrap();
        d.into_iter().chain(c).chain(out).collect()
    });
    report_bits(&format!("{label} batch_squared_distances"), || {
        let mut out = vec![B::Scalar::zero(); count * count];
        B::batch_squared_distances(&batch, &mut out).unwrap();
        out
    });
    report_bits(&format!("{label} krum"), || {
        let mut out = vec![B::Scalar::zero(); dim];
        Aggregator::<B>::aggregate_into(&mut Krum::new(count / 4), &batch, &mut out).unwrap();
        out
    });
    report_bits(&format!("{label} coordinate median"), || {
        let mut out = vec![B::Scalar::zero(); dim];
        CoordinateMedian::new()
            .estimate_into::<B>(&batch, &mut out)
            .unwrap();
        out
    });
    report_bits(&format!("{label} geometric median"), || {
        let mut median = GeometricMedian::new().with_max_iter(20);
        B::vector_as_slice(&median.solve::<B>(&batch).unwrap().0).to_vec()
    });
}

/// Prints the bit check of every backend in `f64` and `f32`.
fn bits() {
    bits_of::<VecBackend<f64>>();
    bits_of::<VecBackend<f32>>();
    bits_of::<NalgebraBackend<f64>>();
    bits_of::<FaerBackend<f64>>();
}

/// Returns the seeded peer batch: inliers `N(0, I)` and outliers `N(10 * 1, I)`, in rows.
fn peer_rows() -> Vec<f64> {
    outlier_rows(2402, PEER_COUNT, PEER_DIM, PEER_OUTLIERS)
}

/// Returns the minimum wall time of [`REPEATS`] runs of `run`, after one untimed run.
fn min_seconds(mut run: impl FnMut()) -> f64 {
    run();
    (0..REPEATS)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Returns `||sum_i (m - g_i) / ||m - g_i|| || / n`, the optimality certificate, computed
/// here without the solver's code.
fn certificate(rows: &[f64], m: &[f64]) -> f64 {
    let mut residual = vec![0.0; m.len()];
    for g in rows.chunks_exact(m.len()) {
        let d = g
            .iter()
            .zip(m)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        for (r, (a, b)) in residual.iter_mut().zip(g.iter().zip(m)) {
            *r += (b - a) / d;
        }
    }
    residual.iter().map(|r| r * r).sum::<f64>().sqrt() / (rows.len() / m.len()) as f64
}

/// Writes the batch and the reference, times our operations and writes their estimates.
fn peers_data(dir: &Path) -> Result<(), String> {
    type B = VecBackend<f64>;
    let answers = dir.join("answers");
    std::fs::create_dir_all(&answers).map_err(|e| format!("{}: {e}", answers.display()))?;
    let rows = peer_rows();
    let shape = [PEER_COUNT, PEER_DIM];
    write(&dir.join("batch.npy"), &shape, &rows)?;
    let batch = B::batch_from_rows(&rows, PEER_COUNT, PEER_DIM).map_err(|e| e.to_string())?;
    let mut out = vec![0.0; PEER_DIM];

    // The reference: certificate 1e-12 from two start points, which must agree.
    let mut reference = GeometricMedian::new()
        .with_tolerance(1e-12)
        .map_err(|e| e.to_string())?
        .with_start(StartPoint::CoordinateMedian);
    let (m_median, info) = reference.solve::<B>(&batch).map_err(|e| e.to_string())?;
    let mut from_mean = GeometricMedian::new()
        .with_tolerance(1e-12)
        .map_err(|e| e.to_string())?
        .with_start(StartPoint::Mean);
    let (m_mean, _) = from_mean.solve::<B>(&batch).map_err(|e| e.to_string())?;
    println!("reference\titerations\t{}", info.iterations);
    println!("reference\tsolver certificate\t{:e}", info.certificate);
    println!(
        "reference\tindependent certificate\t{:e}",
        certificate(&rows, &m_median)
    );
    println!(
        "reference\tdistance between starts\t{:e}",
        kernels::distance(&m_median, &m_mean)
    );
    write(&dir.join("reference.npy"), &[PEER_DIM], &m_median)?;

    let mut median = GeometricMedian::new()
        .with_tolerance(1e-8)
        .map_err(|e| e.to_string())?;
    let seconds = min_seconds(|| {
        median.solve_into::<B>(&batch, &mut out).unwrap();
    });
    let iterations = median.last_info().map_or(0, |i| i.iterations);
    println!(
        "ours\trust geometric median (reduced start, Weiszfeld, certificate 1e-8)\t{seconds}\t{iterations}"
    );
    write(
        &answers.join("rust-geometric-median.npy"),
        &[PEER_DIM],
        &out,
    )?;

    let mut coordinate = CoordinateMedian::new();
    let seconds = min_seconds(|| coordinate.estimate_into::<B>(&batch, &mut out).unwrap());
    println!("ours\trust coordinate median\t{seconds}\t");
    write(
        &answers.join("rust-coordinate-median.npy"),
        &[PEER_DIM],
        &out,
    )?;

    let mut krum = Krum::new(PEER_OUTLIERS);
    let seconds =
        min_seconds(|| Aggregator::<B>::aggregate_into(&mut krum, &batch, &mut out).unwrap());
    println!("ours\trust krum (f = {PEER_OUTLIERS})\t{seconds}\t");
    write(&answers.join("rust-krum.npy"), &[PEER_DIM], &out)?;
    Ok(())
}

/// Writes an `f64` array, with the path in the error.
fn write(path: &Path, shape: &[usize], values: &[f64]) -> Result<(), String> {
    npy::write_f64(path, shape, values).map_err(|e| format!("{}: {e}", path.display()))
}

/// Prints the distance from every estimate to the reference.
fn distances(dir: &Path) -> Result<(), String> {
    let read = |path: &Path| npy::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let reference = read(&dir.join("reference.npy"))?;
    let answers = dir.join("answers");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&answers)
        .map_err(|e| format!("{}: {e}", answers.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "npy"))
        .collect();
    paths.sort();
    for path in paths {
        let answer = read(&path)?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if answer.values.len() != reference.values.len() {
            println!("distance\t{name}\tNaN");
            continue;
        }
        println!(
            "distance\t{name}\t{:e}",
            kernels::distance(&answer.values, &reference.values)
        );
    }
    Ok(())
}
