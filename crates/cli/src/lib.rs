//! Library half of the `median` command-line program.
//!
//! It contains the input readers (NumPy `.npy`, CSV and LIBSVM files), the registry of
//! estimators, rules, attacks, noise models and optimizers, and the experiment
//! configurations. It also runs the experiments and writes their outputs: CSV tables, SVG
//! and PNG plots, and a markdown report.
//!
//! The binary `median` (see `src/main.rs`) is a thin command-line layer over this crate.

pub mod config;
pub mod csv;
pub mod data;
mod error;
pub mod experiments;
pub mod hash;
pub mod npy;
pub mod output;
pub mod problems;
pub mod registry;
pub mod report;
pub mod suite;

pub use error::CliError;

/// The Rust examples of the repository's README, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
