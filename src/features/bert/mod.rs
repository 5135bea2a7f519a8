//! The k-mer BERT view (paper: "DNABERT"): a BERT encoder over overlapping
//! 3-mers whose last hidden states, without `[CLS]`/`[SEP]` and padded with
//! two zero rows, are the window's `101 x D` descriptor.
//!
//! DNABERT's weights cannot be downloaded here, so the crate pretrains its
//! own encoder by masked-LM on the training-only corpus ([`pretrain`](mod@pretrain)), and
//! also loads a user's HuggingFace BERT checkpoint ([`hf`]). Both are the same
//! typed dfdx encoder ([`Bert`]):
//!
//! * [`embeddings`] — token + position + token-type embedding, LayerNorm;
//! * [`layer`] — post-norm self-attention and GELU feed-forward;
//! * [`encoder`] — `L` layers;
//! * [`mlm`] — the masked-LM head and masking rule used for pretraining.
//!
//! Profiles: [`SmallBert`] (128 wide, 4 layers, 4 heads; pretrains on 2 CPU
//! cores) and [`PaperBert`] (768/12/12, DNABERT-3's shape; GPU).

pub mod config;
pub mod descriptor;
pub mod embeddings;
pub mod encoder;
pub mod hf;
pub mod layer;
pub mod mlm;
pub mod pretrain;
pub mod profile;
pub mod tokenizer;

pub use config::{Activation, BertConfig};
pub use descriptor::BertDescriptor;
pub use encoder::{Bert, BertParams};
pub use mlm::{MlmHead, MlmModel};
pub use pretrain::{load_report, pretrain, pretrain_profile, PretrainConfig, PretrainReport};
pub use profile::{BertProfile, Paper, Small};
pub use tokenizer::{KmerTokenizer, KMER, SEQ, VOCAB};

use super::EmbedError;
use crate::nn::Elem;

/// `batch x 101 x D` hidden states.
pub type Hidden<const D: usize, Dev, T> =
    dfdx::tensor::Tensor<(usize, dfdx::shapes::Const<SEQ>, dfdx::shapes::Const<D>), Elem, Dev, T>;
/// `batch x 101` token ids.
pub type TokenIds<Dev> = dfdx::tensor::Tensor<(usize, dfdx::shapes::Const<SEQ>), usize, Dev>;

/// The [`Small`] profile's encoder: 128 wide, 4 layers, 4 heads, feed-forward 512.
pub type SmallBert<Dev> =
    Bert<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, Dev>;
/// The [`Paper`] profile's encoder, DNABERT-3's shape: 768 wide, 12 layers, 12 heads, feed-forward 3072.
pub type PaperBert<Dev> =
    Bert<{ Paper::WIDTH }, { Paper::LAYERS }, { Paper::HEADS }, { Paper::FF }, Dev>;
/// The [`Small`] profile as a descriptor (what notebooks load).
pub type SmallBertDescriptor<Dev> =
    BertDescriptor<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, Dev>;

/// Width of [`SmallBert`] (the BERT view width of the CPU network).
pub const SMALL_WIDTH: usize = Small::WIDTH;
/// Width of [`PaperBert`].
pub const PAPER_WIDTH: usize = Paper::WIDTH;
