//! Byzantine-robust training, this project's protocol after the distributed experiments of
//! Schaipp, Garrigos, Simsekli and Gower (arXiv:2402.12828).
//!
//! Of `n` workers, `f = round(fraction n)` are Byzantine and send the attack's vectors, and
//! the server steps along the rule's aggregate. The metric is the test accuracy against the
//! Byzantine fraction.

use std::collections::BTreeMap;
use std::path::PathBuf;

use median_core::aggregate::Aggregator;
use median_linalg::{Backend, kernels};
use median_sgd::{GradientOracle, MiniBatch, Problem, Sampling};

use super::{Context, Job, job_key, record_steps, run_jobs, slug};
use crate::CliError;
use crate::config::{ByzantineConfig, ExperimentConfig};
use crate::output::{BandPlot, BandPoint, Legend, Record, ResultTable, RunRows, percentile};
use crate::problems::{Prepared, prepare};
use crate::registry::{self, RuleParams, Vb};

struct Spec {
    dataset: usize,
    attack: usize,
    fraction: f64,
    rule: usize,
    seed: u64,
}

/// The metric columns of the table.
const METRICS: [&str; 4] = [
    "byzantine_fraction",
    "test_accuracy",
    "train_loss",
    "diverged",
];

/// Runs the Byzantine experiment; returns its table and plots.
pub(crate) fn run(
    config: &ExperimentConfig,
    context: &Context,
) -> Result<(ResultTable, Vec<PathBuf>), CliError> {
    let byz = config
        .byzantine
        .as_ref()
        .ok_or_else(|| CliError::InvalidParameter {
            name: "byzantine".to_string(),
            value: "missing".to_string(),
            expected: "a [byzantine] section".to_string(),
        })?;
    let prepared = byz
        .datasets
        .iter()
        .map(|d| prepare(d.get_ref(), 0, byz.test_fraction, 0))
        .collect::<Result<Vec<_>, _>>()?;

    let mut jobs = Vec::new();
    for (di, dataset) in byz.datasets.iter().enumerate() {
        for (ai, attack) in byz.attacks.iter().enumerate() {
            for &fraction in &byz.fractions {
                for (ri, rule) in byz.rules.iter().enumerate() {
                    for &seed in &config.seeds {
                        let coordinates = format!(
                            "dataset={} attack={} fraction={fraction} rule={} seed={seed}",
                            dataset.get_ref(),
                            attack.get_ref(),
                            rule.get_ref()
                        );
                        jobs.push(Job {
                            key: job_key(config, &coordinates),
                            spec: Spec {
                                dataset: di,
                                attack: ai,
                                fraction,
                                rule: ri,
                                seed,
                            },
                        });
                    }
                }
            }
        }
    }
    let results = run_jobs(context, &config.name, jobs, |spec| {
        run_one(config, byz, &prepared[spec.dataset], spec)
    })?;

    let mut records = Vec::new();
    for (spec, rows) in results {
        let Some(rows) = rows else { continue };
        for (step, values) in rows {
            let mut row = vec![spec.fraction];
            row.extend(values);
            records.push(Record {
                setting: format!(
                    "{} / {}",
                    byz.datasets[spec.dataset].get_ref(),
                    byz.attacks[spec.attack].get_ref()
                ),
                method: byz.rules[spec.rule].get_ref().clone(),
                seed: spec.seed,
                step,
                values: row,
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

/// Trains with one rule under one attack; returns test accuracy, training loss and the
/// divergence flag at the record steps. A diverged run (non-finite aggregate or point)
/// keeps its last finite point for the loss and scores accuracy 0 from then on.
fn run_one(
    config: &ExperimentConfig,
    byz: &ByzantineConfig,
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
    let workers = byz.workers;
    let f = (spec.fraction * workers as f64).round() as usize;
    let honest_count = workers - f;
    let params = RuleParams {
        f,
        tau: byz.clipping_tau,
        blocks: 3,
    };
    let mut rule = registry::build_rule(byz.rules[spec.rule].get_ref(), &params)?;
    let attack = byz.attacks[spec.attack].get_ref();
    let mut oracle = MiniBatch::new(problem.clone(), byz.batch_size, Sampling::WithReplacement)?;
    let mut rng = median_sgd::rng_from_seed(spec.seed);

    let dim = problem.dim();
    let steps = record_steps(config.iterations, config.record_every);
    let mut x = vec![0.0; dim];
    let mut honest = vec![vec![0.0; dim]; honest_count];
    let mut direction = vec![0.0; dim];
    let mut diverged = false;
    let metrics = |x: &[f64], diverged: bool| -> Result<Vec<f64>, CliError> {
        let accuracy = if diverged {
            0.0
        } else {
            problem.accuracy(x, &test)?.unwrap_or(f64::NAN)
        };
        Ok(vec![
            accuracy,
            problem.loss(x)?,
            f64::from(u8::from(diverged)),
        ])
    };
    let mut rows = vec![(0, metrics(&x, false)?)];

    for k in 1..=config.iterations {
        if !diverged {
            for g in honest.iter_mut() {
                oracle.draw(&x, g, &mut rng)?;
            }
            let refs: Vec<&[f64]> = honest.iter().map(Vec::as_slice).collect();
            let byzantine = registry::run_attack(attack, &refs, f, &mut rng)?;
            let mut all = refs;
            all.extend(byzantine.iter().map(Vec::as_slice));
            let batch = Vb::batch_from_gradients(&all).map_err(median_core::Error::from)?;
            rule.aggregate_into(&batch, &mut direction)?;

            let mut next = x.clone();
            kernels::axpy(-byz.step_size, &direction, &mut next);
            if next.iter().all(|v| v.is_finite()) {
                x = next;
            } else {
                diverged = true;
            }
        }
        if steps.binary_search(&k).is_ok() {
            rows.push((k, metrics(&x, diverged)?));
        }
    }
    Ok(rows)
}

/// Plots, for each dataset and attack, the final test accuracy against the Byzantine
/// fraction, one curve per rule (median over seeds, 10-90 % band).
fn plot(
    config: &ExperimentConfig,
    table: &ResultTable,
    context: &Context,
) -> Result<Vec<PathBuf>, CliError> {
    let finals = final_accuracy(table);
    let mut by_setting: BTreeMap<String, Vec<(String, Vec<BandPoint>)>> = BTreeMap::new();
    for ((setting, rule), fractions) in finals {
        let points = fractions
            .into_iter()
            .map(|(bits, mut values)| BandPoint {
                x: f64::from_bits(bits),
                low: percentile(&mut values, 0.1),
                median: percentile(&mut values, 0.5),
                high: percentile(&mut values, 0.9),
            })
            .collect();
        by_setting.entry(setting).or_default().push((rule, points));
    }
    let mut files = Vec::new();
    for (setting, curves) in by_setting {
        let plot = BandPlot {
            title: format!("{}: {setting}", config.name),
            x_label: "Byzantine fraction f/n".to_string(),
            y_label: "final test accuracy".to_string(),
            log_y: false,
            curves,
            legend: Legend::LowerLeft,
        };
        let stem = context
            .out_dir
            .join(format!("{}_{}", config.name, slug(&setting)));
        files.extend(plot.draw(&stem)?);
    }
    Ok(files)
}

/// Returns the final test accuracies by `(setting, rule)`, then by fraction (as bits,
/// sorted by value for non-negative fractions), over seeds.
pub fn final_accuracy(table: &ResultTable) -> BTreeMap<(String, String), BTreeMap<u64, Vec<f64>>> {
    let last = table.records.iter().map(|r| r.step).max().unwrap_or(0);
    let mut out: BTreeMap<(String, String), BTreeMap<u64, Vec<f64>>> = BTreeMap::new();
    for r in table.records.iter().filter(|r| r.step == last) {
        out.entry((r.setting.clone(), r.method.clone()))
            .or_default()
            .entry(r.values[0].to_bits())
            .or_default()
            .push(r.values[1]);
    }
    out
}
