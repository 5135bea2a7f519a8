//! A whole training run from a [`TrainSpec`]: read and split the set, load
//! the learned descriptors the views need (checked against the split),
//! build the typed network for the spec's depth and BERT width on the chosen
//! device, [`fit`](super::fit()), and write the run folder. What `circssnn
//! train` does, as one call a notebook can make:
//!
//! ```no_run
//! use circssnn::data::{default_root, Registry};
//! use circssnn::model::ViewSet;
//! use circssnn::train::{run, RunOptions, TrainSpec};
//! let reg = Registry::scan(&default_root())?;
//! let spec = TrainSpec { set: "QKI".into(), views: ViewSet::ALL, ..Default::default() };
//! let done = run(&reg, &spec, &RunOptions::default())?;
//! println!("{}: whole-test AUC {:.4}", done.out.display(), done.report.test.auc);
//! # Ok::<(), circssnn::train::TrainError>(())
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use super::checkpoint::{CheckpointMeta, FORMAT_VERSION};
use super::fit::{fit, FitReport, RunDir};
use super::results::{config_hash, write_rows, RunRow};
use super::spec::TrainSpec;
use super::{Descriptors, DeviceKind, TrainError};
use crate::data::{LengthPolicy, Registry, SetKind, Split};
use crate::features::learned::Learned;
use crate::model::CircSsnn;
use crate::output::{remove_leftovers, write_atomic, write_csv_atomic, DirLock};
use crate::{with_bert_shape, with_depth, with_device};

/// How to run a [`TrainSpec`] (what does not change its result).
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Run folder (default: [`TrainSpec::default_out`]).
    pub out: Option<PathBuf>,
    /// Continue the unfinished run in the folder from its last epoch.
    pub resume: bool,
    /// Progress bars on stderr (and the per-epoch lines).
    pub progress: bool,
    /// Where the network runs.
    pub device: DeviceKind,
    /// Windows of another length than 101: error, pad or trim.
    pub policy: LengthPolicy,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            out: None,
            resume: false,
            progress: true,
            device: DeviceKind::Cpu,
            policy: LengthPolicy::default(),
        }
    }
}

/// What a finished run produced (also written to its folder).
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run folder.
    pub out: PathBuf,
    /// History, selected epoch, whole-validation and whole-test metrics.
    pub report: FitReport,
    /// What the best checkpoint's weights are.
    pub meta: CheckpointMeta,
    /// The row of `metrics.csv`.
    pub row: RunRow,
    /// Windows in the training, validation and test parts.
    pub sizes: [usize; 3],
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Things the user should know (e.g. a descriptor whose corpus is unknown).
    pub notes: Vec<String>,
}

/// Take the run folder: a path that is a file, or a folder that holds
/// another run (without `--resume`), is refused before any data is read.
/// The folder is locked for the run ([`DirLock`]): a second process on it
/// stops at once, naming the first; temporary files a killed run left are
/// removed.
fn claim_out(out: &Path, resume: bool) -> Result<DirLock, TrainError> {
    if out.exists() && !out.is_dir() {
        return Err(TrainError::Checkpoint {
            path: out.to_path_buf(),
            message: "is a file; --out must name a folder".into(),
        });
    }
    let lock = DirLock::acquire(out)?;
    if !resume && out.join("state.json").exists() {
        return Err(TrainError::Checkpoint {
            path: out.to_path_buf(),
            message: "already holds a run; pass --resume to continue it or --out to start another"
                .into(),
        });
    }
    remove_leftovers(out).map_err(|e| TrainError::Checkpoint {
        path: out.to_path_buf(),
        message: format!("cannot clean up after an earlier, interrupted run: {e}"),
    })?;
    Ok(lock)
}

/// Train `spec` on its set from `reg`, writing the run folder: checkpoints
/// (`best.*`, `last.*`, `state.json`), `metrics.json`, `metrics.csv` and
/// `history.csv`.
pub fn run(reg: &Registry, spec: &TrainSpec, opts: &RunOptions) -> Result<RunOutcome, TrainError> {
    spec.check()?;
    let out = opts.out.clone().unwrap_or_else(|| spec.default_out());
    let _lock = claim_out(&out, opts.resume)?;
    let full = reg.get(&spec.set)?.load(opts.policy)?;
    let (ds, split) = spec.protocol.apply(&full);
    drop(full);
    let bert_width = spec.models.bert_width(spec.views)?;
    // Learned descriptors are trained on circRNA windows only, so only a
    // circRNA run can meet its own test windows in their corpus.
    let corpus_check =
        (ds.kind == SetKind::Circular).then_some((spec.protocol.split, spec.protocol.split_seed));
    let model = crate::model::ModelConfig {
        views: spec.views,
        norm: spec.norm,
        ..Default::default()
    };
    let meta = CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width,
        depth: spec.depth,
        model,
        set: ds.name.clone(),
        split: spec.protocol.split,
        split_seed: spec.protocol.split_seed,
        negatives: spec.protocol.negatives,
        max_per_set: spec.protocol.max_per_set,
        seed: spec.train.seed,
        descriptors: Default::default(),
        heads: Vec::new(),
        epoch: 0,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        weights_sha256: None,
    };
    let cfg = super::TrainConfig {
        progress: opts.progress,
        ..spec.train
    };
    if opts.progress {
        eprintln!(
            "training CircSSNN on {} ({} train / {} valid / {} test windows), views {}, {}-norm, depth {}, {} epochs -> {}",
            ds.name,
            split.train.len(),
            split.valid.len(),
            split.test.len(),
            spec.views,
            spec.norm,
            spec.depth,
            cfg.epochs,
            out.display()
        );
    }
    let t0 = Instant::now();
    let windows: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
    let cache_key = format!("{}{}", ds.name, spec.protocol.tag());
    let (report, meta, notes) = with_bert_shape!(bert_width, (BERT, L, H, F) =>
    with_depth!(spec.depth, DEPTH => with_device!(opts.device, spec.train.seed, dev: Dev => {
        let mut net = CircSsnn::<BERT, DEPTH, Dev>::new(&dev, model);
        let learned = Learned::<BERT, L, H, F, Dev>::load(&dev, &spec.models, spec.views, corpus_check, None)?;
        for n in learned.notes.iter().filter(|_| opts.progress) {
            eprintln!("note: {n}");
        }
        let cache = learned.cached_bert(&spec.models, &cache_key, &windows, opts.progress)?;
        let desc = Descriptors::of(&learned, spec.views, cache.as_ref().map(|c| c as _));
        let meta = CheckpointMeta { descriptors: learned.sources.clone(), ..meta };
        let dir = RunDir { dir: &out, meta: meta.clone(), resume: opts.resume };
        (fit(&mut net, &dev, &desc, &ds, &split, &cfg, Some(&dir))?, meta, learned.notes.clone())
    })));
    let seconds = t0.elapsed().as_secs_f64();
    let settings = serde_json::json!({
        "model": meta.model, "depth": meta.depth, "protocol": spec.protocol, "seed": spec.train.seed,
        "train": cfg, "descriptors": meta.descriptors,
    });
    let row = RunRow::from_fit(&meta, &report, &config_hash(&settings), seconds);
    write_outputs(&out, &meta, &report, &split, &row, seconds)?;
    Ok(RunOutcome {
        out,
        report,
        meta,
        row,
        sizes: [split.train.len(), split.valid.len(), split.test.len()],
        seconds,
        notes,
    })
}

/// `metrics.json` of a run folder: settings, part sizes, the selected
/// epoch, whole-validation and whole-test metrics, the published protocol's
/// number (labelled), wall time.
#[derive(Debug, Serialize)]
struct MetricsFile<'a> {
    set: &'a str,
    model: &'a crate::model::ModelConfig,
    depth: usize,
    split: crate::data::split::SplitKind,
    split_seed: u64,
    negatives: crate::data::Negatives,
    max_per_set: Option<usize>,
    seed: u64,
    n_train: usize,
    n_valid: usize,
    n_test: usize,
    best_epoch: usize,
    valid: &'a crate::eval::BinaryMetrics,
    test: &'a crate::eval::BinaryMetrics,
    published_protocol: &'a super::PublishedProtocol,
    resumed_after: Option<usize>,
    seconds: f64,
}

fn write_outputs(
    out: &Path,
    meta: &CheckpointMeta,
    r: &FitReport,
    split: &Split,
    row: &RunRow,
    seconds: f64,
) -> Result<(), TrainError> {
    let metrics = MetricsFile {
        set: &meta.set,
        model: &meta.model,
        depth: meta.depth,
        split: meta.split,
        split_seed: meta.split_seed,
        negatives: meta.negatives,
        max_per_set: meta.max_per_set,
        seed: meta.seed,
        n_train: split.train.len(),
        n_valid: split.valid.len(),
        n_test: split.test.len(),
        best_epoch: r.best_epoch,
        valid: &r.valid,
        test: &r.test,
        published_protocol: &r.published,
        resumed_after: r.resumed_after,
        seconds,
    };
    let path = out.join("metrics.json");
    // Through a `Value`: keys in sorted order, as every metrics.json so far.
    let metrics = serde_json::to_value(&metrics).expect("metrics serialise");
    write_atomic(&path, |w| {
        serde_json::to_writer_pretty(&mut *w, &metrics).map_err(std::io::Error::other)?;
        writeln!(w)
    })
    .map_err(|e| TrainError::Results {
        path: path.clone(),
        message: e.to_string(),
    })?;
    write_rows(&out.join("metrics.csv"), std::slice::from_ref(row))?;
    let path = out.join("history.csv");
    write_csv_atomic(&path, &r.history).map_err(|e| TrainError::Results {
        path,
        message: e.to_string(),
    })
}
