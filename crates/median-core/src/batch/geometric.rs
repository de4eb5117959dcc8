//! The geometric median: Weiszfeld's algorithm with the Vardi-Zhang modification, and
//! stochastic proximal point (SPP) sweeps.

use median_linalg::{Backend, Scalar, kernels};
use num_traits::{Float, Zero};

use super::columns::first_non_finite;
use super::median::CoordinateMedian;
use super::{check_batch_and_output, check_weight_count, validate_weights};
use crate::Error;
use crate::aggregate::Aggregator;
use crate::scale::{scale_exponent, scaled_batch, times_power_of_two};

/// The algorithm a [`GeometricMedian`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum GeometricMedianSolver {
    /// Weiszfeld's fixed-point iteration `m <- sum_i c_i g_i / sum_i c_i` with
    /// `c_i = w_i / ||m - g_i||`, modified by Vardi and Zhang when `m` is a data point.
    /// Linear convergence in practice; the default.
    #[default]
    Weiszfeld,
    /// Sweeps of stochastic proximal point steps over the gradients in batch order: in
    /// sweep `k` (from 0), `m <- m + clip_t(g_i - m)` for each gradient `i`, with
    /// `t = tau_k n w_i / sum_j w_j` and `tau_k = tau_0 / (k + 1)`. Converges sublinearly,
    /// so it rarely meets a tight tolerance. It is the batch form of the online
    /// geometric-median tracker.
    SppSweeps,
}

/// The start point of the iteration.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum StartPoint<S> {
    /// [`Reduced`](Self::Reduced) for batches of at most [`REDUCED_MAX_COUNT`] gradients,
    /// [`CoordinateMedian`](Self::CoordinateMedian) for larger ones. The default.
    #[default]
    Auto,
    /// Weiszfeld's iteration run to convergence on the coefficients of the gradients'
    /// affine hull, from their pairwise squared distances, then mapped back.
    ///
    /// Every Weiszfeld iterate is a convex combination `m = sum_j b_j g_j` of the gradients
    /// (when the start is), and then
    /// `||m - g_k||^2 = sum_j b_j D_jk - (1/2) sum_ij b_i b_j D_ij` with
    /// `D_ij = ||g_i - g_j||^2`. So after one
    /// [`batch_squared_distances`](Backend::batch_squared_distances) (`O(n^2 d)` arithmetic,
    /// one read of the batch), each step costs `O(n^2)` and reads no gradient. The
    /// coefficients start at the weights (the mean) and iterate until they stop changing,
    /// for at most [`REDUCED_MAX_STEPS`] steps, or until the iterate nears a gradient
    /// (where the expansion above loses its digits). One
    /// [`batch_weighted_sum`](Backend::batch_weighted_sum) then forms the point, and the
    /// main loop certifies it in the full space and continues from it if needed, so the
    /// result meets the same certificate as from any other start. Falls back to the
    /// coordinate-wise median when a distance overflows.
    Reduced,
    /// The coordinate-wise median of the batch (unweighted): robust, so that outliers far
    /// away do not slow the first iterations.
    CoordinateMedian,
    /// The weighted mean of the batch.
    Mean,
    /// A given point, which must have the batch's dimension and finite entries.
    Point(Vec<S>),
    /// The result of the previous call (a warm start), or [`Auto`](Self::Auto) on the first
    /// call and when the dimension has changed.
    Previous,
}

/// The largest batch for which [`StartPoint::Auto`] takes the reduced start.
///
/// The distance matrix costs about `n / 2` passes' worth of arithmetic over the batch, so
/// it pays for small batches only. On 64 x 1e5 batches it cost about as much as 3 full
/// Weiszfeld iterations and saved all of them.
// NOTE: the cut-off is a judgement between measurements at d = 1e5 on a loaded 2-core
// machine. At 256 gradients with outliers the reduced start still won (388 ms against 462 ms
// from the coordinate median). But its distance matrix alone took longer than a whole solve
// on a batch without outliers, which converges in 2 or 3 iterations.
pub const REDUCED_MAX_COUNT: usize = 128;

/// The maximum number of coefficient steps of [`StartPoint::Reduced`].
pub const REDUCED_MAX_STEPS: usize = 1000;

/// The reason a [`GeometricMedian`] solve stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The optimality certificate met the tolerance.
    Converged,
    /// The iteration cap was reached first; the best iterate is returned.
    MaxIterations,
    /// Every gradient with positive weight is the same point, which is the median.
    AllPointsEqual,
    /// One gradient carries more than half of the total weight, so it is the median.
    DominantPoint,
    /// An update left the iterate unchanged without meeting the tolerance (the tolerance is
    /// below what floating point reaches, or smoothing moved the fixed point).
    Stalled,
}

/// The outcome of a [`GeometricMedian`] solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeometricMedianInfo {
    /// The number of updates (Weiszfeld steps or SPP sweeps) performed.
    pub iterations: usize,
    /// Whether the returned point meets the tolerance (or is exactly optimal).
    pub converged: bool,
    /// The optimality certificate of the returned point (see [`GeometricMedian`]).
    pub certificate: f64,
    /// The objective `sum_i w_i ||m - g_i||` at the returned point.
    pub objective: f64,
    /// The reason the solver stopped.
    pub stop_reason: StopReason,
}

/// The (weighted) geometric median of a batch: the point minimising
/// `sum_i w_i ||m - g_i||_2`.
///
/// # Definition and solvers
///
/// Also called the spatial median, L1 median or Fermat-Weber point. It is computed
/// iteratively by one of two [`GeometricMedianSolver`]s:
///
/// - **Weiszfeld** (default). With `d_i = ||m - g_i||`, let `T(m) = sum' c_i g_i / sum' c_i`
///   with `c_i = w_i / d_i`, the sums `sum'` over the gradients with `d_i > 0`, let
///   `eta` be the total weight of the gradients at `m` (`d_i = 0`) and
///   `R(m) = sum' c_i (g_i - m)`. The update is `m <- T(m)` when `eta = 0`, and otherwise
///   (Vardi-Zhang) `m <- (1 - gamma) T(m) + gamma m` with `gamma = min(1, eta / ||R||)`, which
///   never divides by zero. Each step runs the backend kernels
///   [`batch_distances`](Backend::batch_distances) and
///   [`batch_weighted_sum`](Backend::batch_weighted_sum) on scratch held in the struct, so
///   the loop itself allocates nothing (a backend's kernels may). With smoothing `eps > 0`
///   ([`with_smoothing`](Self::with_smoothing)) the update uses `c_i = w_i / max(eps, d_i)`
///   for every gradient instead: the fixed point then minimises a Huber-like objective and
///   may differ from the median by up to about `eps`.
/// - **SPP sweeps**: see [`GeometricMedianSolver::SppSweeps`]. The first step size `tau_0`
///   defaults to the mean distance from the start point to the gradients.
///
/// # Stopping rule and result
///
/// The solver stops when the optimality certificate
/// `max(0, ||R(m)|| - eta) / sum_i w_i` is at most the tolerance. This is the distance from
/// zero to the subdifferential of the objective at `m`, divided by the total weight. Away
/// from the gradients it is the norm of the weighted mean of the unit vectors from `m` to the
/// gradients, and a gradient at `m` is treated as Vardi and Zhang do. It is dimensionless
/// and lies in `[0, 1]`. The solver never stops on a small change of the objective. The
/// certificate is also evaluated at the nearest gradient when that gradient carries at
/// least half of the Weiszfeld weight, and at the cap. So a median that is a data point is
/// returned exactly.
///
/// The result is the converged iterate, or otherwise the iterate with the lowest objective
/// seen, together with a [`GeometricMedianInfo`]. Non-convergence is not an error.
/// Shortcuts: when every gradient of positive weight is the same point, that point is
/// returned at once and exactly ([`StopReason::AllPointsEqual`]). When one gradient carries
/// more than half of the total weight, it is returned exactly
/// ([`StopReason::DominantPoint`]).
///
/// # Properties
///
/// Breakdown point 1/2. Equivariant under translations, scaling and rotations (up to the
/// tolerance). When at most a fraction `alpha < 1/2` of the gradients lie outside the ball
/// of radius `r` about a point `z`, the median lies within `(1 - alpha) r / sqrt(1 - 2 alpha)`
/// of `z`. To see this, project the optimality condition (a zero sum of unit vectors) on the
/// direction from the median to `z`. At a distance `D > r`, each inside point adds at least
/// `sqrt(1 - r^2 / D^2)` and each outside point at least -1. The median may still leave the bounding box of
/// the inside points. Cost `O(n d)` per iteration. Scratch: `O(n + d)` scalars, plus `n^2`
/// for the reduced start point and `n d` for the coordinate-wise median one.
///
/// # Weights, NaN and tie rule
///
/// Weights must be finite and `>= 0` with a positive sum. A gradient with weight zero has no
/// influence at all. When the minimiser is not unique (all gradients on a line, with the
/// weight split evenly at a segment), the solver returns one minimiser, the one the
/// iteration reaches from the start point. The input must be finite: any NaN or infinity is
/// [`Error::NonFinite`] (no NaN policy applies).
///
/// # Errors
///
/// [`Error::EmptyBatch`]; [`Error::DimensionMismatch`] for an output, start point or weight
/// list of the wrong length; [`Error::NonFinite`] for a non-finite gradient or start point;
/// [`Error::InvalidWeights`] and [`Error::InvalidParameter`] from the builder methods.
///
/// # Examples
///
/// ```
/// use median_core::batch::{GeometricMedian, StartPoint, StopReason};
/// use median_linalg::{Backend, VecBackend};
///
/// type B = VecBackend<f64>;
/// let batch = B::batch_from_rows(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 5.0, 5.0], 4, 2)?;
///
/// let mut median = GeometricMedian::new().with_start(StartPoint::Mean);
/// let (m, info) = median.solve::<B>(&batch)?;
/// assert_eq!(info.stop_reason, StopReason::Converged);
/// assert!((m[0] - 0.5).abs() < 1e-9 && (m[1] - 0.5).abs() < 1e-9);
///
/// // A weight of zero does not pull the median.
/// let triangle = B::batch_from_rows(&[0.0, 0.0, 4.0, 0.0, 0.0, 3.0], 3, 2)?;
/// let mut weighted = GeometricMedian::new().with_weights(&[0.0, 1.0, 2.0])?;
/// assert_eq!(weighted.solve::<B>(&triangle)?.0, vec![0.0, 3.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
///
/// E. Weiszfeld, "Sur le point pour lequel la somme des distances de n points donnés est
/// minimum", Tôhoku Mathematical Journal 43, 1937. Y. Vardi, C.-H. Zhang, "The multivariate
/// L1-median and associated data depth", PNAS 97(4), 2000. S. Minsker, "Geometric median and
/// robust estimation in Banach spaces", Bernoulli 21(4), 2015. F. Schaipp, G. Garrigos,
/// U. Simsekli, R. M. Gower, "SGD with Clipping is Secretly Estimating the Median Gradient",
/// arXiv:2402.12828, 2024.
#[derive(Debug, Clone)]
pub struct GeometricMedian<S> {
    solver: GeometricMedianSolver,
    max_iter: usize,
    tolerance: f64,
    smoothing: f64,
    initial_step: Option<f64>,
    start: StartPoint<S>,
    weights: Option<Vec<S>>,
    scratch: Scratch<S>,
    previous: Option<Vec<S>>,
    last_info: Option<GeometricMedianInfo>,
    /// Whether a solve whose distances left the floating-point range may be redone on a
    /// batch scaled by a power of two (false inside that redone solve).
    may_rescale: bool,
}

/// Buffers reused across iterations and calls.
#[derive(Debug, Clone, Default)]
struct Scratch<S> {
    weights: Vec<S>,
    distances: Vec<S>,
    coefficients: Vec<S>,
    weighted_sum: Vec<S>,
    iterate: Vec<S>,
    best: Vec<S>,
    start_median: CoordinateMedian<S>,
}

/// The objective and certificate at one point, and the sums the Weiszfeld update needs.
#[derive(Debug, Clone, Copy)]
struct Evaluation<S> {
    objective: S,
    certificate: S,
    /// Total weight of the gradients at the point.
    eta: S,
    /// `||R||`.
    residual_norm: S,
    /// `sum' c_i`.
    coefficient_sum: S,
    /// The gradient of positive weight nearest the point, with its distance.
    nearest: Option<(usize, S)>,
}

impl<S: Scalar> Default for GeometricMedian<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Scalar> GeometricMedian<S> {
    /// Creates the solver with Weiszfeld's algorithm, at most 1000 iterations, tolerance
    /// `max(1e-10, 100 epsilon)` (1e-10 for `f64`, about 1.2e-5 for `f32`), no smoothing,
    /// unit weights, and the [`StartPoint::Auto`] start.
    pub fn new() -> Self {
        Self {
            solver: GeometricMedianSolver::Weiszfeld,
            max_iter: 1000,
            // NOTE: the certificate cannot fall much below epsilon * |m| / spread, so with a
            // common offset of 1e8 and a spread of 1 this default is out of reach, and the
            // solve runs to the iteration cap and reports that it did not converge.
            tolerance: 1e-10_f64.max(100.0 * S::epsilon().into_f64()),
            smoothing: 0.0,
            initial_step: None,
            start: StartPoint::Auto,
            weights: None,
            scratch: Scratch::default(),
            previous: None,
            last_info: None,
            may_rescale: true,
        }
    }

    /// Sets the solver.
    #[must_use]
    pub fn with_solver(mut self, solver: GeometricMedianSolver) -> Self {
        self.solver = solver;
        self
    }

    /// Sets the maximum number of updates (Weiszfeld steps or SPP sweeps); 0 evaluates the
    /// start point only.
    #[must_use]
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Sets the tolerance on the optimality certificate (dimensionless, in `[0, 1]`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `tolerance` is finite and `>= 0`.
    pub fn with_tolerance(mut self, tolerance: f64) -> Result<Self, Error> {
        if !(tolerance.is_finite() && tolerance >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "tolerance",
                value: tolerance,
                expected: "must be finite and >= 0",
            });
        }
        self.tolerance = tolerance;
        Ok(self)
    }

    /// Sets the Weiszfeld smoothing `eps`: coefficients `w_i / max(eps, d_i)`; 0 (the
    /// default) turns smoothing off and uses the Vardi-Zhang step instead.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `eps` is finite and `>= 0`.
    pub fn with_smoothing(mut self, eps: f64) -> Result<Self, Error> {
        if !(eps.is_finite() && eps >= 0.0) {
            return Err(Error::InvalidParameter {
                name: "smoothing",
                value: eps,
                expected: "must be finite and >= 0",
            });
        }
        self.smoothing = eps;
        Ok(self)
    }

    /// Sets the first SPP step size `tau_0` (only used by
    /// [`GeometricMedianSolver::SppSweeps`]).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] unless `tau_0` is finite and `> 0`.
    pub fn with_initial_step(mut self, tau_0: f64) -> Result<Self, Error> {
        if !(tau_0.is_finite() && tau_0 > 0.0) {
            return Err(Error::InvalidParameter {
                name: "tau_0",
                value: tau_0,
                expected: "must be finite and > 0",
            });
        }
        self.initial_step = Some(tau_0);
        Ok(self)
    }

    /// Sets the start point.
    #[must_use]
    pub fn with_start(mut self, start: StartPoint<S>) -> Self {
        self.start = start;
        self
    }

    /// Sets one weight per gradient.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidWeights`] if a weight is negative, NaN or infinite, if the weights
    /// sum to zero, or if the list is empty.
    pub fn with_weights(mut self, weights: &[S]) -> Result<Self, Error> {
        self.weights = Some(validate_weights(weights)?);
        Ok(self)
    }

    /// Returns the info of the last successful solve, if any.
    pub fn last_info(&self) -> Option<GeometricMedianInfo> {
        self.last_info
    }

    /// Computes the geometric median of the batch as a new vector, with the solve info.
    ///
    /// # Errors
    ///
    /// As [`solve_into`](Self::solve_into).
    pub fn solve<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
    ) -> Result<(B::Vector, GeometricMedianInfo), Error> {
        let mut out = B::vector_zeros(B::batch_dim(batch));
        let info = self.solve_into::<B>(batch, B::vector_as_mut_slice(&mut out))?;
        Ok((out, info))
    }

    /// Writes the geometric median of the batch into `out` and returns the solve info,
    /// reusing the struct's scratch.
    ///
    /// # Errors
    ///
    /// See the type-level docs.
    pub fn solve_into<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
    ) -> Result<GeometricMedianInfo, Error> {
        let (n, dim) = check_batch_and_output::<B>(batch, out)?;
        if let Some(weights) = &self.weights {
            check_weight_count(weights.len(), n)?;
        }
        if let Some(error) = first_non_finite::<B>(batch) {
            return Err(error);
        }
        self.prepare_scratch(n, dim);

        let mut info = match self.shortcut::<B>(batch, out)? {
            Some(info) => info,
            None => {
                self.set_start::<B>(batch)?;
                self.iterate::<B>(batch, out)?
            }
        };
        if self.may_rescale
            && let Some(rescaled) = self.solve_rescaled::<B>(batch, out, &info)?
        {
            info = rescaled;
        }

        let previous = self.previous.get_or_insert_with(Vec::new);
        previous.clear();
        previous.extend_from_slice(out);
        self.last_info = Some(info);
        Ok(info)
    }

    /// Redoes the solve on the batch scaled by a power of two when the objective overflowed,
    /// or when the solve did not converge and the entries lie beyond `2^±400`, where
    /// distances lose digits to overflow or underflow. The geometric median is equivariant
    /// under scaling and multiplying by a power of two is exact, so the scaled median,
    /// scaled back, is the median. Returns the new info, or `None` when no redo is needed.
    fn solve_rescaled<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
        info: &GeometricMedianInfo,
    ) -> Result<Option<GeometricMedianInfo>, Error> {
        let overflowed = !info.objective.is_finite();
        if !overflowed && info.converged {
            return Ok(None);
        }

        let Some(exponent) = scale_exponent::<B>(batch, |_| true) else {
            return Ok(None);
        };
        if !overflowed && exponent.abs() <= 400.0 {
            return Ok(None);
        }
        let scaled = scaled_batch::<B>(batch, |_| true, exponent)?;

        let mut inner = self.clone();
        inner.may_rescale = false;
        let scale_down = |p: &Vec<S>| {
            p.iter()
                .map(|&v| times_power_of_two(v, -exponent))
                .collect::<Vec<S>>()
        };
        if let StartPoint::Point(point) = &self.start {
            inner.start = StartPoint::Point(scale_down(point));
        }
        inner.previous = self.previous.as_ref().map(scale_down);
        let mut inner_info = inner.solve_into::<B>(&scaled, out)?;

        for v in out.iter_mut() {
            *v = times_power_of_two(*v, exponent);
        }
        inner_info.objective *= exponent.exp2();
        self.scratch = inner.scratch;
        Ok(Some(inner_info))
    }

    /// Sizes the scratch buffers and fills the weights.
    fn prepare_scratch(&mut self, n: usize, dim: usize) {
        let scratch = &mut self.scratch;
        scratch.weights.clear();
        match &self.weights {
            Some(weights) => scratch.weights.extend_from_slice(weights),
            None => scratch.weights.resize(n, S::one()),
        }
        for buffer in [&mut scratch.distances, &mut scratch.coefficients] {
            buffer.clear();
            buffer.resize(n, S::zero());
        }
        for buffer in [
            &mut scratch.weighted_sum,
            &mut scratch.iterate,
            &mut scratch.best,
        ] {
            buffer.clear();
            buffer.resize(dim, S::zero());
        }
    }

    /// Returns the median at once when all weighted gradients coincide or one gradient
    /// carries more than half of the weight.
    fn shortcut<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
    ) -> Result<Option<GeometricMedianInfo>, Error> {
        let weights = &self.scratch.weights;
        let total: S = weights.iter().copied().sum();
        let positive = |i: &usize| weights[*i] > S::zero();
        let n = weights.len();

        // Validated weights have at least one positive entry.
        let first = (0..n).find(positive).unwrap_or(0);
        let point = B::batch_gradient(batch, first);
        if (0..n)
            .filter(positive)
            .all(|i| B::batch_gradient(batch, i) == point)
        {
            out.copy_from_slice(point);
            return Ok(Some(GeometricMedianInfo {
                iterations: 0,
                converged: true,
                certificate: 0.0,
                objective: 0.0,
                stop_reason: StopReason::AllPointsEqual,
            }));
        }

        let mut heaviest = first;
        for i in 0..n {
            if weights[i] > weights[heaviest] {
                heaviest = i;
            }
        }
        if weights[heaviest] > total - weights[heaviest] {
            let point = B::batch_gradient(batch, heaviest);
            let scratch = &mut self.scratch;
            let evaluation = evaluate::<B>(
                batch,
                point,
                &scratch.weights,
                &mut scratch.distances,
                &mut scratch.coefficients,
                &mut scratch.weighted_sum,
            )?;
            out.copy_from_slice(point);
            return Ok(Some(GeometricMedianInfo {
                iterations: 0,
                converged: true,
                certificate: evaluation.certificate.into_f64(),
                objective: evaluation.objective.into_f64(),
                stop_reason: StopReason::DominantPoint,
            }));
        }
        Ok(None)
    }

    /// Writes the start point into the iterate.
    fn set_start<B: Backend<Scalar = S>>(&mut self, batch: &B::Batch) -> Result<(), Error> {
        let dim = B::batch_dim(batch);
        let scratch = &mut self.scratch;
        let warm = self.previous.as_ref().filter(|p| p.len() == dim);
        match (&self.start, warm) {
            (StartPoint::Mean, _) => {
                let total: S = scratch.weights.iter().copied().sum();
                for (c, &w) in scratch.coefficients.iter_mut().zip(&scratch.weights) {
                    *c = w / total;
                }
                B::batch_weighted_sum(batch, &scratch.coefficients, &mut scratch.iterate)?;
            }
            (StartPoint::Point(point), _) => {
                if point.len() != dim {
                    return Err(Error::DimensionMismatch {
                        what: "start point",
                        index: 0,
                        expected: dim,
                        found: point.len(),
                    });
                }
                if let Some(coordinate) = point.iter().position(|v| !v.is_finite()) {
                    return Err(Error::NonFinite {
                        index: 0,
                        coordinate,
                        value: point[coordinate].into_f64(),
                    });
                }
                scratch.iterate.copy_from_slice(point);
            }
            (StartPoint::Previous, Some(previous)) => {
                scratch.iterate.copy_from_slice(previous);
            }
            (StartPoint::Reduced, _) => {
                if !reduced_start::<B>(batch, scratch)? {
                    scratch
                        .start_median
                        .estimate_into::<B>(batch, &mut scratch.iterate)?;
                }
            }
            (StartPoint::Auto | StartPoint::Previous, _)
                if B::batch_count(batch) <= REDUCED_MAX_COUNT
                    && reduced_start::<B>(batch, scratch)? => {}
            (StartPoint::Auto | StartPoint::CoordinateMedian | StartPoint::Previous, _) => {
                scratch
                    .start_median
                    .estimate_into::<B>(batch, &mut scratch.iterate)?;
            }
        }
        Ok(())
    }

    /// Runs the main loop from the start point in the iterate.
    fn iterate<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        out: &mut [S],
    ) -> Result<GeometricMedianInfo, Error> {
        let tolerance = S::of_f64(self.tolerance);
        let total: S = self.scratch.weights.iter().copied().sum();
        // NOTE: no test counts allocations in this loop, because a counting global
        // allocator needs unsafe code, which the workspace forbids.
        let mut best: Option<Evaluation<S>> = None;
        let mut first_step = self.initial_step.map(S::of_f64);
        let mut iterations = 0;

        loop {
            let scratch = &mut self.scratch;
            let evaluation = evaluate::<B>(
                batch,
                &scratch.iterate,
                &scratch.weights,
                &mut scratch.distances,
                &mut scratch.coefficients,
                &mut scratch.weighted_sum,
            )?;
            if best.is_none_or(|b| evaluation.objective < b.objective) {
                scratch.best.copy_from_slice(&scratch.iterate);
                best = Some(evaluation);
            }
            if evaluation.certificate <= tolerance {
                out.copy_from_slice(&scratch.iterate);
                return Ok(info(iterations, &evaluation, StopReason::Converged, true));
            }

            // Try the nearest gradient when the iterate is closing in on it, and at the cap.
            let at_cap = iterations == self.max_iter;
            if let Some(data_point) =
                self.try_nearest_point::<B>(batch, &evaluation, at_cap, tolerance, out)?
            {
                return Ok(info(iterations, &data_point, StopReason::Converged, true));
            }
            if at_cap {
                return Ok(self.finish_with_best(out, iterations, best, StopReason::MaxIterations));
            }

            let scratch = &mut self.scratch;
            let moved = match self.solver {
                GeometricMedianSolver::Weiszfeld if self.smoothing > 0.0 => {
                    smoothed_weiszfeld_step::<B>(batch, scratch, S::of_f64(self.smoothing))?
                }
                GeometricMedianSolver::Weiszfeld => vardi_zhang_step(scratch, &evaluation),
                GeometricMedianSolver::SppSweeps => {
                    let tau_0 = *first_step.get_or_insert(evaluation.objective / total);
                    let tau = tau_0 / S::of_usize(iterations + 1);
                    spp_sweep::<B>(batch, scratch, tau, total)
                }
            };
            iterations += 1;
            if !moved {
                return Ok(self.finish_with_best(out, iterations, best, StopReason::Stalled));
            }
        }
    }

    /// Evaluates the certificate at the gradient nearest the iterate and, if it meets the
    /// tolerance, writes that gradient into `out` and returns its evaluation.
    fn try_nearest_point<B: Backend<Scalar = S>>(
        &mut self,
        batch: &B::Batch,
        evaluation: &Evaluation<S>,
        force: bool,
        tolerance: S,
        out: &mut [S],
    ) -> Result<Option<Evaluation<S>>, Error> {
        let Some((nearest, distance)) = evaluation.nearest else {
            return Ok(None);
        };
        if distance == S::zero() {
            // The iterate is this gradient, already evaluated with the Vardi-Zhang rule.
            return Ok(None);
        }
        let scratch = &mut self.scratch;
        let pull = scratch.weights[nearest] / distance;
        let closing_in = pull + pull >= evaluation.coefficient_sum;
        if !(closing_in || force) {
            return Ok(None);
        }

        // The evaluation at the gradient reuses the buffers of the iterate's evaluation, so
        // recompute the iterate's afterwards when the test fails.
        let point = B::batch_gradient(batch, nearest);
        let at_point = evaluate::<B>(
            batch,
            point,
            &scratch.weights,
            &mut scratch.distances,
            &mut scratch.coefficients,
            &mut scratch.weighted_sum,
        )?;
        if at_point.certificate <= tolerance {
            out.copy_from_slice(point);
            return Ok(Some(at_point));
        }
        evaluate::<B>(
            batch,
            &scratch.iterate,
            &scratch.weights,
            &mut scratch.distances,
            &mut scratch.coefficients,
            &mut scratch.weighted_sum,
        )?;
        Ok(None)
    }

    /// Writes the best iterate into `out` and returns its info.
    fn finish_with_best(
        &self,
        out: &mut [S],
        iterations: usize,
        best: Option<Evaluation<S>>,
        reason: StopReason,
    ) -> GeometricMedianInfo {
        out.copy_from_slice(&self.scratch.best);
        let tolerance = S::of_f64(self.tolerance);
        match best {
            Some(b) => info(iterations, &b, reason, b.certificate <= tolerance),
            None => GeometricMedianInfo {
                iterations,
                converged: false,
                certificate: f64::NAN,
                objective: f64::NAN,
                stop_reason: reason,
            },
        }
    }
}

impl<B: Backend> Aggregator<B> for GeometricMedian<B::Scalar> {
    fn name(&self) -> String {
        match self.solver {
            GeometricMedianSolver::Weiszfeld => "geometric-median".to_string(),
            GeometricMedianSolver::SppSweeps => "geometric-median-spp".to_string(),
        }
    }

    fn aggregate_into(&mut self, batch: &B::Batch, out: &mut [B::Scalar]) -> Result<(), Error> {
        self.solve_into::<B>(batch, out).map(|_| ())
    }
}

/// Builds the info for a returned evaluation.
fn info<S: Scalar>(
    iterations: usize,
    evaluation: &Evaluation<S>,
    stop_reason: StopReason,
    converged: bool,
) -> GeometricMedianInfo {
    GeometricMedianInfo {
        iterations,
        converged,
        certificate: evaluation.certificate.into_f64(),
        objective: evaluation.objective.into_f64(),
        stop_reason,
    }
}

/// Evaluates the objective and the certificate at `point`, leaving the distances in
/// `distances`, the coefficients `c_i = w_i / d_i` (0 where `d_i = 0`) in `coefficients`
/// and `sum' c_i g_i` in `weighted_sum`.
fn evaluate<B: Backend>(
    batch: &B::Batch,
    point: &[B::Scalar],
    weights: &[B::Scalar],
    distances: &mut [B::Scalar],
    coefficients: &mut [B::Scalar],
    weighted_sum: &mut [B::Scalar],
) -> Result<Evaluation<B::Scalar>, Error> {
    let zero = B::Scalar::zero();
    // One fused pass: distances, coefficients w_i / d_i (zero at a data point or on
    // overflow) and the weighted sum of the gradients.
    B::batch_weiszfeld_pass(
        batch,
        point,
        weights,
        zero,
        distances,
        coefficients,
        weighted_sum,
    )?;

    let mut objective = zero;
    let mut eta = zero;
    let mut coefficient_sum = zero;
    let mut total = zero;
    let mut nearest: Option<(usize, B::Scalar)> = None;
    for i in 0..distances.len() {
        let (w, d) = (weights[i], distances[i]);
        total = total + w;
        objective = objective + w * d;
        if w <= zero {
            continue;
        }
        if nearest.is_none_or(|(_, best)| d < best) {
            nearest = Some((i, d));
        }
        // A distance so small that w / d overflows counts as zero distance, so that the
        // Vardi-Zhang rule applies instead of an infinite coefficient; the kernel gave such a
        // gradient a zero coefficient.
        if d > zero && (w / d).is_finite() {
            coefficient_sum = coefficient_sum + coefficients[i];
        } else {
            eta = eta + w;
        }
    }

    // R = sum' c_i (g_i - m) = sum' c_i g_i - (sum' c_i) m; each entry is at most the total
    // weight in magnitude, so the plain sum of squares cannot overflow.
    let residual_norm = weighted_sum
        .iter()
        .zip(point)
        .map(|(&s, &m)| {
            let r = s - coefficient_sum * m;
            r * r
        })
        .sum::<B::Scalar>()
        .sqrt();
    let certificate = (residual_norm - eta).max(zero) / total;
    Ok(Evaluation {
        objective,
        certificate,
        eta,
        residual_norm,
        coefficient_sum,
        nearest,
    })
}

/// Writes the reduced start point (see [`StartPoint::Reduced`]) into the iterate. Returns
/// `false`, leaving the iterate untouched, when a pairwise distance is not finite.
fn reduced_start<B: Backend>(
    batch: &B::Batch,
    scratch: &mut Scratch<B::Scalar>,
) -> Result<bool, Error> {
    let n = B::batch_count(batch);
    let mut squared = vec![B::Scalar::zero(); n * n];
    B::batch_squared_distances(batch, &mut squared)?;
    if squared.iter().any(|v| !v.is_finite()) {
        return Ok(false);
    }
    let squared: Vec<f64> = squared.iter().map(|v| v.into_f64()).collect();
    let weights: Vec<f64> = scratch.weights.iter().map(|w| w.into_f64()).collect();
    let coefficients = reduced_weiszfeld(&squared, &weights, B::Scalar::epsilon().into_f64());
    for (c, &b) in scratch.coefficients.iter_mut().zip(&coefficients) {
        *c = B::Scalar::of_f64(b);
    }
    B::batch_weighted_sum(batch, &scratch.coefficients, &mut scratch.iterate)?;
    Ok(true)
}

/// Runs Weiszfeld's iteration on the convex coefficients `b` of `m = sum_j b_j g_j`, given
/// the squared distances `D` (row-major `n x n`) and the weights, and returns `b`.
///
/// The squared distance from `m` to `g_k` is `(D b)_k - b^T D b / 2`. Its rounding error is
/// about `epsilon * max D`, so the iteration stops once the nearest gradient is within a
/// thousand times that. Otherwise it stops when the coefficients stop changing, or after
/// [`REDUCED_MAX_STEPS`] steps.
fn reduced_weiszfeld(squared: &[f64], weights: &[f64], epsilon: f64) -> Vec<f64> {
    let n = weights.len();
    let total: f64 = weights.iter().sum();
    let mut b: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let largest = squared.iter().copied().fold(0.0, f64::max);
    let floor = 1e3 * epsilon * largest;
    let mut db = vec![0.0; n];
    let mut next = vec![0.0; n];
    for _ in 0..REDUCED_MAX_STEPS {
        for (k, v) in db.iter_mut().enumerate() {
            *v = squared[k * n..(k + 1) * n]
                .iter()
                .zip(&b)
                .map(|(d, bj)| d * bj)
                .sum();
        }
        let half_bdb = 0.5 * b.iter().zip(&db).map(|(bk, v)| bk * v).sum::<f64>();
        let mut sum = 0.0;
        for k in 0..n {
            if weights[k] <= 0.0 {
                next[k] = 0.0;
                continue;
            }
            let q = db[k] - half_bdb;
            if q <= floor {
                // Near a gradient: leave the rest to the full-space iteration.
                return b;
            }
            next[k] = weights[k] / q.sqrt();
            sum += next[k];
        }
        let mut change = 0.0;
        for k in 0..n {
            let value = next[k] / sum;
            change += (value - b[k]).abs();
            b[k] = value;
        }
        if change <= 4.0 * epsilon {
            break;
        }
    }
    b
}

/// Applies the Vardi-Zhang modified Weiszfeld step to the iterate, from the evaluation at
/// the iterate. Returns whether the iterate changed.
fn vardi_zhang_step<S: Scalar>(scratch: &mut Scratch<S>, evaluation: &Evaluation<S>) -> bool {
    let c = evaluation.coefficient_sum;
    if c <= S::zero() {
        return false;
    }
    // The certificate failed, so ||R|| > eta and gamma < 1.
    let gamma = if evaluation.eta > S::zero() {
        (evaluation.eta / evaluation.residual_norm).min(S::one())
    } else {
        S::zero()
    };
    let mut moved = false;
    for (m, &s) in scratch.iterate.iter_mut().zip(&scratch.weighted_sum) {
        let target = s / c;
        let next = (S::one() - gamma) * target + gamma * *m;
        moved |= next != *m;
        *m = next;
    }
    moved
}

/// Applies one smoothed Weiszfeld step, `c_i = w_i / max(eps, d_i)`, using the distances
/// left by the last evaluation. Returns whether the iterate changed.
fn smoothed_weiszfeld_step<B: Backend>(
    batch: &B::Batch,
    scratch: &mut Scratch<B::Scalar>,
    eps: B::Scalar,
) -> Result<bool, Error> {
    let mut c = B::Scalar::zero();
    for i in 0..scratch.distances.len() {
        scratch.coefficients[i] = scratch.weights[i] / scratch.distances[i].max(eps);
        c = c + scratch.coefficients[i];
    }
    B::batch_weighted_sum(batch, &scratch.coefficients, &mut scratch.weighted_sum)?;
    let mut moved = false;
    for (m, &s) in scratch.iterate.iter_mut().zip(&scratch.weighted_sum) {
        let next = s / c;
        moved |= next != *m;
        *m = next;
    }
    Ok(moved)
}

/// Runs one SPP sweep with step `tau` over the gradients in batch order. Returns whether
/// the iterate changed.
fn spp_sweep<B: Backend>(
    batch: &B::Batch,
    scratch: &mut Scratch<B::Scalar>,
    tau: B::Scalar,
    total: B::Scalar,
) -> bool {
    let n = B::Scalar::of_usize(scratch.weights.len());
    let mut moved = false;
    for (i, &w) in scratch.weights.iter().enumerate() {
        if w <= B::Scalar::zero() {
            continue;
        }
        let threshold = tau * n * (w / total);
        let gradient = B::batch_gradient(batch, i);
        let distance = kernels::distance(gradient, &scratch.iterate);
        if distance == B::Scalar::zero() {
            continue;
        }
        moved = true;
        if distance <= threshold {
            scratch.iterate.copy_from_slice(gradient);
        } else {
            let factor = threshold / distance;
            for (m, &g) in scratch.iterate.iter_mut().zip(gradient) {
                *m = *m + factor * (g - *m);
            }
        }
    }
    moved
}
