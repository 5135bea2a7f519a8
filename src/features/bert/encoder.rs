//! The whole k-mer BERT encoder: embeddings then `L` layers. `D` (width),
//! `L` (layers), `H` (heads) and `F` (feed-forward width) are types; the
//! runtime settings (activation, dropout, LayerNorm epsilon) live in its
//! [`BertConfig`], outside the parameter tree.

use dfdx::nn::modules::Repeated;
use dfdx::nn::{BuildModule, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Const, Device, NoneTape, Tape};
use dfdx::shapes::Dtype;
use dfdx::tensor::Storage;

use super::embeddings::BertEmbeddings;
use super::layer::BertLayer;
use super::{Activation, BertConfig, Hidden, TokenIds, SEQ};
use crate::nn::Elem;

/// Learned parameters of the encoder.
#[derive(Debug, Clone)]
pub struct BertParams<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    E: Dtype,
    Dev: Storage<E>,
> {
    /// Input embeddings.
    pub embeddings: BertEmbeddings<D, E, Dev>,
    /// Encoder layers.
    pub layers: Repeated<BertLayer<D, H, F, E, Dev>, L>,
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, E, Dev>
    TensorCollection<E, Dev> for BertParams<D, L, H, F, E, Dev>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = BertParams<D, L, H, F, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("embeddings", |s| &s.embeddings, |s| &mut s.embeddings),
                Self::module("layers", |s| &s.layers, |s| &mut s.layers),
            ),
            |(embeddings, layers)| BertParams { embeddings, layers },
        )
    }
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    BertParams<D, L, H, F, Elem, Dev>
{
    /// Embeddings, then every layer; the tape `T` starts at the token table.
    pub fn forward<T: Tape<Elem, Dev>>(
        &self,
        ids: TokenIds<Dev>,
        act: Activation,
        p: f64,
    ) -> Hidden<D, Dev, T> {
        let mut x = self.embeddings.forward::<T>(ids, p);
        for layer in &self.layers.modules {
            x = layer.forward(x, act, p);
        }
        x
    }
}

/// A k-mer BERT encoder: parameters plus configuration.
///
/// ```
/// use circssnn::features::bert::{Bert, BertConfig, KmerTokenizer};
/// use dfdx::prelude::*;
/// let dev = Cpu::default();
/// let bert = Bert::<32, 2, 4, 64, Cpu>::new(&dev, BertConfig::new(32, 2, 4, 64)).unwrap();
/// let ids = KmerTokenizer::default().encode(&[b'A'; 101]);
/// let h = bert.hidden_states(&dev, &[ids]);
/// assert_eq!(h.shape().0, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Bert<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Storage<Elem>>
{
    /// Learned parameters.
    pub params: BertParams<D, L, H, F, Elem, Dev>,
    /// Activation, dropout, epsilon; HF `config.json` fields.
    pub config: BertConfig,
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    Bert<D, L, H, F, Dev>
{
    /// A freshly initialised encoder; `config` must describe the same shape.
    pub fn new(dev: &Dev, config: BertConfig) -> Result<Self, String> {
        Self::check(&config)?;
        let mut params = BertParams::build(dev);
        set_eps(&mut params, config.layer_norm_eps);
        Ok(Bert { params, config })
    }

    /// Does `config` describe this type's shape?
    pub fn check(config: &BertConfig) -> Result<(), String> {
        if config.dims() != (D, L, H, F) || config.vocab_size != super::VOCAB {
            return Err(format!(
                "the checkpoint is {}-wide, {} layers, {} heads, feed-forward {}, vocabulary {}; \
                 this encoder type is {D}/{L}/{H}/{F} with vocabulary {}",
                config.hidden_size,
                config.num_hidden_layers,
                config.num_attention_heads,
                config.intermediate_size,
                config.vocab_size,
                super::VOCAB
            ));
        }
        if let Some(kind) = config
            .position_embedding_type
            .as_deref()
            .filter(|k| *k != "absolute")
        {
            return Err(format!(
                "position_embedding_type {kind:?} is not implemented (only \"absolute\")"
            ));
        }
        if config.max_position_embeddings < SEQ {
            return Err(format!(
                "max_position_embeddings is {}; 101-nt windows need {SEQ} positions",
                config.max_position_embeddings
            ));
        }
        Ok(())
    }

    /// Forward pass with tape `T` (dropout `p`, 0 in evaluation).
    pub fn forward<T: Tape<Elem, Dev>>(&self, ids: TokenIds<Dev>, p: f64) -> Hidden<D, Dev, T> {
        self.params.forward(ids, self.config.hidden_act, p)
    }

    /// Last hidden states of a batch of tokenised windows, no dropout.
    pub fn hidden_states(&self, dev: &Dev, ids: &[[u32; SEQ]]) -> Hidden<D, Dev, NoneTape> {
        let flat: Vec<usize> = ids.iter().flatten().map(|&i| i as usize).collect();
        let ids = dev.tensor_from_vec(flat, (ids.len(), Const::<SEQ>));
        self.forward::<NoneTape>(ids, 0.0)
    }
}

/// LayerNorm epsilon is a setting of the checkpoint (1e-12 in BERT), not
/// dfdx's default 1e-5.
pub(super) fn set_eps<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    E: Dtype,
    Dev: Storage<E>,
>(
    p: &mut BertParams<D, L, H, F, E, Dev>,
    eps: f64,
) {
    p.embeddings.norm.epsilon = eps;
    for l in &mut p.layers.modules {
        l.attn_norm.epsilon = eps;
        l.ffn_norm.epsilon = eps;
    }
}
