use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;

use circssnn::data::fasta::read_records;
use circssnn::data::split::SplitKind;
use circssnn::data::{Negatives, Protocol};
use circssnn::data::{Registry, SetKind, Split};
use circssnn::model::{CircSsnn, ModelConfig, Norm, ViewSet};
use circssnn::output::{write_atomic, write_csv_atomic};
use circssnn::train::checkpoint::{load_meta, CheckpointMeta, FORMAT_VERSION};
use circssnn::train::fit::RunDir;
use circssnn::train::results::{config_hash, write_rows, RunRow, GIT_REVISION};
use circssnn::train::{fit, load_checkpoint, predict_proba, FitReport, TrainConfig};

use super::descriptors::{with_bert_shape, Learned, LearnedArgs};
use super::{with_device, Common};

/// Depths the CLI can build (each is a separate type).
const DEPTHS: &str = "1, 2 or 4";

/// Run `$body` with `const $d: usize` bound to the runtime depth.
macro_rules! with_depth {
    ($depth:expr, $d:ident => $body:expr) => {
        match $depth {
            1 => {
                const $d: usize = 1;
                $body
            }
            2 => {
                const $d: usize = 2;
                $body
            }
            4 => {
                const $d: usize = 4;
                $body
            }
            other => bail!("depth {other} is not built into the CLI; use {DEPTHS}"),
        }
    };
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Data set to train on (default: TAF15, 2,934 windows, ~4 min on 2 cores).
    #[arg(long = "rbp", default_value = "TAF15")]
    set: String,
    /// Descriptor views, comma-separated: knfp, vec, bert.
    #[arg(long, default_value = "knfp")]
    views: ViewSet,
    /// LayerNorm placement: pre (the paper) or post (its ablation).
    #[arg(long, default_value = "pre")]
    norm: Norm,
    /// Transformer blocks.
    #[arg(long, default_value_t = 1)]
    depth: usize,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Seed of weights, dropout and batch order.
    #[arg(long, default_value_t = 4)]
    seed: u64,
    /// Which split: random, published (see `circssnn baseline --help`) or
    /// grouped (no source transcript in both test and training; stricter).
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
    /// Initial learning rate.
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Multiply the learning rate by 0.1 every this many epochs (the paper: 2;
    /// sets under ~2,000 windows get few steps per epoch and learn more with a longer step).
    #[arg(long, default_value_t = 2)]
    lr_step: usize,
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

pub fn train(common: &Common, a: TrainArgs) -> Result<()> {
    let reg = Registry::scan(&common.data_dir)?;
    let full = reg.get(&a.set)?.load(common.policy())?;
    let protocol = Protocol {
        split: a.split,
        split_seed: a.split_seed,
        negatives: a.negatives,
        max_per_set: a.max_per_set,
    };
    let (ds, split) = protocol.apply(&full);
    drop(full);
    let out = a.out.clone().unwrap_or_else(|| {
        let name = format!(
            "{}-{}-{:?}-d{}-s{}{}{}",
            ds.name,
            a.views.names().replace(',', "+"),
            a.norm,
            a.depth,
            a.seed,
            if a.split == SplitKind::Grouped {
                "-grouped"
            } else {
                ""
            },
            protocol.tag()
        );
        PathBuf::from("runs").join(name.to_ascii_lowercase())
    });
    if !a.resume && out.join("state.json").exists() {
        bail!(
            "{} already holds a run; pass --resume to continue it or --out to start another",
            out.display()
        );
    }
    let model = ModelConfig {
        views: a.views,
        norm: a.norm,
        ..Default::default()
    };
    let cfg = TrainConfig {
        epochs: a.epochs,
        seed: a.seed,
        lr: a.lr,
        lr_step: a.lr_step.max(1),
        progress: !a.quiet,
        ..Default::default()
    };
    let bert_width = a.learned.bert_width(a.views)?;
    // Learned descriptors are trained on circRNA windows only, so only a
    // circRNA run can meet its own test windows in their corpus.
    let corpus_check = (ds.kind == SetKind::Circular).then_some((a.split, a.split_seed));
    let meta = CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width,
        depth: a.depth,
        model,
        set: ds.name.clone(),
        split: a.split,
        split_seed: a.split_seed,
        negatives: a.negatives,
        max_per_set: a.max_per_set,
        seed: a.seed,
        descriptors: Default::default(),
        epoch: 0,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    eprintln!(
        "training CircSSNN on {} ({} train / {} valid / {} test windows), views {}, {:?}-norm, depth {}, {} epochs -> {}",
        ds.name,
        split.train.len(),
        split.valid.len(),
        split.test.len(),
        a.views.names(),
        a.norm,
        a.depth,
        a.epochs,
        out.display()
    );
    let t0 = Instant::now();
    let windows: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
    let (report, meta) = with_bert_shape!(bert_width, (BERT, L, H, F) =>
    with_depth!(a.depth, DEPTH => with_device!(common.device, a.seed, dev: Dev => {
        let mut net = CircSsnn::<BERT, DEPTH, Dev>::new(&dev, model);
        let learned = Learned::<BERT, L, H, F, Dev>::load(&dev, &a.learned, a.views, corpus_check, None)?;
        let cache = learned.cached_bert(&a.learned, &format!("{}{}", ds.name, protocol.tag()), &windows, !a.quiet)?;
        let desc = learned.descriptors(a.views, cache.as_ref().map(|c| c as _));
        let meta = CheckpointMeta { descriptors: learned.sources.clone(), ..meta };
        let run = RunDir { dir: &out, meta: meta.clone(), resume: a.resume };
        (fit(&mut net, &dev, &desc, &ds, &split, &cfg, Some(&run))?, meta)
    })));
    let seconds = t0.elapsed().as_secs_f64();
    let settings = serde_json::json!({
        "model": meta.model, "depth": meta.depth, "protocol": protocol, "seed": a.seed,
        "train": cfg, "descriptors": meta.descriptors,
    });
    write_outputs(
        &out,
        &meta,
        &protocol,
        &config_hash(&settings),
        &report,
        &split,
        seconds,
    )?;
    print_report(&ds.name, &report);
    eprintln!(
        "({seconds:.0} s; model, metrics.json, metrics.csv, history.csv in {})",
        out.display()
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

fn write_outputs(
    out: &Path,
    meta: &CheckpointMeta,
    protocol: &Protocol,
    config: &str,
    r: &FitReport,
    split: &Split,
    seconds: f64,
) -> Result<()> {
    let metrics = serde_json::json!({
        "set": meta.set,
        "model": meta.model,
        "depth": meta.depth,
        "split": meta.split,
        "split_seed": meta.split_seed,
        "negatives": protocol.negatives,
        "max_per_set": protocol.max_per_set,
        "seed": meta.seed,
        "n_train": split.train.len(),
        "n_valid": split.valid.len(),
        "n_test": split.test.len(),
        "best_epoch": r.best_epoch,
        "valid": r.valid,
        "test": r.test,
        "published_protocol": r.published,
        "resumed_after": r.resumed_after,
        "seconds": seconds,
    });
    write_atomic(&out.join("metrics.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &metrics).map_err(std::io::Error::other)?;
        writeln!(w)
    })?;
    let row = RunRow {
        set: meta.set.clone(),
        views: meta.model.views.names(),
        norm: format!("{:?}", meta.model.norm).to_lowercase(),
        depth: meta.depth,
        split: meta.split.to_string(),
        split_seed: meta.split_seed,
        seed: meta.seed,
        best_epoch: r.best_epoch,
        auc: r.test.auc,
        accuracy: r.test.accuracy,
        precision: r.test.precision,
        recall: r.test.recall,
        f1: r.test.f1,
        mcc: r.test.mcc,
        valid_auc: r.valid.auc,
        published_auc: r.published.auc,
        seconds: (seconds * 10.0).round() / 10.0,
        negatives: protocol.negatives.to_string(),
        max_per_set: protocol.max_per_set,
        suite: String::new(),
        experiment: String::new(),
        variant: String::new(),
        git_rev: GIT_REVISION.to_string(),
        config_hash: config.to_string(),
    };
    write_rows(&out.join("metrics.csv"), &[row])?;
    write_csv_atomic(&out.join("history.csv"), &r.history).context("writing history.csv")?;
    Ok(())
}

/// P(bound) for `seqs` from the best checkpoint in `dir`, on the chosen
/// device, with the descriptor models the network was trained with. With
/// `cache`, the BERT view is read through the cache of that set's windows.
fn score(
    common: &Common,
    learned: &LearnedArgs,
    dir: &Path,
    meta: &CheckpointMeta,
    seqs: &[&[u8]],
    cache: Option<(&str, &[&[u8]])>,
) -> Result<Vec<f64>> {
    let views = meta.model.views;
    Ok(with_bert_shape!(meta.bert_width, (BERT, L, H, F) =>
    with_depth!(meta.depth, DEPTH => with_device!(common.device, 0, dev: Dev => {
        let (net, _) = load_checkpoint::<BERT, DEPTH, Dev>(&dev, dir, "best")?;
        let models = Learned::<BERT, L, H, F, Dev>::load(&dev, learned, views, None, Some(&meta.descriptors))?;
        let cached = match cache {
            Some((set, windows)) => models.cached_bert(learned, set, windows, true)?,
            None => None,
        };
        let desc = models.descriptors(views, cached.as_ref().map(|c| c as _));
        predict_proba(&net, &dev, &desc, seqs, 256)?
    }))))
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

pub fn evaluate(common: &Common, a: EvaluateArgs) -> Result<()> {
    let meta = load_meta(&a.model, "best")?;
    let reg = Registry::scan(&common.data_dir)?;
    let ds = reg
        .get(a.set.as_deref().unwrap_or(&meta.set))?
        .load(common.policy())?;
    let protocol = meta.protocol();
    let (ds, split) = protocol.apply(&ds);
    let seqs: Vec<&[u8]> = split
        .test
        .iter()
        .map(|&i| ds.records[i].seq.as_slice())
        .collect();
    let labels: Vec<u8> = split.test.iter().map(|&i| ds.labels[i]).collect();
    let all: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
    let probs = score(
        common,
        &a.learned,
        &a.model,
        &meta,
        &seqs,
        Some((&format!("{}{}", ds.name, protocol.tag()), &all)),
    )?;
    let m = circssnn::eval::binary_metrics(&probs, &labels, 0.5)?;
    println!(
        "{} test part ({} windows, {} split seed {}): AUC {:.4}  ACC {:.4}  precision {:.4}  recall {:.4}  F1 {:.4}  MCC {:.4}",
        ds.name, m.n, meta.split, meta.split_seed, m.auc, m.accuracy, m.precision, m.recall, m.f1, m.mcc
    );
    Ok(())
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Run folder written by `circssnn train`.
    #[arg(long)]
    model: PathBuf,
    /// FASTA (plain or gzipped) of 101-nt windows.
    input: PathBuf,
    #[command(flatten)]
    learned: LearnedArgs,
}

pub fn predict(common: &Common, a: PredictArgs) -> Result<()> {
    let meta = load_meta(&a.model, "best")?;
    let records = read_records(&a.input, common.policy())?;
    let seqs: Vec<&[u8]> = records.iter().map(|r| r.seq.as_slice()).collect();
    let probs = score(common, &a.learned, &a.model, &meta, &seqs, None)?;
    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
    w.write_record(["id", "probability"])?;
    for (r, p) in records.iter().zip(&probs) {
        w.write_record([r.id.as_str(), &format!("{p:.6}")])?;
    }
    w.flush()?;
    Ok(())
}
