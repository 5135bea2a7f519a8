//! `circssnn train`, `evaluate`, `predict`: flags to a typed spec, one
//! library call, printing.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use circssnn::data::fasta::read_records;
use circssnn::data::split::SplitKind;
use circssnn::data::{Negatives, Protocol, Registry};
use circssnn::model::{Norm, ViewSet};
use circssnn::train::spec::DEFAULT_SET;
use circssnn::train::{evaluate, run, FitReport, Predictor, RunOptions, TrainConfig, TrainSpec};

use super::descriptors::LearnedArgs;
use super::Common;

/// The published defaults, shown in `--help`.
const D: TrainConfig = TrainConfig::PUBLISHED;

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data set to train on (default: TAF15, 2,934 windows, ~2 min on 2 cores).
    #[arg(long = "rbp", default_value = DEFAULT_SET)]
    set: String,
    /// Descriptor views, comma-separated: knfp, vec, bert.
    #[arg(long, default_value = "knfp")]
    views: ViewSet,
    /// LayerNorm placement: pre (the paper) or post (its ablation).
    #[arg(long, default_value = "pre")]
    norm: Norm,
    /// Transformer blocks (1, 2 or 4).
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Epochs.
    #[arg(long, default_value_t = D.epochs)]
    epochs: usize,
    /// Seed of weights, dropout and batch order.
    #[arg(long, default_value_t = D.seed)]
    seed: u64,
    /// Which split: random, published (see `circssnn baseline --help`),
    /// grouped (no source transcript in both test and training; stricter) or
    /// sequence (a sequence's part decided by its hash, the same in every set).
    #[arg(long, default_value = "random")]
    split: SplitKind,
    /// Seed of the split (and of --max-per-set and --negatives shuffled).
    #[arg(long, default_value_t = 4)]
    split_seed: u64,
    /// Negatives: pool (the set's own) or shuffled (a dinucleotide shuffle
    /// of each positive, in its part; stricter).
    #[arg(long, default_value = "pool")]
    negatives: Negatives,
    /// Keep about this many windows of the set, each split part and class in
    /// proportion (for quick runs; test windows stay test windows of the full split).
    #[arg(long)]
    max_per_set: Option<usize>,
    /// Initial learning rate (above 0, at most 1).
    #[arg(long, default_value_t = D.lr)]
    lr: f64,
    /// Multiply the learning rate by 0.1 every this many epochs (the paper: 2;
    /// sets under ~2,000 windows get few steps per epoch and learn more with a longer step).
    #[arg(long, default_value_t = D.lr_step)]
    lr_step: usize,
    /// Count the schedule in optimiser steps: x0.1 every this many steps
    /// instead of every --lr-step epochs.
    #[arg(long)]
    lr_step_steps: Option<usize>,
    /// Stop after this many epochs without a better validation AUC.
    #[arg(long)]
    patience: Option<usize>,
    /// Output folder (default runs/<set>-<views>-<norm>-d<depth>-s<seed>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Continue an interrupted run in --out from its last finished epoch.
    #[arg(long)]
    resume: bool,
    #[command(flatten)]
    learned: LearnedArgs,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

impl TrainArgs {
    fn spec(&self) -> TrainSpec {
        TrainSpec {
            set: self.set.clone(),
            views: self.views,
            norm: self.norm,
            depth: self.depth,
            protocol: Protocol {
                split: self.split,
                split_seed: self.split_seed,
                negatives: self.negatives,
                max_per_set: self.max_per_set,
            },
            train: TrainConfig {
                epochs: self.epochs,
                seed: self.seed,
                lr: self.lr,
                lr_step: self.lr_step,
                lr_step_steps: self.lr_step_steps,
                patience: self.patience,
                ..D
            },
            models: self.learned.models(),
        }
    }
}

pub fn train(common: &Common, a: TrainArgs) -> Result<()> {
    let spec = a.spec();
    spec.check()?;
    let reg = Registry::scan(&common.data_dir)?;
    let opts = RunOptions {
        out: a.out.clone(),
        resume: a.resume,
        progress: !a.quiet,
        device: common.device,
        policy: common.policy(),
    };
    let done = run(&reg, &spec, &opts)?;
    print_report(&done.meta.set, &done.report);
    eprintln!(
        "({:.0} s; model, metrics.json, metrics.csv, history.csv in {})",
        done.seconds,
        done.out.display()
    );
    Ok(())
}

fn print_report(set: &str, r: &FitReport) {
    let t = &r.test;
    println!(
        "CircSSNN on {set}: best epoch {} by validation AUC ({:.4})",
        r.best_epoch, r.valid.auc
    );
    println!("whole test set ({} windows):", t.n);
    println!(
        "  AUC {:.4}  ACC {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}  MCC {:.4}",
        t.auc, t.accuracy, t.precision, t.recall, t.f1, t.mcc
    );
    let published = if r.published.auc.is_nan() {
        "undefined: no full test batch of 64 with both classes".to_string()
    } else {
        format!("AUC {:.4} (epoch {})", r.published.auc, r.published.epoch)
    };
    println!(
        "published protocol (best epoch chosen on test, AUC averaged over batches of 64; inflated, for comparison only): {published}"
    );
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Run folder written by `circssnn train`.
    #[arg(long)]
    model: PathBuf,
    /// Set to evaluate on (default: the one trained on); its test part is scored.
    #[arg(long = "rbp")]
    set: Option<String>,
    #[command(flatten)]
    learned: LearnedArgs,
}

pub fn evaluate_cmd(common: &Common, a: EvaluateArgs) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let e = evaluate(
        &reg,
        &a.model,
        a.set.as_deref(),
        &a.learned.models(),
        common.device,
        common.policy(),
    )?;
    let (m, meta) = (&e.metrics, &e.meta);
    println!(
        "{} test part ({} windows, {} split seed {}): AUC {:.4}  ACC {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}  MCC {:.4}",
        e.set, m.n, meta.split, meta.split_seed, m.auc, m.accuracy, m.precision, m.recall, m.f1, m.mcc
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Run folder written by `circssnn train`.
    #[arg(long)]
    model: PathBuf,
    /// FASTA (plain or gzipped) of 101-nt windows; writes CSV (record, id,
    /// probability) to stdout. For whole transcripts use `circssnn scan`.
    input: PathBuf,
    #[command(flatten)]
    learned: LearnedArgs,
}

pub fn predict(common: &Common, a: PredictArgs) -> Result<()> {
    let predictor = Predictor::load(&a.model, &a.learned.models(), common.device)?;
    let records = read_records(&a.input, common.policy())?;
    let seqs: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let probs = predictor.predict(&seqs)?;
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    // The 1-based record number first: header ids repeat (3 of the first 10
    // WTAP positives share theirs), the record number does not.
    w.write_record(["record", "id", "probability"])?;
    for (i, (r, p)) in records.iter().zip(&probs).enumerate() {
        w.write_record([&(i + 1).to_string(), r.id.as_str(), &format!("{p:.6}")])?;
    }
    w.flush()?;
    Ok(())
}
