//! Online estimation, this project's protocol after the online-estimation experiments of
//! Schaipp, Garrigos, Simsekli and Gower (arXiv:2402.12828).
//!
//! Each estimator estimates `mu` in `R^d` from the stream `mu + s xi_k`, with heavy-tailed
//! or contaminated noise, and the experiment records `||m_k - mu||`.

use std::path::PathBuf;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::{Context, Job, job_key, record_steps, run_jobs, slug};
use crate::CliError;
use crate::config::{ExperimentConfig, NoiseConfig, OnlineConfig};
use crate::output::{BandPlot, Legend, Record, ResultTable, RunRows};
use crate::registry::{self, CoordinateNoise, StepRule};

/// Returns the label of an estimator in tables and plots.
pub fn estimator_label(name: &str) -> String {
    match name {
        "ema" => "E1-ema".to_string(),
        "geometric" => "E2-geometric".to_string(),
        "coordinate" => "E3-coordinate".to_string(),
        "linf" => "E4-linf".to_string(),
        "huber" => "E6-huber".to_string(),
        other => other.to_string(),
    }
}

/// The sample law of one setting.
enum Law {
    Coordinate(CoordinateNoise),
    Contaminated { eps: f64, outlier_norm: f64 },
}

struct Spec {
    setting: usize,
    seed: u64,
}

/// Runs the online-estimation experiment; returns its table and plots.
pub(crate) fn run(
    config: &ExperimentConfig,
    context: &Context,
) -> Result<(ResultTable, Vec<PathBuf>), CliError> {
    let online = config
        .online
        .as_ref()
        .ok_or_else(|| CliError::InvalidParameter {
            name: "online".to_string(),
            value: "missing".to_string(),
            expected: "an [online] section".to_string(),
        })?;
    let mu = vec![1.0; online.dim];
    let mu_norm = (online.dim as f64).sqrt();
    let laws = online
        .noise
        .iter()
        .map(|n| build_law(n, mu_norm))
        .collect::<Result<Vec<_>, _>>()?;

    let mut jobs = Vec::new();
    for (setting, noise) in online.noise.iter().enumerate() {
        for &seed in &config.seeds {
            jobs.push(Job {
                key: job_key(config, &format!("setting={} seed={seed}", noise.label())),
                spec: Spec { setting, seed },
            });
        }
    }
    let results = run_jobs(context, &config.name, jobs, |spec| {
        run_one(config, online, &laws[spec.setting], &mu, spec.seed)
    })?;

    // Each run's row contains one error per estimator.
    let mut records = Vec::new();
    for (spec, rows) in results {
        let Some(rows) = rows else { continue };
        for (step, values) in rows {
            for (estimator, value) in online.estimators.iter().zip(values) {
                records.push(Record {
                    setting: online.noise[spec.setting].label(),
                    method: estimator_label(estimator.get_ref()),
                    seed: spec.seed,
                    step,
                    values: vec![value],
                });
            }
        }
    }
    let table = ResultTable {
        experiment: config.name.clone(),
        metrics: vec!["error".to_string()],
        records,
    };
    let plots = plot(config, &table, context)?;
    Ok((table, plots))
}

fn build_law(noise: &NoiseConfig, mu_norm: f64) -> Result<Law, CliError> {
    if noise.law.get_ref() == "contaminated" {
        return Ok(Law::Contaminated {
            eps: noise.eps.unwrap_or(0.05),
            outlier_norm: noise.outlier_scale.unwrap_or(1e3) * mu_norm,
        });
    }
    Ok(Law::Coordinate(registry::build_coordinate_noise(
        noise.law.get_ref(),
        noise.nu,
        noise.alpha,
    )?))
}

/// Feeds one stream of samples to every estimator; returns the errors at the record steps.
fn run_one(
    config: &ExperimentConfig,
    online: &OnlineConfig,
    law: &Law,
    mu: &[f64],
    seed: u64,
) -> Result<RunRows, CliError> {
    let step_rule = match online.schedule.get_ref().as_str() {
        "constant" => StepRule::Constant,
        _ => StepRule::InverseSqrt,
    };
    let mut estimators = online
        .estimators
        .iter()
        .map(|name| {
            registry::build_estimator(
                name.get_ref(),
                online.dim,
                online.tau0,
                step_rule,
                online.huber_delta,
                online.averaging,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let steps = record_steps(config.iterations, config.record_every);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut sample = vec![0.0; online.dim];
    let mut rows = Vec::with_capacity(steps.len());
    let errors =
        |estimators: &[Box<dyn median_core::online::OnlineEstimator<registry::Vb> + Send>]| {
            estimators
                .iter()
                .map(|e| median_linalg::kernels::distance(e.estimate(), mu))
                .collect::<Vec<f64>>()
        };
    rows.push((0, errors(&estimators)));

    let mut next = 1;
    for k in 1..=config.iterations {
        draw_sample(law, mu, online.scale, &mut rng, &mut sample);
        for e in estimators.iter_mut() {
            e.update(&sample)?;
        }
        if next < steps.len() && steps[next] == k {
            rows.push((k, errors(&estimators)));
            next += 1;
        }
    }
    Ok(rows)
}

/// Writes `mu + s xi` into `out`.
fn draw_sample(law: &Law, mu: &[f64], scale: f64, rng: &mut ChaCha8Rng, out: &mut [f64]) {
    match law {
        Law::Coordinate(noise) => {
            for (o, &m) in out.iter_mut().zip(mu) {
                *o = m + scale * rng.sample(noise);
            }
        }
        Law::Contaminated { eps, outlier_norm } => {
            let outlier = rng.random::<f64>() < *eps;
            for (o, &m) in out.iter_mut().zip(mu) {
                *o = rng.sample(StandardNormal);
                if !outlier {
                    *o = m + scale * *o;
                }
            }
            if outlier {
                // A uniformly random direction, scaled to the outlier norm, added to mu.
                let norm = median_linalg::kernels::norm(out).max(f64::MIN_POSITIVE);
                for (o, &m) in out.iter_mut().zip(mu) {
                    *o = m + *o / norm * outlier_norm;
                }
            }
        }
    }
}

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
            .map(|((_, method), points)| {
                // The log axis cannot show step 0.
                let points = points.iter().filter(|p| p.x > 0.0).copied().collect();
                (method.clone(), points)
            })
            .collect();
        let plot = BandPlot {
            title: format!("{}: {setting}", config.name),
            x_label: "samples k".to_string(),
            y_label: "||m_k - mu|| (median, 10-90% band)".to_string(),
            log_y: true,
            curves,
            legend: Legend::UpperRight,
        };
        let stem = context
            .out_dir
            .join(format!("{}_{}", config.name, slug(setting)));
        files.extend(plot.draw(&stem)?);
    }
    Ok(files)
}
