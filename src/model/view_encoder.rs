//! One descriptor view `101 x V` to 128 tokens of width 400.
//!
//! The paper's feature encoder is `Conv1d(101, 128, kernel_size=1,
//! bias=False)` over the 101 positions taken as channels, then
//! `BatchNorm1d(128)` and ReLU. A 1x1 convolution is a matrix product, so it
//! is written as one here (dfdx's Conv1D is nightly-only). The views are then
//! concatenated along the feature axis and mapped by `Linear(ΣV, 400)`;
//! splitting that weight by column blocks, the map is the sum over views of
//! `UnbiasedLinear(V, 400)` plus one shared bias ([`super::network`] adds it),
//! which lets any subset of views run without runtime-sized concatenation.

use dfdx::nn::modules::{BatchNorm1D, UnbiasedLinear};
use dfdx::nn::{
    BuildModule, BuildOnDevice, Module, ModuleMut, ModuleVisitor, TensorCollection, TensorOptions,
};
use dfdx::prelude::{Const, Device, NoneTape, OwnedTape, Rank2, Tape, Tensor};
use dfdx::shapes::HasShape;
use dfdx::tensor_ops::{BroadcastTo, TryMatMul};
use rand_distr::Uniform;

use super::{Tokens, POSITIONS, TOKENS, WIDTH};
use crate::nn::{per_token, Elem};

/// Parameters of one view's encoder.
#[derive(Debug, Clone)]
pub struct ViewEncoder<const V: usize, E: dfdx::shapes::Dtype, D: dfdx::tensor::Storage<E>> {
    /// The 1x1 convolution over positions: `128 x 101`.
    pub position_mix: Tensor<Rank2<TOKENS, POSITIONS>, E, D>,
    /// BatchNorm over the 128 tokens (statistics over batch and features).
    pub norm: BatchNorm1D<TOKENS, E, D>,
    /// This view's column block of `Linear(ΣV, 400)`.
    pub project: UnbiasedLinear<V, WIDTH, E, D>,
}

/// Device-free description of [`ViewEncoder`], for `dev.build_module`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ViewEncoderBuilder<const V: usize>;

impl<const V: usize, D: Device<Elem>> BuildOnDevice<D, Elem> for ViewEncoderBuilder<V> {
    type Built = ViewEncoder<V, Elem, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        const V: usize,
        E: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
        D: Device<E>,
    > TensorCollection<E, D> for ViewEncoder<V, E, D>
{
    type To<E2: dfdx::shapes::Dtype, D2: Device<E2>> = ViewEncoder<V, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "position_mix",
                    |s| &s.position_mix,
                    |s| &mut s.position_mix,
                    // PyTorch's default for a conv with fan-in 101.
                    TensorOptions::reset_with(|t| {
                        let b: E = num_traits::cast(1.0 / (POSITIONS as f64).sqrt())
                            .expect("a float type");
                        t.try_fill_with_distr(Uniform::new(-b, b))
                    }),
                ),
                Self::module("norm", |s| &s.norm, |s| &mut s.norm),
                Self::module("project", |s| &s.project, |s| &mut s.project),
            ),
            |(position_mix, norm, project)| ViewEncoder {
                position_mix,
                norm,
                project,
            },
        )
    }
}

impl<const V: usize, D: Device<Elem>> ViewEncoder<V, Elem, D> {
    /// `(B, 101, V) -> (B, 128, V)`: every feature column is mixed across
    /// positions, `W x_b` for each window.
    ///
    /// Written as `W` broadcast over the batch times `x`, so the product is
    /// laid out `(B, 128, V)` as BatchNorm reads it; as `(x^T W^T)^T` it was
    /// a permuted view that BatchNorm and ReLU walked with strides (the
    /// paper profile's BERT view, V = 768: 52–62 against 25–35 ms per
    /// training step for BatchNorm alone).
    fn mix<T: Tape<Elem, D>>(
        &self,
        x: Tensor<(usize, Const<POSITIONS>, Const<V>), Elem, D, T>,
    ) -> Tensor<(usize, Const<TOKENS>, Const<V>), Elem, D, T> {
        let batch = x.shape().0;
        let w = self.position_mix.retaped::<T>();
        w.broadcast_like(&(batch, Const::<TOKENS>, Const::<POSITIONS>))
            .matmul(x)
    }

    /// Training forward: BatchNorm uses and updates batch statistics.
    pub fn forward_train(
        &mut self,
        x: Tensor<(usize, Const<POSITIONS>, Const<V>), Elem, D, OwnedTape<Elem, D>>,
    ) -> Tokens<D, OwnedTape<Elem, D>> {
        let h = self.mix(x);
        let h = self.norm.forward_mut(h).relu();
        per_token(h, |r| self.project.forward(r))
    }

    /// Inference forward on an input that carries a gradient tape, for the
    /// gradient of a prediction with respect to the descriptor values
    /// (gradient x input). dfdx's inference BatchNorm accepts only untaped
    /// input, so its running-statistics affine map is written out here in
    /// the same operations and order, `(h - mean) * (scale / sqrt(var + eps))
    /// + bias`: the values equal [`forward_eval`](Self::forward_eval)'s.
    pub fn forward_eval_traced<T: Tape<Elem, D>>(
        &self,
        x: Tensor<(usize, Const<POSITIONS>, Const<V>), Elem, D, T>,
    ) -> Tokens<D, T> {
        let h = self.mix(x);
        let shape = *h.shape();
        let bn = &self.norm;
        let std = (bn.running_var.clone() + bn.epsilon as Elem).sqrt();
        let scale = (bn.scale.clone() / std).broadcast_like(&shape);
        let h = (h - bn.running_mean.clone().broadcast_like(&shape)) * scale
            + bn.bias.clone().broadcast_like(&shape);
        per_token(h.relu(), |r| self.project.forward(r))
    }

    /// Inference forward: BatchNorm uses its running statistics.
    pub fn forward_eval(
        &self,
        x: Tensor<(usize, Const<POSITIONS>, Const<V>), Elem, D>,
    ) -> Tokens<D, NoneTape> {
        let h = self.mix(x);
        let h = self.norm.forward(h).relu();
        per_token(h, |r| self.project.forward(r))
    }
}
