//! Masked-language-model pretraining pieces: BERT's prediction head and the
//! masking rule.
//!
//! Masking follows DNABERT rather than BERT's single tokens: with
//! overlapping 3-mers, a lone masked token is spelled out by its two
//! neighbours, and the task would teach nothing. Spans of 3 consecutive
//! tokens are masked instead (about 15% of k-mer tokens in all), which hides
//! one nucleotide per span that only the context can tell. Each masked token
//! then becomes `[MASK]` (80%), a random 3-mer (10%) or stays (10%).

use dfdx::nn::modules::{LayerNorm1D, Linear};
use dfdx::nn::{Module, ModuleVisitor, TensorCollection};
use dfdx::prelude::{Const, Device, Tape, Tensor};
use dfdx::shapes::Dtype;
use dfdx::tensor::Storage;
use rand::Rng;

use super::encoder::BertParams;
use super::{Activation, Hidden, KmerTokenizer, SEQ, VOCAB};
use crate::nn::{per_token, Elem};

/// BERT's MLM head: dense + activation + LayerNorm, then a `D -> 69` decoder
/// (untied from the token table, so `tie_word_embeddings` is false in the
/// saved config).
#[derive(Debug, Clone)]
pub struct MlmHead<const D: usize, E: Dtype, Dev: Storage<E>> {
    /// Transform dense layer.
    pub transform: Linear<D, D, E, Dev>,
    /// Transform LayerNorm.
    pub norm: LayerNorm1D<D, E, Dev>,
    /// Token decoder.
    pub decoder: Linear<D, VOCAB, E, Dev>,
}

impl<const D: usize, E, Dev> TensorCollection<E, Dev> for MlmHead<D, E, Dev>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = MlmHead<D, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("transform", |s| &s.transform, |s| &mut s.transform),
                Self::module("norm", |s| &s.norm, |s| &mut s.norm),
                Self::module("decoder", |s| &s.decoder, |s| &mut s.decoder),
            ),
            |(transform, norm, decoder)| MlmHead {
                transform,
                norm,
                decoder,
            },
        )
    }
}

/// Token logits, `batch x 101 x 69`.
pub type TokenLogits<Dev, T> = Tensor<(usize, Const<SEQ>, Const<VOCAB>), Elem, Dev, T>;

impl<const D: usize, Dev: Device<Elem>> MlmHead<D, Elem, Dev> {
    /// Logits of every position's original token.
    pub fn forward<T: Tape<Elem, Dev>>(
        &self,
        h: Hidden<D, Dev, T>,
        act: Activation,
    ) -> TokenLogits<Dev, T> {
        let t = per_token(h, |r| self.transform.forward(r));
        let t = match act {
            Activation::Gelu => t.accurate_gelu(),
            Activation::GeluTanh => t.fast_gelu(),
            Activation::Relu => t.relu(),
        };
        per_token(self.norm.forward(t), |r| self.decoder.forward(r))
    }
}

/// Encoder and head, optimised together.
#[derive(Debug, Clone)]
pub struct MlmModel<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    E: Dtype,
    Dev: Storage<E>,
> {
    /// The encoder being pretrained.
    pub encoder: BertParams<D, L, H, F, E, Dev>,
    /// Its prediction head.
    pub head: MlmHead<D, E, Dev>,
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, E, Dev>
    TensorCollection<E, Dev> for MlmModel<D, L, H, F, E, Dev>
where
    E: Dtype + num_traits::Float + rand_distr::uniform::SampleUniform,
    Dev: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = MlmModel<D, L, H, F, E2, D2>;

    fn iter_tensors<W: ModuleVisitor<Self, E, Dev>>(
        visitor: &mut W,
    ) -> Result<Option<Self::To<W::E2, W::D2>>, W::Err> {
        visitor.visit_fields(
            (
                Self::module("encoder", |s| &s.encoder, |s| &mut s.encoder),
                Self::module("head", |s| &s.head, |s| &mut s.head),
            ),
            |(encoder, head)| MlmModel { encoder, head },
        )
    }
}

/// A masked batch: model inputs and, for masked positions, the original token.
#[derive(Debug, Clone)]
pub struct MaskedBatch {
    /// Input ids, `batch * 101`.
    pub inputs: Vec<usize>,
    /// Original id at masked positions, `None` elsewhere; `batch * 101`.
    pub labels: Vec<Option<u32>>,
}

impl MaskedBatch {
    /// Masked positions in the batch.
    pub fn masked(&self) -> usize {
        self.labels.iter().flatten().count()
    }

    /// One-hot targets at masked positions, zeros elsewhere (`batch * 101 * 69`).
    pub fn targets(&self) -> Vec<Elem> {
        let mut t = vec![0.0; self.labels.len() * VOCAB];
        for (i, l) in self.labels.iter().enumerate() {
            if let Some(id) = l {
                t[i * VOCAB + *id as usize] = 1.0;
            }
        }
        t
    }
}

/// Mask tokenised windows: spans of `span` k-mer tokens start at each k-mer
/// position with probability `rate / span` (so about `rate` of the tokens are
/// masked; at least one span per window), then 80/10/10.
pub fn mask_batch(
    windows: &[[u32; SEQ]],
    tok: &KmerTokenizer,
    rate: f64,
    span: usize,
    rng: &mut impl Rng,
) -> MaskedBatch {
    let span = span.max(1);
    let first = 1; // after [CLS]
    let last = SEQ - 2; // before [SEP]
    let mut inputs = Vec::with_capacity(windows.len() * SEQ);
    let mut labels = Vec::with_capacity(windows.len() * SEQ);
    for ids in windows {
        let mut masked = [false; SEQ];
        let mark = |start: usize, masked: &mut [bool; SEQ]| {
            for m in masked
                .iter_mut()
                .take((start + span).min(last + 1))
                .skip(start)
            {
                *m = true;
            }
        };
        for start in first..=last {
            if rng.gen_bool((rate / span as f64).min(1.0)) {
                mark(start, &mut masked);
            }
        }
        if !masked.iter().any(|&m| m) {
            mark(rng.gen_range(first..=last), &mut masked);
        }
        for (p, &id) in ids.iter().enumerate() {
            if masked[p] {
                labels.push(Some(id));
                let r: f64 = rng.gen();
                inputs.push(if r < 0.8 {
                    tok.mask
                } else if r < 0.9 {
                    tok.kmer_ids()[rng.gen_range(0..64)]
                } else {
                    id
                } as usize);
            } else {
                labels.push(None);
                inputs.push(id as usize);
            }
        }
    }
    MaskedBatch { inputs, labels }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn masks_about_rate_in_spans_and_never_specials() {
        let tok = KmerTokenizer::default();
        let window: Vec<u8> = (0..101).map(|i| b"ACGU"[(i * 7 + i / 3) % 4]).collect();
        let ids = vec![tok.encode(&window); 200];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let b = mask_batch(&ids, &tok, 0.15, 3, &mut rng);
        let frac = b.masked() as f64 / (200.0 * 99.0);
        assert!((0.11..0.17).contains(&frac), "masked fraction {frac}");
        let (mut kept, mut as_mask) = (0, 0);
        for (w, chunk) in b.labels.chunks(SEQ).enumerate() {
            assert!(
                chunk[0].is_none() && chunk[SEQ - 1].is_none(),
                "specials are never masked"
            );
            for (p, l) in chunk.iter().enumerate() {
                if let Some(id) = l {
                    assert_eq!(*id, ids[w][p]);
                    let input = b.inputs[w * SEQ + p] as u32;
                    as_mask += usize::from(input == tok.mask);
                    kept += usize::from(input == *id);
                }
            }
        }
        let n = b.masked() as f64;
        assert!((0.75..0.85).contains(&(as_mask as f64 / n)));
        assert!(
            (0.07..0.15).contains(&(kept as f64 / n)),
            "kept share includes random picks of the same token"
        );
        // A target row is one-hot exactly where a label is.
        let t = b.targets();
        assert_eq!(t.iter().sum::<f32>() as usize, b.masked());
    }
}
