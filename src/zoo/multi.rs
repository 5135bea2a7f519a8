//! The multi-task zoo: one network for every set of a suite (the shared
//! KNFP encoder and Seq_Transformer block, one head per set), trained by
//! [`fit_multi`], beside the 1–3-mer baseline fitted on the same parts.
//!
//! `circssnn zoo multi` is this call. Its folder holds the run (`last.*`,
//! `best.*`, `state.json`, resumable after a kill), `results.csv` (one
//! `multi` row and one `baseline` row per set, the reproduction's columns)
//! and `report.json` (the [`MultiReport`]: every epoch's per-set validation
//! AUC, the leakage count, each set's share of the draws).

use std::path::Path;
use std::time::Instant;

use dfdx::prelude::Cpu;

use super::{ZooError, ZooSuite};
use crate::baseline::{run_baseline, BaselineConfig};
use crate::data::{Protocol, Registry, SetKind};
use crate::model::{CircSsnnMulti, ModelConfig, ViewSet, BERT_SMALL};
use crate::output::{write_atomic, write_csv_atomic, DirLock};
use crate::train::checkpoint::{CheckpointMeta, FORMAT_VERSION};
use crate::train::fit::RunDir;
use crate::train::labels::{Experiment, Method, Suite};
use crate::train::results::{config_hash, RunRow, GIT_REVISION};
use crate::train::{fit_multi, Descriptors, MultiConfig, MultiReport, Task, TrainError};

/// What [`train_multi`] trains.
#[derive(Debug, Clone, PartialEq)]
pub struct MultiZooConfig {
    /// `circ37` (37 heads) or `lin31` (31 heads).
    pub suite: ZooSuite,
    /// Split, negatives and windows per set of every set.
    pub protocol: Protocol,
    /// Training settings and sampling.
    pub train: MultiConfig,
}

impl Default for MultiZooConfig {
    /// circ37, the sequence split (seed 4), pooled negatives, every window,
    /// the zoo's recipe with square-root sampling.
    fn default() -> Self {
        MultiZooConfig {
            suite: ZooSuite::Circ37,
            protocol: Protocol {
                split: crate::data::split::SplitKind::Sequence,
                ..Default::default()
            },
            train: MultiConfig::default(),
        }
    }
}

impl MultiZooConfig {
    /// The `variant` of its rows: `multi-knfp-pool`.
    pub fn variant(&self) -> String {
        format!("multi-knfp-{}", self.protocol.negatives)
    }
}

/// What [`train_multi`] did.
#[derive(Debug, Clone)]
pub struct MultiZooRun {
    /// The training report.
    pub report: MultiReport,
    /// `multi` and `baseline` rows, set by set.
    pub rows: Vec<RunRow>,
    /// Wall time of this call, seconds.
    pub seconds: f64,
}

/// Train (or resume) the multi-task network of `cfg.suite` into `out`, fit
/// the baseline on the same parts, and write `results.csv` and
/// `report.json` there.
pub fn train_multi(
    reg: &Registry,
    cfg: &MultiZooConfig,
    out: &Path,
) -> Result<MultiZooRun, ZooError> {
    let t0 = Instant::now();
    let kind = match cfg.suite {
        ZooSuite::Circ37 => SetKind::Circular,
        ZooSuite::Lin31 => SetKind::Linear,
        ZooSuite::All => {
            return Err(ZooError::Train(TrainError::Split(
                "a multi-task network is trained per suite: use --suite circ37 or lin31".into(),
            )))
        }
    };
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    // One run per folder: two would write each other's checkpoints.
    let _lock = DirLock::acquire(out).map_err(TrainError::from)?;
    let say = |line: String| {
        if cfg.train.train.progress {
            eprintln!("{line}");
        }
    };
    let mut sets = Vec::new();
    for entry in reg.of_kind(kind) {
        let ds = entry.load(Default::default())?;
        sets.push(cfg.protocol.apply(&ds));
    }
    let names: Vec<String> = sets.iter().map(|(d, _)| d.name.clone()).collect();
    let tasks: Vec<Task> = sets
        .iter()
        .map(|(data, split)| Task { data, split })
        .collect();
    let left_out = crate::train::left_out(&tasks, &cfg.train.train)?;
    say(format!(
        "{} sets, {} training windows; {left_out} left out because their sequence is held out \
         in another set",
        tasks.len(),
        sets.iter().map(|(_, s)| s.train.len()).sum::<usize>() - left_out
    ));

    let mut rows = Vec::new();
    let b_cfg = BaselineConfig::default();
    for (ds, split) in &sets {
        let t = Instant::now();
        let r = run_baseline(ds, split, &b_cfg)
            .map_err(|e| TrainError::Split(format!("{}: baseline: {e}", ds.name)))?;
        let mut row = RunRow::from_baseline(
            &ds.name,
            &cfg.protocol,
            &b_cfg,
            &r,
            t.elapsed().as_secs_f64(),
        );
        label(&mut row, cfg, "baseline");
        rows.push(row);
    }

    let meta = CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width: BERT_SMALL,
        depth: 1,
        model: ModelConfig::default(),
        set: cfg.suite.to_string(),
        split: cfg.protocol.split,
        split_seed: cfg.protocol.split_seed,
        negatives: cfg.protocol.negatives,
        max_per_set: cfg.protocol.max_per_set,
        seed: cfg.train.train.seed,
        descriptors: Default::default(),
        heads: names,
        epoch: 0,
        crate_version: env!("CARGO_PKG_VERSION").to_string(),
        weights_sha256: None,
    };
    let run = RunDir {
        dir: out,
        meta: meta.clone(),
        resume: true,
    };
    let report = match tasks.len() {
        37 => fit_suite::<37>(&tasks, &cfg.train, &run)?,
        31 => fit_suite::<31>(&tasks, &cfg.train, &run)?,
        n => {
            return Err(ZooError::Train(TrainError::Split(format!(
                "{n} sets found for {}; the multi-task network is built for the whole suite (37 \
                 circular or 31 linear sets)",
                cfg.suite
            ))))
        }
    };
    let hash = config_hash(&(&cfg.train, &meta.heads, &cfg.protocol));
    let seconds = t0.elapsed().as_secs_f64();
    for t in &report.tasks {
        let m = &t.test;
        let mut row = RunRow {
            set: t.set.clone(),
            views: Method::Network(ViewSet::KNFP),
            norm: Some(meta.model.norm),
            depth: 1,
            split: cfg.protocol.split,
            split_seed: cfg.protocol.split_seed,
            seed: cfg.train.train.seed,
            best_epoch: report.best_epoch,
            auc: m.auc,
            accuracy: m.accuracy,
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            mcc: m.mcc,
            valid_auc: t.valid.auc,
            published_auc: f64::NAN,
            seconds: (seconds * 10.0).round() / 10.0,
            negatives: cfg.protocol.negatives,
            max_per_set: cfg.protocol.max_per_set,
            suite: None,
            experiment: None,
            variant: String::new(),
            git_rev: GIT_REVISION.into(),
            config_hash: hash.clone(),
        };
        label(&mut row, cfg, &cfg.variant());
        rows.push(row);
    }
    let csv = out.join("results.csv");
    write_csv_atomic(&csv, &rows).map_err(|e| io(&csv, e))?;
    let json = out.join("report.json");
    write_atomic(&json, |w| {
        serde_json::to_writer_pretty(&mut *w, &report).map_err(std::io::Error::other)
    })
    .map_err(|e| io(&json, e))?;
    Ok(MultiZooRun {
        report,
        rows,
        seconds,
    })
}

fn label(row: &mut RunRow, cfg: &MultiZooConfig, variant: &str) {
    row.suite = Some(match cfg.suite {
        ZooSuite::Lin31 => Suite::Lin31,
        _ => Suite::Circ37,
    });
    row.experiment = Some(Experiment::Zoo);
    row.variant = variant.to_string();
}

fn fit_suite<const RBPS: usize>(
    tasks: &[Task<'_>],
    cfg: &MultiConfig,
    run: &RunDir<'_>,
) -> Result<MultiReport, TrainError> {
    let dev = Cpu::seed_from_u64(cfg.train.seed);
    let mut net =
        CircSsnnMulti::<BERT_SMALL, 1, RBPS, Cpu>::new_multi(&dev, ModelConfig::default());
    fit_multi(
        &mut net,
        &dev,
        &Descriptors::knfp_only(),
        tasks,
        cfg,
        Some(run),
    )
}

fn io(path: &Path, e: std::io::Error) -> ZooError {
    ZooError::Train(TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
