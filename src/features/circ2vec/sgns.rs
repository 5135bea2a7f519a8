//! Skip-gram with negative sampling (Mikolov et al. 2013), the word2vec
//! objective, over 10-mer words.
//!
//! Written here rather than taken from a crate: finalfrontier, the Rust
//! word2vec trainer, reads whitespace-separated text, adds subword buckets,
//! and trains only with Hogwild threads, so it has no bit-exact seeded mode;
//! the objective itself is ~100 lines over 20-bit word codes.
//!
//! With `threads = 1` training is bit-exact for a seed. With more threads
//! each thread walks its own share of the windows and updates the shared
//! vectors without locks (Hogwild, as word2vec does), so runs differ slightly
//! in the last digits.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, WeightedAliasIndex};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{word_code, Circ2Vec, Circ2VecMeta, ALL_WORDS, FORMAT_VERSION, K, NO_ROW, VEC_DIM};
use crate::features::corpus::Corpus;
use crate::features::EmbedError;
use crate::nn::{drive, TrainProgress, Trainer};

/// Training settings (word2vec's defaults where the paper is silent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Circ2VecConfig {
    /// Passes over the corpus.
    pub epochs: usize,
    /// Largest context distance in words (each step draws 1..=window).
    pub window: usize,
    /// Noise words per (word, context) pair.
    pub negatives: usize,
    /// Words seen fewer times are left out of the vocabulary.
    pub min_count: u32,
    /// Initial learning rate, decayed linearly to ~0.
    pub lr: f32,
    /// Frequent-word subsampling threshold (0 turns it off).
    pub subsample: f64,
    /// Seed of initial vectors, window order, noise words.
    pub seed: u64,
    /// Worker threads (1: bit-exact).
    pub threads: usize,
}

impl Default for Circ2VecConfig {
    fn default() -> Self {
        Circ2VecConfig {
            epochs: 5,
            window: 5,
            negatives: 5,
            min_count: 5,
            lr: 0.025,
            subsample: 1e-3,
            seed: 4,
            threads: 1,
        }
    }
}

/// Vectors every thread reads and writes. Relaxed atomics are plain loads and
/// stores on x86 and make the lock-free Hogwild updates defined behaviour.
struct Shared(Vec<AtomicU32>);

impl Shared {
    fn new(values: impl Iterator<Item = f32>) -> Self {
        Shared(values.map(|v| AtomicU32::new(v.to_bits())).collect())
    }
    fn load(&self, row: u32, out: &mut [f32; VEC_DIM]) {
        let base = row as usize * VEC_DIM;
        for (o, a) in out.iter_mut().zip(&self.0[base..base + VEC_DIM]) {
            *o = f32::from_bits(a.load(Relaxed));
        }
    }
    fn store(&self, row: u32, v: &[f32; VEC_DIM]) {
        let base = row as usize * VEC_DIM;
        for (a, x) in self.0[base..base + VEC_DIM].iter().zip(v) {
            a.store(x.to_bits(), Relaxed);
        }
    }
    fn into_vec(self) -> Vec<f32> {
        self.0
            .into_iter()
            .map(|a| f32::from_bits(a.into_inner()))
            .collect()
    }
}

/// The corpus as vocabulary rows, one sentence per window.
struct Sentences {
    tokens: Vec<u32>,
    starts: Vec<usize>,
}

impl Sentences {
    fn get(&self, s: usize) -> &[u32] {
        &self.tokens[self.starts[s]..self.starts[s + 1]]
    }
}

/// Everything a worker thread shares.
struct Job<'a> {
    cfg: &'a Circ2VecConfig,
    sentences: &'a Sentences,
    keep: &'a [f32],
    noise: &'a WeightedAliasIndex<f64>,
    input: &'a Shared,
    output: &'a Shared,
    done: &'a AtomicU64,
    work: u64,
    bar: &'a TrainProgress,
}

/// Sum of losses over the pairs it scored, and their count.
#[derive(Default, Clone, Copy)]
struct Loss {
    sum: f64,
    n: u64,
}

/// One loss in this many pairs is evaluated: the logarithms would otherwise
/// cost a third of training time, for a progress figure.
const LOSS_EVERY: u64 = 8;

impl Job<'_> {
    fn run(&self, order: &[usize], seed: u64) -> Loss {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut sent = Vec::with_capacity(super::WORDS);
        let (mut l1, mut syn, mut grad) = ([0f32; VEC_DIM], [0f32; VEC_DIM], [0f32; VEC_DIM]);
        let mut loss = Loss::default();
        let mut pairs = 0u64;
        let mut pending = 0u64;
        let mut alpha = self.cfg.lr;
        for &s in order {
            let words = self.sentences.get(s);
            sent.clear();
            for &r in words {
                let k = self.keep[r as usize];
                if k >= 1.0 || rng.gen::<f32>() < k {
                    sent.push(r);
                }
            }
            pending += words.len() as u64;
            if pending >= 10_000 {
                let done = self.done.fetch_add(pending, Relaxed) + pending;
                self.bar.inc(pending);
                pending = 0;
                alpha = self.cfg.lr * (1.0 - done as f32 / (self.work + 1) as f32).max(1e-4);
            }
            for (pos, &center) in sent.iter().enumerate() {
                let span = self.cfg.window - rng.gen_range(0..self.cfg.window);
                let lo = pos.saturating_sub(span);
                let hi = (pos + span).min(sent.len() - 1);
                for (c, &ctx) in sent.iter().enumerate().take(hi + 1).skip(lo) {
                    if c == pos {
                        continue;
                    }
                    self.input.load(ctx, &mut l1);
                    grad.fill(0.0);
                    let scored = pairs.is_multiple_of(LOSS_EVERY);
                    pairs += 1;
                    for d in 0..=self.cfg.negatives {
                        let (target, label) = if d == 0 {
                            (center, 1.0f32)
                        } else {
                            let t = self.noise.sample(&mut rng) as u32;
                            if t == center {
                                continue;
                            }
                            (t, 0.0)
                        };
                        self.output.load(target, &mut syn);
                        let f: f32 = l1.iter().zip(&syn).map(|(a, b)| a * b).sum();
                        let p = 1.0 / (1.0 + (-f).exp());
                        if scored {
                            let q = if label > 0.5 { p } else { 1.0 - p };
                            loss.sum -= f64::from(q.max(1e-7)).ln();
                        }
                        let g = (label - p) * alpha;
                        for i in 0..VEC_DIM {
                            grad[i] += g * syn[i];
                            syn[i] += g * l1[i];
                        }
                        self.output.store(target, &syn);
                    }
                    if scored {
                        loss.n += 1;
                    }
                    for i in 0..VEC_DIM {
                        l1[i] += grad[i];
                    }
                    self.input.store(ctx, &l1);
                }
            }
        }
        self.done.fetch_add(pending, Relaxed);
        self.bar.inc(pending);
        loss
    }
}

/// The passes over the corpus: a unit of [`Trainer`] is one epoch (nothing
/// is saved between epochs: a whole run takes about an hour on one thread).
struct Passes<'a> {
    job: &'a Job<'a>,
    pool: &'a rayon::ThreadPool,
    rng: &'a mut ChaCha8Rng,
    n_windows: usize,
    last: Loss,
}

impl Trainer for Passes<'_> {
    type Error = EmbedError;

    fn run_unit(&mut self, epoch: usize, progress: &TrainProgress) -> Result<f64, EmbedError> {
        let threads = self.job.cfg.threads;
        let mut order: Vec<usize> = (0..self.n_windows).collect();
        order.shuffle(self.rng);
        let share = order.len().div_ceil(threads).max(1);
        let seeds: Vec<u64> = (0..threads).map(|_| self.rng.gen()).collect();
        let job = self.job;
        let parts: Vec<Loss> = if threads == 1 {
            vec![job.run(&order, seeds[0])]
        } else {
            self.pool.install(|| {
                order
                    .par_chunks(share)
                    .zip(seeds.par_iter())
                    .map(|(part, &seed)| job.run(part, seed))
                    .collect()
            })
        };
        self.last = parts.iter().fold(Loss::default(), |a, b| Loss {
            sum: a.sum + b.sum,
            n: a.n + b.n,
        });
        let mean = self.last.sum / self.last.n.max(1) as f64;
        progress.message(format!("epoch {epoch} loss {mean:.4}"));
        Ok(mean)
    }

    fn after_unit(&mut self, _: usize, _: &TrainProgress) -> Result<(), EmbedError> {
        Ok(())
    }

    fn diverged(&self, epoch: usize, loss: f64) -> EmbedError {
        EmbedError::Diverged {
            what: "circRNA2Vec",
            step: epoch,
            loss: loss as f32,
        }
    }
}

/// Train circRNA2Vec on `corpus` (see [`crate::features::corpus`]).
///
/// ```no_run
/// use circssnn::data::{default_root, split::SplitKind, Registry};
/// use circssnn::features::{circ2vec, corpus};
/// let reg = Registry::scan(&default_root())?;
/// let c = corpus::training_corpus(&reg, Default::default(), SplitKind::Random, 4, Some(5_000))?;
/// let model = circ2vec::train(&c, &Default::default(), false)?;
/// println!("{} words", model.vocab_len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn train(
    corpus: &Corpus,
    cfg: &Circ2VecConfig,
    progress: bool,
) -> Result<Circ2Vec, EmbedError> {
    let t0 = Instant::now();
    if cfg.epochs == 0 || cfg.window == 0 || cfg.threads == 0 || cfg.lr.is_nan() || cfg.lr <= 0.0 {
        return Err(EmbedError::Invalid(
            "circRNA2Vec needs epochs, window, threads and learning rate above 0".into(),
        ));
    }
    let mut counts = vec![0u32; ALL_WORDS];
    for w in &corpus.windows {
        for c in w.windows(K).filter_map(word_code) {
            counts[c as usize] += 1;
        }
    }
    let mut words: Vec<u32> = (0..ALL_WORDS as u32)
        .filter(|&c| counts[c as usize] >= cfg.min_count.max(1))
        .collect();
    // Most frequent first (word2vec's order), ties by code: deterministic.
    words.sort_by(|a, b| counts[*b as usize].cmp(&counts[*a as usize]).then(a.cmp(b)));
    if words.is_empty() {
        return Err(EmbedError::Invalid(format!(
            "no 10-mer occurs {} times in the {} corpus windows",
            cfg.min_count,
            corpus.windows.len()
        )));
    }
    let mut index = vec![NO_ROW; ALL_WORDS];
    for (r, &w) in words.iter().enumerate() {
        index[w as usize] = r as u32;
    }
    let mut sentences = Sentences {
        tokens: Vec::new(),
        starts: vec![0],
    };
    for w in &corpus.windows {
        sentences.tokens.extend(
            w.windows(K)
                .filter_map(word_code)
                .map(|c| index[c as usize])
                .filter(|&r| r != NO_ROW),
        );
        sentences.starts.push(sentences.tokens.len());
    }
    let total = sentences.tokens.len() as u64;
    let noise = WeightedAliasIndex::new(
        words
            .iter()
            .map(|&c| f64::from(counts[c as usize]).powf(0.75))
            .collect(),
    )
    .map_err(|e| EmbedError::Invalid(format!("noise distribution: {e}")))?;
    let keep: Vec<f32> = words
        .iter()
        .map(|&c| {
            let f = f64::from(counts[c as usize]) / total as f64;
            let t = cfg.subsample;
            if t <= 0.0 {
                1.0
            } else {
                (((f / t).sqrt() + 1.0) * t / f) as f32
            }
        })
        .collect();

    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let scale = 1.0 / VEC_DIM as f32;
    let input = Shared::new((0..words.len() * VEC_DIM).map(|_| (rng.gen::<f32>() - 0.5) * scale));
    let output = Shared::new(std::iter::repeat_n(0.0, words.len() * VEC_DIM));
    let work = cfg.epochs as u64 * total;
    let bar = TrainProgress::new(
        progress,
        work,
        "circRNA2Vec {bar:30} {percent}% {per_sec} words, ETA {eta} {msg}",
    );
    let done = AtomicU64::new(0);
    let job = Job {
        cfg,
        sentences: &sentences,
        keep: &keep,
        noise: &noise,
        input: &input,
        output: &output,
        done: &done,
        work,
        bar: &bar,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(cfg.threads)
        .build()
        .map_err(|e| EmbedError::Invalid(format!("thread pool: {e}")))?;
    let mut passes = Passes {
        job: &job,
        pool: &pool,
        rng: &mut rng,
        n_windows: corpus.windows.len(),
        last: Loss::default(),
    };
    drive(&mut passes, 1..=cfg.epochs, &bar)?;
    let last = passes.last;
    let meta = Circ2VecMeta {
        format_version: FORMAT_VERSION,
        config: cfg.clone(),
        corpus: corpus.info.clone(),
        vocab: words.len(),
        tokens_per_epoch: total,
        final_loss: last.sum / last.n.max(1) as f64,
        seconds: t0.elapsed().as_secs_f64(),
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    Ok(Circ2Vec::new(words, input.into_vec(), meta))
}
