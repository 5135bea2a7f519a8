//! One BERT encoder layer, post-norm as in BERT (and unlike CircSSNN's own
//! pre-norm block): `x = LN(x + Attn(x)); x = LN(x + FFN(x))`, attention
//! ([`crate::nn::self_attention`]) with biased q/k/v maps, the per-head
//! `1/sqrt(D/H)` scale and dropout on the attention weights.

use dfdx::nn::modules::{LayerNorm1D, Linear};
use dfdx::nn::{Module, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Device, Tape};
use dfdx::shapes::Dtype;
use dfdx::tensor::Storage;

use super::{Activation, Hidden, SEQ};
use crate::nn::{dropout, per_token, post_norm, self_attention, Elem};

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

impl<const D: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    BertLayer<D, H, F, Elem, Dev>
{
    /// Width of one head. Not a type: `D / H` cannot be written in a type on
    /// stable Rust, so the head axis is the one runtime-sized dimension here.
    pub const HEAD_DIM: usize = {
        assert!(D.is_multiple_of(H), "heads must divide the width");
        D / H
    };

    /// `Dropout(W_o · MHA(x))`, with biased q/k/v maps, the per-head scale and
    /// dropout on the attention weights.
    fn attention<T: Tape<Elem, Dev>>(&self, x: Hidden<D, Dev, T>, p: f64) -> Hidden<D, Dev, T> {
        let dh = Self::HEAD_DIM;
        let (context, _) = self_attention::<SEQ, D, H, _, _, _>(
            x,
            |x| per_token(x, |r| self.query.forward(r)),
            |x| per_token(x, |r| self.key.forward(r)),
            |x| per_token(x, |r| self.value.forward(r)),
            dh,
            (dh as Elem).powf(-0.5),
            p,
        );
        dropout(per_token(context, |r| self.attn_out.forward(r)), p)
    }

    /// `Dropout(W_2 · act(W_1 x))`.
    fn ffn<T: Tape<Elem, Dev>>(
        &self,
        x: Hidden<D, Dev, T>,
        act: Activation,
        p: f64,
    ) -> Hidden<D, Dev, T> {
        let h = per_token(x, |r| self.ffn_in.forward(r));
        let h = match act {
            Activation::Gelu => h.accurate_gelu(),
            Activation::GeluTanh => h.fast_gelu(),
            Activation::Relu => h.relu(),
        };
        dropout(per_token(h, |r| self.ffn_out.forward(r)), p)
    }

    /// `batch x 101 x D` in, the same out; `dropout` 0 in evaluation.
    pub fn forward<T: Tape<Elem, Dev>>(
        &self,
        x: Hidden<D, Dev, T>,
        act: Activation,
        p: f64,
    ) -> Hidden<D, Dev, T> {
        //   a  = LN(x + Attn(x))
        let a = post_norm(x, &self.attn_norm, |x| self.attention(x, p));
        //   x' = LN(a + FFN(a))
        post_norm(a, &self.ffn_norm, |a| self.ffn(a, act, p))
    }
}
