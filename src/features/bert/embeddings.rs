//! BERT's input layer: token embedding + learned position embedding + the
//! (single) token-type embedding, then LayerNorm (Devlin et al. 2019, §3).

use dfdx::nn::modules::{Embedding, LayerNorm1D};
use dfdx::nn::{Module, ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::prelude::{Axes2, Axis, Const, Device, Rank1, Tape, Tensor};
use dfdx::shapes::{Dtype, HasShape};
use dfdx::tensor::{SplitTape, Storage};
use dfdx::tensor_ops::{BroadcastTo, GatherTo};

use super::{Hidden, TokenIds, SEQ, VOCAB};
use crate::nn::Elem;

/// Embedding parameters of a `D`-wide BERT.
#[derive(Debug, Clone)]
pub struct BertEmbeddings<const D: usize, E: Dtype, Dev: Storage<E>> {
    /// Token embedding, `69 x D`.
    pub word: Embedding<VOCAB, D, E, Dev>,
    /// Learned position embedding, `101 x D` (a checkpoint's longer table is cut to 101 rows).
    pub position: Tensor<(Const<SEQ>, Const<D>), E, Dev>,
    /// Row 0 of the token-type table: every token here is of type 0.
    pub token_type: Tensor<Rank1<D>, E, Dev>,
    /// LayerNorm after the sum.
    pub norm: LayerNorm1D<D, E, Dev>,
}

impl<const D: usize, E, Dev> TensorCollection<E, Dev> for BertEmbeddings<D, E, Dev>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = BertEmbeddings<D, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("word", |s| &s.word, |s| &mut s.word),
                Self::tensor(
                    "position",
                    |s| &s.position,
                    |s| &mut s.position,
                    TensorOptions::reset_with(|t| {
                        // Standard deviation 0.02, BERT's initialiser range, as a uniform.
                        let b = E::from(0.02 * 3f64.sqrt()).unwrap();
                        t.try_fill_with_distr(rand_distr::Uniform::new(-b, b))
                    }),
                ),
                Self::tensor(
                    "token_type",
                    |s| &s.token_type,
                    |s| &mut s.token_type,
                    TensorOptions::reset_to_zeros(),
                ),
                Self::module("norm", |s| &s.norm, |s| &mut s.norm),
            ),
            |(word, position, token_type, norm)| BertEmbeddings {
                word,
                position,
                token_type,
                norm,
            },
        )
    }
}

impl<const D: usize, Dev: Device<Elem>> BertEmbeddings<D, Elem, Dev> {
    /// Hidden states `batch x 101 x D` of token ids; the gradient tape `T`
    /// starts at the token table.
    pub fn forward<T: Tape<Elem, Dev>>(
        &self,
        ids: TokenIds<Dev>,
        dropout: f64,
    ) -> Hidden<D, Dev, T> {
        let (ids, _) = ids.split_tape();
        let x: Hidden<D, Dev, T> = self.word.weight.retaped::<T>().gather(ids);
        let shape = *x.shape();
        let x = x
            + self
                .position
                .retaped::<T>()
                .broadcast_like::<_, Axis<0>>(&shape)
            + self
                .token_type
                .retaped::<T>()
                .broadcast_like::<_, Axes2<0, 1>>(&shape);
        crate::nn::dropout(self.norm.forward(x), dropout)
    }
}
