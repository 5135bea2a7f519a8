//! `circssnn embed`: train the learned descriptors (circRNA2Vec, k-mer BERT)
//! on the training-only corpus, and inspect them.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use circssnn::data::split::SplitKind;
use circssnn::data::Registry;
use circssnn::features::bert::{pretrain_profile, BertProfile, PretrainConfig, PretrainReport};
use circssnn::features::circ2vec::{self, Circ2VecConfig};
use circssnn::features::corpus::{training_corpus, Corpus};
use circssnn::features::learned::DEFAULT_VEC_MODEL;
use circssnn::features::Circ2Vec;

use super::Common;
use circssnn::with_device;

#[derive(Debug, Subcommand)]
pub enum EmbedCommand {
    /// Train circRNA2Vec (10-mer skip-gram, 30-d) on the training parts of the 37 circRNA sets.
    TrainVec(TrainVecArgs),
    /// Pretrain the k-mer BERT by masked-LM on the same corpus (checkpoints, --resume).
    PretrainBert(PretrainBertArgs),
    /// Nearest 10-mers of a word, and the intrinsic neighbour check of a circRNA2Vec model.
    Neighbours {
        /// Model folder.
        #[arg(long, default_value = DEFAULT_VEC_MODEL)]
        model: PathBuf,
        /// A 10-mer to look up (default: only the summary check).
        word: Option<String>,
        /// Neighbours to show.
        #[arg(long, default_value_t = 10)]
        k: usize,
    },
}

/// Which windows the learned descriptors may learn from.
#[derive(Debug, Args)]
pub struct CorpusArgs {
    /// Split whose test parts are kept out of the corpus (use the one you will train with).
    #[arg(long, default_value = "random")]
    split: SplitKind,
    /// Seed of that split.
    #[arg(long, default_value_t = 4)]
    split_seed: u64,
    /// Use a seeded random subset of this many windows (quick runs, CI).
    #[arg(long)]
    max_windows: Option<usize>,
}

impl CorpusArgs {
    fn build(&self, common: &Common) -> Result<Corpus> {
        let reg = Registry::scan(&common.data_dir)?;
        let t0 = Instant::now();
        let c = training_corpus(
            &reg,
            common.policy(),
            self.split,
            self.split_seed,
            self.max_windows,
        )?;
        eprintln!(
            "corpus: {} distinct training windows of {} circRNA sets ({} left out because they are test windows of some set; {} split, seed {}; {:.1} s)",
            c.info.windows,
            c.info.sets,
            c.info.excluded_as_test,
            c.info.split,
            c.info.split_seed,
            t0.elapsed().as_secs_f64()
        );
        Ok(c)
    }
}

#[derive(Debug, Args)]
pub struct TrainVecArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Output folder (vectors.safetensors, vocab.txt, circ2vec.json).
    #[arg(long, default_value = DEFAULT_VEC_MODEL)]
    out: PathBuf,
    /// Passes over the corpus.
    #[arg(long, default_value_t = 5)]
    epochs: usize,
    /// Context window in words.
    #[arg(long, default_value_t = 5)]
    window: usize,
    /// Noise words per pair.
    #[arg(long, default_value_t = 5)]
    negatives: usize,
    /// Minimum count of a word to get a vector.
    #[arg(long, default_value_t = 5)]
    min_count: u32,
    /// Seed.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Threads; 1 is bit-exact for a seed, more is faster and differs in the last digits.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(common: &Common, cmd: EmbedCommand) -> Result<()> {
    match cmd {
        EmbedCommand::TrainVec(a) => train_vec(common, a),
        EmbedCommand::PretrainBert(a) => pretrain_bert(common, a),
        EmbedCommand::Neighbours { model, word, k } => neighbours(&model, word.as_deref(), k),
    }
}

fn train_vec(common: &Common, a: TrainVecArgs) -> Result<()> {
    let corpus = a.corpus.build(common)?;
    let cfg = Circ2VecConfig {
        epochs: a.epochs,
        window: a.window,
        negatives: a.negatives,
        min_count: a.min_count,
        seed: a.seed,
        threads: a.threads,
        ..Default::default()
    };
    let model = circ2vec::train(&corpus, &cfg, !a.quiet)?;
    model
        .save(&a.out)
        .with_context(|| format!("saving circRNA2Vec to {}", a.out.display()))?;
    let m = &model.meta;
    println!(
        "circRNA2Vec: {} words x 30, {} tokens/epoch, {} epochs, final loss {:.4}, {:.1} s on {} thread(s) -> {}",
        m.vocab,
        m.tokens_per_epoch,
        cfg.epochs,
        m.final_loss,
        m.seconds,
        cfg.threads,
        a.out.display()
    );
    print_check(&model);
    Ok(())
}

fn print_check(model: &Circ2Vec) {
    let r = model.neighbour_report(200, 10_000, 10, 7);
    println!(
        "neighbour check ({} random words of the {} most frequent, 10 nearest each): {:.2} mismatches on average (random words: {:.2}); \
         {:.0}% within 2 mismatches or a 1-2 base shift (random words: {:.1}%)",
        r.queries,
        r.pool,
        r.neighbour_mismatches,
        r.random_mismatches,
        100.0 * r.neighbour_close,
        100.0 * r.random_close
    );
}

fn neighbours(dir: &std::path::Path, word: Option<&str>, k: usize) -> Result<()> {
    let model = Circ2Vec::load(dir)?;
    if let Some(w) = word {
        let Some(list) = model.neighbours(w, k) else {
            bail!(
                "{w:?} is not a 10-mer in the vocabulary of {}",
                dir.display()
            );
        };
        for (n, s) in list {
            println!("{n}\t{s:.4}");
        }
    }
    print_check(&model);
    Ok(())
}

#[derive(Debug, Args)]
pub struct PretrainBertArgs {
    #[command(flatten)]
    corpus: CorpusArgs,
    /// Model shape.
    #[arg(long, value_enum, default_value = "small")]
    profile: BertProfile,
    /// Output folder, a HuggingFace checkpoint (default models/bert-<profile>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Optimiser steps.
    #[arg(long, default_value_t = PretrainConfig::default().steps)]
    steps: usize,
    /// Windows per step.
    #[arg(long, default_value_t = PretrainConfig::default().batch)]
    batch: usize,
    /// Peak learning rate (linear warm-up over --warmup steps, then linear decay to 0).
    #[arg(long, default_value_t = PretrainConfig::default().lr)]
    lr: f64,
    /// Warm-up steps.
    #[arg(long, default_value_t = PretrainConfig::default().warmup)]
    warmup: usize,
    /// Save a checkpoint every this many steps.
    #[arg(long, default_value_t = PretrainConfig::default().checkpoint_every)]
    checkpoint_every: usize,
    /// Seed of weights, batches and masks.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Continue the run in --out from its last checkpoint (same settings).
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn pretrain_bert(common: &Common, a: PretrainBertArgs) -> Result<()> {
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| a.profile.default_dir().into());
    if !a.resume && out.join("pretrain.json").is_file() {
        bail!(
            "{} already holds a pretraining run; pass --resume to continue it or --out to start another",
            out.display()
        );
    }
    let corpus = a.corpus.build(common)?;
    let cfg = PretrainConfig {
        steps: a.steps,
        batch: a.batch,
        lr: a.lr,
        warmup: a.warmup,
        checkpoint_every: a.checkpoint_every,
        seed: a.seed,
        ..Default::default()
    };
    let progress = !a.quiet;
    let report: PretrainReport = with_device!(common.device, a.seed, dev: Dev =>
        pretrain_profile(a.profile, &dev, &corpus, &cfg, &out, a.resume, progress)?);
    let (loss, acc) = report.tail(100);
    let first = report.history.first().map_or(f64::NAN, |r| r.loss);
    println!(
        "k-mer BERT ({}): {} steps of {} windows, masked-LM loss {first:.3} -> {loss:.3}, masked-token accuracy {:.1}% (mean of the last 100 steps), {:.0} s -> {}",
        a.profile.name(),
        report.steps_done,
        cfg.batch,
        100.0 * acc,
        report.seconds,
        out.display()
    );
    println!(
        "per-step loss and accuracy: {}",
        out.join("history.csv").display()
    );
    Ok(())
}
