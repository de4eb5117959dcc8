//! The faer backend against the conformance suite.

use median_faer::FaerBackend;

median_conformance::conformance_tests!(faer_f32, FaerBackend<f32>);
median_conformance::conformance_tests!(faer_f64, FaerBackend<f64>);
