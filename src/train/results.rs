//! One row per finished training run: what `circssnn train` writes to
//! `metrics.csv`, and what figures and notebooks read back, from one run
//! folder, a tree of them, or a collected CSV.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::TrainError;
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
    /// Views, comma-separated (`knfp,vec,bert`).
    pub views: String,
    /// `pre` or `post`.
    pub norm: String,
    /// Transformer blocks.
    pub depth: usize,
    /// Split rule.
    pub split: String,
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
    #[serde(default = "pool")]
    pub negatives: String,
    /// Windows kept per set (empty: all).
    #[serde(default)]
    pub max_per_set: Option<usize>,
    /// Suite of a reproduction (`circ37`, `lin31`; empty for a lone run).
    #[serde(default)]
    pub suite: String,
    /// Experiment of a reproduction (`main`, `norm`, `ablation`, ...).
    #[serde(default)]
    pub experiment: String,
    /// What the experiment varies in this run (`post`, `knfp`, `seed7`, ...).
    #[serde(default)]
    pub variant: String,
    /// Git revision of the binary that trained it.
    #[serde(default)]
    pub git_rev: String,
    /// Hash of every setting that decides the result (see [`config_hash`]).
    #[serde(default)]
    pub config_hash: String,
}

fn pool() -> String {
    "pool".into()
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
/// for r in rows.iter().filter(|r| r.views == "knfp") {
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

/// Write `rows` as one CSV, atomically.
pub fn write_rows(path: &Path, rows: &[RunRow]) -> Result<(), TrainError> {
    write_csv(path, rows)
}

/// The records of one results-like CSV; an error names the file and the
/// 1-based record.
pub(crate) fn read_csv<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, TrainError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| err(path, e.to_string()))?;
    r.deserialize()
        .enumerate()
        .map(|(i, row)| row.map_err(|e| err(path, format!("row {}: {e}", i + 1))))
        .collect()
}

/// [`write_csv_atomic`] with its error naming the file as a results file.
pub(crate) fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), TrainError> {
    write_csv_atomic(path, rows).map_err(|e| err(path, e.to_string()))
}
