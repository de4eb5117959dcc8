//! Oracles that add noise to another oracle's gradients: i.i.d. noise per coordinate, and
//! state-dependent vector noise whose scale grows with `||x||` or `||g||`.

use median_linalg::{Scalar, kernels};
use median_noise::{ScaleSource, VectorNoise};
use rand::Rng;
use rand_distr::Distribution;

use super::GradientOracle;
use crate::SgdError;
use crate::error::check_non_negative;

/// The oracle `g = g_inner + xi` with i.i.d. coordinates `xi_j ~ D`.
///
/// `D` is any `rand_distr::Distribution<S>`: a Gaussian, or a heavy-tailed law such as
/// Cauchy or Student-t (from `rand_distr` or `median-noise`). The noise scale is the
/// distribution's own. Worker gradients get independent noise too.
///
/// # Examples
///
/// ```
/// use median_sgd::{AdditiveNoise, ExactGradient, GradientOracle, Quadratic};
/// use rand_distr::Normal;
///
/// let inner = ExactGradient::new(Quadratic::new(vec![1.0, 1.0], vec![0.0, 0.0])?);
/// let mut oracle = AdditiveNoise::new(inner, Normal::new(0.0, 0.1).unwrap());
/// let mut g = [0.0f64; 2];
/// oracle.draw(&[1.0, -1.0], &mut g, &mut median_sgd::rng_from_seed(7))?;
/// assert!((g[0] - 1.0).abs() < 1.0);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AdditiveNoise<O, D> {
    inner: O,
    noise: D,
}

impl<O, D> AdditiveNoise<O, D> {
    /// Wraps `inner`, adding one draw of `noise` to every coordinate of every gradient.
    pub fn new(inner: O, noise: D) -> Self {
        Self { inner, noise }
    }

    /// Returns the wrapped oracle.
    pub fn inner(&self) -> &O {
        &self.inner
    }
}

impl<S: Scalar, O: GradientOracle<S>, D: Distribution<S>> GradientOracle<S>
    for AdditiveNoise<O, D>
{
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        self.inner.draw(x, out, rng)?;
        for o in out.iter_mut() {
            *o = *o + self.noise.sample(rng);
        }
        Ok(())
    }

    fn num_workers(&self) -> Option<usize> {
        self.inner.num_workers()
    }

    fn draw_worker<R: Rng + ?Sized>(
        &mut self,
        worker: usize,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        self.inner.draw_worker(worker, x, out, rng)?;
        for o in out.iter_mut() {
            *o = *o + self.noise.sample(rng);
        }
        Ok(())
    }
}

/// The state-dependent oracle `g = g_inner + sigma xi`, with `xi` one draw of a vector
/// noise law `N` from `median-noise` and the noise scale `sigma = a + b ||x||`
/// ([`ScaleSource::Iterate`]) or `a + b ||g_inner||` ([`ScaleSource::Gradient`]).
///
/// `N` is any [`VectorNoise`]: i.i.d. coordinates ([`Iid`](median_noise::Iid) of a
/// Cauchy, Student-t, Gaussian, ... law) or radial laws. With `b = 0` it adds `a` times the
/// vector noise. Heavy-tailed `N` (Cauchy, say) gives noise with no finite variance whose
/// scale depends on the state: the setting where medians of gradients pay off.
///
/// The noise model is that of `median_noise::StateDependentNoise`, which wraps an exact
/// gradient function. This oracle wraps any [`GradientOracle`] (a mini-batch, a set of
/// workers) instead. With [`ScaleSource::Gradient`] it measures the wrapped oracle's
/// gradient, which is the exact gradient only when the wrapped oracle is exact.
///
/// # Examples
///
/// ```
/// use median_noise::{Iid, ScaleSource};
/// use median_sgd::{ExactGradient, GradientOracle, Quadratic, StateDependentNoise};
/// use rand_distr::StandardNormal;
///
/// let inner = ExactGradient::new(Quadratic::new(vec![1.0], vec![0.0])?);
/// let noise = Iid::new(StandardNormal);
/// let mut oracle = StateDependentNoise::new(inner, noise, ScaleSource::Iterate, 0.0, 1.0)?;
/// // At x = 0 the noise scale a + b ||x|| is 0.
/// let mut g = [1.0f64];
/// oracle.draw(&[0.0], &mut g, &mut median_sgd::rng_from_seed(7))?;
/// assert_eq!(g, [0.0]);
/// # Ok::<(), median_sgd::SgdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct StateDependentNoise<O, N> {
    inner: O,
    noise: N,
    source: ScaleSource,
    a: f64,
    b: f64,
}

impl<O, N> StateDependentNoise<O, N> {
    /// Wraps `inner` with noise law `noise` and scale `a + b ||.||` measured on `source`.
    ///
    /// # Errors
    ///
    /// [`SgdError::InvalidParameter`] unless `a` and `b` are finite and `>= 0`.
    pub fn new(inner: O, noise: N, source: ScaleSource, a: f64, b: f64) -> Result<Self, SgdError> {
        check_non_negative("a", a)?;
        check_non_negative("b", b)?;
        Ok(Self {
            inner,
            noise,
            source,
            a,
            b,
        })
    }

    /// Returns the wrapped oracle.
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// Adds `sigma xi` to the wrapped oracle's gradient in `out`.
    fn add_noise<S: Scalar, R: Rng + ?Sized>(
        &self,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError>
    where
        N: VectorNoise<S>,
    {
        let measured = match self.source {
            ScaleSource::Iterate => kernels::norm(x),
            ScaleSource::Gradient => kernels::norm(out),
        };
        let sigma = S::of_f64(self.a) + S::of_f64(self.b) * measured;
        if !sigma.is_finite() {
            return Err(SgdError::NonFinite {
                what: "noise scale",
                index: 0,
                value: sigma.into_f64(),
            });
        }
        self.noise.add_scaled_into(rng, sigma, out);
        Ok(())
    }
}

impl<S: Scalar, O: GradientOracle<S>, N: VectorNoise<S>> GradientOracle<S>
    for StateDependentNoise<O, N>
{
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn draw<R: Rng + ?Sized>(
        &mut self,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        self.inner.draw(x, out, rng)?;
        self.add_noise(x, out, rng)
    }

    fn num_workers(&self) -> Option<usize> {
        self.inner.num_workers()
    }

    fn draw_worker<R: Rng + ?Sized>(
        &mut self,
        worker: usize,
        x: &[S],
        out: &mut [S],
        rng: &mut R,
    ) -> Result<(), SgdError> {
        self.inner.draw_worker(worker, x, out, rng)?;
        self.add_noise(x, out, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ExactGradient, Quadratic};
    use median_noise::Iid;
    use rand_distr::StandardNormal;

    #[test]
    fn state_dependent_noise_rejects_negative_scale() {
        let inner = ExactGradient::new(Quadratic::new(vec![1.0f64], vec![0.0]).unwrap());
        assert!(matches!(
            StateDependentNoise::new(
                inner.clone(),
                Iid::new(StandardNormal),
                ScaleSource::Iterate,
                -1.0,
                0.0
            ),
            Err(SgdError::InvalidParameter { name: "a", .. })
        ));
        assert!(matches!(
            StateDependentNoise::new(
                inner,
                Iid::new(StandardNormal),
                ScaleSource::Iterate,
                0.0,
                f64::NAN
            ),
            Err(SgdError::InvalidParameter { name: "b", .. })
        ));
    }

    #[test]
    fn state_dependent_noise_scales_with_norm() {
        // Same seed, same standard normal draws: the noise at ||x|| = 3 with b = 1 is three
        // times the noise at a = 1, b = 0.
        let inner = ExactGradient::new(Quadratic::new(vec![0.0f64, 0.0], vec![0.0, 0.0]).unwrap());
        let mut unit = StateDependentNoise::new(
            inner.clone(),
            Iid::new(StandardNormal),
            ScaleSource::Iterate,
            1.0,
            0.0,
        )
        .unwrap();
        let mut grown = StateDependentNoise::new(
            inner,
            Iid::new(StandardNormal),
            ScaleSource::Iterate,
            0.0,
            1.0,
        )
        .unwrap();
        let (mut g1, mut g3) = ([0.0; 2], [0.0; 2]);
        unit.draw(&[0.0, 0.0], &mut g1, &mut crate::rng_from_seed(5))
            .unwrap();
        grown
            .draw(&[3.0, 0.0], &mut g3, &mut crate::rng_from_seed(5))
            .unwrap();
        for j in 0..2 {
            assert_eq!(g3[j], 3.0 * g1[j]);
        }
    }

    #[test]
    fn gradient_scale_source_measures_the_gradient() {
        // grad f(3, 0) = (6, 0) for eigenvalues (2, 2): sigma = ||g|| = 6.
        let inner = ExactGradient::new(Quadratic::new(vec![2.0f64, 2.0], vec![0.0, 0.0]).unwrap());
        let noise = Iid::new(StandardNormal);
        let mut unit =
            StateDependentNoise::new(inner.clone(), noise, ScaleSource::Iterate, 1.0, 0.0).unwrap();
        let mut scaled =
            StateDependentNoise::new(inner, noise, ScaleSource::Gradient, 0.0, 1.0).unwrap();
        let (mut g1, mut g6) = ([0.0; 2], [0.0; 2]);
        unit.draw(&[3.0, 0.0], &mut g1, &mut crate::rng_from_seed(8))
            .unwrap();
        scaled
            .draw(&[3.0, 0.0], &mut g6, &mut crate::rng_from_seed(8))
            .unwrap();
        for j in 0..2 {
            let exact = [6.0, 0.0][j];
            approx::assert_relative_eq!(g6[j] - exact, 6.0 * (g1[j] - exact), max_relative = 1e-14);
        }
    }
}
