//! The `median` program: runs the experiment suite, single experiments from TOML files,
//! robust aggregation of gradient files, and lists what is available.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use clap::{Parser, Subcommand};
use median_cli::experiments::{Context, ExperimentOutput, run_experiment};
use median_cli::registry::{self, RuleParams, Vb};
use median_cli::{config, csv, npy, report, suite};
use median_core::aggregate::Aggregator;
use median_core::batch::GeometricMedian;
use median_linalg::Backend;

/// Robust gradient estimation by medians: experiments and tools.
#[derive(Debug, Parser)]
#[command(name = "median", version, about, long_about = None)]
struct Cli {
    /// The command to run.
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the built-in experiment suite and write CSV tables, plots and report.md.
    Repro {
        /// Use the reduced settings (3 seeds, fewer iterations and settings; a few minutes
        /// on 2 cores).
        #[arg(long)]
        quick: bool,
        /// The output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// The number of worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
        /// An offset added to every built-in seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Run one experiment from a TOML configuration file.
    Run {
        /// The configuration file.
        config: PathBuf,
        /// The output folder.
        #[arg(long, default_value = "results")]
        out: PathBuf,
        /// The number of worker threads (default: one per core).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Aggregate a batch of gradients (one per row) from a .npy or .csv file.
    Aggregate {
        /// The rule (see `median list`).
        #[arg(long)]
        rule: String,
        /// The number of Byzantine gradients to tolerate (trimmed per side for trimmed-mean).
        #[arg(long, default_value_t = 0)]
        f: usize,
        /// The clipping radius of centered-clipping.
        #[arg(long, default_value_t = 1.0)]
        tau: f64,
        /// The block count of median-of-means.
        #[arg(long, default_value_t = 3)]
        blocks: usize,
        /// Write the estimate to this file (.npy or .csv) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// The input file: .npy (float32 or float64) or CSV (optional header row).
        input: PathBuf,
    },
    /// List the estimators, rules, attacks, noise models and optimizers.
    List,
}

fn main() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Repro {
            quick,
            out,
            threads,
            seed,
        } => {
            set_threads(threads)?;
            repro(quick, &out, seed)
        }
        Command::Run {
            config,
            out,
            threads,
        } => {
            set_threads(threads)?;
            let experiment = config::load(&config)?;
            let context = Context::new(&out)?;
            let output = run_experiment(&experiment, &context)?;
            write_report(&out, &[output], false)
        }
        Command::Aggregate {
            rule,
            f,
            tau,
            blocks,
            output,
            input,
        } => aggregate(
            &rule,
            &RuleParams { f, tau, blocks },
            &input,
            output.as_deref(),
        ),
        Command::List => {
            print!("{}", registry::listing());
            Ok(())
        }
    }
}

/// The largest accepted `--threads`: far above any useful value, low enough that a typo
/// cannot make the program spawn hundreds of thousands of threads.
const MAX_THREADS: usize = 1024;

/// Sets the size of rayon's global pool.
fn set_threads(threads: Option<usize>) -> Result<()> {
    if let Some(n) = threads {
        if n == 0 || n > MAX_THREADS {
            bail!("invalid --threads {n}: must be between 1 and {MAX_THREADS}");
        }
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
            .context("failed to configure the thread pool")?;
    }
    Ok(())
}

fn repro(quick: bool, out: &Path, seed: u64) -> Result<()> {
    let configs = suite::built_in(quick, seed)?;
    let context = Context::new(out)?;
    let overall = context.bar("all", configs.len(), "experiments");
    let mut outputs = Vec::new();
    for config in &configs {
        outputs.push(run_experiment(config, &context)?);
        overall.inc(1);
    }
    overall.finish();
    write_report(out, &outputs, quick)
}

fn write_report(out: &Path, outputs: &[ExperimentOutput], quick: bool) -> Result<()> {
    let path = out.join("report.md");
    std::fs::write(&path, report::render(outputs, quick))
        .with_context(|| format!("failed to write {}", path.display()))?;
    log::info!("report written to {}", path.display());
    if !std::io::stderr().is_terminal() {
        return Ok(());
    }
    for output in outputs {
        for claim in report::check_claims(output) {
            log::info!("{:?}: {}", claim.verdict, claim.claim);
        }
    }
    Ok(())
}

fn aggregate(rule: &str, params: &RuleParams, input: &Path, output: Option<&Path>) -> Result<()> {
    let matrix = read_gradients(input)?;
    let rows: Vec<&[f64]> = (0..matrix.rows).map(|i| matrix.row(i)).collect();
    let batch = Vb::batch_from_gradients(&rows).map_err(median_core::Error::from)?;
    let mut estimate = vec![0.0; matrix.cols];

    // The geometric median is iterative: keep the concrete type to report its solver info.
    let info = if rule == "geometric-median" {
        let mut median = GeometricMedian::<f64>::new();
        Aggregator::<Vb>::aggregate_into(&mut median, &batch, &mut estimate)?;
        median.last_info()
    } else {
        let mut built = registry::build_rule(rule, params)?;
        built.aggregate_into(&batch, &mut estimate)?;
        None
    };

    match output {
        Some(path) if path.extension().is_some_and(|e| e == "npy") => {
            npy::write_npy(path, 1, estimate.len(), &estimate)?;
        }
        Some(path) => {
            std::fs::write(path, format!("{}\n", csv::format_row(&estimate)))
                .with_context(|| format!("failed to write {}", path.display()))?;
        }
        None => println!("{}", csv::format_row(&estimate)),
    }
    if let Some(info) = info {
        eprintln!(
            "solver: iterations={} converged={} certificate={:e} objective={} stop_reason={:?}",
            info.iterations, info.converged, info.certificate, info.objective, info.stop_reason
        );
    }
    Ok(())
}

fn read_gradients(input: &Path) -> Result<npy::Matrix> {
    let matrix = match input.extension().and_then(|e| e.to_str()) {
        Some("npy") => npy::read_npy(input)?,
        Some("csv") | Some("txt") => csv::read_numeric_csv(input)?.matrix,
        _ => bail!(
            "cannot tell the format of {}: use a .npy or .csv file",
            input.display()
        ),
    };
    if matrix.rows == 0 || matrix.cols == 0 {
        bail!(
            "{} contains no gradient; expected one gradient per row",
            input.display()
        );
    }
    if let Some(index) = matrix.data.iter().position(|v| !v.is_finite()) {
        bail!(
            "{}: gradient {} has the non-finite value {} at coordinate {}; remove or replace it",
            input.display(),
            index / matrix.cols,
            matrix.data[index],
            index % matrix.cols
        );
    }
    Ok(matrix)
}
