//! `cargo xtask bench`: runs the criterion benchmarks on 1 and 2 rayon threads and writes
//! `docs/benchmarks.md` from criterion's JSON output. With `--peers` it compares with
//! Python packages on the same data instead.
//!
//! Each thread count gets its own criterion directory, `target/criterion/threads-T`, so the
//! runs do not overwrite each other. The page reads every `new/benchmark.json` and
//! `new/estimates.json` there, takes the median sample time, and compares each benchmark
//! with the read-bandwidth floor measured in the same run (the `bandwidth` group).
//!
//! `--quick` runs a smoke subset into `target/criterion/quick-threads-T` and writes its page
//! to `target/criterion/benchmarks-quick.md`, never to `docs/`. `--report-only` rewrites the
//! page from the results on disk. A run keeps the peers section of the existing page.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::run_cargo;

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Benchmark target; `median` when omitted.
    pub bench: Option<String>,
    /// Runs the smoke subset.
    pub quick: bool,
    /// Runs only the comparison with the Python peers.
    pub peers: bool,
    /// Rayon thread counts, one run each.
    pub threads: Vec<usize>,
    /// Writes the page from the results on disk without running the benchmarks.
    pub report_only: bool,
    /// Arguments passed to criterion.
    pub criterion_args: Vec<String>,
}

/// Path of the generated page, relative to the workspace root.
const PAGE: &str = "docs/benchmarks.md";

/// Path of the page a `--quick` run writes, relative to the workspace root.
const QUICK_PAGE: &str = "target/criterion/benchmarks-quick.md";

/// The heading that starts the peers section, which a benchmark run keeps.
const PEERS_HEADING: &str = "## Comparison with Python peers";

/// Runs the benchmarks (or the peer comparison) and writes the page.
pub fn run(root: &Path, options: &BenchOptions) -> anyhow::Result<()> {
    if options.peers {
        let section = peers::run(root)?;
        let page = root.join(PAGE);
        let existing = std::fs::read_to_string(&page).unwrap_or_default();
        let head = existing
            .split_once(PEERS_HEADING)
            .map_or(existing.as_str(), |(head, _)| head);
        let head = if head.trim().is_empty() {
            "# Benchmarks\n\nRun `cargo xtask bench` for the benchmark tables.\n\n".to_owned()
        } else {
            head.trim_end().to_owned() + "\n\n"
        };
        write_page(&page, &(head + &section))?;
        return Ok(());
    }

    let bench = options.bench.as_deref().unwrap_or("median");
    if !options.report_only {
        for &threads in &options.threads {
            run_criterion(root, bench, threads, options)?;
        }
    }
    let bits = bit_check(root)?;
    let mut runs = Vec::new();
    for &threads in &options.threads {
        let home = criterion_home(root, threads, options.quick);
        let records = collect(&home)
            .with_context(|| format!("failed to read the results in {}", home.display()))?;
        let extra = read_extra(&home.join("extra.tsv"));
        runs.push(Run {
            threads,
            records,
            extra,
        });
    }

    // A smoke run never replaces the committed page.
    let page = if options.quick {
        root.join(QUICK_PAGE)
    } else {
        root.join(PAGE)
    };
    let existing = std::fs::read_to_string(&page).unwrap_or_default();
    let peers_section = existing
        .split_once(PEERS_HEADING)
        .map(|(_, tail)| format!("{PEERS_HEADING}{tail}"));
    let mut text = report::render(&runs, &bits, options.quick);
    if let Some(section) = peers_section {
        text.push('\n');
        text.push_str(&section);
    }
    write_page(&page, &text)
}

/// Writes the page and prints its path.
fn write_page(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("failed to write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Returns the criterion directory of the run on `threads` threads; the smoke subset has
/// its own, so that it never mixes with the results of a full run.
fn criterion_home(root: &Path, threads: usize, quick: bool) -> PathBuf {
    let prefix = if quick { "quick-" } else { "" };
    root.join("target")
        .join("criterion")
        .join(format!("{prefix}threads-{threads}"))
}

/// Runs the benchmark target on a rayon pool of `threads` threads.
fn run_criterion(
    root: &Path,
    bench: &str,
    threads: usize,
    options: &BenchOptions,
) -> anyhow::Result<()> {
    let home = criterion_home(root, threads, options.quick);
    std::fs::create_dir_all(&home)
        .with_context(|| format!("failed to create {}", home.display()))?;
    let extra = home.join("extra.tsv");
    if extra.exists() {
        std::fs::remove_file(&extra)
            .with_context(|| format!("failed to remove {}", extra.display()))?;
    }

    let mut args = vec!["bench", "-p", "median-benches", "--bench", bench];
    if !options.criterion_args.is_empty() {
        args.push("--");
        args.extend(options.criterion_args.iter().map(String::as_str));
    }
    let threads_text = threads.to_string();
    let home_text = home.to_string_lossy().into_owned();
    let extra_text = extra.to_string_lossy().into_owned();
    let mut env = vec![
        ("RAYON_NUM_THREADS", threads_text.as_str()),
        ("CRITERION_HOME", home_text.as_str()),
        ("MEDIAN_BENCH_EXTRA", extra_text.as_str()),
    ];
    if options.quick {
        env.push(("MEDIAN_BENCH_QUICK", "1"));
    }
    println!("running the benchmarks on {threads} thread(s) into {home_text}");
    run_cargo(root, &args, &env)
}

/// Builds the helper binary of `median-benches` and returns its path.
fn build_tool(root: &Path) -> anyhow::Result<PathBuf> {
    run_cargo(
        root,
        &[
            "build",
            "--profile",
            "bench",
            "-p",
            "median-benches",
            "--bin",
            "median-bench-tool",
        ],
        &[],
    )?;
    Ok(root
        .join("target")
        .join("release")
        .join("median-bench-tool"))
}

/// Runs the helper binary with `args` and returns its standard output.
fn run_tool(tool: &Path, args: &[&str]) -> anyhow::Result<String> {
    let output = Command::new(tool)
        .args(args)
        .output()
        .with_context(|| format!("failed to start {}", tool.display()))?;
    if !output.status.success() {
        bail!(
            "{} {} failed with {}: {}",
            tool.display(),
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Runs the bit check on 1 and 2 threads and returns `(kernel, identical)` pairs.
fn bit_check(root: &Path) -> anyhow::Result<Vec<(String, bool)>> {
    let tool = build_tool(root)?;
    let output = run_tool(&tool, &["bits"])?;
    Ok(tsv(&output, "bits")
        .into_iter()
        .filter(|fields| fields.len() == 2)
        .map(|fields| (fields[0].clone(), fields[1] == "identical"))
        .collect())
}

/// Returns the fields after `tag` of every `tag<TAB>...` line.
fn tsv(text: &str, tag: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split('\t');
            (fields.next() == Some(tag)).then(|| fields.map(str::to_owned).collect())
        })
        .collect()
}

/// The results of one run.
#[derive(Debug, Clone)]
pub struct Run {
    /// The rayon thread count.
    pub threads: usize,
    /// One record per benchmark.
    pub records: Vec<Record>,
    /// Measurements made outside the timed loops, by key.
    pub extra: BTreeMap<String, f64>,
}

/// One benchmark's result.
#[derive(Debug, Clone)]
pub struct Record {
    /// The operation, the group name before `/`.
    pub operation: String,
    /// `f64` or `f32`.
    pub scalar: String,
    /// The backend or variant, the function id.
    pub variant: String,
    /// Gradient count.
    pub count: usize,
    /// Dimension.
    pub dim: usize,
    /// Bytes the operation must read at least once.
    pub bytes: f64,
    /// Median sample time in seconds.
    pub seconds: f64,
}

/// Reads every benchmark under a criterion directory.
fn collect(home: &Path) -> anyhow::Result<Vec<Record>> {
    let mut records = Vec::new();
    if !home.exists() {
        return Ok(records);
    }
    let mut pending = vec![home.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if !path.is_dir() {
                continue;
            }
            let benchmark = path.join("new").join("benchmark.json");
            if path.file_name().is_some_and(|n| n != "new" && n != "base") {
                if benchmark.exists() {
                    if let Some(record) = read_record(&path.join("new"))? {
                        records.push(record);
                    }
                } else {
                    pending.push(path);
                }
            }
        }
    }
    records.sort_by(|a, b| {
        (&a.operation, &a.scalar, &a.variant, a.count * a.dim)
            .partial_cmp(&(&b.operation, &b.scalar, &b.variant, b.count * b.dim))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(records)
}

/// Reads one benchmark from its `new` directory; `None` when its id has another format.
fn read_record(dir: &Path) -> anyhow::Result<Option<Record>> {
    let read = |name: &str| -> anyhow::Result<json::Value> {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read {}", path.display()))?;
        json::parse(&text).with_context(|| format!("invalid JSON in {}", path.display()))
    };
    let benchmark = read("benchmark.json")?;
    let estimates = read("estimates.json")?;

    let group = benchmark.get("group_id").and_then(json::Value::as_str);
    let variant = benchmark.get("function_id").and_then(json::Value::as_str);
    let size = benchmark.get("value_str").and_then(json::Value::as_str);
    let bytes = benchmark
        .get("throughput")
        .and_then(|t| t.get("Bytes"))
        .and_then(json::Value::as_f64);
    let nanoseconds = estimates
        .get("median")
        .and_then(|m| m.get("point_estimate"))
        .and_then(json::Value::as_f64);
    let (Some(group), Some(variant), Some(size), Some(bytes), Some(nanoseconds)) =
        (group, variant, size, bytes, nanoseconds)
    else {
        return Ok(None);
    };
    let Some((operation, scalar)) = group.split_once('/') else {
        return Ok(None);
    };
    let Some((count, dim)) = size.split_once('x') else {
        return Ok(None);
    };
    let (Ok(count), Ok(dim)) = (count.parse(), dim.parse()) else {
        return Ok(None);
    };
    Ok(Some(Record {
        operation: operation.to_owned(),
        scalar: scalar.to_owned(),
        variant: variant.to_owned(),
        count,
        dim,
        bytes,
        seconds: nanoseconds * 1e-9,
    }))
}

/// Reads the `key<TAB>value` lines the benchmarks appended; a missing file gives none.
fn read_extra(path: &Path) -> BTreeMap<String, f64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once('\t')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Runs a shell-free command and returns its trimmed standard output, or `unknown`.
fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Returns the machine description: CPU model, logical CPUs, date and compiler.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|r| r.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown")
        .to_owned();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let rustc = command_output("rustc", &["--version"]);
    format!(
        "- CPU: {model} ({cpus} logical CPUs, `nproc`)\n\
         - Date: {date}\n\
         - Compiler: {rustc}, `bench` profile\n"
    )
}

mod report {
    //! The benchmark page, computed from the records.

    use std::fmt::Write as _;

    use super::{Record, Run, machine};

    /// Operations in page order, with a description of what is timed.
    const OPERATIONS: &[(&str, &str)] = &[
        (
            "geometric_median",
            "Weiszfeld with the Vardi-Zhang step, certificate 1e-8 (1.2e-5 in f32), start at the mean",
        ),
        (
            "geometric_median_outliers",
            "The same solver on 52 gradients from N(0, I) and 12 from N(10 * 1, I) at 64 x 1e5. \
             `-start-only` stops after the start point and its evaluation. `-default` takes \
             the default start (Weiszfeld on the coefficients of the affine hull, from the \
             pairwise squared distances) instead of the mean",
        ),
        ("coordinate_median", "Coordinate-wise median"),
        (
            "trimmed_mean",
            "Coordinate-wise trimmed mean, 10% cut on each side",
        ),
        (
            "krum",
            "Krum with f = n/4; the pairwise squared distances are summed directly in \
             register tiles, with AVX2 or AVX-512 chosen at run time",
        ),
        (
            "weiszfeld_pass",
            "One Weiszfeld pass: distances, coefficients, weighted sum",
        ),
        ("tracker_update", "E2 tracker update `m + clip_tau(g - m)`"),
        (
            "tracker_step",
            "Median tracker optimizer step with E2 (draw g, update m, `x -= gamma m`)",
        ),
        (
            "clip_norm",
            "L2 clip `min(1, tau/||v||) v` into a new buffer",
        ),
        (
            "clip_coordinates",
            "Coordinate clamp to `[-tau, tau]` into a new buffer",
        ),
        (
            "dp_step",
            "DP-SGD step: 4 per-sample clips, sum, Gaussian noise, descent",
        ),
    ];

    /// GB per byte.
    const GB: f64 = 1e-9;

    /// Returns the floor bandwidth (bytes per second) of a run: the fastest `bandwidth`
    /// variant that uses at most the run's thread count.
    pub fn floor(run: &Run) -> Option<f64> {
        run.records
            .iter()
            .filter(|r| r.operation == "bandwidth")
            .filter(|r| variant_threads(&r.variant).is_some_and(|t| t <= run.threads))
            .map(|r| r.bytes / r.seconds)
            .reduce(f64::max)
    }

    /// Returns `T` from a variant name ending in `-Tt`.
    fn variant_threads(variant: &str) -> Option<usize> {
        variant.rsplit('-').next()?.strip_suffix('t')?.parse().ok()
    }

    /// Returns the record of the run with the given key.
    fn find<'a>(
        run: &'a Run,
        operation: &str,
        scalar: &str,
        variant: &str,
        count: usize,
        dim: usize,
    ) -> Option<&'a Record> {
        run.records.iter().find(|r| {
            r.operation == operation
                && r.scalar == scalar
                && r.variant == variant
                && r.count == count
                && r.dim == dim
        })
    }

    /// Formats seconds with a unit.
    fn time(seconds: f64) -> String {
        if seconds >= 1.0 {
            format!("{seconds:.2} s")
        } else if seconds >= 1e-3 {
            format!("{:.2} ms", seconds * 1e3)
        } else {
            format!("{:.1} µs", seconds * 1e6)
        }
    }

    /// Formats a `count x dim` shape.
    fn shape(count: usize, dim: usize) -> String {
        format!("{count} x {}", exponent(dim))
    }

    /// Formats a power of ten as `1e5`, other numbers as they are.
    fn exponent(value: usize) -> String {
        let log = (value as f64).log10();
        if value >= 1000 && (log - log.round()).abs() < 1e-9 {
            format!("1e{}", log.round())
        } else {
            value.to_string()
        }
    }

    /// Returns "met" or "missed".
    fn verdict(met: bool) -> &'static str {
        if met { "**met**" } else { "**missed**" }
    }

    /// Renders the page.
    pub fn render(runs: &[Run], bits: &[(String, bool)], quick: bool) -> String {
        let mut page = String::new();
        let main = runs.iter().max_by_key(|r| r.threads);
        let _ = writeln!(page, "# Benchmarks\n");
        let _ = writeln!(
            page,
            "Generated by `cargo xtask bench`{}; do not edit by hand. The numbers are from \
             one run on the machine below. Repeated runs on this 2-core machine moved by 10% or \
             more, and by far more when other jobs shared its cores.\n",
            if quick { " --quick (smoke subset)" } else { "" }
        );
        let _ = writeln!(page, "{}", machine());
        let _ = writeln!(
            page,
            "Method: criterion 0.8, 10 samples in flat sampling mode, 0.3 s warm-up, 1 s \
             measurement; a time is the median sample. Inputs are seeded and built outside \
             the timed closure. The whole suite runs once per rayon thread count \
             (`RAYON_NUM_THREADS`), into `target/criterion/threads-T`. *Bytes* are what \
             the operation must read at least once (`n d` scalars for a batch), GB/s = bytes / \
             time with GB = 1e9 bytes, and the *floor ratio* is time / (bytes / floor \
             bandwidth): 1.0 means the operation runs as fast as reading its input once \
             from memory allows, and below 1.0 the input was at least partly in cache.\n"
        );

        if let Some(main) = main {
            render_targets(&mut page, main, bits);
        }
        render_floor(&mut page, runs);
        for &(operation, description) in OPERATIONS {
            render_operation(&mut page, runs, operation, description);
        }
        render_growth(&mut page, runs);
        if let Some(main) = main {
            render_geometric_iterations(&mut page, main);
            render_fused(&mut page, main);
            render_precision(&mut page, main);
        }
        render_bits(&mut page, bits);
        page
    }

    /// Renders the bandwidth table.
    fn render_floor(page: &mut String, runs: &[Run]) {
        let _ = writeln!(page, "## Bandwidth floor\n");
        let _ = writeln!(
            page,
            "Sum of a 256 MB `f64` array: `kernels::sum` (the workspace's deterministic \
             chunked sum) on rayon pools of 1 and 2 threads, and a plain 8-accumulator loop \
             on one thread and on two (one half each). The floor of a run is the fastest variant using at most the \
             run's thread count.\n"
        );
        let _ = writeln!(page, "| run | variant | time | GB/s |\n|---|---|---|---|");
        for run in runs {
            for r in run.records.iter().filter(|r| r.operation == "bandwidth") {
                let _ = writeln!(
                    page,
                    "| {} thread(s) | {} | {} | {:.1} |",
                    run.threads,
                    r.variant,
                    time(r.seconds),
                    r.bytes / r.seconds * GB
                );
            }
        }
        for run in runs {
            if let Some(f) = floor(run) {
                let _ = writeln!(
                    page,
                    "\nFloor with {} thread(s): **{:.1} GB/s**.",
                    run.threads,
                    f * GB
                );
            }
        }
        page.push('\n');
    }

    /// Renders the table of one operation: every variant and shape on every thread count.
    fn render_operation(page: &mut String, runs: &[Run], operation: &str, description: &str) {
        let Some(main) = runs.iter().max_by_key(|r| r.threads) else {
            return;
        };
        let rows: Vec<&Record> = main
            .records
            .iter()
            .filter(|r| r.operation == operation)
            .collect();
        if rows.is_empty() {
            return;
        }
        let floor_main = floor(main);
        let _ = writeln!(page, "## {operation}\n\n{description}.\n");
        let mut header = String::from("| variant | scalar | n x d |");
        for run in runs {
            let _ = write!(header, " time ({}t) |", run.threads);
        }
        let _ = write!(
            header,
            " speed-up 1t to {t}t | GB/s ({t}t) | floor ratio ({t}t) | ns per n·d ({t}t) |",
            t = main.threads
        );
        let columns = header.matches('|').count() - 1;
        let _ = writeln!(page, "{header}\n|{}", "---|".repeat(columns));
        for r in rows {
            let mut line = format!(
                "| {} | {} | {} |",
                r.variant,
                r.scalar,
                shape(r.count, r.dim)
            );
            for run in runs {
                match find(run, operation, &r.scalar, &r.variant, r.count, r.dim) {
                    Some(x) => {
                        let _ = write!(line, " {} |", time(x.seconds));
                    }
                    None => line.push_str(" - |"),
                }
            }
            let single = runs
                .iter()
                .find(|run| run.threads == 1)
                .and_then(|run| find(run, operation, &r.scalar, &r.variant, r.count, r.dim));
            match single {
                Some(s) if main.threads > 1 => {
                    let _ = write!(line, " {:.2}x |", s.seconds / r.seconds);
                }
                _ => line.push_str(" - |"),
            }
            let ratio = floor_main.map_or("-".to_owned(), |f| {
                format!("{:.2}", r.seconds / (r.bytes / f))
            });
            let _ = write!(
                line,
                " {:.2} | {ratio} | {:.3} |",
                r.bytes / r.seconds * GB,
                r.seconds * 1e9 / (r.count * r.dim) as f64
            );
            let _ = writeln!(page, "{line}");
        }
        page.push('\n');
    }

    /// Renders the growth exponents `k` in `time ~ n^k` (at d = 1e5) and `time ~ d^k` (at n = 16), on
    /// the vec backend in f64 and the largest thread count.
    fn render_growth(page: &mut String, runs: &[Run]) {
        let Some(main) = runs.iter().max_by_key(|r| r.threads) else {
            return;
        };
        let slope = |operation: &str, variant: &str, points: &[(usize, usize)], by_n: bool| {
            let found: Vec<&Record> = points
                .iter()
                .filter_map(|&(n, d)| find(main, operation, "f64", variant, n, d))
                .collect();
            let (first, last) = (found.first()?, found.last()?);
            let (x0, x1) = if by_n {
                (first.count as f64, last.count as f64)
            } else {
                (first.dim as f64, last.dim as f64)
            };
            (found.len() >= 2).then(|| (last.seconds / first.seconds).ln() / (x1 / x0).ln())
        };
        let mut lines = Vec::new();
        for &(operation, _) in OPERATIONS {
            let variant = if operation == "weiszfeld_pass" {
                "vec-fused"
            } else {
                "vec"
            };
            let by_n = slope(
                operation,
                variant,
                &[(16, 100_000), (64, 100_000), (256, 100_000)],
                true,
            );
            let by_d = slope(
                operation,
                variant,
                &[(16, 1_000), (16, 100_000), (16, 1_000_000)],
                false,
            );
            let by_step = slope(
                operation,
                variant,
                &[(1, 1_000), (1, 100_000), (1, 1_000_000), (1, 10_000_000)],
                false,
            );
            let format = |k: Option<f64>| k.map_or("-".to_owned(), |k| format!("{k:.2}"));
            if by_n.is_some() || by_d.is_some() || by_step.is_some() {
                lines.push(format!(
                    "| {operation} | {} | {} |",
                    format(by_n),
                    format(by_d.or(by_step))
                ));
            }
        }
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(page, "## Growth with n and d\n");
        let _ = writeln!(
            page,
            "Exponent `k` of `time ~ n^k` from n = 16 to 256 at d = 1e5, and of `time ~ d^k` \
             from d = 1e3 to 1e6 at n = 16 (1e3 to 1e7 for the per-step kernels), on the vec \
             backend in f64 with {} thread(s). 1.0 is linear; below 1 the small sizes are \
             dominated by fixed costs. The thread columns of the tables above give the \
             growth with threads.\n",
            main.threads
        );
        let _ = writeln!(page, "| operation | k in n | k in d |\n|---|---|---|");
        for line in lines {
            let _ = writeln!(page, "{line}");
        }
        page.push('\n');
    }

    /// Renders the targets and their verdicts, computed from the numbers.
    fn render_targets(page: &mut String, main: &Run, bits: &[(String, bool)]) {
        let _ = writeln!(page, "## Targets\n");
        let _ = writeln!(
            page,
            "Verdicts are computed by `cargo xtask bench` from this run ({} thread(s)).\n",
            main.threads
        );
        let _ = writeln!(page, "| target | measured | verdict |\n|---|---|---|");
        let floor_main = floor(main);

        // Geometric median per-iteration time within 1.5x of the floor at 64 x 1e5 f64, on
        // the batch with outliers (uniform batches converge in 1 to 5 iterations). The time
        // of one iteration is the solve time minus the time of the solve capped at 0
        // iterations (the start point, the input check and the first evaluation), divided by
        // the iteration count. The solve time over the iteration count is shown beside it.
        let operation = "geometric_median_outliers";
        let geometric = find(main, operation, "f64", "vec", 64, 100_000);
        let start = find(main, operation, "f64", "vec-start-only", 64, 100_000);
        let iterations = main
            .extra
            .get("geometric_median_outliers/f64/vec/64x100000/iterations");
        match (geometric, start, iterations, floor_main) {
            (Some(r), Some(s), Some(&k), Some(f)) if k > 0.0 => {
                let one_read = r.bytes / f;
                let per = (r.seconds - s.seconds) / k;
                let ratio = per / one_read;
                let _ = writeln!(
                    page,
                    "| geometric median time per Weiszfeld iteration within 1.5x of the floor (64 x 1e5 f64, with outliers, certificate 1e-8; (solve - solve capped at 0 iterations) / iterations) | {} per iteration ({k} iterations), {ratio:.2}x the floor; the whole solve over the iterations, start and input check included, is {} ({:.2}x) | {} |",
                    time(per),
                    time(r.seconds / k),
                    r.seconds / k / one_read,
                    verdict(ratio <= 1.5)
                );
            }
            _ => {
                let _ = writeln!(
                    page,
                    "| geometric median per-iteration time | not measured | - |"
                );
            }
        }

        // Tracker step at d = 1e7. The clip factor depends on the norm of g - m, which must be
        // complete before m is written. So the least traffic is one pass reading g and m, and
        // one reading g, m, x and writing m, x: 7 d scalars, not counting the oracle's copy.
        match (
            find(main, "tracker_step", "f64", "vec", 1, 10_000_000),
            floor_main,
        ) {
            (Some(r), Some(f)) => {
                let moved = 7.0 * 8.0 * 1e7;
                let ratio = r.seconds / (moved / f);
                let _ = writeln!(
                    page,
                    "| tracker step at d = 1e7 (f64) within 1.3x of the floor for the 7 d scalars it must move (read g, m for the norm of g - m; then read g, m, x and write m, x) | {}, {ratio:.2}x the floor | {} |",
                    time(r.seconds),
                    verdict(ratio <= 1.3)
                );
            }
            _ => {
                let _ = writeln!(page, "| tracker step at d = 1e7 | not measured | - |");
            }
        }

        // f32 at least 1.7x faster than f64 on the memory-bound kernels.
        let ratios = precision_ratios(main);
        if ratios.is_empty() {
            let _ = writeln!(
                page,
                "| f32 at least 1.7x faster than f64 | not measured | - |"
            );
        } else {
            let met = ratios.iter().filter(|(_, r)| *r >= 1.7).count();
            let list: Vec<String> = ratios
                .iter()
                .map(|(name, r)| format!("{name} {r:.2}x"))
                .collect();
            let _ = writeln!(
                page,
                "| f32 at least 1.7x faster than f64 on memory-bound kernels | {} | {} ({met} of {}) |",
                list.join(", "),
                verdict(met == ratios.len()),
                ratios.len()
            );
        }

        // Bit-identical results on 1 and 2 threads.
        let identical = bits.iter().filter(|(_, same)| *same).count();
        let _ = writeln!(
            page,
            "| results bit-identical on 1 and 2 threads | {identical} of {} kernel checks identical (see below) | {} |",
            bits.len(),
            verdict(!bits.is_empty() && identical == bits.len())
        );
        page.push('\n');
    }

    /// The memory-bound kernels compared in f32 and f64, at their largest size on vec.
    const MEMORY_BOUND: &[(&str, &str, usize, usize)] = &[
        ("clip_norm", "vec", 1, 10_000_000),
        ("clip_coordinates", "vec", 1, 10_000_000),
        ("tracker_update", "vec", 1, 10_000_000),
        ("tracker_step", "vec", 1, 10_000_000),
        ("weiszfeld_pass", "vec-fused", 16, 1_000_000),
        ("weiszfeld_pass", "vec-two-kernels", 16, 1_000_000),
    ];

    /// Returns `(label, time f64 / time f32)` for the memory-bound kernels measured.
    fn precision_ratios(run: &Run) -> Vec<(String, f64)> {
        MEMORY_BOUND
            .iter()
            .filter_map(|&(operation, variant, n, d)| {
                let f64_time = find(run, operation, "f64", variant, n, d)?.seconds;
                let f32_time = find(run, operation, "f32", variant, n, d)?.seconds;
                let label = format!("{operation} {variant} {}", shape(n, d));
                Some((label, f64_time / f32_time))
            })
            .collect()
    }

    /// Renders the f32/f64 table.
    fn render_precision(page: &mut String, run: &Run) {
        let ratios = precision_ratios(run);
        if ratios.is_empty() {
            return;
        }
        let _ = writeln!(page, "## f32 against f64\n");
        let _ = writeln!(
            page,
            "Time in f64 over time in f32 for the kernels that stream their input once \
             ({} thread(s)); a memory-bound kernel reads half the bytes in f32, so 2.0 is \
             the ideal and the target is 1.7.\n",
            run.threads
        );
        let _ = writeln!(page, "| kernel | f64 / f32 | at least 1.7 |\n|---|---|---|");
        for (name, ratio) in ratios {
            let _ = writeln!(page, "| {name} | {ratio:.2} | {} |", verdict(ratio >= 1.7));
        }
        page.push('\n');
    }

    /// Renders the iteration counts of the geometric median, measured outside the timed
    /// loop.
    fn render_geometric_iterations(page: &mut String, run: &Run) {
        let floor_run = floor(run);
        let rows: Vec<String> = run
            .records
            .iter()
            .filter(|r| r.operation.starts_with("geometric_median"))
            .filter_map(|r| {
                let key = format!(
                    "{}/{}/{}/{}x{}/iterations",
                    r.operation, r.scalar, r.variant, r.count, r.dim
                );
                let k = *run.extra.get(&key)?;
                let per = r.seconds / k.max(1.0);
                let ratio =
                    floor_run.map_or("-".to_owned(), |f| format!("{:.2}", per / (r.bytes / f)));
                let start = format!("{}-start-only", r.variant);
                let marginal = find(run, &r.operation, &r.scalar, &start, r.count, r.dim)
                    .map_or("-".to_owned(), |s| {
                        time((r.seconds - s.seconds) / k.max(1.0))
                    });
                let data = if r.operation.ends_with("outliers") {
                    "outliers"
                } else {
                    "uniform"
                };
                Some(format!(
                    "| {} | {data} | {} | {} | {k} | {} | {} | {ratio} | {marginal} |",
                    r.variant,
                    r.scalar,
                    shape(r.count, r.dim),
                    time(r.seconds),
                    time(per)
                ))
            })
            .collect();
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(
            page,
            "## Geometric median: iterations and time per iteration\n"
        );
        let _ = writeln!(
            page,
            "Iterations from the solver's info, from one solve outside the timed loop (the \
             solve is deterministic, so every timed solve takes the same number). The time \
             per iteration is the solve time over the iterations, so it includes the start point \
             (the mean, one pass), its evaluation and the final checks. The last column \
             subtracts the time of the solve capped at 0 iterations instead. Uniform batches \
             converge in 1 to 5 iterations, so there the start dominates. Each Weiszfeld \
             iteration runs one fused `batch_weiszfeld_pass`, one read of the batch, and the \
             floor ratio compares with one read ({} thread(s)). A `-default` row starts from \
             the reduced problem and usually needs no full-space step (0 iterations), so its \
             time is that of the whole solve.\n",
            run.threads
        );
        let _ = writeln!(
            page,
            "| backend | data | scalar | n x d | iterations | solve | per iteration | floor ratio | per iteration without the start |\n|---|---|---|---|---|---|---|---|---|"
        );
        for row in rows {
            let _ = writeln!(page, "{row}");
        }
        page.push('\n');
    }

    /// Renders the fused Weiszfeld pass against the two-kernel version.
    fn render_fused(page: &mut String, run: &Run) {
        let mut rows = Vec::new();
        for r in run
            .records
            .iter()
            .filter(|r| r.operation == "weiszfeld_pass" && r.variant.ends_with("-two-kernels"))
        {
            let backend = r.variant.trim_end_matches("-two-kernels");
            let fused = find(
                run,
                "weiszfeld_pass",
                &r.scalar,
                &format!("{backend}-fused"),
                r.count,
                r.dim,
            );
            if let Some(fused) = fused {
                rows.push(format!(
                    "| {backend} | {} | {} | {} | {} | {:.2}x |",
                    r.scalar,
                    shape(r.count, r.dim),
                    time(r.seconds),
                    time(fused.seconds),
                    r.seconds / fused.seconds
                ));
            }
        }
        if rows.is_empty() {
            return;
        }
        let _ = writeln!(page, "## Fused Weiszfeld pass\n");
        let _ = writeln!(
            page,
            "`Backend::batch_weiszfeld_pass` against `batch_distances`, the coefficient loop \
             and `batch_weighted_sum` ({} thread(s)). The fused kernel takes the gradients \
             in groups of at least 16 (about 16 MiB), computes the group's distances, then \
             adds the group into the sum block by block while it is still in cache; its \
             distance sums squares over fixed-width slices (vectorised) with the same \
             summation order, so the outputs are bit-identical to the two-kernel version.\n",
            run.threads
        );
        let _ = writeln!(
            page,
            "| backend | scalar | n x d | two kernels | fused | speed-up |\n|---|---|---|---|---|---|"
        );
        for row in rows {
            let _ = writeln!(page, "{row}");
        }
        page.push('\n');
    }

    /// Renders the thread-count bit check.
    fn render_bits(page: &mut String, bits: &[(String, bool)]) {
        let _ = writeln!(page, "## Bit-identical results on 1 and 2 threads\n");
        let _ = writeln!(
            page,
            "`median-bench-tool bits` (run by `cargo xtask bench`) computes each kernel on \
             rayon pools of 1 and 2 threads and compares the output bits. The conformance \
             test `results_do_not_depend_on_thread_count` (and \
             `batch_weiszfeld_pass_matches_oracle`) of `median-conformance` checks the same \
             on pools of 1 and 4 threads for every backend.\n"
        );
        let _ = writeln!(page, "| kernel | 1 and 2 threads |\n|---|---|");
        for (name, same) in bits {
            let _ = writeln!(
                page,
                "| {name} | {} |",
                if *same { "identical" } else { "**different**" }
            );
        }
        page.push('\n');
    }
}

mod peers {
    //! `cargo xtask bench --peers`: Python packages timed on the same batch.

    use std::fmt::Write as _;
    use std::path::Path;
    use std::process::Command;

    use anyhow::Context;

    use super::{PEERS_HEADING, build_tool, json, machine, run_tool, tsv};

    /// The packages installed into the virtual environment, one `pip install` each.
    const PACKAGES: &[&str] = &["numpy<2", "pandas<3", "geom-median", "hdmedians", "byzfl"];

    /// Runs `program args` and returns whether it succeeded, with its `ERROR` lines.
    fn attempt(program: &Path, args: &[&str], root: &Path) -> (bool, String) {
        match Command::new(program).args(args).current_dir(root).output() {
            Ok(output) => {
                // pip prints the reasons on lines starting with ERROR; keep them all.
                let stderr = String::from_utf8_lossy(&output.stderr);
                let errors: Vec<&str> = stderr
                    .lines()
                    .map(str::trim)
                    .filter(|l| l.starts_with("ERROR"))
                    .collect();
                (output.status.success(), errors.join(" "))
            }
            Err(error) => (false, error.to_string()),
        }
    }

    /// Creates the environment, runs both sides and returns the page section.
    pub fn run(root: &Path) -> anyhow::Result<String> {
        let venv = root.join("target").join("peers-venv");
        let python = venv.join("bin").join("python");
        if !python.exists() {
            let status = Command::new("python3")
                .args(["-m", "venv"])
                .arg(&venv)
                .status()
                .context("failed to start python3")?;
            anyhow::ensure!(
                status.success(),
                "python3 -m venv {} failed",
                venv.display()
            );
        }
        let mut installs = Vec::new();
        for package in PACKAGES {
            let (ok, message) =
                attempt(&python, &["-m", "pip", "install", "--quiet", package], root);
            println!(
                "pip install {package}: {}",
                if ok { "ok" } else { &message }
            );
            installs.push((package.to_string(), ok, message));
        }
        let scratch = root.join("target").join("peers-download");
        let scratch_text = scratch.to_string_lossy().into_owned();
        let (krum_ok, krum_message) = attempt(
            &python,
            &[
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--dest",
                &scratch_text,
                "krum",
            ],
            root,
        );

        let dir = root.join("target").join("peers");
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("failed to clear {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        let dir_text = dir.to_string_lossy().into_owned();
        let tool = build_tool(root)?;
        let ours = run_tool(&tool, &["peers-data", &dir_text])?;

        let script = root.join("benches").join("peers").join("run_peers.py");
        let status = Command::new(&python)
            .arg(&script)
            .arg(&dir)
            .env_remove("OPENBLAS_CORETYPE")
            .env_remove("OPENBLAS_L2_SIZE")
            .status()
            .with_context(|| format!("failed to start {}", python.display()))?;
        let peers_json = dir.join("peers.json");
        let peers = if status.success() && peers_json.exists() {
            let text = std::fs::read_to_string(&peers_json)?;
            json::parse(&text)
                .with_context(|| format!("invalid JSON in {}", peers_json.display()))?
        } else {
            println!("run_peers.py failed with {status}; the page records no peer timings");
            json::Value::Array(Vec::new())
        };
        let distances = run_tool(&tool, &["distances", &dir_text])?;

        Ok(render(
            &installs,
            (krum_ok, &krum_message),
            &ours,
            &peers,
            &distances,
        ))
    }

    /// Returns the operation a row belongs to, for the ratio to our time.
    fn operation_of(name: &str) -> &'static str {
        let lower = name.to_lowercase();
        if lower.contains("krum") {
            "krum"
        } else if lower.contains("coordinate") || lower.contains("numpy median") {
            "coordinate median"
        } else {
            "geometric median"
        }
    }

    /// Renders the section.
    fn render(
        installs: &[(String, bool, String)],
        krum: (bool, &str),
        ours: &str,
        peers: &json::Value,
        distances: &str,
    ) -> String {
        let mut page = String::new();
        let _ = writeln!(page, "{PEERS_HEADING}\n");
        let _ = writeln!(
            page,
            "Written by `cargo xtask bench --peers`, which is not part of CI. Both sides \
             work on the same seeded batch, written to `target/peers/batch.npy`: 64 \
             gradients of dimension 1e5 in f64, 52 drawn from N(0, I) and 12 outliers from \
             N(10 * 1, I). Each operation runs once untimed and then 3 times, and the \
             minimum wall time is reported. Our side runs in `median-bench-tool` with the \
             default rayon pool; the Python side runs in `target/peers-venv` without \
             `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE`. The distance is the Euclidean \
             distance to the reference geometric median.\n"
        );
        let _ = writeln!(page, "{}", machine());

        let reference = tsv(ours, "reference");
        if !reference.is_empty() {
            let _ = writeln!(
                page,
                "Reference: our Weiszfeld at certificate 1e-12, started at the coordinate \
                 median. Our timed solve takes the default start, Weiszfeld on the \
                 coefficients of the affine hull from the pairwise distances, so its \
                 iteration count is that of the full-space steps after it. Cross-checks:\n"
            );
            for fields in &reference {
                if let [key, value] = fields.as_slice() {
                    let _ = writeln!(page, "- {key}: {value}");
                }
            }
            let _ = writeln!(
                page,
                "\n(The independent certificate is `||sum_i (m - g_i) / ||m - g_i|| || / n` \
                 computed without the solver's code; the distance between starts compares \
                 with the solve started at the mean.)\n"
            );
        }

        let distance_of = |name: &str| {
            tsv(distances, "distance")
                .into_iter()
                .find(|f| f.first().is_some_and(|n| n == name))
                .and_then(|f| f.get(1).cloned())
                .unwrap_or_else(|| "-".to_owned())
        };
        let mut our_times = Vec::new();
        let _ = writeln!(
            page,
            "| implementation | version | wall time | iterations | time / ours | distance to reference |\n|---|---|---|---|---|---|"
        );
        for fields in tsv(ours, "ours") {
            let [name, seconds, iterations] = fields.as_slice() else {
                continue;
            };
            let seconds: f64 = seconds.parse().unwrap_or(f64::NAN);
            our_times.push((operation_of(name), seconds));
            let file = match operation_of(name) {
                "krum" => "rust-krum",
                "coordinate median" => "rust-coordinate-median",
                _ => "rust-geometric-median",
            };
            let iterations = if iterations.is_empty() {
                "-"
            } else {
                iterations
            };
            let _ = writeln!(
                page,
                "| {name} | this workspace | {:.1} ms | {iterations} | 1.00 | {} |",
                seconds * 1e3,
                distance_of(file)
            );
        }
        let records = match peers {
            json::Value::Array(items) => items.as_slice(),
            _ => &[],
        };
        for (index, record) in records.iter().enumerate() {
            let text = |key: &str| {
                record
                    .get(key)
                    .and_then(json::Value::as_str)
                    .unwrap_or("-")
                    .to_owned()
            };
            let name = text("name");
            let version = format!("{} {}", text("package"), text("version"));
            if let Some(error) = record.get("error").and_then(json::Value::as_str) {
                let _ = writeln!(page, "| {name} | {version} | failed: {error} | - | - | - |");
                continue;
            }
            let seconds = record
                .get("seconds")
                .and_then(json::Value::as_f64)
                .unwrap_or(f64::NAN);
            let iterations = record
                .get("iterations")
                .and_then(json::Value::as_f64)
                .map_or("-".to_owned(), |k| format!("{k}"));
            let ratio = our_times
                .iter()
                .find(|(op, _)| *op == operation_of(&name))
                .map_or("-".to_owned(), |(_, ours)| format!("{:.2}", seconds / ours));
            let _ = writeln!(
                page,
                "| {name} | {version} | {:.1} ms | {iterations} | {ratio} | {} |",
                seconds * 1e3,
                distance_of(&format!("py-{index}"))
            );
        }
        page.push('\n');
        let _ = writeln!(
            page,
            "The coordinate median and Krum answer other questions than the geometric \
             median, so their distance to it measures how far apart the estimators are on \
             this batch, not an error. Krum returns one of the inputs.\n"
        );

        let _ = writeln!(
            page,
            "Installation (`pip install` into `target/peers-venv`, PyPI only):\n"
        );
        for (package, ok, message) in installs {
            if *ok {
                let _ = writeln!(page, "- `{package}`: installed");
            } else {
                let _ = writeln!(page, "- `{package}`: **failed**: {message}");
            }
        }
        let (krum_ok, krum_message) = krum;
        if krum_ok {
            let _ = writeln!(
                page,
                "- `krum`: `pip download --no-deps krum` found a distribution; it is not \
                 timed here because its API was not checked."
            );
        } else {
            let _ = writeln!(
                page,
                "- `krum`: `pip download --no-deps krum` found no installable distribution \
                 for this Python: {krum_message}"
            );
        }
        page
    }
}

mod json {
    //! A small JSON reader, enough for criterion's output and `peers.json`.

    /// A JSON value.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Value {
        /// `null`.
        Null,
        /// `true` or `false`.
        Bool(bool),
        /// A number.
        Number(f64),
        /// A string.
        String(String),
        /// An array.
        Array(Vec<Value>),
        /// An object, keys in file order.
        Object(Vec<(String, Value)>),
    }

    impl Value {
        /// Returns the member `key` of an object.
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }

        /// Returns the number, if this is one.
        pub fn as_f64(&self) -> Option<f64> {
            match self {
                Value::Number(x) => Some(*x),
                _ => None,
            }
        }

        /// Returns the string, if this is one.
        pub fn as_str(&self) -> Option<&str> {
            match self {
                Value::String(s) => Some(s),
                _ => None,
            }
        }
    }

    /// Parses a JSON document.
    ///
    /// # Errors
    ///
    /// A message with the byte offset of the first syntax error.
    pub fn parse(text: &str) -> anyhow::Result<Value> {
        let mut parser = Parser {
            bytes: text.as_bytes(),
            at: 0,
        };
        let value = parser.value()?;
        parser.skip_space();
        if parser.at != parser.bytes.len() {
            anyhow::bail!("trailing characters at byte {}", parser.at);
        }
        Ok(value)
    }

    /// A recursive-descent parser over the bytes of a document.
    struct Parser<'a> {
        bytes: &'a [u8],
        at: usize,
    }

    impl Parser<'_> {
        fn skip_space(&mut self) {
            while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
                self.at += 1;
            }
        }

        fn expect(&mut self, byte: u8) -> anyhow::Result<()> {
            self.skip_space();
            if self.bytes.get(self.at) == Some(&byte) {
                self.at += 1;
                Ok(())
            } else {
                anyhow::bail!("expected '{}' at byte {}", byte as char, self.at)
            }
        }

        fn value(&mut self) -> anyhow::Result<Value> {
            self.skip_space();
            match self.bytes.get(self.at) {
                Some(b'{') => self.object(),
                Some(b'[') => self.array(),
                Some(b'"') => Ok(Value::String(self.string()?)),
                Some(b't') => self.literal("true", Value::Bool(true)),
                Some(b'f') => self.literal("false", Value::Bool(false)),
                Some(b'n') => self.literal("null", Value::Null),
                Some(b'N') => self.literal("NaN", Value::Number(f64::NAN)),
                Some(_) => self.number(),
                None => anyhow::bail!("unexpected end of input"),
            }
        }

        fn literal(&mut self, word: &str, value: Value) -> anyhow::Result<Value> {
            if self.bytes[self.at..].starts_with(word.as_bytes()) {
                self.at += word.len();
                Ok(value)
            } else {
                anyhow::bail!("invalid literal at byte {}", self.at)
            }
        }

        fn number(&mut self) -> anyhow::Result<Value> {
            let start = self.at;
            while self
                .bytes
                .get(self.at)
                .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
            {
                self.at += 1;
            }
            let text = std::str::from_utf8(&self.bytes[start..self.at])?;
            let number = text
                .parse()
                .map_err(|_| anyhow::anyhow!("invalid number {text:?} at byte {start}"))?;
            Ok(Value::Number(number))
        }

        fn string(&mut self) -> anyhow::Result<String> {
            self.expect(b'"')?;
            let mut out = String::new();
            loop {
                let Some(&byte) = self.bytes.get(self.at) else {
                    anyhow::bail!("unterminated string");
                };
                self.at += 1;
                match byte {
                    b'"' => return Ok(out),
                    b'\\' => {
                        let escape = self.bytes.get(self.at).copied();
                        self.at += 1;
                        match escape {
                            Some(b'n') => out.push('\n'),
                            Some(b't') => out.push('\t'),
                            Some(b'r') => out.push('\r'),
                            Some(b'u') => {
                                let hex = self
                                    .bytes
                                    .get(self.at..self.at + 4)
                                    .ok_or_else(|| anyhow::anyhow!("truncated \\u escape"))?;
                                let code = u32::from_str_radix(std::str::from_utf8(hex)?, 16)?;
                                out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                                self.at += 4;
                            }
                            Some(other) => out.push(other as char),
                            None => anyhow::bail!("unterminated escape"),
                        }
                    }
                    _ => {
                        // Copy a run of plain bytes at once, so UTF-8 stays intact.
                        let start = self.at - 1;
                        while self
                            .bytes
                            .get(self.at)
                            .is_some_and(|b| *b != b'"' && *b != b'\\')
                        {
                            self.at += 1;
                        }
                        out.push_str(std::str::from_utf8(&self.bytes[start..self.at])?);
                    }
                }
            }
        }

        fn array(&mut self) -> anyhow::Result<Value> {
            self.expect(b'[')?;
            let mut items = Vec::new();
            self.skip_space();
            if self.bytes.get(self.at) == Some(&b']') {
                self.at += 1;
                return Ok(Value::Array(items));
            }
            loop {
                items.push(self.value()?);
                self.skip_space();
                match self.bytes.get(self.at) {
                    Some(b',') => self.at += 1,
                    Some(b']') => {
                        self.at += 1;
                        return Ok(Value::Array(items));
                    }
                    _ => anyhow::bail!("expected ',' or ']' at byte {}", self.at),
                }
            }
        }

        fn object(&mut self) -> anyhow::Result<Value> {
            self.expect(b'{')?;
            let mut members = Vec::new();
            self.skip_space();
            if self.bytes.get(self.at) == Some(&b'}') {
                self.at += 1;
                return Ok(Value::Object(members));
            }
            loop {
                self.skip_space();
                let key = self.string()?;
                self.expect(b':')?;
                members.push((key, self.value()?));
                self.skip_space();
                match self.bytes.get(self.at) {
                    Some(b',') => self.at += 1,
                    Some(b'}') => {
                        self.at += 1;
                        return Ok(Value::Object(members));
                    }
                    _ => anyhow::bail!("expected ',' or '}}' at byte {}", self.at),
                }
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn json_reads_criterion_estimates() {
            let text = r#"{"mean":{"point_estimate":1.5e3,"ci":[1,2]},"slope":null,"s":"a\"b"}"#;
            let value = parse(text).unwrap();
            let mean = value.get("mean").unwrap();
            assert_eq!(
                mean.get("point_estimate").and_then(Value::as_f64),
                Some(1500.0)
            );
            assert_eq!(value.get("slope"), Some(&Value::Null));
            assert_eq!(value.get("s").and_then(Value::as_str), Some("a\"b"));
        }

        #[test]
        fn json_rejects_trailing_text() {
            assert!(parse("{} x").is_err());
            assert!(parse("[1, 2").is_err());
        }
    }
}
