//! A zoo to ship: chosen KNFP models with their weights stored as `F16`
//! (1.8 MB instead of 3.6 MB each) and a manifest measured again on the
//! `F16` weights — validation AUC, whole-test AUC and the scan thresholds —
//! with the `F32` model's test AUC beside it, so the cost of the smaller
//! file is on record, not assumed.
//!
//! Which models: those whose validation AUC is above the 1–3-mer baseline's
//! validation AUC on the same split, best margin first, until the size
//! budget is spent ([`choose`]; chosen on validation only, like every other
//! choice in this crate).

use std::path::{Path, PathBuf};

use super::manifest::{measure, FORMAT};
use super::{Zoo, ZooEntry, ZooError};
use crate::data::Registry;
use crate::features::learned::DescriptorModels;
use crate::reproduce::Experiment;
use crate::train::checkpoint::copy_as_f16;
use crate::train::results::RunRow;
use crate::train::{DeviceKind, Predictor};

/// The shipped zoo, relative to the repository root.
pub const SHIPPED_ZOO: &str = "data/zoo";

/// The zoo that ships with the repository (`data/zoo`, found like the
/// shipped benchmark: see [`crate::data::shipped`]).
pub fn shipped_zoo() -> PathBuf {
    crate::data::shipped(SHIPPED_ZOO)
}

/// Where `circssnn zoo train` puts a zoo unless told otherwise (relative to
/// the working folder).
pub const TRAINED_ZOO: &str = "models/zoo";

/// The zoo to use when none is named: [`TRAINED_ZOO`] if it holds a trained
/// zoo's manifest, else the shipped one, so a fresh clone scans and explains
/// with no training.
pub fn default_zoo() -> PathBuf {
    let trained = PathBuf::from(TRAINED_ZOO);
    if trained.join(super::MANIFEST).is_file() {
        trained
    } else {
        shipped_zoo()
    }
}

/// Bytes of one packed KNFP model (`F16` weights plus metadata), measured.
pub const PACKED_MODEL_BYTES: u64 = 1_790_000;

/// The sets worth shipping from `zoo`, chosen on validation only: the
/// CircSSNN model's validation AUC above the baseline's (rows of the zoo's
/// `results.csv`), KNFP-only (learned views need descriptor models too
/// large to ship), best margin first, at most `budget_bytes` in all.
pub fn choose(zoo: &Zoo, rows: &[RunRow], budget_bytes: u64) -> Vec<String> {
    let mut margin: Vec<(f64, String)> = zoo
        .models
        .iter()
        .filter(|m| m.views.knfp && !m.views.vec && !m.views.bert)
        .filter_map(|m| {
            let base = rows.iter().find(|r| {
                r.set == m.set && r.experiment == Some(Experiment::Zoo) && r.variant == "baseline"
            })?;
            let d = m.valid_auc - base.valid_auc;
            (d > 0.0).then(|| (d, m.set.clone()))
        })
        .collect();
    margin.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let n = (budget_bytes / PACKED_MODEL_BYTES) as usize;
    let mut sets: Vec<String> = margin.into_iter().take(n).map(|(_, s)| s).collect();
    sets.sort();
    sets
}

/// Copy the models of `sets` from the zoo in `from` into `out` with `F16`
/// weights, measure them again on their validation and test parts, and
/// write `out/zoo.json`.
pub fn pack(
    reg: &Registry,
    from: &Path,
    sets: &[String],
    out: &Path,
    progress: bool,
) -> Result<Zoo, ZooError> {
    let zoo = Zoo::load(from)?;
    let mut models = Vec::new();
    for set in sets {
        let m = zoo.get(set).ok_or_else(|| ZooError::Manifest {
            path: from.join(super::MANIFEST),
            message: format!("has no model of {set}"),
        })?;
        if m.head.is_some() {
            return Err(ZooError::Manifest {
                path: from.join(super::MANIFEST),
                message: format!(
                    "model {} is a head of a multi-task network: its folder already holds every \
                     head in one file; ship the folder as it is",
                    m.set
                ),
            });
        }
        if m.views.vec || m.views.bert {
            return Err(ZooError::Manifest {
                path: from.join(super::MANIFEST),
                message: format!(
                    "model {} reads {}: only KNFP models can ship (the learned views need \
                     descriptor models of ~100 MB)",
                    m.set,
                    m.views.names()
                ),
            });
        }
        let dir = PathBuf::from("runs").join(&m.set);
        copy_as_f16(&from.join(&m.dir), "best", &out.join(&dir))?;
        let predictor = Predictor::load(
            &out.join(&dir),
            &DescriptorModels::default(),
            DeviceKind::Cpu,
        )?;
        let got = measure(reg, &predictor, progress)?;
        if progress {
            eprintln!(
                "packed {}: test AUC {:.4} with F16 weights ({:.4} with F32)",
                m.set, got.test_auc, m.test_auc
            );
        }
        models.push(ZooEntry {
            dir,
            weights_sha256: predictor.meta.weights_sha256.clone().unwrap_or_default(),
            valid_auc: got.valid_auc,
            test_auc: got.test_auc,
            thresholds: got.thresholds,
            f32_test_auc: Some(m.test_auc),
            ..m.clone()
        });
    }
    let packed = Zoo {
        format: FORMAT.into(),
        recipe: zoo.recipe.clone(),
        models,
    };
    packed.save(out)?;
    Ok(packed)
}
