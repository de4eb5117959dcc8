//! End-to-end tests of the `median` binary: `list`, `aggregate` and `run` on tiny
//! configurations written into a temporary folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use median_cli::npy::{encode_npy, read_npy};
use median_cli::registry::{ATTACKS, ESTIMATORS, NOISE_MODELS, OPTIMIZERS, RULES};

fn median(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_median"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the median binary runs")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("median-cli-e2e-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_prints_every_registry_name() {
    let output = median(&["list"]);
    assert!(output.status.success());
    let text = stdout(&output);
    for table in [ESTIMATORS, RULES, ATTACKS, NOISE_MODELS, OPTIMIZERS] {
        for entry in table {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(entry.name)),
                "{} missing from:\n{text}",
                entry.name
            );
        }
    }
}

#[test]
fn help_works_for_every_subcommand() {
    for sub in ["repro", "run", "aggregate", "list"] {
        let output = median(&[sub, "--help"]);
        assert!(output.status.success(), "{sub}");
        assert!(stdout(&output).contains("Usage"), "{sub}");
    }
}

#[test]
fn aggregate_csv_gives_coordinate_median() {
    let dir = temp_dir("aggregate-csv");
    let input = dir.join("g.csv");
    std::fs::write(&input, "g1,g2\n1,10\n2,-4\n300,0\n").unwrap();
    let output = median(&[
        "aggregate",
        "--rule",
        "coordinate-median",
        input.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "2,0");

    let mean = median(&["aggregate", "--rule", "mean", input.to_str().unwrap()]);
    assert_eq!(stdout(&mean).trim(), "101,2");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn aggregate_npy_writes_npy_and_solver_info() {
    let dir = temp_dir("aggregate-npy");
    let input = dir.join("g.npy");
    // Three points on a line and one far away: the geometric median is the middle point.
    std::fs::write(&input, encode_npy(3, 2, &[0.0, 0.0, 1.0, 0.0, 100.0, 0.0])).unwrap();
    let out = dir.join("m.npy");
    let output = median(&[
        "aggregate",
        "--rule",
        "geometric-median",
        "--output",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("solver: iterations="),
        "{}",
        stderr(&output)
    );
    let estimate = read_npy(&out).unwrap();
    assert_eq!((estimate.rows, estimate.cols), (1, 2));
    assert!((estimate.data[0] - 1.0).abs() < 1e-6, "{:?}", estimate.data);
    assert!(estimate.data[1].abs() < 1e-9, "{:?}", estimate.data);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn aggregate_reports_bad_inputs() {
    let dir = temp_dir("aggregate-bad");
    let ragged = dir.join("r.csv");
    std::fs::write(&ragged, "1,2\n3\n").unwrap();
    let output = median(&["aggregate", "--rule", "mean", ragged.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("line 2"), "{}", stderr(&output));

    let good = dir.join("g.csv");
    std::fs::write(&good, "1,2\n3,4\n").unwrap();
    let output = median(&["aggregate", "--rule", "medain", good.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("coordinate-median"),
        "{}",
        stderr(&output)
    );

    let nan = dir.join("n.csv");
    std::fs::write(&nan, "1,2\n3,NaN\n").unwrap();
    let output = median(&["aggregate", "--rule", "mean", nan.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("gradient 1 has the non-finite value NaN at coordinate 1"),
        "{}",
        stderr(&output)
    );

    let krum = median(&[
        "aggregate",
        "--rule",
        "krum",
        "--f",
        "1",
        good.to_str().unwrap(),
    ]);
    assert!(!krum.status.success());
    assert!(stderr(&krum).contains("n > 2f + 2"), "{}", stderr(&krum));
    std::fs::remove_dir_all(dir).unwrap();
}

const TINY_ONLINE: &str = r#"
name = "tiny_online"
kind = "online"
seeds = [0, 1]
iterations = 60
record_every = 20

[online]
dim = 3
averaging = true
estimators = ["ema", "geometric", "coordinate", "running-mean"]

[[online.noise]]
law = "stable"
alpha = 1.5

[[online.noise]]
law = "contaminated"
eps = 0.1
"#;

const TINY_SGD: &str = r#"
name = "tiny_sgd"
kind = "sgd"
seeds = [0, 1]
iterations = 30
record_every = 10

[sgd]
problems = ["quadratic", "breast_cancer"]
quadratic_dim = 3
step_sizes = [0.01, 0.1]

[[sgd.noise]]
law = "cauchy"

[[sgd.methods]]
name = "sgd"

[[sgd.methods]]
name = "sample-median-gd"
rule = "coordinate-median"
samples = 5
"#;

const TINY_BYZANTINE: &str = r#"
name = "tiny_byzantine"
kind = "byzantine"
seeds = [0]
iterations = 10
record_every = 5

[byzantine]
datasets = ["wine"]
workers = 5
fractions = [0.0, 0.2]
attacks = ["sign-flip"]
rules = ["mean", "coordinate-median"]
batch_size = 4
step_size = 0.1
"#;

const TINY_DP: &str = r#"
name = "tiny_dp"
kind = "dp"
seeds = [0]
iterations = 10
record_every = 5

[dp]
dataset = "breast_cancer"
sampling_rate = 0.05
clip_norm = 1.0
noise_multipliers = [1.0]
anchors = ["zero", "tracked"]
step_size = 0.5
"#;

/// Checks the outputs of one experiment and returns the CSV text.
fn check_outputs(dir: &Path, name: &str, header_end: &str) -> String {
    let csv = std::fs::read_to_string(dir.join(format!("{name}.csv"))).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("experiment,setting,method,seed,step,"),
        "{header}"
    );
    assert!(header.ends_with(header_end), "{header}");
    let columns = header.split(',').count();
    let mut rows = 0;
    for line in lines {
        // Quoted fields hold commas; count fields outside quotes.
        let mut fields = 1;
        let mut quoted = false;
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ',' if !quoted => fields += 1,
                _ => {}
            }
        }
        assert_eq!(fields, columns, "{line}");
        let last: f64 = line.rsplit(',').next().unwrap().parse().unwrap();
        assert!(!last.is_nan(), "{line}");
        rows += 1;
    }
    assert!(rows > 0);

    let plots: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
        .collect();
    let svgs: Vec<&PathBuf> = plots
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .collect();
    let pngs: Vec<&PathBuf> = plots
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    assert!(!svgs.is_empty(), "no SVG for {name}");
    assert_eq!(svgs.len(), pngs.len());
    for svg in svgs {
        let text = std::fs::read_to_string(svg).unwrap();
        assert!(
            text.contains("<svg") && text.trim_end().ends_with("</svg>"),
            "{}",
            svg.display()
        );
    }
    for png in pngs {
        let bytes = std::fs::read(png).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", png.display());
        assert!(
            bytes.len() > 5000,
            "{} is suspiciously small",
            png.display()
        );
    }
    csv
}

#[test]
fn run_tiny_configs_end_to_end() {
    let dir = temp_dir("run");
    let out = dir.join("results");
    for (name, text, header_end) in [
        ("tiny_online", TINY_ONLINE, ",error"),
        ("tiny_sgd", TINY_SGD, ",step_size,loss"),
        ("tiny_byzantine", TINY_BYZANTINE, ",diverged"),
        ("tiny_dp", TINY_DP, ",epsilon"),
    ] {
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(&config, text).unwrap();
        let output = median(&[
            "run",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success(), "{name}: {}", stderr(&output));
        let first = check_outputs(&out, name, header_end);

        let report = std::fs::read_to_string(out.join("report.md")).unwrap();
        assert!(report.starts_with("# Experiment report"));
        assert!(report.contains(&format!("## {name}")));
        assert!(report.contains("**Verdict:"), "{report}");

        // A second run finds every run in the cache and writes the same table.
        let cached = std::fs::read_dir(out.join("runs")).unwrap().count();
        let output = median(&[
            "run",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(output.status.success());
        assert_eq!(std::fs::read_dir(out.join("runs")).unwrap().count(), cached);
        assert_eq!(check_outputs(&out, name, header_end), first);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn run_reports_config_errors_with_line() {
    let dir = temp_dir("run-bad");
    let config = dir.join("bad.toml");
    std::fs::write(&config, TINY_BYZANTINE.replace("\"mean\"", "\"avg\"")).unwrap();
    let output = median(&[
        "run",
        config.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert!(message.contains("bad.toml, line 13"), "{message}");
    assert!(message.contains("\"avg\""), "{message}");
    assert!(message.contains("geometric-median"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn thread_count_out_of_range_is_rejected() {
    let dir = temp_dir("threads");
    let out = dir.to_str().unwrap();
    for threads in ["0", "100000"] {
        let output = median(&["repro", "--quick", "--out", out, "--threads", threads]);
        assert!(!output.status.success(), "--threads {threads} was accepted");
        let message = stderr(&output);
        assert!(
            message.contains(&format!("invalid --threads {threads}")),
            "--threads {threads}: {message}"
        );
        assert!(!message.contains("panicked"), "{message}");
    }
}

#[test]
fn centered_clipping_starts_at_coordinate_median() {
    let dir = temp_dir("centered-clipping");
    let input = dir.join("batch.csv");
    std::fs::write(&input, "10,10\n11,10\n10,11\n15,15\n").unwrap();
    let output = median(&[
        "aggregate",
        "--rule",
        "centered-clipping",
        input.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    // Three steps of v <- v + mean(clip_1(x_i - v)) from the coordinate median (10.5, 10.5).
    let points = [[10.0, 10.0], [11.0, 10.0], [10.0, 11.0], [15.0, 15.0]];
    let mut v = [10.5_f64, 10.5];
    for _ in 0..3 {
        let mut step = [0.0, 0.0];
        for p in points {
            let diff = [p[0] - v[0], p[1] - v[1]];
            let norm = diff[0].hypot(diff[1]);
            let scale = if norm > 1.0 { 1.0 / norm } else { 1.0 };
            step[0] += diff[0] * scale / 4.0;
            step[1] += diff[1] * scale / 4.0;
        }
        v = [v[0] + step[0], v[1] + step[1]];
    }
    let found: Vec<f64> = stdout(&output)
        .trim()
        .split(',')
        .map(|x| x.parse().unwrap())
        .collect();
    for (f, e) in found.iter().zip(v) {
        assert!((f - e).abs() < 1e-12, "{f} vs {e}");
    }
}

#[test]
fn run_fails_when_every_run_fails() {
    let dir = temp_dir("all-runs-fail");
    let config = dir.join("bad-step.toml");
    // The parser accepts any number for tau0; every tracker rejects a negative step.
    let text = TINY_ONLINE.replace("averaging = true", "averaging = true\ntau0 = -1.0");
    std::fs::write(&config, text).unwrap();
    let output = median(&[
        "run",
        config.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(!output.status.success(), "a run with no results exited 0");
    let message = stderr(&output);
    assert!(message.contains("every one of the"), "{message}");
    assert!(message.contains("tau"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn missing_input_is_one_line_error() {
    let dir = temp_dir("missing");
    let path = dir.join("missing.csv");
    let output = median(&["aggregate", "--rule", "mean", path.to_str().unwrap()]);
    assert!(!output.status.success());
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("failed to access"), "{message}");
    assert_eq!(message.matches("os error 2").count(), 1, "{message}");
}
