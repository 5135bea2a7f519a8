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
//!
//! A multi-task network packs as one file (4.9 MB for 37 heads as `F16`)
//! with one manifest entry per chosen head; `--add` packs into a zoo that
//! is already there, so the shipped zoo holds the one-set networks trained
//! on full sets beside the heads of the multi-task network for the other
//! RBPs.

use std::path::{Path, PathBuf};

use super::manifest::{measure, FORMAT};
use super::{Zoo, ZooEntry, ZooError};
use crate::data::Registry;
use crate::features::learned::DescriptorModels;
use crate::reproduce::Experiment;
use crate::train::checkpoint::{copy_as_f16, load_meta};
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

/// Bytes the model of `m` (in the zoo folder `dir`) takes once packed: its
/// weights file, halved unless it is `F16` already. The heads of one
/// multi-task network share that file, so callers count a folder once.
fn packed_bytes(dir: &Path, m: &ZooEntry) -> u64 {
    let file = dir.join(&m.dir).join("best.safetensors");
    match std::fs::metadata(&file) {
        Ok(f) if m.f32_test_auc.is_some() => f.len(),
        Ok(f) => f.len() / 2,
        Err(_) => PACKED_MODEL_BYTES,
    }
}

/// The sets worth shipping from the zoo `zoo` (read from the folder
/// `dir`), chosen on validation only: the CircSSNN model's validation AUC
/// above the baseline's (rows of the zoo's `results.csv`), KNFP-only
/// (learned views need descriptor models too large to ship), best margin
/// first, at most `budget_bytes` in all. A multi-task zoo's heads share one
/// network, whose size counts once.
pub fn choose(zoo: &Zoo, dir: &Path, rows: &[RunRow], budget_bytes: u64) -> Vec<String> {
    let mut margin: Vec<(f64, &ZooEntry)> = zoo
        .models
        .iter()
        .filter(|m| m.views.knfp && !m.views.vec && !m.views.bert)
        .filter_map(|m| {
            let base = rows.iter().find(|r| {
                r.set == m.set && r.experiment == Some(Experiment::Zoo) && r.variant == "baseline"
            })?;
            let d = m.valid_auc - base.valid_auc;
            (d > 0.0).then_some((d, m))
        })
        .collect();
    margin.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.set.cmp(&b.1.set)));
    let mut spent = 0;
    let mut paid: Vec<&Path> = Vec::new();
    let mut sets = Vec::new();
    for (_, m) in margin {
        let cost = if paid.contains(&m.dir.as_path()) {
            0
        } else {
            packed_bytes(dir, m)
        };
        if spent + cost > budget_bytes {
            continue;
        }
        spent += cost;
        paid.push(&m.dir);
        sets.push(m.set.clone());
    }
    sets.sort();
    sets
}

/// Bytes of the models a zoo folder holds (each model folder counted once).
pub fn zoo_bytes(dir: &Path, zoo: &Zoo) -> u64 {
    let mut seen: Vec<&Path> = Vec::new();
    let mut total = 0;
    for m in &zoo.models {
        if !seen.contains(&m.dir.as_path()) {
            seen.push(&m.dir);
            total += ["best.safetensors", "best.json"]
                .iter()
                .filter_map(|f| std::fs::metadata(dir.join(&m.dir).join(f)).ok())
                .map(|f| f.len())
                .sum::<u64>();
        }
    }
    total
}

/// How [`pack`] writes its zoo.
#[derive(Debug, Clone, Copy, Default)]
pub struct PackOptions {
    /// Add to the zoo already in `out`: its models stay, and a set it
    /// already has a model of is skipped (said on stderr). Without it the
    /// packed models replace `out/zoo.json`.
    pub add: bool,
    /// Say each packed model's AUCs on stderr.
    pub progress: bool,
}

/// Copy the models of `sets` from the zoo in `from` into `out` with `F16`
/// weights, measure them again on their validation and test parts, and
/// write `out/zoo.json`.
///
/// A one-set model goes to `out/runs/<set>`. Heads of a multi-task network
/// (a `zoo multi` folder) share it: the network is copied once, to
/// `out/runs/multi-<suite>`, and each chosen head is listed by its index.
pub fn pack(
    reg: &Registry,
    from: &Path,
    sets: &[String],
    out: &Path,
    opts: PackOptions,
) -> Result<Zoo, ZooError> {
    let zoo = Zoo::load(from)?;
    let bad = |path: PathBuf, message: String| ZooError::Manifest { path, message };
    let existing = if opts.add && out.join(super::MANIFEST).is_file() {
        Some(Zoo::load(out)?)
    } else {
        None
    };
    let mut models = existing
        .as_ref()
        .map_or_else(Vec::new, |z| z.models.clone());
    // Multi-task networks copied so far: source folder -> (packed folder,
    // one predictor per head).
    let mut networks: Vec<(PathBuf, PathBuf, Vec<Predictor>)> = Vec::new();
    let mut added = Vec::new();
    for set in sets {
        let m = zoo
            .get(set)
            .ok_or_else(|| bad(from.join(super::MANIFEST), format!("has no model of {set}")))?;
        if let Some(have) = existing.as_ref().and_then(|z| z.get(&m.set)) {
            if opts.progress {
                eprintln!(
                    "kept {}: {} already has a model of it ({}, test AUC {:.4})",
                    m.set,
                    out.display(),
                    have.dir.display(),
                    have.test_auc
                );
            }
            continue;
        }
        if m.views.vec || m.views.bert {
            return Err(bad(
                from.join(super::MANIFEST),
                format!(
                    "model {} reads {}: only KNFP models can ship (the learned views need \
                     descriptor models of ~100 MB)",
                    m.set,
                    m.views.names()
                ),
            ));
        }
        let src = from.join(&m.dir);
        let (dir, predictor) = match m.head {
            None => {
                let dir = PathBuf::from("runs").join(&m.set);
                copy_as_f16(&src, "best", &out.join(&dir))?;
                let p = Predictor::load(
                    &out.join(&dir),
                    &DescriptorModels::default(),
                    DeviceKind::Cpu,
                )?;
                (dir, p)
            }
            Some(_) => {
                if !networks.iter().any(|(s, ..)| s == &src) {
                    let suite = load_meta(&src, "best")?.set;
                    let dir = PathBuf::from("runs").join(format!("multi-{suite}"));
                    let reader = existing
                        .as_ref()
                        .and_then(|z| z.models.iter().find(|k| k.dir == dir));
                    if let Some(k) = reader {
                        return Err(bad(
                            out.join(super::MANIFEST),
                            format!(
                                "its model {} already reads the network in {}; pack without \
                                 --add to replace that network",
                                k.set,
                                dir.display()
                            ),
                        ));
                    }
                    copy_as_f16(&src, "best", &out.join(&dir))?;
                    let heads = Predictor::load_heads(
                        &out.join(&dir),
                        &DescriptorModels::default(),
                        DeviceKind::Cpu,
                    )?;
                    networks.push((src.clone(), dir, heads));
                }
                let (_, dir, heads) = networks
                    .iter()
                    .find(|(s, ..)| s == &src)
                    .expect("copied above");
                let p = m
                    .pick(heads, &out.join(dir))
                    .map_err(|e| bad(from.join(super::MANIFEST), e))?;
                (dir.clone(), p)
            }
        };
        let got = measure(reg, &predictor, opts.progress)?;
        if opts.progress {
            eprintln!(
                "packed {}: test AUC {:.4} with F16 weights ({:.4} with F32)",
                m.set, got.test_auc, m.test_auc
            );
        }
        added.push(m.set.clone());
        models.push(ZooEntry {
            dir,
            weights_sha256: predictor.meta.weights_sha256.clone().unwrap_or_default(),
            valid_auc: got.valid_auc,
            test_auc: got.test_auc,
            thresholds: got.thresholds,
            f32_test_auc: Some(m.test_auc),
            blend: Some(got.blend),
            ..m.clone()
        });
    }
    models.sort_by(|a, b| a.set.cmp(&b.set));
    let recipe = match existing {
        Some(old) if old.recipe != zoo.recipe && !added.is_empty() => {
            // One recipe per line, each naming its models once zoos mix.
            let first = if old.recipe.contains('\n') {
                old.recipe
            } else {
                let sets: Vec<&str> = old.models.iter().map(|m| m.set.as_str()).collect();
                format!("{}: {}", sets.join(", "), old.recipe)
            };
            format!("{first}\n{}: {}", added.join(", "), zoo.recipe)
        }
        Some(old) if added.is_empty() => old.recipe,
        _ => zoo.recipe.clone(),
    };
    let packed = Zoo {
        format: FORMAT.into(),
        recipe,
        models,
    };
    packed.save(out)?;
    Ok(packed)
}
