//! The BERT view as a [`Descriptor`]: last hidden states of the 99 k-mer
//! tokens (no `[CLS]`, no `[SEP]`), then two zero rows — 101 x D, as the
//! paper's code builds it.

use dfdx::prelude::Device;

use super::{Bert, KmerTokenizer, SEQ};
use crate::data::WINDOW;
use crate::features::Descriptor;
use crate::nn::Elem;

/// Windows per forward pass.
const BATCH: usize = 64;

/// A frozen k-mer BERT used as a descriptor.
pub struct BertDescriptor<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    Dev: Device<Elem>,
> {
    /// The encoder.
    pub bert: Bert<D, L, H, F, Dev>,
    /// Its vocabulary.
    pub tokenizer: KmerTokenizer,
    /// Identifies the weights (see [`super::hf::model_hash`]).
    pub hash: String,
    dev: Dev,
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>
    BertDescriptor<D, L, H, F, Dev>
{
    /// Load a HuggingFace-format checkpoint folder (the crate's own or a
    /// user's DNABERT-3) as a descriptor, named by the hash of its files.
    ///
    /// ```no_run
    /// use circssnn::features::bert::SmallBertDescriptor;
    /// use circssnn::features::Descriptor;
    /// let dev = dfdx::prelude::Cpu::default();
    /// let bert = SmallBertDescriptor::load(&dev, "models/bert-small".as_ref())?;
    /// let m = bert.encode_batch(&[[b'A'; 101].as_slice()]);
    /// assert_eq!(m.len(), 101 * 128);
    /// # Ok::<(), circssnn::features::EmbedError>(())
    /// ```
    pub fn load(dev: &Dev, dir: &std::path::Path) -> Result<Self, crate::features::EmbedError> {
        let (bert, tokenizer) = super::hf::load::<D, L, H, F, Dev>(dev, dir)?;
        let hash = super::hf::model_hash(dir)?;
        Ok(Self::new(bert, tokenizer, hash, dev.clone()))
    }

    /// Wrap an encoder.
    pub fn new(
        bert: Bert<D, L, H, F, Dev>,
        tokenizer: KmerTokenizer,
        hash: String,
        dev: Dev,
    ) -> Self {
        BertDescriptor {
            bert,
            tokenizer,
            hash,
            dev,
        }
    }
}

impl<const D: usize, const L: usize, const H: usize, const F: usize, Dev> Descriptor<D>
    for BertDescriptor<D, L, H, F, Dev>
where
    Dev: Device<Elem>,
{
    fn name(&self) -> &str {
        "bert"
    }

    fn encode_into(&self, seq: &[u8], out: &mut [f32]) {
        out.copy_from_slice(&self.encode_batch(&[seq]));
    }

    fn encode_batch(&self, seqs: &[&[u8]]) -> Vec<f32> {
        let mut out = vec![0.0; seqs.len() * WINDOW * D];
        for (chunk, dst) in seqs.chunks(BATCH).zip(out.chunks_mut(BATCH * WINDOW * D)) {
            let ids: Vec<[u32; SEQ]> = chunk.iter().map(|s| self.tokenizer.encode(s)).collect();
            let hidden = self.bert.hidden_states(&self.dev, &ids).as_vec();
            for (w, rows) in hidden.chunks(SEQ * D).enumerate() {
                // Tokens 1..=99 are the k-mers; rows 99 and 100 stay zero.
                let kmers = &rows[D..(SEQ - 1) * D];
                dst[w * WINDOW * D..w * WINDOW * D + kmers.len()].copy_from_slice(kmers);
            }
        }
        out
    }
}
