//! circRNA2Vec: every overlapping 10-mer of a window (92 of them) mapped to a
//! 30-d vector learned from circRNA windows (paper: "CircRNA2Vec"; the
//! authors' Doc2Vec model is not published, so the crate trains its own with
//! [`sgns`], skip-gram with negative sampling).
//!
//! Row `i` of the `101 x 30` matrix is the vector of the 10-mer starting at
//! base `i`. Two choices differ from the original code, on purpose:
//!
//! * a 10-mer outside the vocabulary (rare, or containing N) gives a zero row
//!   *in place*, where the original dropped it and shifted every later row;
//! * rows 92..101 are zero, where the original padded with vocabulary entry 0
//!   (a real word's vector, so padding was indistinguishable from a word).
//!
//! Zero rows keep row `i` tied to base `i` and make padding visible to the
//! network; both are pinned by tests.

pub mod sgns;

use std::collections::HashMap;
use std::path::Path;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::corpus::CorpusInfo;
use super::tensor_file::{self, Entry, TensorFile};
use super::{Descriptor, EmbedError};
use crate::data::sequence::base_index;
use crate::data::WINDOW;
use crate::output::write_atomic;

pub use sgns::{train, Circ2VecConfig};

/// Letters per word.
pub const K: usize = 10;
/// Words in a 101-nt window.
pub const WORDS: usize = WINDOW - K + 1;
/// Embedding width (the paper's 30).
pub const VEC_DIM: usize = 30;
/// Distinct 10-mers over `A C G U`.
pub const ALL_WORDS: usize = 1 << (2 * K);

const NO_ROW: u32 = u32::MAX;
const FORMAT_VERSION: u32 = 1;
const VECTORS: &str = "vectors.safetensors";
const VOCAB: &str = "vocab.txt";
const META: &str = "circ2vec.json";

/// The 20-bit code of a 10-mer (2 bits per base, first base most
/// significant), or `None` if it holds N.
///
/// ```
/// use circssnn::features::circ2vec::{word_code, word_string};
/// let c = word_code(b"ACGUACGUAC").unwrap();
/// assert_eq!(word_string(c), "ACGUACGUAC");
/// assert_eq!(word_code(b"ACGUNCGUAC"), None);
/// ```
pub fn word_code(kmer: &[u8]) -> Option<u32> {
    kmer.iter()
        .try_fold(0u32, |acc, &b| base_index(b).map(|i| (acc << 2) | i as u32))
}

/// The letters of a word code.
pub fn word_string(code: u32) -> String {
    (0..K)
        .rev()
        .map(|i| b"ACGU"[((code >> (2 * i)) & 3) as usize] as char)
        .collect()
}

fn parse_word(word: &str) -> Option<u32> {
    if word.len() != K {
        return None;
    }
    let bases: Option<Vec<u8>> = word
        .bytes()
        .map(crate::data::sequence::normalise_base)
        .collect();
    word_code(&bases?)
}

/// How a circRNA2Vec model was made; saved beside the vectors.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Circ2VecMeta {
    /// File format version.
    pub format_version: u32,
    /// Training settings.
    pub config: Circ2VecConfig,
    /// The corpus it was trained on.
    pub corpus: CorpusInfo,
    /// Vocabulary size.
    pub vocab: usize,
    /// Tokens (words kept in the corpus) per epoch.
    pub tokens_per_epoch: u64,
    /// Mean loss per (word, context) pair over the last epoch.
    pub final_loss: f64,
    /// Wall-clock training time.
    pub seconds: f64,
    /// Crate version that trained it.
    pub crate_version: String,
}

/// A trained circRNA2Vec embedding; a [`Descriptor`] of width 30.
///
/// ```no_run
/// use circssnn::features::{Circ2Vec, Descriptor};
/// let model = Circ2Vec::load("models/circ2vec".as_ref())?;
/// let m = model.encode_batch(&[[b'A'; 101].as_slice()]);
/// assert_eq!(m.len(), 101 * 30);
/// # Ok::<(), circssnn::features::EmbedError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Circ2Vec {
    index: Vec<u32>,
    words: Vec<u32>,
    vectors: Vec<f32>,
    /// How it was trained.
    pub meta: Circ2VecMeta,
    hash: String,
}

impl Circ2Vec {
    fn new(words: Vec<u32>, vectors: Vec<f32>, meta: Circ2VecMeta) -> Self {
        let mut index = vec![NO_ROW; ALL_WORDS];
        for (row, &w) in words.iter().enumerate() {
            index[w as usize] = row as u32;
        }
        let mut h = Sha256::new();
        for v in &vectors {
            h.update(v.to_le_bytes());
        }
        for w in &words {
            h.update(w.to_le_bytes());
        }
        Circ2Vec {
            index,
            words,
            vectors,
            meta,
            hash: format!("{:x}", h.finalize()),
        }
    }

    /// Words in the vocabulary.
    pub fn vocab_len(&self) -> usize {
        self.words.len()
    }

    /// SHA-256 of the vectors and vocabulary: identifies the model in
    /// checkpoints and caches.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The vector of a 10-mer (`A C G U`, T read as U), if it is in the vocabulary.
    pub fn vector(&self, word: &str) -> Option<&[f32]> {
        self.row(parse_word(word)?)
    }

    fn row(&self, code: u32) -> Option<&[f32]> {
        match self.index[code as usize] {
            NO_ROW => None,
            r => Some(&self.vectors[r as usize * VEC_DIM..(r as usize + 1) * VEC_DIM]),
        }
    }

    /// Write `vectors.safetensors`, `vocab.txt` and `circ2vec.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<(), EmbedError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| EmbedError::Io { path, source }
        };
        let meta = HashMap::from([("format".to_string(), "circssnn-circ2vec".to_string())]);
        tensor_file::write(
            &dir.join(VECTORS),
            &[Entry::f32(
                "vectors",
                vec![self.words.len(), VEC_DIM],
                &self.vectors,
            )],
            meta,
        )?;
        let vocab_path = dir.join(VOCAB);
        write_atomic(&vocab_path, |w| {
            for &c in &self.words {
                writeln!(w, "{}", word_string(c))?;
            }
            Ok(())
        })
        .map_err(io(&vocab_path))?;
        let meta_path = dir.join(META);
        let json = serde_json::to_string_pretty(&self.meta).expect("metadata serialises");
        write_atomic(&meta_path, |w| w.write_all(json.as_bytes())).map_err(io(&meta_path))
    }

    /// Load a model saved by [`save`](Self::save), checking that vectors and
    /// vocabulary agree.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let meta_path = dir.join(META);
        let text = std::fs::read_to_string(&meta_path).map_err(|source| EmbedError::Io {
            path: meta_path.clone(),
            source,
        })?;
        let meta: Circ2VecMeta = serde_json::from_str(&text).map_err(|e| EmbedError::Format {
            path: meta_path.clone(),
            message: e.to_string(),
        })?;
        if meta.format_version != FORMAT_VERSION {
            return Err(EmbedError::Format {
                path: meta_path,
                message: format!(
                    "format version {} (this build reads {FORMAT_VERSION})",
                    meta.format_version
                ),
            });
        }
        let vocab_path = dir.join(VOCAB);
        let vocab = std::fs::read_to_string(&vocab_path).map_err(|source| EmbedError::Io {
            path: vocab_path.clone(),
            source,
        })?;
        let mut words = Vec::new();
        for (i, line) in vocab.lines().enumerate() {
            let bad = || EmbedError::Format {
                path: vocab_path.clone(),
                message: format!("line {}: {line:?} is not a 10-mer of A C G U", i + 1),
            };
            if line.len() != K {
                return Err(bad());
            }
            words.push(word_code(line.as_bytes()).ok_or_else(bad)?);
        }
        let file = TensorFile::open(&dir.join(VECTORS))?;
        let (_, vectors) = file.f32("vectors", Some(&[words.len(), VEC_DIM]))?;
        let model = Circ2Vec::new(words, vectors, meta);
        let distinct = model.index.iter().filter(|&&r| r != NO_ROW).count();
        if distinct != model.words.len() {
            return Err(EmbedError::Format {
                path: vocab_path,
                message: "the vocabulary lists a word twice".into(),
            });
        }
        Ok(model)
    }

    /// The `k` words closest to `word` by cosine similarity.
    pub fn neighbours(&self, word: &str, k: usize) -> Option<Vec<(String, f32)>> {
        let code = parse_word(word)?;
        let q = self.row(code)?;
        Some(
            self.nearest(q, k + 1)
                .into_iter()
                .filter(|&(r, _)| self.words[r] != code)
                .take(k)
                .map(|(r, s)| (word_string(self.words[r]), s))
                .collect(),
        )
    }

    fn nearest(&self, q: &[f32], k: usize) -> Vec<(usize, f32)> {
        let qn = norm(q);
        let mut scored: Vec<(usize, f32)> = self
            .vectors
            .chunks_exact(VEC_DIM)
            .enumerate()
            .map(|(r, v)| (r, dot(q, v) / (qn * norm(v)).max(1e-12)))
            .collect();
        let k = k.min(scored.len());
        scored.select_nth_unstable_by(k.saturating_sub(1), |a, b| b.1.total_cmp(&a.1));
        scored.truncate(k);
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        scored
    }

    /// An intrinsic check that the vectors learned sequence structure: for
    /// `queries` random words among the `pool` most frequent ones, how far
    /// (in mismatches, and as shifted overlaps) their `k` nearest neighbours
    /// are, against random words. Rare words got few updates and say little,
    /// hence the pool; the vocabulary is stored most frequent first.
    pub fn neighbour_report(
        &self,
        queries: usize,
        pool: usize,
        k: usize,
        seed: u64,
    ) -> NeighbourReport {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let n = self.words.len();
        let pool = pool.clamp(1, n);
        let queries = queries.min(pool);
        let picks = sample(&mut rng, pool, queries).into_vec();
        let (mut near, mut rand_) = (Stats::default(), Stats::default());
        for &q in &picks {
            let qv = &self.vectors[q * VEC_DIM..(q + 1) * VEC_DIM];
            let qc = self.words[q];
            for (r, _) in self
                .nearest(qv, k + 1)
                .into_iter()
                .filter(|&(r, _)| r != q)
                .take(k)
            {
                near.add(qc, self.words[r]);
            }
            for r in sample(&mut rng, n, k.min(n)).into_iter() {
                rand_.add(qc, self.words[r]);
            }
        }
        NeighbourReport {
            queries,
            pool,
            k,
            neighbour_mismatches: near.mean_mismatches(),
            random_mismatches: rand_.mean_mismatches(),
            neighbour_close: near.close_fraction(),
            random_close: rand_.close_fraction(),
        }
    }
}

/// Result of [`Circ2Vec::neighbour_report`].
#[derive(Debug, Clone, Serialize)]
pub struct NeighbourReport {
    /// Query words.
    pub queries: usize,
    /// They were drawn from this many most frequent words.
    pub pool: usize,
    /// Neighbours per query.
    pub k: usize,
    /// Mean Hamming distance from a query to its nearest neighbours (0–10).
    pub neighbour_mismatches: f64,
    /// The same for random words (7.5 expected).
    pub random_mismatches: f64,
    /// Share of nearest neighbours that are "close": at most 2 mismatches, or
    /// the query shifted by 1–2 bases (overlapping windows of one sequence).
    pub neighbour_close: f64,
    /// The same share among random words.
    pub random_close: f64,
}

#[derive(Default)]
struct Stats {
    n: usize,
    mismatches: usize,
    close: usize,
}

impl Stats {
    fn add(&mut self, a: u32, b: u32) {
        let m = mismatches(a, b);
        self.n += 1;
        self.mismatches += m;
        self.close += usize::from(m <= 2 || shifted(a, b));
    }
    fn mean_mismatches(&self) -> f64 {
        self.mismatches as f64 / self.n.max(1) as f64
    }
    fn close_fraction(&self) -> f64 {
        self.close as f64 / self.n.max(1) as f64
    }
}

fn mismatches(a: u32, b: u32) -> usize {
    let x = a ^ b;
    ((x | (x >> 1)) & 0x55555).count_ones() as usize
}

/// `b` is `a` read 1 or 2 bases later or earlier.
fn shifted(a: u32, b: u32) -> bool {
    let mask = |s: usize| (1u32 << (2 * (K - s))) - 1;
    (1..=2).any(|s| (a & mask(s)) == (b >> (2 * s)) || (b & mask(s)) == (a >> (2 * s)))
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f32]) -> f32 {
    dot(a, a).sqrt()
}

impl Descriptor<VEC_DIM> for Circ2Vec {
    fn name(&self) -> &str {
        "vec"
    }

    fn encode_into(&self, seq: &[u8], out: &mut [f32]) {
        out.fill(0.0);
        for (i, kmer) in seq.windows(K).take(WINDOW).enumerate() {
            if let Some(v) = word_code(kmer).and_then(|c| self.row(c)) {
                out[i * VEC_DIM..(i + 1) * VEC_DIM].copy_from_slice(v);
            }
        }
    }

    fn encode_batch(&self, seqs: &[&[u8]]) -> Vec<f32> {
        crate::features::descriptor::par_encode_batch(self, seqs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_and_shift_counts() {
        let c = |s: &str| word_code(s.as_bytes()).unwrap();
        assert_eq!(mismatches(c("AAAAAAAAAA"), c("AAAAAAAAAA")), 0);
        assert_eq!(mismatches(c("AAAAAAAAAA"), c("UAAAAAAAAC")), 2);
        assert_eq!(mismatches(c("ACGUACGUAC"), c("CGUACGUACG")), 10);
        assert!(shifted(c("ACGUACGUAC"), c("CGUACGUACG")));
        assert!(shifted(c("CGUACGUACG"), c("ACGUACGUAC")));
        assert!(shifted(c("ACGUACGUAC"), c("GUACGUACAA")));
        assert!(!shifted(c("ACGUACGUAC"), c("UACGUACAAA")));
    }
}
