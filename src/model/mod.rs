//! The CircSSNN network in dfdx, with every fixed dimension a const generic
//! so that a shape error is a compile error.
//!
//! Read top to bottom against the paper (Fig. 2 and 4, Eq. 8–16):
//!
//! 1. [`view_encoder`] — per descriptor view `101 x D`: a 1x1 convolution that
//!    mixes the 101 positions into 128 tokens, BatchNorm, ReLU, and the view's
//!    share of the linear map to width 400 (concatenate-then-project equals
//!    the sum of per-view projections).
//! 2. [`block`] — the Seq_Transformer block, pre-norm (Eq. 8) or post-norm
//!    (Eq. 5), around [`attention`] (8 heads, whole-width scale) and a
//!    400-200-400 feed-forward network.
//! 3. [`head`] — a 1x1 convolution over the 128 tokens, then an MLP
//!    400-100-20-2 giving two logits.
//!
//! [`network::CircSsnn`] assembles them; [`CircSsnnMulti`] is the same
//! network with one head per RBP ([`PerRbp`]) over the shared encoder and
//! blocks. Their runtime settings (which views, pre or post norm, dropout)
//! live in [`ModelConfig`], outside the parameter tree, so that they survive
//! device and dtype conversions untouched.
//!
//! The batch dimension is the one runtime-sized part (`usize`).

pub mod attention;
pub mod block;
pub mod config;
pub mod head;
pub mod network;
pub mod view_encoder;

pub use config::{ModelConfig, Norm, ViewSet};
pub use head::{Head, HeadBuilder, Heads, PerRbp};
pub use network::{CircSsnn, CircSsnnMulti, CircSsnnParams, ViewBatch};

/// Positions in a window: the input rows of every descriptor.
pub const POSITIONS: usize = crate::data::WINDOW;
/// Tokens the position mixer makes (the paper's 128 channels).
pub const TOKENS: usize = 128;
/// Token width inside the transformer.
pub const WIDTH: usize = 400;
/// Attention heads.
pub const HEADS: usize = 8;
/// Hidden width of the feed-forward network.
pub const FFN_HIDDEN: usize = 200;
/// KNFP columns (4 + 16 + 64).
pub const KNFP_DIM: usize = crate::features::KNFP_DIM;
/// circRNA2Vec embedding width.
pub const VEC_DIM: usize = crate::features::circ2vec::VEC_DIM;
/// BERT width of the paper profile (DNABERT-3).
pub const BERT_PAPER: usize = crate::features::bert::Paper::WIDTH;
/// BERT width of the small CPU profile.
pub const BERT_SMALL: usize = crate::features::bert::Small::WIDTH;

pub use crate::nn::Elem;

/// `batch x 128 x 400`: the token sequence the transformer reads and writes.
pub type Tokens<D, T> = dfdx::tensor::Tensor<
    (
        usize,
        dfdx::shapes::Const<TOKENS>,
        dfdx::shapes::Const<WIDTH>,
    ),
    Elem,
    D,
    T,
>;
/// `batch x 101 x V`: one descriptor view of a batch of windows.
pub type ViewInput<const V: usize, D> = dfdx::tensor::Tensor<
    (
        usize,
        dfdx::shapes::Const<POSITIONS>,
        dfdx::shapes::Const<V>,
    ),
    Elem,
    D,
>;
/// `batch x 2`: logits of (not bound, bound).
pub type Logits<D, T> = dfdx::tensor::Tensor<(usize, dfdx::shapes::Const<2>), Elem, D, T>;
/// `batch x RBPS x 2`: logits of (not bound, bound) for every RBP's head.
pub type MultiLogits<const RBPS: usize, D, T> =
    dfdx::tensor::Tensor<(usize, dfdx::shapes::Const<RBPS>, dfdx::shapes::Const<2>), Elem, D, T>;
