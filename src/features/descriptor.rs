//! The interface every descriptor view implements, so the network reads KNFP,
//! circRNA2Vec and k-mer BERT the same way. The width `D` is a const
//! parameter of the trait: a descriptor of the wrong width cannot be plugged
//! into a view encoder, at compile time.

use rayon::prelude::*;

use crate::data::WINDOW;

/// A per-window descriptor: a normalised window to a `101 x D` matrix.
///
/// Not bound to `Send + Sync`: a descriptor computed on a GPU (the BERT on
/// dfdx's `Cuda`, whose stream handle is neither) is a descriptor too. The
/// table look-ups (KNFP, circRNA2Vec) encode in parallel over windows
/// ([`par_encode_batch`]); a network encodes its batches itself.
pub trait Descriptor<const D: usize> {
    /// Short name (`knfp`, `vec`, `bert`).
    fn name(&self) -> &str;

    /// Write the row-major `101 x D` matrix of `seq` into `out`
    /// (`out.len() == 101 * D`).
    fn encode_into(&self, seq: &[u8], out: &mut [f32]);

    /// Encode a batch: `n * 101 * D` floats.
    fn encode_batch(&self, seqs: &[&[u8]]) -> Vec<f32> {
        let mut out = vec![0f32; seqs.len() * WINDOW * D];
        for (chunk, s) in out.chunks_mut(WINDOW * D).zip(seqs) {
            self.encode_into(s, chunk);
        }
        out
    }
}

/// [`Descriptor::encode_batch`] in parallel over windows (rayon), for
/// descriptors that can be shared between threads.
pub fn par_encode_batch<const D: usize>(
    d: &(impl Descriptor<D> + Sync),
    seqs: &[&[u8]],
) -> Vec<f32> {
    let mut out = vec![0f32; seqs.len() * WINDOW * D];
    out.par_chunks_mut(WINDOW * D)
        .zip(seqs.par_iter())
        .for_each(|(chunk, s)| d.encode_into(s, chunk));
    out
}

/// KNFP as a [`Descriptor`] (see [`knfp`](mod@super::knfp)).
///
/// ```
/// use circssnn::features::{Descriptor, Knfp};
/// let m = Knfp.encode_batch(&[b"ACGU".as_slice()]);
/// assert_eq!(m.len(), 101 * 84);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Knfp;

impl Descriptor<{ super::KNFP_DIM }> for Knfp {
    fn name(&self) -> &str {
        "knfp"
    }
    fn encode_into(&self, seq: &[u8], out: &mut [f32]) {
        super::knfp_into(seq, out)
    }
    fn encode_batch(&self, seqs: &[&[u8]]) -> Vec<f32> {
        par_encode_batch(self, seqs)
    }
}
