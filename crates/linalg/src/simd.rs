//! Runtime selection of the CPU's vector instructions.
//!
//! The workspace is compiled for the baseline of its target (SSE2 on `x86_64`), so that its
//! binaries run on every CPU of that architecture. [`run`] calls a [`Kernel`] from a
//! function compiled with the widest instruction set the running CPU offers (AVX2 and FMA
//! on `x86_64` where present), detected once and cached, so that the loops inlined into the
//! kernel vectorise for that set.
//!
//! The choice never changes a result. The kernels fix their summation order through explicit
//! accumulators and never call `mul_add`, and Rust does not contract `a * b + c` into a fused
//! multiply-add on its own, so every instruction set rounds the same operations the same way.
//!
//! Only code inlined into the kernel benefits: [`Kernel::run`] and every function it calls
//! in its hot loop are marked `#[inline(always)]`. The compiler does not inline a large
//! closure body on its own, so a closure passed to [`dispatch`] carries the mark itself,
//! `simd::dispatch(#[inline(always)] || ...)`, which Rust accepts on a closure in argument
//! position.

/// A computation to run with the CPU's widest vector instructions; see [`run`].
pub trait Kernel {
    /// The result of the computation.
    type Output;

    /// Runs the computation. Implementations mark this method `#[inline(always)]`, or it
    /// is compiled for the baseline instruction set only.
    fn run(self) -> Self::Output;
}

/// Adapts a [`Kernel`] to the dispatcher of the `pulp` crate.
struct Adapter<K>(K);

impl<K: Kernel> pulp::WithSimd for Adapter<K> {
    type Output = K::Output;

    #[inline(always)]
    fn with_simd<V: pulp::Simd>(self, _simd: V) -> K::Output {
        self.0.run()
    }
}

/// Runs `kernel` compiled for the widest vector instruction set of the running CPU.
///
/// # Examples
///
/// ```
/// use median_linalg::simd::{self, Kernel};
///
/// struct SumOfSquares<'a>(&'a [f64]);
///
/// impl Kernel for SumOfSquares<'_> {
///     type Output = f64;
///
///     #[inline(always)]
///     fn run(self) -> f64 {
///         self.0.iter().map(|x| x * x).sum()
///     }
/// }
///
/// assert_eq!(simd::run(SumOfSquares(&[3.0, 4.0])), 25.0);
/// ```
#[inline(always)]
pub fn run<K: Kernel>(kernel: K) -> K::Output {
    pulp::Arch::new().dispatch(Adapter(kernel))
}

/// Runs the closure `op` compiled for the widest vector instruction set of the running CPU.
///
/// Only a body that the compiler inlines gets the wider instructions, so mark the closure
/// `#[inline(always)]` (see the module docs), or implement [`Kernel`] and call [`run`].
///
/// # Examples
///
/// ```
/// use median_linalg::simd;
///
/// let x = vec![1.0_f64; 1000];
/// let total = simd::dispatch(|| x.iter().sum::<f64>());
/// assert_eq!(total, 1000.0);
/// ```
#[inline(always)]
pub fn dispatch<R>(op: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(op)
}
