//! Shared dfdx building blocks of the crate's two transformers (CircSSNN's
//! Seq_Transformer in [`crate::model`] and the k-mer BERT in
//! [`crate::features::bert`]): the element type, token-wise maps, dropout,
//! multi-head attention and the two residual placements of LayerNorm; and
//! the training loop all three trainers of the crate share ([`trainer`]).
//!
//! The tape plumbing of dfdx (which tensor carries the gradient tape, and
//! where a second handle on the same value is needed) lives here, so that
//! the models above read like their equations.

pub mod attention;
pub mod params;
pub mod residual;
pub mod trainer;

pub use attention::{self_attention, AttentionWeights, Seq};
pub use residual::{post_norm, pre_norm};
pub use trainer::{drive, Driven, TrainProgress, Trainer};

use dfdx::shapes::{Const, HasShape, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

/// Element type of every tensor.
pub type Elem = f32;

/// Apply a per-token map `f` to every token of every window as *one* matrix
/// product over `batch * N` rows.
///
/// Why: dfdx runs a `(B, M, K) x (K, N)` product as B separate GEMMs, each
/// fanned out over all threads; for the 128 x 400 token matrices of a batch of
/// 64 that is 64 small parallel GEMMs per layer, and the threads mostly wait.
/// Flattening the batch into rows (free for a contiguous tensor) gives one
/// large GEMM per layer instead.
pub fn per_token<const N: usize, const I: usize, const O: usize, D, T>(
    x: Tensor<(usize, Const<N>, Const<I>), Elem, D, T>,
    f: impl FnOnce(Tensor<(usize, Const<I>), Elem, D, T>) -> Tensor<(usize, Const<O>), Elem, D, T>,
) -> Tensor<(usize, Const<N>, Const<O>), Elem, D, T>
where
    D: Device<Elem>,
    T: Tape<Elem, D>,
{
    let b = x.shape().0;
    f(x.reshape_like(&(b * N, Const::<I>))).reshape_like(&(b, Const::<N>, Const::<O>))
}

/// Dropout with probability `p` in training; the identity when `p` is 0 (so
/// evaluation passes 0 and draws no random numbers).
pub fn dropout<S: Shape, D: Device<Elem>, T: Tape<Elem, D>>(
    x: Tensor<S, Elem, D, T>,
    p: f64,
) -> Tensor<S, Elem, D, T> {
    if p > 0.0 {
        x.dropout(p)
    } else {
        x
    }
}
