//! The multi-task zoo: one network for every set of a suite (the shared
//! KNFP encoder and Seq_Transformer block, one head per set), trained by
//! [`fit_multi`], beside the 1–3-mer baseline fitted on the same parts.
//!
//! `circssnn zoo multi` is this call. Its folder holds the run (`last.*`,
//! `best.*`, `state.json`, resumable after a kill), `results.csv` (one
//! `multi` row and one `baseline` row per set, the reproduction's columns)
//! and `report.json` (the [`MultiReport`]: every epoch's per-set validation
//! AUC, the leakage count, each set's share of the draws). It is also a zoo:
//! `zoo.json` lists one model per head (all in the folder's one network,
//! each with its thresholds on its own validation part), so `circssnn scan
//! --zoo <folder>` scores every RBP with one forward pass per window batch.

use std::path::{Path, PathBuf};
use std::time::Instant;

use dfdx::prelude::Cpu;

use super::manifest::{measure, FORMAT};
use super::{Zoo, ZooEntry, ZooError, ZooSuite};
use crate::baseline::{run_baseline, BaselineConfig};
use crate::data::{Protocol, Registry, SetKind};
use crate::features::learned::DescriptorModels;
use crate::model::{CircSsnnMulti, ModelConfig, ViewSet, BERT_SMALL};
use crate::output::{write_atomic, write_csv_atomic, DirLock};
use crate::train::checkpoint::{CheckpointMeta, FORMAT_VERSION};
use crate::train::fit::RunDir;
use crate::train::labels::{Experiment, Method, Suite};
use crate::train::results::{config_hash, RunRow, GIT_REVISION};
use crate::train::{
    fit_multi, Descriptors, DeviceKind, MultiConfig, MultiReport, Predictor, Task, TrainError,
};

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
    manifest(reg, out, &rows, &report, cfg)?.save(out)?;
    Ok(MultiZooRun {
        report,
        rows,
        seconds,
    })
}

/// The zoo manifest of a finished multi-task run: one entry per head, its
/// validation and test part scored again for the thresholds (as
/// [`super::manifest::build`] does for one-set models).
fn manifest(
    reg: &Registry,
    out: &Path,
    rows: &[RunRow],
    report: &MultiReport,
    zoo_cfg: &MultiZooConfig,
) -> Result<Zoo, ZooError> {
    let cfg = &zoo_cfg.train;
    let protocol = &zoo_cfg.protocol;
    let heads = Predictor::load_heads(out, &DescriptorModels::default(), DeviceKind::Cpu)?;
    let mut models = Vec::with_capacity(heads.len());
    for (h, p) in heads.iter().enumerate() {
        let got = measure(reg, p, false)?;
        let set = &p.meta.set;
        let baseline_auc = rows
            .iter()
            .find(|r| &r.set == set && r.variant == "baseline")
            .map_or(f64::NAN, |r| r.auc);
        models.push(ZooEntry {
            set: set.clone(),
            views: p.meta.model.views,
            negatives: p.meta.negatives,
            dir: PathBuf::from("."),
            weights_sha256: p.meta.weights_sha256.clone().unwrap_or_default(),
            descriptors: p.meta.descriptors.clone(),
            best_epoch: report.best_epoch,
            n_train: got.n_train,
            valid_auc: got.valid_auc,
            test_auc: got.test_auc,
            baseline_auc,
            thresholds: got.thresholds,
            f32_test_auc: None,
            head: Some(h),
            blend: Some(got.blend),
        });
    }
    Ok(Zoo {
        format: FORMAT.into(),
        recipe: format!(
            "multi-task, one head per set, {} split (seed {}), {} negatives, {}; {}; sets drawn \
             with probability proportional to n^{}; weight decay {:?}{}",
            protocol.split,
            protocol.split_seed,
            protocol.negatives,
            protocol
                .max_per_set
                .map_or("every window".to_string(), |n| format!(
                    "about {n} windows per set"
                )),
            super::recipe::DESCRIPTION,
            cfg.alpha,
            cfg.decay,
            if cfg.refit {
                "; each head refitted on the frozen network where validation prefers it"
            } else {
                ""
            }
        ),
        models,
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

/// One set in the comparison of the multi-task network with one network
/// per set, trained under the same protocol.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CompareRow {
    /// Set name.
    pub set: String,
    /// Training windows of the set.
    pub n_train: usize,
    /// Whole-test AUC of the multi-task network's head for the set.
    pub multi: f64,
    /// Whole-test AUC of the set's own network.
    pub per_set: f64,
    /// Whole-test AUC of the 1–3-mer baseline.
    pub baseline: f64,
    /// Whether the multi-task network's head for the set is the one
    /// refitted alone on the frozen encoder (higher validation AUC than the
    /// jointly trained head) rather than the joint one.
    #[serde(default)]
    pub refitted: bool,
}

impl CompareRow {
    /// A head that gives every window the same probability (whole-test AUC
    /// exactly 0.5): what joint training leaves of some heads.
    pub fn multi_is_constant(&self) -> bool {
        self.multi == 0.5
    }
}

/// The rows of a `comparison.csv` written by [`write_comparison`] (the
/// shipped ones are in `data/results/zoo-multi-*`).
pub fn read_comparison(path: &Path) -> Result<Vec<CompareRow>, ZooError> {
    let bad = |message: String| ZooError::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| bad(format!("record {}: {e}", i + 1))))
        .collect()
}

/// The multi-task run in `multi_dir` beside the per-set zoo in
/// `per_set_dir`, set by set; an error unless both were trained under the
/// same protocol (split, seed, negatives, windows per set) and cover the
/// same sets.
pub fn compare(multi_dir: &Path, per_set_dir: &Path) -> Result<Vec<CompareRow>, ZooError> {
    use crate::train::results::read_rows;
    let multi_rows = read_rows(&multi_dir.join("results.csv"))?;
    let per_set_rows = read_rows(&per_set_dir.join("results.csv"))?;
    let report_path = multi_dir.join("report.json");
    let report: MultiReport = std::fs::read_to_string(&report_path)
        .map_err(|e| e.to_string())
        .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
        .map_err(|why| ZooError::Manifest {
            path: report_path.clone(),
            message: format!("cannot read the multi-task report: {why}"),
        })?;
    let protocol = |r: &RunRow| (r.split, r.split_seed, r.negatives, r.max_per_set);
    let find = |rows: &[RunRow], set: &str, network: bool| {
        rows.iter()
            .find(|r| r.set == set && (r.variant == "baseline") != network)
            .cloned()
    };
    let mismatch = |path: &Path, message: String| ZooError::Manifest {
        path: path.to_path_buf(),
        message,
    };
    report
        .tasks
        .iter()
        .map(|t| {
            let per_csv = per_set_dir.join("results.csv");
            let multi = find(&multi_rows, &t.set, true).ok_or_else(|| {
                mismatch(
                    &multi_dir.join("results.csv"),
                    format!("no multi-task row for {}", t.set),
                )
            })?;
            let base = find(&multi_rows, &t.set, false).ok_or_else(|| {
                mismatch(
                    &multi_dir.join("results.csv"),
                    format!("no baseline row for {}", t.set),
                )
            })?;
            let own = find(&per_set_rows, &t.set, true).ok_or_else(|| {
                mismatch(
                    &per_csv,
                    format!("no network for {} (train it, or compare fewer sets)", t.set),
                )
            })?;
            if protocol(&own) != protocol(&multi) {
                return Err(mismatch(
                    &per_csv,
                    format!(
                        "{}: trained under split {} seed {}, {} negatives, {:?} windows, but the \
                         multi-task network under split {} seed {}, {} negatives, {:?} windows: \
                         their test parts differ",
                        t.set,
                        own.split,
                        own.split_seed,
                        own.negatives,
                        own.max_per_set,
                        multi.split,
                        multi.split_seed,
                        multi.negatives,
                        multi.max_per_set
                    ),
                ));
            }
            Ok(CompareRow {
                set: t.set.clone(),
                n_train: t.n_train,
                multi: multi.auc,
                per_set: own.auc,
                baseline: base.auc,
                refitted: t.refit.as_ref().is_some_and(|r| r.replaced),
            })
        })
        .collect()
}

/// Write `comparison.csv`, `comparison.md` (the table and the counts) and
/// `multi-vs-per-set.html` (the difference against set size) into `out`;
/// returns the markdown.
pub fn write_comparison(rows: &[CompareRow], out: &Path) -> Result<String, ZooError> {
    use crate::plots::save_html;
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let csv = out.join("comparison.csv");
    write_csv_atomic(&csv, rows).map_err(|e| io(&csv, e))?;
    let n = rows.len().max(1) as f64;
    let mean = |f: fn(&CompareRow) -> f64| rows.iter().map(f).sum::<f64>() / n;
    let count = |f: fn(&CompareRow) -> bool| rows.iter().filter(|r| f(r)).count();
    let mut md = String::from(
        "| set | training windows | multi-task | head | per-set | baseline | multi − per-set |\n|---|---:|---:|---|---:|---:|---:|\n",
    );
    let mut sorted: Vec<&CompareRow> = rows.iter().collect();
    sorted.sort_by_key(|r| r.n_train);
    for r in &sorted {
        md.push_str(&format!(
            "| {} | {} | {:.4} | {} | {:.4} | {:.4} | {:+.4} |\n",
            r.set,
            r.n_train,
            r.multi,
            if r.refitted { "refitted" } else { "joint" },
            r.per_set,
            r.baseline,
            r.multi - r.per_set
        ));
    }
    md.push_str(&format!(
        "| **mean of {}** | | **{:.4}** | | **{:.4}** | **{:.4}** | **{:+.4}** |\n\n",
        rows.len(),
        mean(|r| r.multi),
        mean(|r| r.per_set),
        mean(|r| r.baseline),
        mean(|r| r.multi - r.per_set)
    ));
    md.push_str(&format!(
        "Multi-task above the per-set network on {} of {} sets; at or above the baseline on {} \
         (per-set networks: {}).\n",
        count(|r| r.multi > r.per_set),
        rows.len(),
        count(|r| r.multi >= r.baseline),
        count(|r| r.per_set >= r.baseline)
    ));
    md.push_str(&format!(
        "Heads refitted alone on the frozen encoder: {} of {}; heads constant on the test part \
         (AUC 0.5000): {}.\n",
        count(|r| r.refitted),
        rows.len(),
        count(CompareRow::multi_is_constant)
    ));
    let md_path = out.join("comparison.md");
    write_atomic(&md_path, |w| w.write_all(md.as_bytes())).map_err(|e| io(&md_path, e))?;
    let html = out.join("multi-vs-per-set.html");
    save_html(&comparison_plot(rows), &html).map_err(|e| io(&html, e))?;
    Ok(md)
}

/// The figure of [`write_comparison`]: per set, the multi-task network's
/// whole-test AUC minus the set's own network's, against the set's
/// training windows.
pub fn comparison_plot(rows: &[CompareRow]) -> plotly::Plot {
    use crate::plots::{difference_by_size, Series};
    let names: Vec<String> = rows.iter().map(|r| r.set.clone()).collect();
    difference_by_size(
        &names,
        &rows.iter().map(|r| r.n_train as f64).collect::<Vec<_>>(),
        &Series::new("per-set network", rows.iter().map(|r| r.per_set).collect()),
        &Series::new("multi-task", rows.iter().map(|r| r.multi).collect()),
        "Multi-task minus per-set network, whole-test AUC, by set size",
        "training windows of the set",
        "AUC difference",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::split::SplitKind;
    use crate::eval::BinaryMetrics;
    use crate::train::multi::TaskResult;
    use crate::train::results::write_rows;

    fn row(set: &str, variant: &str, auc: f64, split: SplitKind) -> RunRow {
        RunRow {
            set: set.into(),
            views: if variant == "baseline" {
                Method::Baseline
            } else {
                Method::Network(ViewSet::KNFP)
            },
            norm: None,
            depth: 1,
            split,
            split_seed: 4,
            seed: 4,
            best_epoch: 1,
            auc,
            accuracy: 0.5,
            precision: 0.5,
            recall: 0.5,
            f1: 0.5,
            mcc: 0.0,
            valid_auc: auc,
            published_auc: f64::NAN,
            seconds: 1.0,
            negatives: Default::default(),
            max_per_set: Some(2000),
            suite: Some(Suite::Circ37),
            experiment: Some(Experiment::Zoo),
            variant: variant.into(),
            git_rev: String::new(),
            config_hash: String::new(),
        }
    }

    fn metrics(auc: f64) -> BinaryMetrics {
        BinaryMetrics {
            auc,
            ..crate::eval::binary_metrics(&[0.2, 0.8], &[0, 1], 0.5).unwrap()
        }
    }

    #[test]
    fn compares_set_by_set_and_refuses_another_protocol() {
        let dir = tempfile::tempdir().unwrap();
        let (m, p) = (dir.path().join("multi"), dir.path().join("per-set"));
        std::fs::create_dir_all(&m).unwrap();
        std::fs::create_dir_all(&p).unwrap();
        let seq = SplitKind::Sequence;
        write_rows(
            &m.join("results.csv"),
            &[
                row("WTAP", "baseline", 0.80, seq),
                row("AGO2", "baseline", 0.70, seq),
                row("WTAP", "multi-knfp-pool", 0.85, seq),
                row("AGO2", "multi-knfp-pool", 0.78, seq),
            ],
        )
        .unwrap();
        let report = MultiReport {
            history: Vec::new(),
            best_epoch: 1,
            tasks: [("WTAP", 642), ("AGO2", 28800)]
                .iter()
                .map(|&(set, n)| TaskResult {
                    set: set.into(),
                    n_train: n,
                    sampled_share: 0.5,
                    valid: metrics(0.8),
                    test: metrics(0.8),
                    refit: Some(crate::train::refit::HeadRefit {
                        joint_valid_auc: 0.7,
                        refit_valid_auc: 0.75,
                        refit_epoch: 3,
                        replaced: set == "WTAP",
                    }),
                })
                .collect(),
            left_out: 0,
            resumed_after: None,
            stopped_early: false,
        };
        std::fs::write(
            m.join("report.json"),
            serde_json::to_string(&report).unwrap(),
        )
        .unwrap();
        let per_set = |split| {
            write_rows(
                &p.join("results.csv"),
                &[
                    row("WTAP", "knfp-pool-sequence-n2000", 0.70, split),
                    row("AGO2", "knfp-pool-sequence-n2000", 0.80, split),
                ],
            )
            .unwrap()
        };
        per_set(seq);
        let rows = compare(&m, &p).unwrap();
        assert_eq!(
            rows[0],
            CompareRow {
                set: "WTAP".into(),
                n_train: 642,
                multi: 0.85,
                per_set: 0.70,
                baseline: 0.80,
                refitted: true,
            }
        );
        let md = write_comparison(&rows, &dir.path().join("out")).unwrap();
        assert!(
            md.contains("| WTAP | 642 | 0.8500 | refitted | 0.7000 | 0.8000 | +0.1500 |"),
            "{md}"
        );
        assert!(md.contains("per-set network on 1 of 2 sets; at or above the baseline on 2 (per-set networks: 1)"), "{md}");
        assert!(
            md.contains("refitted alone on the frozen encoder: 1 of 2"),
            "{md}"
        );
        assert!(dir.path().join("out/multi-vs-per-set.html").is_file());
        assert_eq!(
            read_comparison(&dir.path().join("out/comparison.csv")).unwrap(),
            rows
        );

        per_set(SplitKind::Random);
        let err = compare(&m, &p).unwrap_err().to_string();
        assert!(
            err.contains("WTAP: trained under split random") && err.contains("test parts differ"),
            "{err}"
        );
    }
}
