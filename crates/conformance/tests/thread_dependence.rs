//! The determinism check must catch a reduction whose result depends on the thread count.

use median_conformance::first_thread_dependence;
use rayon::prelude::*;

/// Values whose sum depends on the grouping: `1e16 + 1` rounds back to `1e16`, so the ones
/// are lost or kept depending on where the sum is split.
fn grouping_sensitive(len: usize) -> Vec<f64> {
    let mut x = vec![1.0; len];
    x[0] = 1e16;
    x[len / 2] = -1e16;
    x
}

#[test]
fn check_flags_rayon_adaptive_sum() {
    let x = grouping_sensitive(1 << 20);
    // rayon's `sum` splits the work according to the pool size, so one thread and four
    // threads add in different groupings.
    let naive = || vec![x.par_iter().sum::<f64>()];
    assert_eq!(first_thread_dependence(naive), Some(0));
}

#[test]
fn check_passes_fixed_chunk_sum() {
    let x = grouping_sensitive(1 << 20);
    let fixed = || vec![median_linalg::kernels::sum(&x)];
    assert_eq!(first_thread_dependence(fixed), None);
}
