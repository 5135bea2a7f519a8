//! One BERT encoder layer, post-norm as in BERT (and unlike CircSSNN's own
//! pre-norm block): `x = LN(x + Attn(x)); x = LN(x + FFN(x))`, attention with
//! biased q/k/v maps and the per-head `1/sqrt(D/H)` scale.

use dfdx::nn::modules::{LayerNorm1D, Linear};
use dfdx::nn::{Module, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Axes4, Axis, Const, Device, Tape};
use dfdx::shapes::{Dtype, HasShape};
use dfdx::tensor::{PutTape, SplitTape, Storage};
use dfdx::tensor_ops::{PermuteTo, ReshapeTo, TryMatMul};

use super::{Activation, Hidden, SEQ};
use crate::model::{per_token, Elem};

/// Parameters of one layer of a `D`-wide BERT with `H` heads and an `F`-wide
/// feed-forward layer.
#[derive(Debug, Clone)]
pub struct BertLayer<const D: usize, const H: usize, const F: usize, E: Dtype, Dev: Storage<E>> {
    /// Query map.
    pub query: Linear<D, D, E, Dev>,
    /// Key map.
    pub key: Linear<D, D, E, Dev>,
    /// Value map.
    pub value: Linear<D, D, E, Dev>,
    /// Attention output map.
    pub attn_out: Linear<D, D, E, Dev>,
    /// LayerNorm after the attention residual.
    pub attn_norm: LayerNorm1D<D, E, Dev>,
    /// Feed-forward `D -> F`.
    pub ffn_in: Linear<D, F, E, Dev>,
    /// Feed-forward `F -> D`.
    pub ffn_out: Linear<F, D, E, Dev>,
    /// LayerNorm after the feed-forward residual.
    pub ffn_norm: LayerNorm1D<D, E, Dev>,
}

impl<const D: usize, const H: usize, const F: usize, E, Dev> TensorCollection<E, Dev>
    for BertLayer<D, H, F, E, Dev>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = BertLayer<D, H, F, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            // dfdx visits at most 6 fields per tuple: attention, then feed-forward.
            (
                (
                    Self::module("query", |s| &s.query, |s| &mut s.query),
                    Self::module("key", |s| &s.key, |s| &mut s.key),
                    Self::module("value", |s| &s.value, |s| &mut s.value),
                    Self::module("attn_out", |s| &s.attn_out, |s| &mut s.attn_out),
                ),
                (
                    Self::module("attn_norm", |s| &s.attn_norm, |s| &mut s.attn_norm),
                    Self::module("ffn_in", |s| &s.ffn_in, |s| &mut s.ffn_in),
                    Self::module("ffn_out", |s| &s.ffn_out, |s| &mut s.ffn_out),
                    Self::module("ffn_norm", |s| &s.ffn_norm, |s| &mut s.ffn_norm),
                ),
            ),
            |((query, key, value, attn_out), (attn_norm, ffn_in, ffn_out, ffn_norm))| BertLayer {
                query,
                key,
                value,
                attn_out,
                attn_norm,
                ffn_in,
                ffn_out,
                ffn_norm,
            },
        )
    }
}

fn dropout<S: dfdx::shapes::Shape, Dev: Device<Elem>, T: Tape<Elem, Dev>>(
    x: dfdx::tensor::Tensor<S, Elem, Dev, T>,
    p: f64,
) -> dfdx::tensor::Tensor<S, Elem, Dev, T> {
    if p > 0.0 {
        x.dropout(p)
    } else {
        x
    }
}

impl<const D: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    BertLayer<D, H, F, Elem, Dev>
{
    /// Width of one head. Not a type: `D / H` cannot be written in a type on
    /// stable Rust, so the head axis is the one runtime-sized dimension here.
    pub const HEAD_DIM: usize = {
        assert!(D % H == 0, "heads must divide the width");
        D / H
    };

    /// `batch x 101 x D` in, the same out; `dropout` 0 in evaluation.
    pub fn forward<T: Tape<Elem, Dev>>(
        &self,
        x: Hidden<D, Dev, T>,
        act: Activation,
        p: f64,
    ) -> Hidden<D, Dev, T> {
        let b = x.shape().0;
        let dh = Self::HEAD_DIM;
        let (x, tape) = x.split_tape();
        let heads = |t: Hidden<D, Dev, T>| {
            t.reshape_like(&(b, Const::<SEQ>, Const::<H>, dh))
                .permute::<_, Axes4<0, 2, 1, 3>>() // (B, H, 101, D/H)
        };
        let q = heads(per_token(x.clone().put_tape(tape), |r| {
            self.query.forward(r)
        }));
        let k = heads(per_token(x.clone().retaped::<T>(), |r| self.key.forward(r)));
        let v = heads(per_token(x.clone().retaped::<T>(), |r| {
            self.value.forward(r)
        }));
        let scores = q.matmul(k.permute::<_, Axes4<0, 1, 3, 2>>()) * (dh as Elem).powf(-0.5);
        let weights = dropout(scores.softmax::<Axis<3>>(), p);
        let context = weights
            .matmul(v)
            .permute::<_, Axes4<0, 2, 1, 3>>()
            .reshape_like(&(b, Const::<SEQ>, Const::<D>));
        let attended = dropout(per_token(context, |r| self.attn_out.forward(r)), p);
        let a = self.attn_norm.forward(attended + x.retaped::<T>());

        let (a, tape) = a.split_tape();
        let h = per_token(a.clone().put_tape(tape), |r| self.ffn_in.forward(r));
        let h = match act {
            Activation::Gelu => h.accurate_gelu(),
            Activation::GeluTanh => h.fast_gelu(),
            Activation::Relu => h.relu(),
        };
        let h = dropout(per_token(h, |r| self.ffn_out.forward(r)), p);
        self.ffn_norm.forward(h + a.retaped::<T>())
    }
}
