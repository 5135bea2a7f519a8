//! `zoo.json`: what each zoo model is and how well it did, and the score
//! thresholds `scan` uses.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::blend::{choose_weight, mix, Blend};
use super::ZooError;
use crate::baseline::{BaselineConfig, KmerLogistic};
use crate::data::Registry;
use crate::eval::binary_metrics;
use crate::features::learned::{DescriptorModels, DescriptorSources};
use crate::features::ViewSet;
use crate::output::write_atomic;
use crate::reproduce::{Experiment, Job};
use crate::train::results::RunRow;
use crate::train::{DeviceKind, Predictor, TrainError};

/// File name of the manifest inside a zoo folder.
pub const MANIFEST: &str = "zoo.json";
pub(super) const FORMAT: &str = "circssnn-zoo-1";

/// Score thresholds of a model: the smallest probability above which at
/// most this share of its validation negatives score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// At 5% false-positive rate.
    pub fpr_05: f64,
    /// At 1% false-positive rate.
    pub fpr_01: f64,
}

/// One model of the zoo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZooEntry {
    /// Its set (the RBP, or the linear set's folder name).
    pub set: String,
    /// Views it reads.
    pub views: ViewSet,
    /// Negatives it learned from (`pool`, `shuffled`).
    pub negatives: crate::data::Negatives,
    /// Its run folder, relative to the zoo folder.
    pub dir: PathBuf,
    /// SHA-256 of `best.safetensors`.
    pub weights_sha256: String,
    /// The learned descriptor models it reads, by path and hash.
    pub descriptors: DescriptorSources,
    /// Epoch chosen on validation.
    pub best_epoch: usize,
    /// Training windows.
    pub n_train: usize,
    /// Whole-validation-part AUC of the chosen epoch.
    pub valid_auc: f64,
    /// Whole-test-part AUC (never used to choose anything).
    pub test_auc: f64,
    /// The 1–3-mer baseline's test AUC on the same split.
    pub baseline_auc: f64,
    /// Thresholds on the validation part.
    pub thresholds: Thresholds,
    /// For a packed model (weights stored as `F16`, AUCs and thresholds
    /// measured on them): the `F32` original's test AUC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f32_test_auc: Option<f64>,
    /// For a head of a multi-task network (`dir` then holds the one network
    /// every head of the zoo shares): its index, in the network's head order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<usize>,
    /// The model blended with the 1–3-mer baseline, its weight chosen on
    /// validation ([`Blend`]): what `scan` scores with. Absent in manifests
    /// written before blends (`circssnn zoo blend` adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blend: Option<Blend>,
}

impl ZooEntry {
    /// This model's predictor among `heads`, the network in `dir` as
    /// [`Predictor::load_heads`] gives it: the network itself for a one-set
    /// model, else the head it names, which must be its set's head.
    pub fn pick(&self, heads: &[Predictor], dir: &Path) -> Result<Predictor, String> {
        let Some(h) = self.head else {
            return Ok(heads[0].clone());
        };
        heads
            .get(h)
            .filter(|p| p.meta.set == self.set)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "zoo model {} names head {h} of {}, which holds {} heads ({}): the manifest \
                     does not match the network",
                    self.set,
                    dir.display(),
                    heads.len(),
                    heads[0].meta.heads.join(", ")
                )
            })
    }
}

/// A zoo folder's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Zoo {
    /// `circssnn-zoo-1`.
    pub format: String,
    /// How the models were trained.
    pub recipe: String,
    /// Its models, in set order.
    pub models: Vec<ZooEntry>,
}

impl Zoo {
    /// Read `dir/zoo.json`, checking that each model's folder is there.
    pub fn load(dir: &Path) -> Result<Self, ZooError> {
        let path = dir.join(MANIFEST);
        let bad = |message: String| ZooError::Manifest {
            path: path.clone(),
            message,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            bad(format!(
                "cannot read: {e} (train a zoo with `circssnn zoo train --out {}`)",
                dir.display()
            ))
        })?;
        let zoo: Zoo =
            serde_json::from_str(&text).map_err(|e| bad(format!("not a zoo manifest: {e}")))?;
        if zoo.format != FORMAT {
            return Err(bad(format!(
                "format {:?}, this circssnn reads {FORMAT:?}",
                zoo.format
            )));
        }
        for (i, m) in zoo.models.iter().enumerate() {
            if zoo.models[..i]
                .iter()
                .any(|o| o.set.eq_ignore_ascii_case(&m.set))
            {
                return Err(bad(format!(
                    "lists two models of {}; a zoo has one model per set (remove one entry)",
                    m.set
                )));
            }
            if let Some(b) = &m.blend {
                b.check()
                    .map_err(|e| bad(format!("model {}: its blend: {e}", m.set)))?;
            }
            if !dir.join(&m.dir).join("best.json").is_file() {
                return Err(bad(format!(
                    "model {} is missing: no {}",
                    m.set,
                    dir.join(&m.dir).join("best.json").display()
                )));
            }
        }
        Ok(zoo)
    }

    /// Write `dir/zoo.json` atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ZooError> {
        let path = dir.join(MANIFEST);
        write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            writeln!(w)
        })
        .map_err(|e| ZooError::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })
    }

    /// The model of `set` (any case).
    pub fn get(&self, set: &str) -> Option<&ZooEntry> {
        self.models.iter().find(|m| m.set.eq_ignore_ascii_case(set))
    }
}

/// The probability above which at most `fpr` of `negatives` score: every
/// negative scoring strictly above it counts as a false positive.
///
/// ```
/// use circssnn::zoo::threshold_at;
/// let neg: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
/// assert_eq!(threshold_at(&neg, 0.05), 0.94); // 0.95 .. 0.99 lie above it
/// assert_eq!(threshold_at(&neg, 0.0), 0.99);
/// ```
pub fn threshold_at(negatives: &[f64], fpr: f64) -> f64 {
    let mut s: Vec<f64> = negatives.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return 1.0;
    }
    let allowed = (fpr * s.len() as f64).floor() as usize;
    s[s.len() - 1 - allowed.min(s.len() - 1)]
}

/// The manifest of the finished jobs of a zoo: each model's validation part
/// scored again for its thresholds.
pub(super) fn build(
    reg: &Registry,
    out: &Path,
    jobs: &[Job],
    rows: &[RunRow],
    progress: bool,
) -> Result<Zoo, ZooError> {
    let mut models = Vec::new();
    for job in jobs {
        let Some(row) = rows.iter().find(|r| r.key() == job.key()) else {
            continue;
        };
        let baseline_auc = rows
            .iter()
            .find(|r| {
                r.set == job.set && r.experiment == Some(Experiment::Zoo) && r.variant == "baseline"
            })
            .map_or(f64::NAN, |r| r.auc);
        // A row whose run folder is gone: `results.csv` was copied from a
        // shipped table (data/results/zoo-knfp-pool) to resume training
        // without its weights. The row stays (the set is not retrained); the
        // model cannot be listed, since `scan` could not load it. A folder
        // that exists but cannot be read is still an error, below.
        if !job.out.exists() {
            eprintln!(
                "zoo model {}: results.csv has its row but {} does not exist; left out of \
                 zoo.json (to retrain it, delete its rows from results.csv and run `zoo train` again)",
                job.set,
                job.out.display()
            );
            continue;
        }
        let models_dirs = DescriptorModels {
            vec: job.spec.models.vec.clone(),
            bert: job.spec.models.bert.clone(),
            cache: out.join("cache"),
        };
        let predictor = Predictor::load(&job.out, &models_dirs, DeviceKind::Cpu)?;
        let got = measure(reg, &predictor, false)?;
        if progress {
            eprintln!(
                "zoo model {}: validation AUC {:.4}, test AUC {:.4}",
                job.set, got.valid_auc, row.auc
            );
        }
        let meta = &predictor.meta;
        models.push(ZooEntry {
            set: job.set.clone(),
            views: meta.model.views,
            negatives: meta.negatives,
            dir: job.out.strip_prefix(out).unwrap_or(&job.out).to_path_buf(),
            weights_sha256: meta.weights_sha256.clone().unwrap_or_default(),
            descriptors: meta.descriptors.clone(),
            best_epoch: row.best_epoch,
            n_train: got.n_train,
            valid_auc: got.valid_auc,
            test_auc: row.auc,
            baseline_auc,
            thresholds: got.thresholds,
            f32_test_auc: None,
            head: None,
            blend: Some(got.blend),
        });
    }
    Ok(Zoo {
        format: FORMAT.into(),
        recipe: super::recipe::DESCRIPTION.into(),
        models,
    })
}

/// A model measured on its own split.
pub(super) struct Measured {
    pub n_train: usize,
    pub valid_auc: f64,
    pub test_auc: f64,
    pub thresholds: Thresholds,
    /// The model blended with the baseline fitted on its training part.
    pub blend: Blend,
}

/// `predictor` scored on the validation and test parts of the split it was
/// trained under: both AUCs (whole parts) and the thresholds at 5% and 1%
/// FPR on the validation negatives; and the same for its [`Blend`] with the
/// 1–3-mer baseline fitted on its training part. The BERT view, if read, is
/// cached where the predictor's descriptor models say.
pub(super) fn measure(
    reg: &Registry,
    predictor: &Predictor,
    progress: bool,
) -> Result<Measured, ZooError> {
    let ds = reg.get(&predictor.meta.set)?.load(Default::default())?;
    let protocol = predictor.meta.protocol();
    let (ds, split) = protocol.apply(&ds);
    let all: Vec<&[u8]> = ds.records.iter().map(|r| r.seq.as_slice()).collect();
    let key = format!("{}{}", ds.name, protocol.tag());
    let (sv, lv) = ds.part(&split.valid);
    let (st, lt) = ds.part(&split.test);
    let pv = predictor.predict_cached(&sv, &key, &all, progress)?;
    let pt = predictor.predict_cached(&st, &key, &all, progress)?;
    let auc = |p: &[f64], l: &[u8]| -> Result<f64, ZooError> {
        Ok(binary_metrics(p, l, 0.5).map_err(TrainError::from)?.auc)
    };
    let thresholds = |p: &[f64]| {
        let neg: Vec<f64> = p
            .iter()
            .zip(&lv)
            .filter(|(_, &y)| y == 0)
            .map(|(&p, _)| p)
            .collect();
        Thresholds {
            fpr_05: threshold_at(&neg, 0.05),
            fpr_01: threshold_at(&neg, 0.01),
        }
    };
    // The baseline exactly as the zoo's `baseline` rows fit it (same split,
    // same settings), so its test AUC here is theirs.
    let (str_, ltr) = ds.part(&split.train);
    let baseline =
        KmerLogistic::fit(&str_, &ltr, &BaselineConfig::default()).map_err(|source| {
            ZooError::Baseline {
                set: ds.name.clone(),
                source,
            }
        })?;
    let (bv, bt) = (baseline.predict_logit(&sv), baseline.predict_logit(&st));
    let (weight, blend_valid) = choose_weight(&pv, &bv, |p| auc(p, &lv))?;
    let blended_valid = mix(&pv, &bv, weight);
    Ok(Measured {
        n_train: split.train.len(),
        valid_auc: auc(&pv, &lv)?,
        test_auc: auc(&pt, &lt)?,
        thresholds: thresholds(&pv),
        blend: Blend {
            weight,
            valid_auc: blend_valid,
            test_auc: auc(&mix(&pt, &bt, weight), &lt)?,
            thresholds: thresholds(&blended_valid),
            baseline,
        },
    })
}
