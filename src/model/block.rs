//! One Seq_Transformer block: attention and feed-forward sub-layers, each
//! wrapped in a residual connection with LayerNorm before (pre-norm, the
//! paper's Eq. 8) or after (post-norm, Eq. 5) the sub-layer
//! ([`crate::nn::residual`] holds the two placements).

use dfdx::nn::modules::{LayerNorm1D, Linear};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Device, Tape};

use super::attention::{AttentionMap, SeqAttention};
use super::{Norm, Tokens, FFN_HIDDEN, WIDTH};
use crate::nn::{dropout, per_token, post_norm, pre_norm, Elem};

/// Parameters of one block.
#[derive(Debug, Clone)]
pub struct TransformerBlock<E: dfdx::shapes::Dtype, D: dfdx::tensor::Storage<E>> {
    /// LayerNorm of the attention sub-layer.
    pub norm_attn: LayerNorm1D<WIDTH, E, D>,
    /// Multi-head self-attention.
    pub attn: SeqAttention<E, D>,
    /// LayerNorm of the feed-forward sub-layer.
    pub norm_ffn: LayerNorm1D<WIDTH, E, D>,
    /// Feed-forward 400 -> 200.
    pub ffn_in: Linear<WIDTH, FFN_HIDDEN, E, D>,
    /// Feed-forward 200 -> 400.
    pub ffn_out: Linear<FFN_HIDDEN, WIDTH, E, D>,
}

/// Device-free description of [`TransformerBlock`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TransformerBlockBuilder;

impl<D: Device<Elem>> BuildOnDevice<D, Elem> for TransformerBlockBuilder {
    type Built = TransformerBlock<Elem, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        E: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
        D: Device<E>,
    > TensorCollection<E, D> for TransformerBlock<E, D>
{
    type To<E2: dfdx::shapes::Dtype, D2: Device<E2>> = TransformerBlock<E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("norm_attn", |s| &s.norm_attn, |s| &mut s.norm_attn),
                Self::module("attn", |s| &s.attn, |s| &mut s.attn),
                Self::module("norm_ffn", |s| &s.norm_ffn, |s| &mut s.norm_ffn),
                Self::module("ffn_in", |s| &s.ffn_in, |s| &mut s.ffn_in),
                Self::module("ffn_out", |s| &s.ffn_out, |s| &mut s.ffn_out),
            ),
            |(norm_attn, attn, norm_ffn, ffn_in, ffn_out)| TransformerBlock {
                norm_attn,
                attn,
                norm_ffn,
                ffn_in,
                ffn_out,
            },
        )
    }
}

impl<D: Device<Elem>> TransformerBlock<Elem, D> {
    /// FFN(x) = Dropout(W2 Dropout(ReLU(W1 x + b1)) + b2).
    fn ffn<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, p: f64) -> Tokens<D, T> {
        let h = dropout(per_token(x, |r| self.ffn_in.forward(r)).relu(), p);
        dropout(per_token(h, |r| self.ffn_out.forward(r)), p)
    }

    /// The block; `dropout` is 0 in evaluation.
    pub fn forward<T: Tape<Elem, D>>(
        &self,
        x: Tokens<D, T>,
        norm: Norm,
        dropout: f64,
    ) -> Tokens<D, T> {
        self.forward_with_map(x, norm, dropout).0
    }

    /// The block, also returning its attention weights.
    pub fn forward_with_map<T: Tape<Elem, D>>(
        &self,
        x: Tokens<D, T>,
        norm: Norm,
        dropout: f64,
    ) -> (Tokens<D, T>, AttentionMap<D>) {
        let mut map = None;
        let mha = |h: Tokens<D, T>| {
            let (a, m) = self.attn.forward_with_map(h, dropout);
            map = Some(m);
            a
        };
        let ffn = |h: Tokens<D, T>| self.ffn(h, dropout);
        let out = match norm {
            Norm::Pre => {
                // Eq. 8:  p = x + MHA(LN(x));   x' = p + FFN(LN(p))
                let p = pre_norm(x, &self.norm_attn, mha);
                pre_norm(p, &self.norm_ffn, ffn)
            }
            Norm::Post => {
                // Eq. 5:  p = LN(x + MHA(x));   x' = LN(p + FFN(p))
                let p = post_norm(x, &self.norm_attn, mha);
                post_norm(p, &self.norm_ffn, ffn)
            }
        };
        (out, map.expect("the attention sub-layer ran"))
    }
}
