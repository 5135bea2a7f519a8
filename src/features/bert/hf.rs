//! HuggingFace BERT checkpoints: a folder with `config.json`, `vocab.txt`
//! and `model.safetensors` (never a pickled `pytorch_model.bin`: unpickling
//! runs code). The crate writes its own encoders in the same format, with
//! `BertForMaskedLM` names, so they also load in `transformers`.

use std::collections::HashMap;
use std::path::Path;

use dfdx::prelude::{Device, Tensor};
use dfdx::shapes::{HasShape, Shape};
use sha2::{Digest, Sha256};

use super::encoder::{set_eps, BertParams};
use super::mlm::MlmHead;
use super::{Bert, BertConfig, KmerTokenizer};
use crate::features::tensor_file::{self, Entry, TensorFile};
use crate::features::EmbedError;
use crate::nn::Elem;
use crate::output::write_atomic;

/// Model weights file.
pub const WEIGHTS: &str = "model.safetensors";
/// Configuration file.
pub const CONFIG: &str = "config.json";
/// Vocabulary file.
pub const VOCAB_FILE: &str = "vocab.txt";

/// A parameter tensor seen through its values, whatever its shape.
trait Slot {
    fn dims(&self) -> Vec<usize>;
    fn values(&self) -> Vec<Elem>;
    fn set(&mut self, v: &[Elem]);
}

impl<S: Shape, Dev: Device<Elem>> Slot for Tensor<S, Elem, Dev> {
    fn dims(&self) -> Vec<usize> {
        self.shape().concrete().into_iter().collect()
    }
    fn values(&self) -> Vec<Elem> {
        self.as_vec()
    }
    fn set(&mut self, v: &[Elem]) {
        self.copy_from(v);
    }
}

/// HF names of every encoder (and head) tensor, with the tensor. Position
/// and token-type tables may hold more rows in a checkpoint than the 101 and
/// 1 read here (`prefix_rows`).
struct Named<'a> {
    name: String,
    slot: &'a mut dyn Slot,
    prefix_rows: bool,
}

fn named<'a, const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>(
    p: &'a mut BertParams<D, L, H, F, Elem, Dev>,
    head: Option<&'a mut MlmHead<D, Elem, Dev>>,
    prefix: &str,
) -> Vec<Named<'a>> {
    let mut out = Vec::new();
    let mut add = |name: String, slot: &'a mut dyn Slot, prefix_rows: bool| {
        out.push(Named {
            name,
            slot,
            prefix_rows,
        })
    };
    let e = &mut p.embeddings;
    add(
        format!("{prefix}embeddings.word_embeddings.weight"),
        &mut e.word.weight,
        false,
    );
    add(
        format!("{prefix}embeddings.position_embeddings.weight"),
        &mut e.position,
        true,
    );
    add(
        format!("{prefix}embeddings.token_type_embeddings.weight"),
        &mut e.token_type,
        true,
    );
    add(
        format!("{prefix}embeddings.LayerNorm.weight"),
        &mut e.norm.gamma,
        false,
    );
    add(
        format!("{prefix}embeddings.LayerNorm.bias"),
        &mut e.norm.beta,
        false,
    );
    for (i, l) in p.layers.modules.iter_mut().enumerate() {
        let n = |s: &str| format!("{prefix}encoder.layer.{i}.{s}");
        add(n("attention.self.query.weight"), &mut l.query.weight, false);
        add(n("attention.self.query.bias"), &mut l.query.bias, false);
        add(n("attention.self.key.weight"), &mut l.key.weight, false);
        add(n("attention.self.key.bias"), &mut l.key.bias, false);
        add(n("attention.self.value.weight"), &mut l.value.weight, false);
        add(n("attention.self.value.bias"), &mut l.value.bias, false);
        add(
            n("attention.output.dense.weight"),
            &mut l.attn_out.weight,
            false,
        );
        add(
            n("attention.output.dense.bias"),
            &mut l.attn_out.bias,
            false,
        );
        add(
            n("attention.output.LayerNorm.weight"),
            &mut l.attn_norm.gamma,
            false,
        );
        add(
            n("attention.output.LayerNorm.bias"),
            &mut l.attn_norm.beta,
            false,
        );
        add(n("intermediate.dense.weight"), &mut l.ffn_in.weight, false);
        add(n("intermediate.dense.bias"), &mut l.ffn_in.bias, false);
        add(n("output.dense.weight"), &mut l.ffn_out.weight, false);
        add(n("output.dense.bias"), &mut l.ffn_out.bias, false);
        add(n("output.LayerNorm.weight"), &mut l.ffn_norm.gamma, false);
        add(n("output.LayerNorm.bias"), &mut l.ffn_norm.beta, false);
    }
    if let Some(h) = head {
        add(
            "cls.predictions.transform.dense.weight".into(),
            &mut h.transform.weight,
            false,
        );
        add(
            "cls.predictions.transform.dense.bias".into(),
            &mut h.transform.bias,
            false,
        );
        add(
            "cls.predictions.transform.LayerNorm.weight".into(),
            &mut h.norm.gamma,
            false,
        );
        add(
            "cls.predictions.transform.LayerNorm.bias".into(),
            &mut h.norm.beta,
            false,
        );
        add(
            "cls.predictions.decoder.weight".into(),
            &mut h.decoder.weight,
            false,
        );
        add("cls.predictions.bias".into(), &mut h.decoder.bias, false);
    }
    out
}

/// Write an encoder (and its MLM head, if given) as a HuggingFace checkpoint
/// in `dir`, atomically per file.
pub fn save<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>(
    dir: &Path,
    params: &BertParams<D, L, H, F, Elem, Dev>,
    head: Option<&MlmHead<D, Elem, Dev>>,
    config: &BertConfig,
    tok: &KmerTokenizer,
) -> Result<(), EmbedError> {
    let mut p = params.clone(); // tensors are reference-counted: cheap
    let mut h = head.cloned();
    let prefix = if h.is_some() { "bert." } else { "" };
    let entries: Vec<Entry> = named(&mut p, h.as_mut(), prefix)
        .into_iter()
        .map(|n| {
            let mut dims = n.slot.dims();
            if dims.len() == 1 && n.name.ends_with("token_type_embeddings.weight") {
                dims.insert(0, 1); // HF stores the table, here only its row 0
            }
            Entry::f32(n.name, dims, &n.slot.values())
        })
        .collect();
    let meta = HashMap::from([("format".to_string(), "pt".to_string())]);
    tensor_file::write(&dir.join(WEIGHTS), &entries, meta)?;
    let io = |path: std::path::PathBuf| move |source| EmbedError::Io { path, source };
    let cfg = serde_json::to_string_pretty(config).expect("config serialises");
    write_atomic(&dir.join(CONFIG), |w| w.write_all(cfg.as_bytes()))
        .map_err(io(dir.join(CONFIG)))?;
    write_atomic(&dir.join(VOCAB_FILE), |w| {
        for t in tok.tokens() {
            writeln!(w, "{t}")?;
        }
        Ok(())
    })
    .map_err(io(dir.join(VOCAB_FILE)))
}

/// Read `config.json` of a checkpoint folder.
pub fn read_config(dir: &Path) -> Result<BertConfig, EmbedError> {
    let path = dir.join(CONFIG);
    let text = std::fs::read_to_string(&path).map_err(|source| EmbedError::Io {
        path: path.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| EmbedError::Format {
        path,
        message: format!("not a BERT config.json: {e}"),
    })
}

fn fill<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>(
    file: &TensorFile,
    params: &mut BertParams<D, L, H, F, Elem, Dev>,
    head: Option<&mut MlmHead<D, Elem, Dev>>,
) -> Result<(), EmbedError> {
    let names = file.names()?;
    let prefix = if names.iter().any(|n| n.starts_with("bert.embeddings.")) {
        "bert."
    } else {
        ""
    };
    for n in named(params, head, prefix) {
        let want = n.slot.dims();
        // Checkpoints written by older BERT code call LayerNorm's parameters gamma/beta.
        let legacy = n
            .name
            .replace("LayerNorm.weight", "LayerNorm.gamma")
            .replace("LayerNorm.bias", "LayerNorm.beta");
        let name = if names.contains(&n.name) {
            &n.name
        } else {
            &legacy
        };
        let (shape, values) = file.f32(name, None)?;
        let need: usize = want.iter().product();
        let ok = if n.prefix_rows {
            shape.last() == want.last() && values.len() >= need
        } else {
            shape.iter().product::<usize>() == need && shape.last() == want.last()
        };
        if !ok {
            return Err(EmbedError::Format {
                path: std::path::PathBuf::from(WEIGHTS),
                message: format!("tensor {name:?} has shape {shape:?}, the encoder needs {want:?}"),
            });
        }
        n.slot.set(&values[..need]);
    }
    Ok(())
}

/// Load a HuggingFace BERT checkpoint folder into the typed encoder; the
/// folder's shape must be this type's (a clear error says which it is).
///
/// ```no_run
/// use circssnn::features::bert::{hf, Small};
/// let dev = dfdx::prelude::Cpu::default();
/// let (bert, tok) = hf::load::<{ Small::WIDTH }, { Small::LAYERS }, { Small::HEADS }, { Small::FF }, _>(
///     &dev,
///     "models/bert-small".as_ref(),
/// )?;
/// # Ok::<(), circssnn::features::EmbedError>(())
/// ```
pub fn load<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>(
    dev: &Dev,
    dir: &Path,
) -> Result<(Bert<D, L, H, F, Dev>, KmerTokenizer), EmbedError> {
    let (bert, tok, _) = load_inner::<D, L, H, F, Dev>(dev, dir, false)?;
    Ok((bert, tok))
}

/// A checkpoint folder read with its MLM head.
pub struct WithHead<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    Dev: Device<Elem>,
> {
    /// The encoder.
    pub bert: Bert<D, L, H, F, Dev>,
    /// Its masked-LM head.
    pub head: MlmHead<D, Elem, Dev>,
    /// Its vocabulary.
    pub tokenizer: KmerTokenizer,
}

/// Load encoder and MLM head (to resume pretraining).
pub fn load_with_head<
    const D: usize,
    const L: usize,
    const H: usize,
    const F: usize,
    Dev: Device<Elem>,
>(
    dev: &Dev,
    dir: &Path,
) -> Result<WithHead<D, L, H, F, Dev>, EmbedError> {
    let (bert, tokenizer, head) = load_inner::<D, L, H, F, Dev>(dev, dir, true)?;
    Ok(WithHead {
        bert,
        head: head.expect("asked for the head"),
        tokenizer,
    })
}

/// Encoder, vocabulary and (if asked for) MLM head of a checkpoint folder.
type Loaded<const D: usize, const L: usize, const H: usize, const F: usize, Dev> = (
    Bert<D, L, H, F, Dev>,
    KmerTokenizer,
    Option<MlmHead<D, Elem, Dev>>,
);

fn load_inner<const D: usize, const L: usize, const H: usize, const F: usize, Dev: Device<Elem>>(
    dev: &Dev,
    dir: &Path,
    with_head: bool,
) -> Result<Loaded<D, L, H, F, Dev>, EmbedError> {
    let config = read_config(dir)?;
    let mut bert =
        Bert::<D, L, H, F, Dev>::new(dev, config).map_err(|message| EmbedError::Format {
            path: dir.join(CONFIG),
            message,
        })?;
    let tok = KmerTokenizer::load(&dir.join(VOCAB_FILE))?;
    let file = TensorFile::open(&dir.join(WEIGHTS))?;
    let mut head = with_head.then(|| {
        let mut h: MlmHead<D, Elem, Dev> = dfdx::nn::BuildModule::build(dev);
        h.norm.epsilon = bert.config.layer_norm_eps;
        h
    });
    fill(&file, &mut bert.params, head.as_mut()).map_err(|e| match e {
        EmbedError::Format { message, .. } => EmbedError::Format {
            path: dir.join(WEIGHTS),
            message,
        },
        other => other,
    })?;
    set_eps(&mut bert.params, bert.config.layer_norm_eps);
    Ok((bert, tok, head))
}

/// SHA-256 over a checkpoint's three files: names the model in caches and
/// training checkpoints.
pub fn model_hash(dir: &Path) -> Result<String, EmbedError> {
    let mut h = Sha256::new();
    for f in [CONFIG, VOCAB_FILE, WEIGHTS] {
        let path = dir.join(f);
        let bytes = std::fs::read(&path).map_err(|source| EmbedError::Io { path, source })?;
        h.update(&bytes);
    }
    Ok(format!("{:x}", h.finalize()))
}
