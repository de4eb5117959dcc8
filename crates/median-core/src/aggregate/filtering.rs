//! Spectral filtering: remove the inputs that stretch the empirical covariance the most.

use median_linalg::{Backend, Scalar};
use num_traits::{Float, Zero};

use super::Aggregator;
use super::pairwise::{check_admissible, check_batch, mean_of, pairwise_squared_distances};
use crate::Error;

/// The largest number of power iterations per eigenvalue estimate.
const POWER_ITERATIONS: usize = 200;

/// Spectral filtering: a deterministic hard-removal variant of the iterative filter of
/// Diakonikolas et al.
///
/// The rule keeps an active set `A`, initially every input, and returns the mean of `A`:
///
/// 1. Inputs that are infinitely far (NaN, an infinity, or a squared distance that
///    overflows, as for [`Krum`](super::Krum)) are removed first, and each removal counts
///    against the budget of `f` removals.
/// 2. While fewer than `f` inputs have been removed: centre the active inputs on their mean,
///    form their `|A| x |A|` Gram matrix `G` with [`Backend::batch_gram`], and estimate its
///    top eigenpair `(lambda, u)` by power iteration. `lambda / |A|` is the top eigenvalue
///    of the empirical covariance, and input `i` projects onto the top principal direction
///    with magnitude `sqrt(lambda) |u_i|`. If `lambda / |A| <= variance_bound`, stop;
///    otherwise remove the input with the largest `|u_i|` (ties to the lowest index).
///
/// The power iteration starts from the column of `G` with the largest diagonal entry, which
/// is non-zero unless `G` is, and stops after 200 steps or when the Rayleigh quotient changes
/// by less than a relative `1e-12`. The default `variance_bound` of zero removes exactly `f`
/// inputs unless the active inputs become identical.
///
/// - **Admissible counts:** `n > 2f`.
/// - **Parameters:** `variance_bound >= 0`, the largest top eigenvalue of the covariance
///   expected of honest inputs, for example `sigma^2` times a margin for inputs with
///   covariance `sigma^2 I`. A bound of `+inf` disables the spectral step.
/// - **Breakdown point:** `f` arbitrary inputs with `n > 2f`; how far the outliers can move
///   the mean depends on `variance_bound` and on the honest covariance.
/// - **Cost:** `f` rounds, each `O(n^2 d)` for the Gram matrix and `O(200 n^2)` for the
///   power iteration.
/// - **Non-finite inputs:** removed first (step 1). With more than `f` of them, the mean of
///   the remaining inputs includes one, which is [`Error::NonFinite`].
///
/// # Examples
///
/// ```
/// use median_core::aggregate::SpectralFilter;
/// use median_core::batch::aggregate_gradients;
///
/// let gradients: [&[f64]; 5] = [&[1.0, 0.0], &[-1.0, 0.0], &[0.0, 1.0], &[0.0, -1.0], &[40.0, 40.0]];
/// let out = aggregate_gradients(&mut SpectralFilter::new(1), &gradients)?;
/// assert_eq!(out, vec![0.0, 0.0]);
/// # Ok::<(), median_core::Error>(())
/// ```
///
/// # References
///
/// I. Diakonikolas, G. Kamath, D. Kane, J. Li, A. Moitra, A. Stewart, "Robust Estimators in
/// High Dimensions without the Computational Intractability", FOCS 2016 (the filter);
/// I. Diakonikolas, G. Kamath, D. Kane, J. Li, J. Steinhardt, A. Stewart, "Sever: A Robust
/// Meta-Algorithm for Stochastic Optimization", ICML 2019 (its use on gradients).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpectralFilter {
    f: usize,
    variance_bound: f64,
}

impl SpectralFilter {
    /// Creates the filter tolerating `f` Byzantine inputs, with a variance bound of zero.
    pub fn new(f: usize) -> Self {
        Self {
            f,
            variance_bound: 0.0,
        }
    }

    /// Sets the variance bound below which filtering stops.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] if `bound` is negative or NaN.
    pub fn with_variance_bound(mut self, bound: f64) -> Result<Self, Error> {
        if bound.is_nan() || bound < 0.0 {
            return Err(Error::InvalidParameter {
                name: "variance_bound",
                value: bound,
                expected: "the variance bound must be >= 0 (+inf allowed)",
            });
        }
        self.variance_bound = bound;
        Ok(self)
    }
}

impl<B: Backend> Aggregator<B> for SpectralFilter {
    fn name(&self) -> String {
        "spectral-filter".to_string()
    }

    /// Filters the batch and writes the mean of the remaining inputs into `out`.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyBatch`], [`Error::DimensionMismatch`] for a wrong output length,
    /// [`Error::InadmissibleByzantineCount`] unless `n > 2f`, and [`Error::NonFinite`] if a
    /// remaining input is not finite.
    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        let (n, d) = check_batch::<B>(batch, out.len())?;
        check_admissible("spectral filter", "n > 2f", n, self.f, n > 2 * self.f)?;

        // Step 1: far inputs go first, within the budget.
        let far = pairwise_squared_distances::<B>(batch)?.far;
        let mut active: Vec<usize> = (0..n).collect();
        let mut removed = 0;
        for i in 0..n {
            if far[i] && removed < self.f {
                active.retain(|&j| j != i);
                removed += 1;
            }
        }
        if active.iter().any(|&i| far[i]) {
            return mean_of::<B>(batch, &active, out);
        }

        // Step 2: spectral removals.
        while removed < self.f {
            let Some(worst) = largest_projection::<B>(batch, &active, d, self.variance_bound)?
            else {
                break;
            };
            active.remove(worst);
            removed += 1;
        }
        mean_of::<B>(batch, &active, out)
    }
}

/// Returns the position in `active` of the input with the largest projection on the top
/// principal direction, or `None` if the top covariance eigenvalue is within the bound.
fn largest_projection<B: Backend>(
    batch: &B::Batch,
    active: &[usize],
    d: usize,
    variance_bound: f64,
) -> Result<Option<usize>, Error> {
    let m = active.len();
    let mut mean = vec![B::Scalar::zero(); d];
    mean_of::<B>(batch, active, &mut mean)?;
    let mut rows = Vec::with_capacity(m * d);
    for &i in active {
        rows.extend(
            B::batch_gradient(batch, i)
                .iter()
                .zip(&mean)
                .map(|(&x, &c)| x - c),
        );
    }
    let centred = B::batch_from_rows(&rows, m, d)?;
    let mut gram = vec![B::Scalar::zero(); m * m];
    B::batch_gram(&centred, &mut gram)?;

    let (lambda, u) = top_eigenpair(&gram, m);
    // NOTE: the bound is compared in f64, so that an f32 batch and its f64 copy filter alike.
    let variance = lambda.into_f64() / m as f64;
    if variance.is_nan() || variance <= variance_bound {
        return Ok(None);
    }
    let mut worst = 0;
    for k in 1..m {
        if u[k].abs() > u[worst].abs() {
            worst = k;
        }
    }
    Ok(Some(worst))
}

/// Returns the top eigenvalue and a unit eigenvector of the symmetric positive
/// semi-definite `m x m` matrix `a`, by power iteration.
fn top_eigenpair<S: Scalar>(a: &[S], m: usize) -> (S, Vec<S>) {
    let mut start = 0;
    for k in 1..m {
        if a[k * m + k] > a[start * m + start] {
            start = k;
        }
    }
    let top = a[start * m + start];
    if top.is_nan() || top <= S::zero() {
        return (S::zero(), vec![S::zero(); m]);
    }

    let mut u: Vec<S> = (0..m).map(|k| a[k * m + start]).collect();
    normalise(&mut u);
    let mut lambda = S::zero();
    let mut next = vec![S::zero(); m];
    for _ in 0..POWER_ITERATIONS {
        for r in 0..m {
            next[r] = (0..m).map(|c| a[r * m + c] * u[c]).sum();
        }
        let rayleigh: S = (0..m).map(|r| next[r] * u[r]).sum();
        let converged = (rayleigh - lambda).abs() <= S::of_f64(1e-12) * rayleigh.abs();
        lambda = rayleigh;
        std::mem::swap(&mut u, &mut next);
        if !normalise(&mut u) || converged {
            break;
        }
    }
    (lambda, u)
}

/// Scales `u` to unit norm; returns `false` (leaving `u` unchanged) if its norm is zero.
fn normalise<S: Scalar>(u: &mut [S]) -> bool {
    let norm = median_linalg::kernels::norm(u);
    if norm.is_nan() || norm <= S::zero() {
        return false;
    }
    for x in u.iter_mut() {
        *x = *x / norm;
    }
    true
}
