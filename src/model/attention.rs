//! Multi-head self-attention as the Seq_Transformer has it (paper Eq. 12–15).
//!
//! Two details differ from textbook attention and are kept on purpose:
//! the scores are scaled by `400^-0.5` (the whole width, not the 50 of one
//! head), and the query/key/value map has no bias. The fused
//! `Linear(400, 1200, bias=False)` of the original is stored as three
//! `400 x 400` blocks — the same parameters, partitioned. The heads
//! themselves are [`crate::nn::self_attention`], shared with the BERT.

use dfdx::nn::modules::{Linear, UnbiasedLinear};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Const, Device, Tape};

use super::{Tokens, HEADS, TOKENS, WIDTH};
use crate::nn::{self, per_token, self_attention, AttentionWeights, Elem};

const HEAD_DIM: usize = WIDTH / HEADS;
const _: () = assert!(WIDTH.is_multiple_of(HEADS), "heads must divide the width");

/// Parameters of one attention sub-layer.
#[derive(Debug, Clone)]
pub struct SeqAttention<E: dfdx::shapes::Dtype, D: dfdx::tensor::Storage<E>> {
    /// Query block of the fused qkv map.
    pub to_q: UnbiasedLinear<WIDTH, WIDTH, E, D>,
    /// Key block.
    pub to_k: UnbiasedLinear<WIDTH, WIDTH, E, D>,
    /// Value block.
    pub to_v: UnbiasedLinear<WIDTH, WIDTH, E, D>,
    /// Output projection (with bias).
    pub to_out: Linear<WIDTH, WIDTH, E, D>,
}

/// Device-free description of [`SeqAttention`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SeqAttentionBuilder;

impl<D: Device<Elem>> BuildOnDevice<D, Elem> for SeqAttentionBuilder {
    type Built = SeqAttention<Elem, D>;
    fn try_build_on_device(device: &D) -> Result<Self::Built, D::Err> {
        Self::Built::try_build(device)
    }
}

impl<
        E: dfdx::shapes::Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
        D: Device<E>,
    > TensorCollection<E, D> for SeqAttention<E, D>
{
    type To<E2: dfdx::shapes::Dtype, D2: Device<E2>> = SeqAttention<E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, D>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("to_q", |s| &s.to_q, |s| &mut s.to_q),
                Self::module("to_k", |s| &s.to_k, |s| &mut s.to_k),
                Self::module("to_v", |s| &s.to_v, |s| &mut s.to_v),
                Self::module("to_out", |s| &s.to_out, |s| &mut s.to_out),
            ),
            |(to_q, to_k, to_v, to_out)| SeqAttention {
                to_q,
                to_k,
                to_v,
                to_out,
            },
        )
    }
}

/// Attention weights of one forward pass, `batch x heads x 128 x 128`.
pub type AttentionMap<D> = AttentionWeights<HEADS, TOKENS, D>;

impl<D: Device<Elem>> SeqAttention<Elem, D> {
    /// Self-attention over the 128 tokens; `dropout` applies to the output
    /// projection (0 in evaluation).
    pub fn forward<T: Tape<Elem, D>>(&self, x: Tokens<D, T>, dropout: f64) -> Tokens<D, T> {
        self.forward_with_map(x, dropout).0
    }

    /// As [`forward`](Self::forward), also returning the attention weights
    /// (for plots of what the model looks at).
    pub fn forward_with_map<T: Tape<Elem, D>>(
        &self,
        x: Tokens<D, T>,
        dropout: f64,
    ) -> (Tokens<D, T>, AttentionMap<D>) {
        // Eq. 15 with d = 400: the whole width, as in the original code.
        let scale = (WIDTH as Elem).powf(-0.5);
        let (heads, map) = self_attention::<TOKENS, WIDTH, HEADS, _, _, _>(
            x,
            |x| per_token(x, |r| self.to_q.forward(r)),
            |x| per_token(x, |r| self.to_k.forward(r)),
            |x| per_token(x, |r| self.to_v.forward(r)),
            Const::<HEAD_DIM>,
            scale,
            0.0,
        );
        let out = per_token(heads, |r| self.to_out.forward(r));
        (nn::dropout(out, dropout), map)
    }
}
