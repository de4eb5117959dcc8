//! The registry: every estimator, aggregation rule, attack, noise model and optimizer the
//! program offers, by name, with its constructor.
//!
//! `median list`, the configuration parser and `median aggregate` all read these tables,
//! so a name is valid in one place exactly when it is valid in the others.

use median_core::aggregate::{
    Aggregator, Bulyan, CenteredClipping, ClippingStart, Krum, Medoid, MinimumDiameterAveraging,
    MultiKrum, NearestNeighborMixing, PreAggregated, SpectralFilter,
};
use median_core::batch::{CoordinateMedian, GeometricMedian, Mean, MedianOfMeans, TrimmedMean};
use median_core::online::{
    CoordinateMedianTracker, EmaTracker, GeometricMedianTracker, HuberTracker, LinfMedianTracker,
    OnlineEstimator, StepSchedule,
};
use median_linalg::{Backend, VecBackend};
use median_noise::byzantine;
use median_noise::{AlphaStable, Cauchy, Gaussian, StudentT};
use rand::Rng;
use rand_distr::Distribution;

use crate::CliError;

/// The backend every experiment runs on.
pub type Vb = VecBackend<f64>;

/// A named registry entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The name used on the command line and in configuration files.
    pub name: &'static str,
    /// One line describing the entry and its parameters.
    pub description: &'static str,
}

/// Returns the error for `name` not found among `entries`.
fn unknown(kind: &'static str, name: &str, entries: &[Entry]) -> CliError {
    CliError::UnknownName {
        kind,
        name: name.to_string(),
        known: entries.iter().map(|e| e.name.to_string()).collect(),
    }
}

/// Checks that `name` is one of `entries`.
///
/// # Errors
///
/// [`CliError::UnknownName`] listing the known names.
pub fn check_name(kind: &'static str, name: &str, entries: &[Entry]) -> Result<(), CliError> {
    if entries.iter().any(|e| e.name == name) {
        Ok(())
    } else {
        Err(unknown(kind, name, entries))
    }
}

// ---------------------------------------------------------------------------------------
// Aggregation rules
// ---------------------------------------------------------------------------------------

/// The aggregation rules (batch estimators and Byzantine-robust rules).
pub const RULES: &[Entry] = &[
    Entry {
        name: "mean",
        description: "coordinate-wise mean (breakdown point 0)",
    },
    Entry {
        name: "coordinate-median",
        description: "coordinate-wise median",
    },
    Entry {
        name: "geometric-median",
        description: "geometric median by Weiszfeld iterations (iterative)",
    },
    Entry {
        name: "trimmed-mean",
        description: "coordinate-wise mean after removing the f largest and f smallest values",
    },
    Entry {
        name: "median-of-means",
        description: "coordinate-wise median of the means of `blocks` blocks",
    },
    Entry {
        name: "krum",
        description: "Krum: the gradient closest to its n - f - 2 neighbours",
    },
    Entry {
        name: "multi-krum",
        description: "mean of the n - f gradients with the best Krum scores",
    },
    Entry {
        name: "bulyan",
        description: "Bulyan: Krum selection followed by a trimmed mean",
    },
    Entry {
        name: "mda",
        description: "minimum-diameter averaging over subsets of n - f gradients",
    },
    Entry {
        name: "medoid",
        description: "the gradient minimising the sum of distances to the others",
    },
    Entry {
        name: "centered-clipping",
        description: "centered clipping with radius `tau`, 3 iterations from the coordinate-wise median",
    },
    Entry {
        name: "spectral-filter",
        description: "spectral filtering of up to f outliers",
    },
    Entry {
        name: "nnm+krum",
        description: "nearest-neighbour mixing, then Krum",
    },
    Entry {
        name: "nnm+coordinate-median",
        description: "nearest-neighbour mixing, then the coordinate-wise median",
    },
];

/// Parameters shared by the rule constructors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleParams {
    /// The number of Byzantine inputs to tolerate (and to trim, for the trimmed mean).
    pub f: usize,
    /// The clipping radius of centered clipping.
    pub tau: f64,
    /// The block count of the median of means.
    pub blocks: usize,
}

impl Default for RuleParams {
    fn default() -> Self {
        Self {
            f: 0,
            tau: 1.0,
            blocks: 3,
        }
    }
}

/// A boxed aggregation rule that is itself an [`Aggregator`].
pub struct DynRule(pub Box<dyn Aggregator<Vb> + Send>);

impl Aggregator<Vb> for DynRule {
    fn name(&self) -> String {
        self.0.name()
    }

    fn aggregate_into(
        &mut self,
        batch: &<Vb as Backend>::Batch,
        out: &mut [f64],
    ) -> Result<(), median_core::Error> {
        self.0.aggregate_into(batch, out)
    }
}

/// Builds the rule named `name`.
///
/// # Errors
///
/// [`CliError::UnknownName`] listing [`RULES`], and [`CliError::Core`] for parameters the
/// rule rejects.
pub fn build_rule(name: &str, params: &RuleParams) -> Result<DynRule, CliError> {
    let f = params.f;
    let rule: Box<dyn Aggregator<Vb> + Send> = match name {
        "mean" => Box::new(Mean::new()),
        "coordinate-median" => Box::new(CoordinateMedian::new()),
        "geometric-median" => Box::new(GeometricMedian::new()),
        "trimmed-mean" => Box::new(TrimmedMean::by_count(f)),
        "median-of-means" => Box::new(MedianOfMeans::new(params.blocks)?),
        "krum" => Box::new(Krum::new(f)),
        "multi-krum" => Box::new(MultiKrum::new(f)),
        "bulyan" => Box::new(Bulyan::new(f)),
        "mda" => Box::new(MinimumDiameterAveraging::new(f)),
        "medoid" => Box::new(Medoid::new()),
        "centered-clipping" => Box::new(CenteredClippingFromMedian {
            clipping: CenteredClipping::new(params.tau, 3)?,
            median: CoordinateMedian::new(),
        }),
        "spectral-filter" => Box::new(SpectralFilter::new(f)),
        "nnm+krum" => Box::new(
            PreAggregated::<Vb, _>::new(Krum::new(f)).with_step(NearestNeighborMixing::new(f)),
        ),
        "nnm+coordinate-median" => Box::new(
            PreAggregated::<Vb, _>::new(CoordinateMedian::new())
                .with_step(NearestNeighborMixing::new(f)),
        ),
        other => return Err(unknown("rule", other, RULES)),
    };
    Ok(DynRule(rule))
}

/// Centered clipping started at the coordinate-wise median of the same batch.
///
/// The library's default start is zero, which suits a previous aggregate in training but
/// leaves a single batch far from its centre after a few iterations.
struct CenteredClippingFromMedian {
    clipping: CenteredClipping<f64>,
    median: CoordinateMedian<f64>,
}

impl Aggregator<Vb> for CenteredClippingFromMedian {
    fn name(&self) -> String {
        "centered-clipping".to_string()
    }

    fn aggregate_into(
        &mut self,
        batch: &<Vb as Backend>::Batch,
        out: &mut [f64],
    ) -> Result<(), median_core::Error> {
        self.median.estimate_into::<Vb>(batch, out)?;
        let start = ClippingStart::Given(out.to_vec());
        let mut clipping = self.clipping.clone().with_start(start);
        Aggregator::<Vb>::aggregate_into(&mut clipping, batch, out)
    }
}

// ---------------------------------------------------------------------------------------
// Online estimators
// ---------------------------------------------------------------------------------------

/// The online estimators (one SPP step per gradient), plus the running mean as a baseline.
pub const ESTIMATORS: &[Entry] = &[
    Entry {
        name: "ema",
        description: "E1: exponential moving average (SPP on the squared norm), tracks the mean",
    },
    Entry {
        name: "geometric",
        description: "E2: m + clip_tau(g - m), tracks the geometric median",
    },
    Entry {
        name: "coordinate",
        description: "E3: m + clamp(g - m, -tau, tau), tracks the coordinate-wise median",
    },
    Entry {
        name: "linf",
        description: "E4: SPP on the Linf norm, tracks the Linf median",
    },
    Entry {
        name: "huber",
        description: "E6: SPP on the Huber loss with width `delta`, a smoothed geometric median",
    },
    Entry {
        name: "running-mean",
        description: "the running mean (1/k) sum g_i, no step size",
    },
];

/// The schedule of the SPP step `tau_k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StepRule {
    /// `tau_k = tau0`.
    Constant,
    /// `tau_k = tau0 / sqrt(k + 1)`.
    InverseSqrt,
}

/// Builds the online estimator named `name` of dimension `dim`, with Polyak-Ruppert
/// averaging of its iterates when `averaging` is set (ignored by the running mean).
///
/// # Errors
///
/// [`CliError::UnknownName`] listing [`ESTIMATORS`], and [`CliError::Core`] for an invalid
/// `tau0` or `delta`.
pub fn build_estimator(
    name: &str,
    dim: usize,
    tau0: f64,
    step: StepRule,
    delta: f64,
    averaging: bool,
) -> Result<Box<dyn OnlineEstimator<Vb> + Send>, CliError> {
    let schedule = || -> Result<StepSchedule<f64>, CliError> {
        Ok(match step {
            StepRule::Constant => StepSchedule::constant(tau0)?,
            StepRule::InverseSqrt => StepSchedule::inverse_sqrt(tau0)?,
        })
    };
    Ok(match name {
        "ema" => {
            let mut e = EmaTracker::<Vb>::new(dim, schedule()?);
            e.set_averaging(averaging);
            Box::new(e)
        }
        "geometric" => {
            let mut e = GeometricMedianTracker::<Vb>::new(dim, schedule()?);
            e.set_averaging(averaging);
            Box::new(e)
        }
        "coordinate" => {
            let mut e = CoordinateMedianTracker::<Vb>::new(dim, schedule()?);
            e.set_averaging(averaging);
            Box::new(e)
        }
        "linf" => {
            let mut e = LinfMedianTracker::<Vb>::new(dim, schedule()?);
            e.set_averaging(averaging);
            Box::new(e)
        }
        "huber" => {
            let mut e = HuberTracker::<Vb>::new(dim, delta, schedule()?)?;
            e.set_averaging(averaging);
            Box::new(e)
        }
        "running-mean" => Box::new(RunningMean::new(dim)),
        other => return Err(unknown("estimator", other, ESTIMATORS)),
    })
}

/// The running mean `m_k = (1/k) sum_{i <= k} g_i`, as an online estimator.
#[derive(Debug, Clone)]
pub struct RunningMean {
    mean: Vec<f64>,
    count: u64,
}

impl RunningMean {
    /// Creates the running mean of dimension `dim`, starting at zero.
    pub fn new(dim: usize) -> Self {
        Self {
            mean: vec![0.0; dim],
            count: 0,
        }
    }

    fn check(&self, gradient: &[f64]) -> Result<(), median_core::Error> {
        if gradient.len() != self.mean.len() {
            return Err(median_core::Error::DimensionMismatch {
                what: "gradient",
                index: 0,
                expected: self.mean.len(),
                found: gradient.len(),
            });
        }
        if let Some((coordinate, &value)) =
            gradient.iter().enumerate().find(|(_, v)| !v.is_finite())
        {
            return Err(median_core::Error::NonFinite {
                index: 0,
                coordinate,
                value,
            });
        }
        Ok(())
    }
}

impl OnlineEstimator<Vb> for RunningMean {
    fn name(&self) -> String {
        "running-mean".to_string()
    }

    fn update(&mut self, gradient: &[f64]) -> Result<(), median_core::Error> {
        self.check(gradient)?;
        self.count += 1;
        let weight = 1.0 / self.count as f64;
        for (m, &g) in self.mean.iter_mut().zip(gradient) {
            *m += weight * (g - *m);
        }
        Ok(())
    }

    fn update_batch(&mut self, batch: &<Vb as Backend>::Batch) -> Result<(), median_core::Error> {
        let n = Vb::batch_count(batch);
        if n == 0 {
            return Err(median_core::Error::EmptyBatch);
        }
        for i in 0..n {
            self.check(Vb::batch_gradient(batch, i))?;
        }
        for i in 0..n {
            self.update(Vb::batch_gradient(batch, i))?;
        }
        Ok(())
    }

    fn estimate(&self) -> &[f64] {
        &self.mean
    }

    fn reset_to(&mut self, anchor: &[f64]) -> Result<(), median_core::Error> {
        self.check(anchor)?;
        self.mean.copy_from_slice(anchor);
        self.count = 0;
        Ok(())
    }

    fn reset(&mut self) {
        self.mean.iter_mut().for_each(|m| *m = 0.0);
        self.count = 0;
    }
}

// ---------------------------------------------------------------------------------------
// Noise models
// ---------------------------------------------------------------------------------------

/// The noise models; each draws i.i.d. coordinates except `contaminated`.
pub const NOISE_MODELS: &[Entry] = &[
    Entry {
        name: "gaussian",
        description: "standard normal coordinates (all moments finite)",
    },
    Entry {
        name: "cauchy",
        description: "standard Cauchy coordinates (tail index 1, no finite mean)",
    },
    Entry {
        name: "student-t",
        description: "Student-t coordinates with `nu` degrees of freedom (moments of order < nu)",
    },
    Entry {
        name: "stable",
        description: "symmetric alpha-stable coordinates S(alpha, 0, 1, 0), alpha in (0, 2] (moments of order < alpha for alpha < 2)",
    },
    Entry {
        name: "contaminated",
        description: "standard normal vectors, replaced with probability `eps` by an outlier of norm `outlier_scale` ||mu||",
    },
];

/// A coordinate noise law, dispatching to the `median-noise` samplers.
#[derive(Debug, Clone, Copy)]
pub enum CoordinateNoise {
    /// Standard normal.
    Gaussian(Gaussian<f64>),
    /// Cauchy.
    Cauchy(Cauchy<f64>),
    /// Student-t.
    StudentT(StudentT<f64>),
    /// Symmetric alpha-stable.
    Stable(AlphaStable<f64>),
}

impl Distribution<f64> for CoordinateNoise {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            CoordinateNoise::Gaussian(d) => d.sample(rng),
            CoordinateNoise::Cauchy(d) => d.sample(rng),
            CoordinateNoise::StudentT(d) => d.sample(rng),
            CoordinateNoise::Stable(d) => d.sample(rng),
        }
    }
}

/// Builds the coordinate law named `name` (all but `contaminated`, which is not i.i.d.).
///
/// # Errors
///
/// [`CliError::UnknownName`] listing [`NOISE_MODELS`], [`CliError::InvalidParameter`] for a
/// missing `nu` or `alpha`, and [`CliError::Noise`] for an out-of-range one.
pub fn build_coordinate_noise(
    name: &str,
    nu: Option<f64>,
    alpha: Option<f64>,
) -> Result<CoordinateNoise, CliError> {
    let missing = |param: &str| CliError::InvalidParameter {
        name: param.to_string(),
        value: "missing".to_string(),
        expected: format!("noise model {name:?} needs `{param}`"),
    };
    Ok(match name {
        "gaussian" => CoordinateNoise::Gaussian(Gaussian::new(0.0, 1.0)?),
        "cauchy" => CoordinateNoise::Cauchy(Cauchy::new(0.0, 1.0)?),
        "student-t" => CoordinateNoise::StudentT(StudentT::new(nu.ok_or_else(|| missing("nu"))?)?),
        "stable" => CoordinateNoise::Stable(AlphaStable::new(
            alpha.ok_or_else(|| missing("alpha"))?,
            0.0,
            1.0,
            0.0,
        )?),
        "contaminated" => {
            return Err(CliError::InvalidParameter {
                name: "law".to_string(),
                value: name.to_string(),
                expected:
                    "contamination is a vector law; it is only available in online experiments"
                        .to_string(),
            });
        }
        other => return Err(unknown("noise model", other, NOISE_MODELS)),
    })
}

// ---------------------------------------------------------------------------------------
// Attacks
// ---------------------------------------------------------------------------------------

/// The Byzantine attacks; each builds the `f` vectors sent by the Byzantine workers.
pub const ATTACKS: &[Entry] = &[
    Entry {
        name: "sign-flip",
        description: "every Byzantine worker sends -4 times the honest mean",
    },
    Entry {
        name: "ipm",
        description: "inner-product manipulation: -0.1 times the honest mean",
    },
    Entry {
        name: "alie",
        description: "a little is enough: honest mean + z_max times the coordinate-wise std",
    },
    Entry {
        name: "gaussian",
        description: "i.i.d. N(0, 200^2) vectors",
    },
    Entry {
        name: "large-norm",
        description: "a vector of norm 1e4 pointing away from the honest mean",
    },
];

/// Runs the attack named `name`: `f` vectors built from the honest gradients.
///
/// # Errors
///
/// [`CliError::UnknownName`] listing [`ATTACKS`], and [`CliError::Byzantine`] for empty or
/// ragged honest gradients.
pub fn run_attack<R: Rng + ?Sized>(
    name: &str,
    honest: &[&[f64]],
    f: usize,
    rng: &mut R,
) -> Result<Vec<Vec<f64>>, CliError> {
    if f == 0 {
        return Ok(Vec::new());
    }
    Ok(match name {
        "sign-flip" => byzantine::sign_flip(honest, f, 4.0)?,
        "ipm" => byzantine::inner_product_manipulation(honest, f, 0.1)?,
        "alie" => {
            let z = byzantine::alie_z_max(honest.len() + f, f)?;
            byzantine::alie(honest, f, z)?
        }
        "gaussian" => byzantine::gaussian(honest, f, 0.0, 200.0, rng)?,
        "large-norm" => byzantine::large_norm(honest, f, 1e4)?,
        other => return Err(unknown("attack", other, ATTACKS)),
    })
}

// ---------------------------------------------------------------------------------------
// Optimizers
// ---------------------------------------------------------------------------------------

/// The optimizers of the SGD experiments.
pub const OPTIMIZERS: &[Entry] = &[
    Entry {
        name: "sgd",
        description: "plain SGD with one stochastic gradient per step",
    },
    Entry {
        name: "minibatch-sgd",
        description: "SGD along the mean of `samples` gradients",
    },
    Entry {
        name: "clipped-sgd",
        description: "SGD along clip_tau(g), global norm clipping",
    },
    Entry {
        name: "normalized-sgd",
        description: "SGD along g / ||g||",
    },
    Entry {
        name: "sign-sgd",
        description: "SGD along sign(g)",
    },
    Entry {
        name: "tracker",
        description: "median tracker: SGD along an online estimate (`estimator`, SPP step `tau`)",
    },
    Entry {
        name: "sample-median-gd",
        description: "Sample Median GD: SGD along `rule` of `samples` gradients at the same point",
    },
];

/// Returns a multi-line listing of every registry table, as `median list` prints it.
pub fn listing() -> String {
    let sections: [(&str, &[Entry]); 5] = [
        ("estimators (online)", ESTIMATORS),
        ("rules (aggregation)", RULES),
        ("attacks (Byzantine)", ATTACKS),
        ("noise models", NOISE_MODELS),
        ("optimizers", OPTIMIZERS),
    ];
    let mut out = String::new();
    for (title, entries) in sections {
        out.push_str(title);
        out.push_str(":\n");
        for e in entries {
            out.push_str(&format!("  {:<24} {}\n", e.name, e.description));
        }
        out.push('\n');
    }
    out
}

/// A boxed online estimator that is itself an [`OnlineEstimator`], for the tracker.
pub struct DynEstimator(pub Box<dyn OnlineEstimator<Vb> + Send>);

impl OnlineEstimator<Vb> for DynEstimator {
    fn name(&self) -> String {
        self.0.name()
    }

    fn update(&mut self, gradient: &[f64]) -> Result<(), median_core::Error> {
        self.0.update(gradient)
    }

    fn update_batch(&mut self, batch: &<Vb as Backend>::Batch) -> Result<(), median_core::Error> {
        self.0.update_batch(batch)
    }

    fn update_and_descend(
        &mut self,
        gradient: &[f64],
        gamma: f64,
        point: &mut [f64],
    ) -> Result<bool, median_core::Error> {
        self.0.update_and_descend(gradient, gamma, point)
    }

    fn estimate(&self) -> &[f64] {
        self.0.estimate()
    }

    fn reset_to(&mut self, anchor: &[f64]) -> Result<(), median_core::Error> {
        self.0.reset_to(anchor)
    }

    fn reset(&mut self) {
        self.0.reset();
    }
}
