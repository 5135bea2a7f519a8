//! Multi-head scaled dot-product self-attention, shared by CircSSNN's
//! Seq_Transformer and the k-mer BERT. The two differ only in what they
//! pass in:
//!
//! | | CircSSNN (paper Eq. 12–15) | BERT |
//! |---|---|---|
//! | q, k, v maps | no bias (`UnbiasedLinear`) | with bias (`Linear`) |
//! | score scale | `400^-0.5`, the whole width | `(D/H)^-0.5`, one head |
//! | sequence | 128 tokens | 101 k-mer positions |
//! | dropout on the weights | none | yes |
//!
//! ```text
//! heads_i = softmax(s · Q_i K_iᵀ) V_i        Q_i, K_i, V_i: columns of head i
//! output  = concat(heads_1 .. heads_H)       (the output map stays with the caller)
//! ```

use dfdx::shapes::{Axes4, Axis, Const, Dim, HasShape};
use dfdx::tensor::{NoneTape, PutTape, SplitTape, Tape, Tensor};
use dfdx::tensor_ops::{Device, PermuteTo, ReshapeTo, TryMatMul};

use super::{dropout, Elem};

/// `batch x S x M`: a sequence of `S` vectors of width `M`.
pub type Seq<const S: usize, const M: usize, D, T> =
    Tensor<(usize, Const<S>, Const<M>), Elem, D, T>;

/// Attention weights of one forward pass, `batch x H x S x S` (each row sums to 1).
pub type AttentionWeights<const H: usize, const S: usize, D> =
    Tensor<(usize, Const<H>, Const<S>, Const<S>), Elem, D>;

/// Self-attention of `x` with `H` heads of width `head_dim` (`M = H *
/// head_dim`): the query, key and value maps are applied to `x`, scores are
/// scaled by `scale`, and `weights_dropout` (0 in evaluation) drops attention
/// weights. Returns the merged heads (before the output map) and the
/// weights.
///
/// `head_dim` is `Const<M / H>` where the caller can name it (CircSSNN) and
/// a `usize` where it cannot (a BERT generic over width and heads: `M / H`
/// cannot be written in a type on stable Rust).
pub fn self_attention<const S: usize, const M: usize, const H: usize, Dh: Dim, D, T>(
    x: Seq<S, M, D, T>,
    to_q: impl FnOnce(Seq<S, M, D, T>) -> Seq<S, M, D, T>,
    to_k: impl FnOnce(Seq<S, M, D, T>) -> Seq<S, M, D, T>,
    to_v: impl FnOnce(Seq<S, M, D, T>) -> Seq<S, M, D, T>,
    head_dim: Dh,
    scale: Elem,
    weights_dropout: f64,
) -> (Seq<S, M, D, T>, AttentionWeights<H, S, D>)
where
    D: Device<Elem>,
    T: Tape<Elem, D>,
{
    debug_assert_eq!(
        H * head_dim.size(),
        M,
        "heads x head width must be the width"
    );
    let b = x.shape().0;
    // x feeds three maps: the tape goes with the query, and the key and value
    // paths start fresh tapes that the products below merge back in.
    let (x, tape) = x.split_tape();
    let split_heads = |t: Seq<S, M, D, T>| {
        t.reshape_like(&(b, Const::<S>, Const::<H>, head_dim))
            .permute::<_, Axes4<0, 2, 1, 3>>() // (B, H, S, M/H)
    };
    let q = split_heads(to_q(x.clone().put_tape(tape)));
    let k = split_heads(to_k(x.clone().retaped::<T>()));
    let v = split_heads(to_v(x.retaped::<T>()));

    let scores = q.matmul(k.permute::<_, Axes4<0, 1, 3, 2>>()) * scale; // (B, H, S, S)
    let weights = scores.softmax::<Axis<3>>();
    let map = weights.retaped::<NoneTape>();
    let heads = dropout(weights, weights_dropout).matmul(v); // (B, H, S, M/H)
    let merged = heads
        .permute::<_, Axes4<0, 2, 1, 3>>()
        .reshape_like(&(b, Const::<S>, Const::<M>));
    (merged, map)
}
