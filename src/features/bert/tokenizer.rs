//! DNABERT-style 3-mer tokens: `[CLS]`, the 99 overlapping 3-mers of a
//! 101-nt window, `[SEP]` — 101 tokens. Token ids come from a `vocab.txt`
//! (one token per line, line number = id), so a user's DNABERT-3 checkpoint
//! keeps its own order. DNABERT writes DNA letters: U is looked up as T.

use std::path::Path;

use crate::data::WINDOW;

use super::EmbedError;

/// Letters per token.
pub const KMER: usize = 3;
/// Tokens per window: `[CLS]` + 99 k-mers + `[SEP]`.
pub const SEQ: usize = WINDOW - KMER + 1 + 2;
/// Vocabulary size: 64 3-mers and `[PAD] [UNK] [CLS] [SEP] [MASK]` (as DNABERT-3).
pub const VOCAB: usize = 69;

const SPECIALS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// Maps windows to token ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmerTokenizer {
    tokens: Vec<String>,
    kmer_ids: [u32; 64],
    /// `[PAD]`.
    pub pad: u32,
    /// `[UNK]` (3-mers with N).
    pub unk: u32,
    /// `[CLS]`.
    pub cls: u32,
    /// `[SEP]`.
    pub sep: u32,
    /// `[MASK]`.
    pub mask: u32,
}

impl Default for KmerTokenizer {
    /// The crate's own vocabulary: specials first, then 3-mers in `ACGT` order.
    fn default() -> Self {
        let mut tokens: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
        for i in 0..64 {
            tokens.push(
                (0..KMER)
                    .map(|p| b"ACGT"[(i >> (2 * (KMER - 1 - p))) & 3] as char)
                    .collect(),
            );
        }
        Self::from_tokens(tokens).expect("the built-in vocabulary is complete")
    }
}

impl KmerTokenizer {
    /// Build from the lines of a `vocab.txt`.
    pub fn from_tokens(tokens: Vec<String>) -> Result<Self, String> {
        if tokens.len() != VOCAB {
            return Err(format!(
                "{} tokens; this build reads the {VOCAB}-token 3-mer vocabulary of DNABERT-3",
                tokens.len()
            ));
        }
        let id = |t: &str| {
            tokens
                .iter()
                .position(|x| x == t)
                .map(|i| i as u32)
                .ok_or_else(|| format!("token {t} is missing"))
        };
        let mut kmer_ids = [0u32; 64];
        for (i, slot) in kmer_ids.iter_mut().enumerate() {
            let kmer: String = (0..KMER)
                .map(|p| b"ACGT"[(i >> (2 * (KMER - 1 - p))) & 3] as char)
                .collect();
            *slot = id(&kmer)?;
        }
        Ok(KmerTokenizer {
            pad: id("[PAD]")?,
            unk: id("[UNK]")?,
            cls: id("[CLS]")?,
            sep: id("[SEP]")?,
            mask: id("[MASK]")?,
            kmer_ids,
            tokens,
        })
    }

    /// Read a `vocab.txt`.
    pub fn load(path: &Path) -> Result<Self, EmbedError> {
        let text = std::fs::read_to_string(path).map_err(|source| EmbedError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_tokens(text.lines().map(|l| l.trim().to_string()).collect()).map_err(|message| {
            EmbedError::Format {
                path: path.to_path_buf(),
                message,
            }
        })
    }

    /// The vocabulary, one token per id.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// Ids of the 64 3-mers (for random replacement in masked-LM).
    pub fn kmer_ids(&self) -> &[u32; 64] {
        &self.kmer_ids
    }

    /// The 101 token ids of a normalised window (shorter windows are padded
    /// with `[PAD]` after `[SEP]`).
    ///
    /// ```
    /// use circssnn::features::bert::KmerTokenizer;
    /// let t = KmerTokenizer::default();
    /// let ids = t.encode(&[b'A'; 101]);
    /// assert_eq!((ids[0], ids[1], ids[100]), (t.cls, t.kmer_ids()[0], t.sep));
    /// ```
    pub fn encode(&self, seq: &[u8]) -> [u32; SEQ] {
        let mut ids = [self.pad; SEQ];
        ids[0] = self.cls;
        let mut n = 1;
        for kmer in seq.windows(KMER).take(SEQ - 2) {
            ids[n] = kmer
                .iter()
                .try_fold(0usize, |acc, &b| {
                    crate::data::sequence::base_index(b).map(|i| acc * 4 + i)
                })
                .map_or(self.unk, |i| self.kmer_ids[i]);
            n += 1;
        }
        ids[n] = self.sep;
        ids
    }
}
