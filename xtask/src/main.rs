//! Project automation for the `median` workspace, run as `cargo xtask COMMAND`.
//!
//! - `cargo xtask bench [--quick] [--peers] [--threads 1,2] [-- FILTER]`: runs the criterion
//!   benchmarks of the `median-benches` crate on each thread count and writes
//!   `docs/benchmarks.md`; `--peers` times the Python libraries on the same data instead.
//! - `cargo xtask docs [--check]`: regenerates the generated pages under `docs/`, copies the
//!   latest experiment report into `docs/results/`, and builds the API documentation with
//!   warnings denied. With `--check` it writes nothing and fails when a generated page is
//!   stale or the docs name a missing file or command.
//! - `cargo xtask stat-test`: runs the Kolmogorov-Smirnov tests of the noise samplers.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

mod bench;
mod doc_links;
mod robustness;

/// Project automation for the median workspace.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Run the criterion benchmarks on 1 and 2 threads and write docs/benchmarks.md
    /// (arguments after `--` go to criterion).
    Bench {
        /// Benchmark target to run; `median` when omitted.
        #[arg(long)]
        bench: Option<String>,
        /// Run the smoke subset (one shape per group, vec backend only).
        #[arg(long)]
        quick: bool,
        /// Compare with the Python peers instead (creates target/peers-venv; not in CI).
        #[arg(long)]
        peers: bool,
        /// Rayon thread counts, one benchmark run each.
        #[arg(long, value_delimiter = ',', default_value = "1,2")]
        threads: Vec<usize>,
        /// Write the page from the results already in target/criterion without running.
        #[arg(long)]
        report_only: bool,
        /// Arguments passed to criterion, such as a name filter.
        #[arg(last = true)]
        criterion_args: Vec<String>,
    },
    /// Regenerate the generated pages in docs/, copy the latest experiment report and
    /// figures into docs/results/, and build the API docs with warnings denied.
    Docs {
        /// Fail when a generated page is stale or the docs name a missing command or file,
        /// instead of writing anything.
        #[arg(long)]
        check: bool,
        /// The output folder of `median repro` whose report.md and figures are copied.
        #[arg(long, default_value = "results")]
        results: PathBuf,
    },
    /// Run the statistical (Kolmogorov-Smirnov) tests of the noise samplers.
    StatTest,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let root = workspace_root();
    match cli.command {
        Task::Bench {
            bench,
            quick,
            peers,
            threads,
            report_only,
            criterion_args,
        } => run_bench(
            &root,
            &bench::BenchOptions {
                bench,
                quick,
                peers,
                threads,
                report_only,
                criterion_args,
            },
        ),
        Task::Docs { check, results } => run_docs(&root, check, &root.join(results)),
        Task::StatTest => run_cargo(&root, &["test", "-p", "median-stat-tests"], &[]),
    }
}

/// Returns the workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// Runs `cargo ARGS` in the workspace root with extra environment variables.
fn run_cargo(root: &Path, args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(&cargo);
    command.current_dir(root).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let status = command
        .status()
        .with_context(|| format!("failed to start {cargo}"))?;
    if !status.success() {
        bail!("cargo {} failed with {status}", args.join(" "));
    }
    Ok(())
}

/// Runs the criterion benchmarks and writes `docs/benchmarks.md`.
fn run_bench(root: &Path, options: &bench::BenchOptions) -> anyhow::Result<()> {
    bench::run(root, options)
}

/// Regenerates (or, with `check`, verifies) the generated pages, then builds the API docs.
fn run_docs(root: &Path, check: bool, results: &Path) -> anyhow::Result<()> {
    let docs = root.join("docs");
    if check {
        let scratch =
            std::env::temp_dir().join(format!("median-docs-check-{}", std::process::id()));
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("failed to create {}", scratch.display()))?;
        let generated = robustness::generate(&scratch)?;
        let name = generated.file_name().expect("generate returns a file path");
        compare_generated(&generated, &docs.join(name))?;
        std::fs::remove_dir_all(&scratch).ok();
        let median_commands = median_subcommands(root)?;
        doc_links::check(root, Some(&median_commands))?;
        println!(
            "docs are up to date: generated pages match and every documented command and file exists"
        );
    } else {
        let written = robustness::generate(&docs)?;
        println!("wrote {}", written.display());
        copy_results(results, &docs.join("results"))?;
    }

    run_cargo(
        root,
        &["doc", "--workspace", "--no-deps"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    )
}

/// Copies `report.md` and the PNG and SVG figures of a `median repro` run into `target`,
/// replacing what was there; does nothing (with a message) when `results` has no report.
fn copy_results(results: &Path, target: &Path) -> anyhow::Result<()> {
    let report = results.join("report.md");
    if !report.exists() {
        println!(
            "no report at {}; run `median repro` first to copy results into docs",
            report.display()
        );
        return Ok(());
    }
    if target.exists() {
        std::fs::remove_dir_all(target)
            .with_context(|| format!("failed to clear {}", target.display()))?;
    }
    std::fs::create_dir_all(target)
        .with_context(|| format!("failed to create {}", target.display()))?;

    let mut copied = 0;
    for entry in std::fs::read_dir(results)
        .with_context(|| format!("failed to read {}", results.display()))?
    {
        let path = entry?.path();
        let keep = path
            .extension()
            .is_some_and(|e| e == "png" || e == "svg" || e == "md");
        if keep {
            let name = path.file_name().expect("a directory entry has a name");
            std::fs::copy(&path, target.join(name))
                .with_context(|| format!("failed to copy {}", path.display()))?;
            copied += 1;
        }
    }
    println!(
        "copied {copied} files from {} to {}",
        results.display(),
        target.display()
    );
    Ok(())
}

/// Returns the subcommands that `median --help` lists.
fn median_subcommands(root: &Path) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(&cargo)
        .current_dir(root)
        .args(["run", "--quiet", "-p", "median-cli", "--", "--help"])
        .output()
        .with_context(|| format!("failed to start {cargo}"))?;
    if !output.status.success() {
        bail!(
            "`median --help` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let help = String::from_utf8(output.stdout).context("`median --help` printed invalid UTF-8")?;
    let commands = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect();
    Ok(commands)
}

/// Fails when the committed page differs from the freshly generated one.
fn compare_generated(fresh: &Path, committed: &Path) -> anyhow::Result<()> {
    let fresh_text = std::fs::read_to_string(fresh)
        .with_context(|| format!("failed to read {}", fresh.display()))?;
    let committed_text = std::fs::read_to_string(committed).with_context(|| {
        format!(
            "failed to read {}; run `cargo xtask docs` to generate it",
            committed.display()
        )
    })?;
    if fresh_text != committed_text {
        bail!(
            "{} is stale; run `cargo xtask docs` and commit the result",
            committed.display()
        );
    }
    Ok(())
}
