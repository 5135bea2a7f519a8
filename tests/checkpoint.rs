//! Loaded weights are checked before they reach dfdx: a checkpoint holds
//! only the views its network reads; a tensor of another dtype or shape, a
//! non-finite weight, weights that do not match their metadata's hash, or
//! metadata that names no view are errors naming the file and the tensor,
//! never a panic or a silently wrong network; older checkpoints still load.

use std::collections::HashMap;
use std::path::Path;

use circssnn::model::{CircSsnn, ModelConfig, ViewSet, BERT_SMALL};
use circssnn::nn::params::named_tensors;
use circssnn::train::checkpoint::{
    load_checkpoint, save_checkpoint, CheckpointMeta, FORMAT_VERSION,
};
use dfdx::nn::SaveToSafetensors;
use dfdx::prelude::Cpu;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use sha2::{Digest, Sha256};

type Net = CircSsnn<BERT_SMALL, 1, Cpu>;
/// A tensor's dtype, shape and bytes, rewritten.
type Edit = Box<dyn Fn(Dtype, Vec<usize>, Vec<u8>) -> (Dtype, Vec<usize>, Vec<u8>)>;

fn meta(views: ViewSet) -> CheckpointMeta {
    CheckpointMeta {
        format_version: FORMAT_VERSION,
        bert_width: BERT_SMALL,
        depth: 1,
        model: ModelConfig {
            views,
            ..Default::default()
        },
        set: "WTAP".into(),
        split: Default::default(),
        split_seed: 4,
        negatives: Default::default(),
        max_per_set: None,
        seed: 4,
        descriptors: Default::default(),
        heads: Vec::new(),
        epoch: 1,
        crate_version: "test".into(),
        weights_sha256: None,
    }
}

/// A KNFP-only network saved as `dir/best`.
fn saved(dir: &Path) -> Net {
    let dev = Cpu::seed_from_u64(1);
    let net = Net::new(&dev, meta(ViewSet::KNFP).model);
    save_checkpoint(dir, "best", &net, &meta(ViewSet::KNFP)).unwrap();
    net
}

fn load_err(dir: &Path) -> String {
    let e = load_checkpoint::<BERT_SMALL, 1, Cpu>(&Cpu::default(), dir, "best").unwrap_err();
    e.to_string()
}

/// Rewrite `dir/best.safetensors` with `edit` applied to its tensors, and the
/// metadata's hash updated to match (so only the tensor check can object).
fn rewrite(
    dir: &Path,
    edit: impl Fn(&str, Dtype, Vec<usize>, Vec<u8>) -> (Dtype, Vec<usize>, Vec<u8>),
) {
    let path = dir.join("best.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    let edited: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = names
        .iter()
        .map(|n| {
            let t = file.tensor(n).unwrap();
            let (d, s, b) = edit(n, t.dtype(), t.shape().to_vec(), t.data().to_vec());
            (n.clone(), d, s, b)
        })
        .collect();
    let views: Vec<(&str, TensorView<'_>)> = edited
        .iter()
        .map(|(n, d, s, b)| (n.as_str(), TensorView::new(*d, s.clone(), b).unwrap()))
        .collect();
    let out = safetensors::serialize(views, &None).unwrap();
    std::fs::write(&path, &out).unwrap();
    let json = dir.join("best.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    m["weights_sha256"] = format!("{:x}", Sha256::digest(&out)).into();
    std::fs::write(&json, m.to_string()).unwrap();
}

#[test]
fn a_checkpoint_holds_only_the_views_its_network_reads() {
    let dir = tempfile::tempdir().unwrap();
    let net = saved(dir.path());
    let bytes = std::fs::read(dir.path().join("best.safetensors")).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let names = file.names();
    assert!(names.iter().any(|n| n.starts_with("knfp.")));
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("vec.") || n.starts_with("bert.")),
        "unused view encoders are not saved: {names:?}"
    );
    // Loads back to the same weights, and the metadata carries the hash.
    let (loaded, m) =
        load_checkpoint::<BERT_SMALL, 1, Cpu>(&Cpu::default(), dir.path(), "best").unwrap();
    assert_eq!(m.weights_sha256.as_deref().map(str::len), Some(64));
    let same = |t: &circssnn::nn::params::NamedTensor| {
        !t.name.starts_with("vec.") && !t.name.starts_with("bert.")
    };
    let a: Vec<_> = named_tensors(&net.params)
        .into_iter()
        .filter(same)
        .collect();
    let b: Vec<_> = named_tensors(&loaded.params)
        .into_iter()
        .filter(same)
        .collect();
    assert_eq!(a, b);
}

#[test]
fn checkpoints_written_by_dfdx_before_still_load() {
    // dfdx's own writer: all three view encoders, scalar entries, no hash.
    let dir = tempfile::tempdir().unwrap();
    let dev = Cpu::seed_from_u64(2);
    let net = Net::new(&dev, meta(ViewSet::KNFP).model);
    net.params
        .save_safetensors(dir.path().join("best.safetensors"))
        .unwrap();
    std::fs::write(
        dir.path().join("best.json"),
        serde_json::to_string(&meta(ViewSet::KNFP)).unwrap(),
    )
    .unwrap();
    let (loaded, m) =
        load_checkpoint::<BERT_SMALL, 1, Cpu>(&Cpu::default(), dir.path(), "best").unwrap();
    assert_eq!(m.weights_sha256, None);
    assert_eq!(
        loaded.params.head.fc3.weight.as_vec(),
        net.params.head.fc3.weight.as_vec()
    );
}

#[test]
fn changed_weight_bytes_are_caught_by_the_hash() {
    let dir = tempfile::tempdir().unwrap();
    saved(dir.path());
    let path = dir.path().join("best.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x40; // inside the last tensor's data
    std::fs::write(&path, &bytes).unwrap();
    let e = load_err(dir.path());
    assert!(
        e.contains("best.safetensors") && e.contains("does not match best.json"),
        "{e}"
    );
}

#[test]
fn wrong_dtypes_shapes_and_non_finite_weights_name_the_tensor() {
    let target = "blocks.0.ffn_in.bias";
    let cases: Vec<(&str, Edit)> = vec![
        (
            "stored as F64",
            Box::new(|_, s, b| {
                let wide: Vec<u8> = b
                    .chunks_exact(4)
                    .flat_map(|c| {
                        (f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).to_le_bytes()
                    })
                    .collect();
                (Dtype::F64, s, wide)
            }),
        ),
        (
            "stored as I8",
            Box::new(|_, s, b| (Dtype::I8, s, b[..b.len() / 4].to_vec())),
        ),
        (
            "has shape [100]",
            Box::new(|d, _, b| (d, vec![100], b[..400].to_vec())),
        ),
        (
            "holds NaN at index 3",
            Box::new(|d, s, mut b| {
                b[12..16].copy_from_slice(&f32::NAN.to_le_bytes());
                (d, s, b)
            }),
        ),
    ];
    for (why, edit) in cases {
        let dir = tempfile::tempdir().unwrap();
        saved(dir.path());
        rewrite(dir.path(), |n, d, s, b| {
            if n == target {
                edit(d, s, b)
            } else {
                (d, s, b)
            }
        });
        let e = load_err(dir.path());
        assert!(e.contains(target) && e.contains(why), "{why}: {e}");
    }
    // F16 is widened, not refused: a network saved in half precision loads.
    let dir = tempfile::tempdir().unwrap();
    saved(dir.path());
    rewrite(dir.path(), |_, _, s, b| {
        let half: Vec<u8> = b
            .chunks_exact(4)
            .flat_map(|c| {
                half::f16::from_f32(f32::from_le_bytes([c[0], c[1], c[2], c[3]])).to_le_bytes()
            })
            .collect();
        (Dtype::F16, s, half)
    });
    assert!(load_checkpoint::<BERT_SMALL, 1, Cpu>(&Cpu::default(), dir.path(), "best").is_ok());
    // A tensor left out.
    let dir = tempfile::tempdir().unwrap();
    saved(dir.path());
    let path = dir.path().join("best.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    let kept: HashMap<String, TensorView<'_>> = file
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "head.fc1.weight")
        .collect();
    std::fs::write(&path, safetensors::serialize(kept, &None).unwrap()).unwrap();
    let json = dir.path().join("best.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    m.as_object_mut().unwrap().remove("weights_sha256");
    std::fs::write(&json, m.to_string()).unwrap();
    let e = load_err(dir.path());
    assert!(e.contains("has no tensor head.fc1.weight"), "{e}");
}

#[test]
fn metadata_naming_no_view_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    saved(dir.path());
    let json = dir.path().join("best.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    m["model"]["views"] = serde_json::json!({"knfp": false, "vec": false, "bert": false});
    std::fs::write(&json, m.to_string()).unwrap();
    let e = load_err(dir.path());
    assert!(
        e.contains("best.json") && e.contains("names no view"),
        "{e}"
    );
}

#[test]
fn edited_settings_in_the_metadata_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    saved(dir.path());
    let json = dir.path().join("best.json");
    let text = std::fs::read_to_string(&json).unwrap();
    assert!(text.contains("\"norm\": \"pre\""));
    std::fs::write(
        &json,
        text.replace("\"norm\": \"pre\"", "\"norm\": \"post\""),
    )
    .unwrap();
    let e = load_err(dir.path());
    assert!(
        e.contains("best.json") && e.contains("does not describe best.safetensors"),
        "{e}"
    );
}
