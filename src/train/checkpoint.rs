//! Checkpoints: `<name>.safetensors` (every parameter and BatchNorm running
//! statistic of the views the network reads, by name) plus `<name>.json`
//! (what the weights mean: widths, depth, views, norm, the data and split
//! they were trained on, and the SHA-256 of the weights file). Both are
//! written as one unit with [`crate::output::commit`], so a crash never
//! leaves a half-written checkpoint, or a weights file beside another
//! epoch's metadata.
//!
//! Loading checks every tensor before it reaches dfdx: present, `F32` (or
//! `F16`, widened), of the right shape, finite; and the weights file against
//! the hash its metadata records. A tampered, truncated or foreign file is an
//! error naming the file and the tensor, never a panic or a silently wrong
//! network. Checkpoints written before these rules (all three view encoders,
//! dfdx's scalar entries, no hash) still load.

use std::path::{Path, PathBuf};

use std::collections::HashMap;

use dfdx::prelude::Device;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::TrainError;
use crate::data::split::SplitKind;
use crate::data::{Negatives, Protocol};
use crate::features::learned::DescriptorSources;
use crate::model::{CircSsnn, Elem, Heads, ModelConfig};
use crate::nn::params::{named_tensors, set_tensors};
use crate::output::{commit_files, recover};

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
    /// The sets of a multi-task network's heads, in head order (empty for a
    /// one-set network, and then not written, so that the metadata of every
    /// one-set checkpoint hashes as before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<String>,
    /// circssnn version that wrote it.
    pub crate_version: String,
    /// SHA-256 of the weights file, checked on load (absent in checkpoints
    /// written before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
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

/// Write `dir/<name>.safetensors` and `dir/<name>.json` as one unit (see
/// [`crate::output::commit`]); the weights file holds only the views the
/// network reads, and the metadata records its SHA-256.
pub fn save_checkpoint<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>(
    dir: &Path,
    name: &str,
    net: &CircSsnn<BERT, DEPTH, D, H>,
    meta: &CheckpointMeta,
) -> Result<(), TrainError> {
    std::fs::create_dir_all(dir).map_err(|e| err(dir, e.to_string()))?;
    commit_files(dir, &checkpoint_files(dir, name, net, meta)?)
        .map_err(|e| err(&e.path, e.source.to_string()))
}

/// The two files of checkpoint `name`: its weights and its metadata (with
/// the weights' hash), for [`commit_files`] alone or with other files.
pub(crate) fn checkpoint_files<
    const BERT: usize,
    const DEPTH: usize,
    D: Device<Elem>,
    H: Heads<D>,
>(
    dir: &Path,
    name: &str,
    net: &CircSsnn<BERT, DEPTH, D, H>,
    meta: &CheckpointMeta,
) -> Result<[(String, Vec<u8>); 2], TrainError> {
    let weights = format!("{name}.safetensors");
    // Each file names the other's hash: the weights file carries the hash of
    // the metadata (without its own hash field), the metadata the hash of
    // the weights file. Editing either (a flipped byte, `norm` changed from
    // pre to post) is caught on load.
    let bytes = weights_bytes(net, &meta_hash(meta))
        .map_err(|e| err(&dir.join(&weights), format!("cannot encode weights: {e}")))?;
    let json = meta_json(meta, &bytes);
    Ok([(weights, bytes), (format!("{name}.json"), json)])
}

/// The metadata file of a checkpoint whose weights file is `weights`: `meta`
/// with the weights' SHA-256 recorded.
fn meta_json(meta: &CheckpointMeta, weights: &[u8]) -> Vec<u8> {
    let meta = CheckpointMeta {
        weights_sha256: Some(format!("{:x}", Sha256::digest(weights))),
        ..meta.clone()
    };
    let mut json = serde_json::to_vec_pretty(&meta).expect("metadata serialises");
    json.push(b'\n');
    json
}

/// A weights file: `(name, shape, little-endian bytes)` tensors of `dtype`,
/// with the metadata's hash in the header.
fn encode_tensors(
    tensors: &[(String, Vec<usize>, Vec<u8>)],
    dtype: Dtype,
    meta_sha256: &str,
) -> Result<Vec<u8>, safetensors::SafeTensorError> {
    let views: Vec<(&str, TensorView<'_>)> = tensors
        .iter()
        .map(|(n, shape, b)| Ok((n.as_str(), TensorView::new(dtype, shape.clone(), b)?)))
        .collect::<Result<_, safetensors::SafeTensorError>>()?;
    let info = Some(HashMap::from([
        ("format".to_string(), "circssnn".to_string()),
        (META_HASH_KEY.to_string(), meta_sha256.to_string()),
    ]));
    safetensors::serialize(views, &info).map(canonical_header)
}

/// The same safetensors file with its JSON header's keys sorted.
///
/// Why: safetensors writes the header's metadata from a `HashMap`, in an
/// order that changes from process to process, so two runs with the same
/// seed wrote the same tensors under different file hashes (measured: of two
/// identical WTAP runs, one header began with `format`, the other with the
/// hash key). serde_json's map is ordered, so a parse and a re-write gives
/// one byte sequence per content; the header is padded with spaces to a
/// multiple of 8 bytes, as safetensors pads it, so the tensor data stays
/// aligned.
fn canonical_header(bytes: Vec<u8>) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8-byte length")) as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[8..8 + n]).expect("safetensors wrote a JSON header");
    let mut json = serde_json::to_vec(&header).expect("a JSON value serialises");
    json.resize(json.len().next_multiple_of(8), b' ');
    let mut out = Vec::with_capacity(8 + json.len() + bytes.len() - 8 - n);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

/// The safetensors bytes of the tensors of the views `net` reads (little
/// endian `F32`), keyed by their dotted names.
fn weights_bytes<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>(
    net: &CircSsnn<BERT, DEPTH, D, H>,
    meta_sha256: &str,
) -> Result<Vec<u8>, safetensors::SafeTensorError> {
    let unused = net.unused_views();
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = named_tensors(&net.params)
        .into_iter()
        .filter(|t| !unused.iter().any(|p| t.name.starts_with(p)))
        .map(|t| {
            let bytes = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (t.name, t.shape, bytes)
        })
        .collect();
    encode_tensors(&tensors, Dtype::F32, meta_sha256)
}

/// The weights file `bytes` (read from `weights`) against its metadata:
/// the weights' hash recorded in `meta`, and the metadata's hash recorded
/// in the weights file.
fn check_weights_hash(
    weights: &Path,
    bytes: &[u8],
    meta: &CheckpointMeta,
) -> Result<(), TrainError> {
    let name = weights
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    if let Some(want) = &meta.weights_sha256 {
        let got = format!("{:x}", Sha256::digest(bytes));
        if &got != want {
            return Err(err(
                weights,
                format!(
                    "does not match {name}.json (SHA-256 {}…, the metadata says {}…): the weights were \
                     truncated, changed, or belong to another checkpoint",
                    &got[..12],
                    &want[..12.min(want.len())]
                ),
            ));
        }
    }
    if let Some(want) = file_meta_hash(bytes) {
        if want != meta_hash(meta) {
            return Err(err(
                &weights.with_extension("json"),
                format!(
                    "does not describe {name}.safetensors (its settings were edited, or it belongs \
                     to another checkpoint): the weights were saved with other metadata"
                ),
            ));
        }
    }
    Ok(())
}

/// Copy checkpoint `name` of `src` into `dst` with its weights stored as
/// `F16` (half the bytes; [`load_checkpoint`] widens them back to `F32`).
/// The copy is checked like any load first (hashes, shapes, finite values),
/// and its metadata records the new file's hash. A value beyond `F16`'s
/// range (|x| > 65504) is refused rather than turned into infinity.
pub fn copy_as_f16(src: &Path, name: &str, dst: &Path) -> Result<(), TrainError> {
    let meta = load_meta(src, name)?;
    let weights = src.join(format!("{name}.safetensors"));
    let bytes = std::fs::read(&weights).map_err(|e| err(&weights, format!("cannot read: {e}")))?;
    check_weights_hash(&weights, &bytes, &meta)?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| err(&weights, format!("not a safetensors file: {e:?}")))?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (tname, t) in file.tensors() {
        let values = read_tensor(&file, &tname, t.shape()).map_err(|why| err(&weights, why))?;
        let mut out = Vec::with_capacity(values.len() * 2);
        for v in values {
            let h = half::f16::from_f32(v);
            if !h.is_finite() {
                return Err(err(
                    &weights,
                    format!("tensor {tname} holds {v}, beyond the F16 range"),
                ));
            }
            out.extend_from_slice(&h.to_le_bytes());
        }
        tensors.push((tname, t.shape().to_vec(), out));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let new = encode_tensors(&tensors, Dtype::F16, &meta_hash(&meta))
        .map_err(|e| err(&weights, format!("cannot encode: {e:?}")))?;
    let json = meta_json(&meta, &new);
    std::fs::create_dir_all(dst).map_err(|e| err(dst, e.to_string()))?;
    commit_files(
        dst,
        &[
            (format!("{name}.safetensors"), new),
            (format!("{name}.json"), json),
        ],
    )
    .map_err(|e| err(&e.path, e.source.to_string()))
}

/// Key of the metadata hash in the weights file's safetensors header.
const META_HASH_KEY: &str = "circssnn_meta_sha256";

/// SHA-256 of `meta` as JSON, without its weights hash (which depends on
/// the weights file that carries this hash).
fn meta_hash(meta: &CheckpointMeta) -> String {
    let core = CheckpointMeta {
        weights_sha256: None,
        ..meta.clone()
    };
    format!(
        "{:x}",
        Sha256::digest(serde_json::to_vec(&core).expect("metadata serialises"))
    )
}

/// Read the metadata of `dir/<name>.json`.
pub fn load_meta(dir: &Path, name: &str) -> Result<CheckpointMeta, TrainError> {
    // Finish a save that was committed but cut off before all its renames.
    recover(dir, false).map_err(|e| err(&e.path, e.source.to_string()))?;
    let json = dir.join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&json).map_err(|e| err(&json, format!("cannot read: {e}")))?;
    parse_meta(&text).map_err(|why| err(&json, why))
}

/// Checkpoint metadata from its JSON text, checked: a known format version,
/// at least one view, a built-in depth and BERT width.
pub fn parse_meta(text: &str) -> Result<CheckpointMeta, String> {
    let meta: CheckpointMeta = serde_json::from_str(text)
        .map_err(|e| format!("not a circssnn checkpoint description: {e}"))?;
    if meta.format_version != FORMAT_VERSION {
        return Err(format!(
            "format version {} but this circssnn reads {FORMAT_VERSION}",
            meta.format_version
        ));
    }
    if !(meta.model.views.knfp || meta.model.views.vec || meta.model.views.bert) {
        return Err(
            "names no view (knfp, vec, bert all false): the network reads at least one".into(),
        );
    }
    if !crate::train::spec::DEPTHS.contains(&meta.depth) {
        return Err(format!(
            "depth {} is not built into circssnn (1, 2 or 4)",
            meta.depth
        ));
    }
    if ![crate::model::BERT_SMALL, crate::model::BERT_PAPER].contains(&meta.bert_width) {
        return Err(format!(
            "BERT width {} is not built into circssnn (128 or 768)",
            meta.bert_width
        ));
    }
    Ok(meta)
}

/// Load `dir/<name>` into a network of this type; a checkpoint of another
/// width or depth, a weights file that does not match its metadata's hash,
/// or a tensor that is missing, of another dtype or shape, or not finite, is
/// an error naming the file and the tensor.
pub fn load_checkpoint<const BERT: usize, const DEPTH: usize, D: Device<Elem>>(
    dev: &D,
    dir: &Path,
    name: &str,
) -> Result<(CircSsnn<BERT, DEPTH, D>, CheckpointMeta), TrainError> {
    load_checkpoint_as(dev, dir, name)
}

/// [`load_checkpoint`] for a network with output layer `H` (one head per
/// set for [`crate::model::CircSsnnMulti`]); the checkpoint must have
/// exactly `H`'s number of heads.
pub fn load_checkpoint_as<const BERT: usize, const DEPTH: usize, D: Device<Elem>, H: Heads<D>>(
    dev: &D,
    dir: &Path,
    name: &str,
) -> Result<(CircSsnn<BERT, DEPTH, D, H>, CheckpointMeta), TrainError> {
    let meta = load_meta(dir, name)?;
    if meta.heads.len().max(1) != H::COUNT {
        return Err(err(
            &dir.join(format!("{name}.json")),
            format!(
                "holds a network with {} head(s), but one with {} was asked for",
                meta.heads.len().max(1),
                H::COUNT
            ),
        ));
    }
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
    let bytes = std::fs::read(&weights).map_err(|e| err(&weights, format!("cannot read: {e}")))?;
    check_weights_hash(&weights, &bytes, &meta)?;
    let mut net = CircSsnn::<BERT, DEPTH, D, H>::with_heads(dev, meta.model);
    let unused = net.unused_views();
    let expected: Vec<(String, Vec<usize>)> = crate::nn::params::tensor_names(&net.params)
        .into_iter()
        .filter(|t| !unused.iter().any(|p| t.name.starts_with(p)))
        .map(|t| (t.name, t.shape))
        .collect();
    let values = read_weights(&bytes, &expected).map_err(|why| err(&weights, why))?;
    let mut by_name: HashMap<String, Vec<Elem>> =
        expected.into_iter().map(|(n, _)| n).zip(values).collect();
    set_tensors(&mut net.params, &mut |tensor, _| by_name.remove(tensor))
        .map_err(|e| err(&weights, e.to_string()))?;
    Ok((net, meta))
}

/// The metadata hash a weights file records, if any (files written before
/// it was recorded have none).
fn file_meta_hash(bytes: &[u8]) -> Option<String> {
    let (_, header) = SafeTensors::read_metadata(bytes).ok()?;
    header.metadata().as_ref()?.get(META_HASH_KEY).cloned()
}

/// The tensors `expected` (name, shape) of a safetensors file, in that
/// order, each checked: present, `F32` (or `F16`, widened), of that shape,
/// finite. Tensors the file holds beyond them are ignored (older
/// checkpoints hold every view encoder, and dfdx's scalar entries).
pub fn read_weights(
    bytes: &[u8],
    expected: &[(String, Vec<usize>)],
) -> Result<Vec<Vec<Elem>>, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| {
        format!("not a safetensors file (truncated or not written by circssnn?): {e:?}")
    })?;
    expected
        .iter()
        .map(|(name, shape)| read_tensor(&file, name, shape))
        .collect()
}

/// The values of `name` in `file`, checked against the network's `shape`.
fn read_tensor(file: &SafeTensors<'_>, name: &str, shape: &[usize]) -> Result<Vec<Elem>, String> {
    let t = file
        .tensor(name)
        .map_err(|_| format!("has no tensor {name} (not a checkpoint of this network?)"))?;
    if t.shape() != shape {
        return Err(format!(
            "tensor {name} has shape {:?}, the network needs {shape:?}",
            t.shape()
        ));
    }
    let values: Vec<Elem> = match t.dtype() {
        Dtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
        Dtype::F16 => t
            .data()
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect(),
        other => {
            return Err(format!(
                "tensor {name} is stored as {other:?}; circssnn reads F32 (or F16) weights"
            ))
        }
    };
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(format!(
            "tensor {name} holds {} at index {i}: refusing non-finite weights",
            values[i]
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_once() -> Vec<u8> {
        let a: Vec<u8> = [1.0f32, -2.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let b: Vec<u8> = [0.5f32; 6].iter().flat_map(|v| v.to_le_bytes()).collect();
        let tensors = vec![
            ("head.bias".to_string(), vec![2], a),
            ("block.w".to_string(), vec![2, 3], b),
        ];
        encode_tensors(&tensors, Dtype::F32, "abc123").unwrap()
    }

    #[test]
    fn the_same_tensors_give_the_same_bytes_every_time() {
        // Each HashMap gets fresh random keys, so without the canonical
        // header some of these would differ in their metadata order.
        let first = encode_once();
        for _ in 0..32 {
            assert_eq!(encode_once(), first);
        }
        let n = u64::from_le_bytes(first[..8].try_into().unwrap()) as usize;
        assert_eq!((8 + n) % 8, 0, "tensor data starts 8-aligned");
        let (_, parsed) = SafeTensors::read_metadata(&first).unwrap();
        let meta = parsed.metadata().as_ref().unwrap();
        assert_eq!(meta.get(META_HASH_KEY).map(String::as_str), Some("abc123"));
        let file = SafeTensors::deserialize(&first).unwrap();
        let w = file.tensor("block.w").unwrap();
        assert_eq!((w.shape(), w.data().len()), (&[2usize, 3][..], 24));
    }
}
