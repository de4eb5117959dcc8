//! Step-size schedules `gamma_t`, validated at construction.

use crate::SgdError;
use crate::error::{check_count, check_positive};

/// A step-size schedule: the step `gamma_t` an optimizer uses at iteration `t = 0, 1, ...`.
///
/// Built by one of the validated constructors, so every schedule returns finite, positive
/// steps (the cosine schedule may reach its floor `gamma_min`, which may be 0).
///
/// # Examples
///
/// ```
/// use median_sgd::Schedule;
///
/// let s = Schedule::inv_sqrt(1.0)?;
/// assert_eq!(s.at(0), 1.0);
/// assert_eq!(s.at(3), 0.5);
/// assert!(Schedule::constant(-0.1).is_err());
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Constant {
        gamma: f64,
    },
    StepDecay {
        gamma0: f64,
        factor: f64,
        every: usize,
    },
    Cosine {
        gamma0: f64,
        gamma_min: f64,
        horizon: usize,
    },
    InvSqrt {
        gamma0: f64,
    },
}

impl Schedule {
    /// Creates the constant schedule `gamma_t = gamma`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `gamma` is finite and `> 0`.
    pub fn constant(gamma: f64) -> Result<Self, SgdError> {
        check_positive("gamma", gamma)?;
        Ok(Self {
            kind: Kind::Constant { gamma },
        })
    }

    /// Creates the step-decay schedule `gamma_t = gamma0 * factor^floor(t / every)`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `gamma0` is finite and `> 0`, `factor` is in
    /// `(0, 1]` and `every >= 1`.
    pub fn step_decay(gamma0: f64, factor: f64, every: usize) -> Result<Self, SgdError> {
        check_positive("gamma0", gamma0)?;
        if !(factor > 0.0 && factor <= 1.0) {
            return Err(SgdError::InvalidParameter {
                name: "factor",
                value: factor,
                expected: "must be in (0, 1]",
            });
        }
        check_count("every", every)?;
        Ok(Self {
            kind: Kind::StepDecay {
                gamma0,
                factor,
                every,
            },
        })
    }

    /// Creates the cosine schedule
    /// `gamma_t = gamma_min + (gamma0 - gamma_min) (1 + cos(pi min(t, T) / T)) / 2` with
    /// horizon `T`. After the horizon the step stays at `gamma_min`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `gamma0` is finite and `> 0`, `gamma_min` is in
    /// `[0, gamma0]` and `horizon >= 1`.
    pub fn cosine(gamma0: f64, gamma_min: f64, horizon: usize) -> Result<Self, SgdError> {
        check_positive("gamma0", gamma0)?;
        if !(gamma_min >= 0.0 && gamma_min <= gamma0) {
            return Err(SgdError::InvalidParameter {
                name: "gamma_min",
                value: gamma_min,
                expected: "must be in [0, gamma0]",
            });
        }
        check_count("horizon", horizon)?;
        Ok(Self {
            kind: Kind::Cosine {
                gamma0,
                gamma_min,
                horizon,
            },
        })
    }

    /// Creates the schedule `gamma_t = gamma0 / sqrt(t + 1)`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `gamma0` is finite and `> 0`.
    pub fn inv_sqrt(gamma0: f64) -> Result<Self, SgdError> {
        check_positive("gamma0", gamma0)?;
        Ok(Self {
            kind: Kind::InvSqrt { gamma0 },
        })
    }

    /// Returns the step size at iteration `t` (counted from 0).
    pub fn at(&self, t: usize) -> f64 {
        match self.kind {
            Kind::Constant { gamma } => gamma,
            Kind::StepDecay {
                gamma0,
                factor,
                every,
            } => {
                // A huge exponent underflows to 0 rather than wrapping.
                let exponent = i32::try_from(t / every).unwrap_or(i32::MAX);
                gamma0 * factor.powi(exponent)
            }
            Kind::Cosine {
                gamma0,
                gamma_min,
                horizon,
            } => {
                let progress = t.min(horizon) as f64 / horizon as f64;
                gamma_min
                    + (gamma0 - gamma_min) * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            Kind::InvSqrt { gamma0 } => gamma0 / ((t as f64) + 1.0).sqrt(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn constant_rejects_bad_gamma() {
        for gamma in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Schedule::constant(gamma),
                Err(SgdError::InvalidParameter { name: "gamma", .. })
            ));
        }
    }

    #[test]
    fn step_decay_halves_every_period() {
        let s = Schedule::step_decay(0.8, 0.5, 10).unwrap();
        assert_eq!(s.at(0), 0.8);
        assert_eq!(s.at(9), 0.8);
        assert_eq!(s.at(10), 0.4);
        assert_eq!(s.at(25), 0.2);
        assert!(Schedule::step_decay(1.0, 1.5, 1).is_err());
        assert!(Schedule::step_decay(1.0, 0.5, 0).is_err());
    }

    #[test]
    fn cosine_reaches_floor_at_horizon() {
        let s = Schedule::cosine(1.0, 0.1, 100).unwrap();
        assert_eq!(s.at(0), 1.0);
        assert_relative_eq!(s.at(50), 0.55, epsilon = 1e-12);
        assert_relative_eq!(s.at(100), 0.1, epsilon = 1e-12);
        assert_relative_eq!(s.at(1000), 0.1, epsilon = 1e-12);
        assert!(Schedule::cosine(1.0, 2.0, 10).is_err());
        assert!(Schedule::cosine(1.0, 0.0, 0).is_err());
    }

    #[test]
    fn inv_sqrt_values() {
        let s = Schedule::inv_sqrt(2.0).unwrap();
        assert_eq!(s.at(0), 2.0);
        assert_eq!(s.at(15), 0.5);
    }
}
