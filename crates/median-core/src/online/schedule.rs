//! Step-size schedules `tau_k` for the online estimators.

use median_linalg::Scalar;

use crate::Error;

/// A validated step-size schedule: the SPP step `tau_k` used by update `k = 0, 1, 2, ...`
/// (counted since the last reset).
///
/// | constructor | `tau_k` | valid parameters |
/// |---|---|---|
/// | [`constant`](StepSchedule::constant) | `tau` | `tau > 0`, `+inf` allowed |
/// | [`inverse_sqrt`](StepSchedule::inverse_sqrt) | `tau0 / sqrt(k + 1)` | `tau0 > 0`, `+inf` allowed |
/// | [`power_law`](StepSchedule::power_law) | `tau0 (k + 1)^(-p)` | `tau0 > 0`, `+inf` allowed; `0 < p <= 1` |
///
/// For a fixed distribution, a decreasing schedule (often with Polyak-Ruppert averaging)
/// makes the estimate converge; inside an optimizer the target moves, and a constant step
/// is the usual choice. An infinite `tau0` gives `tau_k = +inf` for every `k`.
///
/// # Examples
///
/// ```
/// use median_core::online::StepSchedule;
///
/// let s = StepSchedule::inverse_sqrt(2.0)?;
/// assert_eq!(s.step_size(0), 2.0);
/// assert_eq!(s.step_size(3), 1.0);
/// assert!(StepSchedule::constant(0.0).is_err());
/// # Ok::<(), median_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepSchedule<S> {
    tau0: S,
    kind: Kind<S>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind<S> {
    Constant,
    InverseSqrt,
    PowerLaw { exponent: S },
}

impl<S: Scalar> StepSchedule<S> {
    /// Creates the constant schedule `tau_k = tau`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"tau"` unless `tau > 0` (NaN is rejected,
    /// `+inf` is allowed).
    pub fn constant(tau: S) -> Result<Self, Error> {
        check_tau0("tau", tau)?;
        Ok(Self {
            tau0: tau,
            kind: Kind::Constant,
        })
    }

    /// Creates the schedule `tau_k = tau0 / sqrt(k + 1)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"tau0"` unless `tau0 > 0` (NaN is rejected,
    /// `+inf` is allowed).
    pub fn inverse_sqrt(tau0: S) -> Result<Self, Error> {
        check_tau0("tau0", tau0)?;
        Ok(Self {
            tau0,
            kind: Kind::InverseSqrt,
        })
    }

    /// Creates the schedule `tau_k = tau0 (k + 1)^(-exponent)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming `"tau0"` unless `tau0 > 0` (NaN is rejected,
    /// `+inf` is allowed), or naming `"exponent"` unless `0 < exponent <= 1`.
    pub fn power_law(tau0: S, exponent: S) -> Result<Self, Error> {
        check_tau0("tau0", tau0)?;
        if !(exponent > S::zero() && exponent <= S::one()) {
            return Err(Error::InvalidParameter {
                name: "exponent",
                value: exponent.into_f64(),
                expected: "must be in (0, 1]",
            });
        }
        Ok(Self {
            tau0,
            kind: Kind::PowerLaw { exponent },
        })
    }

    /// Returns the initial step `tau_0`.
    pub fn tau0(&self) -> S {
        self.tau0
    }

    /// Returns the step `tau_k` for update `k` (0 for the first update after a reset).
    ///
    /// The value is `> 0` or `+inf`; it reaches 0 only by underflow, for `k` far beyond any
    /// practical run.
    pub fn step_size(&self, k: u64) -> S {
        let count = S::of_f64(k as f64 + 1.0);
        match self.kind {
            Kind::Constant => self.tau0,
            Kind::InverseSqrt => self.tau0 / count.sqrt(),
            Kind::PowerLaw { exponent } => self.tau0 * count.powf(-exponent),
        }
    }
}

/// Checks that an initial step is `> 0` and not NaN.
fn check_tau0<S: Scalar>(name: &'static str, value: S) -> Result<(), Error> {
    if value > S::zero() {
        return Ok(());
    }
    Err(Error::InvalidParameter {
        name,
        value: value.into_f64(),
        expected: "must be > 0 and not NaN (+inf makes every step jump to the gradient)",
    })
}
