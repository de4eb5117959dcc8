//! The error type of the `median` program's library half.

use std::path::PathBuf;

use thiserror::Error;

/// An error from reading inputs, parsing a configuration or running an experiment.
///
/// Each variant names the file, line or value that failed, so the message shows what to fix.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CliError {
    /// A file could not be read or written.
    ///
    /// The message already contains the operating-system error, so the field is not marked
    /// as the error's source: printing the chain would repeat it.
    #[error("failed to access {path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        error: std::io::Error,
    },

    /// A NumPy `.npy` file is malformed or uses a feature this reader does not support.
    #[error("invalid .npy file {path}: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// The problem, with the offending value.
        reason: String,
    },

    /// A CSV or LIBSVM text file has a malformed line.
    #[error("invalid {format} file {path}, line {line}: {reason}")]
    Parse {
        /// `"CSV"` or `"LIBSVM"`.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// The problem, with the offending field.
        reason: String,
    },

    /// A configuration file is malformed: bad TOML, an unknown field, a wrong type or an
    /// unknown name.
    #[error("invalid configuration {path}{}: {reason}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Config {
        /// The configuration file.
        path: PathBuf,
        /// The 1-based line of the offending field, where known.
        line: Option<usize>,
        /// The problem, naming the field and the allowed values.
        reason: String,
    },

    /// A name (rule, estimator, attack, noise model, optimizer, dataset) is not in the registry.
    #[error("unknown {kind} {name:?}; known {kind}s: {}", known.join(", "))]
    UnknownName {
        /// The kind of name, such as `"rule"`.
        kind: &'static str,
        /// The name given.
        name: String,
        /// The names in the registry.
        known: Vec<String>,
    },

    /// A parameter value is outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name.
        name: String,
        /// The rejected value.
        value: String,
        /// The valid range.
        expected: String,
    },

    /// An estimator or aggregation rule failed.
    #[error(transparent)]
    Core(#[from] median_core::Error),

    /// An optimizer, problem or oracle failed.
    #[error(transparent)]
    Sgd(#[from] median_sgd::SgdError),

    /// A noise sampler rejected its parameters.
    #[error(transparent)]
    Noise(#[from] median_noise::NoiseError),

    /// A Byzantine attack rejected its inputs.
    #[error(transparent)]
    Byzantine(#[from] median_noise::byzantine::ByzantineError),

    /// A plot could not be drawn.
    #[error("failed to draw plot {path}: {reason}")]
    Plot {
        /// The output file.
        path: PathBuf,
        /// The drawing backend's message.
        reason: String,
    },
    /// Every run of an experiment failed, so it has no results; usually a parameter that
    /// the configuration parser accepts but the estimator or optimizer rejects.
    #[error(
        "every one of the {runs} runs of experiment {experiment} failed; the first error was: {first}"
    )]
    AllRunsFailed {
        /// The experiment's name.
        experiment: String,
        /// The number of runs.
        runs: usize,
        /// The message of the first failing run.
        first: String,
    },
}

impl CliError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            error,
        }
    }
}
