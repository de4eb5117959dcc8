//! Experiment configurations: TOML files parsed with serde, with errors that name the
//! file, the line and the field.
//!
//! Every table rejects unknown fields. Names of rules, estimators, attacks, noise models
//! and optimizers are checked against the [`registry`] after parsing, and
//! an unknown one is reported with its line and the list of known names.

use std::path::Path;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::CliError;
use crate::registry::{self, ATTACKS, ESTIMATORS, NOISE_MODELS, OPTIMIZERS, RULES};

/// The kind of an experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Online estimation of a location from heavy-tailed samples.
    Online,
    /// Optimization under heavy-tailed, state-dependent gradient noise.
    Sgd,
    /// Distributed training with Byzantine workers.
    Byzantine,
    /// Differentially private SGD, clipping around zero or around a tracked median.
    Dp,
}

/// One experiment: its kind, seeds, length and the section of its kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// The experiment's name: the stem of its output files.
    pub name: String,
    /// The experiment kind; the section of the same name must be present.
    pub kind: Kind,
    /// The seeds; every setting runs once per seed.
    pub seeds: Vec<u64>,
    /// The number of iterations (samples for online estimation, steps otherwise).
    pub iterations: usize,
    /// Record the metrics every this many iterations (and at the last one).
    #[serde(default = "default_record_every")]
    pub record_every: usize,
    /// The online-estimation section.
    pub online: Option<OnlineConfig>,
    /// The SGD section.
    pub sgd: Option<SgdConfig>,
    /// The Byzantine section.
    pub byzantine: Option<ByzantineConfig>,
    /// The DP-SGD section.
    pub dp: Option<DpConfig>,
}

fn default_record_every() -> usize {
    1
}

/// A noise law with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseConfig {
    /// The law's name in the registry, such as `"stable"`.
    pub law: Spanned<String>,
    /// The stability index of `stable`, in (0, 2].
    pub alpha: Option<f64>,
    /// The degrees of freedom of `student-t`.
    pub nu: Option<f64>,
    /// The outlier probability of `contaminated` (default 0.05).
    pub eps: Option<f64>,
    /// The outlier norm of `contaminated`, as a multiple of `||mu||` (default 1000).
    pub outlier_scale: Option<f64>,
}

impl NoiseConfig {
    /// Returns a short label such as `stable(alpha=1.5)`.
    pub fn label(&self) -> String {
        let mut params = Vec::new();
        if let Some(a) = self.alpha {
            params.push(format!("alpha={a}"));
        }
        if let Some(n) = self.nu {
            params.push(format!("nu={n}"));
        }
        if let Some(e) = self.eps {
            params.push(format!("eps={e}"));
        }
        if params.is_empty() {
            self.law.get_ref().clone()
        } else {
            format!("{}({})", self.law.get_ref(), params.join(","))
        }
    }
}

/// The section of an online-estimation experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineConfig {
    /// The dimension `d` of `mu`.
    pub dim: usize,
    /// The noise scale `s` in `mu + s xi`.
    #[serde(default = "one")]
    pub scale: f64,
    /// The first SPP step `tau0`.
    #[serde(default = "one")]
    pub tau0: f64,
    /// `"constant"` or `"inverse-sqrt"` (`tau_k = tau0 / sqrt(k + 1)`).
    #[serde(default = "default_schedule")]
    pub schedule: Spanned<String>,
    /// The Huber width `delta` of the `huber` estimator.
    #[serde(default = "one")]
    pub huber_delta: f64,
    /// Whether the SPP estimators report the Polyak-Ruppert average of their iterates.
    #[serde(default)]
    pub averaging: bool,
    /// The estimators, by registry name.
    pub estimators: Vec<Spanned<String>>,
    /// The noise laws; each is one setting.
    pub noise: Vec<NoiseConfig>,
}

fn one() -> f64 {
    1.0
}

fn default_schedule() -> Spanned<String> {
    Spanned::new(0..0, "inverse-sqrt".to_string())
}

/// One optimizer with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodConfig {
    /// The optimizer's registry name.
    pub name: Spanned<String>,
    /// A label for tables and plots (default: built from the name and parameters).
    pub label: Option<String>,
    /// The rule of `sample-median-gd`.
    pub rule: Option<Spanned<String>>,
    /// The number of gradients per step of `sample-median-gd` and `minibatch-sgd`.
    pub samples: Option<usize>,
    /// The clipping threshold of `clipped-sgd`, or the SPP step of `tracker`.
    pub tau: Option<f64>,
    /// The online estimator of `tracker`.
    pub estimator: Option<Spanned<String>>,
}

impl MethodConfig {
    /// Returns the label, or one built from the name and parameters.
    pub fn display_label(&self) -> String {
        if let Some(label) = &self.label {
            return label.clone();
        }
        let mut label = self.name.get_ref().clone();
        if let Some(rule) = &self.rule {
            label = format!("{label}({}", rule.get_ref());
            if let Some(n) = self.samples {
                label.push_str(&format!(",n={n}"));
            }
            label.push(')');
        } else if let Some(n) = self.samples {
            label.push_str(&format!("(n={n})"));
        }
        if let Some(e) = &self.estimator {
            label.push_str(&format!("({})", e.get_ref()));
        }
        if let Some(t) = self.tau {
            label.push_str(&format!("[tau={t}]"));
        }
        label
    }
}

/// The section of an SGD experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// The problems: `"quadratic"` or a shipped dataset (`diabetes`: least squares,
    /// `breast_cancer`: logistic regression, `digits` and `wine`: softmax regression).
    pub problems: Vec<Spanned<String>>,
    /// The dimension of the quadratic, whose Hessian is `diag(logspace(0, 2, d))`.
    #[serde(default = "default_quadratic_dim")]
    pub quadratic_dim: usize,
    /// The noise laws of `g = grad f(x) + (a + b ||x||) xi`; each is one setting.
    pub noise: Vec<NoiseConfig>,
    /// `a` in the noise scale.
    #[serde(default = "one")]
    pub noise_a: f64,
    /// `b` in the noise scale.
    #[serde(default = "one")]
    pub noise_b: f64,
    /// The constant step sizes tried; each method reports its best one.
    pub step_sizes: Vec<f64>,
    /// The fraction of samples held out for testing on real data.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
    /// The optimizers.
    pub methods: Vec<MethodConfig>,
}

fn default_quadratic_dim() -> usize {
    10
}

fn default_test_fraction() -> f64 {
    0.25
}

/// The section of a Byzantine experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByzantineConfig {
    /// Shipped classification datasets (`breast_cancer`, `digits`, `wine`).
    pub datasets: Vec<Spanned<String>>,
    /// The total number of workers `n`.
    pub workers: usize,
    /// The Byzantine fractions tried; `f = round(fraction * n)`.
    pub fractions: Vec<f64>,
    /// The attacks.
    pub attacks: Vec<Spanned<String>>,
    /// The aggregation rules.
    pub rules: Vec<Spanned<String>>,
    /// The mini-batch size of each honest worker.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// The constant step size.
    pub step_size: f64,
    /// The clipping radius of centered clipping.
    #[serde(default = "one")]
    pub clipping_tau: f64,
    /// The fraction of samples held out for testing.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
}

/// The section of a DP-SGD experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DpConfig {
    /// A shipped binary or multiclass classification dataset.
    pub dataset: Spanned<String>,
    /// The Poisson sampling rate `q` of each step, in (0, 1].
    pub sampling_rate: f64,
    /// The per-sample clipping norm `C`.
    pub clip_norm: f64,
    /// The noise multipliers `sigma` tried; each is one setting.
    pub noise_multipliers: Vec<f64>,
    /// The clipping centres of the per-sample gradients: `"zero"` (DP-SGD) or `"tracked"`
    /// (the previous release, as in the private median tracker).
    pub anchors: Vec<Spanned<String>>,
    /// The constant step size.
    pub step_size: f64,
    /// The `delta` at which `epsilon` is reported.
    #[serde(default = "default_delta")]
    pub delta: f64,
    /// The fraction of samples held out for testing.
    #[serde(default = "default_test_fraction")]
    pub test_fraction: f64,
}

fn default_delta() -> f64 {
    1e-5
}

fn default_batch() -> usize {
    16
}

/// Returns the 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads and validates an experiment configuration.
///
/// # Errors
///
/// [`CliError::Io`] if the file cannot be read, and [`CliError::Config`] with the line for
/// malformed TOML, an unknown field, a wrong type, a missing section or an unknown name.
pub fn load(path: &Path) -> Result<ExperimentConfig, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    parse(&text, path)
}

/// Parses and validates the text of a configuration; `path` only labels errors.
///
/// # Errors
///
/// As [`load`].
pub fn parse(text: &str, path: &Path) -> Result<ExperimentConfig, CliError> {
    let config: ExperimentConfig = toml::from_str(text).map_err(|e| CliError::Config {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        reason: e.message().trim().to_string(),
    })?;
    validate(&config, text, path)?;
    Ok(config)
}

/// Checks the section, the counts and every registry name.
fn validate(config: &ExperimentConfig, text: &str, path: &Path) -> Result<(), CliError> {
    let fail = |line: Option<usize>, reason: String| CliError::Config {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let name = |kind: &'static str, value: &Spanned<String>, entries: &[registry::Entry]| {
        registry::check_name(kind, value.get_ref(), entries).map_err(|e| {
            let line = (value.span().end > 0).then(|| line_of(text, value.span().start));
            fail(line, e.to_string())
        })
    };

    let valid_name = !config.name.is_empty()
        && !config.name.starts_with('.')
        && config
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !valid_name {
        return Err(fail(
            None,
            format!(
                "field `name` = {:?} is not a valid file stem; use letters, digits, '-', '_' \
                 and '.', not starting with '.'",
                config.name
            ),
        ));
    }
    if config.seeds.is_empty() {
        return Err(fail(
            None,
            "field `seeds` is empty; give at least one seed".to_string(),
        ));
    }
    if config.iterations == 0 || config.record_every == 0 {
        return Err(fail(
            None,
            "fields `iterations` and `record_every` must be >= 1".to_string(),
        ));
    }
    let missing = |section: &str| {
        fail(
            None,
            format!("kind {:?} needs a [{section}] section", config.kind),
        )
    };
    match config.kind {
        Kind::Online => {
            let online = config.online.as_ref().ok_or_else(|| missing("online"))?;
            for e in &online.estimators {
                name("estimator", e, ESTIMATORS)?;
            }
            for n in &online.noise {
                name("noise model", &n.law, NOISE_MODELS)?;
            }
            let schedules = [
                registry::Entry {
                    name: "constant",
                    description: "",
                },
                registry::Entry {
                    name: "inverse-sqrt",
                    description: "",
                },
            ];
            name("schedule", &online.schedule, &schedules)?;
        }
        Kind::Sgd => {
            let sgd = config.sgd.as_ref().ok_or_else(|| missing("sgd"))?;
            let problems = [
                registry::Entry {
                    name: "quadratic",
                    description: "",
                },
                registry::Entry {
                    name: "diabetes",
                    description: "",
                },
                registry::Entry {
                    name: "breast_cancer",
                    description: "",
                },
                registry::Entry {
                    name: "digits",
                    description: "",
                },
                registry::Entry {
                    name: "wine",
                    description: "",
                },
            ];
            for p in &sgd.problems {
                name("problem", p, &problems)?;
            }
            for n in &sgd.noise {
                name("noise model", &n.law, NOISE_MODELS)?;
            }
            for m in &sgd.methods {
                name("optimizer", &m.name, OPTIMIZERS)?;
                if let Some(rule) = &m.rule {
                    name("rule", rule, RULES)?;
                }
                if let Some(estimator) = &m.estimator {
                    name("estimator", estimator, ESTIMATORS)?;
                }
            }
            if sgd.step_sizes.iter().any(|&g| !(g > 0.0 && g.is_finite())) {
                return Err(fail(
                    None,
                    "every entry of `step_sizes` must be finite and > 0".to_string(),
                ));
            }
        }
        Kind::Byzantine => {
            let byz = config
                .byzantine
                .as_ref()
                .ok_or_else(|| missing("byzantine"))?;
            let datasets = [
                registry::Entry {
                    name: "breast_cancer",
                    description: "",
                },
                registry::Entry {
                    name: "digits",
                    description: "",
                },
                registry::Entry {
                    name: "wine",
                    description: "",
                },
            ];
            for d in &byz.datasets {
                name("dataset", d, &datasets)?;
            }
            for a in &byz.attacks {
                name("attack", a, ATTACKS)?;
            }
            for r in &byz.rules {
                name("rule", r, RULES)?;
            }
            if byz.fractions.iter().any(|&f| !(0.0..0.5).contains(&f)) {
                return Err(fail(
                    None,
                    "every entry of `fractions` must be in [0, 0.5)".to_string(),
                ));
            }
        }
        Kind::Dp => {
            let dp = config.dp.as_ref().ok_or_else(|| missing("dp"))?;
            let datasets = [
                registry::Entry {
                    name: "breast_cancer",
                    description: "",
                },
                registry::Entry {
                    name: "digits",
                    description: "",
                },
                registry::Entry {
                    name: "wine",
                    description: "",
                },
            ];
            name("dataset", &dp.dataset, &datasets)?;
            let anchors = [
                registry::Entry {
                    name: "zero",
                    description: "",
                },
                registry::Entry {
                    name: "tracked",
                    description: "",
                },
            ];
            for a in &dp.anchors {
                name("anchor", a, &anchors)?;
            }
            if !(dp.sampling_rate > 0.0 && dp.sampling_rate <= 1.0) {
                return Err(fail(
                    None,
                    format!(
                        "`sampling_rate` is {}; it must be in (0, 1]",
                        dp.sampling_rate
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Returns the canonical text of a configuration (TOML, fields in declaration order),
/// the input of the run keys.
pub fn canonical(config: &ExperimentConfig) -> String {
    toml::to_string(config).unwrap_or_else(|e| format!("unserializable: {e}"))
}
