//! Checkpoints: `<name>.safetensors` (every parameter and BatchNorm running
//! statistic, by name) plus `<name>.json` (what the weights mean: widths,
//! depth, views, norm, the data and split they were trained on). Both are
//! written to a temporary file and renamed, so a crash never leaves a
//! half-written checkpoint under the final name.

use std::path::{Path, PathBuf};

use dfdx::nn::{LoadFromSafetensors, SaveToSafetensors};
use dfdx::prelude::Device;
use serde::{Deserialize, Serialize};

use super::TrainError;
use crate::data::split::SplitKind;
use crate::data::{Negatives, Protocol};
use crate::features::learned::DescriptorSources;
use crate::model::{CircSsnn, Elem, ModelConfig};
use crate::output::write_atomic;

/// Bumped when the parameter layout changes.
pub const FORMAT_VERSION: u32 = 1;

/// What a checkpoint's weights are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointMeta {
    /// Layout version ([`FORMAT_VERSION`]).
    pub format_version: u32,
    /// Width of the BERT view the parameters were built for.
    pub bert_width: usize,
    /// Transformer blocks.
    pub depth: usize,
    /// Views, norm, dropout.
    pub model: ModelConfig,
    /// Data set trained on.
    pub set: String,
    /// Split rule.
    pub split: SplitKind,
    /// Split seed.
    pub split_seed: u64,
    /// Negatives of the protocol (older checkpoints: the set's own).
    #[serde(default)]
    pub negatives: Negatives,
    /// Windows kept of the set (`None`: all).
    #[serde(default)]
    pub max_per_set: Option<usize>,
    /// Training seed.
    pub seed: u64,
    /// The learned descriptor models of the `vec` and `bert` views, by
    /// path and hash (empty for KNFP-only networks and older checkpoints).
    #[serde(default)]
    pub descriptors: DescriptorSources,
    /// Epoch these weights are from (1-based).
    pub epoch: usize,
    /// circssnn version that wrote it.
    pub crate_version: String,
}

impl CheckpointMeta {
    /// The protocol the network was trained under (its test part is the one
    /// to evaluate on).
    pub fn protocol(&self) -> Protocol {
        Protocol {
            split: self.split,
            split_seed: self.split_seed,
            negatives: self.negatives,
            max_per_set: self.max_per_set,
        }
    }
}

fn err(path: &Path, message: impl Into<String>) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Write `dir/<name>.safetensors` and `dir/<name>.json` atomically.
pub fn save_checkpoint<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    dir: &Path,
    name: &str,
    net: &CircSsnn<BERT, DEPTH, D>,
    meta: &CheckpointMeta,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
    let weights = dir.join(format!("{name}.safetensors"));
    let tmp = tempfile::Builder::new()
        .prefix(".circssnn-ckpt-")
        .tempfile_in(dir)
        .map_err(|e| err(dir, e.to_string()))?;
    crate::output::make_readable(tmp.as_file()).map_err(|e| err(dir, e.to_string()))?;
    let tmp = tmp.into_temp_path();
    net.params
        .save_safetensors(&tmp)
        .map_err(|e| err(&weights, format!("cannot write weights: {e:?}")))?;
    tmp.persist(&weights)
        .map_err(|e| err(&weights, e.to_string()))?;
    let json = dir.join(format!("{name}.json"));
    write_atomic(&json, |w| {
        serde_json::to_writer_pretty(&mut *w, meta).map_err(std::io::Error::other)?;
        writeln!(w)
    })
    .map_err(|e| err(&json, e.to_string()))
}

/// Read the metadata of `dir/<name>.json`.
pub fn load_meta(dir: &Path, name: &str) -> Result<CheckpointMeta, TrainError> {
    let json = dir.join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&json).map_err(|e| err(&json, format!("cannot read: {e}")))?;
    let meta: CheckpointMeta = serde_json::from_str(&text)
        .map_err(|e| err(&json, format!("not a circssnn checkpoint description: {e}")))?;
    if meta.format_version != FORMAT_VERSION {
        return Err(err(
            &json,
            format!(
                "format version {} but this circssnn reads {FORMAT_VERSION}",
                meta.format_version
            ),
        ));
    }
    Ok(meta)
}

/// Load `dir/<name>` into a network of this type; a checkpoint of another
/// width or depth, or a truncated weights file, is a clear error.
pub fn load_checkpoint<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    dev: &D,
    dir: &Path,
    name: &str,
) -> Result<(CircSsnn<BERT, DEPTH, D>, CheckpointMeta), TrainError> {
    let meta = load_meta(dir, name)?;
    let weights: PathBuf = dir.join(format!("{name}.safetensors"));
    if (meta.bert_width, meta.depth) != (BERT, DEPTH) {
        return Err(err(
            &weights,
            format!(
                "holds a network with BERT width {} and depth {}, but a network with BERT width {BERT} and depth {DEPTH} was asked for",
                meta.bert_width, meta.depth
            ),
        ));
    }
    let mut net = CircSsnn::<BERT, DEPTH, D>::new(dev, meta.model);
    net.params.load_safetensors(&weights).map_err(|e| {
        err(
            &weights,
            format!("cannot load weights (truncated or not written by this circssnn?): {e:?}"),
        )
    })?;
    Ok((net, meta))
}
