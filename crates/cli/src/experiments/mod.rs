//! The experiments: online estimation, optimization under heavy-tailed noise, and
//! Byzantine-robust distributed training. Each runs its settings, methods and seeds in
//! parallel (rayon), skips runs already stored in the output folder, writes one CSV table
//! and its plots, and returns the table for the report.

use std::path::{Path, PathBuf};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::CliError;
use crate::config::{self, ExperimentConfig, Kind};
use crate::output::{ResultTable, RunCache, RunRows};

pub mod byzantine;
pub mod dp;
pub mod online;
pub mod sgd;

/// The run environment of experiments: the output folder, the run cache and progress bars.
pub struct Context {
    /// The output folder.
    pub out_dir: PathBuf,
    /// The cache of completed runs.
    pub cache: RunCache,
    /// The progress bars (hidden when stderr is not a terminal).
    pub progress: MultiProgress,
}

impl Context {
    /// Creates the output folder and its run cache.
    ///
    /// # Errors
    ///
    /// [`CliError::Io`] if the folders cannot be created.
    pub fn new(out_dir: &Path) -> Result<Self, CliError> {
        std::fs::create_dir_all(out_dir).map_err(|e| CliError::io(out_dir, e))?;
        Ok(Self {
            out_dir: out_dir.to_path_buf(),
            cache: RunCache::open(out_dir)?,
            progress: MultiProgress::new(),
        })
    }

    /// Adds a progress bar of `total` items called `unit`, labelled `name`.
    pub fn bar(&self, name: &str, total: usize, unit: &str) -> ProgressBar {
        let bar = self.progress.add(ProgressBar::new(total as u64));
        let style = ProgressStyle::with_template(&format!(
            "{{prefix:>24}} [{{bar:30}}] {{pos}}/{{len}} {unit} {{elapsed}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        bar
    }
}

/// The result of one experiment: its table and the files written.
#[derive(Debug, Clone)]
pub struct ExperimentOutput {
    /// The results.
    pub table: ResultTable,
    /// The kind, which selects the report's claims.
    pub kind: Kind,
    /// The CSV and plot files written.
    pub files: Vec<PathBuf>,
}

/// One unit of work: a run key and the labels of its rows.
pub(crate) struct Job<T> {
    /// The cache key (configuration, setting, method, seed).
    pub key: String,
    /// The parameters of the run.
    pub spec: T,
}

/// Runs `jobs` in parallel, reusing cached results, and returns their rows in job order.
///
/// A failing run is logged and gives no rows; the other runs go on.
///
/// # Errors
///
/// [`CliError::AllRunsFailed`] when there were runs and every one of them failed.
pub(crate) fn run_jobs<T, F>(
    context: &Context,
    name: &str,
    jobs: Vec<Job<T>>,
    run: F,
) -> Result<Vec<(T, Option<RunRows>)>, CliError>
where
    T: Send,
    F: Fn(&T) -> Result<RunRows, CliError> + Sync,
{
    let bar = context.bar(name, jobs.len(), "runs");
    let first_error = std::sync::Mutex::new(None::<(usize, String)>);
    let results: Vec<(T, Option<RunRows>)> = jobs
        .into_par_iter()
        .enumerate()
        .map(|(index, job)| {
            let rows = if let Some(rows) = context.cache.load(&job.key) {
                Some(rows)
            } else {
                match run(&job.spec) {
                    Ok(rows) => {
                        if let Err(e) = context.cache.store(&job.key, &rows) {
                            log::warn!("{e}");
                        }
                        Some(rows)
                    }
                    Err(e) => {
                        log::warn!(
                            "{name}: run {} failed: {e}",
                            job.key.lines().last().unwrap_or("")
                        );
                        // Keep the error of the lowest job index, so the message does not
                        // depend on thread timing.
                        let mut first = first_error.lock().unwrap_or_else(|p| p.into_inner());
                        if first.as_ref().is_none_or(|(i, _)| index < *i) {
                            *first = Some((index, e.to_string()));
                        }
                        None
                    }
                }
            };
            bar.inc(1);
            (job.spec, rows)
        })
        .collect();
    bar.finish();

    let runs = results.len();
    if runs > 0 && results.iter().all(|(_, rows)| rows.is_none()) {
        let first = first_error
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .map_or_else(String::new, |(_, message)| message);
        return Err(CliError::AllRunsFailed {
            experiment: name.to_string(),
            runs,
            first,
        });
    }
    Ok(results)
}

/// Returns the cache key of one run: the configuration's canonical text and the run's
/// coordinates.
pub(crate) fn job_key(config: &ExperimentConfig, coordinates: &str) -> String {
    format!("{}\n{coordinates}", config::canonical(config))
}

/// Returns the steps at which metrics are recorded: `0, every, 2 every, ..., iterations`.
pub(crate) fn record_steps(iterations: usize, every: usize) -> Vec<usize> {
    let mut steps: Vec<usize> = (0..=iterations).step_by(every.max(1)).collect();
    if steps.last() != Some(&iterations) {
        steps.push(iterations);
    }
    steps
}

/// Runs one experiment and writes its CSV and plots into the context's folder.
///
/// # Errors
///
/// [`CliError::Config`] for a configuration whose section is missing, and the errors of
/// writing the outputs. Individual runs that fail are logged and skipped.
pub fn run_experiment(
    config: &ExperimentConfig,
    context: &Context,
) -> Result<ExperimentOutput, CliError> {
    log::info!("experiment {} ({:?}) started", config.name, config.kind);
    let (table, plots) = match config.kind {
        Kind::Online => online::run(config, context)?,
        Kind::Sgd => sgd::run(config, context)?,
        Kind::Byzantine => byzantine::run(config, context)?,
        Kind::Dp => dp::run(config, context)?,
    };
    let csv = context.out_dir.join(format!("{}.csv", config.name));
    table.write_csv(&csv)?;
    let mut files = vec![csv];
    files.extend(plots);
    log::info!(
        "experiment {} finished: {} rows, {} files",
        config.name,
        table.records.len(),
        files.len()
    );
    Ok(ExperimentOutput {
        table,
        kind: config.kind,
        files,
    })
}

/// Returns a file-name-safe version of `label`.
pub(crate) fn slug(label: &str) -> String {
    label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
