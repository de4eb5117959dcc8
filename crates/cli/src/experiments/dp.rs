//! Differentially private training, this project's protocol after the DP-SGD discussion of
//! Schaipp, Garrigos, Simsekli and Gower (arXiv:2402.12828), where averaged per-sample
//! clipping is a mini-batch step towards the geometric median.
//!
//! DP-SGD clips per-sample gradients around zero; the tracked variant clips around the
//! previous release. Both add the same Gaussian noise, so they spend the same privacy
//! budget. The metric is the test accuracy, with `epsilon` at the configured `delta`.

use std::path::PathBuf;

use median_dp::accountant::SamplingScheme;
use median_dp::dpsgd::{Anchor, Clipping, DpConfig as MechanismConfig, DpSgd, poisson_sample};
use median_linalg::Backend;
use median_sgd::Problem;

use super::{Context, Job, job_key, record_steps, run_jobs, slug};
use crate::CliError;
use crate::config::{DpConfig, ExperimentConfig};
use crate::output::{BandPlot, Legend, Record, ResultTable, RunRows};
use crate::problems::{Prepared, prepare};
use crate::registry::Vb;

struct Spec {
    sigma: f64,
    anchor: usize,
    seed: u64,
}

/// The metric columns of the table.
const METRICS: [&str; 3] = ["test_accuracy", "train_loss", "epsilon"];

/// Runs the DP-SGD experiment; returns its table and plots.
pub(crate) fn run(
    config: &ExperimentConfig,
    context: &Context,
) -> Result<(ResultTable, Vec<PathBuf>), CliError> {
    let dp = config
        .dp
        .as_ref()
        .ok_or_else(|| CliError::InvalidParameter {
            name: "dp".to_string(),
            value: "missing".to_string(),
            expected: "a [dp] section".to_string(),
        })?;
    let prepared = prepare(dp.dataset.get_ref(), 0, dp.test_fraction, 0)?;

    let mut jobs = Vec::new();
    for &sigma in &dp.noise_multipliers {
        for (ai, anchor) in dp.anchors.iter().enumerate() {
            for &seed in &config.seeds {
                let coordinates = format!("sigma={sigma} anchor={} seed={seed}", anchor.get_ref());
                jobs.push(Job {
                    key: job_key(config, &coordinates),
                    spec: Spec {
                        sigma,
                        anchor: ai,
                        seed,
                    },
                });
            }
        }
    }
    let results = run_jobs(context, &config.name, jobs, |spec| {
        run_one(config, dp, &prepared, spec)
    })?;

    let mut records = Vec::new();
    for (spec, rows) in results {
        let Some(rows) = rows else { continue };
        for (step, values) in rows {
            records.push(Record {
                setting: format!("{} / sigma={}", dp.dataset.get_ref(), spec.sigma),
                method: format!("{}-anchor", dp.anchors[spec.anchor].get_ref()),
                seed: spec.seed,
                step,
                values,
            });
        }
    }
    let table = ResultTable {
        experiment: config.name.clone(),
        metrics: METRICS.iter().map(|m| m.to_string()).collect(),
        records,
    };
    let plots = plot(config, &table, context)?;
    Ok((table, plots))
}

/// Trains with one anchor and noise multiplier; returns test accuracy, training loss and
/// `epsilon` at the record steps.
fn run_one(
    config: &ExperimentConfig,
    dp: &DpConfig,
    prepared: &Prepared,
    spec: &Spec,
) -> Result<RunRows, CliError> {
    let problem = &prepared.problem;
    let test = prepared
        .test
        .as_ref()
        .ok_or_else(|| CliError::InvalidParameter {
            name: "dataset".to_string(),
            value: problem.name(),
            expected: "a classification dataset with a test split".to_string(),
        })?
        .to_dataset()?;
    let n = problem.num_samples();
    let dim = problem.dim();
    let mechanism = MechanismConfig {
        clipping: Clipping::Global {
            clip_norm: dp.clip_norm,
        },
        noise_multiplier: spec.sigma,
        sampling: SamplingScheme::Poisson,
        batch_size: dp.sampling_rate * n as f64,
    };
    let anchor = match dp.anchors[spec.anchor].get_ref().as_str() {
        "tracked" => Anchor::Tracked,
        _ => Anchor::Zero,
    };
    let mut optimizer =
        DpSgd::<f64>::new(mechanism, dim, anchor, dp.sampling_rate).map_err(dp_error)?;
    let mut rng = median_sgd::rng_from_seed(spec.seed);

    let steps = record_steps(config.iterations, config.record_every);
    let mut x = vec![0.0; dim];
    let mut gradients = vec![0.0; dim];
    let metrics = |x: &[f64], epsilon: f64| -> Result<Vec<f64>, CliError> {
        let accuracy = problem.accuracy(x, &test)?.unwrap_or(f64::NAN);
        Ok(vec![accuracy, problem.loss(x)?, epsilon])
    };
    let mut rows = vec![(0, metrics(&x, 0.0)?)];
    for k in 1..=config.iterations {
        // Per-sample gradients of a Poisson sample, as the rows of one batch.
        let indices = poisson_sample(n, dp.sampling_rate, &mut rng).map_err(dp_error)?;
        let mut rows_data = Vec::with_capacity(indices.len() * dim);
        for &i in &indices {
            problem.sample_gradient(i, &x, &mut gradients)?;
            rows_data.extend_from_slice(&gradients);
        }
        let batch = Vb::batch_from_rows(&rows_data, indices.len(), dim)
            .map_err(median_core::Error::from)?;
        optimizer
            .step::<Vb, _>(&mut x, dp.step_size, &batch, &mut rng)
            .map_err(dp_error)?;
        if steps.binary_search(&k).is_ok() {
            let epsilon = optimizer.epsilon(dp.delta).map_err(dp_error)?;
            rows.push((k, metrics(&x, epsilon)?));
        }
    }
    Ok(rows)
}

/// Converts an error of the DP crate, keeping its message.
fn dp_error(error: median_dp::DpError) -> CliError {
    CliError::InvalidParameter {
        name: "dp".to_string(),
        value: String::new(),
        expected: error.to_string(),
    }
}

/// Plots the test accuracy over steps, one plot per noise multiplier.
fn plot(
    config: &ExperimentConfig,
    table: &ResultTable,
    context: &Context,
) -> Result<Vec<PathBuf>, CliError> {
    let summary = table.summarize(0);
    let mut settings: Vec<&String> = summary.keys().map(|(s, _)| s).collect();
    settings.dedup();
    let mut files = Vec::new();
    for setting in settings {
        let curves = summary
            .iter()
            .filter(|((s, _), _)| s == setting)
            .map(|((_, method), points)| (method.clone(), points.clone()))
            .collect();
        let plot = BandPlot {
            title: format!("{}: {setting}", config.name),
            x_label: "iteration".to_string(),
            y_label: "test accuracy".to_string(),
            log_y: false,
            curves,
            legend: Legend::LowerLeft,
        };
        let stem = context
            .out_dir
            .join(format!("{}_{}", config.name, slug(setting)));
        files.extend(plot.draw(&stem)?);
    }
    Ok(files)
}
