//! Byzantine attacks on robust aggregation: functions that build the vectors sent by `f`
//! Byzantine workers from the honest gradients, and label corruption at the data level.
//!
//! # Conventions
//!
//! - Honest gradients are given as `&[&[F]]`, one slice per honest worker, all of the same
//!   length; `F` is `f32` or `f64`. An empty list or slices of different lengths are errors.
//! - Every attack returns `f` vectors (`Vec<Vec<F>>`), which the caller appends to the honest
//!   gradients. Deterministic attacks return `f` copies of one vector.
//! - Statistics of the honest gradients: [`honest_mean`] divides each term by the count
//!   before summing, and [`honest_std`] is the coordinate-wise sample standard deviation
//!   (divisor `n - 1`, and zero for a single gradient). Both are computed in `f64`.
//! - The "optimal" attacks ([`optimal_attack`] and its wrappers) search the attack's scale to
//!   maximise `||aggregate - honest mean||` for an aggregator given as a closure, which
//!   receives the honest gradients followed by the `f` Byzantine vectors.
//!
//! # Examples
//!
//! ```
//! use median_noise::byzantine::{alie, alie_z_max, sign_flip};
//!
//! let honest: Vec<Vec<f64>> = vec![vec![1.0, 2.0], vec![3.0, 2.0], vec![2.0, 5.0]];
//! let refs: Vec<&[f64]> = honest.iter().map(Vec::as_slice).collect();
//! let flipped = sign_flip(&refs, 2, 1.0)?;
//! assert_eq!(flipped, vec![vec![-2.0, -3.0]; 2]);
//!
//! let z = alie_z_max(5, 2)?;
//! let shifted = alie(&refs, 2, z)?;
//! assert_eq!(shifted.len(), 2);
//! # Ok::<(), median_noise::byzantine::ByzantineError>(())
//! ```

use median_linalg::{Scalar, kernels};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use thiserror::Error;

/// An error from an attack: its inputs or parameters define no attack.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ByzantineError {
    /// No honest gradient was given, so no statistic of them is defined.
    #[error("no honest gradients: at least one is required")]
    NoHonestGradients,

    /// An honest gradient's length differs from the first one's.
    #[error("honest gradient {index} has length {found}, but gradient 0 has length {expected}")]
    RaggedGradients {
        /// The first gradient whose length differs.
        index: usize,
        /// The length of gradient 0.
        expected: usize,
        /// The length of gradient `index`.
        found: usize,
    },

    /// A parameter is outside its valid range.
    #[error("invalid parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// The parameter's name as the API spells it.
        name: &'static str,
        /// The rejected value, as `f64`.
        value: f64,
        /// The valid range.
        expected: &'static str,
    },

    /// An index (of a worker or a sample) is out of range.
    #[error("{what} index {index} is out of range for length {len}")]
    IndexOutOfRange {
        /// The kind of item indexed, such as `"worker"` or `"sample"`.
        what: &'static str,
        /// The rejected index.
        index: usize,
        /// The length it must be below.
        len: usize,
    },

    /// A label is not below the number of classes.
    #[error("label {label} of sample {index} is not below the number of classes {num_classes}")]
    LabelOutOfRange {
        /// The sample holding the label.
        index: usize,
        /// The label.
        label: usize,
        /// The number of classes.
        num_classes: usize,
    },

    /// A label permutation is not a permutation of `0..num_classes`.
    #[error("the label map is not a permutation: {reason}")]
    InvalidPermutation {
        /// The problem, naming the offending entry.
        reason: String,
    },

    /// The aggregator failed at every scale the search tried.
    #[error("the aggregator returned an error at each of the {tried} scales tried")]
    NoFeasibleScale {
        /// The number of scales tried.
        tried: usize,
    },
}

/// Checks the honest gradients and returns their common length.
fn check_honest<F: Scalar>(honest: &[&[F]]) -> Result<usize, ByzantineError> {
    let first = honest.first().ok_or(ByzantineError::NoHonestGradients)?;
    let dim = first.len();
    if let Some((index, g)) = honest.iter().enumerate().find(|(_, g)| g.len() != dim) {
        return Err(ByzantineError::RaggedGradients {
            index,
            expected: dim,
            found: g.len(),
        });
    }
    Ok(dim)
}

/// Rejects a NaN or infinite parameter.
fn check_finite_parameter(name: &'static str, value: f64) -> Result<(), ByzantineError> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(ByzantineError::InvalidParameter {
            name,
            value,
            expected: "must be finite",
        })
    }
}

/// Returns the coordinate-wise mean of the honest gradients.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`] and [`ByzantineError::RaggedGradients`].
pub fn honest_mean<F: Scalar>(honest: &[&[F]]) -> Result<Vec<F>, ByzantineError> {
    Ok(mean_f64(honest)?.into_iter().map(F::of_f64).collect())
}

/// Returns the coordinate-wise sample standard deviation of the honest gradients (divisor
/// `n - 1`; zero when there is one gradient).
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`] and [`ByzantineError::RaggedGradients`].
pub fn honest_std<F: Scalar>(honest: &[&[F]]) -> Result<Vec<F>, ByzantineError> {
    Ok(std_f64(honest)?.into_iter().map(F::of_f64).collect())
}

/// Returns the mean in `f64`, dividing each term by the count first.
fn mean_f64<F: Scalar>(honest: &[&[F]]) -> Result<Vec<f64>, ByzantineError> {
    let dim = check_honest(honest)?;
    let n = honest.len() as f64;
    let mut mean = vec![0.0; dim];
    for g in honest {
        for (m, &x) in mean.iter_mut().zip(g.iter()) {
            *m += x.into_f64() / n;
        }
    }
    Ok(mean)
}

/// Returns the sample standard deviation in `f64`, from the two-pass formula.
fn std_f64<F: Scalar>(honest: &[&[F]]) -> Result<Vec<f64>, ByzantineError> {
    let mean = mean_f64(honest)?;
    let n = honest.len();
    if n == 1 {
        return Ok(vec![0.0; mean.len()]);
    }
    let mut variance = vec![0.0; mean.len()];
    for g in honest {
        for k in 0..mean.len() {
            let deviation = g[k].into_f64() - mean[k];
            variance[k] += deviation * deviation / (n - 1) as f64;
        }
    }
    Ok(variance.into_iter().map(f64::sqrt).collect())
}

/// Returns `f` copies of `vector`.
fn copies<F: Scalar>(vector: Vec<F>, f: usize) -> Vec<Vec<F>> {
    vec![vector; f]
}

/// Sign flipping: every Byzantine worker sends `-scale * mean`.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`], [`ByzantineError::RaggedGradients`], and
/// [`ByzantineError::InvalidParameter`] if `scale` is not finite.
///
/// # References
///
/// C. Xie, O. Koyejo, I. Gupta, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner
/// Product Manipulation", UAI 2020 (sign flipping is the case of a large scale).
pub fn sign_flip<F: Scalar>(
    honest: &[&[F]],
    f: usize,
    scale: f64,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    check_finite_parameter("scale", scale)?;
    let mean = mean_f64(honest)?;
    Ok(copies(
        mean.iter().map(|&m| F::of_f64(-scale * m)).collect(),
        f,
    ))
}

/// Inner-product manipulation (IPM): every Byzantine worker sends `-epsilon * mean`.
///
/// A small `epsilon` (0.1 in the paper) keeps the vector close to the honest ones, so
/// distance-based rules accept it, while a large enough `epsilon` makes the inner product
/// of the aggregate with the true gradient negative.
///
/// # Errors
///
/// As [`sign_flip`], for `epsilon`.
///
/// # References
///
/// C. Xie, O. Koyejo, I. Gupta, "Fall of Empires: Breaking Byzantine-tolerant SGD by Inner
/// Product Manipulation", UAI 2020.
pub fn inner_product_manipulation<F: Scalar>(
    honest: &[&[F]],
    f: usize,
    epsilon: f64,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    check_finite_parameter("epsilon", epsilon)?;
    let mean = mean_f64(honest)?;
    Ok(copies(
        mean.iter().map(|&m| F::of_f64(-epsilon * m)).collect(),
        f,
    ))
}

/// Builds the a-little-is-enough (ALIE) attack: every Byzantine worker sends
/// `mean + z * std`, coordinate-wise.
///
/// `std` is the sample standard deviation of [`honest_std`]. [`alie_z_max`] gives the
/// paper's choice of `z`.
///
/// # Errors
///
/// As [`sign_flip`], for `z`.
///
/// # References
///
/// M. Baruch, G. Baruch, Y. Goldberg, "A Little Is Enough: Circumventing Defenses For
/// Distributed Learning", NeurIPS 2019.
pub fn alie<F: Scalar>(honest: &[&[F]], f: usize, z: f64) -> Result<Vec<Vec<F>>, ByzantineError> {
    check_finite_parameter("z", z)?;
    let mean = mean_f64(honest)?;
    let std = std_f64(honest)?;
    let vector = mean
        .iter()
        .zip(&std)
        .map(|(&m, &s)| F::of_f64(m + z * s))
        .collect();
    Ok(copies(vector, f))
}

/// Returns ALIE's `z_max` for `n` workers of which `f` are Byzantine.
///
/// With `s = floor(n/2 + 1) - f`, the number of honest workers the attacker needs on its
/// side for a majority, `z_max = Phi^-1((n - s) / n)`, where `Phi` is the standard normal
/// distribution function (see [`normal_quantile`]).
///
/// # Errors
///
/// [`ByzantineError::InvalidParameter`] if `(n - s) / n` is not strictly between 0 and 1,
/// that is, unless `1 <= s <= n - 1`.
///
/// # References
///
/// M. Baruch, G. Baruch, Y. Goldberg, "A Little Is Enough: Circumventing Defenses For
/// Distributed Learning", NeurIPS 2019.
pub fn alie_z_max(n: usize, f: usize) -> Result<f64, ByzantineError> {
    let s = (n / 2 + 1) as i64 - f as i64;
    if s < 1 || s > n as i64 - 1 {
        return Err(ByzantineError::InvalidParameter {
            name: "f",
            value: f as f64,
            expected: "ALIE needs 1 <= floor(n/2 + 1) - f <= n - 1",
        });
    }
    normal_quantile((n as f64 - s as f64) / n as f64)
}

/// Returns the standard normal distribution function `Phi(x) = P(Z <= x)`.
///
/// Computed from the complementary error function: a series with positive terms for
/// `|x| / sqrt(2) < 2.5`, and a continued fraction beyond, so that both tails keep their
/// relative precision. NaN gives NaN.
pub fn normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let t = x.abs() / std::f64::consts::SQRT_2;
    let tail = 0.5 * erfc_non_negative(t);
    if x < 0.0 { tail } else { 1.0 - tail }
}

/// Returns `erfc(t)` for `t >= 0`.
fn erfc_non_negative(t: f64) -> f64 {
    let inv_sqrt_pi = 1.0 / std::f64::consts::PI.sqrt();
    if t < 2.5 {
        // erf(t) = (2 / sqrt(pi)) exp(-t^2) sum_k 2^k t^(2k+1) / (1 * 3 * ... * (2k+1)).
        let mut term = t;
        let mut sum = t;
        let mut k = 0.0;
        while term > 1e-17 * sum {
            k += 1.0;
            term *= 2.0 * t * t / (2.0 * k + 1.0);
            sum += term;
        }
        return 1.0 - 2.0 * inv_sqrt_pi * (-t * t).exp() * sum;
    }
    // erfc(t) = exp(-t^2) / sqrt(pi) / (t + (1/2) / (t + (2/2) / (t + (3/2) / ...))),
    // evaluated from the 100th level inwards.
    let mut denominator = t;
    for k in (1..=100).rev() {
        denominator = t + (k as f64 / 2.0) / denominator;
    }
    (-t * t).exp() * inv_sqrt_pi / denominator
}

/// Returns the standard normal quantile `Phi^-1(p)` for `0 < p < 1`.
///
/// Bisection on [`normal_cdf`] over `[-40, 0]` for `p < 1/2`, to the last bit, and
/// `Phi^-1(p) = -Phi^-1(1 - p)` above. The result agrees with Wichura's AS 241 to about
/// `1e-14` relative for `p` in `[1e-300, 1 - 1e-16]`.
///
/// # Errors
///
/// [`ByzantineError::InvalidParameter`] unless `0 < p < 1`.
pub fn normal_quantile(p: f64) -> Result<f64, ByzantineError> {
    if !(p > 0.0 && p < 1.0) {
        return Err(ByzantineError::InvalidParameter {
            name: "p",
            value: p,
            expected: "a probability strictly between 0 and 1",
        });
    }
    // Phi(x) rounds to 1/2 for |x| below about 1e-16, so the bisection alone would stop
    // at a tiny non-zero value.
    if p == 0.5 {
        return Ok(0.0);
    }
    if p > 0.5 {
        return Ok(-lower_quantile(1.0 - p));
    }
    Ok(lower_quantile(p))
}

/// Returns `Phi^-1(p)` for `0 < p <= 1/2` by bisection.
fn lower_quantile(p: f64) -> f64 {
    let (mut low, mut high) = (-40.0_f64, 0.0_f64);
    loop {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            return if p - normal_cdf(low) < normal_cdf(high) - p {
                low
            } else {
                high
            };
        }
        if normal_cdf(mid) < p {
            low = mid;
        } else {
            high = mid;
        }
    }
}

/// Gaussian attack: every Byzantine worker sends an independent draw of
/// `N(mean, std_dev^2 I)`.
///
/// Draws come from `rng` (seed it for reproducible runs), `std_dev^2` is the variance of
/// every coordinate, and the honest gradients only fix the dimension.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`], [`ByzantineError::RaggedGradients`], and
/// [`ByzantineError::InvalidParameter`] if `mean` is not finite or `std_dev` is negative or
/// not finite.
pub fn gaussian<F: Scalar, R: Rng + ?Sized>(
    honest: &[&[F]],
    f: usize,
    mean: f64,
    std_dev: f64,
    rng: &mut R,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    let dim = check_honest(honest)?;
    check_finite_parameter("mean", mean)?;
    if !(std_dev.is_finite() && std_dev >= 0.0) {
        return Err(ByzantineError::InvalidParameter {
            name: "std_dev",
            value: std_dev,
            expected: "the standard deviation must be finite and >= 0",
        });
    }
    Ok((0..f)
        .map(|_| {
            (0..dim)
                .map(|_| {
                    let z: f64 = rng.sample(StandardNormal);
                    F::of_f64(mean + std_dev * z)
                })
                .collect()
        })
        .collect())
}

/// Constant attack: every Byzantine worker sends a vector with every entry `value`.
///
/// `value` may be anything, on purpose: `F::infinity()`, `F::nan()` and huge values such as
/// `1e300` test an aggregator's handling of non-finite and overflowing inputs.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`] and [`ByzantineError::RaggedGradients`].
pub fn constant<F: Scalar>(
    honest: &[&[F]],
    f: usize,
    value: F,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    let dim = check_honest(honest)?;
    Ok(copies(vec![value; dim], f))
}

/// Large-norm attack: every Byzantine worker sends a vector of length `norm` pointing away
/// from the honest mean, `-norm * mean / ||mean||`.
///
/// When the honest mean is zero, the direction is `(1, ..., 1) / sqrt(d)`.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`], [`ByzantineError::RaggedGradients`], and
/// [`ByzantineError::InvalidParameter`] if `norm` is negative or NaN. `+inf` is allowed: it
/// gives infinite entries where the mean is non-zero, and zeros elsewhere.
pub fn large_norm<F: Scalar>(
    honest: &[&[F]],
    f: usize,
    norm: f64,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    let mean = mean_f64(honest)?;
    if norm.is_nan() || norm < 0.0 {
        return Err(ByzantineError::InvalidParameter {
            name: "norm",
            value: norm,
            expected: "the norm must be >= 0",
        });
    }
    let length = kernels::norm(&mean);
    let vector = if length > 0.0 {
        // A zero coordinate stays zero, also for an infinite norm (where inf * 0 is NaN).
        mean.iter()
            .map(|&m| {
                if m == 0.0 {
                    F::zero()
                } else {
                    F::of_f64(-norm * (m / length))
                }
            })
            .collect()
    } else {
        let entry = norm / (mean.len().max(1) as f64).sqrt();
        vec![F::of_f64(entry); mean.len()]
    };
    Ok(copies(vector, f))
}

/// The honest worker that the mimic attack copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MimicTarget {
    /// The worker at this index.
    Index(usize),
    /// The worker chosen by [`max_variance_worker`].
    MaxVariance,
}

/// Mimic: every Byzantine worker sends a copy of one honest worker's gradient, which
/// over-weights that worker without ever looking like an outlier.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`], [`ByzantineError::RaggedGradients`], and
/// [`ByzantineError::IndexOutOfRange`] for a target index past the honest workers.
///
/// # References
///
/// S. P. Karimireddy, L. He, M. Jaggi, "Byzantine-Robust Learning on Heterogeneous Datasets
/// via Bucketing", ICLR 2022.
pub fn mimic<F: Scalar>(
    honest: &[&[F]],
    f: usize,
    target: MimicTarget,
) -> Result<Vec<Vec<F>>, ByzantineError> {
    check_honest(honest)?;
    let index = match target {
        MimicTarget::Index(index) => index,
        MimicTarget::MaxVariance => max_variance_worker(honest)?,
    };
    let chosen = honest.get(index).ok_or(ByzantineError::IndexOutOfRange {
        what: "worker",
        index,
        len: honest.len(),
    })?;
    Ok(copies(chosen.to_vec(), f))
}

/// Returns the honest worker with the largest projection on the top principal direction of
/// the honest gradients, the heuristic of Karimireddy, He and Jaggi (2022) for the mimic
/// attack.
///
/// Let `C` have the centred gradients `c_i = g_i - mean` as rows. The top eigenvector `u`
/// of the `n x n` Gram matrix `C C^T` gives the projections `C v = sqrt(lambda) u` on the
/// top eigenvector `v` of the covariance. The worker maximising `|u_i|` is returned, with
/// ties to the lowest index. `u` comes from 500 steps of power iteration (fewer once the Rayleigh
/// quotient settles to a relative `1e-12`), started from the Gram column with the largest
/// diagonal. Identical gradients give worker 0.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`] and [`ByzantineError::RaggedGradients`].
pub fn max_variance_worker<F: Scalar>(honest: &[&[F]]) -> Result<usize, ByzantineError> {
    let mean = mean_f64(honest)?;
    let n = honest.len();
    let centred: Vec<Vec<f64>> = honest
        .iter()
        .map(|g| {
            g.iter()
                .zip(&mean)
                .map(|(&x, &m)| x.into_f64() - m)
                .collect()
        })
        .collect();
    let mut gram = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let value = kernels::dot(&centred[i], &centred[j]);
            gram[i * n + j] = value;
            gram[j * n + i] = value;
        }
    }

    let start = (0..n).fold(0, |best, k| {
        if gram[k * n + k] > gram[best * n + best] {
            k
        } else {
            best
        }
    });
    let top = gram[start * n + start];
    if top.is_nan() || top <= 0.0 {
        return Ok(0);
    }
    let mut u: Vec<f64> = (0..n).map(|k| gram[k * n + start]).collect();
    let mut lambda = 0.0;
    for _ in 0..500 {
        let length = kernels::norm(&u);
        u.iter_mut().for_each(|x| *x /= length);
        let next: Vec<f64> = (0..n)
            .map(|r| (0..n).map(|c| gram[r * n + c] * u[c]).sum())
            .collect();
        let rayleigh: f64 = next.iter().zip(&u).map(|(a, b)| a * b).sum();
        let settled = (rayleigh - lambda).abs() <= 1e-12 * rayleigh.abs();
        lambda = rayleigh;
        u = next;
        if settled {
            break;
        }
    }
    Ok((0..n).fold(
        0,
        |best, k| if u[k].abs() > u[best].abs() { k } else { best },
    ))
}

/// The outcome of a search over an attack's scale.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimalAttack<F> {
    /// The scale with the largest distance found.
    pub scale: f64,
    /// The Byzantine vectors at that scale.
    pub vectors: Vec<Vec<F>>,
    /// `||aggregate - honest mean||` at that scale.
    pub distance: f64,
    /// The number of scales evaluated.
    pub evaluations: usize,
    /// The number of scales at which the attack or the aggregator returned an error.
    pub failures: usize,
}

/// Searches the scale of an attack to maximise `||aggregate - honest mean||`.
///
/// Each grid scale `s` is evaluated: `attack(s)` builds the Byzantine vectors, and
/// `aggregate` receives the honest gradients followed by them. Then, if
/// `golden_iterations > 0`, a golden-section search refines the scale between the grid
/// neighbours of the best grid point. The result is the best scale seen, so the refinement
/// never makes it worse. Where the distance is not unimodal, the refinement finds only a
/// local maximum. Scales where the attack or the aggregator fails, or the distance is NaN,
/// are counted in [`OptimalAttack::failures`] and skipped.
///
/// # Errors
///
/// [`ByzantineError::NoHonestGradients`], [`ByzantineError::RaggedGradients`],
/// [`ByzantineError::InvalidParameter`] for an empty grid or a non-finite grid value, and
/// [`ByzantineError::NoFeasibleScale`] if every scale fails.
pub fn optimal_attack<F, E, A, G>(
    honest: &[&[F]],
    grid: &[f64],
    golden_iterations: usize,
    mut attack: A,
    mut aggregate: G,
) -> Result<OptimalAttack<F>, ByzantineError>
where
    F: Scalar,
    A: FnMut(f64) -> Result<Vec<Vec<F>>, ByzantineError>,
    G: FnMut(&[&[F]]) -> Result<Vec<F>, E>,
{
    let mean = mean_f64(honest)?;
    if let Some(&bad) = grid.iter().find(|s| !s.is_finite()) {
        return Err(ByzantineError::InvalidParameter {
            name: "grid",
            value: bad,
            expected: "every scale must be finite",
        });
    }
    if grid.is_empty() {
        return Err(ByzantineError::InvalidParameter {
            name: "grid",
            value: 0.0,
            expected: "the grid needs at least one scale",
        });
    }

    let mut search = ScaleSearch {
        best: None,
        evaluations: 0,
        failures: 0,
    };
    let mut evaluate = |scale: f64, search: &mut ScaleSearch<F>| -> f64 {
        search.evaluations += 1;
        let distance = attack(scale).ok().and_then(|vectors| {
            let mut inputs: Vec<&[F]> = honest.to_vec();
            inputs.extend(vectors.iter().map(Vec::as_slice));
            let output = aggregate(&inputs).ok()?;
            let distance = distance_f64(&output, &mean)?;
            Some((distance, vectors))
        });
        match distance {
            Some((distance, vectors)) => {
                if search
                    .best
                    .as_ref()
                    .is_none_or(|best| distance > best.distance)
                {
                    search.best = Some(Candidate {
                        scale,
                        vectors,
                        distance,
                    });
                }
                distance
            }
            None => {
                search.failures += 1;
                f64::NEG_INFINITY
            }
        }
    };

    let values: Vec<f64> = grid.iter().map(|&s| evaluate(s, &mut search)).collect();
    if golden_iterations > 0 && grid.len() > 1 {
        let best = (0..grid.len()).fold(0, |b, k| if values[k] > values[b] { k } else { b });
        let low = grid[best.saturating_sub(1)];
        let high = grid[(best + 1).min(grid.len() - 1)];
        golden_section(low.min(high), low.max(high), golden_iterations, |s| {
            evaluate(s, &mut search)
        });
    }

    let best = search.best.ok_or(ByzantineError::NoFeasibleScale {
        tried: search.evaluations,
    })?;
    Ok(OptimalAttack {
        scale: best.scale,
        vectors: best.vectors,
        distance: best.distance,
        evaluations: search.evaluations,
        failures: search.failures,
    })
}

/// The best scale found so far by [`optimal_attack`].
struct ScaleSearch<F> {
    best: Option<Candidate<F>>,
    evaluations: usize,
    failures: usize,
}

/// A scale, its vectors and the distance they cause.
struct Candidate<F> {
    scale: f64,
    vectors: Vec<Vec<F>>,
    distance: f64,
}

/// Returns `||output - mean||` in `f64`, or `None` for a wrong length or a NaN distance.
fn distance_f64<F: Scalar>(output: &[F], mean: &[f64]) -> Option<f64> {
    if output.len() != mean.len() {
        return None;
    }
    let difference: Vec<f64> = output
        .iter()
        .zip(mean)
        .map(|(&o, &m)| o.into_f64() - m)
        .collect();
    let distance = kernels::norm(&difference);
    (!distance.is_nan()).then_some(distance)
}

/// Runs `iterations` steps of golden-section search for a maximum of `objective` on
/// `[low, high]`.
fn golden_section(
    mut low: f64,
    mut high: f64,
    iterations: usize,
    mut objective: impl FnMut(f64) -> f64,
) {
    let ratio = (5.0_f64.sqrt() - 1.0) / 2.0;
    let mut left = high - ratio * (high - low);
    let mut right = low + ratio * (high - low);
    let mut left_value = objective(left);
    let mut right_value = objective(right);
    for _ in 1..iterations {
        if left_value >= right_value {
            high = right;
            right = left;
            right_value = left_value;
            left = high - ratio * (high - low);
            left_value = objective(left);
        } else {
            low = left;
            left = right;
            left_value = right_value;
            right = low + ratio * (high - low);
            right_value = objective(right);
        }
    }
}

/// Sign flipping with the scale chosen by [`optimal_attack`] over `grid`.
///
/// # Errors
///
/// As [`optimal_attack`].
pub fn optimal_sign_flip<F, E, G>(
    honest: &[&[F]],
    f: usize,
    grid: &[f64],
    golden_iterations: usize,
    aggregate: G,
) -> Result<OptimalAttack<F>, ByzantineError>
where
    F: Scalar,
    G: FnMut(&[&[F]]) -> Result<Vec<F>, E>,
{
    optimal_attack(
        honest,
        grid,
        golden_iterations,
        |s| sign_flip(honest, f, s),
        aggregate,
    )
}

/// Inner-product manipulation with `epsilon` chosen by [`optimal_attack`] over `grid`.
///
/// # Errors
///
/// As [`optimal_attack`].
pub fn optimal_inner_product_manipulation<F, E, G>(
    honest: &[&[F]],
    f: usize,
    grid: &[f64],
    golden_iterations: usize,
    aggregate: G,
) -> Result<OptimalAttack<F>, ByzantineError>
where
    F: Scalar,
    G: FnMut(&[&[F]]) -> Result<Vec<F>, E>,
{
    optimal_attack(
        honest,
        grid,
        golden_iterations,
        |s| inner_product_manipulation(honest, f, s),
        aggregate,
    )
}

/// Builds the ALIE attack with `z` chosen by [`optimal_attack`] over `grid`.
///
/// # Errors
///
/// As [`optimal_attack`].
pub fn optimal_alie<F, E, G>(
    honest: &[&[F]],
    f: usize,
    grid: &[f64],
    golden_iterations: usize,
    aggregate: G,
) -> Result<OptimalAttack<F>, ByzantineError>
where
    F: Scalar,
    G: FnMut(&[&[F]]) -> Result<Vec<F>, E>,
{
    optimal_attack(
        honest,
        grid,
        golden_iterations,
        |z| alie(honest, f, z),
        aggregate,
    )
}

/// Label flipping: maps the label `y` of each sample in `subset` to `num_classes - 1 - y`.
///
/// Everything is checked before any label changes. A sample listed twice is flipped twice,
/// which restores its label.
///
/// # Errors
///
/// [`ByzantineError::InvalidParameter`] if `num_classes` is zero,
/// [`ByzantineError::IndexOutOfRange`] for a sample index past `labels`, and
/// [`ByzantineError::LabelOutOfRange`] for a label `>= num_classes`.
pub fn flip_labels(
    labels: &mut [usize],
    num_classes: usize,
    subset: &[usize],
) -> Result<(), ByzantineError> {
    if num_classes == 0 {
        return Err(ByzantineError::InvalidParameter {
            name: "num_classes",
            value: 0.0,
            expected: "at least one class is required",
        });
    }
    check_samples(labels, num_classes, subset)?;
    for &index in subset {
        labels[index] = num_classes - 1 - labels[index];
    }
    Ok(())
}

/// Label permutation: maps the label `y` of each sample in `subset` to `permutation[y]`.
///
/// `permutation` must be a permutation of `0..permutation.len()`, and its length is the
/// number of classes. Everything is checked before any label changes.
///
/// # Errors
///
/// [`ByzantineError::InvalidPermutation`] if `permutation` repeats or skips a class,
/// [`ByzantineError::IndexOutOfRange`] for a sample index past `labels`, and
/// [`ByzantineError::LabelOutOfRange`] for a label `>= permutation.len()`.
pub fn permute_labels(
    labels: &mut [usize],
    permutation: &[usize],
    subset: &[usize],
) -> Result<(), ByzantineError> {
    let num_classes = permutation.len();
    let mut seen = vec![false; num_classes];
    for (class, &image) in permutation.iter().enumerate() {
        if image >= num_classes || seen[image] {
            return Err(ByzantineError::InvalidPermutation {
                reason: format!(
                    "class {class} maps to {image}, which is out of range or already taken"
                ),
            });
        }
        seen[image] = true;
    }
    check_samples(labels, num_classes, subset)?;
    for &index in subset {
        labels[index] = permutation[labels[index]];
    }
    Ok(())
}

/// Checks that every index of `subset` is a sample and that its label is a class.
fn check_samples(
    labels: &[usize],
    num_classes: usize,
    subset: &[usize],
) -> Result<(), ByzantineError> {
    for &index in subset {
        let label = *labels.get(index).ok_or(ByzantineError::IndexOutOfRange {
            what: "sample",
            index,
            len: labels.len(),
        })?;
        if label >= num_classes {
            return Err(ByzantineError::LabelOutOfRange {
                index,
                label,
                num_classes,
            });
        }
    }
    Ok(())
}
