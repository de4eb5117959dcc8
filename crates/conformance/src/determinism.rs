//! The check that results do not depend on the number of threads.

use median_linalg::{Backend, Scalar, Zero};
use rayon::ThreadPoolBuilder;

use crate::{random_batch, random_vec, seeded_rng};

/// The thread counts compared: one thread against several.
pub const THREAD_COUNTS: [usize; 2] = [1, 4];

/// Runs `compute` on a rayon pool of `threads` threads.
///
/// # Panics
///
/// Panics if the pool cannot be built.
pub fn on_threads<T: Send>(threads: usize, compute: impl FnOnce() -> T + Send) -> T {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
        .install(compute)
}

/// Returns the bit patterns of a result, so that comparisons are exact (NaN included).
pub fn bits<S: Scalar>(values: &[S]) -> Vec<u64> {
    values.iter().map(|v| v.into_f64().to_bits()).collect()
}

/// Returns the index of the first output whose bits differ between the thread counts of
/// [`THREAD_COUNTS`], or `None` when `compute` is thread-count independent on this input.
pub fn first_thread_dependence<S: Scalar>(
    compute: impl Fn() -> Vec<S> + Send + Sync,
) -> Option<usize> {
    let [few, many] = THREAD_COUNTS.map(|t| bits(&on_threads(t, &compute)));
    assert_eq!(
        few.len(),
        many.len(),
        "output lengths differ between thread counts"
    );
    few.iter().zip(&many).position(|(a, b)| a != b)
}

/// Checks every reduction and batch kernel for bit-identical results on pools of 1 and 4
/// threads, on inputs large enough to run in parallel.
pub fn check_thread_count_independence<B: Backend>() {
    let mut rng = seeded_rng(10);
    let len = 300_007;
    let x = B::vector_from_slice(&random_vec::<B::Scalar>(&mut rng, len));
    let y = B::vector_from_slice(&random_vec::<B::Scalar>(&mut rng, len));
    let (count, dim) = (24, 40_009);
    let (batch, _) = random_batch::<B>(&mut rng, count, dim);
    let point = random_vec::<B::Scalar>(&mut rng, dim);
    let weights = random_vec::<B::Scalar>(&mut rng, count);

    let reductions = || {
        vec![
            B::dot(&x, &y).unwrap(),
            B::norm(&x),
            B::distance(&x, &y).unwrap(),
        ]
    };
    let norms = || {
        let mut out = vec![B::Scalar::zero(); count];
        B::batch_norms(&batch, &mut out).unwrap();
        out
    };
    let distances = || {
        let mut out = vec![B::Scalar::zero(); count];
        B::batch_distances(&batch, &point, &mut out).unwrap();
        out
    };
    let weighted_sum = || {
        let mut out = vec![B::Scalar::zero(); dim];
        B::batch_weighted_sum(&batch, &weights, &mut out).unwrap();
        out
    };
    let gram = || {
        let mut out = vec![B::Scalar::zero(); count * count];
        B::batch_gram(&batch, &mut out).unwrap();
        out
    };
    let squared_distances = || {
        let mut out = vec![B::Scalar::zero(); count * count];
        B::batch_squared_distances(&batch, &mut out).unwrap();
        out
    };
    let axpy = || {
        let mut out = y.clone();
        B::axpy(B::Scalar::of_f64(0.5), &x, &mut out).unwrap();
        B::vector_as_slice(&out).to_vec()
    };

    let name = format!("{}/{}", B::NAME, B::Scalar::NAME);
    assert_eq!(
        first_thread_dependence(reductions),
        None,
        "{name}: dot, norm, distance"
    );
    assert_eq!(first_thread_dependence(norms), None, "{name}: batch_norms");
    assert_eq!(
        first_thread_dependence(distances),
        None,
        "{name}: batch_distances"
    );
    assert_eq!(
        first_thread_dependence(weighted_sum),
        None,
        "{name}: batch_weighted_sum"
    );
    assert_eq!(first_thread_dependence(gram), None, "{name}: batch_gram");
    assert_eq!(
        first_thread_dependence(squared_distances),
        None,
        "{name}: batch_squared_distances"
    );
    assert_eq!(first_thread_dependence(axpy), None, "{name}: axpy");
}
