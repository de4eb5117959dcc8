//! Optimization under heavy-tailed, state-dependent noise, this project's protocol after
//! the Sample Median GD experiments of Schaipp, Garrigos, Simsekli and Gower
//! (arXiv:2402.12828).
//!
//! Gradients are `g = grad f(x) + (a + b ||x||) xi` with i.i.d. heavy-tailed coordinates
//! `xi`. The experiment compares SGD, clipped SGD, the median tracker and Sample Median GD,
//! each at its best constant step from a grid.
//!
//! The metric is `f(x) - f_ref`. For the quadratic `f_ref = f*`. On real data `f_ref` is the
//! loss reached by full-batch gradient descent (see [`reference_loss`]), so the metric can
//! be slightly negative where a method ends below that reference.

use std::collections::BTreeMap;
use std::path::PathBuf;

use median_core::batch::Mean;
use median_noise::Iid;
use median_sgd::{
    ClipKind, ClippedSgd, ExactGradient, IterationRecord, NormalizedSgd, Optimizer, Problem,
    SampleMedianGd, ScaleSource, Schedule, Sgd, SignSgd, StateDependentNoise, Tracker,
};

use super::{Context, Job, job_key, record_steps, run_jobs, slug};
use crate::CliError;
use crate::config::{ExperimentConfig, MethodConfig, SgdConfig};
use crate::output::{BandPlot, Legend, Record, ResultTable, RunRows, percentile};
use crate::problems::{AnyProblem, prepare, reference_loss};
use crate::registry::{self, CoordinateNoise, DynEstimator, RuleParams, StepRule, Vb};

struct Spec {
    problem: usize,
    noise: usize,
    method: usize,
    gamma: f64,
    seed: u64,
}

/// Runs the SGD experiment; returns its table (all step sizes) and the plots (best step).
pub(crate) fn run(
    config: &ExperimentConfig,
    context: &Context,
) -> Result<(ResultTable, Vec<PathBuf>), CliError> {
    let sgd = config
        .sgd
        .as_ref()
        .ok_or_else(|| CliError::InvalidParameter {
            name: "sgd".to_string(),
            value: "missing".to_string(),
            expected: "an [sgd] section".to_string(),
        })?;
    let problems = sgd
        .problems
        .iter()
        .map(|p| prepare(p.get_ref(), sgd.quadratic_dim, sgd.test_fraction, 0))
        .collect::<Result<Vec<_>, _>>()?;
    let references = problems
        .iter()
        .map(|p| reference_loss(&p.problem, 2000))
        .collect::<Result<Vec<_>, _>>()?;
    let noises = sgd
        .noise
        .iter()
        .map(|n| registry::build_coordinate_noise(n.law.get_ref(), n.nu, n.alpha))
        .collect::<Result<Vec<_>, _>>()?;

    let mut jobs = Vec::new();
    for (pi, problem) in sgd.problems.iter().enumerate() {
        for (ni, noise) in sgd.noise.iter().enumerate() {
            for (mi, method) in sgd.methods.iter().enumerate() {
                for &gamma in &sgd.step_sizes {
                    for &seed in &config.seeds {
                        let coordinates = format!(
                            "problem={} noise={} method={} gamma={gamma} seed={seed}",
                            problem.get_ref(),
                            noise.label(),
                            method.display_label()
                        );
                        jobs.push(Job {
                            key: job_key(config, &coordinates),
                            spec: Spec {
                                problem: pi,
                                noise: ni,
                                method: mi,
                                gamma,
                                seed,
                            },
                        });
                    }
                }
            }
        }
    }
    let results = run_jobs(context, &config.name, jobs, |spec| {
        run_one(
            config,
            sgd,
            &problems[spec.problem].problem,
            references[spec.problem],
            noises[spec.noise],
            &sgd.methods[spec.method],
            spec.gamma,
            spec.seed,
        )
    })?;

    let mut records = Vec::new();
    for (spec, rows) in results {
        let Some(rows) = rows else { continue };
        for (step, values) in rows {
            records.push(Record {
                setting: setting_label(sgd, spec.problem, spec.noise),
                method: sgd.methods[spec.method].display_label(),
                seed: spec.seed,
                step,
                values: vec![spec.gamma, values[0]],
            });
        }
    }
    let table = ResultTable {
        experiment: config.name.clone(),
        metrics: vec!["step_size".to_string(), "loss".to_string()],
        records,
    };
    let best = best_step_table(&table);
    let best_csv = context.out_dir.join(format!("{}_best.csv", config.name));
    best.write_csv(&best_csv)?;
    let mut files = vec![best_csv];
    files.extend(plot(config, &best, context)?);
    Ok((table, files))
}

/// Returns `"problem / noise"`.
fn setting_label(sgd: &SgdConfig, problem: usize, noise: usize) -> String {
    format!(
        "{} / {}",
        sgd.problems[problem].get_ref(),
        sgd.noise[noise].label()
    )
}

/// Runs one method at one step size and seed; returns the suboptimality `f(x) - f_ref` at
/// the record steps, `+inf` after a divergence.
#[allow(clippy::too_many_arguments)]
fn run_one(
    config: &ExperimentConfig,
    sgd: &SgdConfig,
    problem: &AnyProblem,
    reference: f64,
    noise: CoordinateNoise,
    method: &MethodConfig,
    gamma: f64,
    seed: u64,
) -> Result<RunRows, CliError> {
    let schedule = Schedule::constant(gamma)?;
    let mut oracle = StateDependentNoise::new(
        ExactGradient::new(problem.clone()),
        Iid::new(noise),
        ScaleSource::Iterate,
        sgd.noise_a,
        sgd.noise_b,
    )?;
    let dim = problem.dim();
    let samples = method.samples.unwrap_or(1);
    let tau = method.tau.unwrap_or(1.0);
    let losses = match method.name.get_ref().as_str() {
        "sgd" => drive(
            config,
            problem,
            reference,
            Sgd::new(schedule),
            &mut oracle,
            seed,
        )?,
        "minibatch-sgd" => {
            let opt = SampleMedianGd::<Vb, _>::new(Mean::new(), schedule, samples)?;
            drive(config, problem, reference, opt, &mut oracle, seed)?
        }
        "clipped-sgd" => {
            let opt = ClippedSgd::new(schedule, tau, ClipKind::Norm)?;
            drive(config, problem, reference, opt, &mut oracle, seed)?
        }
        "normalized-sgd" => drive(
            config,
            problem,
            reference,
            NormalizedSgd::new(schedule),
            &mut oracle,
            seed,
        )?,
        "sign-sgd" => drive(
            config,
            problem,
            reference,
            SignSgd::new(schedule),
            &mut oracle,
            seed,
        )?,
        "tracker" => {
            let name = method
                .estimator
                .as_ref()
                .map_or("geometric", |e| e.get_ref().as_str());
            let estimator =
                registry::build_estimator(name, dim, tau, StepRule::Constant, 1.0, false)?;
            let opt = Tracker::<Vb, _>::new(DynEstimator(estimator), schedule);
            drive(config, problem, reference, opt, &mut oracle, seed)?
        }
        "sample-median-gd" => {
            let name = method
                .rule
                .as_ref()
                .map_or("coordinate-median", |r| r.get_ref().as_str());
            let rule = registry::build_rule(name, &RuleParams::default())?;
            let opt = SampleMedianGd::<Vb, _>::new(rule, schedule, samples)?;
            drive(config, problem, reference, opt, &mut oracle, seed)?
        }
        other => {
            return Err(CliError::UnknownName {
                kind: "optimizer",
                name: other.to_string(),
                known: registry::OPTIMIZERS
                    .iter()
                    .map(|e| e.name.to_string())
                    .collect(),
            });
        }
    };
    Ok(losses)
}

/// Runs `optimizer`; a run stopped by a non-finite point counts as diverged (`+inf` from
/// then on), and any other error is returned.
fn drive<Opt, O>(
    config: &ExperimentConfig,
    problem: &AnyProblem,
    offset: f64,
    mut optimizer: Opt,
    oracle: &mut O,
    seed: u64,
) -> Result<RunRows, CliError>
where
    Opt: Optimizer<f64>,
    O: median_sgd::GradientOracle<f64>,
{
    let steps = record_steps(config.iterations, config.record_every);
    let x0 = vec![0.0; problem.dim()];
    let mut rows: RunRows = vec![(0, vec![problem.loss(&x0)? - offset])];
    let mut observer = |record: &IterationRecord<'_, f64>| {
        let k = record.iteration + 1;
        if steps.binary_search(&k).is_ok() {
            let loss = record.loss.unwrap_or(f64::NAN);
            let value = if loss.is_finite() {
                loss - offset
            } else {
                f64::INFINITY
            };
            rows.push((k, vec![value]));
        }
    };
    let outcome = median_sgd::run(
        problem,
        &mut optimizer,
        oracle,
        &x0,
        config.iterations,
        seed,
        &mut observer,
    );
    match outcome {
        Ok(_) => {}
        Err(median_sgd::SgdError::NonFinite { .. }) => {
            let done = rows.len();
            rows.extend(steps[done..].iter().map(|&k| (k, vec![f64::INFINITY])));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(rows)
}

/// Keeps, for every setting and method, the rows of the step size whose median final loss
/// over seeds is smallest (ties go to the smaller step).
pub fn best_step_table(table: &ResultTable) -> ResultTable {
    let last_step = table.records.iter().map(|r| r.step).max().unwrap_or(0);
    let mut finals: BTreeMap<(String, String, u64), Vec<f64>> = BTreeMap::new();
    for r in table.records.iter().filter(|r| r.step == last_step) {
        finals
            .entry((r.setting.clone(), r.method.clone(), r.values[0].to_bits()))
            .or_default()
            .push(r.values[1]);
    }
    let mut best: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for ((setting, method, gamma_bits), mut values) in finals {
        let gamma = f64::from_bits(gamma_bits);
        let median = percentile(&mut values, 0.5);
        let entry = best.entry((setting, method)).or_insert((gamma, median));
        if median < entry.1 || (median == entry.1 && gamma < entry.0) {
            *entry = (gamma, median);
        }
    }
    let records = table
        .records
        .iter()
        .filter(|r| {
            best.get(&(r.setting.clone(), r.method.clone()))
                .is_some_and(|&(gamma, _)| gamma == r.values[0])
        })
        .cloned()
        .collect();
    ResultTable {
        experiment: table.experiment.clone(),
        metrics: table.metrics.clone(),
        records,
    }
}

fn plot(
    config: &ExperimentConfig,
    best: &ResultTable,
    context: &Context,
) -> Result<Vec<PathBuf>, CliError> {
    let summary = best.summarize(1);
    let mut settings: Vec<&String> = summary.keys().map(|(s, _)| s).collect();
    settings.dedup();
    let gammas: BTreeMap<(String, String), f64> = best
        .records
        .iter()
        .map(|r| ((r.setting.clone(), r.method.clone()), r.values[0]))
        .collect();
    let mut files = Vec::new();
    for setting in settings {
        let curves = summary
            .iter()
            .filter(|((s, _), _)| s == setting)
            .map(|((s, method), points)| {
                let gamma = gammas
                    .get(&(s.clone(), method.clone()))
                    .copied()
                    .unwrap_or(f64::NAN);
                (format!("{method} (step {gamma})"), points.clone())
            })
            .collect();
        let plot = BandPlot {
            title: format!("{}: {setting}", config.name),
            x_label: "iteration".to_string(),
            y_label: "f(x) - f_ref (median, 10-90% band)".to_string(),
            log_y: true,
            curves,
            legend: Legend::UpperLeft,
        };
        let stem = context
            .out_dir
            .join(format!("{}_{}", config.name, slug(setting)));
        files.extend(plot.draw(&stem)?);
    }
    Ok(files)
}
