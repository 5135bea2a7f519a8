//! The two places LayerNorm can sit around a residual sub-layer `F`.
//!
//! ```text
//! pre-norm  (CircSSNN Eq. 8; Xiong et al. 2020):  x + F(LN(x))
//! post-norm (Vaswani et al. 2017; BERT; Eq. 5):   LN(x + F(x))
//! ```
//!
//! In pre-norm the identity path carries the gradient to every layer
//! unchanged (the paper's Eq. 7); in post-norm it passes through each LN on
//! its way down (Eq. 6).

use dfdx::nn::Module;
use dfdx::shapes::Shape;
use dfdx::tensor::{PutTape, SplitTape, Tape, Tensor};
use dfdx::tensor_ops::Device;

use super::Elem;

type T<S, D, Tp> = Tensor<S, Elem, D, Tp>;

/// `x + f(ln(x))`.
///
/// ```
/// use circssnn::nn::pre_norm;
/// use dfdx::prelude::*;
/// let dev = Cpu::default();
/// let ln: dfdx::nn::modules::LayerNorm1D<4, f32, Cpu> = dev.build_module::<LayerNorm1D<4>, f32>();
/// let x = dev.tensor([[1.0f32, 2.0, 3.0, 4.0]]);
/// // A sub-layer that outputs zeros leaves the residual stream unchanged.
/// let y = pre_norm(x.clone(), &ln, |h| h * 0.0);
/// assert_eq!(y.array(), x.array());
/// ```
pub fn pre_norm<S, D, Tp, N>(
    x: T<S, D, Tp>,
    ln: &N,
    f: impl FnOnce(T<S, D, Tp>) -> T<S, D, Tp>,
) -> T<S, D, Tp>
where
    S: Shape,
    D: Device<Elem>,
    Tp: Tape<Elem, D>,
    N: Module<T<S, D, Tp>, Output = T<S, D, Tp>>,
{
    // `split_tape` + `clone` gives the identity path its own handle on x;
    // the addition joins the two paths again, so gradients flow through both.
    let (x, tape) = x.split_tape();
    f(ln.forward(x.clone().put_tape(tape))) + x
}

/// `ln(x + f(x))`.
pub fn post_norm<S, D, Tp, N>(
    x: T<S, D, Tp>,
    ln: &N,
    f: impl FnOnce(T<S, D, Tp>) -> T<S, D, Tp>,
) -> T<S, D, Tp>
where
    S: Shape,
    D: Device<Elem>,
    Tp: Tape<Elem, D>,
    N: Module<T<S, D, Tp>, Output = T<S, D, Tp>>,
{
    let (x, tape) = x.split_tape();
    ln.forward(f(x.clone().put_tape(tape)) + x)
}
