//! One row per finished training run: what `circssnn train` writes to
//! `metrics.csv`, and what figures and notebooks read back, from one run
//! folder, a tree of them, or a collected CSV.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use super::labels::{Experiment, Method, Suite};
use super::TrainError;
use crate::data::split::SplitKind;
use crate::data::Negatives;
use crate::model::Norm;
use crate::output::write_csv_atomic;

/// A run: its settings and the whole-test-set metrics of the epoch chosen on
/// validation, with the published protocol's number beside them.
///
/// The metrics are flat fields rather than a nested
/// [`BinaryMetrics`](crate::eval::BinaryMetrics): one CSV row per run, and
/// the csv crate cannot write or read nested structs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRow {
    /// Data set.
    pub set: String,
    /// The network's views (`knfp,vec,bert`) or `baseline`.
    pub views: Method,
    /// `pre` or `post` (empty for the baseline).
    pub norm: Option<Norm>,
    /// Transformer blocks.
    pub depth: usize,
    /// Split rule.
    pub split: SplitKind,
    /// Split seed.
    pub split_seed: u64,
    /// Training seed.
    pub seed: u64,
    /// Epoch chosen on validation.
    pub best_epoch: usize,
    /// Test AUC.
    pub auc: f64,
    /// Test accuracy.
    pub accuracy: f64,
    /// Test precision.
    pub precision: f64,
    /// Test recall.
    pub recall: f64,
    /// Test F1.
    pub f1: f64,
    /// Test MCC.
    pub mcc: f64,
    /// Validation AUC of the chosen epoch.
    pub valid_auc: f64,
    /// The published protocol's AUC (best batch-mean test AUC; inflated).
    pub published_auc: f64,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
    /// Negatives: `pool` (the set's own) or `shuffled` (dinucleotide shuffles).
    #[serde(default)]
    pub negatives: Negatives,
    /// Windows kept per set (empty: all).
    #[serde(default)]
    pub max_per_set: Option<usize>,
    /// Suite of a reproduction (`circ37`, `lin31`; empty for a lone run).
    #[serde(default)]
    pub suite: Option<Suite>,
    /// Experiment of a reproduction (`main`, `norm`, `ablation`, ...).
    #[serde(default)]
    pub experiment: Option<Experiment>,
    /// What the experiment varies in this run (`fusion`, `post`, `knfp`,
    /// `seed7`, `grouped`, `baseline`, ...; empty for a lone run).
    #[serde(default)]
    pub variant: String,
    /// Git revision of the binary that trained it.
    #[serde(default)]
    pub git_rev: String,
    /// Hash of every setting that decides the result (see [`config_hash`]).
    #[serde(default)]
    pub config_hash: String,
}

impl RunRow {
    /// The row of a finished `fit`: its settings from the checkpoint
    /// metadata, the whole-test metrics of the selected epoch, the published
    /// protocol's number; no suite or experiment (a reproduction fills them).
    pub fn from_fit(
        meta: &super::CheckpointMeta,
        r: &super::FitReport,
        config_hash: &str,
        seconds: f64,
    ) -> Self {
        let t = &r.test;
        RunRow {
            set: meta.set.clone(),
            views: Method::Network(meta.model.views),
            norm: Some(meta.model.norm),
            depth: meta.depth,
            split: meta.split,
            split_seed: meta.split_seed,
            seed: meta.seed,
            best_epoch: r.best_epoch,
            auc: t.auc,
            accuracy: t.accuracy,
            precision: t.precision,
            recall: t.recall,
            f1: t.f1,
            mcc: t.mcc,
            valid_auc: r.valid.auc,
            published_auc: r.published.auc,
            seconds: (seconds * 10.0).round() / 10.0,
            negatives: meta.negatives,
            max_per_set: meta.max_per_set,
            suite: None,
            experiment: None,
            variant: String::new(),
            git_rev: GIT_REVISION.to_string(),
            config_hash: config_hash.to_string(),
        }
    }
}

/// The git revision this crate was built from (`unknown` outside a checkout).
pub const GIT_REVISION: &str = match option_env!("CIRCSSNN_GIT_REV") {
    Some(r) => r,
    None => "unknown",
};

/// First 16 hex digits of the SHA-256 of `settings` as JSON: two runs with
/// the same hash had the same settings.
///
/// ```
/// use circssnn::train::results::config_hash;
/// assert_eq!(config_hash(&("knfp", 4)), config_hash(&("knfp", 4)));
/// assert_ne!(config_hash(&("knfp", 4)), config_hash(&("knfp", 5)));
/// ```
pub fn config_hash<T: Serialize + ?Sized>(settings: &T) -> String {
    use sha2::{Digest, Sha256};
    let json = serde_json::to_vec(settings).expect("settings serialise to JSON");
    format!("{:x}", Sha256::digest(json))[..16].to_string()
}

impl RunRow {
    /// The 1–3-mer logistic regression's row for `set` under `protocol`
    /// (no suite or experiment; a reproduction fills them).
    pub fn from_baseline(
        set: &str,
        protocol: &crate::data::Protocol,
        cfg: &crate::baseline::BaselineConfig,
        r: &crate::baseline::BaselineReport,
        seconds: f64,
    ) -> Self {
        let m = &r.test;
        RunRow {
            set: set.to_string(),
            views: Method::Baseline,
            norm: None,
            depth: 0,
            split: protocol.split,
            split_seed: protocol.split_seed,
            seed: protocol.split_seed,
            best_epoch: 0,
            auc: m.auc,
            accuracy: m.accuracy,
            precision: m.precision,
            recall: m.recall,
            f1: m.f1,
            mcc: m.mcc,
            valid_auc: r.valid.map_or(f64::NAN, |v| v.auc),
            published_auc: f64::NAN,
            seconds: (seconds * 10.0).round() / 10.0,
            negatives: protocol.negatives,
            max_per_set: protocol.max_per_set,
            suite: None,
            experiment: None,
            variant: String::new(),
            git_rev: GIT_REVISION.into(),
            // The same hash as every baseline row so far: the method's name,
            // its settings and the protocol.
            config_hash: config_hash(&(Method::Baseline.to_string(), cfg, protocol)),
        }
    }

    /// What identifies a row within a reproduction: set, experiment, variant.
    pub fn key(&self) -> (String, Option<Experiment>, String) {
        (self.set.clone(), self.experiment, self.variant.clone())
    }
}

fn err(path: &Path, message: impl Into<String>) -> TrainError {
    TrainError::Results {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

fn metrics_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), TrainError> {
    let entries = std::fs::read_dir(dir).map_err(|e| err(dir, e.to_string()))?;
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()).map_err(|e| err(dir, e.to_string())))
        .collect::<Result<_, _>>()?;
    paths.sort();
    for p in paths {
        if p.is_dir() {
            metrics_files(&p, out)?;
        } else if p.file_name().is_some_and(|n| n == "metrics.csv") {
            out.push(p);
        }
    }
    Ok(())
}

/// Rows of a CSV file, or of every `metrics.csv` below a folder (sorted by path).
///
/// ```no_run
/// let rows = circssnn::train::results::read_rows("runs".as_ref())?;
/// for r in rows.iter().filter(|r| r.views == circssnn::train::results::Method::KNFP) {
///     println!("{} {:.3}", r.set, r.auc);
/// }
/// # Ok::<(), circssnn::train::TrainError>(())
/// ```
pub fn read_rows(path: &Path) -> Result<Vec<RunRow>, TrainError> {
    let files = if path.is_dir() {
        let mut f = Vec::new();
        metrics_files(path, &mut f)?;
        f
    } else {
        vec![path.to_path_buf()]
    };
    let mut rows = Vec::new();
    for f in files {
        rows.extend(read_csv(&f)?);
    }
    Ok(rows)
}

/// The rows of a results CSV read from `reader` (errors name `path`).
pub fn read_rows_from(path: &Path, reader: impl std::io::Read) -> Result<Vec<RunRow>, TrainError> {
    read_csv_from(path, reader)
}

/// Write `rows` as one CSV, atomically.
pub fn write_rows(path: &Path, rows: &[RunRow]) -> Result<(), TrainError> {
    write_csv(path, rows)
}

/// The records of one results-like CSV; an error names the file and the
/// 1-based record.
pub(crate) fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, TrainError> {
    let file = std::fs::File::open(path).map_err(|e| err(path, e.to_string()))?;
    read_csv_from(path, file)
}

/// [`read_csv`] from any reader; errors name `path`.
fn read_csv_from<T: DeserializeOwned>(
    path: &Path,
    reader: impl std::io::Read,
) -> Result<Vec<T>, TrainError> {
    let mut r = csv::Reader::from_reader(reader);
    r.deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| err(path, format!("row {}: {e}", i + 1))))
        .collect()
}

/// [`write_csv_atomic`] with its error naming the file as a results file.
pub(crate) fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), TrainError> {
    write_csv_atomic(path, rows).map_err(|e| err(path, e.to_string()))
}
