//! The nalgebra backend against the conformance suite.

use median_nalgebra::NalgebraBackend;

median_conformance::conformance_tests!(nalgebra_f32, NalgebraBackend<f32>);
median_conformance::conformance_tests!(nalgebra_f64, NalgebraBackend<f64>);
