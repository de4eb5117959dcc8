//! The default backend against the suite (and so the oracle against itself, which still
//! checks overflow, NaN, mismatch errors and determinism).

use median_linalg::VecBackend;

median_conformance::conformance_tests!(vec_f32, VecBackend<f32>);
median_conformance::conformance_tests!(vec_f64, VecBackend<f64>);
